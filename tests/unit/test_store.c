/*
 * test_store.c -- the storage layer (server/store.c) on its own: MovieLens
 * import (the tiny fixture in tests/data, its bad variants, the real
 * ml-latest-small), last-writer-wins with tombstones, the executed table,
 * the queries, the digest (against a recomputation straight from the
 * database file), the saved timestamps and log, durability across a close
 * and reopen, transactions, readers (a snapshot with its own timestamp),
 * numbered commits and syncs, and the databases store_open must refuse.
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
#include "store.h"

#define NREP 3
#define TESTDATA "tests/data"
#define MOVIELENS "data/ml-latest-small"

static char tmpdir[64];

static int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_store.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s && rm -rf %s", tmpdir, tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers ---------------------------------------------------------- */

static const char *tmp_path(const char *name)
{
    static char buf[4][160];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

static store_t *open_ok(const char *path, uint32_t id, uint32_t n)
{
    char err[512] = "";
    store_t *s = store_open(path, id, n, STORE_SYNC_OFF, err, sizeof err);
    if (!s)
        fail_msg("store_open(%s): %s", path, err);
    return s;
}

/* store_open must refuse; the message is returned for checking. */
static const char *open_refused(const char *path, uint32_t id, uint32_t n)
{
    static char err[512];
    strcpy(err, "");
    store_t *s = store_open(path, id, n, STORE_SYNC_OFF, err, sizeof err);
    if (s) {
        store_close(s);
        fail_msg("store_open(%s, %u, %u) succeeded; it should refuse", path, id, n);
    }
    assert_true(strlen(err) > 0);
    return err;
}

static void import_ok(store_t *s, const char *dir)
{
    char err[512] = "";
    if (store_import_movielens(s, dir, false, err, sizeof err) != 0)
        fail_msg("import %s: %s", dir, err);
}

static store_counts_t counts_of(store_t *s)
{
    store_counts_t c;
    memset(&c, 0xa5, sizeof c);
    assert_int_equal(store_counts(s, &c), 0);
    return c;
}

static void expect_counts(store_t *s, uint64_t nratings, uint32_t nmovies, uint64_t executed)
{
    store_counts_t c = counts_of(s);
    assert_int_equal(c.nratings, nratings);
    assert_int_equal(c.nmovies, nmovies);
    assert_int_equal(c.executed, executed);
}

/* The live rating of (user, movie) in halves, or 0 when absent or deleted. */
static uint32_t rating_of(store_t *s, uint32_t user, uint32_t movie)
{
    uint32_t h = 12345;
    int rc = store_rating(s, user, movie, &h);
    assert_true(rc == 0 || rc == 1);
    if (rc == 0)
        return 0;
    assert_true(h >= 1 && h <= 10);
    return h;
}

static movie_info_t movie_of(store_t *s, uint32_t movie)
{
    movie_info_t m;
    memset(&m, 0, sizeof m);
    int rc = store_movie(s, movie, &m);
    if (rc != 1)
        fail_msg("movie %u: store_movie returned %d", movie, rc);
    assert_int_equal(m.movie, movie);
    return m;
}

static void expect_stats(store_t *s, uint32_t movie, uint32_t nratings, uint64_t sum_halves)
{
    movie_info_t m = movie_of(s, movie);
    assert_int_equal(m.nratings, nratings);
    assert_int_equal(m.sum_halves, sum_halves);
}

static urec_t rec(rt_op_kind kind, uint32_t user, uint32_t movie, uint32_t halves,
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

static urec_t rate(uint32_t user, uint32_t movie, uint32_t halves, uint64_t stamp,
                   uint64_t uid_origin, uint64_t uid_seq)
{
    return rec(OP_RATE, user, movie, halves, stamp, uid_origin, uid_seq);
}

static urec_t del(uint32_t user, uint32_t movie, uint64_t stamp, uint64_t uid_origin,
                  uint64_t uid_seq)
{
    return rec(OP_DELETE, user, movie, 0, stamp, uid_origin, uid_seq);
}

static urec_t add_movie(uint32_t movie, const char *title, const char *genres, uint32_t user,
                        uint32_t halves, uint64_t stamp, uint64_t uid_origin, uint64_t uid_seq)
{
    urec_t r = rec(OP_ADD_MOVIE, user, movie, halves, stamp, uid_origin, uid_seq);
    snprintf(r.op.title, sizeof r.op.title, "%s", title);
    snprintf(r.op.genres, sizeof r.op.genres, "%s", genres);
    return r;
}

/* Apply one record in its own transaction, as the replica does. */
static void apply(store_t *s, urec_t r)
{
    assert_int_equal(store_begin(s), 0);
    if (store_apply(s, &r) != 0)
        fail_msg("store_apply: %s", store_errmsg(s));
    assert_int_equal(store_commit(s), 0);
}

/* ---- the digest, recomputed from the database file ---------------------- */

/* The row hashes are the store's own (server/digest.h); the sums here are
 * made from the tables, independently of the store's running digest. */

struct recount {
    uint64_t digest;
    uint64_t nratings;     /* live */
    uint32_t nmovies;
    uint64_t tombstones;
};

/* Read the movies and ratings tables of a database file with sqlite3.
 * A movie id that became an alias of another (a duplicate add-movie, see
 * test_duplicate_add_movie_merges) is not a movie of its own. */
static struct recount recompute(const char *path)
{
    struct recount rc = {0, 0, 0, 0};
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT movie, title, genres FROM movies "
                                            "WHERE alias_of = 0",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        rc.digest += movie_hash((uint32_t)sqlite3_column_int64(st, 0),
                                (const char *)sqlite3_column_text(st, 1),
                                (const char *)sqlite3_column_text(st, 2));
        rc.nmovies++;
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT user, movie, halves FROM ratings", -1, &st,
                                        NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t h = (uint32_t)sqlite3_column_int64(st, 2);
        if (h == 0) {
            rc.tombstones++;
            continue;
        }
        rc.digest += rating_hash((uint32_t)sqlite3_column_int64(st, 0),
                                 (uint32_t)sqlite3_column_int64(st, 1), h);
        rc.nratings++;
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return rc;
}

static void expect_digest_matches_file(store_t *s, const char *path)
{
    struct recount r = recompute(path);
    store_counts_t c = counts_of(s);
    assert_int_equal(c.digest, r.digest);
    assert_int_equal(c.nratings, r.nratings);
    assert_int_equal(c.nmovies, r.nmovies);
}

/* ---- open and import ---------------------------------------------------- */

static void test_open_memory_and_file(void **st)
{
    (void)st;
    store_t *m = open_ok(":memory:", 0, NREP);
    assert_true(store_is_new(m));
    expect_counts(m, 0, 0, 0);
    assert_int_equal(counts_of(m).digest, 0);
    assert_int_not_equal(store_epoch(m), 0);
    store_close(m);

    const char *path = tmp_path("r0.db");
    store_t *s = open_ok(path, 0, NREP);
    assert_true(store_is_new(s));
    uint64_t epoch = store_epoch(s);
    assert_int_not_equal(epoch, 0);
    store_close(s);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 0);
    s = open_ok(path, 0, NREP);
    assert_true(store_is_new(s)); /* nothing imported or saved yet */
    assert_int_equal(store_epoch(s), epoch); /* the same database */
    store_close(s);
}

static void test_import_tiny(void **st)
{
    (void)st;
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    assert_false(store_is_new(s));
    /* 11 movie rows and 34 rating rows below the header lines */
    expect_counts(s, 34, 11, 0); /* imported ratings have uid (0,0): not executed */

    movie_info_t m = movie_of(s, 11);
    assert_string_equal(m.title, "American President, The (1995)");
    assert_string_equal(m.genres, "Comedy|Drama|Romance");
    m = movie_of(s, 29);
    assert_string_equal(m.title, "City of Lost Children, The (Cité des enfants perdus, La) (1995)");
    m = movie_of(s, 7789);
    assert_string_equal(m.title, "11'09\"01 - September 11 (2002)");
    assert_string_equal(m.genres, "Drama");
    m = movie_of(s, 1);
    assert_string_equal(m.title, "Toy Story (1995)"); /* no '\r' kept from CRLF */
    assert_string_equal(m.genres, "Adventure|Animation|Children|Comedy|Fantasy");

    /* By hand from tests/data/tiny/ratings.csv: movie 1 is rated 4.0, 3.5,
     * 5.0, 0.5, 2.5 (users 1-5) = 8+7+10+1+5 halves; movie 11 is rated 3.5,
     * 4.0, 3.0 (users 1, 4, 6) = 7+8+6. */
    expect_stats(s, 1, 5, 31);
    expect_stats(s, 11, 3, 21);
    expect_stats(s, 7789, 1, 6);
    assert_int_equal(rating_of(s, 4, 1), 1);   /* 0.5 */
    assert_int_equal(rating_of(s, 1, 50), 10); /* 5.0 */
    assert_int_equal(rating_of(s, 1, 2), 0);   /* never rated */

    /* The import stamp is the GroupLens timestamp in milliseconds. */
    uint64_t stamp = 0;
    bool live = false;
    assert_int_equal(store_key_stamp(s, 1, 1, &stamp, &live), 1);
    assert_int_equal(stamp, 964982703ULL * 1000);
    assert_true(live);
    assert_int_equal(store_key_stamp(s, 1, 2, &stamp, &live), 0);
    store_close(s);
}

/* A failed import names file and line and leaves nothing behind. */
static void expect_import_fails(const char *dir, const char *where, const char *what)
{
    store_t *s = open_ok(":memory:", 0, NREP);
    char err[512] = "";
    assert_int_equal(store_import_movielens(s, dir, false, err, sizeof err), -1);
    if (!strstr(err, where) || (what && !strstr(err, what)))
        fail_msg("import error \"%s\" should name \"%s\" and \"%s\"", err, where,
                 what ? what : "");
    store_counts_t c = counts_of(s);
    assert_int_equal(c.nratings, 0);
    assert_int_equal(c.nmovies, 0);
    assert_int_equal(c.digest, 0);
    movie_info_t m;
    assert_int_equal(store_movie(s, 1, &m), 0); /* movies.csv was rolled back too */
    assert_int_equal(rating_of(s, 1, 1), 0);
    assert_true(store_is_new(s));
    /* and the store is usable afterwards: a good import goes through */
    import_ok(s, TESTDATA "/tiny");
    expect_counts(s, 34, 11, 0);
    store_close(s);
}

static void test_import_bad_rating(void **st)
{
    (void)st;
    expect_import_fails(TESTDATA "/bad_rating", "ratings.csv:4:", "rating from 0.5 to 5.0");
}

static void test_import_unknown_movie(void **st)
{
    (void)st;
    expect_import_fails(TESTDATA "/unknown_movie", "ratings.csv:7:", "movie 4242");
}

static void test_import_missing_dir(void **st)
{
    (void)st;
    expect_import_fails(tmp_path("nowhere"), "movies.csv", "cannot open");
}

static void test_import_bad_movies_line(void **st)
{
    (void)st;
    /* movies.csv with an unterminated quote on line 3 */
    const char *dir = tmp_path("badmovies");
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/movies.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("movieId,title,genres\r\n1,Toy Story (1995),Comedy\r\n2,\"Jumanji (1995),Fantasy\r\n",
          f);
    fclose(f);
    snprintf(path, sizeof path, "%s/ratings.csv", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("userId,movieId,rating,timestamp\r\n", f);
    fclose(f);
    expect_import_fails(dir, "movies.csv:3:", "unterminated quoted field");
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_import_rejects_bad_fields(void **st)
{
    (void)st;
    static const char *const bad_ratings[] = {
        "1,1,3.3,964982703",   /* not a half star */
        "1,1,0.0,964982703",   /* below 0.5 */
        "1,1,5.5,964982703",   /* above 5.0 */
        "1,1,4.0x,964982703",
        "1,1,,964982703",
        "1,1,4.0",             /* three fields */
        "1,1,4.0,9649827x3",   /* timestamp */
        "1,1,4.0,",            /* no timestamp */
        "1,1,4.0,-964982703",  /* negative: would wrap to a stamp no write beats */
        "1,1,4.0,99999999999999999", /* times 1000 overflows 64 bits */
        "0,1,4.0,964982703",   /* user 0 */
        "1,-1,4.0,964982703",
        "1,1,4.0,964982703,5", /* five fields */
        "1,1,nan,964982703",   /* strtod would take these */
        "1,1,inf,964982703",
        "1,1, 4.0,964982703",
        "1,1,0x8p-2,964982703",
        "1,1,4e0,964982703",
        "1,1,4.,964982703",
        "1,1,.5,964982703",
        "1,1,3.25,964982703",
        "1,1,4.05,964982703",
        "+1,1,4.0,964982703",  /* strtoul would take these */
        " 1,1,4.0,964982703",
        "1,1,4.0, 964982703",
        "1,1,4.0,+964982703",
        "2147483648,1,4.0,964982703", /* past 31 bits */
        "1,4242,4.0,964982703", /* no such movie */
        "1,1000000000,4.0,964982703",
    };
    const char *dir = tmp_path("badfields");
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(dir, "movies.csv", "movieId,title,genres\r\n1,\"A, B\",Drama\r\n");
    for (size_t i = 0; i < sizeof bad_ratings / sizeof *bad_ratings; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "userId,movieId,rating,timestamp\r\n2,1,3.5,964982703\r\n%s\r\n", bad_ratings[i]);
        write_file(dir, "ratings.csv", text);
        store_t *s = open_ok(":memory:", 0, NREP);
        char err[512] = "";
        if (store_import_movielens(s, dir, false, err, sizeof err) != -1)
            fail_msg("ratings line \"%s\" was accepted", bad_ratings[i]);
        if (!strstr(err, "ratings.csv:3:"))
            fail_msg("ratings line \"%s\": error \"%s\" should name ratings.csv:3", bad_ratings[i],
                     err);
        expect_counts(s, 0, 0, 0);
        store_close(s);
    }
    /* the forms of a good rating */
    write_file(dir, "ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4,1\r\n2,1,0.5,1\r\n"
                                   "3,1,3.50,1\r\n4,1,5.0,1\r\n5,1,1.000,1\r\n");
    store_t *ok = open_ok(":memory:", 0, NREP);
    import_ok(ok, dir);
    static const uint32_t want[] = {8, 1, 7, 10, 2};
    for (uint32_t u = 1; u <= 5; u++)
        assert_int_equal(rating_of(ok, u, 1), want[u - 1]);
    store_close(ok);
    /* and a bad movie id in movies.csv */
    write_file(dir, "movies.csv", "movieId,title,genres\r\n1,A,Drama\r\nx2,B,Drama\r\n");
    write_file(dir, "ratings.csv", "userId,movieId,rating,timestamp\r\n");
    expect_import_fails(dir, "movies.csv:3:", "expected movieId,title,genres");
}

/* movies.csv rows that must be refused, each with the words of its error. */
static void test_import_rejects_bad_movies(void **st)
{
    (void)st;
    char long_title[RT_MAX_TITLE + 2];
    memset(long_title, 'x', sizeof long_title - 1);
    long_title[sizeof long_title - 1] = '\0';
    char at_limit[RT_MAX_TITLE + 1];
    memcpy(at_limit, long_title, RT_MAX_TITLE);
    at_limit[RT_MAX_TITLE] = '\0';
    char row_long[512], row_limit[512];
    snprintf(row_long, sizeof row_long, "3,%s,Drama", long_title);
    snprintf(row_limit, sizeof row_limit, "3,%s,Drama", at_limit);
    const struct {
        const char *row, *what;
    } bad[] = {
        {row_long, "title longer than 255"},
        {"1,Again (1995),Drama", "movie 1 appears twice"},
        {"1000000000,Reserved,Drama", "kept for movies added later"},
        {"3,,Drama", "needs a title"},
        {"3,\"Tab\there\",Drama", "control character"},
        {"3,\"Two\nlines\",Drama", "control character"},
        {"+3,Plus,Drama", "positive movieId"},
        {" 3,Blank,Drama", "positive movieId"},
        {"0,Zero,Drama", "positive movieId"},
        {"2147483648,Big,Drama", "positive movieId"},
        {"3,Two fields", "expected movieId,title,genres"},
        {"3,\"Quoted\" badly,Drama", "text after a closing quote"},
    };
    const char *dir = tmp_path("badmovies2");
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(dir, "ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[1024];
        snprintf(text, sizeof text, "movieId,title,genres\r\n1,\"A, B\",Drama\r\n%s\r\n",
                 bad[i].row);
        write_file(dir, "movies.csv", text);
        store_t *s = open_ok(":memory:", 0, NREP);
        char err[512] = "";
        if (store_import_movielens(s, dir, false, err, sizeof err) != -1)
            fail_msg("movies line \"%s\" was accepted", bad[i].row);
        if (!strstr(err, "movies.csv:3:") || !strstr(err, bad[i].what))
            fail_msg("movies line \"%s\": error \"%s\" should name movies.csv:3 and \"%s\"",
                     bad[i].row, err, bad[i].what);
        expect_counts(s, 0, 0, 0);
        store_close(s);
    }
    /* a title of exactly RT_MAX_TITLE bytes is fine */
    char text[1024];
    snprintf(text, sizeof text, "movieId,title,genres\r\n1,\"A, B\",Drama\r\n%s\r\n", row_limit);
    write_file(dir, "movies.csv", text);
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, dir);
    assert_int_equal(strlen(movie_of(s, 3).title), RT_MAX_TITLE);
    store_close(s);
}

/* The header lines are checked (a file without one would lose its first
 * row); a UTF-8 byte order mark, LF line ends and blank lines are fine. */
static void test_import_headers_and_blank_lines(void **st)
{
    (void)st;
    const char *dir = tmp_path("headers");
    assert_int_equal(mkdir(dir, 0700), 0);
    static const char ratings[] = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n";
    write_file(dir, "movies.csv", "1,Toy Story (1995),Comedy\r\n2,Heat (1995),Action\r\n");
    write_file(dir, "ratings.csv", ratings);
    expect_import_fails(dir, "movies.csv:1:", "expected the header line movieId,title,genres");
    write_file(dir, "movies.csv", "");
    expect_import_fails(dir, "movies.csv", "expected the header line");
    /* the two files swapped */
    write_file(dir, "movies.csv", ratings);
    expect_import_fails(dir, "movies.csv:1:", "header");
    write_file(dir, "movies.csv", "movieId,title,genres\r\n1,Toy Story (1995),Comedy\r\n");
    write_file(dir, "ratings.csv", "userId,movieId,rating\n1,1,4.0\n");
    expect_import_fails(dir, "ratings.csv:1:", "userId,movieId,rating,timestamp");

    write_file(dir, "movies.csv", "\xef\xbb\xbfmovieId,title,genres\n\n1,\"Toy Story (1995)\",Comedy\n"
                                  "\r\n2,Heat (1995),Action\n\n");
    write_file(dir, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n\n"
                                   "2,2,3.5,964982704\n");
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, dir);
    expect_counts(s, 2, 2, 0);
    assert_string_equal(movie_of(s, 2).title, "Heat (1995)");
    assert_int_equal(rating_of(s, 2, 2), 7);
    store_close(s);
}

