/* forward.c -- failover and retry for each request. */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "record.h"
#include "route.h"
#include "validate.h"

static int wait_ms;
static uint64_t uid_origin;
static uint64_t uid_seq;
static uint64_t stamp_last; /* the last stamp given to an update of ours */

int forward_init(int wait)
{
    wait_ms = wait;
    while (uid_origin == 0)
        if (getrandom(&uid_origin, sizeof uid_origin, 0) != sizeof uid_origin)
            return -1;
    return 0;
}

/* Why each replica could not serve, for the final error; and whether a
 * call that failed may still have reached its replica (a time-out, a
 * connection lost after the call went out), so the update may be applied
 * there. */
struct why {
    char text[RT_MAX_DETAIL + 1];
    size_t len;
    bool maybe_applied;
};

static void why_add(struct why *w, uint32_t k, const char *reason)
{
    if (w->len < sizeof w->text - 1)
        w->len += (size_t)snprintf(w->text + w->len, sizeof w->text - w->len, "%sr%u %s",
                                   w->len ? "; " : "", k, reason);
}

static bool try_another(rt_status st)
{
    return st == RT_NOT_READY || st == RT_OVERLOADED || st == RT_OFFLINE || st == RT_INTERNAL;
}

/* One call to replica k: the RPC is `call`, the reply has a status and a
 * timestamp at the given places.  Returns true when the reply is final
 * (the client gets it); false to try another replica. */
typedef enum clnt_stat (*call_fn)(const void *args, void *res, CLIENT *c);

struct attempt {
    call_fn call;
    const void *args;
    void *res;
    xdrproc_t xdr_res;
    rt_status *status;   /* inside res */
    rt_vts *ts;          /* inside res */
};

static bool try_replica(uint32_t k, const struct attempt *at, struct why *why)
{
    char err[256];
    CLIENT *c = route_borrow(k, err, sizeof err);
    if (!c) {
        route_report(k, ROUTE_FAILED, NULL, NULL);
        why_add(why, k, "unreachable");
        return false;
    }
    enum clnt_stat cs = at->call(at->args, at->res, c);
    route_return(k, c, cs != RPC_SUCCESS);
    if (cs != RPC_SUCCESS) {
        route_report(k, ROUTE_FAILED, NULL, NULL);
        /* Only a call that never left is known not to have been served. */
        why->maybe_applied |= cs != RPC_CANTSEND && cs != RPC_CANTENCODEARGS;
        why_add(why, k, clnt_sperrno(cs));
        return false;
    }
    vts_t ts;
    bool have_ts = vts_from_xdr(&ts, at->ts) == RT_OK;
    if (try_another(*at->status)) {
        route_report(k, ROUTE_BUSY, NULL, have_ts ? &ts : NULL);
        why_add(why, k, status_text(*at->status));
        xdr_free(at->xdr_res, at->res);
        return false;
    }
    route_report(k, ROUTE_OK, NULL, have_ts ? &ts : NULL);
    return true;
}

/* Rounds over all replicas until one gives a final answer or wait_ms
 * passes.  Returns true with at->res filled, false with why filled. */
static bool forward(const vts_t *prev, bool update, const struct attempt *at, size_t res_size,
                    struct why *why)
{
    uint64_t deadline = clock_mono_ms() + (uint64_t)wait_ms;
    unsigned delay_ms = 20;
    uint32_t order[VTS_MAX];
    for (;;) {
        route_order(prev, update, order);
        why->len = 0;
        why->text[0] = '\0';
        for (uint32_t i = 0; i < route_count(); i++) {
            memset(at->res, 0, res_size);
            if (try_replica(order[i], at, why))
                return true;
            memset(at->res, 0, res_size);
        }
        if (clock_mono_ms() + delay_ms > deadline)
            return false;
        usleep(delay_ms * 1000);
        delay_ms = delay_ms * 2 > 200 ? 200 : delay_ms * 2;
    }
}

static char *unavailable(const struct why *why)
{
    char msg[RT_MAX_DETAIL + 1];
    snprintf(msg, sizeof msg, "no replica could serve: %.200s", why->text);
    return strdup(msg);
}

static enum clnt_stat call_query(const void *a, void *r, CLIENT *c)
{
    return rp_query_1(*(const rt_query_args *)a, r, c);
}

static enum clnt_stat call_update(const void *a, void *r, CLIENT *c)
{
    return rp_update_1(*(const rt_update_args *)a, r, c);
}

static enum clnt_stat call_submit(const void *a, void *r, CLIENT *c)
{
    return rp_submit_1(*(const rt_update_args *)a, r, c);
}

