/* test_clock.c -- waits that do not follow the wall clock (common/clock.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

#include <cmocka.h>

#include "clock.h"

/* The deadline is on CLOCK_MONOTONIC (a wall clock set back an hour would
 * make a CLOCK_REALTIME deadline an hour away), and clock_cond_wait
 * times out by it. */
static void test_monotonic_deadline(void **st)
{
    (void)st;
    struct timespec now, d = clock_deadline_ms(1500);
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ahead = ((int64_t)d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
    assert_true(ahead > 1000 && ahead <= 1500);
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    uint64_t t0 = clock_mono_ms();
    struct timespec until = clock_deadline_ms(50);
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (rc == 0)
        rc = clock_cond_wait(&cv, &mu, &until);
    pthread_mutex_unlock(&mu);
    assert_int_equal(rc, ETIMEDOUT);
    uint64_t waited = clock_mono_ms() - t0;
    assert_true(waited >= 40 && waited < 5000);
}

static void test_backoff(void **st)
{
    (void)st;
    assert_int_equal(backoff_next_ms(0, 100, 1000), 100);
    assert_int_equal(backoff_next_ms(100, 100, 1000), 200);
    assert_int_equal(backoff_next_ms(800, 100, 1000), 1000);
    assert_int_equal(backoff_next_ms(1000, 100, 1000), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic_deadline),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
