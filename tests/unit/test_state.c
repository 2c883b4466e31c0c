/*
 * test_state.c -- replicas as the server runs them (server/state.c: the
 * gossip algorithm over the real SQLite store), with gossip carried by
 * calling the GOSSIP handler of one replica with the message of another,
 * in process.  Convergence of concurrent writes and deletes, retries,
 * validation against the value, the query rule, overload, simulated
 * failures, and state surviving a close and reopen.  On file-backed
 * replicas: queries on readers (without the state lock) answer a value
 * and the timestamp it was committed with, and group commit never replies,
 * nor lets a query reveal, a commit before a sync that covers it.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "state.h"

#define N 3

static state_t *reps[N];
static uint64_t uid_origin = 99; /* origin of the ids send_update uses */
static uint64_t client_clock = 1700000000000ULL; /* the stamps it gives, in ms */
static char tmpdir[64];

/* Open replica k of n without hearing from its peers: it recovers. */
static void open_recovering(uint32_t k, uint32_t n, const char *path)
{
    struct state_config cfg = {.id = k, .n = n, .db_path = path, .overload = 100, .seed = 7};
    char err[256];
    reps[k] = state_open(&cfg, err, sizeof err);
    if (!reps[k])
        fail_msg("state_open: %s", err);
}

static void open_replica(uint32_t k, uint32_t n, const char *path, uint64_t overload,
                         double fail_rate)
{
    struct state_config cfg = {.id = k, .n = n, .db_path = path, .overload = overload,
                               .fail_rate = fail_rate, .seed = 7};
    char err[256];
    reps[k] = state_open(&cfg, err, sizeof err);
    if (!reps[k])
        fail_msg("state_open: %s", err);
    /* A new database recovers until it has heard from every peer (as the
     * join's STATUS survey does at start): every peer is new too. */
    vts_t zero;
    vts_zero(&zero, n);
    for (uint32_t j = 0; j < n; j++)
        if (j != k)
            state_heard_status(reps[k], j, &zero, true);
}

static int setup(void **st)
{
    (void)st;
    for (uint32_t k = 0; k < N; k++)
        open_replica(k, N, ":memory:", 100, 0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    for (uint32_t k = 0; k < N; k++)
        state_close(reps[k]);
    return 0;
}

/* ---- helpers: XDR arguments as a front end would send them ----------- */

static rt_vts xvts(vts_t *v)
{
    rt_vts x = {v->n, v->t};
    return x;
}

struct upd {
    rt_status status;
    vts_t ts;
    uint32_t movie;
    uint64_t stamp;      /* the stamp accepted, or the later write's (RT_STALE) */
    char detail[RT_MAX_DETAIL + 1];
};

/* The arguments a client sends: its prev, id and a stamp of its clock. */
static rt_update_args update_args(rt_op op, vts_t *prev, uint64_t seq)
{
    rt_update_args a;
    memset(&a, 0, sizeof a);
    a.prev = xvts(prev);
    a.uid.origin = uid_origin;
    a.uid.seq = seq;
    a.stamp = ++client_clock;
    a.op = op;
    return a;
}

/* Send a at replica k; on RT_OK merge the update's ts into prev. */
static struct upd send_args(uint32_t k, bool submit, const rt_update_args *a, vts_t *prev)
{
    rt_update_res res;
    memset(&res, 0, sizeof res);
    state_update(reps[k], a, submit, &res);
    struct upd u = {res.status, {0}, res.movie, res.stamp, ""};
    snprintf(u.detail, sizeof u.detail, "%s", res.detail ? res.detail : "");
    assert_int_equal(vts_from_xdr(&u.ts, &res.ts), RT_OK);
    if (res.status == RT_OK)
        vts_merge(prev, &u.ts);
    xdr_free((xdrproc_t)xdr_rt_update_res, (char *)&res);
    return u;
}

static struct upd send_update(uint32_t k, bool submit, rt_op op, vts_t *prev, uint64_t seq)
{
    rt_update_args a = update_args(op, prev, seq);
    return send_args(k, submit, &a, prev);
}

static rt_op op_rate(uint32_t user, uint32_t movie, uint32_t halves)
{
    rt_op op = {.kind = OP_RATE};
    op.rt_op_u.rate.user = user;
    op.rt_op_u.rate.movie = movie;
    op.rt_op_u.rate.halves = halves;
    return op;
}

static rt_op op_delete(uint32_t user, uint32_t movie)
{
    rt_op op = {.kind = OP_DELETE};
    op.rt_op_u.del.user = user;
    op.rt_op_u.del.movie = movie;
    return op;
}

static rt_op op_movie(const char *title, uint32_t user, uint32_t halves)
{
    rt_op op = {.kind = OP_ADD_MOVIE};
    op.rt_op_u.add.title = (char *)title;
    op.rt_op_u.add.genres = (char *)"Drama";
    op.rt_op_u.add.user = user;
    op.rt_op_u.add.halves = halves;
    return op;
}

/* Query user's rating of movie at replica k: RT_OK and *halves, or status. */
static rt_status get_rating(uint32_t k, vts_t *prev, uint32_t user, uint32_t movie,
                            uint32_t *halves)
{
    rt_query_args a;
    rt_query_res res;
    memset(&a, 0, sizeof a);
    memset(&res, 0, sizeof res);
    a.prev = xvts(prev);
    a.q.kind = Q_RATING;
    a.q.rt_query_u.key.user = user;
    a.q.rt_query_u.key.movie = movie;
    state_query(reps[k], &a, &res);
    rt_status st = res.status;
    if (st == RT_OK)
        *halves = res.result.rt_answer_opt_u.answer.rt_answer_u.halves;
    xdr_free((xdrproc_t)xdr_rt_query_res, (char *)&res);
    return st;
}

/* Replica a gossips to b, and applies b's answer, as the gossip thread does. */
static void gossip(uint32_t a, uint32_t b)
{
    rt_gossip_args args;
    rt_gossip_res res;
    memset(&res, 0, sizeof res);
    assert_int_equal(state_gossip_out(reps[a], b, &args), 0);
    state_gossip_in(reps[b], &args, &res);
    assert_int_equal(res.status, RT_OK);
    assert_int_equal(state_gossip_reply(reps[a], b, &res), 0);
    xdr_free((xdrproc_t)xdr_rt_gossip_args, (char *)&args);
    xdr_free((xdrproc_t)xdr_rt_gossip_res, (char *)&res);
}

static void gossip_all(uint32_t n)
{
    for (int round = 0; round < 2; round++)
        for (uint32_t a = 0; a < n; a++)
            for (uint32_t b = 0; b < n; b++)
                if (a != b)
                    gossip(a, b);
}

static rt_status_res status_of(uint32_t k)
{
    rt_status_res res;
    memset(&res, 0, sizeof res);
    state_status(reps[k], &res);
    return res;
}

static uint64_t digest_of(uint32_t k)
{
    rt_status_res res = status_of(k);
    uint64_t d = res.digest;
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&res);
    return d;
}

