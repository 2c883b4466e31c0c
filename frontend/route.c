/* route.c -- replica health, choice and connection pools. */
#include "route.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "rpcclnt.h"

#define POOL_MAX 64

struct replica_info {
    endpoint_t ep;
    CLIENT *pool[POOL_MAX];
    int npool;
    vts_t value_ts;        /* last valueTS it reported */
    uint64_t avoid_until;  /* busy or failed lately: try it last until then */
    int backoff_ms;
    bool down;
};

static struct {
    pthread_mutex_t mu;
    uint32_t n;
    uint32_t sticky;       /* the replica that worked last */
    int timeout_ms;
    struct replica_info r[VTS_MAX];
} rt = {.mu = PTHREAD_MUTEX_INITIALIZER};

int route_init(const cluster_t *c, uint32_t prefer, int timeout_ms)
{
    if (c->n == 0 || prefer >= c->n)
        return -1;
    memset(rt.r, 0, sizeof rt.r);
    rt.n = c->n;
    rt.sticky = prefer;
    rt.timeout_ms = timeout_ms;
    for (uint32_t k = 0; k < c->n; k++) {
        rt.r[k].ep = c->rep[k];
        vts_zero(&rt.r[k].value_ts, c->n);
    }
    return 0;
}

void route_shutdown(void)
{
    pthread_mutex_lock(&rt.mu);
    for (uint32_t k = 0; k < rt.n; k++)
        while (rt.r[k].npool > 0) {
            CLIENT *c = rt.r[k].pool[--rt.r[k].npool];
            clnt_destroy(c); /* a macro: no side effects in its argument */
        }
    pthread_mutex_unlock(&rt.mu);
}

uint32_t route_count(void) { return rt.n; }

/* Lower is better: avoided replicas last, then (for queries) those that
 * may lack what the client saw, then distance from the sticky choice. */
static unsigned rank(uint32_t k, const vts_t *prev, bool update, uint64_t now)
{
    unsigned r = (k + rt.n - rt.sticky) % rt.n;
    if (!update && !vts_le(prev, &rt.r[k].value_ts))
        r += VTS_MAX;
    if (rt.r[k].avoid_until > now)
        r += 2 * VTS_MAX;
    return r;
}

void route_order(const vts_t *prev, bool update, uint32_t *order)
{
    unsigned ranks[VTS_MAX];
    uint64_t now = clock_mono_ms();
    pthread_mutex_lock(&rt.mu);
    for (uint32_t k = 0; k < rt.n; k++) {
        ranks[k] = rank(k, prev, update, now);
        order[k] = k;
    }
    pthread_mutex_unlock(&rt.mu);
    for (uint32_t i = 1; i < rt.n; i++) /* insertion sort: n is small */
        for (uint32_t j = i; j > 0 && ranks[order[j]] < ranks[order[j - 1]]; j--) {
            uint32_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
}

CLIENT *route_borrow(uint32_t k, char *err, size_t errlen)
{
    CLIENT *c = NULL;
    pthread_mutex_lock(&rt.mu);
    if (rt.r[k].npool > 0)
        c = rt.r[k].pool[--rt.r[k].npool];
    endpoint_t ep = rt.r[k].ep;
    pthread_mutex_unlock(&rt.mu);
    if (c)
        return c;
    /* Through the replica's rpcbind every time we connect: a replica that
     * restarted on a new port is found again. */
    return rpcclnt_connect(ep.host, ep.prog, RATING_REPLICA_V1, rt.timeout_ms, err, errlen);
}

void route_return(uint32_t k, CLIENT *c, bool broken)
{
    if (!c)
        return;
    pthread_mutex_lock(&rt.mu);
    if (!broken && rt.r[k].npool < POOL_MAX) {
        rt.r[k].pool[rt.r[k].npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&rt.mu);
    if (c)
        clnt_destroy(c);
}

static void log_change(uint32_t k, bool was_down, bool is_down)
{
    if (was_down != is_down)
        log_info("replica %u (%s:%#x) %s", k, rt.r[k].ep.host, rt.r[k].ep.prog,
                 is_down ? "down" : "up");
}

void route_report(uint32_t k, enum route_outcome o, const rt_state *st, const vts_t *value_ts)
{
    pthread_mutex_lock(&rt.mu);
    struct replica_info *r = &rt.r[k];
    bool was_down = r->down;
    if (value_ts)
        vts_merge(&r->value_ts, value_ts);
    if (o == ROUTE_OK || o == ROUTE_ALIVE) {
        r->down = false;
        r->backoff_ms = 0;
        r->avoid_until = 0;
        if (o == ROUTE_OK)
            rt.sticky = k;
    } else {
        /* Back off 500 ms doubling to 5 s; busy replicas for a short while. */
        int base = o == ROUTE_FAILED ? 500 : 100;
        r->backoff_ms = backoff_next_ms(r->backoff_ms, base, BACKOFF_MAX_MS);
        r->avoid_until = clock_mono_ms() + (uint64_t)r->backoff_ms;
        r->down = o == ROUTE_FAILED;
    }
    if (st && *st != ST_ACTIVE && o != ROUTE_FAILED)
        r->avoid_until = clock_mono_ms() + 100;
    log_change(k, was_down, r->down);
    pthread_mutex_unlock(&rt.mu);
}
