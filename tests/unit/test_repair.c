/*
 * test_repair.c -- anti-entropy repair: the digest tree on its own
 * (server/merkle.c), the tree as the store keeps it with the rows
 * (server/store_repair.c: against a recomputation, through a rollback),
 * and rounds between two real replicas (server/repair.c over
 * server/state.c and SQLite files), the peer's half called in process
 * with every message encoded and decoded as XDR on the way, as the wire
 * would.  Divergence is made as an operator would make it: the replica
 * stopped, rows changed with SQL, the digests marked stale, the replica
 * started again (it recomputes them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "digest.h"
#include "merkle.h"
#include "repair.h"
#include "state.h"

static char tmpdir[64];
static char data_dir[128];
static state_t *reps[2];
static bool open_now[2];

/* ---- the tree on its own --------------------------------------------------- */

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Every node is the sum of its children, the root the sum of all, in any
 * order of additions and subtractions. */
static void test_tree_sums(void **st)
{
    (void)st;
    static merkle_t a, b;
    merkle_clear(&a);
    merkle_clear(&b);
    uint64_t x = 88172645463325252ULL, total = 0;
    uint64_t add[500];
    uint32_t where[500];
    for (int i = 0; i < 500; i++) {
        add[i] = rnd(&x);
        where[i] = merkle_bucket((uint32_t)rnd(&x));
        assert_true(where[i] < MERKLE_BUCKETS);
        merkle_add(&a, where[i], add[i]);
        total += add[i];
    }
    for (int i = 499; i >= 0; i--)
        merkle_add(&b, where[i], add[i]);
    assert_true(merkle_root(&a) == total);
    assert_memory_equal(&a, &b, sizeof a);
    for (uint32_t level = 0; level < MERKLE_LEVELS; level++) {
        uint64_t sum_level = 0, kids[MERKLE_FANOUT];
        for (uint32_t i = 0; i < merkle_level_size(level); i++) {
            assert_int_equal(merkle_children(&a, level, i, kids), 0);
            uint64_t sum = 0;
            for (int k = 0; k < MERKLE_FANOUT; k++)
                sum += kids[k];
            sum_level += sum;
            uint32_t first, count;
            merkle_span(level, i, &first, &count);
            assert_int_equal(count, MERKLE_BUCKETS / merkle_level_size(level));
            assert_int_equal(first, i * count);
        }
        assert_true(sum_level == total);
    }
    uint64_t kids[MERKLE_FANOUT];
    assert_int_equal(merkle_children(&a, MERKLE_LEVELS, 0, kids), -1);
    assert_int_equal(merkle_children(&a, 1, MERKLE_FANOUT, kids), -1);
    for (int i = 0; i < 500; i++)
        merkle_add(&a, where[i], (uint64_t)0 - add[i]);
    assert_true(merkle_root(&a) == 0);
    static merkle_t zero;
    assert_memory_equal(&a, &zero, sizeof a);
}

/* Owners spread over the buckets, parts over a split. */
static void test_bucket_and_part_spread(void **st)
{
    (void)st;
    static uint32_t per_bucket[MERKLE_BUCKETS];
    uint32_t per_part[64] = {0};
    for (uint32_t u = 0; u < 40960; u++) {
        per_bucket[merkle_bucket(u)]++;
        per_part[merkle_part(u, 64)]++;
    }
    for (uint32_t b = 0; b < MERKLE_BUCKETS; b++)
        assert_in_range(per_bucket[b], 1, 30); /* 10 on average */
    for (int p = 0; p < 64; p++)
        assert_in_range(per_part[p], 500, 800); /* 640 on average */
    assert_int_equal(merkle_part(12345, 1), 0);
}

static void test_nparts(void **st)
{
    (void)st;
    assert_int_equal(merkle_nparts(0), 1);
    assert_int_equal(merkle_nparts(8), 1);
    uint32_t last = 1;
    for (uint64_t rows = 9; rows < 5000000; rows = rows * 3 / 2) {
        uint32_t n = merkle_nparts(rows);
        assert_true(merkle_nparts_ok(n));
        assert_true(n >= last); /* more rows, no fewer parts */
        assert_true(n == MERKLE_MAX_PARTS || (uint64_t)n * n >= 4 * rows);
        last = n;
    }
    assert_int_equal(last, MERKLE_MAX_PARTS);
    assert_false(merkle_nparts_ok(0));
    assert_false(merkle_nparts_ok(3));
    assert_false(merkle_nparts_ok(2048));
}