/* A movie everyone knows, created at replica 0 and gossiped. */
static uint32_t shared_movie(void)
{
    vts_t prev;
    vts_zero(&prev, 0);
    struct upd u = send_update(0, true, op_movie("Shared (2020)", 1, 6), &prev, 1000);
    assert_int_equal(u.status, RT_OK);
    gossip_all(N);
    return u.movie;
}

/* ---- tests ----------------------------------------------------------- */

static void test_concurrent_writes_converge(void **st)
{
    (void)st;
    uint32_t m = shared_movie();
    vts_t p0, p1, p2;
    vts_zero(&p0, 0);
    vts_zero(&p1, 0);
    vts_zero(&p2, 0);
    /* three clients set (5, m) at three replicas without seeing each other */
    assert_int_equal(send_update(0, true, op_rate(5, m, 2), &p0, 1).status, RT_OK);
    assert_int_equal(send_update(1, true, op_rate(5, m, 4), &p1, 2).status, RT_OK);
    assert_int_equal(send_update(2, true, op_rate(5, m, 9), &p2, 3).status, RT_OK);
    /* gossip in an order that differs per replica */
    gossip(2, 1);
    gossip(0, 2);
    gossip(1, 0);
    gossip_all(N);
    uint32_t h[N];
    vts_t all;
    vts_zero(&all, 0);
    for (uint32_t k = 0; k < N; k++)
        assert_int_equal(get_rating(k, &all, 5, m, &h[k]), RT_OK);
    assert_int_equal(h[0], h[1]);
    assert_int_equal(h[1], h[2]);
    assert_int_equal(digest_of(0), digest_of(1));
    assert_int_equal(digest_of(1), digest_of(2));
}

static void test_later_write_wins_over_earlier(void **st)
{
    (void)st;
    uint32_t m = shared_movie();
    vts_t prev;
    vts_zero(&prev, 0);
    /* one client writes at 0, then updates at 1 having seen the first:
     * its second write must win everywhere */
    assert_int_equal(send_update(0, true, op_rate(6, m, 2), &prev, 1).status, RT_OK);
    gossip(0, 1);
    assert_int_equal(send_update(1, false, op_rate(6, m, 10), &prev, 2).status, RT_OK);
    gossip_all(N);
    for (uint32_t k = 0; k < N; k++) {
        uint32_t h = 0;
        assert_int_equal(get_rating(k, &prev, 6, m, &h), RT_OK);
        assert_int_equal(h, 10);
    }
}

