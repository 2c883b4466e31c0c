/*
 * test_store_snap.c -- snapshot transfer through the store
 * (server/store_snap.c): a view read page by page and installed into a new
 * store gives the same state, while the source goes on writing.
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

/* A page-by-page copy through a snapshot view makes the same store, and
 * the view does not see what the source commits after it was opened. */
static void test_snapshot_round_trip(void **st)
{
    (void)st;
    const char *src = tmp_path("snapsrc.db"), *dst = tmp_path("snapdst.db");
    const uint64_t t = 2000000000000ULL;
    store_t *a = open_ok(src, 0, NREP);
    import_ok(a, TESTDATA "/tiny");
    urec_t r[NRECS];
    some_records(r);
    for (int i = 0; i < NRECS; i++)
        apply(a, r[i]);
    vts_t rts, vts, tab[NREP];
    make_ts(&rts, &vts, tab);
    assert_int_equal(store_save_ts(a, &rts, &vts, tab, NREP), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(store_log_put(a, &r[i]), 0);
    store_counts_t at_view = counts_of(a);

    char err[256] = "";
    store_snap_t *v = store_snap_open(a, err, sizeof err);
    if (!v)
        fail_msg("store_snap_open: %s", err);
    urec_t later = rate(50, 1, 10, t + 100, 1, 100);
    apply(a, later);
    assert_int_equal(store_log_put(a, &later), 0);

    vts_t vr, vv, vt[NREP];
    store_counts_t vc;
    assert_int_equal(store_snap_header(v, &vr, &vv, vt, NREP, &vc), 0);
    assert_true(vts_eq(&vr, &rts) && vts_eq(&vv, &vts));
    for (int k = 0; k < NREP; k++)
        assert_true(vts_eq(&vt[k], &tab[k]));
    assert_true(vc.digest == at_view.digest);
    assert_int_equal(vc.nratings, at_view.nratings);
    assert_int_equal(vc.nmovies, at_view.nmovies);
    assert_int_equal(vc.executed, at_view.executed);

    /* pages of 3, so every cursor is used; the header first, as join.c
     * installs it (the digest tree is made from the rows at commit) */
    store_t *b = open_ok(dst, 1, NREP);
    assert_int_equal(store_begin(b), 0);
    assert_int_equal(store_clear_state(b), 0);
    assert_int_equal(store_save_ts(b, &vr, &vv, vt, NREP), 0);
    assert_int_equal(store_finish_snapshot(b, &vc), 0);
    size_t n, total = 0;
    movie_info_t mp[3];
    for (uint32_t after = 0;; after = mp[n - 1].movie) {
        assert_int_equal(store_snap_movies(v, after, mp, 3, &n), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(store_put_movie(b, &mp[i]), 0);
        total += n;
        if (n < 3)
            break;
    }
    assert_int_equal(total, 13);
    snap_rating_t rp[3];
    total = 0;
    for (uint32_t au = 0, am = 0;; au = rp[n - 1].user, am = rp[n - 1].movie) {
        assert_int_equal(store_snap_ratings(v, au, am, rp, 3, &n), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(store_put_rating(b, &rp[i]), 0);
        total += n;
        if (n < 3)
            break;
    }
    assert_int_equal(total, 36 + 3); /* live and tombstones */
    snap_exec_t ep[3];
    total = 0;
    for (upd_id_t after = {0, 0};; after = ep[n - 1].uid) {
        assert_int_equal(store_snap_executed(v, &after, ep, 3, &n), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(store_put_executed(b, &ep[i]), 0);
        total += n;
        if (n < 3)
            break;
    }
    assert_int_equal(total, NRECS);
    urec_t lp[3];
    total = 0;
    for (uint32_t ao = 0, as = 0;; ao = lp[n - 1].origin, as = (uint32_t)lp[n - 1].ts.t[ao]) {
        assert_int_equal(store_snap_log(v, ao, as, lp, 3, &n), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(store_log_put(b, &lp[i]), 0);
        total += n;
        if (n < 3)
            break;
    }
    assert_int_equal(total, 4); /* not the later one */
    assert_int_equal(store_commit(b), 0);
    store_snap_close(v);

    assert_false(store_is_new(b));
    expect_digest_matches_file(b, dst);
    assert_true(counts_of(b).digest == vc.digest); /* the source's, at its view */
    assert_int_equal(rating_of(b, 50, 1), 0); /* after the view */
    apply(b, later);
    static const uint32_t added[] = {5000, 5001};
    expect_same_state(a, b, added, 2);
    apply(a, rate(2, 5000, 4, 1, 1, 99));
    apply(b, rate(2, 5000, 4, 1, 1, 99)); /* the tombstones came along */
    assert_int_equal(rating_of(b, 2, 5000), 0);
    store_close(b);
    b = open_ok(dst, 1, NREP);
    expect_same_state(a, b, added, 2);
    expect_ts_loaded(b);
    assert_int_equal(log_contents(b).n, 4);
    store_close(b);
    store_close(a);

    store_t *m = open_ok(":memory:", 0, NREP);
    assert_null(store_snap_open(m, err, sizeof err));
    assert_non_null(strstr(err, ":memory:"));
    store_close(m);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_snapshot_round_trip),
    };
#undef T
    return cmocka_run_group_tests_name("store_snap", tests, NULL, NULL);
}
