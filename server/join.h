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

#include "cluster.h"
#include "state.h"

/* 1: joined from a peer; 0: nothing to join (imports instead); -1: error. */
int join_cluster(state_t *s, const cluster_t *c, int timeout_ms, char *err, size_t errlen);

#endif
