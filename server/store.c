/*
 * store.c -- a replica's durable state in SQLite (see store.h).
 *
 * Tables (readable with the sqlite3 tool, docs/operations.md):
 *   meta(key, value)                     format, replica id, timestamps, counters
 *   movies(movie, title, genres, nratings, sum_halves)
 *   ratings(user, movie, halves, stamp, uid_origin, uid_seq)   halves 0 = deleted
 *   executed(uid_origin, uid_seq, ts, movie)
 *   log(origin, seq, ts, prev, uid_origin, uid_seq, stamp, kind, user, movie,
 *       halves, title, genres, applied)
 *
 * Counters (live ratings, movies, executed rows) and the digest are kept
 * in memory and written to meta in the same transaction as the change, so
 * STATUS costs nothing and the numbers survive a crash with the data.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "csv.h"
#include "digest.h"

#define STORE_FORMAT 1

enum stmt_id {
    S_META_GET, S_META_PUT,
    S_MOVIE_GET, S_MOVIE_PUT, S_MOVIE_STATS, S_TITLE_SEARCH,
    S_RATING_GET, S_RATING_PUT, S_USER_PAGE, S_USER_COUNT,
    S_EXEC_GET, S_EXEC_PUT,
    S_LOG_PUT, S_LOG_DEL, S_LOG_ALL,
    S_BEGIN_WRITE, S_BEGIN_READ, S_COMMIT, S_READ_CLOCK,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
    [S_MOVIE_GET] = "SELECT movie, title, genres, nratings, sum_halves, alias_of FROM movies "
                    "WHERE movie = ?1",
    [S_MOVIE_PUT] = "INSERT OR IGNORE INTO movies(movie, title, genres, nratings, sum_halves) "
                    "VALUES (?1, ?2, ?3, 0, 0)",
    [S_MOVIE_STATS] = "UPDATE movies SET nratings = nratings + ?2, sum_halves = sum_halves + ?3 "
                      "WHERE movie = ?1",
    [S_TITLE_SEARCH] = "SELECT movie, title, genres, nratings, sum_halves FROM movies "
                       "WHERE title LIKE ?1 ESCAPE '\\' AND alias_of = 0 ORDER BY movie LIMIT ?2",
    [S_RATING_GET] = "SELECT halves, stamp, uid_origin, uid_seq FROM ratings "
                     "WHERE user = ?1 AND movie = ?2",
    [S_RATING_PUT] = "INSERT OR REPLACE INTO ratings(user, movie, halves, stamp, uid_origin, "
                     "uid_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_USER_PAGE] = "SELECT movie, halves FROM ratings WHERE user = ?1 AND halves > 0 "
                    "ORDER BY movie LIMIT ?2 OFFSET ?3",
    [S_USER_COUNT] = "SELECT COUNT(*) FROM ratings WHERE user = ?1 AND halves > 0",
    [S_EXEC_GET] = "SELECT ts, movie FROM executed WHERE uid_origin = ?1 AND uid_seq = ?2",
    [S_EXEC_PUT] = "INSERT OR IGNORE INTO executed(uid_origin, uid_seq, ts, movie) "
                   "VALUES (?1, ?2, ?3, ?4)",
    [S_LOG_PUT] = "INSERT OR REPLACE INTO log(origin, seq, ts, prev, uid_origin, uid_seq, stamp, "
                  "kind, user, movie, halves, title, genres, applied) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [S_LOG_DEL] = "DELETE FROM log WHERE origin = ?1 AND seq = ?2",
    [S_LOG_ALL] = "SELECT origin, seq, ts, prev, uid_origin, uid_seq, stamp, kind, user, movie, "
                  "halves, title, genres, applied FROM log ORDER BY origin, seq",
    [S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [S_BEGIN_READ] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_READ_CLOCK] = "SELECT (SELECT value FROM meta WHERE key = 'commits'), "
                     "(SELECT value FROM meta WHERE key = 'value_ts')",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE IF NOT EXISTS movies(movie INTEGER PRIMARY KEY, title TEXT NOT NULL,"
    " genres TEXT NOT NULL, nratings INTEGER NOT NULL, sum_halves INTEGER NOT NULL,"
    " alias_of INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS ratings(user INTEGER NOT NULL, movie INTEGER NOT NULL,"
    " halves INTEGER NOT NULL, stamp INTEGER NOT NULL, uid_origin INTEGER NOT NULL,"
    " uid_seq INTEGER NOT NULL, PRIMARY KEY(user, movie)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS executed(uid_origin INTEGER NOT NULL, uid_seq INTEGER NOT NULL,"
    " ts TEXT NOT NULL, movie INTEGER NOT NULL, PRIMARY KEY(uid_origin, uid_seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS log(origin INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " ts TEXT NOT NULL, prev TEXT NOT NULL, uid_origin INTEGER NOT NULL, uid_seq INTEGER NOT NULL,"
    " stamp INTEGER NOT NULL, kind INTEGER NOT NULL, user INTEGER, movie INTEGER, halves INTEGER,"
    " title TEXT, genres TEXT, applied INTEGER NOT NULL, PRIMARY KEY(origin, seq));";

struct store {
    char path[4096];
    uint64_t epoch;
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    uint32_t n;
    bool is_new;
    bool reader;           /* a read-only connection (store_reader_open) */
    bool check_pending;    /* the full integrity check is left to store_check_file */
    enum store_sync sync;
    store_counts_t counts;
    uint64_t commits;      /* number of the last commit, kept in meta */
    int wal_fd;            /* the WAL file, for store_sync; -1 if none */
    bool dir_synced;
    /* a reader's last clock (store_read_clock) and the data version of
     * the snapshot it was read in */
    bool clock_valid;
    unsigned clock_version;
    uint64_t clock_commit;
    vts_t clock_ts;
    char err[512];
    char sync_err[256];    /* store_sync's own: it runs beside the writer */
};

/* ---- errors and small helpers ---------------------------------------- */

static int fail(store_t *s, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    return -1;
}

const char *store_errmsg(store_t *s) { return s->err; }

static sqlite3_stmt *stmt(store_t *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->st[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Run a statement that returns no rows. */
static int step_done(store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v) { sqlite3_bind_int64(st, i, (int64_t)v); }
static uint64_t col_u64(sqlite3_stmt *st, int i) { return (uint64_t)sqlite3_column_int64(st, i); }

/* "[a,b,...]": up to VTS_MAX numbers of up to 20 digits, and a table of
 * VTS_MAX of them separated by ';'. */
#define VTS_TEXT_MAX (VTS_MAX * 21 + 4)
#define TABLE_TEXT_MAX (VTS_MAX * VTS_TEXT_MAX)

static void bind_vts(sqlite3_stmt *st, int i, const vts_t *v)
{
    char buf[VTS_TEXT_MAX];
    sqlite3_bind_text(st, i, vts_format(v, buf, sizeof buf), -1, SQLITE_TRANSIENT);
}

static int col_vts(sqlite3_stmt *st, int i, vts_t *v)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? vts_parse(v, t) : -1;
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, t ? t : "", n);
    dst[n] = '\0';
}

/* ---- meta ------------------------------------------------------------ */

static int meta_put_text(store_t *s, const char *key, const char *val)
{
    sqlite3_stmt *st = stmt(s, S_META_PUT);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, val, -1, SQLITE_TRANSIENT);
    return step_done(s, st, "write meta");
}

