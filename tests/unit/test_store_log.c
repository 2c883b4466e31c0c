/*
 * test_store_log.c -- the log side of the store (server/store_log.c): the
 * executed table, the saved timestamps (and damaged ones), the update log
 * read back in order, a reader of it that stops, and records from a replica
 * outside the cluster.
 *
 * Run from the top of the repository (make unit does): the fixtures are
 * read from tests/data and data/ml-latest-small.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "digest.h"
#include "store_fixture.h"

static void test_executed(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    urec_t r = rate(1, 11, 4, 2000000000000ULL, 2, 17);
    r.ts.t[0] = 3;
    r.ts.t[1] = 0;
    r.ts.t[2] = 17;
    upd_id_t uid = {2, 17}, other = {2, 18}, zero = {0, 0};
    vts_t ts;
    uint32_t movie = 0;
    assert_int_equal(executed_find(s, &uid, &ts, &movie), 0);
    apply(s, r);
    vts_zero(&ts, 0);
    assert_int_equal(executed_find(s, &uid, &ts, &movie), 1);
    assert_true(vts_eq(&ts, &r.ts));
    assert_int_equal(ts.t[0], 3);
    assert_int_equal(ts.t[2], 17);
    assert_int_equal(movie, 11);
    assert_int_equal(executed_find(s, &other, &ts, &movie), 0);
    expect_counts(s, 34, 11, 1);
    apply(s, r); /* once only */
    expect_counts(s, 34, 11, 1);
    /* uid (0,0) is never recorded */
    apply(s, rate(1, 17, 4, 2000000000001ULL, 0, 0));
    assert_int_equal(rating_of(s, 1, 17), 4); /* but it is applied */
    expect_counts(s, 35, 11, 1);
    assert_int_equal(executed_find(s, &zero, &ts, &movie), 0);
    store_close(s);
}

static void test_ts_round_trip(void **st)
{
    (void)st;
    const char *path = tmp_path("ts.db");
    store_t *s = open_ok(path, 1, NREP);
    assert_true(store_is_new(s));
    vts_t rts, vts, tab[NREP];
    assert_int_equal(store_load_ts(s, &rts, &vts, tab, NREP), 0); /* nothing saved */
    make_ts(&rts, &vts, tab);
    assert_int_equal(store_save_ts(s, &rts, &vts, tab, NREP), 0);
    assert_false(store_is_new(s));
    expect_ts_loaded(s);
    store_close(s);
    s = open_ok(path, 1, NREP);
    assert_false(store_is_new(s)); /* saved state counts as not new */
    expect_ts_loaded(s);
    /* saving again replaces */
    make_ts(&rts, &vts, tab);
    rts.t[0] = 6;
    assert_int_equal(store_save_ts(s, &rts, &vts, tab, NREP), 0);
    vts_t r2, v2, t2[NREP];
    assert_int_equal(store_load_ts(s, &r2, &v2, t2, NREP), 1);
    assert_int_equal(r2.t[0], 6);
    store_close(s);
}

static void expect_same_rec(const urec_t *got, const urec_t *want)
{
    assert_int_equal(got->origin, want->origin);
    assert_true(vts_eq(&got->ts, &want->ts));
    assert_int_equal(got->ts.n, NREP);
    assert_true(vts_eq(&got->prev, &want->prev));
    assert_int_equal(got->prev.n, NREP);
    assert_int_equal(got->uid.origin, want->uid.origin);
    assert_int_equal(got->uid.seq, want->uid.seq);
    assert_int_equal(got->stamp, want->stamp);
    assert_int_equal(got->op.kind, want->op.kind);
    assert_int_equal(got->op.user, want->op.user);
    assert_int_equal(got->op.movie, want->op.movie);
    assert_int_equal(got->op.halves, want->op.halves);
    assert_string_equal(got->op.title, want->op.title);
    assert_string_equal(got->op.genres, want->op.genres);
    assert_int_equal(got->applied, want->applied);
}

