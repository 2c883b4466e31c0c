/*
 * state.c -- the core of the state module (state.h, state_int.h): a
 * replica's algorithm (gossip.c) bound to its store under one lock, each
 * step one transaction (state_finish); group commit; recovery
 * (recovery.h) and snapshots installed (join.c); status.  Queries,
 * updates and gossip are served by state_query.c, state_update.c and
 * state_gossip.c.
 */
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "validate.h"

/* ---- hooks: the algorithm's view of the store ---------------------- */

static int hook_apply(void *ctx, const urec_t *r) { return store_apply(ctx, r); }

static bool hook_executed(void *ctx, const upd_id_t *uid, upd_result_t *out)
{
    return store_executed_find(ctx, uid, out) == 1;
}

static int hook_logged(void *ctx, const urec_t *r) { return store_log_put(ctx, r); }
static int hook_discarded(void *ctx, const urec_t *r) { return store_log_del(ctx, r); }

static int restore_log_record(void *arg, const urec_t *r)
{
    return replica_log_restore(arg, r);
}

/* What we know of each peer's epoch, as "e0,e1,..." in meta. */
static int load_peer_epochs(state_t *s)
{
    char buf[VTS_MAX * 21 + 1];
    memset(s->peer_epoch, 0, sizeof s->peer_epoch);
    int rc = store_meta_get(s->store, "peer_epochs", buf, sizeof buf);
    char *p = buf;
    for (uint32_t k = 0; rc == 1 && k < s->cfg.n && *p; k++) {
        s->peer_epoch[k] = strtoull(p, &p, 10);
        if (*p == ',')
            p++;
    }
    return rc < 0 ? -1 : 0;
}

int state_save_peer_epochs(state_t *s)
{
    char buf[VTS_MAX * 21 + 1];
    size_t off = 0;
    buf[0] = '\0';
    for (uint32_t k = 0; k < s->cfg.n; k++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%llu", k ? "," : "",
                                (unsigned long long)s->peer_epoch[k]);
    return store_meta_put(s->store, "peer_epochs", buf);
}

/* (Re)build the in-memory algorithm state from the store. */
static int state_load(state_t *s)
{
    struct replica_hooks hooks = {s->store, hook_apply, hook_executed, hook_logged,
                                  hook_discarded};
    replica_free(&s->rep);
    if (replica_init(&s->rep, s->cfg.id, s->cfg.n, &hooks) < 0)
        return -1;
    replica_t *r = &s->rep;
    if (store_load_ts(s->store, &r->replica_ts, &r->value_ts, r->table, r->n) < 0)
        return -1;
    if (load_peer_epochs(s) < 0)
        return -1;
    return store_log_each(s->store, restore_log_record, r);
}

static int save_ts(state_t *s)
{
    replica_t *r = &s->rep;
    return store_save_ts(s->store, &r->replica_ts, &r->value_ts, r->table, r->n);
}

/* The last commit, whose effects a reply made now may reveal (read under
 * the lock, which orders it after what the reply is built from). */
uint64_t state_committed(state_t *s) { return __atomic_load_n(&s->committed, __ATOMIC_ACQUIRE); }

static void set_committed(state_t *s)
{
    __atomic_store_n(&s->committed_epoch, store_epoch(s->store), __ATOMIC_RELAXED);
    __atomic_store_n(&s->committed, store_commits(s->store), __ATOMIC_RELEASE);
}

/* Commit the step (durable once wait_durable says so), or undo it on disk
 * and in memory. */
static int save_recovery(state_t *s);

int state_finish(state_t *s, int rc)
{
    if (rc >= 0 && save_ts(s) == 0 && save_recovery(s) == 0 && store_commit(s->store) == 0) {
        set_committed(s);
        return 0;
    }
    static log_limit_t limit; /* a full disk fails every step: one line per 10 s */
    log_limited(&limit, 10000, LOG_LVL_ERROR, "storage failure, rolling back: %s",
                store_errmsg(s->store));
    store_rollback(s->store);
    if (state_load(s) < 0)
        log_error("cannot reload state after rollback: %s", store_errmsg(s->store));
    return -1;
}


/* The part of the integrity check that opening left out (store.h) runs
 * here, beside the replica's work.  A damaged file stops the replica, as it
 * would have refused to start on it. */
