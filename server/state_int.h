/*
 * state_int.h -- inside the state module (state.h): one replica's state
 * and what its files share.  state.c is the core -- the struct, opening,
 * transactions, group commit, recovery, snapshots installed, status --
 * and state_query.c, state_update.c and state_gossip.c each serve one
 * kind of request.  Only these files include this header, and they take
 * the state lock (LMDB's rule: only the owner touches a struct's insides).
 */
#ifndef RATINGD_STATE_INT_H
#define RATINGD_STATE_INT_H

#include <pthread.h>

#include "state.h"

/* Retired epochs remembered per peer (see struct state). */
#define RETIRED_EPOCHS 8

/* Idle readers kept for later queries (more are opened when needed). */
#define STATE_MAX_READERS 64

struct state {
    pthread_mutex_t lock;
    replica_t rep;
    store_t *store;
    struct state_config cfg;
    uint64_t rng;              /* xorshift state for simulated failures */
    recovery_t recovery;       /* recovering: updates refused (recovery.h) */
    bool recovery_dirty;       /* saved with the next commit */
    bool installing;           /* a snapshot is being installed: hands off the store */
    bool was_overloaded;       /* for the log line when that changes */
    uint64_t peer_epoch[VTS_MAX]; /* last epoch each peer gossiped with */
    /* Epochs each peer had before (a message of one was delayed past its
     * sender's restart: no news; state_gossip.c), the last few. */
    uint64_t retired_epoch[VTS_MAX][RETIRED_EPOCHS];
    uint64_t gossip_bytes;     /* sent in gossip calls and replies */
    uint64_t gossip_records;
    /* queries: idle readers */
    pthread_mutex_t readers_lock;
    store_t *readers[STATE_MAX_READERS];
    int nreaders;
    bool no_readers;           /* ":memory:": queries use the writer, locked */
    /* group commit: commits are numbered by the store (store_commits) */
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_cv;
    uint64_t committed;        /* the last commit (atomic) */
    uint64_t committed_epoch;  /* the epoch then (atomic) */
    uint64_t synced;           /* durable up to this commit (atomic) */
    bool syncing;              /* a sync runs (under sync_lock) */
    uint64_t syncs;            /* syncs run (under sync_lock) */
};


/* The last commit, whose effects a reply made now may reveal (read under
 * the lock, which orders it after what the reply is built from). */
uint64_t state_committed(state_t *s);
/* Commit the step (durable once state_wait_durable says so), or undo it on
 * disk and in memory.  rc < 0: undo.  Returns 0 or -1. */
int state_finish(state_t *s, int rc);
/* Return once commit `seq` is durable (group commit). */
void state_wait_durable(state_t *s, uint64_t seq);
/* The replica's wall clock in ms (the simulator's, if it has one). */
uint64_t state_now_ms(const state_t *s);
/* A simulated failure (--fail-rate) now?  Callable without the lock. */
bool state_offline_now(state_t *s);
bool state_overloaded(state_t *s);
/* Log when the replica becomes overloaded or stops being so. */
void state_note_load(state_t *s);
/* Read a client's prev; a vector longer than the cluster is invalid. */
rt_status state_read_prev(const state_t *s, const rt_vts *x, vts_t *prev);
/* A reply's detail string (heap, for XDR to free). */
char *state_detail(const char *msg);
/* What a peer told us of our own records (recovery.h), inside the
 * transaction of the exchange: 0 or -1. */
int state_note_heard(state_t *s, uint32_t from, const vts_t *their, bool complete, bool whole);
/* Save what we know of each peer's epoch (inside a transaction). */
int state_save_peer_epochs(state_t *s);
/* The detail of an update refused while recovering. */
extern const char state_recovering_text[];

#endif