static void test_delete_converges_and_stays_deleted(void **st)
{
    (void)st;
    uint32_t m = shared_movie();
    vts_t prev;
    vts_zero(&prev, 0);
    assert_int_equal(send_update(0, true, op_rate(7, m, 4), &prev, 1).status, RT_OK);
    gossip_all(N);
    vts_t pa = prev, pb = prev;
    /* a delete at 0 and, concurrently, an update at 1 */
    assert_int_equal(send_update(0, false, op_delete(7, m), &pa, 2).status, RT_OK);
    assert_int_equal(send_update(1, false, op_rate(7, m, 8), &pb, 3).status, RT_OK);
    gossip_all(N);
    uint32_t h0 = 0, h;
    rt_status s0 = get_rating(0, &prev, 7, m, &h0);
    for (uint32_t k = 1; k < N; k++) {
        assert_int_equal(get_rating(k, &prev, 7, m, &h), s0);
        if (s0 == RT_OK)
            assert_int_equal(h, h0);
    }
    assert_int_equal(digest_of(0), digest_of(2));
    /* a plain delete, then more gossip: it does not come back */
    vts_merge(&prev, &pa);
    vts_merge(&prev, &pb);
    if (s0 == RT_OK)
        assert_int_equal(send_update(2, false, op_delete(7, m), &prev, 4).status, RT_OK);
    gossip_all(N);
    gossip_all(N);
    for (uint32_t k = 0; k < N; k++)
        assert_int_equal(get_rating(k, &prev, 7, m, &h), RT_NOT_FOUND);
}

static void test_retry_applied_once(void **st)
{
    (void)st;
    vts_t prev;
    vts_zero(&prev, 0);
    struct upd a = send_update(1, true, op_movie("Once (2001)", 3, 7), &prev, 42);
    assert_int_equal(a.status, RT_OK);
    rt_status_res before = status_of(1);
    vts_t fresh;
    vts_zero(&fresh, 0);
    struct upd b = send_update(1, true, op_movie("Once (2001)", 3, 7), &fresh, 42);
    assert_int_equal(b.status, RT_OK);
    assert_int_equal(b.movie, a.movie);
    assert_true(vts_eq(&a.ts, &b.ts));
    rt_status_res after = status_of(1);
    assert_int_equal(after.nmovies, before.nmovies);
    assert_int_equal(after.log_len, before.log_len);
    /* and still once after the log was discarded */
    gossip_all(N);
    struct upd c = send_update(1, true, op_movie("Once (2001)", 3, 7), &fresh, 42);
    assert_int_equal(c.movie, a.movie);
    rt_status_res later = status_of(1);
    assert_int_equal(later.nmovies, before.nmovies);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&before);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&after);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&later);
}

/* A front end that lost its answer retries an add-movie at another
 * replica with the same id: two records, two movie ids.  Every replica
 * ends with one movie (the lower id), the other id an alias of it, and
 * ratings through either id land on it. */
static void test_duplicate_new_movie_merged(void **st)
{
    (void)st;
    vts_t p0, p1;
    vts_zero(&p0, 0);
    vts_zero(&p1, 0);
    rt_status_res before = status_of(2);
    struct upd a = send_update(0, true, op_movie("Twice (2026)", 4, 6), &p0, 77);
    struct upd b = send_update(1, true, op_movie("Twice (2026)", 4, 6), &p1, 77);
    assert_int_equal(a.status, RT_OK);
    assert_int_equal(b.status, RT_OK);
    assert_int_not_equal(a.movie, b.movie);
    uint32_t low = a.movie < b.movie ? a.movie : b.movie;
    uint32_t high = a.movie ^ b.movie ^ low;
    /* a rating through the higher id before anyone saw the duplicate */
    uint32_t via = b.movie == high ? 1 : 0;
    vts_t *pv = via ? &p1 : &p0;
    assert_int_equal(send_update(via, true, op_rate(5, high, 9), pv, 78).status, RT_OK);
    gossip(2, 1); /* replica 2 hears of b first, then a */
    gossip(0, 2);
    gossip_all(N);
    vts_t all;
    vts_zero(&all, 0);
    for (uint32_t k = 0; k < N; k++) {
        rt_status_res s = status_of(k);
        assert_int_equal(s.nmovies, before.nmovies + 1);
        xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&s);
        uint32_t h;
        assert_int_equal(get_rating(k, &all, 5, low, &h), RT_OK);
        assert_int_equal(h, 9);
        assert_int_equal(get_rating(k, &all, 5, high, &h), RT_OK);
        assert_int_equal(get_rating(k, &all, 4, low, &h), RT_OK);
        assert_int_equal(h, 6);
    }
    assert_int_equal(digest_of(0), digest_of(1));
    assert_int_equal(digest_of(1), digest_of(2));
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&before);
}

/* Bug 1 of issue 10.  A front end times out on replica 0 (paused, a slow
 * disk) and sends the same update to replica 1, which accepts it; the
 * client then deletes the rating at replica 1.  When replica 0 wakes it
 * accepts the late copy: it must not undo the delete anywhere. */