static int meta_put_u64(store_t *s, const char *key, uint64_t val)
{
    sqlite3_stmt *st = stmt(s, S_META_PUT);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    bind_u64(st, 2, val);
    return step_done(s, st, "write meta");
}

/* 1 and the value, 0 if absent, -1 on error. */
static int meta_get_u64(store_t *s, const char *key, uint64_t *val)
{
    sqlite3_stmt *st = stmt(s, S_META_GET);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *val = col_u64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read meta");
}

static int meta_get_text(store_t *s, const char *key, char *buf, size_t cap)
{
    sqlite3_stmt *st = stmt(s, S_META_GET);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        col_text(st, 0, buf, cap);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read meta");
}

static int save_counts(store_t *s)
{
    if (meta_put_u64(s, "commits", s->commits) < 0 ||
        meta_put_u64(s, "nratings", s->counts.nratings) < 0 ||
        meta_put_u64(s, "nmovies", s->counts.nmovies) < 0 ||
        meta_put_u64(s, "executed", s->counts.executed) < 0 ||
        meta_put_u64(s, "digest", s->counts.digest) < 0)
        return -1;
    return 0;
}

static int load_counts(store_t *s)
{
    uint64_t v = 0;
    memset(&s->counts, 0, sizeof s->counts);
    s->commits = 0;
    if (meta_get_u64(s, "commits", &s->commits) < 0 ||
        meta_get_u64(s, "nratings", &s->counts.nratings) < 0 ||
        meta_get_u64(s, "nmovies", &v) < 0 ||
        meta_get_u64(s, "executed", &s->counts.executed) < 0 ||
        meta_get_u64(s, "digest", &s->counts.digest) < 0)
        return -1;
    s->counts.nmovies = (uint32_t)v;
    return 0;
}

/* ---- open / close ---------------------------------------------------- */

static int exec(store_t *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(s->err, sizeof s->err, "%s", msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return -1;
}

static int check_dir_writable(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    if (access(dir, W_OK) != 0) {
        snprintf(err, errlen, "data directory %s is not writable: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* The stored identity must match: a database of another replica, or of a
 * cluster of another size, would corrupt the replica silently. */
static int check_identity(store_t *s, uint32_t id, uint32_t n, const char *path, char *err,
                          size_t errlen)
{
    uint64_t fmt = 0, sid = 0, sn = 0;
    int have = meta_get_u64(s, "format", &fmt);
    if (have < 0 || meta_get_u64(s, "replica_id", &sid) < 0 ||
        meta_get_u64(s, "nreplicas", &sn) < 0) {
        snprintf(err, errlen, "corrupt or not a ratingd database: %s (%s)", path, s->err);
        return -1;
    }
    if (have == 0) { /* new database */
        while (s->epoch == 0)
            if (getrandom(&s->epoch, sizeof s->epoch, 0) != sizeof s->epoch)
                s->epoch = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        if (exec(s, "BEGIN") < 0 || meta_put_u64(s, "format", STORE_FORMAT) < 0 ||
            meta_put_u64(s, "epoch", s->epoch) < 0 ||
            meta_put_u64(s, "replica_id", id) < 0 || meta_put_u64(s, "nreplicas", n) < 0 ||
            exec(s, "COMMIT") < 0) {
            snprintf(err, errlen, "cannot initialise %s: %s", path, s->err);
            return -1;
        }
        s->is_new = true;
        return 0;
    }
    if (fmt > STORE_FORMAT) {
        snprintf(err, errlen, "%s has format %llu, newer than this ratingd (%d)", path,
                 (unsigned long long)fmt, STORE_FORMAT);
        return -1;
    }
    if (sid != id || sn != n) {
        snprintf(err, errlen,
                 "%s belongs to replica %llu of %llu, not replica %u of %u: wrong --id, "
                 "--data-dir or replica list",
                 path, (unsigned long long)sid, (unsigned long long)sn, id, n);
        return -1;
    }
    uint64_t imported = 0;
    char buf[8];
    int saved = 0;
    if (meta_get_u64(s, "imported", &imported) < 0 || meta_get_u64(s, "epoch", &s->epoch) < 0 ||
        (saved = meta_get_text(s, "replica_ts", buf, sizeof buf)) < 0) {
        snprintf(err, errlen, "corrupt or not a ratingd database: %s (%s)", path, s->err);
        return -1;
    }
    s->is_new = !imported && saved == 0;
    return 0;
}

/* quick_check reports damage as result rows, not as an error: anything
 * but a single "ok" means the file is corrupt. */
static int run_check(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "quick_check: %s", sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(st);
    const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int ok = res && strcmp(res, "ok") == 0;
    if (!ok)
        snprintf(err, errlen, "%s", res ? res : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

/* A full check reads every page: 1.5 s for 10 million ratings, more than a
 * start-up may take.  Above this size, opening checks every table (with its
 * indexes) but the ratings, which are most of the file, and leaves the full
 * check to store_check_file, which the replica runs beside its work. */
#define FULL_CHECK_MAX_PAGES 16384

static int quick_check(store_t *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA page_count", -1, &st, NULL) != SQLITE_OK)
        return fail(s, "quick_check");
    int64_t pages = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    if (pages < 0)
        return fail(s, "quick_check");
    if (pages <= FULL_CHECK_MAX_PAGES)
        return run_check(s->db, "PRAGMA quick_check", s->err, sizeof s->err);
    if (sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                  "name <> 'ratings'", -1, &st, NULL) != SQLITE_OK)
        return fail(s, "quick_check");
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("PRAGMA quick_check(%Q)", sqlite3_column_text(st, 0));
        rc = sql ? run_check(s->db, sql, s->err, sizeof s->err) : fail(s, "quick_check");
        sqlite3_free(sql);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fail(s, "quick_check");
    sqlite3_finalize(st);
    s->check_pending = rc == 0;
    return rc;
}

bool store_check_pending(store_t *s) { return s->check_pending; }

int store_check_file(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "");
    } else {
        sqlite3_busy_timeout(db, 5000);
        rc = run_check(db, "PRAGMA quick_check", err, errlen);
    }
    sqlite3_close(db);
    return rc;
}

/* A file with tables but no meta table belongs to another program: never
 * add ours to it. */
static int foreign_file(store_t *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT COUNT(*), SUM(name = 'meta') FROM sqlite_master "
                                  "WHERE type = 'table'", -1, &st, NULL) != SQLITE_OK)
        return fail(s, "read the schema");
    int foreign = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0 &&
                  sqlite3_column_int(st, 1) == 0;
    sqlite3_finalize(st);
    if (foreign)
        snprintf(s->err, sizeof s->err, "it holds tables of another program");
    return foreign ? -1 : 0;
}

/* Databases made before movie aliases existed lack the column. */
static int migrate(store_t *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM pragma_table_info('movies') WHERE name = "
                                  "'alias_of'", -1, &st, NULL) != SQLITE_OK)
        return fail(s, "read the schema");
    int have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return have ? 0
                : exec(s, "ALTER TABLE movies ADD COLUMN alias_of INTEGER NOT NULL DEFAULT 0");
}

static int prepare_all(store_t *s, char *err, size_t errlen)
{
    for (int i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "corrupt or not a ratingd database: %s (%s)", s->path,
                     sqlite3_errmsg(s->db));
            return -1;
        }
    return 0;
}

