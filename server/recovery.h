/*
 * recovery.h -- when a replica may hand out sequence numbers: the rule
 * that keeps one number from naming two updates after a replica lost
 * state.  Pure: no I/O, no locks; server/state.c holds it under the state
 * lock and acts on what it says.
 *
 * The danger.  Replica i numbers its updates 1, 2, 3, ... (ts[i]); a peer
 * that holds i's record m believes every record of i up to m is the one it
 * holds.  If i loses records that a peer holds -- its directory wiped, a
 * backup restored, a file copied, writes the disk lost -- and then numbers
 * new updates from where its state ends, two updates share a number, peers
 * drop one of them as known, and the replicas diverge for good.
 *
 * The rule.  A replica whose state may be behind what it handed out is
 * *recovering*: it answers queries but refuses updates (RT_NOT_READY; the
 * front end goes elsewhere) until it has heard, in a gossip exchange or a
 * STATUS, from every peer since recovery began.  Each peer's replica_ts
 * says how many of our records it holds (entry self: peers only ever
 * receive our records in order).  If none holds more than we do, nobody
 * anywhere holds a record we lost, and we may go on numbering.  If some do,
 * we take our records back before numbering again: from the log of the
 * peer that holds the most (gossip brings them; receive_record accepts our
 * own records then), or, when that peer's log no longer has them (every
 * replica had acknowledged them before we lost them), by copying that
 * peer's state (a snapshot).
 *
 * What we lost of other replicas' records matters too: a record every
 * replica had acknowledged left every log, so gossip never brings it
 * again, and a replica that lacks it stays behind for good.  A peer that
 * did not lose state itself (it is not recovering: *whole*) holds every
 * such record -- a record left a log only when every replica had it, that
 * peer included.  So recovery ends only once a complete exchange with a
 * whole peer (its answer to our call: every record it has past ours)
 * leaves us holding all it ever said it holds; if it does not, we copy
 * that peer's state.  A peer that is recovering too is no reference and
 * gives no snapshot (it may lack the same records): only when every peer
 * is recovering and none holds anything we lack may we end without one.
 * (No replica counts a record it has not received: gossip.c never adopts
 * a sender's replica_ts, which may rest on beliefs about an earlier
 * incarnation of ours.)  Messages of a
 * peer's earlier incarnation, delayed past its restart, raise nothing we
 * believe of it (state_gossip.c: retired epochs).
 *
 * When some peers cannot be reached, the replica stays recovering until
 * they can (queries go on; updates go to the other replicas); with none
 * reachable, the same.  A replica whose state is known to be whole (its
 * data directory's mark agrees with its database, server/datadir.h) does
 * not recover at start; but a peer that reports more of our records than
 * we hold shows we lost state after all (a loss the mark could not see):
 * recovery begins then, and updates numbered meanwhile may collide -- the
 * limit of the rule, which the value anti-entropy repairs
 * (docs/algorithm.md).  So does a complete answer to our call that leaves
 * us short of what the peer holds, of any replica's records: it sent every
 * record of its log past ours, so the rest left its log, which it allows
 * only once it believes every replica, us included, holds them -- we or an
 * earlier incarnation of ours did, and we lost them.  Gossip will never
 * bring them; recovery copies a whole peer.  (A recovery that ended on
 * reports older than a peer's own loss and copy can end so: every peer
 * was recovering, and their reports, taken at different times, each
 * missed a record that moved from one to another; the simulator,
 * --seed 6452 --faults all.)
 */
#ifndef RATINGD_RECOVERY_H
#define RATINGD_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "vts.h"

typedef struct recovery {
    uint32_t self;
    uint32_t n;
    bool active;          /* recovering: no sequence numbers handed out */
    uint64_t heard;       /* bit k: peer k heard from since recovery began */
    uint64_t own_known;   /* the most of our own records a peer holds */
    uint32_t best;        /* a peer that holds own_known of them (self: none yet) */
    uint32_t ref;         /* a whole peer with the most records: the reference (self: none) */
    uint64_t ref_sum;     /* the records it holds in all */
    vts_t ref_ts;         /* the merge of what ref reported (an old message is no news) */
    vts_t known;          /* the merge of what every peer reported holding */
    bool rejoin;          /* copy ref's state (state_rejoin_wanted) */
    char why[256];        /* what started it, for STATUS and the log */
} recovery_t;

enum recovery_event {
    RECOVERY_NONE,        /* nothing changed */
    RECOVERY_BEGUN,       /* a peer holds more of our records than we do: recovering now */
    RECOVERY_DONE,        /* updates may go on */
    RECOVERY_REJOIN       /* copy ref's state (recovery.rejoin is set) */
};

/* A replica that is not recovering (its state is known whole). */
void recovery_init(recovery_t *r, uint32_t self, uint32_t n);
/* Begin recovering (again): nothing heard yet. */
void recovery_begin(recovery_t *r, const char *why);

/* Peer `from` reported its replica_ts `their`; ours is our replica_ts now.
 * `complete`: the exchange brought every record it had for us (a gossip
 * reply without `more`), so anything still missing is not in its log.
 * `whole`: the peer is not recovering itself. */
enum recovery_event recovery_heard(recovery_t *r, uint32_t from, const vts_t *their,
                                   const vts_t *ours, bool complete, bool whole);

/* ref's state was copied: done if every peer was heard and none holds more
 * of our own updates. */
enum recovery_event recovery_check(recovery_t *r, const vts_t *ours);

/* The peer to exchange with now, or -1 (still waiting for peers, copying,
 * or nobody to ask): best while some of our own updates are missing (its
 * log has them), else ref. */
int recovery_source(const recovery_t *r, const vts_t *ours);

/* The peers still to hear from, as a bit mask. */
uint64_t recovery_waiting(const recovery_t *r);

#endif
