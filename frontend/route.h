/*
 * route.h -- what the front end knows about each replica, and which one a
 * request should try next.
 *
 * Per replica: a pool of connected client handles (rpcclnt.h; a handle
 * serves one call at a time, so each request borrows one), the last
 * state and valueTS it reported, and a back-off after failures so a dead
 * replica does not cost a connect timeout on every request.  Everything
 * is under one small mutex that is never held across an RPC.
 */
#ifndef RATINGD_ROUTE_H
#define RATINGD_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <rpc/rpc.h>

#include "cluster.h"
#include "rating.h"
#include "vts.h"

enum route_outcome {
    ROUTE_OK,         /* answered a request: keep using it */
    ROUTE_ALIVE,      /* answered STATUS: healthy, but no reason to switch */
    ROUTE_BUSY,       /* overloaded, offline or not ready: try others first */
    ROUTE_FAILED      /* no answer: connection or RPC failure */
};

int route_init(const cluster_t *c, uint32_t prefer, int timeout_ms);
void route_shutdown(void);
uint32_t route_count(void);

/* Fill order[] with every replica, best first for this request: the
 * sticky choice, then the rest in turn; replicas that failed or were busy
 * lately go last; for queries, one whose known valueTS covers prev first. */
void route_order(const vts_t *prev, bool update, uint32_t *order);

/* Borrow a connected handle for replica k (NULL and a message if it cannot
 * be reached), and give it back; `broken` destroys it. */
CLIENT *route_borrow(uint32_t k, char *err, size_t errlen);
void route_return(uint32_t k, CLIENT *c, bool broken);

/* Tell how a call to replica k went; st/value_ts may be NULL. */
void route_report(uint32_t k, enum route_outcome o, const rt_state *st, const vts_t *value_ts);

#endif