void forward_query(const rt_query_args *a, rt_query_res *res)
{
    vts_t prev;
    struct why why = {.len = 0};
    if (vts_from_xdr(&prev, &a->prev) != RT_OK || prev.n > route_count()) {
        res->status = RT_INVALID;
        res->detail = strdup("the session timestamp has more entries than there are replicas");
        return;
    }
    struct attempt at = {call_query, a, res, (xdrproc_t)xdr_rt_query_res, &res->status, &res->ts};
    if (forward(&prev, false, &at, sizeof *res, &why))
        return;
    res->status = RT_UNAVAILABLE;
    res->detail = unavailable(&why);
}

/* Reject what no replica would accept without asking one. */
static const char *check_update(const rt_update_args *a, vts_t *prev)
{
    op_t op;
    if (vts_from_xdr(prev, &a->prev) != RT_OK || prev->n > route_count())
        return "the session timestamp has more entries than there are replicas";
    if (op_from_xdr(&op, &a->op) != RT_OK)
        return "malformed update";
    return op_check(&op, op.kind == OP_ADD_MOVIE);
}

/* An id and a stamp for an update from a client that sent none (rating.x:
 * whoever picks the id picks the stamp): the clock in ms, above every
 * stamp given before and above `after`. */
static void assign_id(rt_update_args *a, uint64_t after)
{
    uint64_t last = __atomic_load_n(&stamp_last, __ATOMIC_RELAXED), stamp;
    do {
        stamp = clock_wall_ms();
        if (stamp <= last)
            stamp = last + 1;
        if (stamp <= after)
            stamp = after + 1;
    } while (!__atomic_compare_exchange_n(&stamp_last, &last, stamp, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    a->uid.origin = uid_origin;
    a->uid.seq = __atomic_add_fetch(&uid_seq, 1, __ATOMIC_RELAXED);
    a->stamp = stamp;
}

/* Times an update of ours is stamped again after RT_STALE (each time the
 * stamp passes the later write's, so once is nearly always enough). */
#define RESTAMPS 3

void forward_update(const rt_update_args *in, bool submit, rt_update_res *res)
{
    vts_t prev;
    struct why why = {.len = 0};
    const char *bad = check_update(in, &prev);
    bool ours = in->uid.origin == 0 && in->uid.seq == 0;
    if (!bad && !ours && in->stamp == 0)
        bad = "an update with an id of its own needs its stamp too (rating.x: rt_update_args)";
    if (bad) {
        res->status = RT_INVALID;
        res->detail = strdup(bad);
        return;
    }
    rt_update_args a = *in;
    if (ours)
        assign_id(&a, 0);
    struct attempt at = {submit ? call_submit : call_update, &a, res,
                         (xdrproc_t)xdr_rt_update_res, &res->status, &res->ts};
    for (int n = 0; forward(&prev, true, &at, sizeof *res, &why); n++) {
        if (res->status != RT_STALE)
            return;
        /* A later write is there.  If no copy of this update can be
         * anywhere, a new id with a later stamp writes it; otherwise the
         * outcome is unknown (a copy may be applied, and superseded). */
        if (!why.maybe_applied && (!ours || n == RESTAMPS))
            return; /* the client's own id: the client decides (rating.x) */
        if (why.maybe_applied) {
            why_add(&why, res->replica, "has a later write, and a replica that did not answer "
                                        "may have applied the update");
            xdr_free((xdrproc_t)xdr_rt_update_res, (char *)res);
            memset(res, 0, sizeof *res);
            break;
        }
        uint64_t later = res->stamp;
        xdr_free((xdrproc_t)xdr_rt_update_res, (char *)res);
        memset(res, 0, sizeof *res);
        assign_id(&a, later);
    }
    res->status = RT_UNAVAILABLE;
    res->detail = unavailable(&why);
    log_warn("update %llu:%llu not accepted: %s", (unsigned long long)a.uid.origin,
             (unsigned long long)a.uid.seq, why.text);
}

void forward_status(rt_status_list *res)
{
    uint32_t n = route_count();
    res->rt_status_list_val = calloc(n, sizeof *res->rt_status_list_val);
    if (!res->rt_status_list_val)
        return;
    res->rt_status_list_len = n;
    for (uint32_t k = 0; k < n; k++) {
        rt_status_res *s = &res->rt_status_list_val[k];
        char err[256];
        CLIENT *c = route_borrow(k, err, sizeof err);
        enum clnt_stat cs = c ? rp_status_1(s, c) : RPC_FAILED;
        route_return(k, c, cs != RPC_SUCCESS);
        if (cs == RPC_SUCCESS) {
            route_report(k, ROUTE_ALIVE, &s->state, NULL);
            continue;
        }
        route_report(k, ROUTE_FAILED, NULL, NULL);
        memset(s, 0, sizeof *s);
        s->status = RT_UNAVAILABLE;
        s->replica = k;
        s->nreplicas = n;
        s->state = ST_UNREACHABLE;
    }
}