static void test_diffs(void **st)
{
    (void)st;
    uint64_t a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 9, 3, 4, 0};
    uint32_t out[5];
    assert_int_equal(merkle_diff(a, b, 5, out), 2);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 4);
    merkle_owner_t mine[4] = {{1, 5, 3, 50}, {1, 9, 2, 90}, {7, 2, 1, 20}, {8, 4, 1, 40}};
    merkle_owner_t theirs[4] = {{1, 5, 3, 50}, {1, 9, 2, 91}, {7, 3, 6, 30}, {8, 4, 2, 40}};
    merkle_owner_diff_t d[8];
    assert_int_equal(merkle_owners_diff(mine, 4, theirs, 4, d), 4);
    assert_int_equal(d[0].owner, 9); /* digest differs */
    assert_int_equal(d[1].owner, 2); /* ours only */
    assert_int_equal(d[1].theirs, 0);
    assert_int_equal(d[2].owner, 3); /* theirs only */
    assert_int_equal(d[2].mine, 0);
    assert_int_equal(d[2].theirs, 6);
    assert_int_equal(d[3].owner, 4); /* same digest, other count */
    assert_int_equal(merkle_owners_diff(mine, 4, mine, 4, d), 0);
    assert_int_equal(merkle_owners_diff(NULL, 0, theirs, 2, d), 2);
}

static int count_change(void *arg, const merkle_change_t *c)
{
    uint64_t *sum = arg;
    sum[0]++;
    sum[1] += c->digest;
    sum[2] += (uint64_t)c->rows;
    return 0;
}

/* A transaction's changes: grown past many owners, summed per owner,
 * taken back out of the tree. */
static void test_delta(void **st)
{
    (void)st;
    static merkle_t t;
    merkle_clear(&t);
    merkle_delta_t d = {0};
    uint64_t total = 0;
    for (uint32_t i = 0; i < 20000; i++) {
        uint32_t owner = i % 7000;
        assert_int_equal(merkle_delta_add(&d, owner, 1, i), 0);
        merkle_add(&t, merkle_bucket(owner), i);
        total += i;
    }
    uint64_t sum[3] = {0, 0, 0};
    assert_int_equal(merkle_delta_each(&d, count_change, sum), 0);
    assert_int_equal(sum[0], 7000);
    assert_true(sum[1] == total);
    assert_int_equal(sum[2], 20000);
    merkle_delta_undo(&d, &t);
    assert_true(merkle_root(&t) == 0);
    merkle_delta_clear(&d);
    memset(sum, 0, sizeof sum);
    merkle_delta_each(&d, count_change, sum);
    assert_int_equal(sum[0], 0);
    assert_int_equal(merkle_delta_add(&d, 0, -1, 5), 0); /* owner 0: the movies */
    merkle_delta_each(&d, count_change, sum);
    assert_int_equal(sum[0], 1);
    merkle_delta_free(&d);
}

/* ---- replicas on files ------------------------------------------------------- */

static const char *db_path(uint32_t k)
{
    static char p[2][160];
    snprintf(p[k], sizeof p[k], "%s/r%u.db", tmpdir, k);
    return p[k];
}

static void open_rep(uint32_t k)
{
    struct state_config cfg = {.id = k, .n = 2, .db_path = db_path(k), .no_sync = true,
                               .overload = 100000, .seed = 7};
    char err[256];
    reps[k] = state_open(&cfg, err, sizeof err);
    if (!reps[k])
        fail_msg("state_open: %s", err);
    open_now[k] = true;
}

/* Replica k hears the other's STATUS, as at start (recovery.h: a replica
 * without a data-directory mark numbers no update before). */
static void hear_peer(uint32_t k)
{
    rt_status_res r;
    memset(&r, 0, sizeof r);
    state_status(reps[1 - k], &r);
    vts_t ts;
    assert_int_equal(vts_from_xdr(&ts, &r.replica_ts), RT_OK);
    state_heard_status(reps[k], 1 - k, &ts, true);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&r);
}

