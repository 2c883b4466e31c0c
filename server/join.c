/* join.c -- the joining half of snapshot transfer (join.h). */
#include "join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "log.h"
#include "rpcutil.h"
#include "validate.h"

/* A connection to replica k through its host's rpcbind. */
static CLIENT *connect_rpcbind(void *ctx, uint32_t k, int timeout_ms, char *err, size_t errlen)
{
    const cluster_t *c = ctx;
    return rpc_connect(c->rep[k].host, c->rep[k].prog, RATING_REPLICA_V1, timeout_ms, err,
                       errlen);
}

/* Peer k's replica timestamp and whether it is whole (not recovering), from
 * its STATUS; false if it did not answer. */
static bool peer_status(const struct join_peers *p, uint32_t k, int timeout_ms, vts_t *rts,
                        bool *whole)
{
    char err[256];
    rt_status_res st;
    CLIENT *cl = p->connect(p->ctx, k, timeout_ms, err, sizeof err);
    if (!cl)
        return false;
    memset(&st, 0, sizeof st);
    bool ok = rp_status_1(&st, cl) == RPC_SUCCESS && st.status == RT_OK &&
              vts_from_xdr(rts, &st.replica_ts) == RT_OK;
    *whole = st.state != ST_RECOVERING;
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&st);
    clnt_destroy(cl);
    return ok;
}

/* Ask every peer; each answer counts for recovery (what it holds of our
 * updates).  Returns the whole peer (not recovering itself) that holds most
 * of our own updates (then the most in all), or -1 if no reachable whole
 * peer has any state. */
static int choose_source(state_t *s, const struct join_peers *p, int timeout_ms)
{
    int best = -1;
    uint64_t best_own = 0, best_sum = 0;
    uint32_t self = state_id(s);
    for (uint32_t k = 0; k < state_nreplicas(s); k++) {
        vts_t r;
        bool whole;
        if (k == self || !peer_status(p, k, timeout_ms, &r, &whole))
            continue;
        state_heard_status(s, k, &r, whole);
        if (!whole)
            continue; /* recovering too: no model to copy (recovery.h) */
        uint64_t sum = 0;
        for (uint32_t i = 0; i < r.n; i++)
            sum += r.t[i];
        uint64_t own = r.t[self];
        if (sum > 0 && (best < 0 || own > best_own || (own == best_own && sum > best_sum))) {
            best = (int)k;
            best_own = own;
            best_sum = sum;
        }
    }
    return best;
}

struct transfer {
    state_t *s;
    store_t *db;          /* state_install_begin's */
    uint32_t n;
    CLIENT *cl;
    uint64_t session;
    vts_t value_ts;
};

/* One page of `part` after (a, b) into res; the caller frees it.  Returns
 * 0, -1 (no answer, or a status other than RT_OK), or -2 (an answer
 * without a valid authenticator). */
static int fetch(struct transfer *t, rt_snap_part part, uint64_t a, uint64_t b, rt_snap_res *res)
{
    rt_snap_args args = {state_id(t->s), t->session, part, a, b, {0, NULL}};
    memset(res, 0, sizeof *res);
    if (auth_sign_call(AUTH_SNAPSHOT, (xdrproc_t)xdr_rt_snap_args, &args, &args.mac.mac_len,
                       &args.mac.mac_val))
        return -1;
    enum clnt_stat cs = rp_snapshot_1(args, res, t->cl);
    /* Rows we install must come from a replica with the key, in answer to
     * this very call (not a recorded page of another session or cursor). */
    bool authentic = cs == RPC_SUCCESS &&
                     auth_verify_reply(AUTH_SNAPSHOT, args.mac.mac_len, args.mac.mac_val,
                                       (xdrproc_t)xdr_rt_snap_res, res, &res->mac.mac_len,
                                       &res->mac.mac_val);
    free(args.mac.mac_val);
    if (cs != RPC_SUCCESS || res->status != RT_OK || res->rows.part != part)
        return -1;
    if (!authentic) {
        log_warn("snapshot: replica answered without a valid authenticator (another key "
                 "file?): not installed");
        return -2;
    }
    return 0;
}

static void release(rt_snap_res *res) { xdr_free((xdrproc_t)xdr_rt_snap_res, (char *)res); }

/* Each part's rows go into the store by one of these; it also moves the
 * cursor (a, b) to the last row's key.  Returns 0 or -1. */