/* The WAL file, which store_sync syncs.  It exists while a connection is
 * open (open_db read the database), and SQLite rewrites it in place; it is
 * removed only when the last connection closes, so this descriptor stays
 * the file's for the store's lifetime. */
static int open_wal(store_t *s, char *err, size_t errlen)
{
    if (strcmp(s->path, ":memory:") == 0 || s->sync == STORE_SYNC_OFF)
        return 0;
    const char *wal = sqlite3_filename_wal(sqlite3_db_filename(s->db, "main"));
    s->wal_fd = wal ? open(wal, O_RDONLY | O_CLOEXEC) : -1;
    if (s->wal_fd < 0) {
        snprintf(err, errlen, "cannot open the write-ahead log of %s: %s", s->path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static int open_db(store_t *s, const char *path, enum store_sync sync, char *err, size_t errlen)
{
    bool mem = strcmp(path, ":memory:") == 0;
    if (!mem && check_dir_writable(path, err, errlen) < 0)
        return -1;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "");
        return -1;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* Check before the first write: journal_mode=WAL is itself a write to
     * the file header, and another program's file must be left as it was.
     * synchronous=NORMAL: a commit writes the WAL without syncing it, and
     * store_sync makes commits durable -- one fdatasync for all the
     * commits made since the last (group commit, server/state.c).  SQLite
     * still syncs around checkpoints, so the file is never corrupt. */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas, "%s PRAGMA synchronous=%s; PRAGMA foreign_keys=OFF;",
             mem ? "" : "PRAGMA journal_mode=WAL;", sync == STORE_SYNC_FULL ? "NORMAL" : "OFF");
    if (quick_check(s) < 0 || foreign_file(s) < 0 || exec(s, pragmas) < 0 ||
        exec(s, schema) < 0 || migrate(s) < 0) {
        snprintf(err, errlen, "corrupt or not a ratingd database: %s (%s)", path, s->err);
        return -1;
    }
    return 0;
}

store_t *store_open(const char *path, uint32_t replica_id, uint32_t nreplicas,
                    enum store_sync sync, char *err, size_t errlen)
{
    store_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->n = nreplicas;
    s->sync = sync;
    s->wal_fd = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    if (open_db(s, path, sync, err, errlen) < 0 || prepare_all(s, err, errlen) < 0)
        goto fail;
    if (check_identity(s, replica_id, nreplicas, path, err, errlen) < 0)
        goto fail;
    if (load_counts(s) < 0) {
        snprintf(err, errlen, "corrupt or not a ratingd database: %s (%s)", path, s->err);
        goto fail;
    }
    /* What an earlier process committed may not be on disk yet. */
    if (open_wal(s, err, errlen) < 0 || store_sync(s) < 0) {
        if (s->wal_fd >= 0)
            snprintf(err, errlen, "%s", s->sync_err);
        goto fail;
    }
    return s;
fail:
    store_close(s);
    return NULL;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    free(s);
}

bool store_is_new(store_t *s) { return s->is_new; }

int store_begin(store_t *s) { return step_done(s, stmt(s, S_BEGIN_WRITE), "begin"); }

int store_commit(store_t *s)
{
    s->commits++;
    if (save_counts(s) < 0)
        return -1;
    return step_done(s, stmt(s, S_COMMIT), "commit");
}

uint64_t store_commits(store_t *s) { return s->commits; }

/* fdatasync the WAL: every commit written before is durable.  The first
 * time also syncs the directory, which holds the WAL's name.  Touches only
 * wal_fd, dir_synced and sync_err, so it can run beside the writer. */
int store_sync(store_t *s)
{
    if (s->wal_fd < 0)
        return 0; /* volatile, or --no-sync */
    if (fdatasync(s->wal_fd) < 0) {
        snprintf(s->sync_err, sizeof s->sync_err, "fdatasync of the WAL of %.200s: %s", s->path,
                 strerror(errno));
        return -1;
    }
    if (!s->dir_synced) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", s->path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0) {
            snprintf(s->sync_err, sizeof s->sync_err, "fsync of the directory of %.200s: %s",
                     s->path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        close(fd);
        s->dir_synced = true;
    }
    return 0;
}

const char *store_sync_errmsg(store_t *s) { return s->sync_err; }

/* ---- readers ----------------------------------------------------------- */

store_t *store_reader_open(store_t *w, char *err, size_t errlen)
{
    if (strcmp(w->path, ":memory:") == 0) {
        snprintf(err, errlen, "a volatile (:memory:) store has no readers");
        return NULL;
    }
    store_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->reader = true;
    r->n = w->n;
    r->sync = STORE_SYNC_OFF;
    r->wal_fd = -1;
    snprintf(r->path, sizeof r->path, "%s", w->path);
    /* NOMUTEX: one thread at a time uses a reader (store.h). */
    if (sqlite3_open_v2(r->path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open a reader of %s: %s", r->path,
                 r->db ? sqlite3_errmsg(r->db) : "out of memory");
        store_close(r);
        return NULL;
    }
    sqlite3_busy_timeout(r->db, 5000);
    if (prepare_all(r, err, errlen) < 0) {
        store_close(r);
        return NULL;
    }
    return r;
}

/* The commit number and value_ts of the snapshot, in one statement (the
 * first of the transaction: it fixes the snapshot).  A new store has
 * neither: commit 0, zero value_ts. */
static int read_clock(store_t *r, vts_t *value_ts, uint64_t *commit)
{
    sqlite3_stmt *st = stmt(r, S_READ_CLOCK);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return fail(r, "read the value timestamp");
    }
    *commit = col_u64(st, 0); /* NULL reads as 0 */
    bool bad = sqlite3_column_type(st, 1) != SQLITE_NULL &&
               (col_vts(st, 1, value_ts) < 0 || value_ts->n > r->n);
    sqlite3_reset(st);
    if (bad) {
        snprintf(r->err, sizeof r->err, "corrupt value_ts in meta");
        return -1;
    }
    value_ts->n = r->n;
    return 0;
}

int store_read_begin(store_t *r) { return step_done(r, stmt(r, S_BEGIN_READ), "begin"); }

static unsigned data_version(store_t *r)
{
    unsigned v = 0;
    sqlite3_file_control(r->db, "main", SQLITE_FCNTL_DATA_VERSION, &v);
    return v;
}

/* The clock changes only with the data: while the pager's data version
 * (which moves whenever a read transaction finds the file changed) is the
 * one the cached clock was read at, the snapshot is that one, and the
 * statement is skipped -- it was a third of a query's cost.  The version
 * says so only once the snapshot is fixed, by a first read. */
int store_read_clock(store_t *r, vts_t *value_ts, uint64_t *commit)
{
    bool fixed = sqlite3_txn_state(r->db, "main") != SQLITE_TXN_NONE;
    if (!fixed || !r->clock_valid || data_version(r) != r->clock_version) {
        r->clock_valid = false;
        vts_zero(&r->clock_ts, r->n);
        r->clock_commit = 0;
        if (read_clock(r, &r->clock_ts, &r->clock_commit) < 0)
            return -1;
        r->clock_version = data_version(r); /* the snapshot is fixed now */
        r->clock_valid = true;
    }
    *value_ts = r->clock_ts;
    *commit = r->clock_commit;
    return 0;
}