static void close_rep(uint32_t k)
{
    if (open_now[k])
        state_close(reps[k]);
    open_now[k] = false;
}

/* A data set with owners of every size: 40 users with 60 ratings, one
 * with all 150 movies, six with 3 (rows exchanged without a split). */
static void write_data(void)
{
    char p[200];
    snprintf(data_dir, sizeof data_dir, "%s/data", tmpdir);
    assert_int_equal(mkdir(data_dir, 0755), 0);
    snprintf(p, sizeof p, "%s/movies.csv", data_dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "movieId,title,genres\r\n");
    for (int m = 1; m <= 150; m++)
        fprintf(f, "%d,Film %d (2001),Drama|Comedy\r\n", m, m);
    fclose(f);
    snprintf(p, sizeof p, "%s/ratings.csv", data_dir);
    f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "userId,movieId,rating,timestamp\r\n");
    for (int u = 1; u <= 40; u++)
        for (int j = 0; j < 60; j++)
            fprintf(f, "%d,%d,%d.%d,%d\r\n", u, (u * 7 + j) % 150 + 1, (1 + (u + j) % 10) / 2,
                    (1 + (u + j) % 10) % 2 ? 5 : 0, 1500000000 + j);
    for (int m = 1; m <= 150; m++)
        fprintf(f, "41,%d,3.0,1500000000\r\n", m);
    for (int u = 50; u < 56; u++)
        for (int j = 0; j < 3; j++)
            fprintf(f, "%d,%d,4.5,1500000000\r\n", u, j + 10);
    fclose(f);
}

static int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_repair.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    write_data();
    char err[256];
    for (uint32_t k = 0; k < 2; k++) {
        open_rep(k);
        if (state_import(reps[k], data_dir, false, err, sizeof err) != 0)
            fail_msg("import: %s", err);
    }
    hear_peer(0);
    hear_peer(1);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    close_rep(0);
    close_rep(1);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* SQL on replica k's file while it is stopped, as an operator with the
 * sqlite3 tool; with stale, the digests are marked to be recomputed.
 * Returns the rows the SQL changed. */
static int edit(uint32_t k, const char *sql, bool stale)
{
    close_rep(k);
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(db_path(k), &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    int changed = sqlite3_total_changes(db);
    if (stale)
        assert_int_equal(sqlite3_exec(db, "DELETE FROM meta WHERE key = 'digests'", NULL, NULL,
                                      NULL),
                         SQLITE_OK);
    sqlite3_close(db);
    open_rep(k);
    hear_peer(k);
    return changed;
}

/* Every row of the value, derived counts included, as one string. */
static char *dump(uint32_t k)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(db_path(k), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    const char *q[2] = {"SELECT user, movie, halves, stamp, uid_origin, uid_seq FROM ratings "
                        "ORDER BY user, movie",
                        "SELECT movie, title, genres, nratings, sum_halves, alias_of FROM movies "
                        "ORDER BY movie"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sqlite3_prepare_v2(db, q[i], -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < 6; c++) {
                const char *t = (const char *)sqlite3_column_text(st, c);
                size_t n = strlen(t ? t : "");
                if (len + n + 2 >= cap) {
                    cap *= 2;
                    out = realloc(out, cap);
                    assert_non_null(out);
                }
                memcpy(out + len, t ? t : "", n);
                len += n;
                out[len++] = c == 5 ? '\n' : ',';
                out[len] = '\0';
            }
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
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
    rt_status_res r = status_of(k);
    uint64_t d = r.digest;
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&r);
    return d;
}

/* The row of (user, movie) at replica k: halves and stamp, or -1. */
static int64_t halves_of(uint32_t k, uint32_t user, uint32_t movie, uint64_t *stamp)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db_path(k), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT halves, stamp FROM ratings WHERE user = ?1 "
                                            "AND movie = ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, (int)user);
    sqlite3_bind_int(st, 2, (int)movie);
    int64_t h = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        h = sqlite3_column_int64(st, 0);
        if (stamp)
            *stamp = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return h;
}

/* Movie m at replica k: its title into buf and its count of ratings, or
 * -1 if it has no such movie. */
