/*
 * queue.h -- the simulator's future: events ordered by the simulated time at
 * which they happen, ties broken by the order they were scheduled in (so
 * the order never depends on anything but the schedule).  A binary heap.
 *
 * An event is a type and a few numbers; what they mean is the business of
 * whoever schedules and dispatches it (sim.c).  `ptr` may own memory: an
 * event that is never dispatched is given back by queue_clear to its
 * owner's release function.
 */
#ifndef RATINGSIM_QUEUE_H
#define RATINGSIM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct event {
    uint64_t at;           /* simulated time, microseconds */
    uint64_t order;        /* tie-break: scheduling order */
    int type;
    uint32_t a, b;
    uint64_t c;
    void *ptr;
} event_t;

typedef struct queue {
    event_t *heap;
    size_t n, cap;
    uint64_t scheduled;    /* events ever pushed: the next order */
} queue_t;

/* 0, or -1 with no memory. */
int queue_push(queue_t *q, const event_t *e);
/* The earliest event into *e: 1, or 0 when the queue is empty. */
int queue_pop(queue_t *q, event_t *e);
/* The time of the earliest event, or UINT64_MAX when empty. */
uint64_t queue_next_at(const queue_t *q);
/* Drop every event, calling release(e) for each (NULL: none). */
void queue_clear(queue_t *q, void (*release)(event_t *e));
void queue_free(queue_t *q);

#endif