static void test_late_copy_does_not_undo_a_later_write(void **st)
{
    (void)st;
    uint32_t m = shared_movie();
    vts_t prev, stale;
    vts_zero(&prev, 0);
    rt_update_args u = update_args(op_rate(70001, m, 2), &prev, 500);
    stale = prev;
    assert_int_equal(send_args(1, true, &u, &prev).status, RT_OK);
    assert_int_equal(send_update(1, false, op_delete(70001, m), &prev, 501).status, RT_OK);
    /* the same for an update by another client who saw the first */
    vts_t other = prev;
    rt_update_args w = update_args(op_rate(70002, m, 2), &stale, 502);
    assert_int_equal(send_args(1, true, &w, &other).status, RT_OK);
    assert_int_equal(send_update(1, false, op_rate(70002, m, 9), &other, 503).status, RT_OK);
    /* the late copies, with the arguments the front end sent first */
    vts_t late = stale;
    assert_int_equal(send_args(0, true, &u, &late).status, RT_OK);
    assert_int_equal(send_args(0, true, &w, &late).status, RT_OK);
    gossip_all(N);
    vts_t all = prev;
    vts_merge(&all, &other);
    vts_merge(&all, &late);
    for (uint32_t k = 0; k < N; k++) {
        uint32_t h = 0;
        assert_int_equal(get_rating(k, &all, 70001, m, &h), RT_NOT_FOUND);
        assert_int_equal(get_rating(k, &all, 70002, m, &h), RT_OK);
        assert_int_equal(h, 9);
    }
    assert_int_equal(digest_of(0), digest_of(1));
    assert_int_equal(digest_of(1), digest_of(2));
}

/* A stamp not above the rating's current write is refused, with that
 * write's stamp; one above it is taken. */
static void test_stale_stamp_refused(void **st)
{
    (void)st;
    uint32_t m = shared_movie();
    vts_t prev;
    vts_zero(&prev, 0);
    struct upd first = send_update(0, true, op_rate(10, m, 4), &prev, 600);
    assert_int_equal(first.status, RT_OK);
    rt_update_args a = update_args(op_rate(10, m, 6), &prev, 601);
    a.stamp = first.stamp; /* a clock behind, or the same ms */
    struct upd u = send_args(0, false, &a, &prev);
    assert_int_equal(u.status, RT_STALE);
    assert_true(u.stamp == first.stamp);
    a.stamp = first.stamp - 3600 * 1000;
    assert_int_equal(send_args(0, false, &a, &prev).status, RT_STALE);
    /* the client's new id with a later stamp */
    a.uid.seq = 602;
    a.stamp = u.stamp + 1;
    assert_int_equal(send_args(0, false, &a, &prev).status, RT_OK);
    uint32_t h = 0;
    assert_int_equal(get_rating(0, &prev, 10, m, &h), RT_OK);
    assert_int_equal(h, 6);
}

/* An id is one update: a repeat gets the first answer (and stamp), the id
 * for another operation is refused; no stamp, or one from a clock a day
 * ahead, is refused. */
static void test_update_id_and_stamp_rules(void **st)
{
    (void)st;
    uint32_t m = shared_movie();
    vts_t prev;
    vts_zero(&prev, 0);
    rt_update_args a = update_args(op_rate(11, m, 4), &prev, 700);
    struct upd first = send_args(0, true, &a, &prev);
    assert_int_equal(first.status, RT_OK);
    rt_update_args again = a;
    again.stamp = a.stamp + 5; /* a repeat without its stamp (--uid ORIGIN:SEQ) */
    struct upd r = send_args(0, true, &again, &prev);
    assert_int_equal(r.status, RT_OK);
    assert_true(r.stamp == first.stamp);
    assert_true(vts_eq(&r.ts, &first.ts));
    rt_update_args other = update_args(op_rate(11, m, 8), &prev, 700);
    struct upd o = send_args(0, false, &other, &prev);
    assert_int_equal(o.status, RT_INVALID);
    assert_non_null(strstr(o.detail, "another update"));
    rt_update_args none = update_args(op_rate(12, m, 4), &prev, 701);
    none.stamp = 0;
    assert_int_equal(send_args(0, true, &none, &prev).status, RT_INVALID);
    none.stamp = (uint64_t)time(NULL) * 1000 + 2 * 24 * 3600 * 1000ULL;
    struct upd ahead = send_args(0, true, &none, &prev);
    assert_int_equal(ahead.status, RT_INVALID);
    assert_non_null(strstr(ahead.detail, "ahead"));
    uint32_t h = 0;
    assert_int_equal(get_rating(0, &prev, 11, m, &h), RT_OK);
    assert_int_equal(h, 4);
    assert_int_equal(get_rating(0, &prev, 12, m, &h), RT_NOT_FOUND);
}

/* A replica that has not heard from every peer numbers no update. */
static void test_recovering_refuses_updates(void **st)
{
    (void)st;
    teardown(NULL);
    open_replica(0, 3, ":memory:", 100, 0);
    open_replica(1, 3, ":memory:", 100, 0);
    open_recovering(2, 3, ":memory:");
    vts_t prev;
    vts_zero(&prev, 0);
    struct upd u = send_update(2, true, op_movie("Not yet", 1, 4), &prev, 1);
    assert_int_equal(u.status, RT_NOT_READY);
    assert_non_null(strstr(u.detail, "recovering"));
    rt_status_res s = status_of(2);
    assert_int_equal(s.state, ST_RECOVERING);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&s);
    /* one peer is not enough */
    gossip(2, 0);
    assert_int_equal(send_update(2, true, op_movie("Not yet", 1, 4), &prev, 1).status,
                     RT_NOT_READY);
    gossip(1, 2); /* a call from the other one counts as well */
    assert_int_equal(send_update(2, true, op_movie("Now", 1, 4), &prev, 2).status, RT_OK);
    s = status_of(2);
    assert_int_equal(s.state, ST_ACTIVE);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&s);
}