static int64_t movie_of(uint32_t k, uint32_t movie, char *buf, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db_path(k), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT title, nratings FROM movies WHERE movie = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, (int)movie);
    int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        n = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ---- the peer, in process, through XDR --------------------------------------- */

/* Encode v with proc and decode it into out (zeroed first): what the wire
 * does to a message, bounds included.  -1 if it does not encode. */
static int through_xdr(xdrproc_t proc, void *v, void *out, size_t size)
{
    u_int len = (u_int)xdr_sizeof(proc, v);
    char *buf = malloc(len ? len : 1);
    XDR x;
    xdrmem_create(&x, buf, len, XDR_ENCODE);
    bool_t ok = proc(&x, v, 0);
    xdr_destroy(&x);
    memset(out, 0, size);
    if (ok) {
        xdrmem_create(&x, buf, len, XDR_DECODE);
        ok = proc(&x, out, 0);
        xdr_destroy(&x);
    }
    free(buf);
    return ok ? 0 : -1;
}

struct wire {
    uint32_t peer;
    uint64_t calls;
    rt_repair_step last; /* the step of the last call */
};

static int call_peer(void *ctx, rt_repair_args *args, rt_repair_res *res)
{
    struct wire *w = ctx;
    rt_repair_args in;
    rt_repair_res out;
    memset(&out, 0, sizeof out);
    w->calls++;
    w->last = args->ask.step;
    if (through_xdr((xdrproc_t)xdr_rt_repair_args, args, &in, sizeof in) < 0)
        fail_msg("a REPAIR call that does not encode (step %d)", args->ask.step);
    repair_serve(reps[w->peer], &in, &out);
    int rc = through_xdr((xdrproc_t)xdr_rt_repair_res, &out, res, sizeof *res);
    if (rc < 0)
        fail_msg("a REPAIR answer that does not encode (step %d)", out.answer.step);
    xdr_free((xdrproc_t)xdr_rt_repair_args, (char *)&in);
    xdr_free((xdrproc_t)xdr_rt_repair_res, (char *)&out);
    return rc;
}

static enum repair_outcome round_with(uint32_t k, uint32_t peer, struct repair_stats *st)
{
    struct wire w = {peer, 0, 0};
    return repair_round(reps[k], peer, call_peer, &w, st);
}

/* ---- the tree with the rows ---------------------------------------------------- */

static store_t *store_on(const char *path)
{
    char err[256];
    store_t *s = store_open(path, 0, 2, STORE_SYNC_OFF, err, sizeof err);
    if (!s)
        fail_msg("store_open: %s", err);
    return s;
}

