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

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gossip.h"
#include "store.h"

struct state_config {
    uint32_t id;
    uint32_t n;
    const char *db_path;       /* ":memory:" for a volatile replica */
    bool no_sync;              /* durability off (benchmarks only) */
    uint64_t overload;         /* overloaded above this many pending updates */
    double fail_rate;          /* simulated offline probability per request */
    uint64_t seed;
    /* Tests only: called instead of store_sync to make commits durable. */
    int (*sync_hook)(store_t *store, void *arg);
    void *sync_arg;
    /* Tests only (the simulator): the wall clock in ms, instead of
     * gettimeofday. */
    uint64_t (*clock_ms)(void *arg);
    void *clock_arg;
};

/* Idle readers kept for later queries (more are opened when needed). */
#define STATE_MAX_READERS 64

typedef struct state {
    pthread_mutex_t lock;
    replica_t rep;
    store_t *store;
    struct state_config cfg;
    uint64_t rng;              /* xorshift state for simulated failures */
    bool lost_state_warned;
    bool was_overloaded;       /* for the log line when that changes */
    uint64_t peer_epoch[VTS_MAX]; /* last epoch each peer gossiped with */
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
    uint64_t synced;           /* durable up to this commit (atomic) */
    bool syncing;              /* a sync runs (under sync_lock) */
    uint64_t syncs;            /* syncs run (under sync_lock) */
} state_t;

/* Open the store and restore the algorithm state.  Returns 0, or -1 with
 * a message in err.  A new store is empty: fill it with state_import or
 * by joining the cluster (join.c). */
int state_open(state_t *s, const struct state_config *cfg, char *err, size_t errlen);
void state_close(state_t *s);
bool state_is_new(state_t *s);
/* Import a MovieLens directory into a new store (progress: on stderr). */
int state_import(state_t *s, const char *dir, bool progress, char *err, size_t errlen);
/* Rebuild the in-memory state from the store (after a snapshot). */
int state_reload(state_t *s);

/* Request handlers: fill res (heap memory for XDR to free). */
void state_query(state_t *s, const rt_query_args *a, rt_query_res *res);
void state_update(state_t *s, const rt_update_args *a, bool submit, rt_update_res *res);
void state_gossip_in(state_t *s, const rt_gossip_args *a, rt_gossip_res *res);
void state_status(state_t *s, rt_status_res *res);

/* Outgoing gossip to peer k: fill args with what k may lack; then feed
 * k's reply back.  Returns -1 on a storage or conversion failure. */
int state_gossip_out(state_t *s, uint32_t k, rt_gossip_args *args);
int state_gossip_reply(state_t *s, uint32_t k, const rt_gossip_res *res);

/* Wait until everything committed so far is durable. */
void state_sync(state_t *s);

/* Own updates no peer has acknowledged (drives early gossip). */
uint64_t state_pending(state_t *s);

#endif