void store_read_end(store_t *r)
{
    if (!sqlite3_get_autocommit(r->db) && step_done(r, stmt(r, S_COMMIT), "end") < 0)
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

void store_rollback(store_t *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    load_counts(s); /* the in-memory counters follow the data back */
}

/* ---- the value: last writer wins per (user, movie) -------------------- */

struct rating_row {
    uint32_t halves; /* 0: deleted */
    uint64_t stamp;
    upd_id_t uid;
};

static int rating_get(store_t *s, uint32_t user, uint32_t movie, struct rating_row *r)
{
    sqlite3_stmt *st = stmt(s, S_RATING_GET);
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_int64(st, 2, movie);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->halves = (uint32_t)sqlite3_column_int(st, 0);
        r->stamp = col_u64(st, 1);
        r->uid.origin = col_u64(st, 2);
        r->uid.seq = col_u64(st, 3);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read rating");
}

static int movie_stats_add(store_t *s, uint32_t movie, int64_t dn, int64_t dsum)
{
    sqlite3_stmt *st = stmt(s, S_MOVIE_STATS);
    sqlite3_bind_int64(st, 1, movie);
    sqlite3_bind_int64(st, 2, dn);
    sqlite3_bind_int64(st, 3, dsum);
    return step_done(s, st, "update movie stats");
}

/* A movie created twice by one update (see add_movie) lives on under the
 * lower id; the other id is an alias of it.  Only created movies can be
 * aliases.  Sets *to the id to use; -1 on a storage error. */
static int movie_resolve(store_t *s, uint32_t movie, uint32_t *to)
{
    *to = movie;
    if (movie < RT_NEW_MOVIE_BASE)
        return 0;
    sqlite3_stmt *st = stmt(s, S_MOVIE_GET);
    sqlite3_bind_int64(st, 1, movie);
    int rc = sqlite3_step(st);
    uint32_t target = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 5) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(s, "read movie");
    if (target)
        *to = target;
    return 0;
}

/* Write (user, movie) = halves (0 deletes) if (stamp, uid) is newer than
 * what is there; keep counters, per-movie stats and digest in step. */
static int rating_write(store_t *s, uint32_t user, uint32_t movie, uint32_t halves,
                        uint64_t stamp, const upd_id_t *uid)
{
    struct rating_row old = {0};
    if (movie_resolve(s, movie, &movie) < 0)
        return -1;
    int have = rating_get(s, user, movie, &old);
    if (have < 0)
        return -1;
    if (have && lww_cmp(stamp, uid, old.stamp, &old.uid) <= 0)
        return 0; /* an older (or the same) write: the current one stays */
    sqlite3_stmt *st = stmt(s, S_RATING_PUT);
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_int64(st, 2, movie);
    sqlite3_bind_int(st, 3, (int)halves);
    bind_u64(st, 4, stamp);
    bind_u64(st, 5, uid->origin);
    bind_u64(st, 6, uid->seq);
    if (step_done(s, st, "write rating") < 0)
        return -1;
    int64_t dn = (halves > 0) - (have && old.halves > 0);
    int64_t dsum = (int64_t)halves - (have ? (int64_t)old.halves : 0);
    if ((dn || dsum) && movie_stats_add(s, movie, dn, dsum) < 0)
        return -1;
    s->counts.nratings += (uint64_t)dn;
    if (have && old.halves)
        s->counts.digest -= rating_hash(user, movie, old.halves);
    if (halves)
        s->counts.digest += rating_hash(user, movie, halves);
    return 0;
}

/* 1 if created, 0 if the movie was there already, -1 on error. */
static int movie_create(store_t *s, uint32_t movie, const char *title, const char *genres)
{
    sqlite3_stmt *st = stmt(s, S_MOVIE_PUT);
    sqlite3_bind_int64(st, 1, movie);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, genres, -1, SQLITE_STATIC);
    if (step_done(s, st, "create movie") < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0; /* a repeat */
    s->counts.nmovies++;
    s->counts.digest += movie_hash(movie, title, genres);
    return 1;
}

static int executed_put(store_t *s, const upd_id_t *uid, const vts_t *ts, uint32_t movie)
{
    if (uid_is_zero(uid))
        return 0;
    sqlite3_stmt *st = stmt(s, S_EXEC_PUT);
    bind_u64(st, 1, uid->origin);
    bind_u64(st, 2, uid->seq);
    bind_vts(st, 3, ts);
    sqlite3_bind_int64(st, 4, movie);
    if (step_done(s, st, "record executed update") < 0)
        return -1;
    s->counts.executed += (uint64_t)sqlite3_changes(s->db);
    return 0;
}

/* Run a one-off statement with parameters ?1 = a (and ?2 = b if used). */
static int exec_sql(store_t *s, const char *sql, const char *what, int64_t a, int64_t b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, what);
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

/* Move every rating of movie `from` to movie `to` (last writer wins
 * there), then make `from` an alias of `to`. */
static int movie_merge(store_t *s, uint32_t from, uint32_t to)
{
    movie_info_t old;
    int have = store_movie(s, from, &old);
    if (have == 0)
        snprintf(s->err, sizeof s->err, "merge movies: movie %u is missing", from);
    if (have <= 0)
        return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT user, halves, stamp, uid_origin, uid_seq FROM ratings "
                                  "WHERE movie = ?1 AND user > ?2 ORDER BY user LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "merge movies");
    int64_t after = -1;
    int rc = 0;
    while (rc == 0) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, from);
        sqlite3_bind_int64(st, 2, after);
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) { /* not the end: the rest must not be deleted */
            rc = fail(s, "merge movies");
            break;
        }
        uint32_t user = (uint32_t)sqlite3_column_int64(st, 0);
        uint32_t halves = (uint32_t)sqlite3_column_int64(st, 1);
        upd_id_t uid = {col_u64(st, 3), col_u64(st, 4)};
        uint64_t stamp = col_u64(st, 2);
        after = user;
        if (halves) { /* the live rating leaves `from`: counters and digest */
            s->counts.nratings--;
            s->counts.digest -= rating_hash(user, from, halves);
        }
        rc = rating_write(s, user, to, halves, stamp, &uid);
    }
    sqlite3_finalize(st);
    if (rc < 0 || exec_sql(s, "DELETE FROM ratings WHERE movie = ?1", "merge movies", from, 0) < 0 ||
        exec_sql(s, "UPDATE movies SET alias_of = ?2, nratings = 0, sum_halves = 0 WHERE movie = ?1",
                 "merge movies", from, to) < 0)
        return -1;
    s->counts.nmovies--;
    s->counts.digest -= movie_hash(from, old.title, old.genres);
    return exec_sql(s, "UPDATE executed SET movie = ?2 WHERE movie = ?1", "merge movies", from, to);
}

/* OP_ADD_MOVIE.  When a replica accepted it, died before replying, and
 * the front end retried it elsewhere, two records of one update exist,
 * with two movie ids.  Every replica keeps the lower id whatever order
 * they arrive in: the higher becomes an alias whose ratings move over, and
 * later ratings or lookups of it are redirected.  So the retry creates one
 * movie, and replicas agree on which. */
