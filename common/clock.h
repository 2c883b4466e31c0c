/*
 * clock.h -- time as the programs measure it: a monotonic clock in
 * milliseconds for timeouts and back-offs (it does not jump when the wall
 * clock is set), condition variables and deadlines that wait on it too,
 * and the one back-off rule of the project.
 */
#ifndef RATINGD_CLOCK_H
#define RATINGD_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
uint64_t clock_mono_ms(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME): the clock that
 * update stamps are made from (rating.x); it may jump. */
uint64_t clock_wall_ms(void);

/* Wait on cv (mu locked) until signalled or deadline, a CLOCK_MONOTONIC
 * moment from clock_deadline_ms: a wall clock set back an hour does not
 * make the wait last an hour, as pthread_cond_timedwait's would.
 * 0, or ETIMEDOUT (or another errno). */
int clock_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *deadline);
/* The CLOCK_MONOTONIC moment ms milliseconds from now. */
struct timespec clock_deadline_ms(int64_t ms);

/* The longest back-off of a peer or replica that keeps failing: it is
 * tried again at least this often. */
#define BACKOFF_MAX_MS 5000

/* The back-off rule: the next wait after one more failure is first_ms the
 * first time (current_ms 0), then doubles, and is at most max_ms
 * (BACKOFF_MAX_MS but where a shorter bound is needed). */
int backoff_next_ms(int current_ms, int first_ms, int max_ms);

#endif
