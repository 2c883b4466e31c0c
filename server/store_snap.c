/*
 * store_snap.c -- snapshot transfer, both directions (store.h): a replica
 * that lost its database copies a peer's (docs/algorithm.md).
 *
 * The protocol, as the store sees it:
 *
 *   source                                  joiner
 *   store_snap_open: a reader connection    store_begin, store_clear_state
 *     in a read transaction; its first
 *     read fixes the view, which later
 *     commits of the source do not change
 *   store_snap_header: timestamps,
 *     counters, digest
 *   store_snap_movies    (by movie)     ->  store_put_movie
 *   store_snap_ratings   (user, movie)  ->  store_put_rating
 *   store_snap_executed  (uid)          ->  store_put_executed
 *   store_snap_log       (origin, seq)  ->  store_log_put (store_log.c)
 *                                           store_save_ts, store_finish_snapshot
 *   store_snap_close                        store_commit
 *
 * Each part is read in pages in key order after a cursor, the last key
 * the joiner received; a page shorter than asked for is the last.  Every
 * step of a replica commits the value, the log and the timestamps
 * together, so the view, any committed state, is consistent.
 *
 * Rows are installed as they are, not applied: no last-writer-wins
 * comparison and no counting.  The counters and the digest tree are made
 * from the installed rows when the install commits (store_repair_stale);
 * the store is then no longer new.
 *
 * Below, each kind of row has its reading and its installing side by side.
 */
#include "store_int.h"

#include <stdlib.h>

struct store_snap {
    store_t *r; /* a reader (store_reader_open), its read transaction open */
};

store_snap_t *store_snap_open(store_t *s, char *err, size_t errlen)
{
    if (strcmp(s->path, ":memory:") == 0) {
        snprintf(err, errlen, "a volatile (:memory:) replica cannot give a snapshot");
        return NULL;
    }
    store_snap_t *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* BEGIN + a first read pins the view. */
    v->r = store_reader_open(s, err, errlen);
    if (!v->r || store_exec(v->r, "BEGIN; SELECT COUNT(*) FROM meta;") < 0) {
        if (v->r)
            snprintf(err, errlen, "cannot open a snapshot of %s: %s", s->path, v->r->err);
        store_snap_close(v);
        return NULL;
    }
    return v;
}

void store_snap_close(store_snap_t *v)
{
    if (!v)
        return;
    store_close(v->r); /* ends the read transaction */
    free(v);
}

/* A page's statement on the view's connection: prepared, then bound. */
static sqlite3_stmt *page_stmt(store_snap_t *v, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(v->r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

/* ---- header: timestamps, counters, digest ------------------------------- */

int store_snap_header(store_snap_t *v, vts_t *replica_ts, vts_t *value_ts, vts_t *table,
                      uint32_t n, store_counts_t *c)
{
    memset(c, 0, sizeof *c);
    vts_zero(replica_ts, n);
    vts_zero(value_ts, n);
    for (uint32_t k = 0; k < n; k++)
        vts_zero(&table[k], n);
    if (store_load_ts(v->r, replica_ts, value_ts, table, n) < 0 ||
        store_load_counts(v->r) < 0)
        return -1;
    *c = v->r->counts;
    return 0;
}

int store_clear_state(store_t *s)
{
    static const char *const tables[] = {"movies", "ratings", "executed", "log"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "DELETE FROM %s", tables[i]);
        if (store_exec(s, sql) < 0)
            return -1;
    }
    memset(&s->counts, 0, sizeof s->counts);
    store_repair_stale(s); /* the digest tree: made from the new rows at commit */
    return 0;
}

int store_finish_snapshot(store_t *s, const store_counts_t *counts)
{
    s->counts = *counts;
    /* the digest tree (its root: the digest) and the counters are made from
     * the rows as installed, when the install commits */
    store_repair_stale(s);
    if (meta_put_u64(s, "imported", 1) < 0)
        return -1;
    s->is_new = false;
    return 0;
}

/* ---- movies ------------------------------------------------------------- */

int store_snap_movies(store_snap_t *v, uint32_t after, movie_info_t *out, size_t max,
                      size_t *nout)
{
    sqlite3_stmt *st = page_stmt(v, "SELECT " MOVIE_COLUMNS " FROM movies WHERE movie > ?1 "
                                    "ORDER BY movie LIMIT ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    int rc;
    for (*nout = 0; (rc = sqlite3_step(st)) == SQLITE_ROW && *nout < max; (*nout)++)
        store_col_movie(st, &out[*nout]);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int store_put_movie(store_t *s, const movie_info_t *m)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO movies(" MOVIE_COLUMNS ") "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "install movie");
    sqlite3_bind_int64(st, 1, m->movie);
    sqlite3_bind_text(st, 2, m->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->genres, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, m->nratings);
    bind_u64(st, 5, m->sum_halves);
    sqlite3_bind_int64(st, 6, m->alias_of);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(s, "install movie");
}

/* ---- ratings, tombstones with them ------------------------------------- */

int store_snap_ratings(store_snap_t *v, uint32_t after_user, uint32_t after_movie,
                       snap_rating_t *out, size_t max, size_t *nout)
{
    sqlite3_stmt *st = page_stmt(v, "SELECT user, movie, halves, stamp, uid_origin, uid_seq "
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

int store_put_rating(store_t *s, const snap_rating_t *r)
{
    return store_rating_put(s, r->user, r->movie, r->halves, r->stamp, &r->uid,
                            "install rating");
}

/* ---- the executed table ------------------------------------------------- */

int store_snap_executed(store_snap_t *v, const upd_id_t *after, snap_exec_t *out, size_t max,
                        size_t *nout)
{
    sqlite3_stmt *st = page_stmt(v, "SELECT uid_origin, uid_seq, ts, movie, stamp, digest "
                                    "FROM executed "
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
        if (col_vts(st, 2, &e->got.ts) < 0)
            rc = SQLITE_CORRUPT;
        e->got.movie = (uint32_t)sqlite3_column_int64(st, 3);
        e->got.stamp = col_u64(st, 4);
        e->got.digest = col_u64(st, 5);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int store_put_executed(store_t *s, const snap_exec_t *e)
{
    return store_executed_put(s, &e->uid, &e->got);
}

/* ---- the log (installed by store_log_put) -------------------------------- */

int store_snap_log(store_snap_t *v, uint32_t after_origin, uint64_t after_seq, urec_t *out,
                   size_t max, size_t *nout)
{
    sqlite3_stmt *st = page_stmt(v, "SELECT " LOG_COLUMNS " FROM log WHERE (origin, seq) > "
                                    "(?1, ?2) ORDER BY origin, seq LIMIT ?3");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, after_origin);
    bind_u64(st, 2, after_seq);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    int rc;
    for (*nout = 0; (rc = sqlite3_step(st)) == SQLITE_ROW && *nout < max; (*nout)++)
        if (store_col_urec(st, v->r->n, &out[*nout]) < 0) {
            rc = SQLITE_CORRUPT;
            break;
        }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}