static void *full_check_main(void *arg)
{
    char *path = arg, err[512];
    if (store_check_file(path, err, sizeof err) < 0) {
        log_error("%s is damaged, stopping: %s (docs/operations.md: restore or rejoin)", path,
                  err);
        abort();
    }
    log_debug("%s: integrity check passed", path);
    free(path);
    return NULL;
}

static void start_full_check(state_t *s)
{
    pthread_t t;
    pthread_attr_t attr;
    char *path = store_check_pending(s->store) ? strdup(s->cfg.db_path) : NULL;
    if (!path)
        return;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, full_check_main, path) != 0) {
        log_warn("%s: no thread for the integrity check: checking now", path);
        full_check_main(path);
    }
    pthread_attr_destroy(&attr);
}

/* ---- recovery (recovery.h) ------------------------------------------- */

/* Whether the replica recovers is saved with the data ("recovering" in
 * meta: why, or empty), so a restart in the middle goes on recovering.
 * Written with the next commit after it changes. */
static int save_recovery(state_t *s)
{
    if (!s->recovery_dirty)
        return 0;
    if (store_meta_put(s->store, "recovering", s->recovery.active ? s->recovery.why : "") < 0)
        return -1;
    s->recovery_dirty = false;
    return 0;
}

/* Recovery began (recovery_begin, or recovery_heard on its own).  Peers
 * must forget what they believe we hold (a new epoch: check_epoch at every
 * peer), so that they send again what we lack, our own records among
 * them.  A new database has a new epoch already. */
static int recovery_begun(state_t *s, enum log_level lvl)
{
    s->recovery_dirty = true;
    log_msg(lvl, "recovering: %s; no updates until every peer has been heard from",
            s->recovery.why);
    return store_is_new(s->store) ? 0 : store_new_epoch(s->store);
}

/* Recovery ended (saved with the next commit). */
static void recovered(state_t *s)
{
    s->recovery_dirty = true;
    log_info("recovered: every peer heard from, none holds an update of ours that we lack "
             "(we have %llu)", (unsigned long long)s->rep.replica_ts.t[s->rep.id]);
}

/* What a peer told us of our own records (its replica_ts).  Inside the
 * transaction of the exchange, after its records were taken in. */
int state_note_heard(state_t *s, uint32_t from, const vts_t *their, bool complete, bool whole)
{
    const recovery_t *r = &s->recovery;
    switch (recovery_heard(&s->recovery, from, their, &s->rep.replica_ts, complete, whole)) {
    case RECOVERY_BEGUN:
        return recovery_begun(s, LOG_LVL_ERROR); /* a loss nothing local showed */
    case RECOVERY_DONE:
        recovered(s);
        return 0;
    case RECOVERY_REJOIN:
        log_warn("recovering: records we lack are in no peer's log any more (we have %llu of "
                 "our updates, a peer holds %llu): copying the state of replica %u, which did "
                 "not lose state",
                 (unsigned long long)s->rep.replica_ts.t[s->rep.id],
                 (unsigned long long)r->own_known, r->ref);
        return 0;
    case RECOVERY_NONE:
        return 0;
    }
    return 0;
}

const char state_recovering_text[] =
    "recovering: this replica may lack updates it made before, and numbers no new ones until "
    "every peer has been heard from (rating status)";

/* Why the database may be behind what this replica handed out, from its
 * data directory's mark (state_config); NULL if it is not. */
static const char *suspect(const state_t *s, char *why, size_t len)
{
    const struct state_config *c = &s->cfg;
    uint64_t commits = store_commits(s->store);
    if (!c->durable) /* no marks kept (tests, tools) */
        return NULL;
    if (!c->have_mark)
        snprintf(why, len, "the data directory has no mark of this database (a database copied "
                           "in, or one an older ratingd made)");
    else if (commits < c->mark_commit)
        snprintf(why, len, "the database is older than this replica (commit %llu, but commit "
                           "%llu was durable): a restored backup, a copied file or lost writes",
                 (unsigned long long)commits, (unsigned long long)c->mark_commit);
    else if (store_epoch(s->store) != c->mark_epoch)
        snprintf(why, len, "the database is not the one this data directory last ran with "
                           "(another epoch)");
    else
        return NULL;
    return why;
}

/* At start: a new database, one that may be behind (suspect), or a
 * recovery that a restart interrupted. */