/* Bug 2 of issue 10: replica 2's updates reached only replica 0; its
 * database is wiped.  It must not number updates until it has heard from
 * replica 0 too, and then it takes its five updates back and goes on from
 * six. */
static void test_wiped_replica_takes_back_its_updates(void **st)
{
    (void)st;
    teardown(NULL);
    char p[N][128];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_state.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    for (uint32_t k = 0; k < N; k++) {
        snprintf(p[k], sizeof p[k], "%s/r%u.db", tmpdir, k);
        open_replica(k, N, p[k], 100, 0);
    }
    vts_t prev;
    vts_zero(&prev, 0);
    for (uint64_t i = 1; i <= 5; i++) {
        char title[32];
        snprintf(title, sizeof title, "Mine %llu", (unsigned long long)i);
        struct upd u = send_update(2, true, op_movie(title, 1, 4), &prev, 900 + i);
        assert_int_equal(u.status, RT_OK);
        assert_int_equal(u.ts.t[2], i);
    }
    gossip(2, 0); /* replica 1 is down meanwhile */
    state_close(reps[2]);
    assert_int_equal(unlink(p[2]), 0);
    char wal[140];
    snprintf(wal, sizeof wal, "%s-wal", p[2]);
    unlink(wal);
    open_recovering(2, N, p[2]);
    vts_t fresh;
    vts_zero(&fresh, 0);
    gossip(2, 1); /* replica 1 is back: it holds none of ours */
    assert_int_equal(send_update(2, true, op_movie("Too soon", 1, 4), &fresh, 999).status,
                     RT_NOT_READY);
    gossip(2, 0); /* replica 0 gives them back */
    struct upd u = send_update(2, true, op_movie("Sixth", 1, 4), &fresh, 1000);
    assert_int_equal(u.status, RT_OK);
    assert_int_equal(u.ts.t[2], 6);
    gossip_all(N);
    assert_int_equal(digest_of(0), digest_of(2));
    assert_int_equal(digest_of(1), digest_of(2));
    for (uint32_t k = 0; k < N; k++) {
        rt_status_res s = status_of(k);
        assert_int_equal(s.replica_ts.rt_vts_val[2], 6);
        xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&s);
    }
    teardown(NULL);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
    setup(NULL);
}

static void test_query_never_older_than_prev(void **st)
{
    (void)st;
    uint32_t m = shared_movie();
    vts_t prev;
    vts_zero(&prev, 0);
    assert_int_equal(send_update(0, true, op_rate(8, m, 5), &prev, 1).status, RT_OK);
    uint32_t h;
    /* replica 2 has not heard of it: it must refuse, not answer old data */
    assert_int_equal(get_rating(2, &prev, 8, m, &h), RT_NOT_READY);
    /* nor accept an update that depends on it */
    assert_int_equal(send_update(2, false, op_rate(8, m, 6), &prev, 2).status, RT_NOT_READY);
    gossip(0, 2);
    assert_int_equal(get_rating(2, &prev, 8, m, &h), RT_OK);
    assert_int_equal(h, 5);
}

static void test_validation(void **st)
{
    (void)st;
    uint32_t m = shared_movie();
    vts_t prev;
    vts_zero(&prev, 0);
    uint64_t d = digest_of(0);
    assert_int_equal(send_update(0, true, op_rate(9, m, 11), &prev, 1).status, RT_INVALID);
    assert_int_equal(send_update(0, true, op_rate(9, m, 0), &prev, 2).status, RT_INVALID);
    assert_int_equal(send_update(0, true, op_rate(0, m, 4), &prev, 3).status, RT_INVALID);
    assert_int_equal(send_update(0, true, op_rate(9, 424242, 4), &prev, 4).status,
                     RT_NOT_FOUND);
    assert_int_equal(send_update(0, false, op_rate(9, m, 4), &prev, 5).status, RT_NOT_FOUND);
    assert_int_equal(send_update(0, false, op_delete(9, m), &prev, 6).status, RT_NOT_FOUND);
    assert_int_equal(send_update(0, true, op_rate(9, m, 4), &prev, 7).status, RT_OK);
    assert_int_equal(send_update(0, true, op_rate(9, m, 5), &prev, 8).status, RT_EXISTS);
    assert_int_equal(send_update(0, true, op_movie("", 9, 4), &prev, 9).status, RT_INVALID);
    assert_int_equal(send_update(0, false, op_movie("X", 9, 4), &prev, 10).status, RT_INVALID);
    uid_origin = 0; /* an update without an id cannot be retried safely */
    assert_int_equal(send_update(0, true, op_rate(10, m, 4), &prev, 0).status, RT_INVALID);
    uid_origin = 99;
    assert_int_not_equal(digest_of(0), d); /* only the one good rating changed it */
    /* a prev longer than the cluster is refused */
    vts_t big;
    vts_zero(&big, 5);
    assert_int_equal(send_update(0, true, op_rate(9, m, 4), &big, 11).status, RT_INVALID);
}

