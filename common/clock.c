/* clock.c -- the monotonic clock, deadlines and the back-off rule (clock.h). */
#include "clock.h"

uint64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* pthread_cond_clockwait (glibc 2.30), not a condition initialised with
 * CLOCK_MONOTONIC: it needs no attribute, so PTHREAD_COND_INITIALIZER
 * serves, and libfaketime (the clock tests) leaves it alone. */
int clock_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *deadline)
{
    return pthread_cond_clockwait(cv, mu, CLOCK_MONOTONIC, deadline);
}

struct timespec clock_deadline_ms(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

int backoff_next_ms(int current_ms, int first_ms, int max_ms)
{
    int next = current_ms ? current_ms * 2 : first_ms;
    return next > max_ms ? max_ms : next;
}