static int start_recovery(state_t *s)
{
    char why[sizeof s->recovery.why];
    recovery_init(&s->recovery, s->cfg.id, s->cfg.n);
    if (s->cfg.n <= 1)
        return 0;
    int saved = store_meta_get(s->store, "recovering", why, sizeof why);
    if (saved < 0)
        return -1;
    if (store_is_new(s->store))
        snprintf(why, sizeof why, "a new database");
    else if (!suspect(s, why, sizeof why) && (saved == 0 || why[0] == '\0'))
        return 0;
    recovery_begin(&s->recovery, why);
    if (store_is_new(s->store))
        return recovery_begun(s, LOG_LVL_WARN);
    if (store_begin(s->store) < 0)
        return -1;
    return state_finish(s, recovery_begun(s, LOG_LVL_WARN));
}

state_t *state_open(const struct state_config *cfg, char *err, size_t errlen)
{
    state_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->readers_lock, NULL);
    pthread_mutex_init(&s->sync_lock, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    s->no_readers = strcmp(cfg->db_path, ":memory:") == 0;
    s->store = store_open(cfg->db_path, cfg->id, cfg->n,
                          cfg->no_sync ? STORE_SYNC_OFF : STORE_SYNC_FULL, err, errlen);
    if (!s->store)
        goto fail;
    if (state_load(s) < 0) {
        snprintf(err, errlen, "cannot load replica state: %s", store_errmsg(s->store));
        goto fail;
    }
    set_committed(s);
    s->synced = s->committed; /* store_open synced what an earlier run left */
    if (start_recovery(s) < 0) {
        snprintf(err, errlen, "cannot begin recovery: %s", store_errmsg(s->store));
        goto fail;
    }
    state_note_load(s);             /* a restart with a backlog says so at once */
    start_full_check(s);
    return s;
fail:
    state_close(s);
    return NULL;
}

bool state_is_new(state_t *s) { return store_is_new(s->store); }

int state_import(state_t *s, const char *dir, bool progress, char *err, size_t errlen)
{
    log_info("new database %s: importing %s", s->cfg.db_path, dir);
    pthread_mutex_lock(&s->lock);
    int rc = store_import_movielens(s->store, dir, progress, err, errlen);
    if (rc == 0 && (store_begin(s->store) < 0 || state_finish(s, 0) < 0)) {
        snprintf(err, errlen, "%s", store_errmsg(s->store));
        rc = -1;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc == 0)
        state_sync(s);
    return rc;
}

/* ---- installing a snapshot (join.c) ------------------------------------ */

store_t *state_install_begin(state_t *s, char *err, size_t errlen)
{
    store_t *db = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->installing)
        snprintf(err, errlen, "a snapshot is being installed already");
    else if (store_begin(s->store) < 0)
        snprintf(err, errlen, "%s", store_errmsg(s->store));
    else
        db = s->store;
    s->installing = db != NULL;
    pthread_mutex_unlock(&s->lock);
    return db;
}

/* The log before an install: the records it held go back in after it. */
static urec_t *log_copy(const replica_t *r, size_t *n)
{
    urec_t *c = malloc((r->log_len ? r->log_len : 1) * sizeof *c);
    *n = c ? r->log_len : 0;
    if (c && r->log_len)
        memcpy(c, r->log, r->log_len * sizeof *c);
    return c;
}

int state_install_end(state_t *s, bool ok)
{
    pthread_mutex_lock(&s->lock);
    size_t nheld = 0;
    urec_t *held = log_copy(&s->rep, &nheld);
    /* The rows are the source's; what we were is void, and peers must
     * learn that (a new epoch) to send us what the source lacks. */
    int rc = ok && held ? 0 : -1;
    if (rc == 0 && !store_is_new(s->store) && store_new_epoch(s->store) < 0)
        rc = -1;
    if (rc == 0 && store_commit(s->store) < 0)
        rc = -1;
    if (rc < 0)
        store_rollback(s->store);
    if (state_load(s) < 0) {
        log_error("cannot load the state after a snapshot: %s", store_errmsg(s->store));
        rc = -1;
    }
    set_committed(s);
    /* Records we held past the copy (ours among them, or ones that reached
     * us from a replica that lost them since): kept, in one more step. */
    int taken = 0;
    if (rc == 0 && nheld > 0 && store_begin(s->store) == 0)
        rc = state_finish(s, taken = replica_take_records(&s->rep, held, nheld));
    if (taken > 0)
        log_info("kept %d records of ours that the copy lacked", taken);
    free(held);
    if (rc == 0 && recovery_check(&s->recovery, &s->rep.replica_ts) == RECOVERY_DONE)
        recovered(s);
    if (rc == 0 && s->recovery_dirty && (store_begin(s->store) < 0 || state_finish(s, 0) < 0))
        rc = -1;
    s->installing = false;
    pthread_mutex_unlock(&s->lock);
    state_sync(s);
    return rc;
}

