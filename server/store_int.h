/*
 * store_int.h -- what the files of the store share, and nothing outside
 * them may use: the connection (struct store), the prepared statements,
 * and the small helpers that bind and read columns and meta values.
 *
 * The store is one module in five files, one concern each, like SQLite's
 * pager and WAL; each file's opening comment is its specification:
 *
 *   store.c         opening, schema and identity, the integrity check,
 *                   transactions and their numbering, durability (sync),
 *                   readers and their clock, meta, the counters
 *   store_value.c   the value: ratings (last writer wins), movies and their
 *                   aliases, the digest; the queries that read it
 *   store_log.c     the update log, the executed-operation table and the
 *                   saved vector timestamps
 *   store_snap.c    snapshot transfer, both directions: reading a view and
 *                   installing its rows
 *   store_import.c  the MovieLens import
 *
 * The public interface is store.h; this header adds what one of these
 * files needs of another.  Names of the shared functions begin with
 * store_ like the public ones; static inline helpers here keep their
 * short names, as they did when the store was one file.
 */
#ifndef RATINGD_STORE_INT_H
#define RATINGD_STORE_INT_H

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"

/* Every prepared statement of a connection; the SQL is in store.c beside
 * the schema, since the two change together. */
enum stmt_id {
    S_META_GET, S_META_PUT,
    S_MOVIE_GET, S_MOVIE_PUT, S_MOVIE_STATS, S_TITLE_SEARCH,
    S_RATING_GET, S_RATING_PUT, S_USER_PAGE, S_USER_COUNT,
    S_EXEC_GET, S_EXEC_PUT,
    S_LOG_PUT, S_LOG_DEL, S_LOG_ALL,
    S_BEGIN_WRITE, S_BEGIN_READ, S_COMMIT, S_READ_CLOCK,
    S_COUNT
};

/* The columns of a log row, in the order store_col_urec reads them. */
#define LOG_COLUMNS                                                                            \
    "origin, seq, ts, prev, uid_origin, uid_seq, stamp, kind, user, movie, halves, title, "   \
    "genres, applied"
/* The columns of a movie row, in the order store_col_movie reads them. */
#define MOVIE_COLUMNS "movie, title, genres, nratings, sum_halves, alias_of"

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
    struct store_repair *repair; /* the digest tree (store_repair.c) */
    char err[512];
    char sync_err[256];    /* store_sync's own: it runs beside the writer */
};

/* "[a,b,...]": up to VTS_MAX numbers of up to 20 digits, and a table of
 * VTS_MAX of them separated by ';'. */
#define VTS_TEXT_MAX (VTS_MAX * 21 + 4)
#define TABLE_TEXT_MAX (VTS_MAX * VTS_TEXT_MAX)

/* ---- errors, statements, columns --------------------------------------- */

static inline int fail(store_t *s, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    return -1;
}

/* A prepared statement, reset and unbound. */
static inline sqlite3_stmt *stmt(store_t *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->st[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Run a statement that returns no rows. */
static inline int step_done(store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

/* Unsigned 64-bit values are stored as the int64 of the same bits. */
static inline void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, (int64_t)v);
}
static inline uint64_t col_u64(sqlite3_stmt *st, int i)
{
    return (uint64_t)sqlite3_column_int64(st, i);
}

static inline void bind_vts(sqlite3_stmt *st, int i, const vts_t *v)
{
    char buf[VTS_TEXT_MAX];
    sqlite3_bind_text(st, i, vts_format(v, buf, sizeof buf), -1, SQLITE_TRANSIENT);
}

static inline int col_vts(sqlite3_stmt *st, int i, vts_t *v)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? vts_parse(v, t) : -1;
}

/* A text column into dst, cut to cap - 1 bytes; NULL reads as "". */
static inline void col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, t ? t : "", n);
    dst[n] = '\0';
}

/* ---- store.c: core ------------------------------------------------------ */

/* Run SQL without parameters (several statements may follow each other). */
int store_exec(store_t *s, const char *sql);
/* Read the counters and the commit number from meta into s. */
int store_load_counts(store_t *s);

