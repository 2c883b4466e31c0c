/*
 * test_store_core.c -- the core of the store (server/store.c): opening a
 * volatile and a file database, durability across a close and reopen,
 * rollback, the databases store_open must refuse (another replica's, random
 * bytes, a truncated or damaged file, another program's, a newer format, a
 * missing or unwritable directory) and the old schema it migrates, the
 * schema and meta as users read them, readers (a snapshot with its own
 * timestamp), numbered commits, and the deferred integrity check.
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
    assert_int_equal(executed_find(s, &r[10].uid, &ts, &movie), 1);
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
    assert_int_equal(executed_find(s, &uid, &ts, &movie), 0);
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
                        "uid_origin,uid_seq,ts,movie,stamp,digest");
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
        T(test_reader_sees_one_commit),
        T(test_reader_of_new_store),
        T(test_commits_numbered),
        T(test_large_file_check_deferred),
    };
#undef T
    return cmocka_run_group_tests_name("store_core", tests, NULL, NULL);
}