store_snap_t *state_snapshot_open(state_t *s, char *err, size_t errlen)
{
    store_snap_t *v = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->installing)
        snprintf(err, errlen, "a snapshot is being installed here");
    else if (s->recovery.active) /* it may lack what others discarded: no one's model */
        snprintf(err, errlen, "this replica is recovering (%s)", s->recovery.why);
    else
        v = store_snap_open(s->store, err, errlen);
    pthread_mutex_unlock(&s->lock);
    state_sync(s); /* the view may hold commits not yet durable */
    return v;
}

void state_heard_status(state_t *s, uint32_t k, const vts_t *their, bool whole)
{
    pthread_mutex_lock(&s->lock);
    /* A new database commits nothing before it is filled (it would no
     * longer be new), and an install owns the store: in memory only
     * (recovery is active for both, so nothing but its end can happen,
     * and that is saved with the next commit). */
    if (store_is_new(s->store) || s->installing) {
        if (recovery_heard(&s->recovery, k, their, &s->rep.replica_ts, false, whole) ==
            RECOVERY_DONE)
            recovered(s);
    } else if (store_begin(s->store) == 0) {
        state_finish(s, state_note_heard(s, k, their, false, whole));
    }
    pthread_mutex_unlock(&s->lock);
}

uint64_t state_recovery_waiting(state_t *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t w = recovery_waiting(&s->recovery);
    pthread_mutex_unlock(&s->lock);
    return w;
}

int state_recovery_source(state_t *s)
{
    pthread_mutex_lock(&s->lock);
    int k = recovery_source(&s->recovery, &s->rep.replica_ts);
    pthread_mutex_unlock(&s->lock);
    return k;
}

int state_rejoin_wanted(state_t *s)
{
    pthread_mutex_lock(&s->lock);
    int k = s->recovery.active && s->recovery.rejoin ? (int)s->recovery.ref : -1;
    pthread_mutex_unlock(&s->lock);
    return k;
}

void state_probe(state_t *s, struct state_probe *out)
{
    pthread_mutex_lock(&s->lock);
    out->log_len = s->rep.log_len;
    out->replica_ts = s->rep.replica_ts;
    out->committed = state_committed(s);
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&s->readers_lock);
    out->nreaders = s->nreaders;
    pthread_mutex_unlock(&s->readers_lock);
    pthread_mutex_lock(&s->sync_lock);
    out->syncs = s->syncs;
    pthread_mutex_unlock(&s->sync_lock);
}

bool state_recovering(state_t *s)
{
    pthread_mutex_lock(&s->lock);
    bool r = s->recovery.active || s->installing;
    pthread_mutex_unlock(&s->lock);
    return r;
}

uint32_t state_id(const state_t *s) { return s->cfg.id; }
uint32_t state_nreplicas(const state_t *s) { return s->cfg.n; }

void state_close(state_t *s)
{
    if (!s)
        return;
    replica_free(&s->rep);
    while (s->nreaders > 0)
        store_close(s->readers[--s->nreaders]);
    if (s->store)
        store_close(s->store);
    s->store = NULL;
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->readers_lock);
    pthread_mutex_destroy(&s->sync_lock);
    pthread_cond_destroy(&s->sync_cv);
    free(s);
}

/* ---- group commit ---------------------------------------------------- */

static int run_sync(state_t *s)
{
    return s->cfg.sync_hook ? s->cfg.sync_hook(s->store, s->cfg.sync_arg) : store_sync(s->store);
}

/* Return once commit `seq` is durable.  The first thread to need a sync
 * runs it for everything committed so far, outside the state lock, so that
 * updates go on committing meanwhile; the threads that come while it runs
 * wait for it and, if they need more, for the next one, which then covers
 * them all: one fdatasync per batch, not per update.  A failed sync leaves
 * commits that may be lost but are visible to readers and cannot be rolled
 * back, so the replica stops before any reply reveals them; on restart it
 * has what is on disk (and SQLite's WAL recovery keeps that consistent). */
