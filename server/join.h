/*
 * join.h -- a replica whose database is new asks its peers whether the
 * cluster already has state.  If one has (a non-zero replica timestamp),
 * the replica lost its disk or is joining late: it copies the state of the
 * peer that knows most of this replica's own updates (so it never hands
 * out a sequence number a peer already holds), and gossip brings the rest.
 * If every reachable peer is empty, the cluster is new and the caller
 * imports the data set instead.
 */
#ifndef RATINGD_JOIN_H
#define RATINGD_JOIN_H

#include <stddef.h>

#include <rpc/rpc.h>

#include "cluster.h"
#include "state.h"

/* How peers are reached: rpcbind in the daemon, an in-process transport in
 * the simulator (tests/sim). */
struct join_peers {
    CLIENT *(*connect)(void *ctx, uint32_t k, int timeout_ms, char *err, size_t errlen);
    void *ctx;
};

/* At start, for a new database.  Every peer that answers counts for
 * recovery (recovery.h).  1: joined from a peer; 0: nothing to join
 * (imports instead); -1: error. */
int join_cluster(state_t *s, const cluster_t *c, int timeout_ms, char *err, size_t errlen);
int join_cluster_with(state_t *s, const struct join_peers *p, int timeout_ms, char *err,
                      size_t errlen);

/* While running (recovery wants it, state_rejoin_wanted): replace this
 * replica's state with a copy of replica src's.  0 or -1 with err. */
int join_from(state_t *s, const cluster_t *c, uint32_t src, int timeout_ms, char *err,
              size_t errlen);
int join_from_with(state_t *s, const struct join_peers *p, uint32_t src, int timeout_ms,
                   char *err, size_t errlen);

#endif