/* Mark a closed store's digests stale, as an operator after a hand edit. */
static void mark_stale(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM meta WHERE key = 'digests'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

/* The tree the store keeps row by row equals a recomputation from the
 * tables (the same file reopened with its digests marked stale), node by
 * node, and a rolled-back transaction leaves it as it was. */
static void test_tree_follows_the_rows(void **st)
{
    (void)st;
    char path[200], err[256];
    snprintf(path, sizeof path, "%s/store.db", tmpdir);
    store_t *s = store_on(path);
    assert_true(merkle_root(store_repair_tree(s)) == 0);
    assert_int_equal(store_import_movielens(s, data_dir, false, err, sizeof err), 0);
    store_counts_t c;
    store_counts(s, &c);
    uint64_t start = c.digest;
    assert_true(start == merkle_root(store_repair_tree(s)) && start != 0);
    /* updates: rate, change, delete, a new movie, the same movie again
     * under another id (an alias) */
    urec_t r;
    memset(&r, 0, sizeof r);
    vts_zero(&r.ts, 2);
    vts_zero(&r.prev, 2);
    const struct { rt_op_kind kind; uint32_t user, movie, halves; uint64_t seq; } w[] = {
        {OP_RATE, 1, 149, 7, 1}, {OP_RATE, 41, 1, 2, 2}, {OP_DELETE, 2, 16, 0, 3},
        {OP_RATE, 99, 3, 9, 4}, {OP_ADD_MOVIE, 5, RT_NEW_MOVIE_BASE + 32, 8, 5},
        {OP_ADD_MOVIE, 5, RT_NEW_MOVIE_BASE + 65, 8, 5}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        r.origin = (uint32_t)(i == 5);
        vts_zero(&r.ts, 2);
        r.ts.t[r.origin] = i + 1;
        r.uid = (upd_id_t){77, w[i].seq};
        r.stamp = 1600000000000ULL + i;
        r.op = (op_t){.kind = w[i].kind, .user = w[i].user, .movie = w[i].movie,
                      .halves = w[i].halves};
        snprintf(r.op.title, sizeof r.op.title, "New (2020)");
        snprintf(r.op.genres, sizeof r.op.genres, "Drama");
        assert_int_equal(store_begin(s), 0);
        if (store_apply(s, &r) != 0)
            fail_msg("store_apply: %s", store_errmsg(s));
        assert_int_equal(store_commit(s), 0);
    }
    merkle_t before = *store_repair_tree(s);
    assert_true(merkle_root(&before) != start);
    /* a rollback: the tree and the digest come back */
    assert_int_equal(store_begin(s), 0);
    r.op = (op_t){.kind = OP_RATE, .user = 3, .movie = 22, .halves = 1};
    r.uid.seq = 100;
    assert_int_equal(store_apply(s, &r), 0);
    assert_true(merkle_root(store_repair_tree(s)) != merkle_root(&before));
    store_rollback(s);
    store_counts(s, &c);
    assert_true(c.digest == merkle_root(&before));
    assert_memory_equal(store_repair_tree(s), &before, sizeof before);
    store_close(s);
    /* as loaded from its table at an ordinary open */
    s = store_on(path);
    assert_memory_equal(store_repair_tree(s), &before, sizeof before);
    store_close(s);
    /* recomputed from the rows */
    mark_stale(path);
    s = store_on(path);
    assert_memory_equal(store_repair_tree(s), &before, sizeof before);
    store_counts(s, &c);
    assert_true(c.digest == merkle_root(&before));
    store_close(s);
}

/* ---- rounds ------------------------------------------------------------------------- */

/* Nothing differs: one call and its answer, a few bytes. */
static void test_equal_round_is_one_small_call(void **st)
{
    (void)st;
    struct repair_stats s;
    assert_int_equal(round_with(0, 1, &s), REPAIR_EQUAL);
    assert_int_equal(s.calls, 1);
    assert_in_range(s.bytes, 1, 100);
}

/* Divergence of every kind on both sides, at equal value timestamps: one
 * round finds and merges it all by last writer wins, movies and their
 * counts included; the next finds nothing. */
static void test_round_repairs_every_kind(void **st)
{
    (void)st;
    uint64_t stamp0, stamp1;
    assert_int_equal(halves_of(0, 3, 22, &stamp0), halves_of(1, 3, 22, &stamp1));
    /* replica 0: newer values, a lost row, a row only here, a new movie
     * title, a tombstone, and a change in the owner with 150 rows */
    edit(0,
         "UPDATE ratings SET halves = 1, stamp = stamp + 1000 WHERE user = 3 AND movie = 22;"
         "DELETE FROM ratings WHERE user = 5 AND movie = 36;"
         "INSERT INTO ratings VALUES (7, 999, 4, 5, 0, 0);"
         "UPDATE movies SET title = 'Zzz (2001)' WHERE movie = 2;"
         "UPDATE ratings SET halves = 0, stamp = stamp + 2000 WHERE user = 10 AND movie = 71;"
         "UPDATE ratings SET halves = 9, stamp = stamp + 1 WHERE user = 41 AND movie = 77;"
         "UPDATE ratings SET halves = 2, stamp = stamp + 1 WHERE user = 52 AND movie = 11;",
         true);
    /* replica 1: an older change of the same key, its own newer ones, the
     * same stamp and uid with other halves (damage: the higher wins), a
     * lost movie (with its ratings still here), a lost user */
    int64_t h12 = halves_of(1, 12, 90, NULL);
    assert_in_range(h12, 1, 9);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE ratings SET halves = 8, stamp = stamp + 500 WHERE user = 3 AND movie = 22;"
             "UPDATE ratings SET halves = 9, stamp = stamp + 5000 WHERE user = 4 AND movie = 29;"
             "UPDATE ratings SET halves = %lld WHERE user = 12 AND movie = 90;"
             "DELETE FROM movies WHERE movie = 5;"
             "DELETE FROM ratings WHERE user = 53;",
             (long long)h12 + 1);
    edit(1, sql, true);
    assert_true(digest_of(0) != digest_of(1));
    struct repair_stats s;
    assert_int_equal(round_with(0, 1, &s), REPAIR_DONE);
    assert_true(digest_of(0) == digest_of(1));
    char *a = dump(0), *b = dump(1);
    assert_string_equal(a, b); /* every row, and every movie's counts */
    free(a);
    free(b);
    assert_int_equal(halves_of(1, 3, 22, NULL), 1);  /* 0's later write */
    assert_int_equal(halves_of(0, 4, 29, NULL), 9);  /* 1's */
    assert_int_equal(halves_of(0, 5, 36, NULL), halves_of(1, 5, 36, NULL));
    assert_true(halves_of(0, 5, 36, NULL) > 0);      /* lost at 0, back */
    assert_int_equal(halves_of(1, 7, 999, NULL), 4); /* only at 0 */
    assert_int_equal(halves_of(1, 10, 71, NULL), 0); /* the tombstone won */
    assert_int_equal(halves_of(0, 12, 90, NULL), h12 + 1);
    assert_int_equal(halves_of(1, 53, 10, NULL), 9); /* the lost user */
    char title[64];
    assert_true(movie_of(1, 2, title, sizeof title) >= 0);
    assert_string_equal(title, "Zzz (2001)");
    assert_true(movie_of(1, 5, title, sizeof title) > 0); /* the lost movie, with its count */
    assert_int_equal(s.owners, 10); /* users 3, 4, 5, 7, 10, 12, 41, 52, 53 and the movies */
    assert_true(s.taken > 0 && s.sent > 0);
    /* nothing left */
    assert_int_equal(round_with(1, 0, &s), REPAIR_EQUAL);
    assert_int_equal(round_with(0, 1, &s), REPAIR_EQUAL);
}