void state_wait_durable(state_t *s, uint64_t seq)
{
    if (__atomic_load_n(&s->synced, __ATOMIC_ACQUIRE) >= seq)
        return;
    pthread_mutex_lock(&s->sync_lock);
    while (s->synced < seq) {
        if (s->syncing) {
            pthread_cond_wait(&s->sync_cv, &s->sync_lock);
            continue;
        }
        s->syncing = true;
        uint64_t target = state_committed(s);
        uint64_t epoch = __atomic_load_n(&s->committed_epoch, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&s->sync_lock);
        if (run_sync(s) < 0) {
            log_error("cannot make commits durable, stopping: %s", store_sync_errmsg(s->store));
            abort();
        }
        if (s->cfg.durable) /* one sync at a time: the marks go in order */
            s->cfg.durable(s->cfg.durable_arg, target, epoch);
        pthread_mutex_lock(&s->sync_lock);
        s->syncing = false;
        s->syncs++;
        if (target > s->synced)
            __atomic_store_n(&s->synced, target, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&s->sync_cv);
    }
    pthread_mutex_unlock(&s->sync_lock);
}

void state_sync(state_t *s) { state_wait_durable(s, state_committed(s)); }

/* ---- small helpers --------------------------------------------------- */

uint64_t state_now_ms(const state_t *s)
{
    return s->cfg.clock_ms ? s->cfg.clock_ms(s->cfg.clock_arg) : clock_wall_ms();
}

/* Simulated failure, as the original system's 5% offline replicas.  The
 * generator steps atomically: queries call this without the lock. */
bool state_offline_now(state_t *s)
{
    if (s->cfg.fail_rate <= 0)
        return false;
    uint64_t x = __atomic_load_n(&s->rng, __ATOMIC_RELAXED), y;
    do {
        y = x ^ (x << 13);
        y ^= y >> 7;
        y ^= y << 17;
    } while (!__atomic_compare_exchange_n(&s->rng, &x, y, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return (double)(y >> 11) / (double)(1ULL << 53) < s->cfg.fail_rate;
}

bool state_overloaded(state_t *s)
{
    return replica_pending(&s->rep) > s->cfg.overload;
}

char *state_detail(const char *msg) { return strdup(msg ? msg : ""); }

/* Read a client's prev; a vector longer than the cluster is invalid. */
rt_status state_read_prev(const state_t *s, const rt_vts *x, vts_t *prev)
{
    if (vts_from_xdr(prev, x) != RT_OK || prev->n > s->cfg.n)
        return RT_INVALID;
    return RT_OK;
}

/* Log when the replica becomes overloaded or stops being so (it changes
 * with accepted updates and with gossip acknowledgements). */
void state_note_load(state_t *s)
{
    bool now = state_overloaded(s);
    if (now == s->was_overloaded)
        return;
    s->was_overloaded = now;
    if (now)
        log_warn("overloaded: %llu own updates wait for gossip (threshold %llu)",
                 (unsigned long long)replica_pending(&s->rep),
                 (unsigned long long)s->cfg.overload);
    else
        log_info("no longer overloaded: %llu own updates wait for gossip",
                 (unsigned long long)replica_pending(&s->rep));
}

/* ---- status --------------------------------------------------------- */

void state_status(state_t *s, rt_status_res *res)
{
    store_counts_t c;
    memset(&c, 0, sizeof c);
    pthread_mutex_lock(&s->lock);
    /* (while a snapshot is installed its counters are the installer's) */
    res->status = !s->installing && store_counts(s->store, &c) < 0 ? RT_INTERNAL : RT_OK;
    res->replica = s->rep.id;
    res->nreplicas = s->rep.n;
    res->state = state_offline_now(s)                        ? ST_OFFLINE
                 : s->recovery.active || s->installing       ? ST_RECOVERING
                 : state_overloaded(s)                             ? ST_OVERLOADED
                                                             : ST_ACTIVE;
    vts_to_xdr(&res->replica_ts, &s->rep.replica_ts);
    vts_to_xdr(&res->value_ts, &s->rep.value_ts);
    res->log_len = (u_int)s->rep.log_len;
    res->pending = (u_int)replica_pending(&s->rep);
    res->gossip_bytes = s->gossip_bytes;
    res->gossip_records = s->gossip_records;
    uint64_t seq = state_committed(s);
    pthread_mutex_unlock(&s->lock);
    state_wait_durable(s, seq);
    res->executed = c.executed;
    res->nratings = c.nratings;
    res->nmovies = c.nmovies;
    res->digest = c.digest;
}