static int add_movie(store_t *s, const urec_t *r)
{
    const op_t *op = &r->op;
    vts_t ts;
    uint32_t prior = 0;
    int seen = uid_is_zero(&r->uid) ? 0 : store_executed_find(s, &r->uid, &ts, &prior);
    if (seen < 0)
        return -1;
    uint32_t keep = op->movie;
    if (seen && prior && prior != op->movie) {
        keep = prior < op->movie ? prior : op->movie;
        if (keep == prior) { /* we have the keeper: this id is an alias */
            if (exec_sql(s, "INSERT OR IGNORE INTO movies(movie, title, genres, nratings, "
                            "sum_halves, alias_of) VALUES (?1, '', '', 0, 0, ?2)",
                         "record a movie alias", op->movie, prior) < 0)
                return -1;
        } else if (movie_create(s, keep, op->title, op->genres) < 0 ||
                   movie_merge(s, prior, keep) < 0) {
            return -1;
        }
    } else if (movie_create(s, keep, op->title, op->genres) < 0) {
        return -1;
    }
    if (rating_write(s, op->user, keep, op->halves, r->stamp, &r->uid) < 0)
        return -1;
    return executed_put(s, &r->uid, &r->ts, keep);
}

int store_apply(store_t *s, const urec_t *r)
{
    const op_t *op = &r->op;
    int rc = 0;
    switch (op->kind) {
    case OP_RATE:
        rc = rating_write(s, op->user, op->movie, op->halves, r->stamp, &r->uid);
        break;
    case OP_DELETE:
        rc = rating_write(s, op->user, op->movie, 0, r->stamp, &r->uid);
        break;
    case OP_ADD_MOVIE:
        return add_movie(s, r);
    default:
        snprintf(s->err, sizeof s->err, "unknown operation %d", (int)op->kind);
        return -1;
    }
    return rc < 0 ? -1 : executed_put(s, &r->uid, &r->ts, op->movie);
}

int store_key_stamp(store_t *s, uint32_t user, uint32_t movie, uint64_t *stamp, bool *live)
{
    struct rating_row r = {0};
    if (movie_resolve(s, movie, &movie) < 0)
        return -1;
    int rc = rating_get(s, user, movie, &r);
    if (rc == 1) {
        *stamp = r.stamp;
        *live = r.halves > 0;
    }
    return rc;
}

int store_executed_find(store_t *s, const upd_id_t *uid, vts_t *ts, uint32_t *movie)
{
    sqlite3_stmt *st = stmt(s, S_EXEC_GET);
    bind_u64(st, 1, uid->origin);
    bind_u64(st, 2, uid->seq);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (col_vts(st, 0, ts) < 0)
            rc = SQLITE_CORRUPT;
        *movie = (uint32_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read executed");
}

/* ---- queries --------------------------------------------------------- */

static void col_movie(sqlite3_stmt *st, movie_info_t *m)
{
    m->alias_of = sqlite3_column_count(st) > 5 ? (uint32_t)sqlite3_column_int64(st, 5) : 0;
    m->movie = (uint32_t)sqlite3_column_int64(st, 0);
    col_text(st, 1, m->title, sizeof m->title);
    col_text(st, 2, m->genres, sizeof m->genres);
    m->nratings = (uint32_t)sqlite3_column_int64(st, 3);
    m->sum_halves = col_u64(st, 4);
}

int store_movie(store_t *s, uint32_t movie, movie_info_t *out)
{
    if (movie_resolve(s, movie, &movie) < 0)
        return -1;
    sqlite3_stmt *st = stmt(s, S_MOVIE_GET);
    sqlite3_bind_int64(st, 1, movie);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        col_movie(st, out);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read movie");
}

int store_title_search(store_t *s, const char *pattern, movie_info_t *out, size_t max,
                       size_t *nout)
{
    /* LIKE is ASCII case-insensitive; escape its wildcards in the input. */
    char like[2 * RT_MAX_TITLE + 3];
    size_t j = 0;
    *nout = 0;
    if (strlen(pattern) > RT_MAX_TITLE)
        return 0; /* longer than any title (and than the buffer) */
    like[j++] = '%';
    for (const char *p = pattern; *p && j < sizeof like - 3; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            like[j++] = '\\';
        like[j++] = *p;
    }
    like[j++] = '%';
    like[j] = '\0';
    sqlite3_stmt *st = stmt(s, S_TITLE_SEARCH);
    sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *nout < max)
        col_movie(st, &out[(*nout)++]);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(s, "search titles");
}

int store_rating(store_t *s, uint32_t user, uint32_t movie, uint32_t *halves)
{
    struct rating_row r = {0};
    if (movie_resolve(s, movie, &movie) < 0)
        return -1;
    int rc = rating_get(s, user, movie, &r);
    if (rc == 1 && r.halves == 0)
        return 0; /* a tombstone: deleted */
    if (rc == 1)
        *halves = r.halves;
    return rc;
}

int store_user_ratings(store_t *s, uint32_t user, uint32_t offset, uint32_t limit,
                       user_rating_t *out, size_t *nout, uint32_t *total)
{
    sqlite3_stmt *st = stmt(s, S_USER_COUNT);
    sqlite3_bind_int64(st, 1, user);
    int rc = sqlite3_step(st);
    *total = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return fail(s, "count user ratings");
    st = stmt(s, S_USER_PAGE);
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    *nout = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *nout < limit) {
        out[*nout].movie = (uint32_t)sqlite3_column_int64(st, 0);
        out[*nout].halves = (uint32_t)sqlite3_column_int(st, 1);
        (*nout)++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail(s, "read user ratings");
    return *total > 0 ? 1 : 0;
}

int store_counts(store_t *s, store_counts_t *out)
{
    *out = s->counts;
    return 0;
}

/* ---- replica state ---------------------------------------------------- */

int store_save_ts(store_t *s, const vts_t *replica_ts, const vts_t *value_ts,
                  const vts_t *table, uint32_t n)
{
    char one[VTS_TEXT_MAX];
    char *buf = malloc(TABLE_TEXT_MAX);
    if (!buf) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    size_t off = 0;
    buf[0] = '\0';
    for (uint32_t k = 0; k < n && k < VTS_MAX; k++)
        off += (size_t)snprintf(buf + off, TABLE_TEXT_MAX - off, "%s%s", k ? ";" : "",
                                vts_format(&table[k], one, sizeof one));
    int rc = -1;
    if (meta_put_text(s, "replica_ts", vts_format(replica_ts, one, sizeof one)) == 0 &&
        meta_put_text(s, "value_ts", vts_format(value_ts, one, sizeof one)) == 0 &&
        meta_put_text(s, "table", buf) == 0) {
        s->is_new = false;
        rc = 0;
    }
    free(buf);
    return rc;
}

static int load_vts(store_t *s, const char *key, vts_t *v, uint32_t n)
{
    char buf[VTS_TEXT_MAX];
    int rc = meta_get_text(s, key, buf, sizeof buf);
    if (rc <= 0)
        return rc;
    if (vts_parse(v, buf) < 0 || v->n > n) {
        snprintf(s->err, sizeof s->err, "corrupt %s in meta: %.64s", key, buf);
        return -1;
    }
    v->n = n;
    return 1;
}

/* "[..];[..];..": n vectors of at most n entries each, padded to n. */
static int parse_table(char *text, vts_t *table, uint32_t n)
{
    char *save = NULL, *row = strtok_r(text, ";", &save);
    for (uint32_t k = 0; k < n; k++, row = strtok_r(NULL, ";", &save)) {
        if (!row || vts_parse(&table[k], row) < 0 || table[k].n > n)
            return -1;
        table[k].n = n;
    }
    return 0;
}