static void test_overload_and_offline(void **st)
{
    (void)st;
    teardown(NULL);
    open_replica(0, 2, ":memory:", 2, 0);
    open_replica(1, 2, ":memory:", 100, 1.0);
    vts_t prev;
    vts_zero(&prev, 0);
    struct upd u = send_update(0, true, op_movie("Busy", 1, 4), &prev, 1);
    assert_int_equal(u.status, RT_OK);
    assert_int_equal(send_update(0, true, op_rate(2, u.movie, 4), &prev, 2).status, RT_OK);
    rt_status_res s = status_of(0);
    assert_int_equal(s.state, ST_ACTIVE);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&s);
    assert_int_equal(send_update(0, true, op_rate(3, u.movie, 4), &prev, 3).status, RT_OK);
    s = status_of(0);
    assert_int_equal(s.state, ST_OVERLOADED);
    assert_int_equal(s.pending, 3);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&s);
    assert_int_equal(send_update(0, true, op_rate(4, u.movie, 4), &prev, 4).status,
                     RT_OVERLOADED);
    /* replica 1 is always "offline" to clients but gossip still flows */
    gossip(0, 1);
    s = status_of(0);
    assert_int_equal(s.state, ST_ACTIVE);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&s);
    uint32_t h;
    assert_int_equal(get_rating(1, &prev, 2, u.movie, &h), RT_OFFLINE);
    state_close(reps[0]);
    state_close(reps[1]);
    setup(NULL);
}

static void test_state_survives_reopen(void **st)
{
    (void)st;
    teardown(NULL);
    char p0[128], p1[128];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_state.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(p0, sizeof p0, "%s/r0.db", tmpdir);
    snprintf(p1, sizeof p1, "%s/r1.db", tmpdir);
    open_replica(0, 2, p0, 100, 0);
    open_replica(1, 2, p1, 100, 0);
    vts_t prev;
    vts_zero(&prev, 0);
    struct upd u = send_update(0, true, op_movie("Kept", 1, 4), &prev, 1);
    assert_int_equal(send_update(0, true, op_rate(2, u.movie, 9), &prev, 2).status, RT_OK);
    /* "crash" before any gossip: close, reopen from the file */
    state_close(reps[0]);
    open_replica(0, 2, p0, 100, 0);
    uint32_t h;
    assert_int_equal(get_rating(0, &prev, 2, u.movie, &h), RT_OK);
    assert_int_equal(h, 9);
    struct state_probe pr;
    state_probe(reps[0], &pr);
    assert_int_equal(pr.log_len, 2);
    assert_int_equal(pr.replica_ts.t[0], 2);
    /* the log survived too: the peer still gets both updates */
    gossip(0, 1);
    assert_int_equal(get_rating(1, &prev, 2, u.movie, &h), RT_OK);
    assert_int_equal(digest_of(0), digest_of(1));
    state_close(reps[0]);
    state_close(reps[1]);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
    setup(NULL);
}

static void test_gossip_from_stranger_denied(void **st)
{
    (void)st;
    rt_gossip_args args;
    rt_gossip_res res;
    memset(&args, 0, sizeof args);
    memset(&res, 0, sizeof res);
    args.from = 0; /* replica 0 claiming to be itself */
    state_gossip_in(reps[0], &args, &res);
    assert_int_equal(res.status, RT_DENIED);
    xdr_free((xdrproc_t)xdr_rt_gossip_res, (char *)&res);
    args.from = 17;
    state_gossip_in(reps[0], &args, &res);
    assert_int_equal(res.status, RT_DENIED);
    xdr_free((xdrproc_t)xdr_rt_gossip_res, (char *)&res);
}

/* ---- file-backed: readers and group commit ----------------------------- */

/* A sync hook that can hold syncs back (a closed gate) and records, at the
 * start of each sync, how many ratings each load user had committed: what
 * the sync then makes durable. */
#define LOAD_THREADS 4
#define LOAD_UPDATES 25
#define LOAD_USER 500

static struct probe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool gate_closed;
    int in_sync;                       /* syncs waiting at the gate */
    store_t *reader;                   /* counts committed ratings */
    uint32_t durable[LOAD_THREADS];    /* ratings of LOAD_USER + t known durable */
} probe = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static uint32_t committed_ratings(store_t *r, uint32_t user)
{
    user_rating_t rows[LOAD_UPDATES];
    size_t n = 0;
    uint32_t total = 0;
    if (store_read_begin(r) < 0 ||
        store_user_ratings(r, user, 0, LOAD_UPDATES, rows, &n, &total) < 0)
        total = 0;
    store_read_end(r);
    return total;
}

