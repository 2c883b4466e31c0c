/*
 * state.h -- one replica: the gossip algorithm (gossip.c) bound to its
 * durable store (store.c) under one lock.  Every operation here is a
 * transaction: the algorithm's step and everything it changed are
 * committed, and durable, before the function returns, so a reply is never
 * sent for an update that is not on disk.  If storage fails, the step is
 * rolled back and the in-memory state reloaded from disk.
 *
 * Concurrency: updates and gossip take the state lock for their step and
 * commit, then release it and wait for a sync that covers their commit
 * (group commit: one fdatasync for all the commits made meanwhile).  Queries
 * do not take the lock: each runs on a reader (a read-only connection,
 * store.h) in one read transaction that gives the value and its value_ts
 * together.  Nothing that a function returns reveals a commit before it is
 * durable: a query that read one waits for its sync too.
 *
 * This layer speaks the XDR types of rating.x but knows nothing of sockets
 * or threads other than its own locks: server/handlers.c calls it for
 * requests, server/peers.c for outgoing gossip.
 */
#ifndef RATINGD_STATE_H
#define RATINGD_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "gossip.h"
#include "recovery.h"
#include "store.h"

struct state_config {
    uint32_t id;
    uint32_t n;
    const char *db_path;       /* ":memory:" for a volatile replica */
    bool no_sync;              /* durability off (benchmarks only) */
    uint64_t overload;         /* overloaded above this many pending updates */
    double fail_rate;          /* simulated offline probability per request */
    uint64_t seed;
    /* The data directory's mark (server/datadir.h): the last commit known
     * durable and the epoch then.  A database below it, of another epoch,
     * or without one, may be behind what this replica handed out (a
     * restored backup, a copied file, lost writes): it recovers before it
     * numbers updates (recovery.h), as a new database always does. */
    bool have_mark;
    uint64_t mark_commit;
    uint64_t mark_epoch;
    /* Called after each group commit's sync with the last durable commit
     * and the epoch, to keep the mark; outside every lock. */
    void (*durable)(void *arg, uint64_t commit, uint64_t epoch);
    void *durable_arg;
    /* Tests only: called instead of store_sync to make commits durable. */
    int (*sync_hook)(store_t *store, void *arg);
    void *sync_arg;
    /* Tests only (the simulator): the wall clock in ms, instead of
     * gettimeofday. */
    uint64_t (*clock_ms)(void *arg);
    void *clock_arg;
};

/* One replica's state; only state.c sees inside. */
typedef struct state state_t;

/* Open the store and restore the algorithm state.  NULL with a message in
 * err.  A new store is empty: fill it with state_import or by joining the
 * cluster (join.c). */
state_t *state_open(const struct state_config *cfg, char *err, size_t errlen);
void state_close(state_t *s);
bool state_is_new(state_t *s);
/* Import a MovieLens directory into a new store (progress: on stderr). */
int state_import(state_t *s, const char *dir, bool progress, char *err, size_t errlen);
uint32_t state_id(const state_t *s);
/* Recovering (recovery.h), or installing a snapshot: not a whole replica. */
bool state_recovering(state_t *s);
uint32_t state_nreplicas(const state_t *s);

/* Installing a peer's snapshot (join.c): state_install_begin gives the
 * store to install into, inside a write transaction, and until
 * state_install_end every other use of the store is refused (updates and
 * gossip: RT_NOT_READY; queries keep reading the last commit on their
 * readers).  state_install_end commits (ok) or rolls back, gives the
 * replica a new epoch (so peers send again what the source lacked), and
 * reloads the state.  NULL with err if an install runs or the store fails. */
store_t *state_install_begin(state_t *s, char *err, size_t errlen);
int state_install_end(state_t *s, bool ok);
/* A consistent view of the committed (and durable) state, for serving a
 * snapshot (snapshot.c); NULL with err. */
store_snap_t *state_snapshot_open(state_t *s, char *err, size_t errlen);
/* A peer answered STATUS with replica_ts `their` and its state (whole: not
 * recovering itself): for recovery (join.c, peers.c). */
void state_heard_status(state_t *s, uint32_t k, const vts_t *their, bool whole);
/* Recovery (recovery.h), for the gossip thread: the peers still to hear
 * from (bit k); the peer to take our own updates back from by gossip (it
 * holds the most of them), or -1; the peer whose state to copy because its
 * log no longer has them (join_from), or -1. */
uint64_t state_recovery_waiting(state_t *s);
int state_recovery_source(state_t *s);
int state_rejoin_wanted(state_t *s);

/* Request handlers: fill res (heap memory for XDR to free). */
void state_query(state_t *s, const rt_query_args *a, rt_query_res *res);
void state_update(state_t *s, const rt_update_args *a, bool submit, rt_update_res *res);
void state_gossip_in(state_t *s, const rt_gossip_args *a, rt_gossip_res *res);
void state_status(state_t *s, rt_status_res *res);

/* Outgoing gossip to peer k: fill args with what k may lack; then feed
 * k's reply back.  Returns -1 on a storage or conversion failure. */
int state_gossip_out(state_t *s, uint32_t k, rt_gossip_args *args);
int state_gossip_reply(state_t *s, uint32_t k, const rt_gossip_res *res);

/* For tests: how the replica works inside. */
struct state_probe {
    size_t log_len;
    vts_t replica_ts;
    int nreaders;              /* idle readers */
    uint64_t syncs;            /* group-commit syncs run */
    uint64_t committed;        /* the last commit */
};
void state_probe(state_t *s, struct state_probe *out);

/* Wait until everything committed so far is durable. */
void state_sync(state_t *s);

/* Own updates no peer has acknowledged (the overload measure). */
uint64_t state_pending(state_t *s);
/* Enough own updates wait (half the overload threshold) to gossip now. */
bool state_gossip_due(state_t *s);

/* ---- repair (anti-entropy) ---- */
/* Run fn on the store under the state lock if the value timestamp is *at
 * (any, when at is NULL); *now gets the value timestamp fn ran at, or
 * the one that differed.  With `writes`, fn runs in a transaction that is
 * committed, and durable, before this returns (or rolled back if fn
 * fails).  Returns 1 when fn ran and returned 0, 0 when the timestamps
 * differ or a snapshot is being installed (fn did not run), -1 when fn or
 * the store failed.  server/repair.c compares and merges only at equal
 * value timestamps: docs/algorithm.md.  (server/state_repair.c) */
int state_repair_at(state_t *s, const vts_t *at, bool writes,
                    int (*fn)(void *arg, store_t *store), void *arg, vts_t *now);

#endif