typedef int (*install_fn)(struct transfer *t, const rt_snap_rows *rows, uint64_t *a, uint64_t *b);

static int install_movies(struct transfer *t, const rt_snap_rows *rows, uint64_t *a, uint64_t *b)
{
    for (u_int i = 0; i < rows->rt_snap_rows_u.movies.movies_len; i++) {
        const rt_snap_movie *m = &rows->rt_snap_rows_u.movies.movies_val[i];
        movie_info_t mi = {.movie = m->movie, .nratings = m->nratings, .sum_halves = m->sum_halves,
                           .alias_of = m->alias_of};
        snprintf(mi.title, sizeof mi.title, "%s", m->title ? m->title : "");
        snprintf(mi.genres, sizeof mi.genres, "%s", m->genres ? m->genres : "");
        if (store_put_movie(t->db, &mi) < 0)
            return -1;
        *a = m->movie;
        *b = 0;
    }
    return 0;
}

static int install_ratings(struct transfer *t, const rt_snap_rows *rows, uint64_t *a, uint64_t *b)
{
    for (u_int i = 0; i < rows->rt_snap_rows_u.ratings.ratings_len; i++) {
        const rt_snap_rating *r = &rows->rt_snap_rows_u.ratings.ratings_val[i];
        snap_rating_t sr = {r->user, r->movie, r->halves, r->stamp, {r->uid.origin, r->uid.seq}};
        if (store_put_rating(t->db, &sr) < 0)
            return -1;
        *a = r->user;
        *b = r->movie;
    }
    return 0;
}

static int install_executed(struct transfer *t, const rt_snap_rows *rows, uint64_t *a,
                            uint64_t *b)
{
    for (u_int i = 0; i < rows->rt_snap_rows_u.executed.executed_len; i++) {
        const rt_snap_exec *e = &rows->rt_snap_rows_u.executed.executed_val[i];
        snap_exec_t se = {{e->uid.origin, e->uid.seq}, {.movie = e->movie, .stamp = e->stamp,
                                                        .digest = e->digest}};
        if (vts_from_xdr(&se.got.ts, &e->ts) != RT_OK || se.got.ts.n > t->n ||
            store_put_executed(t->db, &se) < 0)
            return -1;
        *a = e->uid.origin;
        *b = e->uid.seq;
    }
    return 0;
}

static int install_log(struct transfer *t, const rt_snap_rows *rows, uint64_t *a, uint64_t *b)
{
    for (u_int i = 0; i < rows->rt_snap_rows_u.log.log_len; i++) {
        urec_t r;
        if (urec_from_xdr(&r, &rows->rt_snap_rows_u.log.log_val[i]) != RT_OK ||
            r.origin >= t->n || r.ts.n > t->n || r.prev.n > t->n)
            return -1;
        r.ts.n = r.prev.n = t->n;
        r.applied = vts_le(&r.ts, &t->value_ts);
        if (store_log_put(t->db, &r) < 0)
            return -1;
        *a = r.origin;
        *b = r.ts.t[r.origin];
    }
    return 0;
}

/* Read one part page by page until the source says done. */
static int copy_part(struct transfer *t, rt_snap_part part, install_fn install)
{
    uint64_t a = 0, b = 0;
    for (;;) {
        rt_snap_res res;
        int rc = fetch(t, part, a, b, &res);
        if (rc == 0)
            rc = install(t, &res.rows, &a, &b);
        bool done = res.done;
        release(&res);
        if (rc < 0)
            return -1;
        if (done)
            return 0;
    }
}

static int copy_all(struct transfer *t)
{
    if (copy_part(t, SNAP_MOVIES, install_movies) < 0 ||
        copy_part(t, SNAP_RATINGS, install_ratings) < 0 ||
        copy_part(t, SNAP_EXECUTED, install_executed) < 0 ||
        copy_part(t, SNAP_LOG, install_log) < 0)
        return -1;
    return 0;
}

/* Our timestamps after the copy: the source's, and what the source knows
 * of every replica; the source itself has what it reported. */