/* Replica 1 applied an update replica 0 has not: their values may differ
 * by an update in flight, not by divergence, so nothing is compared or
 * merged (gossip brings it); and a diverged key waits for equal value
 * timestamps. */
static void test_only_at_equal_value_timestamps(void **st)
{
    (void)st;
    edit(0, "UPDATE ratings SET halves = 1, stamp = stamp + 1000 WHERE user = 3 AND movie = 22",
         true);
    rt_update_args a;
    rt_update_res res;
    memset(&a, 0, sizeof a);
    memset(&res, 0, sizeof res);
    a.uid.origin = 5;
    a.uid.seq = 1;
    a.stamp = 1700000000000ULL; /* a front end's, with its uid */
    a.op.kind = OP_RATE;
    a.op.rt_op_u.rate = (rt_rate){9, 1, 10};
    state_update(reps[1], &a, true, &res);
    assert_int_equal(res.status, RT_OK);
    xdr_free((xdrproc_t)xdr_rt_update_res, (char *)&res);
    uint64_t d0 = digest_of(0), d1 = digest_of(1);
    struct repair_stats s;
    assert_int_equal(round_with(0, 1, &s), REPAIR_MOVED);
    assert_int_equal(s.calls, 1);
    assert_int_equal(round_with(1, 0, &s), REPAIR_MOVED);
    assert_true(digest_of(0) == d0 && digest_of(1) == d1);
    assert_int_equal(halves_of(1, 3, 22, NULL) == 1, 0);
    /* gossip both ways: the same value timestamp, then repair */
    for (int i = 0; i < 2; i++) {
        rt_gossip_args g;
        rt_gossip_res gr;
        memset(&gr, 0, sizeof gr);
        assert_int_equal(state_gossip_out(reps[1], 0, &g), 0);
        state_gossip_in(reps[0], &g, &gr);
        assert_int_equal(state_gossip_reply(reps[1], 0, &gr), 0);
        xdr_free((xdrproc_t)xdr_rt_gossip_args, (char *)&g);
        xdr_free((xdrproc_t)xdr_rt_gossip_res, (char *)&gr);
    }
    assert_int_equal(halves_of(0, 9, 1, NULL), 10);
    assert_int_equal(round_with(1, 0, &s), REPAIR_DONE);
    assert_int_equal(halves_of(1, 3, 22, NULL), 1);
    assert_true(digest_of(0) == digest_of(1));
}