static int probe_sync(store_t *store, void *arg)
{
    struct probe *p = arg;
    uint32_t seen[LOAD_THREADS] = {0};
    char err[256];
    pthread_mutex_lock(&p->mu);
    if (!p->reader)
        p->reader = store_reader_open(store, err, sizeof err);
    for (int t = 0; t < LOAD_THREADS && p->reader; t++)
        seen[t] = committed_ratings(p->reader, LOAD_USER + (uint32_t)t);
    p->in_sync++;
    pthread_cond_broadcast(&p->cv);
    while (p->gate_closed)
        pthread_cond_wait(&p->cv, &p->mu);
    p->in_sync--;
    pthread_mutex_unlock(&p->mu);
    usleep(2000); /* a slow disk: commits pile up meanwhile */
    int rc = store_sync(store);
    pthread_mutex_lock(&p->mu);
    for (int t = 0; t < LOAD_THREADS; t++)
        if (seen[t] > p->durable[t])
            p->durable[t] = seen[t];
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static int setup_file(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_state.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/r0.db", tmpdir);
    memset(probe.durable, 0, sizeof probe.durable);
    probe.gate_closed = false;
    probe.reader = NULL;
    struct state_config cfg = {.id = 0, .n = 1, .db_path = path, .overload = 100000,
                               .seed = 7, .sync_hook = probe_sync, .sync_arg = &probe};
    if (!(reps[0] = state_open(&cfg, err, sizeof err)))
        fail_msg("state_open: %s", err);
    return 0;
}

static int teardown_file(void **st)
{
    (void)st;
    store_close(probe.reader);
    probe.reader = NULL;
    state_close(reps[0]);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A Q_RATING query at replica 0: status, halves and the reply's ts. */
static rt_status query_rating(uint32_t user, uint32_t movie, uint32_t *halves, vts_t *ts)
{
    rt_query_args a;
    rt_query_res res;
    memset(&a, 0, sizeof a);
    memset(&res, 0, sizeof res);
    a.q.kind = Q_RATING;
    a.q.rt_query_u.key.user = user;
    a.q.rt_query_u.key.movie = movie;
    state_query(reps[0], &a, &res);
    rt_status st = res.status;
    if (st == RT_OK)
        *halves = res.result.rt_answer_opt_u.answer.rt_answer_u.halves;
    if (vts_from_xdr(ts, &res.ts) != RT_OK)
        st = RT_INTERNAL;
    xdr_free((xdrproc_t)xdr_rt_query_res, (char *)&res);
    return st;
}

/* Update i of the writer below sets user 7's rating to halves_at(i+1):
 * with one replica, value_ts[0] counts the updates, so the value a reply
 * may carry with ts[0] = j is exactly halves_at(j). */
static uint32_t halves_at(uint64_t j) { return 1 + (uint32_t)((j - 1) % 10); }

static uint32_t shared_m;
static volatile int writer_done;

static void *writer_main(void *arg)
{
    vts_t prev;
    vts_zero(&prev, 0);
    for (uint64_t i = 1; i <= 200; i++) {
        struct upd u = send_update(0, false, op_rate(7, shared_m, halves_at(i + 1)), &prev,
                                   100 + i);
        if (u.status != RT_OK)
            (*(int *)arg)++;
    }
    writer_done = 1;
    return NULL;
}

static void *reader_main(void *arg)
{
    int *bad = arg;
    while (!writer_done) {
        uint32_t h = 0;
        vts_t ts;
        if (query_rating(7, shared_m, &h, &ts) != RT_OK || ts.t[0] == 0 || h != halves_at(ts.t[0]))
            (*bad)++;
    }
    return NULL;
}

/* Queries run without the lock while updates commit: every answer is the
 * value of exactly the timestamp it carries. */
static void test_query_value_matches_its_timestamp(void **st)
{
    (void)st;
    vts_t prev;
    vts_zero(&prev, 0);
    struct upd u = send_update(0, true, op_movie("Moving", 7, halves_at(1)), &prev, 1);
    assert_int_equal(u.status, RT_OK);
    shared_m = u.movie;
    writer_done = 0;
    int wbad = 0, rbad[2] = {0, 0};
    pthread_t w, r[2];
    pthread_create(&w, NULL, writer_main, &wbad);
    for (int i = 0; i < 2; i++)
        pthread_create(&r[i], NULL, reader_main, &rbad[i]);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    assert_int_equal(wbad, 0);
    assert_int_equal(rbad[0] + rbad[1], 0);
    uint32_t h = 0;
    vts_t ts;
    assert_int_equal(query_rating(7, shared_m, &h, &ts), RT_OK);
    assert_int_equal(ts.t[0], 201);
    assert_int_equal(h, halves_at(201));
    /* the queries ran on readers, not on the writer */
    struct state_probe pr;
    state_probe(reps[0], &pr);
    assert_true(pr.nreaders >= 1);
}

struct loader {
    uint32_t t;
    uint32_t movies[LOAD_UPDATES];
    int early;      /* replies that came before a sync covering them */
    int failed;
};

static void *loader_main(void *arg)
{
    struct loader *l = arg;
    vts_t prev;
    vts_zero(&prev, 0);
    for (uint32_t i = 0; i < LOAD_UPDATES; i++) {
        struct upd u = send_update(0, true, op_rate(LOAD_USER + l->t, l->movies[i], 5), &prev,
                                   ((uint64_t)l->t + 1) << 32 | (i + 1));
        if (u.status != RT_OK) {
            l->failed++;
            continue;
        }
        pthread_mutex_lock(&probe.mu);
        if (probe.durable[l->t] < i + 1)
            l->early++;
        pthread_mutex_unlock(&probe.mu);
    }
    return NULL;
}

/* Updates from several threads: none is answered before a sync that began
 * after it was committed, and syncs are shared (fewer syncs than updates). */
static void test_group_commit_replies_after_its_sync(void **st)
{
    (void)st;
    struct loader l[LOAD_THREADS];
    vts_t prev;
    vts_zero(&prev, 0);
    memset(l, 0, sizeof l);
    for (uint32_t i = 0; i < LOAD_UPDATES; i++) {
        char title[32];
        snprintf(title, sizeof title, "Film %u", i);
        struct upd u = send_update(0, true, op_movie(title, 1, 6), &prev, 1 + i);
        assert_int_equal(u.status, RT_OK);
        for (int t = 0; t < LOAD_THREADS; t++)
            l[t].movies[i] = u.movie;
    }
    struct state_probe pr;
    state_probe(reps[0], &pr);
    uint64_t syncs_before = pr.syncs;
    pthread_t th[LOAD_THREADS];
    for (int t = 0; t < LOAD_THREADS; t++) {
        l[t].t = (uint32_t)t;
        pthread_create(&th[t], NULL, loader_main, &l[t]);
    }
    for (int t = 0; t < LOAD_THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < LOAD_THREADS; t++) {
        assert_int_equal(l[t].failed, 0);
        assert_int_equal(l[t].early, 0);
        assert_int_equal(probe.durable[t], LOAD_UPDATES);
    }
    state_probe(reps[0], &pr);
    uint64_t syncs = pr.syncs - syncs_before;
    assert_true(syncs >= 1);
    assert_true(syncs < LOAD_THREADS * LOAD_UPDATES);
}

struct waiting_call {
    uint32_t movie;
    rt_status status;
    uint32_t halves;
    volatile int done;
};

static void *submit_main(void *arg)
{
    struct waiting_call *c = arg;
    vts_t prev;
    vts_zero(&prev, 0);
    c->status = send_update(0, true, op_rate(42, c->movie, 9), &prev, 77).status;
    c->done = 1;
    return NULL;
}

static void *query_main(void *arg)
{
    struct waiting_call *c = arg;
    vts_t ts;
    c->status = query_rating(42, c->movie, &c->halves, &ts);
    c->done = 1;
    return NULL;
}

/* A commit waiting for its sync is visible to readers, but a query that
 * read it is not answered before the sync either. */
static void test_query_waits_for_the_sync_of_what_it_read(void **st)
{
    (void)st;
    vts_t prev;
    vts_zero(&prev, 0);
    struct upd m = send_update(0, true, op_movie("Slow disk", 1, 6), &prev, 1);
    assert_int_equal(m.status, RT_OK);
    struct waiting_call upd = {m.movie, RT_INTERNAL, 0, 0}, q = {m.movie, RT_INTERNAL, 0, 0};
    pthread_mutex_lock(&probe.mu);
    probe.gate_closed = true;
    pthread_mutex_unlock(&probe.mu);
    struct state_probe pr;
    state_probe(reps[0], &pr);
    uint64_t before = pr.committed;
    pthread_t tu, tq;
    pthread_create(&tu, NULL, submit_main, &upd);
    /* until the update is committed and its sync waits at the gate */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int waited = 0;
    pthread_mutex_lock(&probe.mu);
    while (waited == 0 &&
           (probe.in_sync == 0 || (state_probe(reps[0], &pr), pr.committed) == before))
        waited = pthread_cond_timedwait(&probe.cv, &probe.mu, &until);
    pthread_mutex_unlock(&probe.mu);
    pthread_create(&tq, NULL, query_main, &q);
    usleep(100 * 1000);
    int upd_early = upd.done, q_early = q.done;
    pthread_mutex_lock(&probe.mu);
    probe.gate_closed = false;
    pthread_cond_broadcast(&probe.cv);
    pthread_mutex_unlock(&probe.mu);
    pthread_join(tu, NULL);
    pthread_join(tq, NULL);
    assert_int_equal(waited, 0); /* the update's sync came to the gate */
    assert_false(upd_early);
    assert_false(q_early);
    assert_int_equal(upd.status, RT_OK);
    /* the query saw the commit (or ran before it: then not found) */
    assert_true((q.status == RT_OK && q.halves == 9) || q.status == RT_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_writes_converge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_write_wins_over_earlier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_converges_and_stays_deleted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retry_applied_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_new_movie_merged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_copy_does_not_undo_a_later_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stale_stamp_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_id_and_stamp_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovering_refuses_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wiped_replica_takes_back_its_updates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_query_never_older_than_prev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overload_and_offline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gossip_from_stranger_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_value_matches_its_timestamp, setup_file,
                                        teardown_file),
        cmocka_unit_test_setup_teardown(test_group_commit_replies_after_its_sync, setup_file,
                                        teardown_file),
        cmocka_unit_test_setup_teardown(test_query_waits_for_the_sync_of_what_it_read,
                                        setup_file, teardown_file),
    };
    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