static int install_header(struct transfer *t, const rt_snap_header *h, uint32_t src)
{
    uint32_t n = t->n;
    vts_t rts, table[VTS_MAX];
    store_counts_t c = {h->nratings, h->nmovies, h->executed, h->digest};
    /* Timestamps longer than our cluster come from a peer configured with
     * another cluster: refused, not cut short. */
    if (vts_from_xdr(&rts, &h->replica_ts) != RT_OK || rts.n > n ||
        vts_from_xdr(&t->value_ts, &h->value_ts) != RT_OK || t->value_ts.n > n ||
        h->table.table_len != n)
        return -1;
    for (uint32_t k = 0; k < n; k++)
        if (vts_from_xdr(&table[k], &h->table.table_val[k]) != RT_OK || table[k].n > n)
            return -1;
    rts.n = t->value_ts.n = n;
    table[src] = rts;
    for (uint32_t k = 0; k < n; k++)
        table[k].n = n;
    if (store_save_ts(t->db, &rts, &t->value_ts, table, n) < 0)
        return -1;
    return store_finish_snapshot(t->db, &c);
}

/* Copy the state of replica src, in one transaction. */
static int transfer_from(state_t *s, const struct join_peers *p, uint32_t src, int timeout_ms,
                         char *err, size_t errlen)
{
    struct transfer t = {.s = s, .n = state_nreplicas(s)};
    t.cl = p->connect(p->ctx, src, timeout_ms * 10, err, errlen);
    if (!t.cl)
        return -1;
    rt_snap_res head;
    int got = fetch(&t, SNAP_BEGIN, 0, 0, &head);
    if (got < 0) {
        if (got == -2)
            snprintf(err, errlen, "replica %u's snapshot has no valid authenticator (another "
                     "key file?)", src);
        else if (head.status == RT_DENIED)
            snprintf(err, errlen, "replica %u refused the snapshot: not authenticated (another "
                     "key file?)", src);
        else if (head.status == RT_OK) /* no reply, or not the part asked for */
            snprintf(err, errlen, "replica %u did not answer the snapshot call", src);
        else
            snprintf(err, errlen, "replica %u refused the snapshot (%s)", src,
                     status_text(head.status));
        release(&head);
        clnt_destroy(t.cl);
        return -1;
    }
    t.session = head.rows.rt_snap_rows_u.header.session;
    store_counts_t head_counts = {head.rows.rt_snap_rows_u.header.nratings,
                                  head.rows.rt_snap_rows_u.header.nmovies, 0, 0};
    int rc = -1;
    char why[256] = "";
    t.db = state_install_begin(s, why, sizeof why);
    if (t.db) {
        rc = store_clear_state(t.db);
        if (rc == 0)
            rc = install_header(&t, &head.rows.rt_snap_rows_u.header, src);
        if (rc == 0)
            rc = copy_all(&t);
        if (rc != 0)
            snprintf(why, sizeof why, "%s", store_errmsg(t.db));
        if (state_install_end(s, rc == 0) < 0 && rc == 0) {
            snprintf(why, sizeof why, "cannot commit it");
            rc = -1;
        }
    }
    release(&head);
    rt_snap_res end;
    fetch(&t, SNAP_END, 0, 0, &end);
    release(&end);
    clnt_destroy(t.cl);
    if (rc != 0)
        snprintf(err, errlen, "snapshot from replica %u failed part way: %s", src, why);
    else
        log_info("joined from replica %u: %llu ratings, %u movies", src,
                 (unsigned long long)head_counts.nratings, head_counts.nmovies);
    return rc ? -1 : 0;
}

int join_cluster_with(state_t *s, const struct join_peers *p, int timeout_ms, char *err,
                      size_t errlen)
{
    int src = choose_source(s, p, timeout_ms);
    if (src < 0)
        return 0;
    log_info("new database but replica %d has state: copying it", src);
    return transfer_from(s, p, (uint32_t)src, timeout_ms, err, errlen) < 0 ? -1 : 1;
}

int join_cluster(state_t *s, const cluster_t *c, int timeout_ms, char *err, size_t errlen)
{
    struct join_peers p = {connect_rpcbind, (void *)c};
    return join_cluster_with(s, &p, timeout_ms, err, errlen);
}

int join_from_with(state_t *s, const struct join_peers *p, uint32_t src, int timeout_ms,
                   char *err, size_t errlen)
{
    return transfer_from(s, p, src, timeout_ms, err, errlen);
}

int join_from(state_t *s, const cluster_t *c, uint32_t src, int timeout_ms, char *err,
              size_t errlen)
{
    struct join_peers p = {connect_rpcbind, (void *)c};
    return join_from_with(s, &p, src, timeout_ms, err, errlen);
}