/* Hundreds of keys among thousands: far fewer bytes than the rows. */
static void test_many_keys(void **st)
{
    (void)st;
    int differing = edit(0, "UPDATE ratings SET halves = 10 - halves + (halves = 5), "
                            "stamp = stamp + 7 WHERE (user * 31 + movie) % 10 = 0",
                         true);
    assert_in_range(differing, 150, 400);
    struct repair_stats s;
    assert_int_equal(round_with(1, 0, &s), REPAIR_DONE);
    assert_true(digest_of(0) == digest_of(1));
    assert_int_equal(s.taken, differing);
    char *a = dump(0), *b = dump(1);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* 2,568 ratings of about 36 bytes each: all of them, one way, are
     * 92 kB; with one key in ten changed, most parts of every user differ */
    assert_in_range(s.bytes, 1000, 92000);
}

static rt_status serve_status(uint32_t from, uint64_t *ts, rt_repair_ask ask)
{
    rt_repair_args a = {.from = from, .value_ts = {2, ts}, .ask = ask};
    rt_repair_res res;
    memset(&res, 0, sizeof res);
    repair_serve(reps[0], &a, &res);
    rt_status st = res.status;
    if (st != RT_OK) { /* nothing but the status and the callee's timestamp */
        assert_int_equal(res.value_ts.rt_vts_len, 2);
        if (res.answer.step == REPAIR_ROOT)
            assert_int_equal(res.answer.rt_repair_answer_u.root, 0);
    }
    xdr_free((xdrproc_t)xdr_rt_repair_res, (char *)&res);
    return st;
}

static rt_repair_ask keys_ask(rt_repair_part *p, rt_repair_key *k, u_int nk)
{
    rt_repair_ask q = {.step = REPAIR_KEYS};
    q.rt_repair_ask_u.keys.parts.parts_len = 1;
    q.rt_repair_ask_u.keys.parts.parts_val = p;
    q.rt_repair_ask_u.keys.keys.keys_len = nk;
    q.rt_repair_ask_u.keys.keys.keys_val = k;
    return q;
}

static rt_repair_ask push_ask(rt_snap_rating *r, u_int nr, rt_repair_movie *m, u_int nm)
{
    rt_repair_ask q = {.step = REPAIR_PUSH};
    q.rt_repair_ask_u.rows.ratings.ratings_len = nr;
    q.rt_repair_ask_u.rows.ratings.ratings_val = r;
    q.rt_repair_ask_u.rows.movies.movies_len = nm;
    q.rt_repair_ask_u.rows.movies.movies_val = m;
    return q;
}

/* The callee checks every call before it takes the lock, and changes
 * nothing for one it refuses. */
