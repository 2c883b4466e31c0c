/* state.c -- a replica's algorithm and store under one lock, as transactions;
 * queries on readers without it; group commit. */
#include "state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "validate.h"

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

static int save_peer_epochs(state_t *s)
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
static uint64_t committed(state_t *s) { return __atomic_load_n(&s->committed, __ATOMIC_ACQUIRE); }

static void set_committed(state_t *s)
{
    __atomic_store_n(&s->committed_epoch, store_epoch(s->store), __ATOMIC_RELAXED);
    __atomic_store_n(&s->committed, store_commits(s->store), __ATOMIC_RELEASE);
}

/* Commit the step (durable once wait_durable says so), or undo it on disk
 * and in memory. */
static int save_recovery(state_t *s);

static int finish(state_t *s, int rc)
{
    if (rc >= 0 && save_ts(s) == 0 && save_recovery(s) == 0 && store_commit(s->store) == 0) {
        set_committed(s);
        return 0;
    }
    log_error("storage failure, rolling back: %s", store_errmsg(s->store));
    store_rollback(s->store);
    if (state_load(s) < 0)
        log_error("cannot reload state after rollback: %s", store_errmsg(s->store));
    return -1;
}

static void note_load(state_t *s);

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
static int recovery_begun(state_t *s)
{
    s->recovery_dirty = true;
    log_warn("recovering: %s; no updates until every peer has been heard from",
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
static int note_heard(state_t *s, uint32_t from, const vts_t *their, bool complete)
{
    const recovery_t *r = &s->recovery;
    switch (recovery_heard(&s->recovery, from, their, &s->rep.replica_ts, complete)) {
    case RECOVERY_BEGUN:
        log_error("%s", r->why);
        return recovery_begun(s);
    case RECOVERY_DONE:
        recovered(s);
        return 0;
    case RECOVERY_REJOIN:
        log_warn("recovering: replica %u holds %llu of our updates but its log no longer has "
                 "the ones we lack (we have %llu): copying its state",
                 r->best, (unsigned long long)r->own_known,
                 (unsigned long long)s->rep.replica_ts.t[s->rep.id]);
        return 0;
    case RECOVERY_NONE:
        return 0;
    }
    return 0;
}

static const char recovering_text[] =
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
        return recovery_begun(s);
    if (store_begin(s->store) < 0)
        return -1;
    return finish(s, recovery_begun(s));
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
    note_load(s);             /* a restart with a backlog says so at once */
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
    if (rc == 0 && (store_begin(s->store) < 0 || finish(s, 0) < 0)) {
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

int state_install_end(state_t *s, bool ok)
{
    pthread_mutex_lock(&s->lock);
    /* The rows are the source's; what we were is void, and peers must
     * learn that (a new epoch) to send us what the source lacks. */
    int rc = ok ? 0 : -1;
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
    if (rc == 0 && recovery_check(&s->recovery, &s->rep.replica_ts) == RECOVERY_DONE)
        recovered(s);
    if (rc == 0 && s->recovery_dirty && (store_begin(s->store) < 0 || finish(s, 0) < 0))
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
    else
        v = store_snap_open(s->store, err, errlen);
    pthread_mutex_unlock(&s->lock);
    state_sync(s); /* the view may hold commits not yet durable */
    return v;
}

void state_heard_status(state_t *s, uint32_t k, const vts_t *their)
{
    pthread_mutex_lock(&s->lock);
    /* A new database commits nothing before it is filled (it would no
     * longer be new), and an install owns the store: in memory only
     * (recovery is active for both, so nothing but its end can happen,
     * and that is saved with the next commit). */
    if (store_is_new(s->store) || s->installing) {
        if (recovery_heard(&s->recovery, k, their, &s->rep.replica_ts, false) == RECOVERY_DONE)
            recovered(s);
    } else if (store_begin(s->store) == 0) {
        finish(s, note_heard(s, k, their, false));
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
    const recovery_t *r = &s->recovery;
    int k = r->active && !r->rejoin && recovery_waiting(r) == 0 &&
                    s->rep.replica_ts.t[s->rep.id] < r->own_known
                ? (int)r->best
                : -1;
    pthread_mutex_unlock(&s->lock);
    return k;
}

int state_rejoin_wanted(state_t *s)
{
    pthread_mutex_lock(&s->lock);
    int k = s->recovery.active && s->recovery.rejoin ? (int)s->recovery.best : -1;
    pthread_mutex_unlock(&s->lock);
    return k;
}

void state_probe(state_t *s, struct state_probe *out)
{
    pthread_mutex_lock(&s->lock);
    out->log_len = s->rep.log_len;
    out->replica_ts = s->rep.replica_ts;
    out->committed = committed(s);
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&s->readers_lock);
    out->nreaders = s->nreaders;
    pthread_mutex_unlock(&s->readers_lock);
    pthread_mutex_lock(&s->sync_lock);
    out->syncs = s->syncs;
    pthread_mutex_unlock(&s->sync_lock);
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
static void wait_durable(state_t *s, uint64_t seq)
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
        uint64_t target = committed(s);
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

void state_sync(state_t *s) { wait_durable(s, committed(s)); }

/* ---- readers ----------------------------------------------------------- */

/* An idle reader, or a new one; NULL for a volatile store (its queries
 * take the lock and use the writer). */
static store_t *reader_get(state_t *s)
{
    store_t *r = NULL;
    if (s->no_readers)
        return NULL;
    pthread_mutex_lock(&s->readers_lock);
    if (s->nreaders > 0)
        r = s->readers[--s->nreaders];
    pthread_mutex_unlock(&s->readers_lock);
    if (r)
        return r;
    char err[256];
    r = store_reader_open(s->store, err, sizeof err);
    if (!r)
        log_error("%s: queries wait for the state lock", err);
    return r;
}

static void reader_put(state_t *s, store_t *r)
{
    pthread_mutex_lock(&s->readers_lock);
    if (s->nreaders < STATE_MAX_READERS) {
        s->readers[s->nreaders++] = r;
        r = NULL;
    }
    pthread_mutex_unlock(&s->readers_lock);
    if (r)
        store_close(r);
}

/* ---- small helpers --------------------------------------------------- */

static uint64_t now_ms(const state_t *s)
{
    return s->cfg.clock_ms ? s->cfg.clock_ms(s->cfg.clock_arg) : clock_wall_ms();
}

/* Simulated failure, as the original system's 5% offline replicas.  The
 * generator steps atomically: queries call this without the lock. */
static bool simulated_offline(state_t *s)
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

static bool overloaded(state_t *s)
{
    return replica_pending(&s->rep) > s->cfg.overload;
}

static char *dup_or_empty(const char *msg) { return strdup(msg ? msg : ""); }

/* Read a client's prev; a vector longer than the cluster is invalid. */
static rt_status read_prev(const state_t *s, const rt_vts *x, vts_t *prev)
{
    if (vts_from_xdr(prev, x) != RT_OK || prev->n > s->cfg.n)
        return RT_INVALID;
    return RT_OK;
}

/* ---- queries ------------------------------------------------------- */

static int movie_to_xdr(rt_movie_info *dst, const movie_info_t *m)
{
    dst->movie = m->movie;
    dst->nratings = m->nratings;
    dst->sum_halves = m->sum_halves;
    dst->title = strdup(m->title);
    dst->genres = strdup(m->genres);
    return dst->title && dst->genres ? 0 : -1;
}

static rt_status answer_movie(store_t *db, uint32_t movie, rt_answer *ans)
{
    movie_info_t m;
    int rc = store_movie(db, movie, &m);
    if (rc <= 0)
        return rc == 0 ? RT_NOT_FOUND : RT_INTERNAL;
    return movie_to_xdr(&ans->rt_answer_u.movie, &m) ? RT_INTERNAL : RT_OK;
}

static rt_status answer_title(store_t *db, const char *pattern, rt_answer *ans)
{
    movie_info_t *m = calloc(RT_MAX_MATCHES, sizeof *m);
    size_t n = 0;
    rt_status st = RT_INTERNAL;
    if (!m || store_title_search(db, pattern ? pattern : "", m, RT_MAX_MATCHES, &n) < 0)
        goto out;
    st = n ? RT_OK : RT_NOT_FOUND;
    ans->rt_answer_u.matches.matches_val = calloc(n ? n : 1, sizeof(rt_movie_info));
    if (!ans->rt_answer_u.matches.matches_val) {
        st = RT_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ans->rt_answer_u.matches.matches_len = (u_int)(i + 1);
        if (movie_to_xdr(&ans->rt_answer_u.matches.matches_val[i], &m[i]) < 0) {
            st = RT_INTERNAL;
            break;
        }
    }
out:
    free(m);
    return st;
}

static rt_status answer_rating(store_t *db, const rt_key *k, rt_answer *ans)
{
    int rc = store_rating(db, k->user, k->movie, &ans->rt_answer_u.halves);
    return rc < 0 ? RT_INTERNAL : rc == 0 ? RT_NOT_FOUND : RT_OK;
}

static rt_status answer_user(store_t *db, const rt_user_page *p, rt_answer *ans)
{
    uint32_t limit = p->limit == 0 || p->limit > RT_MAX_PAGE ? RT_MAX_PAGE : p->limit;
    rt_user_ratings *u = &ans->rt_answer_u.user;
    user_rating_t *rows = calloc(limit, sizeof *rows);
    size_t n = 0;
    if (!rows)
        return RT_INTERNAL;
    int rc = store_user_ratings(db, p->user, p->offset, limit, rows, &n, &u->total);
    if (rc <= 0) {
        free(rows);
        return rc == 0 ? RT_NOT_FOUND : RT_INTERNAL;
    }
    /* user_rating_t and rt_user_rating are both {movie, halves}; copy
     * field by field rather than rely on identical layout. */
    u->ratings.ratings_val = calloc(n ? n : 1, sizeof(rt_user_rating));
    if (!u->ratings.ratings_val) {
        free(rows);
        return RT_INTERNAL;
    }
    for (size_t i = 0; i < n; i++) {
        u->ratings.ratings_val[i].movie = rows[i].movie;
        u->ratings.ratings_val[i].halves = rows[i].halves;
    }
    u->ratings.ratings_len = (u_int)n;
    free(rows);
    return RT_OK;
}

static rt_status answer(store_t *db, const rt_query *q, rt_answer *ans)
{
    ans->kind = q->kind;
    switch (q->kind) {
    case Q_MOVIE: return answer_movie(db, q->rt_query_u.movie, ans);
    case Q_TITLE: return answer_title(db, q->rt_query_u.pattern, ans);
    case Q_RATING: return answer_rating(db, &q->rt_query_u.key, ans);
    case Q_USER: return answer_user(db, &q->rt_query_u.page, ans);
    }
    return RT_INVALID;
}

static const char *query_detail(rt_status st, const rt_query *q)
{
    static const char *notfound[] = {"", "no such movie", "no movie title matches",
                                     "no such rating", "the user has no ratings"};
    if (st == RT_NOT_FOUND && q->kind >= Q_MOVIE && q->kind <= Q_USER)
        return notfound[q->kind];
    return st == RT_OK ? "" : status_text(st);
}

/* The query rule (gossip_can_answer), against the value_ts the answer was
 * read with: never older than what the client saw.
 * (The answer is read first, see store_read_clock; one that may not be
 * given is dropped.) */
static rt_status check_prev(rt_status st, const vts_t *prev, const vts_t *value_ts,
                            rt_answer_opt *out)
{
    if (gossip_can_answer(prev, value_ts))
        return st;
    xdr_free((xdrproc_t)xdr_rt_answer_opt, (char *)out);
    memset(out, 0, sizeof *out);
    return RT_NOT_READY;
}

static rt_status answer_opt(store_t *db, const rt_query *q, rt_answer_opt *out)
{
    out->present = TRUE; /* the union owns memory even when it failed part way */
    return answer(db, q, &out->rt_answer_opt_u.answer);
}

/* On a reader, without the state lock: the read transaction gives the value
 * and the value_ts it was committed with, so the answer reflects exactly
 * the timestamp it carries (never less, so a client never reads older
 * than it saw; never more, so it never believes it saw what it did not).
 * A volatile store has no readers: the writer under the lock, as updates. */
static rt_status query_view(state_t *s, const rt_query *q, const vts_t *prev, vts_t *value_ts,
                            uint64_t *commit, rt_answer_opt *out)
{
    if (simulated_offline(s))
        return RT_OFFLINE;
    store_t *r = reader_get(s);
    if (!r) {
        pthread_mutex_lock(&s->lock);
        *value_ts = s->rep.value_ts;
        *commit = committed(s);
        rt_status st = s->installing ? RT_NOT_READY
                                     : check_prev(answer_opt(s->store, q, out), prev, value_ts, out);
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    rt_status st = RT_INTERNAL;
    if (store_read_begin(r) == 0) {
        st = answer_opt(r, q, out);
        if (store_read_clock(r, value_ts, commit) == 0)
            st = check_prev(st, prev, value_ts, out);
        else
            st = RT_INTERNAL;
        store_read_end(r);
    }
    if (st == RT_INTERNAL)
        log_error("query: %s", store_errmsg(r));
    reader_put(s, r);
    return st;
}

void state_query(state_t *s, const rt_query_args *a, rt_query_res *res)
{
    vts_t prev, value_ts;
    uint64_t commit = 0;
    vts_zero(&value_ts, s->cfg.n);
    res->replica = s->cfg.id;
    rt_status st = read_prev(s, &a->prev, &prev);
    if (st == RT_OK)
        st = query_view(s, &a->q, &prev, &value_ts, &commit, &res->result);
    res->status = st;
    vts_to_xdr(&res->ts, &value_ts);
    /* what it read may be committed but not yet durable */
    wait_durable(s, commit);
    if (st != RT_OK && res->result.present) {
        xdr_free((xdrproc_t)xdr_rt_answer_opt, (char *)&res->result);
        memset(&res->result, 0, sizeof res->result);
    }
    res->detail = dup_or_empty(query_detail(st, &a->q));
}

/* ---- updates ------------------------------------------------------- */

/* UPDATE changes or deletes an existing rating; SUBMIT adds a new rating
 * or a new movie.  Checked against the value, which reflects everything
 * the client has seen (prev <= value_ts was checked before). */
static rt_status check_against_value(state_t *s, const op_t *op, bool submit, const char **why)
{
    if (submit ? op->kind == OP_DELETE : op->kind == OP_ADD_MOVIE) {
        *why = submit ? "SUBMIT adds a rating or a movie" : "UPDATE changes or deletes a rating";
        return RT_INVALID;
    }
    if (op->kind == OP_ADD_MOVIE)
        return RT_OK;
    movie_info_t m;
    int rc = store_movie(s->store, op->movie, &m);
    if (rc <= 0) {
        *why = "no such movie";
        return rc < 0 ? RT_INTERNAL : RT_NOT_FOUND;
    }
    uint32_t halves;
    rc = store_rating(s->store, op->user, op->movie, &halves);
    if (rc < 0)
        return RT_INTERNAL;
    if (submit && rc == 1) {
        *why = "the user has already rated this movie; use update";
        return RT_EXISTS;
    }
    if (!submit && rc == 0) {
        *why = "the user has not rated this movie";
        return RT_NOT_FOUND;
    }
    return RT_OK;
}

/* How far ahead of this replica's clock an update's stamp may be.  Stamps
 * come from the clocks of whoever made the updates (rating.x); a day covers
 * any clock that is merely wrong, and keeps stamps away from the end of the
 * 64-bit range, after which no write could follow them. */
#define STAMP_MAX_AHEAD_MS (24ULL * 3600 * 1000)

/* Last writer wins per (user, movie) by the update's own stamp, so every
 * copy of one update lands at one place in the order.  A stamp that is not
 * above the current write's would not win even here; and since the value
 * reflects everything the client saw (prev <= value_ts), refusing it is
 * what makes a write issued after another one always win over it. */
static rt_status check_stamp(state_t *s, const op_t *op, uint64_t stamp, uint64_t *later,
                             const char **why)
{
    uint64_t current = 0;
    bool live;
    if (op->kind == OP_ADD_MOVIE)
        return RT_OK; /* a new movie: no earlier write to its ratings */
    int rc = store_key_stamp(s->store, op->user, op->movie, &current, &live);
    if (rc < 0)
        return RT_INTERNAL;
    if (rc == 0 || stamp > current)
        return RT_OK;
    *later = current;
    *why = "the rating has a later write than this update: a new update id with a later "
           "stamp writes it again";
    return RT_STALE;
}

/* Log when the replica becomes overloaded or stops being so (it changes
 * with accepted updates and with gossip acknowledgements). */
static void note_load(state_t *s)
{
    bool now = overloaded(s);
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

static rt_status accept_update(state_t *s, const op_t *op, const vts_t *prev,
                               const upd_id_t *uid, uint64_t stamp, urec_t *out)
{
    if (store_begin(s->store) < 0) {
        finish(s, -1);
        return RT_INTERNAL;
    }
    rt_status st = replica_accept(&s->rep, op, prev, uid, stamp, out);
    if (finish(s, st == RT_OK ? 0 : -1) < 0)
        return st == RT_OK ? RT_INTERNAL : st;
    note_load(s);
    return RT_OK;
}

/* Step 1 of update_locked: the arguments, whatever the replica's state. */
static rt_status read_update(const state_t *s, const rt_update_args *a, op_t *op, vts_t *prev,
                             const char **why)
{
    upd_id_t uid = {a->uid.origin, a->uid.seq};
    if (read_prev(s, &a->prev, prev) != RT_OK || op_from_xdr(op, &a->op) != RT_OK)
        *why = "malformed update";
    else if (uid_is_zero(&uid))
        *why = "an update needs a non-zero id";
    else if (a->stamp == 0)
        *why = "an update needs a stamp (rating.x: rt_update_args)";
    else if (a->stamp > now_ms(s) + STAMP_MAX_AHEAD_MS)
        *why = "the update's stamp is more than a day ahead of this replica's clock: check the "
               "clock of the client";
    else
        *why = op_check(op, op->kind == OP_ADD_MOVIE);
    return *why ? RT_INVALID : RT_OK;
}

/* The checks an update passes, in the order they apply; the first that
 * fails answers.  On RT_OK *got is what the update got (now, or when it was
 * first accepted); on RT_STALE got->stamp is the later write's. */
static rt_status update_locked(state_t *s, const rt_update_args *a, bool submit,
                               upd_result_t *got, const char **why)
{
    op_t op;
    vts_t prev;
    upd_id_t uid = {a->uid.origin, a->uid.seq};
    /* 1. Reject what no replica could accept: malformed, no id, no stamp. */
    rt_status st = read_update(s, a, &op, &prev, why);
    if (st != RT_OK)
        return st;
    /* 2. A copy of an update accepted before (a client's repeat, a front
     *    end's resend): the first answer again, applied once.  The same id
     *    for another operation is a mistake, not a repeat. */
    if (replica_find_uid(&s->rep, &uid, got)) {
        if (got->digest == 0 || got->digest == op_digest(&op))
            return RT_OK;
        *why = "this update id was used for another update: give each update its own id";
        return RT_INVALID;
    }
    /* 3. A simulated failure (--fail-rate). */
    if (simulated_offline(s))
        return RT_OFFLINE;
    /* 4. No sequence numbers while we may lack some we handed out. */
    if (s->recovery.active) {
        *why = recovering_text;
        return RT_NOT_READY;
    }
    /* 5. Too many of our own updates wait for gossip. */
    if (overloaded(s))
        return RT_OVERLOADED;
    /* 6. The value must reflect everything the client has seen. */
    if (!replica_can_answer(&s->rep, &prev))
        return RT_NOT_READY;
    /* 7. The operation must make sense against that value. */
    if ((st = check_against_value(s, &op, submit, why)) != RT_OK)
        return st;
    /* 8. Its stamp must come after the rating's current write. */
    if ((st = check_stamp(s, &op, a->stamp, &got->stamp, why)) != RT_OK)
        return st;
    /* 9. Accept: a sequence number, the log, the value if stable, on disk. */
    urec_t rec;
    if ((st = accept_update(s, &op, &prev, &uid, a->stamp, &rec)) == RT_OK)
        urec_result(&rec, got);
    return st;
}

void state_update(state_t *s, const rt_update_args *a, bool submit, rt_update_res *res)
{
    upd_result_t got;
    const char *why = NULL;
    memset(&got, 0, sizeof got);
    pthread_mutex_lock(&s->lock);
    if (s->installing)
        res->status = RT_NOT_READY; /* hands off the store (state_install_begin) */
    else
        res->status = update_locked(s, a, submit, &got, &why);
    res->replica = s->rep.id;
    uint64_t seq = committed(s);
    pthread_mutex_unlock(&s->lock);
    wait_durable(s, seq); /* no reply before the commit is on disk */
    if (res->status != RT_OK)
        vts_zero(&got.ts, 0);
    res->movie = res->status == RT_OK ? got.movie : 0;
    res->stamp = got.stamp;
    res->uid = a->uid;
    vts_to_xdr(&res->ts, &got.ts);
    res->detail = dup_or_empty(why ? why : res->status == RT_OK ? "" : status_text(res->status));
}

/* ---- gossip --------------------------------------------------------- */

/* Convert up to RT_MAX_RECORDS records of the log that a replica with
 * their_ts may lack into an XDR array. */
static int records_out(state_t *s, const vts_t *their_ts, rt_record **val, u_int *len,
                       bool_t *more)
{
    const urec_t **sel = malloc(RT_MAX_RECORDS * sizeof *sel);
    bool m = false;
    *val = NULL;
    *len = 0;
    if (!sel)
        return -1;
    size_t n = replica_gossip_select(&s->rep, their_ts, sel, RT_MAX_RECORDS, &m);
    *more = m;
    *val = calloc(n ? n : 1, sizeof **val);
    int rc = *val ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = urec_to_xdr(&(*val)[i], sel[i]);
        *len = (u_int)(i + 1);
    }
    free(sel);
    return rc;
}

/* A peer gossiping with a new epoch replaced its database: what we
 * thought it had is void (gossip.c: replica_peer_reset).  Inside the
 * receive transaction. */
static int check_epoch(state_t *s, uint32_t from, uint64_t epoch, const vts_t *their)
{
    if (epoch == 0 || s->peer_epoch[from] == epoch)
        return 0;
    if (s->peer_epoch[from] != 0) {
        log_warn("replica %u comes back with new state (epoch %llx): resending what it lacks",
                 from, (unsigned long long)epoch);
        replica_peer_reset(&s->rep, from, their);
    }
    s->peer_epoch[from] = epoch;
    return save_peer_epochs(s);
}

/* One line per gossip message that brought something, and per discard. */
static void note_gossip(state_t *s, uint32_t from, int added, size_t log_before)
{
    long long discarded = (long long)log_before + added - (long long)s->rep.log_len;
    if (added > 0)
        log_info("gossip from replica %u: %d new records", from, added);
    if (discarded > 0)
        log_info("log: discarded %lld records known everywhere, %zu left", discarded,
                 s->rep.log_len);
    note_load(s);
}

/* Decode and apply records from peer `from` in one transaction.  `reply`:
 * the records answer our call, so they are all it has for us (recovery). */
static rt_status receive(state_t *s, uint32_t from, uint64_t epoch, const rt_vts *their_x,
                         const rt_record *val, u_int len, bool more, bool reply)
{
    vts_t their;
    if (vts_from_xdr(&their, their_x) != RT_OK || their.n > s->rep.n || len > RT_MAX_RECORDS)
        return RT_INVALID;
    urec_t *recs = calloc(len ? len : 1, sizeof *recs);
    if (!recs)
        return RT_INTERNAL;
    rt_status st = RT_OK;
    for (u_int i = 0; i < len && st == RT_OK; i++)
        st = urec_from_xdr(&recs[i], &val[i]);
    if (st == RT_OK) {
        if (store_begin(s->store) < 0) {
            st = RT_INTERNAL;
        } else {
            size_t log_before = s->rep.log_len;
            int added = check_epoch(s, from, epoch, &their);
            if (added == 0)
                added = replica_gossip_receive(&s->rep, from, &their, recs, len, more);
            if (added >= 0 && note_heard(s, from, &their, reply && !more) < 0)
                added = -1;
            if (finish(s, added) < 0)
                st = added < 0 ? RT_INVALID : RT_INTERNAL;
            else
                note_gossip(s, from, added, log_before);
        }
    }
    free(recs);
    return st;
}

void state_gossip_in(state_t *s, const rt_gossip_args *a, rt_gossip_res *res)
{
    pthread_mutex_lock(&s->lock);
    if (a->from >= s->rep.n || a->from == s->rep.id) {
        res->status = RT_DENIED;
    } else if (s->installing) {
        res->status = RT_NOT_READY;
    } else {
        res->status = receive(s, a->from, a->epoch, &a->replica_ts, a->records.records_val,
                              a->records.records_len, a->more, false);
    }
    if (res->status == RT_OK) {
        vts_t their;
        vts_from_xdr(&their, &a->replica_ts);
        if (records_out(s, &their, &res->records.records_val, &res->records.records_len,
                        &res->more) < 0)
            res->status = RT_INTERNAL;
    }
    vts_to_xdr(&res->replica_ts, &s->rep.replica_ts);
    s->gossip_bytes += xdr_sizeof((xdrproc_t)xdr_rt_gossip_res, res);
    s->gossip_records += res->records.records_len;
    uint64_t seq = committed(s);
    pthread_mutex_unlock(&s->lock);
    /* the reply acknowledges what we received and passes on what we have */
    wait_durable(s, seq);
    if (res->status == RT_DENIED)
        log_warn("refused GOSSIP claiming to be from replica %u", a->from);
}

int state_gossip_out(state_t *s, uint32_t k, rt_gossip_args *args)
{
    memset(args, 0, sizeof *args);
    pthread_mutex_lock(&s->lock);
    args->from = s->rep.id;
    args->epoch = store_epoch(s->store);
    int rc = records_out(s, &s->rep.table[k], &args->records.records_val,
                         &args->records.records_len, &args->more);
    if (rc == 0)
        rc = vts_to_xdr(&args->replica_ts, &s->rep.replica_ts);
    args->mac.mac_val = NULL;
    if (rc == 0) {
        s->gossip_bytes += xdr_sizeof((xdrproc_t)xdr_rt_gossip_args, args);
        s->gossip_records += args->records.records_len;
    }
    uint64_t seq = committed(s);
    pthread_mutex_unlock(&s->lock);
    wait_durable(s, seq); /* never pass on a record we could still lose */
    return rc;
}

int state_gossip_reply(state_t *s, uint32_t k, const rt_gossip_res *res)
{
    if (res->status != RT_OK)
        return -1;
    pthread_mutex_lock(&s->lock);
    rt_status st = s->installing ? RT_NOT_READY
                                 : receive(s, k, 0, &res->replica_ts, res->records.records_val,
                                           res->records.records_len, res->more, true);
    pthread_mutex_unlock(&s->lock);
    return st == RT_OK ? 0 : -1;
}

uint64_t state_pending(state_t *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t p = replica_pending(&s->rep);
    pthread_mutex_unlock(&s->lock);
    return p;
}

bool state_gossip_due(state_t *s) { return state_pending(s) * 2 > s->cfg.overload; }

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
    res->state = simulated_offline(s)                        ? ST_OFFLINE
                 : s->recovery.active || s->installing       ? ST_RECOVERING
                 : overloaded(s)                             ? ST_OVERLOADED
                                                             : ST_ACTIVE;
    vts_to_xdr(&res->replica_ts, &s->rep.replica_ts);
    vts_to_xdr(&res->value_ts, &s->rep.value_ts);
    res->log_len = (u_int)s->rep.log_len;
    res->pending = (u_int)replica_pending(&s->rep);
    res->gossip_bytes = s->gossip_bytes;
    res->gossip_records = s->gossip_records;
    uint64_t seq = committed(s);
    pthread_mutex_unlock(&s->lock);
    wait_durable(s, seq);
    res->executed = c.executed;
    res->nratings = c.nratings;
    res->nmovies = c.nmovies;
    res->digest = c.digest;
}