static void test_log_round_trip(void **st)
{
    (void)st;
    store_t *s = open_ok(":memory:", 0, NREP);
    const uint64_t t = 2000000000000ULL;
    /* origin = uid_origin % 3; ts[origin] = seq, the log key */
    urec_t a = add_movie(6000, "Good, the Bad and the Ugly, The (1966)", "Western", 4, 9, t,
                         2, 7);
    a.prev.t[0] = 3;
    a.prev.t[2] = 6;
    a.ts.t[0] = 3;
    a.applied = true;
    urec_t b = rate(1, 2, 3, t + 1, 1, 2);
    urec_t c = del(5, 6, t + 2, 1, 1);
    urec_t d = rate(7, 8, 10, UINT64_MAX, 0, 4);
    d.uid.origin = 1000000007; /* a front end's id, not a replica's: */
    d.uid.seq = 555;           /* the log key is (origin, ts[origin]) = (0, 4) */
    assert_int_equal(store_log_put(s, &a), 0);
    assert_int_equal(store_log_put(s, &b), 0);
    assert_int_equal(store_log_put(s, &c), 0);
    assert_int_equal(store_log_put(s, &d), 0);
    struct collected got = log_contents(s);
    assert_int_equal(got.n, 4);
    /* in (origin, seq) order */
    expect_same_rec(&got.r[0], &d);
    expect_same_rec(&got.r[1], &c);
    expect_same_rec(&got.r[2], &b);
    expect_same_rec(&got.r[3], &a);
    /* put again replaces (the applied flag set later) */
    b.applied = true;
    assert_int_equal(store_log_put(s, &b), 0);
    assert_int_equal(store_log_del(s, &c), 0);
    got = log_contents(s);
    assert_int_equal(got.n, 3);
    expect_same_rec(&got.r[0], &d);
    expect_same_rec(&got.r[1], &b);
    assert_true(got.r[1].applied);
    expect_same_rec(&got.r[2], &a);
    assert_int_equal(store_log_del(s, &c), 0); /* deleting what is gone is fine */
    assert_int_equal(store_log_del(s, &a), 0);
    assert_int_equal(store_log_del(s, &b), 0);
    assert_int_equal(store_log_del(s, &d), 0);
    assert_int_equal(log_contents(s).n, 0);
    store_close(s);
}

static void test_log_each_stops_on_error(void **st)
{
    (void)st;
    store_t *s = open_ok(":memory:", 0, NREP);
    urec_t a = rate(1, 2, 3, 1, 1, 1), b = rate(1, 2, 3, 2, 1, 2);
    assert_int_equal(store_log_put(s, &a), 0);
    assert_int_equal(store_log_put(s, &b), 0);
    int calls = 0;
    assert_int_equal(store_log_each(s, refuse, &calls), -1);
    assert_int_equal(calls, 1);
    assert_int_equal(log_contents(s).n, 2); /* usable afterwards */
    store_close(s);
}

/* Damaged saved timestamps are an error with a message, never a crash. */
static void test_corrupt_saved_ts(void **st)
{
    (void)st;
    static const char *const damage[] = {
        "UPDATE meta SET value = '[1,x,3]' WHERE key = 'replica_ts'",
        "UPDATE meta SET value = '[1,2,3,4]' WHERE key = 'value_ts'", /* 4 of 3 replicas */
        "UPDATE meta SET value = '[1,2,3];[4,5,6]' WHERE key = 'table'", /* a row short */
        "UPDATE meta SET value = NULL WHERE key = 'table'",
    };
    for (size_t i = 0; i < sizeof damage / sizeof *damage; i++) {
        char name[32];
        snprintf(name, sizeof name, "badts%zu.db", i);
        const char *path = tmp_path(name);
        store_t *s = open_ok(path, 0, NREP);
        vts_t rts, vts, tab[NREP];
        make_ts(&rts, &vts, tab);
        assert_int_equal(store_save_ts(s, &rts, &vts, tab, NREP), 0);
        store_close(s);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, damage[i], NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        s = open_ok(path, 0, NREP);
        if (store_load_ts(s, &rts, &vts, tab, NREP) != -1)
            fail_msg("loaded timestamps after \"%s\"", damage[i]);
        assert_non_null(strstr(store_errmsg(s), "corrupt"));
        store_close(s);
    }
}

static void test_log_refuses_bad_origin(void **st)
{
    (void)st;
    store_t *s = open_ok(":memory:", 0, NREP);
    urec_t r = rate(1, 2, 3, 1, 1, 1);
    r.origin = NREP;
    assert_int_equal(store_log_put(s, &r), -1);
    assert_non_null(strstr(store_errmsg(s), "replica 3"));
    r.origin = 100000; /* past the vector: must not be read */
    assert_int_equal(store_log_put(s, &r), -1);
    assert_int_equal(store_log_del(s, &r), -1);
    assert_int_equal(log_contents(s).n, 0);
    store_close(s);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_executed),
        T(test_ts_round_trip),
        T(test_log_round_trip),
        T(test_log_each_stops_on_error),
        T(test_corrupt_saved_ts),
        T(test_log_refuses_bad_origin),
    };
#undef T
    return cmocka_run_group_tests_name("store_log", tests, NULL, NULL);
}