/* Importing twice, or into a store with state, would mix two histories. */
static void test_import_only_into_new_store(void **st)
{
    (void)st;
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    char err[512] = "";
    assert_int_equal(store_import_movielens(s, TESTDATA "/tiny", false, err, sizeof err), -1);
    assert_non_null(strstr(err, "already holds data"));
    expect_counts(s, 34, 11, 0);
    store_close(s);

    s = open_ok(":memory:", 0, NREP);
    vts_t rts, vts, tab[NREP];
    vts_zero(&rts, NREP);
    vts_zero(&vts, NREP);
    for (int k = 0; k < NREP; k++)
        vts_zero(&tab[k], NREP);
    assert_int_equal(store_save_ts(s, &rts, &vts, tab, NREP), 0);
    assert_int_equal(store_import_movielens(s, TESTDATA "/tiny", false, err, sizeof err), -1);
    expect_counts(s, 0, 0, 0);
    store_close(s);
}

/* Run an import with fd 2 sent to a file; returns what it printed. */
static char *import_stderr(store_t *s, const char *dir, bool progress, int *rc)
{
    static char out[4096];
    const char *path = tmp_path("stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    assert_true(saved >= 0 && dup2(fileno(f), 2) == 2);
    char err[512] = "";
    *rc = store_import_movielens(s, dir, progress, err, sizeof err);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

static void test_import_progress(void **st)
{
    (void)st;
    const char *dir = tmp_path("progress");
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(dir, "movies.csv", "movieId,title,genres\r\n1,Toy Story (1995),Comedy\r\n");
    char path[256];
    snprintf(path, sizeof path, "%s/ratings.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("userId,movieId,rating,timestamp\r\n", f);
    for (int u = 1; u <= 20001; u++)
        fprintf(f, "%d,1,%d.5,%d\r\n", u, u % 5, 964982703 + u);
    assert_int_equal(fclose(f), 0);

    int rc = -1;
    store_t *s = open_ok(":memory:", 0, NREP);
    const char *out = import_stderr(s, dir, false, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, ""); /* quiet unless asked */
    expect_counts(s, 20001, 1, 0);
    store_close(s);

    s = open_ok(":memory:", 0, NREP);
    out = import_stderr(s, dir, true, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "\rimporting ratings: 10000/20001\rimporting ratings: 20000/20001"
                             "\rimporting ratings: 20001/20001, done\n");
    store_close(s);
}

static void test_import_movielens_small(void **st)
{
    (void)st;
    if (access(MOVIELENS "/ratings.csv", R_OK) != 0) {
        print_message("no " MOVIELENS " here (run from the repository top)\n");
        skip();
    }
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, MOVIELENS);
    /* Expected numbers computed independently with awk on the files:
     *   awk 'NR>1' ratings.csv | wc -l                          -> 100836
     *   awk 'NR>1' movies.csv | wc -l                           -> 9742
     *     (no title in it spans lines)
     *   awk -F, 'NR>1 && $2=="1" {n++; s+=$3*2} END {print n, s}' ratings.csv
     *                                                           -> 215 1686
     *   awk -F, 'NR>1 {s+=$3*2} END {printf "%d\n", s}' ratings.csv -> 706166
     *   awk -F, 'NR>1 && $1=="1" {n++} END {print n}' ratings.csv   -> 232 */
    expect_counts(s, 100836, 9742, 0);
    expect_stats(s, 1, 215, 1686);
    movie_info_t m = movie_of(s, 11);
    assert_string_equal(m.title, "American President, The (1995)");
    m = movie_of(s, 7789);
    assert_string_equal(m.title, "11'09\"01 - September 11 (2002)");
    user_rating_t page[4];
    size_t n = 0;
    uint32_t total = 0;
    assert_int_equal(store_user_ratings(s, 1, 0, 4, page, &n, &total), 1);
    assert_int_equal(total, 232);
    assert_int_equal(n, 4);
    assert_int_equal(page[0].movie, 1);
    assert_int_equal(page[0].halves, 8); /* "1,1,4.0,964982703" */
    store_close(s);
}

/* ---- last writer wins ----------------------------------------------------- */

static store_t *tiny_store(void)
{
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    return s;
}

static void test_lww_newer_wins(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    /* user 1 rated movie 1 4.0 (8 halves) at 964982703 s */
    apply(s, rate(1, 1, 3, 2000000000000ULL, 1, 1));
    assert_int_equal(rating_of(s, 1, 1), 3);
    expect_stats(s, 1, 5, 31 - 8 + 3);
    apply(s, rate(1, 1, 9, 2000000000001ULL, 2, 1));
    assert_int_equal(rating_of(s, 1, 1), 9);
    expect_stats(s, 1, 5, 31 - 8 + 9);
    /* a new key adds to the movie's count */
    apply(s, rate(9, 1, 4, 2000000000002ULL, 2, 2));
    expect_stats(s, 1, 6, 31 - 8 + 9 + 4);
    expect_counts(s, 35, 11, 3);
    store_close(s);
}

static void test_lww_older_arriving_later_loses(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    apply(s, rate(1, 1, 2, 2000000000000ULL, 1, 1));
    apply(s, rate(1, 1, 10, 1999999999999ULL, 2, 9)); /* older stamp, higher uid */
    assert_int_equal(rating_of(s, 1, 1), 2);
    expect_stats(s, 1, 5, 31 - 8 + 2);
    /* older than the imported rating too: it stays */
    apply(s, rate(3, 1, 1, 1000, 1, 2));
    assert_int_equal(rating_of(s, 3, 1), 10);
    expect_stats(s, 1, 5, 31 - 8 + 2);
    uint64_t stamp = 0;
    bool live = false;
    assert_int_equal(store_key_stamp(s, 1, 1, &stamp, &live), 1);
    assert_int_equal(stamp, 2000000000000ULL);
    assert_true(live);
    /* the losers were still executed */
    expect_counts(s, 34, 11, 3);
    store_close(s);
}

static void test_lww_equal_stamps_by_uid(void **st)
{
    (void)st;
    const uint64_t t = 2000000000000ULL;
    /* lww_cmp: same stamp, so the higher uid (origin, then seq) wins,
     * whichever arrives first. */
    urec_t lo = rate(5, 2, 4, t, 1, 50), hi = rate(5, 2, 7, t, 2, 1);
    urec_t hi_seq = rate(5, 2, 9, t, 2, 2);
    assert_true(lww_cmp(hi.stamp, &hi.uid, lo.stamp, &lo.uid) > 0);
    for (int order = 0; order < 2; order++) {
        store_t *s = tiny_store();
        apply(s, order ? hi : lo);
        apply(s, order ? lo : hi);
        assert_int_equal(rating_of(s, 5, 2), 7);
        /* movie 2 had 3.0, 1.0, 2.0 = 12 halves from 3 users */
        expect_stats(s, 2, 4, 12 + 7);
        apply(s, hi_seq); /* same origin, higher seq */
        assert_int_equal(rating_of(s, 5, 2), 9);
        expect_stats(s, 2, 4, 12 + 9);
        apply(s, hi); /* the same write again changes nothing */
        assert_int_equal(rating_of(s, 5, 2), 9);
        expect_stats(s, 2, 4, 12 + 9);
        store_close(s);
    }
}

static void test_delete_leaves_tombstone(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    const uint64_t t = 2000000000000ULL;
    apply(s, del(1, 1, t, 1, 1));
    assert_int_equal(rating_of(s, 1, 1), 0);
    uint32_t h = 77;
    assert_int_equal(store_rating(s, 1, 1, &h), 0);
    assert_int_equal(h, 77); /* untouched when not found */
    expect_stats(s, 1, 4, 31 - 8);
    expect_counts(s, 33, 11, 1);
    uint64_t stamp = 0;
    bool live = true;
    assert_int_equal(store_key_stamp(s, 1, 1, &stamp, &live), 1);
    assert_int_equal(stamp, t);
    assert_false(live);

    /* an older write arriving afterwards does not bring it back */
    apply(s, rate(1, 1, 6, t - 1, 2, 7));
    assert_int_equal(rating_of(s, 1, 1), 0);
    expect_stats(s, 1, 4, 31 - 8);
    expect_counts(s, 33, 11, 2);
    /* deleting again (older) does not count twice */
    apply(s, del(1, 1, t - 2, 2, 8));
    expect_stats(s, 1, 4, 31 - 8);
    expect_counts(s, 33, 11, 3);

    /* a newer write does */
    apply(s, rate(1, 1, 6, t + 1, 2, 9));
    assert_int_equal(rating_of(s, 1, 1), 6);
    expect_stats(s, 1, 5, 31 - 8 + 6);
    expect_counts(s, 34, 11, 4);

    /* deleting a key never written leaves a tombstone too */
    apply(s, del(42, 3, t, 1, 2));
    apply(s, rate(42, 3, 8, t - 5, 1, 3));
    assert_int_equal(rating_of(s, 42, 3), 0);
    store_close(s);
}

static void test_add_movie_once(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    urec_t r = add_movie(5000, "Heat, The (1995)", "Action|Crime", 9, 7, 2000000000000ULL, 1, 1);
    apply(s, r);
    movie_info_t m = movie_of(s, 5000);
    assert_string_equal(m.title, "Heat, The (1995)");
    assert_string_equal(m.genres, "Action|Crime");
    assert_int_equal(m.nratings, 1);
    assert_int_equal(m.sum_halves, 7);
    assert_int_equal(rating_of(s, 9, 5000), 7);
    expect_counts(s, 35, 12, 1);
    uint64_t digest = counts_of(s).digest;
    apply(s, r); /* a retry, or gossip bringing it back */
    expect_stats(s, 5000, 1, 7);
    expect_counts(s, 35, 12, 1);
    assert_int_equal(counts_of(s).digest, digest);
    /* the movie can then be rated like any other */
    apply(s, rate(10, 5000, 3, 2000000000001ULL, 2, 1));
    expect_stats(s, 5000, 2, 10);
    store_close(s);
}

/* ---- order independence and the digest ------------------------------------- */

#define NRECS 16

static void some_records(urec_t *r)
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

/* ADD_MOVIE goes before the other records of its movie, as the causal
 * order guarantees (prev of a rating includes the creation). */
static void adds_first(urec_t *r)
{
    for (int i = 0; i < NRECS; i++)
        if (r[i].op.kind == OP_ADD_MOVIE)
            for (int j = 0; j < i; j++)
                if (r[j].op.movie == r[i].op.movie) {
                    urec_t t = r[i];
                    memmove(&r[j + 1], &r[j], (size_t)(i - j) * sizeof *r);
                    r[j] = t;
                    break;
                }
}

/* A deterministic shuffle that keeps adds_first. */
static void shuffled(urec_t *r, unsigned seed)
{
    for (int i = NRECS - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        int j = (int)((seed >> 16) % (unsigned)(i + 1));
        urec_t t = r[i];
        r[i] = r[j];
        r[j] = t;
    }
    adds_first(r);
}

/* Same counters, digest, movies (the tiny ones and the extra ones) and
 * ratings of the users that appear in these tests. */
static void expect_same_state(store_t *a, store_t *b, const uint32_t *extra, size_t nextra)
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

static void test_order_independent(void **st)
{
    (void)st;
    urec_t in_order[NRECS], reversed[NRECS], mixed[NRECS];
    some_records(in_order);
    for (int i = 0; i < NRECS; i++)
        reversed[i] = in_order[NRECS - 1 - i];
    adds_first(reversed);
    some_records(mixed);
    shuffled(mixed, 2024);
    int moved = 0;
    for (int i = 0; i < NRECS; i++)
        moved += !uid_eq(&mixed[i].uid, &in_order[i].uid);
    assert_true(moved > NRECS / 2); /* really another order */

    store_t *a = tiny_store(), *b = tiny_store(), *c = tiny_store();
    for (int i = 0; i < NRECS; i++) {
        apply(a, in_order[i]);
        apply(b, reversed[i]);
        apply(c, mixed[i]);
    }
    static const uint32_t added[] = {5000, 5001};
    expect_same_state(a, b, added, 2);
    expect_same_state(a, c, added, 2);
    /* and the state is the one worked out by hand */
    assert_int_equal(rating_of(a, 2, 5000), 0);
    assert_int_equal(rating_of(a, 1, 1), 3);
    assert_int_equal(rating_of(a, 3, 50), 4);
    assert_int_equal(rating_of(a, 4, 100), 0);
    assert_int_equal(rating_of(a, 11, 2), 8);
    assert_int_equal(rating_of(a, 3, 5001), 10);
    assert_int_equal(rating_of(a, 7, 5001), 0);
    expect_stats(a, 5000, 1, 8);
    expect_stats(a, 5001, 1, 10);
    /* 34 imported, + (1,5000), - (4,100), + (3,5001), + (11,2); two movies
     * added; every record has its own uid */
    expect_counts(a, 36, 13, NRECS);
    store_close(a);
    store_close(b);
    store_close(c);
}

static void test_digest_matches_recomputation(void **st)
{
    (void)st;
    const char *path = tmp_path("digest.db");
    store_t *s = open_ok(path, 0, NREP);
    expect_digest_matches_file(s, path); /* empty: 0 == 0 */
    import_ok(s, TESTDATA "/tiny");
    assert_int_not_equal(counts_of(s).digest, 0);
    expect_digest_matches_file(s, path);
    urec_t r[NRECS];
    some_records(r);
    for (int i = 0; i < NRECS; i++) {
        apply(s, r[i]);
        expect_digest_matches_file(s, path); /* after every step */
    }
    struct recount rc = recompute(path);
    assert_int_equal(rc.tombstones, 3); /* (2,5000), (4,100), (7,5001) */
    store_close(s);
    s = open_ok(path, 0, NREP); /* and as loaded from meta */
    expect_digest_matches_file(s, path);
    store_close(s);
}

static void test_digest_path_independent(void **st)
{
    (void)st;
    const uint64_t t = 2000000000000ULL;
    store_t *a = tiny_store(), *b = tiny_store();
    uint64_t start = counts_of(a).digest;
    assert_int_equal(counts_of(b).digest, start);
    /* add + delete of the same new rating: back where it started */
    apply(a, rate(20, 3, 5, t, 1, 1));
    assert_int_not_equal(counts_of(a).digest, start);
    apply(a, del(20, 3, t + 1, 1, 2));
    assert_int_equal(counts_of(a).digest, start);
    /* a direct: (1,1) = 6; b: 2, then 10, then deleted, then 6 */
    apply(a, rate(1, 1, 6, t + 10, 1, 3));
    apply(b, rate(1, 1, 2, t + 2, 2, 1));
    apply(b, rate(1, 1, 10, t + 3, 2, 2));
    apply(b, del(1, 1, t + 4, 2, 3));
    assert_int_not_equal(counts_of(b).digest, counts_of(a).digest);
    apply(b, rate(1, 1, 6, t + 5, 2, 4));
    assert_int_equal(counts_of(b).digest, counts_of(a).digest);
    /* a different value gives a different digest */
    apply(b, rate(1, 1, 7, t + 11, 2, 5));
    assert_int_not_equal(counts_of(b).digest, counts_of(a).digest);
    store_close(a);
    store_close(b);
}

/* One add-movie update accepted twice (a retry at another replica after an
 * ambiguous failure) gives two records with one uid and two movie ids.
 * Whatever the order, every store keeps the lower id, the higher becomes
 * an alias, and ratings made under either id end up on the one movie. */
static void test_duplicate_add_movie_merges(void **st)
{
    (void)st;
    const uint64_t t = 2000000000000ULL;
    const uint32_t lo = RT_NEW_MOVIE_BASE + 1 * RT_MAX_REPLICAS + 0; /* replica 0's first */
    const uint32_t hi = RT_NEW_MOVIE_BASE + 1 * RT_MAX_REPLICAS + 1; /* replica 1's first */
    urec_t r[5];
    r[0] = add_movie(lo, "Heat (1995)", "Action|Crime", 9, 7, t, 1000000007, 1);
    r[1] = add_movie(hi, "Heat (1995)", "Action|Crime", 9, 8, t + 5, 1000000007, 1);
    r[1].origin = 1;
    r[2] = rate(10, hi, 4, t + 10, 1, 2);
    r[3] = rate(10, lo, 6, t + 20, 0, 3);
    r[4] = rate(11, hi, 9, t + 30, 1, 3);
    /* causal orders: each rating after the add-movie of its id */
    static const int orders[3][5] = {{0, 3, 1, 2, 4}, {1, 2, 4, 0, 3}, {1, 0, 3, 2, 4}};
    store_t *s[3];
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "dup%d.db", k);
        const char *path = tmp_path(name);
        s[k] = open_ok(path, 0, NREP);
        import_ok(s[k], TESTDATA "/tiny");
        for (int i = 0; i < 5; i++)
            apply(s[k], r[orders[k][i]]);
        expect_digest_matches_file(s[k], path);

        expect_counts(s[k], 34 + 3, 12, 4);
        movie_info_t m = movie_of(s[k], lo);
        assert_string_equal(m.title, "Heat (1995)");
        assert_int_equal(m.alias_of, 0);
        /* (9) 8 at t+5 beats 7 at t; (10) 6 at t+20 beats 4 at t+10; (11) 9 */
        assert_int_equal(m.nratings, 3);
        assert_int_equal(m.sum_halves, 8 + 6 + 9);
        assert_int_equal(rating_of(s[k], 9, lo), 8);
        assert_int_equal(rating_of(s[k], 10, lo), 6);
        assert_int_equal(rating_of(s[k], 11, lo), 9);
        /* the other id leads to the same movie */
        memset(&m, 0, sizeof m);
        assert_int_equal(store_movie(s[k], hi, &m), 1);
        assert_int_equal(m.movie, lo);
        assert_int_equal(rating_of(s[k], 10, hi), 6);
        /* one movie in searches */
        movie_info_t found[4];
        size_t n = 0;
        assert_int_equal(store_title_search(s[k], "heat", found, 4, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(found[0].movie, lo);
        /* and the update's executed entry names the kept id */
        vts_t ts;
        uint32_t movie = 0;
        assert_int_equal(store_executed_find(s[k], &r[0].uid, &ts, &movie), 1);
        assert_int_equal(movie, lo);
    }
    for (int k = 1; k < 3; k++) {
        assert_int_equal(counts_of(s[k]).digest, counts_of(s[0]).digest);
        expect_same_state(s[0], s[k], &lo, 1);
    }
    for (int k = 0; k < 3; k++)
        store_close(s[k]);
}

/* ---- executed ---------------------------------------------------------- */

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
    assert_int_equal(store_executed_find(s, &uid, &ts, &movie), 0);
    apply(s, r);
    vts_zero(&ts, 0);
    assert_int_equal(store_executed_find(s, &uid, &ts, &movie), 1);
    assert_true(vts_eq(&ts, &r.ts));
    assert_int_equal(ts.t[0], 3);
    assert_int_equal(ts.t[2], 17);
    assert_int_equal(movie, 11);
    assert_int_equal(store_executed_find(s, &other, &ts, &movie), 0);
    expect_counts(s, 34, 11, 1);
    apply(s, r); /* once only */
    expect_counts(s, 34, 11, 1);
    /* uid (0,0) is never recorded */
    apply(s, rate(1, 17, 4, 2000000000001ULL, 0, 0));
    assert_int_equal(rating_of(s, 1, 17), 4); /* but it is applied */
    expect_counts(s, 35, 11, 1);
    assert_int_equal(store_executed_find(s, &zero, &ts, &movie), 0);
    store_close(s);
}

/* ---- queries ----------------------------------------------------------- */

static void expect_search(store_t *s, const char *pattern, size_t max, size_t n, ...)
{
    movie_info_t out[16];
    size_t nout = 999;
    assert_true(max <= 16);
    assert_int_equal(store_title_search(s, pattern, out, max, &nout), 0);
    if (nout != n)
        fail_msg("search \"%s\" (max %zu): %zu results, expected %zu", pattern, max, nout, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t id = va_arg(ap, uint32_t);
        if (out[i].movie != id)
            fail_msg("search \"%s\": result %zu is %u, expected %u", pattern, i, out[i].movie,
                     id);
    }
    va_end(ap);
}

static void test_title_search(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    const uint64_t t = 2000000000000ULL;
    /* added in descending id order: results must still come by id */
    apply(s, add_movie(9005, "Back\\slash", "Drama", 1, 5, t, 1, 5));
    apply(s, add_movie(9004, "Cry Wolf (2005)", "Drama", 1, 5, t, 1, 4));
    apply(s, add_movie(9003, "Cry_Wolf (2005)", "Drama", 1, 5, t, 1, 3));
    apply(s, add_movie(9002, "1000 Arabica", "Drama", 1, 5, t, 1, 2));
    apply(s, add_movie(9001, "100% Arabica (1997)", "Comedy", 1, 5, t, 1, 1));

    expect_search(s, "city", 16, 2, 29u, 100u); /* case-insensitive, by id */
    expect_search(s, "CITY HALL", 16, 1, 100u);
    expect_search(s, "THE (19", 16, 3, 11u, 50u, 1250u);
    expect_search(s, "the (19", 2, 2, 11u, 50u); /* max respected */
    expect_search(s, "the (19", 0, 0);
    expect_search(s, "arabica", 16, 2, 9001u, 9002u);
    expect_search(s, "100%", 16, 1, 9001u);   /* '%' is literal */
    expect_search(s, "y_w", 16, 1, 9003u);    /* '_' is literal */
    expect_search(s, "Cry%Wolf", 16, 0);
    expect_search(s, "k\\s", 16, 1, 9005u);   /* so is '\' */
    expect_search(s, "Cité", 16, 1, 29u);
    expect_search(s, "no such title", 16, 0);
    movie_info_t m;
    size_t n = 0;
    assert_int_equal(store_title_search(s, "heat", &m, 1, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_title_search(s, "toy story", &m, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(m.title, "Toy Story (1995)");
    assert_int_equal(m.nratings, 5); /* the stats come with the result */
    assert_int_equal(m.sum_halves, 31);
    store_close(s);
}

static void expect_page(store_t *s, uint32_t user, uint32_t offset, uint32_t limit, int rc,
                        uint32_t total, size_t n, const uint32_t *movies, const uint32_t *halves)
{
    user_rating_t out[16];
    size_t nout = 999;
    uint32_t tot = 999;
    assert_true(limit <= 16);
    assert_int_equal(store_user_ratings(s, user, offset, limit, out, &nout, &tot), rc);
    assert_int_equal(tot, total);
    assert_int_equal(nout, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].movie, movies[i]);
        assert_int_equal(out[i].halves, halves[i]);
    }
}

static void test_user_ratings_paging(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    /* user 4 in tiny/ratings.csv: movies 1, 2, 3, 11, 32, 100 rated
     * 0.5, 1.0, 2.5, 4.0, 3.5, 2.0 */
    static const uint32_t mv[] = {1, 2, 3, 11, 32, 100}, hv[] = {1, 2, 5, 8, 7, 4};
    expect_page(s, 4, 0, 16, 1, 6, 6, mv, hv);
    expect_page(s, 4, 0, 4, 1, 6, 4, mv, hv);
    expect_page(s, 4, 4, 4, 1, 6, 2, mv + 4, hv + 4);
    expect_page(s, 4, 2, 1, 1, 6, 1, mv + 2, hv + 2);
    expect_page(s, 4, 6, 4, 1, 6, 0, NULL, NULL);
    expect_page(s, 4, 0, 0, 1, 6, 0, NULL, NULL);
    /* deleted ones are neither listed nor counted */
    apply(s, del(4, 3, 2000000000000ULL, 1, 1));
    static const uint32_t mv2[] = {1, 2, 11, 32, 100}, hv2[] = {1, 2, 8, 7, 4};
    expect_page(s, 4, 0, 16, 1, 5, 5, mv2, hv2);
    expect_page(s, 4, 2, 2, 1, 5, 2, mv2 + 2, hv2 + 2);
    /* a user with nothing, and one whose only rating was deleted */
    expect_page(s, 99, 0, 16, 0, 0, 0, NULL, NULL);
    apply(s, del(8, 7789, 2000000000000ULL, 1, 2));
    expect_page(s, 8, 0, 16, 0, 0, 0, NULL, NULL);
    store_close(s);
}

/* ---- saved timestamps and the log ---------------------------------------- */

static void make_ts(vts_t *replica_ts, vts_t *value_ts, vts_t *table)
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

static void expect_ts_loaded(store_t *s)
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

static void test_is_new_false_after_import(void **st)
{
    (void)st;
    const char *path = tmp_path("imp.db");
    store_t *s = open_ok(path, 0, NREP);
    assert_true(store_is_new(s));
    import_ok(s, TESTDATA "/tiny");
    assert_false(store_is_new(s));
    store_close(s);
    s = open_ok(path, 0, NREP);
    assert_false(store_is_new(s));
    vts_t rts, vts, tab[NREP];
    assert_int_equal(store_load_ts(s, &rts, &vts, tab, NREP), 0); /* imported, none saved */
    store_close(s);
}

struct collected {
    urec_t r[8];
    int n;
};

static int collect(void *arg, const urec_t *r)
{
    struct collected *c = arg;
    if (c->n >= 8)
        return -1;
    c->r[c->n++] = *r;
    return 0;
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

static struct collected log_contents(store_t *s)
{
    struct collected c;
    memset(&c, 0, sizeof c);
    assert_int_equal(store_log_each(s, collect, &c), 0);
    return c;
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

static int refuse(void *arg, const urec_t *r)
{
    (void)r;
    (*(int *)arg)++;
    return 1;
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

/* ---- durability ---------------------------------------------------------- */

static void test_durable_across_reopen(void **st)
{
    (void)st;
    const char *path = tmp_path("durable.db");
    store_t *s = open_ok(path, 2, NREP);
    uint64_t epoch = store_epoch(s);
    import_ok(s, TESTDATA "/tiny");
    urec_t r[NRECS];
    some_records(r);
    for (int i = 0; i < NRECS; i++)
        apply(s, r[i]);
    vts_t rts, vts, tab[NREP];
    make_ts(&rts, &vts, tab);
    assert_int_equal(store_save_ts(s, &rts, &vts, tab, NREP), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_log_put(s, &r[i]), 0);
    assert_int_equal(store_meta_put(s, "peer_epoch.1", "12345"), 0);
    store_counts_t before = counts_of(s);
    store_close(s);

    s = open_ok(path, 2, NREP);
    assert_false(store_is_new(s));
    assert_int_equal(store_epoch(s), epoch);
    store_counts_t after = counts_of(s);
    assert_int_equal(after.nratings, before.nratings);
    assert_int_equal(after.nmovies, before.nmovies);
    assert_int_equal(after.executed, before.executed);
    assert_int_equal(after.digest, before.digest);
    expect_counts(s, 36, 13, NRECS);
    expect_digest_matches_file(s, path);
    assert_int_equal(rating_of(s, 1, 1), 3);
    assert_int_equal(rating_of(s, 2, 5000), 0);
    assert_string_equal(movie_of(s, 5001).title, "Up, Down");
    expect_stats(s, 5001, 1, 10);
    expect_stats(s, 1, 5, 31 - 8 + 3);
    vts_t ts;
    uint32_t movie = 0;
    assert_int_equal(store_executed_find(s, &r[10].uid, &ts, &movie), 1);
    assert_int_equal(movie, 5001);
    /* the tombstone is durable: an old write still cannot resurrect */
    apply(s, rate(2, 5000, 4, 1, 1, 99));
    assert_int_equal(rating_of(s, 2, 5000), 0);
    expect_ts_loaded(s);
    struct collected got = log_contents(s);
    assert_int_equal(got.n, 3);
    char buf[32] = "";
    assert_int_equal(store_meta_get(s, "peer_epoch.1", buf, sizeof buf), 1);
    assert_string_equal(buf, "12345");
    assert_int_equal(store_meta_get(s, "no such key", buf, sizeof buf), 0);
    store_close(s);
}

/* ---- transactions -------------------------------------------------------- */

static void test_rollback_restores(void **st)
{
    (void)st;
    const char *path = tmp_path("rb.db");
    store_t *s = open_ok(path, 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    store_counts_t before = counts_of(s);
    const uint64_t t = 2000000000000ULL;

    assert_int_equal(store_begin(s), 0);
    urec_t r = add_movie(5000, "Heat, The (1995)", "Action", 1, 8, t, 1, 1);
    assert_int_equal(store_apply(s, &r), 0);
    r = rate(1, 1, 2, t, 1, 2);
    assert_int_equal(store_apply(s, &r), 0);
    r = del(4, 2, t, 1, 3);
    assert_int_equal(store_apply(s, &r), 0);
    store_counts_t mid = counts_of(s);
    assert_int_equal(mid.nmovies, before.nmovies + 1);
    assert_int_equal(mid.executed, 3);
    assert_int_not_equal(mid.digest, before.digest);
    store_rollback(s);

    store_counts_t c = counts_of(s);
    assert_int_equal(c.nratings, before.nratings);
    assert_int_equal(c.nmovies, before.nmovies);
    assert_int_equal(c.executed, before.executed);
    assert_int_equal(c.digest, before.digest);
    movie_info_t m;
    assert_int_equal(store_movie(s, 5000, &m), 0);
    assert_int_equal(rating_of(s, 1, 1), 8);
    assert_int_equal(rating_of(s, 4, 2), 2);
    expect_stats(s, 1, 5, 31);
    upd_id_t uid = {1, 1};
    vts_t ts;
    uint32_t movie;
    assert_int_equal(store_executed_find(s, &uid, &ts, &movie), 0);
    expect_digest_matches_file(s, path);

    /* a failed apply inside a transaction, then rollback */
    assert_int_equal(store_begin(s), 0);
    r = rate(1, 1, 2, t, 1, 4);
    assert_int_equal(store_apply(s, &r), 0);
    r = rate(1, 3, 2, t, 1, 5);
    r.op.kind = (rt_op_kind)99;
    assert_int_equal(store_apply(s, &r), -1);
    assert_non_null(strstr(store_errmsg(s), "unknown operation"));
    store_rollback(s);
    c = counts_of(s);
    assert_int_equal(c.digest, before.digest);
    assert_int_equal(c.executed, 0);
    assert_int_equal(rating_of(s, 1, 1), 8);

    /* rollback without a transaction is harmless */
    store_rollback(s);
    assert_int_equal(counts_of(s).digest, before.digest);
    /* and the store goes on working: a committed change is kept */
    apply(s, rate(1, 1, 2, t, 1, 6));
    store_close(s);
    s = open_ok(path, 0, NREP);
    assert_int_equal(rating_of(s, 1, 1), 2);
    expect_counts(s, 34, 11, 1);
    expect_digest_matches_file(s, path);
    store_close(s);
}

/* ---- databases store_open must refuse -------------------------------------- */

static void make_db(const char *path, uint32_t id, uint32_t n, bool with_data)
{
    store_t *s = open_ok(path, id, n);
    if (with_data)
        import_ok(s, TESTDATA "/tiny");
    store_close(s);
}

static void test_refuse_other_replica(void **st)
{
    (void)st;
    const char *path = tmp_path("id.db");
    make_db(path, 0, 3, true);
    const char *err = open_refused(path, 1, 3);
    if (!strstr(err, "replica 0 of 3") || !strstr(err, "replica 1 of 3"))
        fail_msg("message should name both replicas: %s", err);
    err = open_refused(path, 0, 5);
    if (!strstr(err, "replica 0 of 3") || !strstr(err, "replica 0 of 5"))
        fail_msg("message should name both sizes: %s", err);
    /* refusing changed nothing: the right identity still opens it, with data */
    store_t *s = open_ok(path, 0, 3);
    expect_counts(s, 34, 11, 0);
    store_close(s);
}

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_refuse_random_bytes(void **st)
{
    (void)st;
    const char *path = tmp_path("random.db");
    static unsigned char b[8192], back[8192 + 1];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof b; i++) {
        x = x * 1664525u + 1013904223u;
        b[i] = (unsigned char)(x >> 24);
    }
    write_bytes(path, b, sizeof b);
    const char *err = open_refused(path, 0, NREP);
    if (!strstr(err, "corrupt or not a ratingd database") || !strstr(err, path))
        fail_msg("unexpected message: %s", err);
    /* the file is left as it was */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(back, 1, sizeof back + 1, f), sizeof b);
    fclose(f);
    assert_memory_equal(back, b, sizeof b);
}

static void test_refuse_truncated(void **st)
{
    (void)st;
    const char *path = tmp_path("trunc.db");
    make_db(path, 0, NREP, true);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size >= 4 * 4096); /* several pages: the cut loses some */
    assert_int_equal(truncate(path, sb.st_size / 2), 0);
    const char *err = open_refused(path, 0, NREP);
    if (!strstr(err, "corrupt or not a ratingd database"))
        fail_msg("unexpected message: %s", err);
}

/* One integer from a database file, read with sqlite3 directly. */
static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* One text value from a database file, read with sqlite3 directly. */
static const char *sql_text(const char *path, const char *sql)
{
    static char buf[1024];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    snprintf(buf, sizeof buf, "%s", t ? t : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

static void test_refuse_damaged_page(void **st)
{
    (void)st;
    /* Garbage over one page that opening does not otherwise read (the
     * index of the log): only the integrity check can see it. */
    const char *path = tmp_path("damaged.db");
    make_db(path, 0, NREP, true);
    int64_t page = sql_int(path, "SELECT rootpage FROM sqlite_master "
                                 "WHERE name = 'sqlite_autoindex_log_1'");
    int64_t size = sql_int(path, "PRAGMA page_size");
    assert_true(page > 1 && size >= 512);
    unsigned char junk[65536];
    uint32_t x = 777;
    for (int64_t i = 0; i < size; i++) {
        x = x * 1664525u + 1013904223u;
        junk[i] = (unsigned char)(x >> 24);
    }
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)((page - 1) * size), SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, (size_t)size, f), (size_t)size);
    assert_int_equal(fclose(f), 0);
    const char *err = open_refused(path, 0, NREP);
    if (!strstr(err, "corrupt or not a ratingd database"))
        fail_msg("unexpected message: %s", err);
}

static void test_refuse_foreign_sqlite(void **st)
{
    (void)st;
    /* An SQLite database with a meta table of another shape. */
    const char *path = tmp_path("foreign.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE meta(k TEXT, v TEXT);", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    const char *err = open_refused(path, 0, NREP);
    if (!strstr(err, "corrupt or not a ratingd database"))
        fail_msg("unexpected message: %s", err);
}

/* A file of another program (tables, no meta) is refused and left as it is. */
static void test_refuse_other_programs_file(void **st)
{
    (void)st;
    const char *path = tmp_path("other.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x);", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    const char *err = open_refused(path, 0, NREP);
    if (!strstr(err, "another program"))
        fail_msg("unexpected message: %s", err);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 1); /* still only its table */
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_string_equal(sql_text(path, "PRAGMA journal_mode"), "delete"); /* not made WAL */
}

/* A database made before movies had alias_of opens, gains the column, and
 * keeps its data. */
static void test_migrates_old_schema(void **st)
{
    (void)st;
    const char *path = tmp_path("old.db");
    store_t *s = open_ok(path, 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "ALTER TABLE movies DROP COLUMN alias_of;", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    s = open_ok(path, 0, NREP);
    expect_counts(s, 34, 11, 0);
    movie_info_t m = movie_of(s, 11);
    assert_string_equal(m.title, "American President, The (1995)");
    store_close(s);
}

static void test_refuse_missing_directory(void **st)
{
    (void)st;
    const char *path = tmp_path("no/such/dir/r.db");
    const char *err = open_refused(path, 0, NREP);
    if (!strstr(err, "no/such/dir"))
        fail_msg("message should name the directory: %s", err);
    char dir[160];
    snprintf(dir, sizeof dir, "%s/no", tmpdir);
    assert_int_not_equal(access(dir, F_OK), 0); /* nothing created */
}

/* store_open on path as an unprivileged user in a child process: 0 if it
 * refused with "not writable", 1 if not, 77 if we cannot drop privileges
 * or the directory is still writable to that user. */
static int open_as_nobody(const char *dir, const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0 || access(dir, W_OK) == 0)
            _exit(77);
        char err[512] = "";
        store_t *s = store_open(path, 0, NREP, STORE_SYNC_OFF, err, sizeof err);
        if (s) {
            store_close(s);
            _exit(1);
        }
        fprintf(stderr, "as uid 65534: %s\n", err);
        _exit(strstr(err, "not writable") && strstr(err, dir) ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_refuse_unwritable_directory(void **st)
{
    (void)st;
    const char *dir = tmp_path("ro");
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[200];
    snprintf(path, sizeof path, "%s/r.db", dir);
    assert_int_equal(chmod(dir, 0500), 0);
    if (access(dir, W_OK) == 0) {
        /* root: permissions do not stop our writes.  Try as nobody, who
         * owns the 0500 directory (and may pass through the temp dir). */
        int rc = -1;
        if (geteuid() == 0 && chown(dir, 65534, 65534) == 0 && chmod(tmpdir, 0711) == 0)
            rc = open_as_nobody(dir, path);
        chmod(dir, 0700);
        if (rc == 77 || rc == -1) {
            print_message("a 0500 directory is writable here and privileges cannot be "
                          "dropped: skipped\n");
            skip();
        }
        assert_int_equal(rc, 0);
    } else {
        const char *err = open_refused(path, 0, NREP);
        if (!strstr(err, "not writable") || !strstr(err, dir))
            fail_msg("unexpected message: %s", err);
        chmod(dir, 0700);
    }
    assert_int_not_equal(access(path, F_OK), 0); /* nothing created */
}

/* ---- more refusals, edges and the file as users see it ------------------ */

static void test_refuse_newer_format(void **st)
{
    (void)st;
    const char *path = tmp_path("newer.db");
    make_db(path, 0, NREP, true);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = value + 1 WHERE key = 'format'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    const char *err = open_refused(path, 0, NREP);
    if (!strstr(err, "newer") || !strstr(err, path))
        fail_msg("unexpected message: %s", err);
}

/* The schema and meta are what docs and users read with the sqlite3 tool. */
static void test_schema_readable(void **st)
{
    (void)st;
    const char *path = tmp_path("schema.db");
    store_t *s = open_ok(path, 2, NREP);
    import_ok(s, TESTDATA "/tiny");
    urec_t r[NRECS];
    some_records(r);
    for (int i = 0; i < NRECS; i++)
        apply(s, r[i]);
    vts_t rts, vts, tab[NREP];
    make_ts(&rts, &vts, tab);
    assert_int_equal(store_save_ts(s, &rts, &vts, tab, NREP), 0);
    assert_int_equal(store_log_put(s, &r[0]), 0);
    store_counts_t c = counts_of(s);

    assert_string_equal(sql_text(path, "PRAGMA journal_mode"), "wal");
    static const char *const keys[] = {"format", "replica_id", "nreplicas", "replica_ts",
                                       "value_ts", "table", "nratings", "nmovies", "digest",
                                       "imported", "executed", "epoch"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM meta WHERE key = '%s'", keys[i]);
        if (sql_int(path, sql) != 1)
            fail_msg("meta has no %s", keys[i]);
    }
    assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'replica_id'"), 2);
    assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'nreplicas'"), NREP);
    assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'imported'"), 1);
    assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'nratings'"), 36);
    assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'nmovies'"), 13);
    assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'executed'"), NRECS);
    /* a uint64 is kept as the int64 of the same bits */
    assert_true(sql_int(path, "SELECT value FROM meta WHERE key = 'digest'") == (int64_t)c.digest);
    assert_string_equal(sql_text(path, "SELECT value FROM meta WHERE key = 'replica_ts'"),
                        "[5,2,18446744073709551615]");
    assert_string_equal(sql_text(path, "SELECT value FROM meta WHERE key = 'value_ts'"),
                        "[4,0,9]");
    assert_string_equal(sql_text(path, "SELECT value FROM meta WHERE key = 'table'"),
                        "[1,2,3];[11,12,13];[21,22,23]");
    assert_string_equal(sql_text(path, "SELECT group_concat(name) FROM pragma_table_info('movies')"),
                        "movie,title,genres,nratings,sum_halves,alias_of");
    assert_string_equal(sql_text(path, "SELECT group_concat(name) FROM pragma_table_info('ratings')"),
                        "user,movie,halves,stamp,uid_origin,uid_seq");
    assert_string_equal(sql_text(path, "SELECT group_concat(name) FROM pragma_table_info('executed')"),
                        "uid_origin,uid_seq,ts,movie");
    assert_string_equal(sql_text(path, "SELECT group_concat(name) FROM pragma_table_info('log')"),
                        "origin,seq,ts,prev,uid_origin,uid_seq,stamp,kind,user,movie,halves,"
                        "title,genres,applied");
    assert_non_null(strstr(sql_text(path, "SELECT sql FROM sqlite_master WHERE name = 'ratings'"),
                           "WITHOUT ROWID"));
    assert_non_null(strstr(sql_text(path, "SELECT sql FROM sqlite_master WHERE name = 'executed'"),
                           "WITHOUT ROWID"));
    /* rows as a user would query them */
    assert_int_equal(sql_int(path, "SELECT halves FROM ratings WHERE user = 2 AND movie = 5000"), 0);
    assert_int_equal(sql_int(path, "SELECT nratings FROM movies WHERE movie = 1"), 5);
    assert_string_equal(sql_text(path, "SELECT ts FROM executed WHERE uid_origin = 2 AND "
                                       "uid_seq = 6"),
                        "[0,0,6]");
    assert_string_equal(sql_text(path, "SELECT ts || ' ' || seq || ' ' || title FROM log"),
                        "[0,1,0] 1 Heat, The (1995)");
    store_close(s);
}

/* Stamps and ids use all 64 bits: the top bit survives SQLite's signed
 * INTEGER, and last-writer-wins compares them unsigned. */
static void test_full_64_bit_values(void **st)
{
    (void)st;
    const char *path = tmp_path("u64.db");
    store_t *s = open_ok(path, 0, NREP);
    const uint64_t hi = 1ULL << 63, lo = 1ULL << 62;
    apply(s, rate(1, 1, 4, lo, 1, 1));
    apply(s, rate(1, 1, 6, hi, 1, 2));       /* negative as int64, but newer */
    apply(s, rate(1, 1, 8, lo + 1, 1, 3));   /* older: loses */
    assert_int_equal(rating_of(s, 1, 1), 6);
    urec_t big = rate(2, 2, 5, UINT64_MAX, UINT64_MAX, UINT64_MAX - 1);
    big.ts.t[big.origin] = UINT64_MAX;
    apply(s, big);
    apply(s, rate(2, 2, 9, UINT64_MAX, UINT64_MAX, UINT64_MAX - 2)); /* same stamp, lower uid */
    assert_int_equal(rating_of(s, 2, 2), 5);
    store_close(s);
    s = open_ok(path, 0, NREP);
    uint64_t stamp = 0;
    bool live = false;
    assert_int_equal(store_key_stamp(s, 1, 1, &stamp, &live), 1);
    assert_true(stamp == hi);
    assert_int_equal(store_key_stamp(s, 2, 2, &stamp, &live), 1);
    assert_true(stamp == UINT64_MAX);
    vts_t ts;
    uint32_t movie = 0;
    assert_int_equal(store_executed_find(s, &big.uid, &ts, &movie), 1);
    assert_true(vts_eq(&ts, &big.ts));
    assert_int_equal(movie, 2);
    store_close(s);
}

/* Ids nobody has: not found, never an error. A rating may name a movie
 * this replica does not have; it is kept, without movie statistics. */
static void test_unknown_ids(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    movie_info_t m;
    uint32_t h = 0;
    uint64_t stamp = 0;
    bool live = false;
    assert_int_equal(store_movie(s, 0, &m), 0);
    assert_int_equal(store_movie(s, 4242, &m), 0);
    assert_int_equal(store_movie(s, RT_NEW_MOVIE_BASE + 99, &m), 0);
    assert_int_equal(store_rating(s, 1, 0, &h), 0);
    assert_int_equal(store_rating(s, 0, 1, &h), 0);
    assert_int_equal(store_rating(s, 1, RT_NEW_MOVIE_BASE + 99, &h), 0);
    assert_int_equal(store_key_stamp(s, 1, 0, &stamp, &live), 0);
    assert_int_equal(store_key_stamp(s, 1, RT_NEW_MOVIE_BASE + 99, &stamp, &live), 0);
    uint64_t digest = counts_of(s).digest;
    apply(s, rate(1, 4242, 5, 2000000000000ULL, 1, 1));
    assert_int_equal(rating_of(s, 1, 4242), 5);
    assert_int_equal(store_movie(s, 4242, &m), 0); /* no movie made up */
    expect_counts(s, 35, 11, 1);
    assert_true(counts_of(s).digest == digest + rating_hash(1, 4242, 5));
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

static void test_title_search_edges(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    /* the empty pattern matches every title, by id */
    expect_search(s, "", 3, 3, 1u, 2u, 3u);
    /* a pattern longer than any title matches nothing */
    char longer[2 * RT_MAX_TITLE];
    memset(longer, '%', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    expect_search(s, longer, 16, 0);
    longer[RT_MAX_TITLE] = '\0'; /* 255 wildcard characters: literal, no match */
    expect_search(s, longer, 16, 0);
    store_close(s);
}

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

    /* pages of 3, so every cursor is used */
    store_t *b = open_ok(dst, 1, NREP);
    assert_int_equal(store_begin(b), 0);
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
    assert_int_equal(store_save_ts(b, &vr, &vv, vt, NREP), 0);
    assert_int_equal(store_finish_snapshot(b, &vc), 0);
    assert_int_equal(store_commit(b), 0);
    store_snap_close(v);

    assert_false(store_is_new(b));
    expect_digest_matches_file(b, dst);
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

/* ---- readers, numbered commits ------------------------------------------ */

/* One step as the replica commits it: a record and the value_ts with it. */
static void commit_step(store_t *s, urec_t r, uint64_t t0)
{
    vts_t rts, vts, tab[NREP];
    vts_zero(&rts, NREP);
    vts_zero(&vts, NREP);
    for (int k = 0; k < NREP; k++)
        vts_zero(&tab[k], NREP);
    rts.t[0] = vts.t[0] = t0;
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_apply(s, &r), 0);
    assert_int_equal(store_save_ts(s, &rts, &vts, tab, NREP), 0);
    assert_int_equal(store_commit(s), 0);
}

/* The reader's transaction shows user 900's rating of movie 1 as halves,
 * with value_ts[0] = t0, in commit number `commit`. */
static void expect_view(store_t *r, uint32_t halves, uint64_t t0, uint64_t commit)
{
    vts_t v;
    uint64_t c = 99999;
    assert_int_equal(rating_of(r, 900, 1), halves);
    assert_int_equal(store_read_clock(r, &v, &c), 0);
    assert_int_equal(v.n, NREP);
    assert_int_equal(v.t[0], t0);
    assert_int_equal(c, commit);
}

/* A reader's transaction is one commit: its data and its clock, however
 * many commits the writer makes meanwhile; the next transaction sees the
 * latest. */
static void test_reader_sees_one_commit(void **st)
{
    (void)st;
    char err[512] = "";
    store_t *s = open_ok(tmp_path("reader.db"), 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    uint64_t base = store_commits(s);
    commit_step(s, rate(900, 1, 4, 10, 1, 1), 1);
    store_t *r = store_reader_open(s, err, sizeof err);
    if (!r)
        fail_msg("store_reader_open: %s", err);
    assert_int_equal(store_read_begin(r), 0);
    expect_view(r, 4, 1, base + 1);
    commit_step(s, rate(900, 1, 6, 20, 1, 2), 2);
    expect_view(r, 4, 1, base + 1); /* still the snapshot it began with */
    store_read_end(r);
    assert_int_equal(rating_of(s, 900, 1), 6);
    assert_int_equal(store_read_begin(r), 0);
    expect_view(r, 6, 2, base + 2);
    store_read_end(r);
    /* the clock read first fixes the snapshot itself */
    commit_step(s, rate(900, 1, 8, 30, 1, 3), 3);
    vts_t v;
    uint64_t c = 0;
    assert_int_equal(store_read_begin(r), 0);
    assert_int_equal(store_read_clock(r, &v, &c), 0);
    commit_step(s, rate(900, 1, 10, 40, 1, 4), 4);
    assert_int_equal(c, base + 3);
    assert_int_equal(v.t[0], 3);
    assert_int_equal(rating_of(r, 900, 1), 8);
    store_read_end(r);
    /* a reader cannot write */
    urec_t w = rate(901, 1, 4, 50, 1, 5);
    assert_int_equal(store_apply(r, &w), -1);
    store_rollback(r);
    assert_int_equal(rating_of(s, 901, 1), 0);
    store_close(r);
    store_close(s);
}

/* A reader of a new store: no clock yet (commit 0, zero timestamp). */
static void test_reader_of_new_store(void **st)
{
    (void)st;
    char err[512] = "";
    store_t *s = open_ok(tmp_path("fresh.db"), 0, NREP);
    store_t *r = store_reader_open(s, err, sizeof err);
    assert_non_null(r);
    vts_t v;
    uint64_t c = 7;
    assert_int_equal(store_read_begin(r), 0);
    assert_int_equal(rating_of(r, 1, 1), 0);
    assert_int_equal(store_read_clock(r, &v, &c), 0);
    assert_int_equal(c, 0);
    assert_int_equal(v.n, NREP);
    assert_int_equal(v.t[0] + v.t[1] + v.t[2], 0);
    store_read_end(r);
    store_close(r);
    store_close(s);
    /* a volatile store has none */
    s = open_ok(":memory:", 0, NREP);
    assert_null(store_reader_open(s, err, sizeof err));
    assert_non_null(strstr(err, ":memory:"));
    store_close(s);
}

/* Commits are numbered; a rolled-back one takes no number; the count
 * survives a reopen; a durable store syncs its WAL. */
static void test_commits_numbered(void **st)
{
    (void)st;
    char err[512] = "";
    const char *path = tmp_path("commits.db");
    store_t *s = store_open(path, 0, NREP, STORE_SYNC_FULL, err, sizeof err);
    if (!s)
        fail_msg("store_open: %s", err);
    import_ok(s, TESTDATA "/tiny");
    uint64_t c0 = store_commits(s);
    assert_true(c0 >= 1);
    apply(s, rate(900, 1, 4, 10, 1, 1));
    assert_int_equal(store_commits(s), c0 + 1);
    assert_int_equal(store_begin(s), 0);
    urec_t r = rate(900, 2, 4, 10, 1, 2);
    assert_int_equal(store_apply(s, &r), 0);
    store_rollback(s);
    assert_int_equal(store_commits(s), c0 + 1);
    assert_int_equal(store_sync(s), 0);
    assert_int_equal(store_sync(s), 0);
    store_close(s);
    s = store_open(path, 0, NREP, STORE_SYNC_FULL, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_commits(s), c0 + 1);
    apply(s, rate(900, 2, 4, 10, 1, 3));
    assert_int_equal(store_commits(s), c0 + 2);
    store_close(s);
    /* nothing to sync without durability */
    s = open_ok(":memory:", 0, NREP);
    assert_int_equal(store_sync(s), 0);
    store_close(s);
}

/* Garbage over page `page` of a database file. */
static void damage_page(const char *path, int64_t page)
{
    int64_t size = sql_int(path, "PRAGMA page_size");
    unsigned char junk[65536];
    uint32_t x = 4242;
    assert_true(page > 1 && size >= 512 && size <= (int64_t)sizeof junk);
    for (int64_t i = 0; i < size; i++) {
        x = x * 1664525u + 1013904223u;
        junk[i] = (unsigned char)(x >> 24);
    }
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)((page - 1) * size), SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, (size_t)size, f), (size_t)size);
    assert_int_equal(fclose(f), 0);
}

/* A large file opens without reading its ratings through (that took 1.5 s
 * for 10 million): store_check_file checks them, and finds the damage. */
static void test_large_file_check_deferred(void **st)
{
    (void)st;
    char err[512] = "";
    const char *path = tmp_path("large.db");
    make_db(path, 0, NREP, true);
    store_t *s = open_ok(path, 0, NREP);
    assert_false(store_check_pending(s)); /* small: checked whole at open */
    store_close(s);
    /* 80 MB of another table makes it large */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE ballast(b); WITH RECURSIVE n(i) AS "
                                      "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 80) "
                                      "INSERT INTO ballast SELECT zeroblob(1048576) FROM n",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(store_check_file(path, err, sizeof err), 0);
    damage_page(path, sql_int(path, "SELECT rootpage FROM sqlite_master WHERE name = 'ratings'"));
    s = open_ok(path, 0, NREP);
    assert_true(store_check_pending(s));
    store_close(s);
    assert_int_equal(store_check_file(path, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    /* damage anywhere else is still refused at open */
    damage_page(path, sql_int(path, "SELECT rootpage FROM sqlite_master "
                                    "WHERE name = 'sqlite_autoindex_log_1'"));
    const char *why = open_refused(path, 0, NREP);
    if (!strstr(why, "corrupt or not a ratingd database"))
        fail_msg("unexpected message: %s", why);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_memory_and_file),
        T(test_import_tiny),
        T(test_import_bad_rating),
        T(test_import_unknown_movie),
        T(test_import_missing_dir),
        T(test_import_bad_movies_line),
        T(test_import_rejects_bad_fields),
        T(test_import_rejects_bad_movies),
        T(test_import_headers_and_blank_lines),
        T(test_import_only_into_new_store),
        T(test_import_progress),
        T(test_import_movielens_small),
        T(test_lww_newer_wins),
        T(test_lww_older_arriving_later_loses),
        T(test_lww_equal_stamps_by_uid),
        T(test_delete_leaves_tombstone),
        T(test_add_movie_once),
        T(test_order_independent),
        T(test_digest_matches_recomputation),
        T(test_digest_path_independent),
        T(test_duplicate_add_movie_merges),
        T(test_executed),
        T(test_title_search),
        T(test_user_ratings_paging),
        T(test_ts_round_trip),
        T(test_is_new_false_after_import),
        T(test_log_round_trip),
        T(test_log_each_stops_on_error),
        T(test_durable_across_reopen),
        T(test_rollback_restores),
        T(test_refuse_other_replica),
        T(test_refuse_random_bytes),
        T(test_refuse_truncated),
        T(test_refuse_damaged_page),
        T(test_refuse_foreign_sqlite),
        T(test_refuse_other_programs_file),
        T(test_migrates_old_schema),
        T(test_refuse_missing_directory),
        T(test_refuse_unwritable_directory),
        T(test_refuse_newer_format),
        T(test_schema_readable),
        T(test_full_64_bit_values),
        T(test_unknown_ids),
        T(test_corrupt_saved_ts),
        T(test_log_refuses_bad_origin),
        T(test_title_search_edges),
        T(test_snapshot_round_trip),
        T(test_reader_sees_one_commit),
        T(test_reader_of_new_store),
        T(test_commits_numbered),
        T(test_large_file_check_deferred),
    };
#undef T
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
