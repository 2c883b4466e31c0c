/*
 * store.c -- the core of a replica's durable state in SQLite (store.h):
 * opening a database and checking that it is ours and whole, the schema,
 * transactions and their numbering, durability, readers and their clock,
 * and the small named values of meta.  The value, the log, snapshots and
 * the import are files of their own (store_int.h lists them).
 *
 * Tables (readable with the sqlite3 tool, docs/operations.md):
 *   meta(key, value)                     format, replica id, timestamps, counters
 *   movies(movie, title, genres, nratings, sum_halves, alias_of)
 *   ratings(user, movie, halves, stamp, uid_origin, uid_seq)   halves 0 = deleted
 *   executed(uid_origin, uid_seq, ts, movie, stamp, digest)
 *   log(origin, seq, ts, prev, uid_origin, uid_seq, stamp, kind, user, movie,
 *       halves, title, genres, applied)
 *   digests(bucket, owner, rows, digest)  the digest tree (store_repair.c)
 *
 * Opening: the directory must be writable; the file is checked (SQLite's
 * quick_check, the ratings of a large file left to store_check_file) and
 * must hold no other program's tables before anything is written to it;
 * then WAL mode, the schema, and the identity in meta (format, replica id
 * and count, epoch), which must match the caller's.
 *
 * Counters (live ratings, movies, executed rows) and the digest (the root
 * of the digest tree, store_repair.c) are kept in memory and written to
 * meta in the same transaction as the change (store_commit), so STATUS
 * costs nothing and the numbers survive a crash with the data; a rollback
 * reads them back.  Each commit also stores its
 * number, which a reader's clock (store_read_clock) reports with the
 * value timestamp of the same commit.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_FORMAT 1

static const char *const stmt_sql[S_COUNT] = {
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
    [S_MOVIE_GET] = "SELECT " MOVIE_COLUMNS " FROM movies WHERE movie = ?1",
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
    [S_EXEC_GET] = "SELECT ts, movie, stamp, digest FROM executed WHERE uid_origin = ?1 AND "
                   "uid_seq = ?2",
    [S_EXEC_PUT] = "INSERT OR IGNORE INTO executed(uid_origin, uid_seq, ts, movie, stamp, digest) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_LOG_PUT] = "INSERT OR REPLACE INTO log(" LOG_COLUMNS ") "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [S_LOG_DEL] = "DELETE FROM log WHERE origin = ?1 AND seq = ?2",
    [S_LOG_ALL] = "SELECT " LOG_COLUMNS " FROM log ORDER BY origin, seq",
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
    " ts TEXT NOT NULL, movie INTEGER NOT NULL, stamp INTEGER NOT NULL DEFAULT 0,"
    " digest INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(uid_origin, uid_seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS log(origin INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " ts TEXT NOT NULL, prev TEXT NOT NULL, uid_origin INTEGER NOT NULL, uid_seq INTEGER NOT NULL,"
    " stamp INTEGER NOT NULL, kind INTEGER NOT NULL, user INTEGER, movie INTEGER, halves INTEGER,"
    " title TEXT, genres TEXT, applied INTEGER NOT NULL, PRIMARY KEY(origin, seq));";
/* ---- errors ---------------------------------------------------------- */

const char *store_errmsg(store_t *s) { return s->err; }

/* ---- meta ------------------------------------------------------------ */

int store_meta_put(store_t *s, const char *key, const char *val)
{
    sqlite3_stmt *st = stmt(s, S_META_PUT);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, val, -1, SQLITE_TRANSIENT);
    return step_done(s, st, "write meta");
}

int store_meta_get(store_t *s, const char *key, char *buf, size_t cap)
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

int store_load_counts(store_t *s)
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

int store_counts(store_t *s, store_counts_t *out)
{
    *out = s->counts;
    return 0;
}

/* ---- open / close ---------------------------------------------------- */

int store_exec(store_t *s, const char *sql)
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

/* A new random epoch, never 0 and never `old`. */
static uint64_t random_epoch(uint64_t old)
{
    uint64_t e = 0;
    while (e == 0 || e == old)
        if (getrandom(&e, sizeof e, 0) != sizeof e)
            e = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ old;
    return e;
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
        s->epoch = random_epoch(0);
        if (store_exec(s, "BEGIN") < 0 || meta_put_u64(s, "format", STORE_FORMAT) < 0 ||
            meta_put_u64(s, "epoch", s->epoch) < 0 ||
            meta_put_u64(s, "replica_id", id) < 0 || meta_put_u64(s, "nreplicas", n) < 0 ||
            store_exec(s, "COMMIT") < 0) {
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
        (saved = store_meta_get(s, "replica_ts", buf, sizeof buf)) < 0) {
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

/* Columns that databases made by an earlier ratingd lack: movie aliases,
 * and the stamp and operation digest of executed updates (0: not known). */
static const struct { const char *table, *column, *def; } added_columns[] = {
    {"movies", "alias_of", "INTEGER NOT NULL DEFAULT 0"},
    {"executed", "stamp", "INTEGER NOT NULL DEFAULT 0"},
    {"executed", "digest", "INTEGER NOT NULL DEFAULT 0"},
};

static int migrate(store_t *s)
{
    for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++) {
        char sql[256];
        sqlite3_stmt *st = NULL;
        snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name = '%s'",
                 added_columns[i].table, added_columns[i].column);
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
            return fail(s, "read the schema");
        int have = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", added_columns[i].table,
                 added_columns[i].column, added_columns[i].def);
        if (!have && store_exec(s, sql) < 0)
            return -1;
    }
    return 0;
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
    if (quick_check(s) < 0 || foreign_file(s) < 0 || store_exec(s, pragmas) < 0 ||
        store_exec(s, schema) < 0 || migrate(s) < 0) {
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
    if (store_load_counts(s) < 0 || store_repair_open(s) < 0) {
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
    store_repair_close(s);
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
    if (store_repair_flush(s) < 0 || save_counts(s) < 0)
        return -1;
    return step_done(s, stmt(s, S_COMMIT), "commit");
}

void store_rollback(store_t *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    store_load_counts(s); /* the in-memory counters follow the data back */
    store_repair_rollback(s); /* and the digest tree */
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

/* ---- identity ------------------------------------------------------------ */

uint64_t store_epoch(store_t *s) { return s->epoch; }

int store_new_epoch(store_t *s)
{
    uint64_t e = random_epoch(s->epoch);
    if (meta_put_u64(s, "epoch", e) < 0)
        return -1;
    s->epoch = e; /* (a rollback leaves the new one in memory: harmless, peers reset once more) */
    return 0;
}

