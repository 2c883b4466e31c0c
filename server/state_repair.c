/*
 * state_repair.c -- the state module's part of anti-entropy repair
 * (state.h, "repair"): the one place where repair takes the state lock.
 * repair.c and repair_serve.c decide what to read or merge; this runs it
 * on the store at a given value timestamp, as one transaction when it
 * writes, durable before it returns, like every other step of the
 * replica.  Merged rows never change the value timestamp: they are the
 * effects of updates both replicas have applied (docs/algorithm.md).
 */
#include "state_int.h"

#include "log.h"

int state_repair_at(state_t *s, const vts_t *at, bool writes,
                    int (*fn)(void *arg, store_t *store), void *arg, vts_t *now)
{
    pthread_mutex_lock(&s->lock);
    *now = s->rep.value_ts;
    int rc = 0;
    if (s->installing) {
        rc = 0; /* the store is a snapshot's: not now */
    } else if (!at || vts_eq(at, &s->rep.value_ts)) {
        if (!writes) {
            rc = fn(arg, s->store) == 0 ? 1 : -1;
            if (rc < 0) /* (a write's failure state_finish logs) */
                log_error("repair: cannot read the store: %s", store_errmsg(s->store));
        }
        else if (store_begin(s->store) < 0)
            rc = -1;
        else
            rc = state_finish(s, fn(arg, s->store)) == 0 ? 1 : -1;
    }
    uint64_t seq = state_committed(s);
    pthread_mutex_unlock(&s->lock);
    state_wait_durable(s, seq); /* what fn read or merged may not be on disk yet */
    return rc;
}
