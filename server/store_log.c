/*
 * store_log.c -- what a replica remembers of updates rather than of the
 * value (store.h): the executed-operation table, the update log, and the
 * vector timestamps saved with them.
 *
 * The executed table maps an update's uid to what it got (record.h:
 * upd_result_t -- timestamp, movie, stamp, and the digest of its
 * operation): the gossip rules look a retried update up there instead of
 * applying it twice, a reused id is told from a repeat by the digest, and
 * OP_ADD_MOVIE finds there the movie id a first record made
 * (store_value.c).  Rows are never removed.
 *
 * The log holds update records keyed by (origin, ts[origin]); the gossip
 * rules decide what is put and deleted (gossip.c, through the hooks of
 * state.c), this file only keeps it, and store_log_each reads it back in
 * (origin, seq) order when the replica starts.  A row is
 * decoded by store_col_urec, which the snapshot's log pages share.
 *
 * The timestamps (replica_ts, value_ts and the timestamp table) are saved
 * in meta as text, "[a,b,...]" and the table's rows separated by ';'; a
 * saved vector of fewer entries than replicas is padded with zeros.
 */
#include "store_int.h"

#include <stdlib.h>

/* ---- the executed table ------------------------------------------------ */

int store_executed_put(store_t *s, const upd_id_t *uid, const upd_result_t *r)
{
    if (uid_is_zero(uid))
        return 0;
    sqlite3_stmt *st = stmt(s, S_EXEC_PUT);
    bind_u64(st, 1, uid->origin);
    bind_u64(st, 2, uid->seq);
    bind_vts(st, 3, &r->ts);
    sqlite3_bind_int64(st, 4, r->movie);
    bind_u64(st, 5, r->stamp);
    bind_u64(st, 6, r->digest);
    if (step_done(s, st, "record executed update") < 0)
        return -1;
    s->counts.executed += (uint64_t)sqlite3_changes(s->db);
    return 0;
}

int store_executed_find(store_t *s, const upd_id_t *uid, upd_result_t *out)
{
    sqlite3_stmt *st = stmt(s, S_EXEC_GET);
    bind_u64(st, 1, uid->origin);
    bind_u64(st, 2, uid->seq);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (col_vts(st, 0, &out->ts) < 0)
            rc = SQLITE_CORRUPT;
        out->movie = (uint32_t)sqlite3_column_int64(st, 1);
        out->stamp = col_u64(st, 2);
        out->digest = col_u64(st, 3);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read executed");
}

/* ---- the saved timestamps ---------------------------------------------- */

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
    if (store_meta_put(s, "replica_ts", vts_format(replica_ts, one, sizeof one)) == 0 &&
        store_meta_put(s, "value_ts", vts_format(value_ts, one, sizeof one)) == 0 &&
        store_meta_put(s, "table", buf) == 0) {
        s->is_new = false;
        rc = 0;
    }
    free(buf);
    return rc;
}

static int load_vts(store_t *s, const char *key, vts_t *v, uint32_t n)
{
    char buf[VTS_TEXT_MAX];
    int rc = store_meta_get(s, key, buf, sizeof buf);
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
    rc = store_meta_get(s, "table", buf, TABLE_TEXT_MAX);
    if (rc == 1 && parse_table(buf, table, n) < 0) {
        snprintf(s->err, sizeof s->err, "corrupt timestamp table in meta");
        rc = -1;
    }
    free(buf);
    return rc < 0 ? -1 : 1;
}

/* ---- the log ------------------------------------------------------------ */

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

int store_col_urec(sqlite3_stmt *st, uint32_t n, urec_t *r)
{
    memset(r, 0, sizeof *r);
    r->origin = (uint32_t)sqlite3_column_int64(st, 0);
    if (col_vts(st, 2, &r->ts) < 0 || col_vts(st, 3, &r->prev) < 0 || r->origin >= n)
        return -1;
    r->ts.n = r->prev.n = n;
    r->uid.origin = col_u64(st, 4);
    r->uid.seq = col_u64(st, 5);
    r->stamp = col_u64(st, 6);
    r->op.kind = (rt_op_kind)sqlite3_column_int(st, 7);
    r->op.user = (uint32_t)sqlite3_column_int64(st, 8);
    r->op.movie = (uint32_t)sqlite3_column_int64(st, 9);
    r->op.halves = (uint32_t)sqlite3_column_int64(st, 10);
    col_text(st, 11, r->op.title, sizeof r->op.title);
    col_text(st, 12, r->op.genres, sizeof r->op.genres);
    r->applied = sqlite3_column_int(st, 13) != 0;
    return 0;
}

int store_log_each(store_t *s, int (*fn)(void *arg, const urec_t *r), void *arg)
{
    sqlite3_stmt *st = stmt(s, S_LOG_ALL);
    int rc;
    urec_t r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *why = NULL;
        if (store_col_urec(st, s->n, &r) < 0)
            why = "corrupt log record";
        else if (fn(arg, &r) != 0)
            why = "cannot restore the log";
        if (why) {
            sqlite3_reset(st);
            snprintf(s->err, sizeof s->err, "%s", why);
            return -1;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail(s, "read log");
}