static void test_serve_refuses(void **st)
{
    (void)st;
    uint64_t ts[2] = {0, 0};
    uint64_t before = digest_of(0);
    rt_repair_ask root = {.step = REPAIR_ROOT};
    assert_int_equal(serve_status(0, ts, root), RT_DENIED); /* from itself */
    assert_int_equal(serve_status(7, ts, root), RT_DENIED); /* from no replica */
    assert_int_equal(serve_status(1, ts, root), RT_OK);
    rt_repair_ask bad = {.step = (rt_repair_step)9};
    assert_int_equal(serve_status(1, ts, bad), RT_INVALID);
    /* nodes: below the buckets, past their level */
    u_int nodes[2] = {3, 1};
    rt_repair_ask q = {.step = REPAIR_NODES};
    q.rt_repair_ask_u.nodes.level = MERKLE_LEVELS;
    assert_int_equal(serve_status(1, ts, q), RT_INVALID);
    q.rt_repair_ask_u.nodes.level = 1;
    q.rt_repair_ask_u.nodes.nodes.nodes_len = 1;
    q.rt_repair_ask_u.nodes.nodes.nodes_val = nodes;
    assert_int_equal(serve_status(1, ts, q), RT_OK);
    nodes[0] = MERKLE_FANOUT;
    assert_int_equal(serve_status(1, ts, q), RT_INVALID);
    /* buckets out of order, or past the last */
    rt_repair_ask u = {.step = REPAIR_USERS};
    u.rt_repair_ask_u.users.buckets.buckets_len = 2;
    u.rt_repair_ask_u.users.buckets.buckets_val = nodes;
    nodes[0] = 3;
    assert_int_equal(serve_status(1, ts, u), RT_INVALID);
    nodes[1] = MERKLE_BUCKETS;
    assert_int_equal(serve_status(1, ts, u), RT_INVALID);
    nodes[1] = 4;
    assert_int_equal(serve_status(1, ts, u), RT_OK);
    /* splits: not a power of two, too many digests */
    rt_repair_split sp[8] = {{3, 6}};
    rt_repair_ask parts = {.step = REPAIR_PARTS};
    parts.rt_repair_ask_u.splits.splits_len = 1;
    parts.rt_repair_ask_u.splits.splits_val = sp;
    assert_int_equal(serve_status(1, ts, parts), RT_INVALID);
    for (int i = 0; i < 8; i++)
        sp[i] = (rt_repair_split){(uint32_t)i + 1, MERKLE_MAX_PARTS};
    parts.rt_repair_ask_u.splits.splits_len = 5;
    assert_int_equal(serve_status(1, ts, parts), RT_INVALID);
    parts.rt_repair_ask_u.splits.splits_len = 4;
    assert_int_equal(serve_status(1, ts, parts), RT_OK);
    /* keys: a part of no split, a key outside the part */
    rt_repair_part p = {3, 6, 1};
    rt_repair_key key = {3, 22, 0};
    assert_int_equal(serve_status(1, ts, keys_ask(&p, NULL, 0)), RT_INVALID);
    p = (rt_repair_part){3, 8, (merkle_part(22, 8) + 1) % 8};
    assert_int_equal(serve_status(1, ts, keys_ask(&p, &key, 1)), RT_INVALID);
    p.part = merkle_part(22, 8);
    assert_int_equal(serve_status(1, ts, keys_ask(&p, &key, 1)), RT_OK);
    /* pushed rows: halves out of range, user 0, an alias naming a higher
     * id, a movie without a title */
    rt_snap_rating row = {3, 22, 11, 1, {0, 0}};
    assert_int_equal(serve_status(1, ts, push_ask(&row, 1, NULL, 0)), RT_INVALID);
    row = (rt_snap_rating){0, 22, 4, 1, {0, 0}};
    assert_int_equal(serve_status(1, ts, push_ask(&row, 1, NULL, 0)), RT_INVALID);
    char title[] = "T", genres[] = "";
    rt_repair_movie mv = {RT_NEW_MOVIE_BASE + 5, title, genres, RT_NEW_MOVIE_BASE + 9};
    assert_int_equal(serve_status(1, ts, push_ask(NULL, 0, &mv, 1)), RT_INVALID);
    mv.alias_of = 0;
    mv.title[0] = '\0';
    assert_int_equal(serve_status(1, ts, push_ask(NULL, 0, &mv, 1)), RT_INVALID);
    assert_true(digest_of(0) == before);
    /* another value timestamp: RT_NOT_READY, and nothing merged */
    ts[1] = 4;
    row = (rt_snap_rating){3, 22, 1, 1ULL << 60, {0, 0}};
    assert_int_equal(serve_status(1, ts, push_ask(&row, 1, NULL, 0)), RT_NOT_READY);
    assert_int_equal(serve_status(1, ts, root), RT_NOT_READY);
    assert_true(digest_of(0) == before);
    /* at ours, the same row is merged */
    ts[1] = 0;
    assert_int_equal(serve_status(1, ts, push_ask(&row, 1, NULL, 0)), RT_OK);
    assert_int_equal(halves_of(0, 3, 22, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_sums),
        cmocka_unit_test(test_bucket_and_part_spread),
        cmocka_unit_test(test_nparts),
        cmocka_unit_test(test_diffs),
        cmocka_unit_test(test_delta),
        cmocka_unit_test_setup_teardown(test_tree_follows_the_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equal_round_is_one_small_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_repairs_every_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_at_equal_value_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serve_refuses, setup, teardown),
    };
    return cmocka_run_group_tests_name("repair", tests, NULL, NULL);
}
