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
    if (state_recovering(s)) {
        log_info("snapshot for replica %u: refused, this replica is recovering (its state is "
                 "no model)", from);
        return RT_NOT_READY;
    }
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

/* One row of each part in its XDR form (heap memory for xdr_free); -1 when
 * out of memory.  void pointers: rows_to_xdr serves every part. */
static int movie_to_xdr(void *dst, const void *src)
{
    rt_snap_movie *d = dst;
    const movie_info_t *m = src;
    d->movie = m->movie;
    d->nratings = m->nratings;
    d->sum_halves = m->sum_halves;
    d->alias_of = m->alias_of;
    d->title = strdup(m->title);
    d->genres = strdup(m->genres);
    return d->title && d->genres ? 0 : -1;
}

static int rating_to_xdr(void *dst, const void *src)
{
    rt_snap_rating *d = dst;
    const snap_rating_t *r = src;
    d->user = r->user;
    d->movie = r->movie;
    d->halves = r->halves;
    d->stamp = r->stamp;
    d->uid.origin = r->uid.origin;
    d->uid.seq = r->uid.seq;
    return 0;
}

static int exec_to_xdr(void *dst, const void *src)
{
    rt_snap_exec *d = dst;
    const snap_exec_t *e = src;
    d->uid.origin = e->uid.origin;
    d->uid.seq = e->uid.seq;
    d->movie = e->got.movie;
    d->stamp = e->got.stamp;
    d->digest = e->got.digest;
    return vts_to_xdr(&d->ts, &e->got.ts);
}

/* `applied` does not travel: in a committed state a record is applied
 * exactly when ts <= value_ts (join.c derives it). */
static int record_to_xdr(void *dst, const void *src) { return urec_to_xdr(dst, src); }

/* Each part's rows as the view reads them (after the cursor a, b). */
static int read_movies(uint64_t a, uint64_t b, void *out, size_t max, size_t *n)
{
    (void)b;
    return store_snap_movies(snap.view, (uint32_t)a, out, max, n);
}

static int read_ratings(uint64_t a, uint64_t b, void *out, size_t max, size_t *n)
{
    return store_snap_ratings(snap.view, (uint32_t)a, (uint32_t)b, out, max, n);
}

static int read_executed(uint64_t a, uint64_t b, void *out, size_t max, size_t *n)
{
    upd_id_t after = {a, b};
    return store_snap_executed(snap.view, &after, out, max, n);
}

static int read_log(uint64_t a, uint64_t b, void *out, size_t max, size_t *n)
{
    return store_snap_log(snap.view, (uint32_t)a, b, out, max, n);
}

/* How a part is paged: its rows in the store and in XDR, and the most a
 * page holds (rating.x). */
struct part {
    size_t row_size, xdr_size, max;
    int (*read)(uint64_t a, uint64_t b, void *out, size_t max, size_t *n);
    int (*to_xdr)(void *dst, const void *src);
};

static const struct part movies = {sizeof(movie_info_t), sizeof(rt_snap_movie), RT_MAX_SNAP,
                                   read_movies, movie_to_xdr};
static const struct part ratings = {sizeof(snap_rating_t), sizeof(rt_snap_rating), RT_MAX_SNAP,
                                    read_ratings, rating_to_xdr};
static const struct part executed = {sizeof(snap_exec_t), sizeof(rt_snap_exec), RT_MAX_SNAP,
                                     read_executed, exec_to_xdr};
static const struct part records = {sizeof(urec_t), sizeof(rt_record), RT_MAX_RECORDS, read_log,
                                    record_to_xdr};

/* One page of part p after (a, b) into *val (the reply's array) and *len,
 * which counts the rows made so far, so that xdr_free releases exactly
 * them; *done if the page is short (the last). */
static rt_status page(const struct part *p, uint64_t a, uint64_t b, void **val, u_int *len,
                      bool_t *done)
{
    char *rows = calloc(p->max, p->row_size);
    char *out = calloc(p->max, p->xdr_size);
    size_t n = 0;
    rt_status st = RT_INTERNAL;
    *val = out;
    if (rows && out && p->read(a, b, rows, p->max, &n) == 0) {
        st = RT_OK;
        for (size_t i = 0; i < n && st == RT_OK; i++) {
            *len = (u_int)(i + 1);
            if (p->to_xdr(out + i * p->xdr_size, rows + i * p->row_size) < 0)
                st = RT_INTERNAL;
        }
        *done = n < p->max;
    }
    free(rows);
    return st;
}

/* The page a asks for, into the reply's array of its part. */
static rt_status serve_page(const struct part *p, const rt_snap_args *a, rt_snap_res *res)
{
    rt_snap_rows *r = &res->rows;
    void *val = NULL;
    u_int *len = a->part == SNAP_MOVIES     ? &r->rt_snap_rows_u.movies.movies_len
                 : a->part == SNAP_RATINGS  ? &r->rt_snap_rows_u.ratings.ratings_len
                 : a->part == SNAP_EXECUTED ? &r->rt_snap_rows_u.executed.executed_len
                                            : &r->rt_snap_rows_u.log.log_len;
    rt_status st = page(p, a->after_a, a->after_b, &val, len, &res->done);
    switch (a->part) {
    case SNAP_MOVIES: r->rt_snap_rows_u.movies.movies_val = val; break;
    case SNAP_RATINGS: r->rt_snap_rows_u.ratings.ratings_val = val; break;
    case SNAP_EXECUTED: r->rt_snap_rows_u.executed.executed_val = val; break;
    default: r->rt_snap_rows_u.log.log_val = val; break;
    }
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
        case SNAP_MOVIES: res->status = serve_page(&movies, a, res); break;
        case SNAP_RATINGS: res->status = serve_page(&ratings, a, res); break;
        case SNAP_EXECUTED: res->status = serve_page(&executed, a, res); break;
        case SNAP_LOG: res->status = serve_page(&records, a, res); break;
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
