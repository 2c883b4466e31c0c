/* snapshot.c -- the serving half of snapshot transfer. */
#include "snapshot.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"

static struct {
    pthread_mutex_t mu;
    store_snap_t *view;
    uint64_t session;
    time_t last_used;
} snap = {.mu = PTHREAD_MUTEX_INITIALIZER};

static rt_status begin(state_t *s, uint32_t from, rt_snap_header *h)
{
    if (snap.view && time(NULL) - snap.last_used < 60)
        return RT_NOT_READY; /* another transfer is running */
    store_snap_close(snap.view);
    snap.view = NULL;
    char err[256];
    snap.view = state_snapshot_open(s, err, sizeof err);
    if (!snap.view) {
        log_error("snapshot for replica %u: %s", from, err);
        return RT_INTERNAL;
    }
    while (getrandom(&snap.session, sizeof snap.session, 0) != sizeof snap.session)
        ;
    uint32_t n = state_nreplicas(s);
    vts_t rts, vts, table[VTS_MAX];
    store_counts_t c;
    if (store_snap_header(snap.view, &rts, &vts, table, n, &c) < 0)
        return RT_INTERNAL;
    h->session = snap.session;
    h->nratings = c.nratings;
    h->nmovies = c.nmovies;
    h->executed = c.executed;
    h->digest = c.digest;
    h->table.table_val = calloc(n, sizeof(rt_vts));
    if (!h->table.table_val || vts_to_xdr(&h->replica_ts, &rts) || vts_to_xdr(&h->value_ts, &vts))
        return RT_INTERNAL;
    h->table.table_len = n;
    for (uint32_t k = 0; k < n; k++)
        if (vts_to_xdr(&h->table.table_val[k], &table[k]))
            return RT_INTERNAL;
    log_info("snapshot for replica %u: started (%llu ratings, %u movies)", from,
             (unsigned long long)c.nratings, c.nmovies);
    return RT_OK;
}

static rt_status page_movies(uint64_t after, rt_snap_res *res)
{
    movie_info_t *m = calloc(RT_MAX_SNAP, sizeof *m);
    size_t n = 0;
    rt_status st = RT_INTERNAL;
    if (!m || store_snap_movies(snap.view, (uint32_t)after, m, RT_MAX_SNAP, &n) < 0)
        goto out;
    rt_snap_movie *out = calloc(n ? n : 1, sizeof *out);
    if (!out)
        goto out;
    res->rows.rt_snap_rows_u.movies.movies_val = out;
    for (size_t i = 0; i < n; i++) {
        res->rows.rt_snap_rows_u.movies.movies_len = (u_int)(i + 1);
        out[i].movie = m[i].movie;
        out[i].nratings = m[i].nratings;
        out[i].sum_halves = m[i].sum_halves;
        out[i].alias_of = m[i].alias_of;
        out[i].title = strdup(m[i].title);
        out[i].genres = strdup(m[i].genres);
        if (!out[i].title || !out[i].genres)
            goto out;
    }
    res->done = n < RT_MAX_SNAP;
    st = RT_OK;
out:
    free(m);
    return st;
}

static rt_status page_ratings(uint64_t a, uint64_t b, rt_snap_res *res)
{
    snap_rating_t *r = calloc(RT_MAX_SNAP, sizeof *r);
    rt_snap_rating *out = calloc(RT_MAX_SNAP, sizeof *out);
    size_t n = 0;
    res->rows.rt_snap_rows_u.ratings.ratings_val = out;
    if (!r || !out || store_snap_ratings(snap.view, (uint32_t)a, (uint32_t)b, r, RT_MAX_SNAP, &n) < 0) {
        free(r);
        return RT_INTERNAL;
    }
    for (size_t i = 0; i < n; i++) {
        out[i].user = r[i].user;
        out[i].movie = r[i].movie;
        out[i].halves = r[i].halves;
        out[i].stamp = r[i].stamp;
        out[i].uid.origin = r[i].uid.origin;
        out[i].uid.seq = r[i].uid.seq;
    }
    res->rows.rt_snap_rows_u.ratings.ratings_len = (u_int)n;
    res->done = n < RT_MAX_SNAP;
    free(r);
    return RT_OK;
}

