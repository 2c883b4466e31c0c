/* store_fixture.c -- the helpers of the store's unit tests (store_fixture.h). */
#include "store_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "digest.h"

char tmpdir[64];

int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_store.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

int teardown(void **st)
{
    (void)st;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s && rm -rf %s", tmpdir, tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

const char *tmp_path(const char *name)
{
    static char buf[4][160];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

store_t *open_ok(const char *path, uint32_t id, uint32_t n)
{
    char err[512] = "";
    store_t *s = store_open(path, id, n, STORE_SYNC_OFF, err, sizeof err);
    if (!s)
        fail_msg("store_open(%s): %s", path, err);
    return s;
}

void import_ok(store_t *s, const char *dir)
{
    char err[512] = "";
    if (store_import_movielens(s, dir, false, err, sizeof err) != 0)
        fail_msg("import %s: %s", dir, err);
}

store_counts_t counts_of(store_t *s)
{
    store_counts_t c;
    memset(&c, 0xa5, sizeof c);
    assert_int_equal(store_counts(s, &c), 0);
    return c;
}

void expect_counts(store_t *s, uint64_t nratings, uint32_t nmovies, uint64_t executed)
{
    store_counts_t c = counts_of(s);
    assert_int_equal(c.nratings, nratings);
    assert_int_equal(c.nmovies, nmovies);
    assert_int_equal(c.executed, executed);
}

uint32_t rating_of(store_t *s, uint32_t user, uint32_t movie)
{
    uint32_t h = 12345;
    int rc = store_rating(s, user, movie, &h);
    assert_true(rc == 0 || rc == 1);
    if (rc == 0)
        return 0;
    assert_true(h >= 1 && h <= 10);
    return h;
}

movie_info_t movie_of(store_t *s, uint32_t movie)
{
    movie_info_t m;
    memset(&m, 0, sizeof m);
    int rc = store_movie(s, movie, &m);
    if (rc != 1)
        fail_msg("movie %u: store_movie returned %d", movie, rc);
    assert_int_equal(m.movie, movie);
    return m;
}

void expect_stats(store_t *s, uint32_t movie, uint32_t nratings, uint64_t sum_halves)
{
    movie_info_t m = movie_of(s, movie);
    assert_int_equal(m.nratings, nratings);
    assert_int_equal(m.sum_halves, sum_halves);
}

urec_t rec(rt_op_kind kind, uint32_t user, uint32_t movie, uint32_t halves,
           uint64_t stamp, uint64_t uid_origin, uint64_t uid_seq)
{
    urec_t r;
    memset(&r, 0, sizeof r);
    r.origin = (uint32_t)(uid_origin % NREP);
    vts_zero(&r.ts, NREP);
    vts_zero(&r.prev, NREP);
    r.ts.t[r.origin] = uid_seq;
    r.uid.origin = uid_origin;
    r.uid.seq = uid_seq;
    r.stamp = stamp;
    r.op.kind = kind;
    r.op.user = user;
    r.op.movie = movie;
    r.op.halves = halves;
    return r;
}

urec_t rate(uint32_t user, uint32_t movie, uint32_t halves, uint64_t stamp,
            uint64_t uid_origin, uint64_t uid_seq)
{
    return rec(OP_RATE, user, movie, halves, stamp, uid_origin, uid_seq);
}

urec_t del(uint32_t user, uint32_t movie, uint64_t stamp, uint64_t uid_origin,
           uint64_t uid_seq)
{
    return rec(OP_DELETE, user, movie, 0, stamp, uid_origin, uid_seq);
}

urec_t add_movie(uint32_t movie, const char *title, const char *genres, uint32_t user,
                 uint32_t halves, uint64_t stamp, uint64_t uid_origin, uint64_t uid_seq)
{
    urec_t r = rec(OP_ADD_MOVIE, user, movie, halves, stamp, uid_origin, uid_seq);
    snprintf(r.op.title, sizeof r.op.title, "%s", title);
    snprintf(r.op.genres, sizeof r.op.genres, "%s", genres);
    return r;
}

void apply(store_t *s, urec_t r)
{
    assert_int_equal(store_begin(s), 0);
    if (store_apply(s, &r) != 0)
        fail_msg("store_apply: %s", store_errmsg(s));
    assert_int_equal(store_commit(s), 0);
}

struct recount recompute(const char *path)
{
    struct recount rc = {0, 0, 0, 0};
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT movie, title, genres, alias_of FROM movies",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t alias_of = (uint32_t)sqlite3_column_int64(st, 3);
        rc.digest += movie_row_hash((uint32_t)sqlite3_column_int64(st, 0),
                                    (const char *)sqlite3_column_text(st, 1),
                                    (const char *)sqlite3_column_text(st, 2), alias_of);
        rc.nmovies += alias_of == 0;
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT user, movie, halves, stamp, uid_origin, "
                                            "uid_seq FROM ratings",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t h = (uint32_t)sqlite3_column_int64(st, 2);
        upd_id_t uid = {(uint64_t)sqlite3_column_int64(st, 4), (uint64_t)sqlite3_column_int64(st, 5)};
        rc.digest += rating_row_hash((uint32_t)sqlite3_column_int64(st, 0),
                                     (uint32_t)sqlite3_column_int64(st, 1), h,
                                     (uint64_t)sqlite3_column_int64(st, 3), &uid);
        if (h == 0)
            rc.tombstones++;
        else
            rc.nratings++;
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return rc;
}

void expect_digest_matches_file(store_t *s, const char *path)
{
    struct recount r = recompute(path);
    store_counts_t c = counts_of(s);
    assert_int_equal(c.digest, r.digest);
    assert_int_equal(c.nratings, r.nratings);
    assert_int_equal(c.nmovies, r.nmovies);
}

store_t *tiny_store(void)
{
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    return s;
}

void some_records(urec_t *r)
{
    const uint64_t t = 2000000000000ULL;
    int i = 0;
    r[i++] = add_movie(5000, "Heat, The (1995)", "Action", 1, 8, t + 1, 1, 1);
    r[i++] = rate(2, 5000, 6, t + 2, 2, 1);
    r[i++] = rate(2, 5000, 9, t + 3, 1, 2);  /* overwrites the one above */
    r[i++] = del(2, 5000, t + 4, 2, 2);      /* and is deleted */
    r[i++] = rate(2, 5000, 1, t + 3, 2, 3);  /* too old to come back */
    r[i++] = rate(1, 1, 2, t + 5, 1, 3);
    r[i++] = rate(1, 1, 3, t + 5, 2, 4);     /* same stamp, higher uid: wins */
    r[i++] = del(3, 50, t + 6, 1, 4);
    r[i++] = rate(3, 50, 4, t + 7, 2, 5);    /* newer than the delete */
    r[i++] = del(4, 100, t + 8, 1, 5);
    r[i++] = add_movie(5001, "Up, Down", "Drama", 3, 5, t + 9, 2, 6);
    r[i++] = rate(3, 5001, 10, t + 10, 1, 6);
    r[i++] = rate(7, 5001, 2, t + 11, 1, 7);
    r[i++] = del(7, 5001, t + 12, 2, 7);
    r[i++] = rate(11, 2, 7, t + 13, 1, 8);
    r[i++] = rate(11, 2, 8, t + 13, 1, 9);   /* higher seq wins */
    assert_int_equal(i, NRECS);
}

void expect_same_state(store_t *a, store_t *b, const uint32_t *extra, size_t nextra)
{
    store_counts_t ca = counts_of(a), cb = counts_of(b);
    assert_int_equal(ca.digest, cb.digest);
    assert_int_equal(ca.nratings, cb.nratings);
    assert_int_equal(ca.nmovies, cb.nmovies);
    assert_int_equal(ca.executed, cb.executed);
    static const uint32_t users[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11};
    uint32_t movies[32] = {1, 2, 3, 11, 17, 29, 32, 50, 100, 1250, 7789};
    size_t nm = 11;
    for (size_t i = 0; i < nextra && nm < 32; i++)
        movies[nm++] = extra[i];
    for (size_t m = 0; m < nm; m++) {
        movie_info_t ma = movie_of(a, movies[m]), mb = movie_of(b, movies[m]);
        assert_string_equal(ma.title, mb.title);
        assert_int_equal(ma.nratings, mb.nratings);
        assert_int_equal(ma.sum_halves, mb.sum_halves);
        for (size_t u = 0; u < sizeof users / sizeof *users; u++)
            assert_int_equal(rating_of(a, users[u], movies[m]), rating_of(b, users[u], movies[m]));
    }
}

void make_ts(vts_t *replica_ts, vts_t *value_ts, vts_t *table)
{
    vts_zero(replica_ts, NREP);
    vts_zero(value_ts, NREP);
    replica_ts->t[0] = 5;
    replica_ts->t[1] = 2;
    replica_ts->t[2] = UINT64_MAX; /* survives as text */
    value_ts->t[0] = 4;
    value_ts->t[2] = 9;
    for (uint32_t k = 0; k < NREP; k++) {
        vts_zero(&table[k], NREP);
        for (uint32_t j = 0; j < NREP; j++)
            table[k].t[j] = 10 * k + j + 1;
    }
}

void expect_ts_loaded(store_t *s)
{
    vts_t rts, vts, tab[NREP], wrts, wvts, wtab[NREP];
    make_ts(&wrts, &wvts, wtab);
    memset(&rts, 0xff, sizeof rts);
    memset(&vts, 0xff, sizeof vts);
    memset(tab, 0xff, sizeof tab);
    assert_int_equal(store_load_ts(s, &rts, &vts, tab, NREP), 1);
    assert_int_equal(rts.n, NREP);
    assert_int_equal(vts.n, NREP);
    assert_true(vts_eq(&rts, &wrts));
    assert_int_equal(rts.t[2], UINT64_MAX);
    assert_true(vts_eq(&vts, &wvts));
    assert_int_equal(vts.t[1], 0);
    for (uint32_t k = 0; k < NREP; k++) {
        assert_int_equal(tab[k].n, NREP);
        assert_true(vts_eq(&tab[k], &wtab[k]));
    }
    assert_int_equal(tab[2].t[1], 22);
}

int collect(void *arg, const urec_t *r)
{
    struct collected *c = arg;
    if (c->n >= 8)
        return -1;
    c->r[c->n++] = *r;
    return 0;
}

struct collected log_contents(store_t *s)
{
    struct collected c;
    memset(&c, 0, sizeof c);
    assert_int_equal(store_log_each(s, collect, &c), 0);
    return c;
}

int refuse(void *arg, const urec_t *r)
{
    (void)r;
    (*(int *)arg)++;
    return 1;
}

int executed_find(store_t *s, const upd_id_t *uid, vts_t *ts, uint32_t *movie)
{
    upd_result_t r;
    int rc = store_executed_find(s, uid, &r);
    if (rc == 1) {
        *ts = r.ts;
        *movie = r.movie;
    }
    return rc;
}