int store_load_ts(store_t *s, vts_t *replica_ts, vts_t *value_ts, vts_t *table, uint32_t n)
{
    int rc = load_vts(s, "replica_ts", replica_ts, n);
    if (rc <= 0)
        return rc;
    if (load_vts(s, "value_ts", value_ts, n) < 0)
        return -1;
    char *buf = malloc(TABLE_TEXT_MAX);
    if (!buf) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    rc = meta_get_text(s, "table", buf, TABLE_TEXT_MAX);
    if (rc >= 0 && parse_table(buf, table, n) < 0) {
        snprintf(s->err, sizeof s->err, "corrupt timestamp table in meta");
        rc = -1;
    }
    free(buf);
    return rc < 0 ? -1 : 1;
}

/* The log key is (origin, ts[origin]): an origin past the vector would
 * read outside it. */
static int log_origin_ok(store_t *s, const urec_t *r)
{
    if (r->origin < s->n && r->origin < VTS_MAX)
        return 0;
    snprintf(s->err, sizeof s->err, "log record from replica %u, but there are %u replicas",
             r->origin, s->n);
    return -1;
}

int store_log_put(store_t *s, const urec_t *r)
{
    if (log_origin_ok(s, r) < 0)
        return -1;
    sqlite3_stmt *st = stmt(s, S_LOG_PUT);
    sqlite3_bind_int64(st, 1, r->origin);
    bind_u64(st, 2, r->ts.t[r->origin]);
    bind_vts(st, 3, &r->ts);
    bind_vts(st, 4, &r->prev);
    bind_u64(st, 5, r->uid.origin);
    bind_u64(st, 6, r->uid.seq);
    bind_u64(st, 7, r->stamp);
    sqlite3_bind_int(st, 8, (int)r->op.kind);
    sqlite3_bind_int64(st, 9, r->op.user);
    sqlite3_bind_int64(st, 10, r->op.movie);
    sqlite3_bind_int64(st, 11, r->op.halves);
    sqlite3_bind_text(st, 12, r->op.title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, r->op.genres, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 14, r->applied);
    return step_done(s, st, "write log record");
}

int store_log_del(store_t *s, const urec_t *r)
{
    if (log_origin_ok(s, r) < 0)
        return -1;
    sqlite3_stmt *st = stmt(s, S_LOG_DEL);
    sqlite3_bind_int64(st, 1, r->origin);
    bind_u64(st, 2, r->ts.t[r->origin]);
    return step_done(s, st, "delete log record");
}

int store_log_each(store_t *s, int (*fn)(void *arg, const urec_t *r), void *arg)
{
    sqlite3_stmt *st = stmt(s, S_LOG_ALL);
    int rc;
    urec_t r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&r, 0, sizeof r);
        r.origin = (uint32_t)sqlite3_column_int64(st, 0);
        if (col_vts(st, 2, &r.ts) < 0 || col_vts(st, 3, &r.prev) < 0 || r.origin >= s->n) {
            sqlite3_reset(st);
            snprintf(s->err, sizeof s->err, "corrupt log record");
            return -1;
        }
        r.ts.n = r.prev.n = s->n;
        r.uid.origin = col_u64(st, 4);
        r.uid.seq = col_u64(st, 5);
        r.stamp = col_u64(st, 6);
        r.op.kind = (rt_op_kind)sqlite3_column_int(st, 7);
        r.op.user = (uint32_t)sqlite3_column_int64(st, 8);
        r.op.movie = (uint32_t)sqlite3_column_int64(st, 9);
        r.op.halves = (uint32_t)sqlite3_column_int64(st, 10);
        col_text(st, 11, r.op.title, sizeof r.op.title);
        col_text(st, 12, r.op.genres, sizeof r.op.genres);
        r.applied = sqlite3_column_int(st, 13) != 0;
        if (fn(arg, &r) != 0) {
            sqlite3_reset(st);
            snprintf(s->err, sizeof s->err, "cannot restore the log");
            return -1;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail(s, "read log");
}

/* ---- import ----------------------------------------------------------- */

/* One CSV file of the data set, and where its errors go. */
struct import_file {
    char path[4096];
    csv_t *c;
    char *err;
    size_t errlen;
};

static void import_error(struct import_file *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void import_error(struct import_file *im, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(im->err, im->errlen, "%s:%zu: %s", im->path, im->c ? csv_line(im->c) : 0, msg);
}

/* The first row must name the columns: a file without a header would
 * silently lose its first row, and a swapped file fails here, once. */
static bool header_is(char **f, int nf, const char *const *names, int n)
{
    if (nf != n)
        return false;
    for (int i = 0; i < n; i++) {
        const char *got = f[i];
        if (i == 0 && strncmp(got, "\xef\xbb\xbf", 3) == 0)
            got += 3; /* a UTF-8 byte order mark */
        if (strcmp(got, names[i]) != 0)
            return false;
    }
    return true;
}

static int import_open(struct import_file *im, const char *dir, const char *name,
                       const char *const *cols, int ncols, char *err, size_t errlen)
{
    memset(im, 0, sizeof *im);
    im->err = err;
    im->errlen = errlen;
    snprintf(im->path, sizeof im->path, "%s/%s", dir, name);
    if (!(im->c = csv_open(im->path, err, errlen)))
        return -1;
    char *f[8];
    int nf = csv_row(im->c, f, 8);
    if (nf < 0) {
        import_error(im, "%s", csv_error(im->c));
        return -1;
    }
    if (nf == 0 || !header_is(f, nf, cols, ncols)) {
        char want[128] = "";
        for (int i = 0; i < ncols; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? "," : "",
                     cols[i]);
        import_error(im, "expected the header line %s", want);
        return -1;
    }
    return 0;
}

/* The next row that is not blank: 1, 0 at the end, -1 on an error. */
static int import_row(struct import_file *im, char **f, int max, int *nf)
{
    do {
        *nf = csv_row(im->c, f, max);
        if (*nf < 0) {
            import_error(im, "%s", csv_error(im->c));
            return -1;
        }
    } while (*nf == 1 && f[0][0] == '\0');
    return *nf > 0;
}

/* A positive decimal id that fits in 31 bits: digits only (strtoul would
 * take blanks, signs and wrap negative numbers). */
static int field_id(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (0x7fffffffu - (uint32_t)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    if (v == 0)
        return -1;
    *out = v;
    return 0;
}

/* Unix seconds to a millisecond stamp that fits in 64 bits. */
static int field_stamp(const char *p, uint64_t *ms)
{
    uint64_t v = 0;
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX / 1000 - (uint64_t)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *ms = v * 1000;
    return 0;
}

/* "4.0", "3.5", "4", "0.50" as half stars, exactly.  Not strtod: it
 * takes "nan", hex and exponents, and depends on the locale. */
static int field_halves(const char *p, uint32_t *out)
{
    uint32_t whole = 0, half = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > 2)
            return -1;
        whole = whole * 10 + (uint32_t)(*p - '0');
    }
    if (digits == 0)
        return -1;
    if (*p == '.') {
        p++;
        if (*p != '0' && *p != '5')
            return -1;
        half = *p++ == '5';
        while (*p == '0')
            p++;
    }
    uint32_t h = whole * 2 + half;
    if (*p || h < RT_HALVES_MIN || h > RT_HALVES_MAX)
        return -1;
    *out = h;
    return 0;
}