static rt_status page_executed(uint64_t a, uint64_t b, rt_snap_res *res)
{
    snap_exec_t *e = calloc(RT_MAX_SNAP, sizeof *e);
    rt_snap_exec *out = calloc(RT_MAX_SNAP, sizeof *out);
    upd_id_t after = {a, b};
    size_t n = 0;
    res->rows.rt_snap_rows_u.executed.executed_val = out;
    rt_status st = RT_INTERNAL;
    if (!e || !out || store_snap_executed(snap.view, &after, e, RT_MAX_SNAP, &n) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        res->rows.rt_snap_rows_u.executed.executed_len = (u_int)(i + 1);
        out[i].uid.origin = e[i].uid.origin;
        out[i].uid.seq = e[i].uid.seq;
        out[i].movie = e[i].got.movie;
        out[i].stamp = e[i].got.stamp;
        out[i].digest = e[i].got.digest;
        if (vts_to_xdr(&out[i].ts, &e[i].got.ts))
            goto out;
    }
    res->done = n < RT_MAX_SNAP;
    st = RT_OK;
out:
    free(e);
    return st;
}

static rt_status page_log(uint64_t a, uint64_t b, rt_snap_res *res)
{
    urec_t *r = calloc(RT_MAX_RECORDS, sizeof *r);
    rt_record *out = calloc(RT_MAX_RECORDS, sizeof *out);
    size_t n = 0;
    res->rows.rt_snap_rows_u.log.log_val = out;
    rt_status st = RT_INTERNAL;
    if (!r || !out || store_snap_log(snap.view, (uint32_t)a, b, r, RT_MAX_RECORDS, &n) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        res->rows.rt_snap_rows_u.log.log_len = (u_int)(i + 1);
        /* `applied` does not travel: in a committed state a record is
         * applied exactly when ts <= value_ts (join.c derives it). */
        if (urec_to_xdr(&out[i], &r[i]))
            goto out;
    }
    res->done = n < RT_MAX_RECORDS;
    st = RT_OK;
out:
    free(r);
    return st;
}

void snapshot_serve(state_t *s, const rt_snap_args *a, rt_snap_res *res)
{
    pthread_mutex_lock(&snap.mu);
    res->rows.part = a->part;
    if ((uint32_t)a->part > SNAP_END) {
        res->rows.part = SNAP_END; /* the reply cannot carry an unknown part */
        res->status = RT_INVALID;
    } else if (a->from >= state_nreplicas(s) || a->from == state_id(s)) {
        res->status = RT_DENIED;
    } else if (a->part == SNAP_BEGIN) {
        res->status = begin(s, a->from, &res->rows.rt_snap_rows_u.header);
    } else if (!snap.view || a->session != snap.session) {
        res->status = RT_NOT_READY; /* no such transfer: begin again */
    } else {
        snap.last_used = time(NULL);
        switch (a->part) {
        case SNAP_MOVIES: res->status = page_movies(a->after_a, res); break;
        case SNAP_RATINGS: res->status = page_ratings(a->after_a, a->after_b, res); break;
        case SNAP_EXECUTED: res->status = page_executed(a->after_a, a->after_b, res); break;
        case SNAP_LOG: res->status = page_log(a->after_a, a->after_b, res); break;
        default:
            store_snap_close(snap.view);
            snap.view = NULL;
            res->status = RT_OK;
            res->done = TRUE;
            log_info("snapshot for replica %u: done", a->from);
        }
    }
    if (res->status == RT_OK && a->part == SNAP_BEGIN)
        snap.last_used = time(NULL);
    pthread_mutex_unlock(&snap.mu);
    if (res->status == RT_DENIED)
        log_warn("refused SNAPSHOT claiming to be from replica %u: not another replica of this "
                 "cluster", a->from);
}