/* Numbers in meta (the public store_meta_get and store_meta_put are the
 * text ones): get returns 1 and the value, 0 if absent, -1 on error. */
static inline int meta_put_u64(store_t *s, const char *key, uint64_t val)
{
    sqlite3_stmt *st = stmt(s, S_META_PUT);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    bind_u64(st, 2, val);
    return step_done(s, st, "write meta");
}

static inline int meta_get_u64(store_t *s, const char *key, uint64_t *val)
{
    sqlite3_stmt *st = stmt(s, S_META_GET);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *val = col_u64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read meta");
}

/* ---- store_value.c: the value ------------------------------------------- */

/* A movie row (MOVIE_COLUMNS; alias_of may be left out) into m. */
void store_col_movie(sqlite3_stmt *st, movie_info_t *m);
/* The row of this very id, an alias or not (store_movie follows aliases):
 * 1 and *out, 0, -1. */
int store_movie_row(store_t *s, uint32_t movie, movie_info_t *out);
/* 1 if created, 0 if the movie was there already, -1 on error. */
int store_movie_create(store_t *s, uint32_t movie, const char *title, const char *genres);
/* Write (user, movie) = halves (0 deletes) if the row is newer by
 * lww_row_cmp than what is there, keeping counters, per-movie stats and
 * the digest tree in step.  1 written, 0 the current row stays, -1. */
int store_rating_write(store_t *s, uint32_t user, uint32_t movie, uint32_t halves,
                       uint64_t stamp, const upd_id_t *uid);
/* Make movie an alias of `to`, a movie this store has never seen under
 * that id (1), or one it has already (0); -1 on error. */
int store_movie_alias(store_t *s, uint32_t movie, uint32_t to);
/* Move every rating of `from` to `to` by last writer wins and make `from`
 * an alias of `to`.  0 or -1. */
int store_movie_merge(store_t *s, uint32_t from, uint32_t to);
/* Write the row as it is: no comparison, no counters. */
int store_rating_put(store_t *s, uint32_t user, uint32_t movie, uint32_t halves,
                     uint64_t stamp, const upd_id_t *uid, const char *what);

/* ---- store_repair.c: the digest tree -------------------------------------- */

/* The writer's tree, its per-transaction changes and statements; NULL on
 * readers (they never write). */
struct store_repair;

/* Open the writer's tree: create its table, load it, or rebuild it when
 * the database has none or it is marked stale; sets counts.digest. */
int store_repair_open(store_t *s);
void store_repair_close(store_t *s);
/* A rating row changed from `was` to `now` (NULL: no row): the digest
 * tree and counts.digest follow.  Every change of the ratings table but
 * the snapshot install (store_repair_rebuild) goes through it.  0, -1. */
int store_repair_rating(store_t *s, const snap_rating_t *was, const snap_rating_t *now);
/* The same for a movie row (title, genres, alias_of count). */
int store_repair_movie(store_t *s, const movie_info_t *was, const movie_info_t *now);
/* Inside store_commit, before COMMIT: write the owners that changed. */
int store_repair_flush(store_t *s);
/* After a ROLLBACK: the tree back to the committed one. */
int store_repair_rollback(store_t *s);
/* Recompute the tree and table digests from the tables (in the caller's
 * transaction); sets counts.digest and the counters. */
int store_repair_rebuild(store_t *s);
/* The transaction replaces the rows wholesale (a snapshot install): the
 * tree is recomputed from them at its commit (store_repair_flush). */
void store_repair_stale(store_t *s);

/* ---- store_log.c: log, executed table, timestamps ------------------------ */

/* A log row (LOG_COLUMNS) of a store of n replicas into r; -1 if it is
 * corrupt. */
int store_col_urec(sqlite3_stmt *st, uint32_t n, urec_t *r);
/* Record uid as executed with what it got (nothing for the zero uid). */
int store_executed_put(store_t *s, const upd_id_t *uid, const upd_result_t *r);

#endif