static bool has_control(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* Why a movies.csv row cannot be imported, or NULL. */
static const char *movie_row_error(char **f, int nf, uint32_t *movie)
{
    if (nf != 3 || field_id(f[0], movie) < 0)
        return "expected movieId,title,genres with a positive movieId";
    if (*movie >= RT_NEW_MOVIE_BASE)
        return "movie ids from 1000000000 up are kept for movies added later";
    if (f[1][0] == '\0')
        return "a movie needs a title";
    if (strlen(f[1]) > RT_MAX_TITLE)
        return "title longer than 255 bytes";
    if (strlen(f[2]) > RT_MAX_GENRES)
        return "genres longer than 255 bytes";
    if (has_control(f[1]) || has_control(f[2]))
        return "control character in the title or genres";
    return NULL;
}

static int import_movie(store_t *s, struct import_file *im, char **f, int nf)
{
    uint32_t movie = 0;
    const char *why = movie_row_error(f, nf, &movie);
    int rc = why ? -1 : movie_create(s, movie, f[1], f[2]);
    if (rc == 1)
        return 0;
    if (why)
        import_error(im, "%s", why);
    else if (rc == 0) /* INSERT OR IGNORE kept the first: a lost title */
        import_error(im, "movie %u appears twice", movie);
    else
        import_error(im, "%s", s->err);
    return -1;
}

static int import_movies(store_t *s, const char *dir, char *err, size_t errlen)
{
    static const char *const cols[] = {"movieId", "title", "genres"};
    struct import_file im;
    char *f[8];
    int nf, rc = import_open(&im, dir, "movies.csv", cols, 3, err, errlen);
    while (rc == 0 && (rc = import_row(&im, f, 8, &nf)) == 1)
        rc = import_movie(s, &im, f, nf);
    csv_close(im.c);
    return rc;
}

/* Rows of a file (lines less the header): the total of the progress line.
 * A quoted line break would count twice; ratings.csv has none. */
static uint64_t count_rows(const char *path)
{
    enum { CHUNK = 1 << 16 };
    FILE *f = fopen(path, "rb");
    char *buf = malloc(CHUNK);
    uint64_t lines = 0;
    char last = '\n';
    size_t n;
    while (f && buf && (n = fread(buf, 1, CHUNK, f)) > 0) {
        for (size_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
        last = buf[n - 1];
    }
    if (f)
        fclose(f);
    free(buf);
    lines += last != '\n';
    return lines ? lines - 1 : 0;
}

static int import_rating(store_t *s, struct import_file *im, char **f, int nf)
{
    static const upd_id_t none = {0, 0};
    uint32_t user, movie, halves;
    uint64_t stamp;
    movie_info_t m;
    if (nf != 4 || field_id(f[0], &user) < 0 || field_id(f[1], &movie) < 0 ||
        field_stamp(f[3], &stamp) < 0) {
        import_error(im, "expected userId,movieId,rating,timestamp with positive ids and "
                         "the timestamp in seconds");
        return -1;
    }
    if (field_halves(f[2], &halves) < 0) {
        import_error(im, "rating \"%.16s\": expected a rating from 0.5 to 5.0 in steps of 0.5",
                     f[2]);
        return -1;
    }
    int known = store_movie(s, movie, &m);
    if (known <= 0) {
        import_error(im, "movie %u is not in movies.csv%s%s", movie, known < 0 ? ": " : "",
                     known < 0 ? s->err : "");
        return -1;
    }
    if (rating_write(s, user, movie, halves, stamp, &none) < 0) {
        import_error(im, "%s", s->err);
        return -1;
    }
    return 0;
}

static int import_ratings(store_t *s, const char *dir, bool progress, char *err, size_t errlen)
{
    static const char *const cols[] = {"userId", "movieId", "rating", "timestamp"};
    struct import_file im;
    char *f[8];
    int nf, rc = import_open(&im, dir, "ratings.csv", cols, 4, err, errlen);
    uint64_t rows = 0, total = rc == 0 && progress ? count_rows(im.path) : 0;
    while (rc == 0 && (rc = import_row(&im, f, 8, &nf)) == 1) {
        rc = import_rating(s, &im, f, nf);
        if (progress && ++rows % 10000 == 0)
            fprintf(stderr, "\rimporting ratings: %llu/%llu", (unsigned long long)rows,
                    (unsigned long long)total);
    }
    if (progress && rc == 0)
        fprintf(stderr, "\rimporting ratings: %llu/%llu, done\n", (unsigned long long)rows,
                (unsigned long long)rows);
    else if (progress && rows >= 10000)
        fputc('\n', stderr); /* end the progress line before the error */
    csv_close(im.c);
    return rc;
}

int store_import_movielens(store_t *s, const char *dir, bool progress, char *err, size_t errlen)
{
    if (!s->is_new) {
        snprintf(err, errlen, "%s already holds data; import into a new database", s->path);
        return -1;
    }
    if (store_begin(s) < 0) {
        snprintf(err, errlen, "%s", s->err);
        return -1;
    }
    if (import_movies(s, dir, err, errlen) < 0 || import_ratings(s, dir, progress, err, errlen) < 0)
        goto fail;
    if (meta_put_u64(s, "imported", 1) < 0 || store_commit(s) < 0) {
        snprintf(err, errlen, "%s", s->err);
        goto fail;
    }
    s->is_new = false;
    return 0;
fail:
    store_rollback(s);
    return -1;
}

/* ---- identity ------------------------------------------------------------ */

uint64_t store_epoch(store_t *s) { return s->epoch; }

int store_meta_get(store_t *s, const char *key, char *buf, size_t cap)
{
    return meta_get_text(s, key, buf, cap);
}

int store_meta_put(store_t *s, const char *key, const char *val)
{
    return meta_put_text(s, key, val);
}

/* ---- snapshot: reading a consistent view --------------------------------- */

struct store_snap {
    sqlite3 *db;
    uint32_t n;
    char err[256];
};

store_snap_t *store_snap_open(store_t *s, char *err, size_t errlen)
{
    if (strcmp(s->path, ":memory:") == 0) {
        snprintf(err, errlen, "a volatile (:memory:) replica cannot give a snapshot");
        return NULL;
    }
    store_snap_t *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->n = s->n;
    /* BEGIN + a first read pins the view: later commits of the replica
     * are not seen through this connection. */
    if (sqlite3_open_v2(s->path, &v->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_exec(v->db, "BEGIN; SELECT COUNT(*) FROM meta;", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open a snapshot of %s: %s", s->path,
                 v->db ? sqlite3_errmsg(v->db) : "");
        store_snap_close(v);
        return NULL;
    }
    return v;
}

void store_snap_close(store_snap_t *v)
{
    if (!v)
        return;
    sqlite3_close(v->db);
    free(v);
}

static sqlite3_stmt *snap_prepare(store_snap_t *v, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

static int snap_meta_text(store_snap_t *v, const char *key, char *buf, size_t cap)
{
    sqlite3_stmt *st = snap_prepare(v, "SELECT value FROM meta WHERE key = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        col_text(st, 0, buf, cap);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Counters are stored as the int64 bit pattern of the uint64 value. */
static int snap_meta_u64(store_snap_t *v, const char *key, uint64_t *out)
{
    sqlite3_stmt *st = snap_prepare(v, "SELECT value FROM meta WHERE key = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = col_u64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A saved vector of at most n entries, padded to n; 0 if absent. */
static int snap_vts(store_snap_t *v, const char *key, char *buf, vts_t *out, uint32_t n)
{
    int rc = snap_meta_text(v, key, buf, VTS_TEXT_MAX);
    if (rc == 1 && (vts_parse(out, buf) < 0 || out->n > n))
        return -1;
    out->n = n;
    return rc;
}

static int snap_table(store_snap_t *v, vts_t *table, uint32_t n)
{
    char *buf = malloc(TABLE_TEXT_MAX);
    if (!buf)
        return -1;
    int rc = snap_meta_text(v, "table", buf, TABLE_TEXT_MAX);
    if (rc == 1 && parse_table(buf, table, n) < 0)
        rc = -1;
    free(buf);
    return rc;
}

int store_snap_header(store_snap_t *v, vts_t *replica_ts, vts_t *value_ts, vts_t *table,
                      uint32_t n, store_counts_t *c)
{
    char buf[VTS_TEXT_MAX];
    uint64_t nm = 0;
    memset(c, 0, sizeof *c);
    vts_zero(replica_ts, n);
    vts_zero(value_ts, n);
    for (uint32_t k = 0; k < n; k++)
        vts_zero(&table[k], n);
    if (snap_vts(v, "replica_ts", buf, replica_ts, n) < 0 ||
        snap_vts(v, "value_ts", buf, value_ts, n) < 0 || snap_table(v, table, n) < 0)
        return -1;
    if (snap_meta_u64(v, "nratings", &c->nratings) < 0 || snap_meta_u64(v, "nmovies", &nm) < 0 ||
        snap_meta_u64(v, "executed", &c->executed) < 0 ||
        snap_meta_u64(v, "digest", &c->digest) < 0)
        return -1;
    c->nmovies = (uint32_t)nm;
    return 0;
}

int store_snap_movies(store_snap_t *v, uint32_t after, movie_info_t *out, size_t max,
                      size_t *nout)
{
    sqlite3_stmt *st = snap_prepare(v, "SELECT movie, title, genres, nratings, sum_halves, "
                                       "alias_of FROM movies WHERE movie > ?1 ORDER BY movie "
                                       "LIMIT ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    int rc;
    for (*nout = 0; (rc = sqlite3_step(st)) == SQLITE_ROW && *nout < max; (*nout)++)
        col_movie(st, &out[*nout]);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int store_snap_ratings(store_snap_t *v, uint32_t after_user, uint32_t after_movie,
                       snap_rating_t *out, size_t max, size_t *nout)
{
    sqlite3_stmt *st = snap_prepare(v, "SELECT user, movie, halves, stamp, uid_origin, uid_seq "
                                       "FROM ratings WHERE (user, movie) > (?1, ?2) "
                                       "ORDER BY user, movie LIMIT ?3");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, after_user);
    sqlite3_bind_int64(st, 2, after_movie);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    int rc;
    for (*nout = 0; (rc = sqlite3_step(st)) == SQLITE_ROW && *nout < max; (*nout)++) {
        snap_rating_t *r = &out[*nout];
        r->user = (uint32_t)sqlite3_column_int64(st, 0);
        r->movie = (uint32_t)sqlite3_column_int64(st, 1);
        r->halves = (uint32_t)sqlite3_column_int64(st, 2);
        r->stamp = col_u64(st, 3);
        r->uid.origin = col_u64(st, 4);
        r->uid.seq = col_u64(st, 5);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int store_snap_executed(store_snap_t *v, const upd_id_t *after, snap_exec_t *out, size_t max,
                        size_t *nout)
{
    sqlite3_stmt *st = snap_prepare(v, "SELECT uid_origin, uid_seq, ts, movie FROM executed "
                                       "WHERE (uid_origin, uid_seq) > (?1, ?2) "
                                       "ORDER BY uid_origin, uid_seq LIMIT ?3");
    if (!st)
        return -1;
    bind_u64(st, 1, after->origin);
    bind_u64(st, 2, after->seq);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    int rc;
    for (*nout = 0; (rc = sqlite3_step(st)) == SQLITE_ROW && *nout < max; (*nout)++) {
        snap_exec_t *e = &out[*nout];
        e->uid.origin = col_u64(st, 0);
        e->uid.seq = col_u64(st, 1);
        if (col_vts(st, 2, &e->ts) < 0)
            rc = SQLITE_CORRUPT;
        e->movie = (uint32_t)sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

struct snap_log_page {
    urec_t *out;
    size_t max, n;
    uint32_t after_origin;
    uint64_t after_seq;
};

static int snap_log_collect(void *arg, const urec_t *r)
{
    struct snap_log_page *pg = arg;
    uint64_t seq = r->ts.t[r->origin];
    if (r->origin < pg->after_origin || (r->origin == pg->after_origin && seq <= pg->after_seq))
        return 0;
    if (pg->n < pg->max)
        pg->out[pg->n++] = *r;
    return 0;
}

int store_snap_log(store_snap_t *v, uint32_t after_origin, uint64_t after_seq, urec_t *out,
                   size_t max, size_t *nout)
{
    /* The log is read with the replica's own row decoder: the view's
     * connection is wrapped in a temporary store_t of the same shape. */
    store_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.db = v->db;
    tmp.n = v->n;
    if (sqlite3_prepare_v2(v->db, stmt_sql[S_LOG_ALL], -1, &tmp.st[S_LOG_ALL], NULL) != SQLITE_OK)
        return -1;
    struct snap_log_page pg = {out, max, 0, after_origin, after_seq};
    int rc = store_log_each(&tmp, snap_log_collect, &pg);
    sqlite3_finalize(tmp.st[S_LOG_ALL]);
    *nout = pg.n;
    return rc;
}

/* ---- snapshot: installing one ----------------------------------------- */

int store_put_movie(store_t *s, const movie_info_t *m)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO movies(movie, title, genres, nratings, "
                                  "sum_halves, alias_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "install movie");
    sqlite3_bind_int64(st, 6, m->alias_of);
    sqlite3_bind_int64(st, 1, m->movie);
    sqlite3_bind_text(st, 2, m->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->genres, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, m->nratings);
    bind_u64(st, 5, m->sum_halves);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(s, "install movie");
}

int store_put_rating(store_t *s, const snap_rating_t *r)
{
    sqlite3_stmt *st = stmt(s, S_RATING_PUT);
    sqlite3_bind_int64(st, 1, r->user);
    sqlite3_bind_int64(st, 2, r->movie);
    sqlite3_bind_int(st, 3, (int)r->halves);
    bind_u64(st, 4, r->stamp);
    bind_u64(st, 5, r->uid.origin);
    bind_u64(st, 6, r->uid.seq);
    return step_done(s, st, "install rating");
}

int store_put_executed(store_t *s, const snap_exec_t *e)
{
    return executed_put(s, &e->uid, &e->ts, e->movie);
}

int store_finish_snapshot(store_t *s, const store_counts_t *counts)
{
    s->counts = *counts;
    if (meta_put_u64(s, "imported", 1) < 0)
        return -1;
    s->is_new = false;
    return 0;
}
