/*
 * peers.h -- the gossip thread: every interval (and sooner when updates
 * pile up) it calls each peer's GOSSIP with the records that peer may
 * lack, and applies the peer's answer.  It has its own client handles and
 * holds the state lock only while it builds a message or applies a reply,
 * never across an RPC, so requests are served while it waits on a peer.
 * A peer that is down is retried with backoff; one that restarts is found
 * again through its host's rpcbind.  Every repair_ms it also runs an
 * anti-entropy round with each peer that answered (repair.h).
 */
#ifndef RATINGD_PEERS_H
#define RATINGD_PEERS_H

#include "cluster.h"
#include "state.h"

struct peers_config {
    const cluster_t *cluster;
    uint32_t self;
    int interval_ms;
    int timeout_ms;
    int repair_ms;         /* anti-entropy round with each peer this often; 0: never */
};

int peers_start(state_t *s, const struct peers_config *cfg);
/* Wake the thread for an early round (after a burst of updates). */
void peers_kick(void);
/* One last round, then stop and join. */
void peers_stop(void);

#endif
