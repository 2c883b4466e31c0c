/*
 * node.c -- one simulated replica: the real state_t (server/state.c over
 * server/gossip.c and the SQLite store) on a database file of its own, its
 * RPC procedures called with the decoded messages, and its gossip thread.
 *
 * A node is up (its state is open), down (closed: a crash), or paused (up,
 * but what arrives waits in its inbox, as for a stopped process or a slow
 * disk).  Its data directory (DIR/rK) holds what ratingd's does: the
 * database and the lock file with the durable-commit mark (server/datadir.c,
 * kept by the state's durable hook as server/main.c does).  Crash and
 * restart are state_close and state_open on the same directory; a wipe
 * empties it first, and the restart rejoins through the real join.c
 * (join_cluster_with over inproc.c) or imports the data set when no peer
 * has state, as ratingd's fill_new_store; a restore puts an earlier backup
 * (SQLite's backup API on the live file, as `sqlite3 .backup`) in place of
 * the database, under the newer mark.  A schedule starts from templates
 * imported once (sim.c), each given an epoch of its own and a mark that
 * agrees, as after a clean start.
 *
 * The gossip thread (server/peers.c) is mirrored, not run: every interval
 * one call to every peer that is not backing off, another at once while
 * either side had more than one message holds (at most 64 in a row), a
 * peer that fails waits an interval doubling to GOSSIP_BACKOFF_MAX.  While
 * the replica recovers (server/recovery.h), every RECOVERY_POLL it polls
 * the peers it still waits for with STATUS, copies the state of the one
 * recovery names (join_from_with) or gossips with the one that holds its
 * records.  Calls to different peers overlap here where peers.c makes them
 * in turn.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "join.h"
#include "repair.h"
#include "sim.h"
#include "wire.h"

uint64_t node_clock_ms(const node_t *nd)
{
    return (uint64_t)((int64_t)(SIM_EPOCH_MS + nd->sim->now / MS) + nd->skew_ms);
}

static uint64_t clock_hook(void *arg) { return node_clock_ms(arg); }

bool node_serving(const sim_t *s, uint32_t k) { return s->node[k].up && !s->node[k].paused; }

/* ---- files ------------------------------------------------------------------ */

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (in && ferror(in))
        rc = -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

static void remove_db(const char *path)
{
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* What a wiped disk leaves: an empty data directory. */
static void empty_dir(node_t *nd)
{
    char lock[300];
    remove_db(nd->path);
    snprintf(lock, sizeof lock, "%s/replica-%u.lock", nd->dirpath, nd->id);
    unlink(lock);
    mkdir(nd->dirpath, 0700);
}

static int meta_commits(void *arg, int ncol, char **val, char **name)
{
    (void)ncol, (void)name;
    *(uint64_t *)arg = val[0] ? strtoull(val[0], NULL, 10) : 0;
    return 0;
}

/* Give a copied template the epoch a fresh import would have: a new one
 * (store.c keeps it in meta), from the schedule's generator; and its
 * commit count, for the mark. */
static int set_epoch(const char *path, uint64_t epoch, uint64_t *commits)
{
    sqlite3 *db;
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE meta SET value = %lld WHERE key = 'epoch'", (long long)epoch);
    int rc = sqlite3_open(path, &db) == SQLITE_OK &&
                     sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK &&
                     sqlite3_changes(db) == 1 &&
                     sqlite3_exec(db, "SELECT value FROM meta WHERE key = 'commits'",
                                  meta_commits, commits, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    sqlite3_close(db);
    return rc;
}

/* A fresh data directory with the template's database, and the mark a
 * clean run of it would have left. */
static int from_template(sim_t *s, node_t *nd)
{
    char tmpl[300], err[256];
    uint64_t epoch = prng_next(&s->rng) | 1, commits = 0;
    datadir_t *d;
    snprintf(tmpl, sizeof tmpl, "%s/tmpl-%u-%u.db", s->par->tmpl_dir, s->n, nd->id);
    empty_dir(nd);
    if (copy_file(tmpl, nd->path) < 0 || set_epoch(nd->path, epoch, &commits) < 0 ||
        datadir_open(nd->dirpath, nd->id, &d, err, sizeof err) < 0)
        return -1;
    int rc = datadir_mark_put(d, commits, epoch);
    datadir_close(d);
    return rc;
}

/* ---- start and stop ----------------------------------------------------------- */

/* After every group commit: the directory's mark (server/main.c: keep_mark). */
static void keep_mark(void *arg, uint64_t commit, uint64_t epoch)
{
    node_t *nd = arg;
    if (datadir_mark_put(nd->dir, commit, epoch) < 0)
        sim_die(nd->sim, "r%u: %s", nd->id, datadir_error(nd->dir));
}

/* Start the replica's process: lock its directory, read the mark, open
 * the state (server/main.c). */
static int open_state(sim_t *s, node_t *nd, char *err, size_t errlen)
{
    struct state_config cfg = {.id = nd->id, .n = s->n, .db_path = nd->path, .no_sync = true,
                               .overload = s->overload, .durable = keep_mark, .durable_arg = nd,
                               .clock_ms = clock_hook, .clock_arg = nd};
    if (datadir_open(nd->dirpath, nd->id, &nd->dir, err, errlen) < 0)
        return -1;
    int marked = datadir_mark_get(nd->dir, &cfg.mark_commit, &cfg.mark_epoch);
    cfg.have_mark = marked == 1;
    nd->st = state_open(&cfg, err, errlen);
    if (!nd->st) {
        datadir_close(nd->dir);
        nd->dir = NULL;
        return -1;
    }
    return 0;
}

/* The process ends: whatever it had in memory is gone; its files stay. */
static void close_state(node_t *nd)
{
    nd->disk_ts = node_replica_ts(nd->sim, nd->id);
    state_close(nd->st);
    datadir_close(nd->dir);
    nd->st = NULL;
    nd->dir = NULL;
}

static void schedule_tick(sim_t *s, node_t *nd, uint64_t after)
{
    sim_at(s, after, EV_GOSSIP_TICK, nd->id, 0, nd->inc, NULL);
}

static void came_up(sim_t *s, node_t *nd)
{
    nd->up = true;
    nd->paused = false;
    nd->recovering = false;
    nd->inc++;
    memset(nd->peer, 0, sizeof nd->peer);
    schedule_tick(s, nd, prng_range(&s->rng, 0, GOSSIP_INTERVAL));
    sim_at(s, RECOVERY_POLL, EV_RECOVERY_TICK, nd->id, 0, nd->inc, NULL);
}

int node_init(sim_t *s, uint32_t k)
{
    node_t *nd = &s->node[k];
    char err[512];
    memset(nd, 0, sizeof *nd);
    nd->id = k;
    nd->sim = s;
    snprintf(nd->dirpath, sizeof nd->dirpath, "%s/r%u", s->par->work_dir, k);
    snprintf(nd->path, sizeof nd->path, "%s/r%u/replica-%u.db", s->par->work_dir, k, k);
    snprintf(nd->backup, sizeof nd->backup, "%s/r%u.bak", s->par->work_dir, k);
    remove_db(nd->backup);
    if (from_template(s, nd) < 0 || open_state(s, nd, err, sizeof err) < 0)
        sim_die(s, "replica %u: %s", k, err);
    came_up(s, nd);
    return 0;
}

/* Everything waiting in the inbox goes as if the process died. */
static void drop_inbox(sim_t *s, node_t *nd)
{
    msg_t *m = nd->inbox;
    nd->inbox = nd->inbox_tail = NULL;
    while (m) {
        msg_t *next = m->next;
        node_receive(s, m); /* refused: the node is down */
        m = next;
    }
}

void node_stop(sim_t *s, uint32_t k)
{
    node_t *nd = &s->node[k];
    msg_t *m = nd->inbox;
    while (m) {
        msg_t *next = m->next;
        free(m->buf);
        free(m);
        m = next;
    }
    nd->inbox = nd->inbox_tail = NULL;
    if (nd->up)
        close_state(nd);
    nd->up = false;
}

void node_crash(sim_t *s, uint32_t k)
{
    node_t *nd = &s->node[k];
    if (!nd->up)
        return;
    sim_trace(s, "r%u crashes", k);
    close_state(nd);
    nd->up = false;
    nd->paused = false;
    nd->gen++;
    nd->restart_how = RESTART_SAME;
    drop_inbox(s, nd);
}

void node_wipe(sim_t *s, uint32_t k)
{
    node_crash(s, k);
    sim_trace(s, "r%u loses its data directory", k);
    empty_dir(&s->node[k]);
    s->node[k].restart_how = RESTART_WIPED;
}

/* Copy the live database as `sqlite3 FILE ".backup BAK"` does. */
int node_backup(sim_t *s, uint32_t k)
{
    node_t *nd = &s->node[k];
    sqlite3 *src = NULL, *dst = NULL;
    remove_db(nd->backup);
    int rc = -1;
    if (sqlite3_open_v2(nd->path, &src, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_open(nd->backup, &dst) == SQLITE_OK) {
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        if (b && sqlite3_backup_step(b, -1) == SQLITE_DONE)
            rc = 0;
        if (b && sqlite3_backup_finish(b) != SQLITE_OK)
            rc = -1;
    }
    sqlite3_close(src);
    sqlite3_close(dst);
    if (rc < 0)
        sim_die(s, "backup of replica %u failed", k);
    nd->have_backup = true;
    sim_trace(s, "r%u backed up", k);
    return 0;
}

int node_restore(sim_t *s, uint32_t k)
{
    node_t *nd = &s->node[k];
    if (!nd->have_backup)
        return -1;
    node_crash(s, k);
    remove_db(nd->path);
    if (copy_file(nd->backup, nd->path) < 0)
        sim_die(s, "restoring replica %u failed", k);
    sim_trace(s, "r%u gets its backup back", k);
    nd->restart_how = RESTART_RESTORED;
    return 0;
}

/* A replica that knows fewer of its own updates than a peer must not number
 * on from what it has (issue 10, bug 2): say so in the trace. */
static void note_own_updates(sim_t *s, const node_t *nd, const char *how)
{
    uint64_t own = node_replica_ts(s, nd->id).t[nd->id], best = own;
    uint32_t who = nd->id;
    for (uint32_t i = 0; i < s->n; i++) {
        uint64_t theirs = node_replica_ts(s, i).t[nd->id];
        if (i != nd->id && s->node[i].up && theirs > best) {
            best = theirs;
            who = i;
        }
    }
    if (best > own) {
        s->st.behind++;
        sim_trace(s, "r%u %s has %llu of its own updates but r%u has %llu: numbering on from "
                  "%llu would reuse sequence numbers", nd->id, how, (unsigned long long)own, who,
                  (unsigned long long)best, (unsigned long long)own + 1);
    }
}

/* A new database: copy the state of a peer (join.c), or import the data
 * set when no reachable peer has any (server/main.c: fill_new_store). */
static int fill_new(sim_t *s, node_t *nd, char *err, size_t errlen)
{
    struct inproc_ctx ctx = {s, nd->id, 0};
    struct join_peers peers = {inproc_connect, &ctx};
    int joined = join_cluster_with(nd->st, &peers, 100, err, errlen);
    if (joined < 0)
        return -1;
    if (joined > 0) {
        s->st.rejoins++;
        sim_trace(s, "r%u rejoined by snapshot", nd->id);
        note_own_updates(s, nd, "rejoined by snapshot");
        return 0;
    }
    sim_trace(s, "r%u: no peer has state: imports the data set", nd->id);
    if (state_import(nd->st, s->par->data_dir, false, err, errlen) < 0)
        return -1;
    note_own_updates(s, nd, "from the data set");
    return 0;
}

void node_restart(sim_t *s, uint32_t k)
{
    node_t *nd = &s->node[k];
    char err[512];
    if (nd->up)
        return;
    if (open_state(s, nd, err, sizeof err) < 0)
        sim_die(s, "replica %u does not start: %s", k, err);
    if (state_is_new(nd->st) && fill_new(s, nd, err, sizeof err) < 0) {
        /* ratingd exits; an operator (here: the schedule) tries again */
        sim_trace(s, "r%u cannot rejoin: %s", k, err);
        close_state(nd);
        empty_dir(nd);
        sim_at(s, 50 * MS, EV_RESTART, k, 0, nd->gen, NULL);
        return;
    }
    sim_trace(s, "r%u starts (%s)", k, nd->restart_how == RESTART_WIPED ? "wiped"
                                       : nd->restart_how == RESTART_RESTORED ? "restored"
                                                                             : "restart");
    if (nd->restart_how == RESTART_RESTORED)
        note_own_updates(s, nd, "restored");
    came_up(s, nd);
}

void node_pause(sim_t *s, uint32_t k)
{
    s->node[k].paused = true;
    s->node[k].gen++;
    sim_trace(s, "r%u paused", k);
}

void node_resume(sim_t *s, uint32_t k)
{
    node_t *nd = &s->node[k];
    if (!nd->up || !nd->paused)
        return;
    nd->paused = false;
    sim_trace(s, "r%u resumes", k);
    msg_t *m = nd->inbox;
    nd->inbox = nd->inbox_tail = NULL;
    while (m) {
        msg_t *next = m->next;
        m->next = NULL;
        node_receive(s, m);
        m = next;
    }
}

uint32_t node_value(sim_t *s, uint32_t k, uint32_t user, uint32_t movie)
{
    rt_query_args a;
    rt_query_res res;
    memset(&a, 0, sizeof a);
    memset(&res, 0, sizeof res);
    a.q.kind = Q_RATING;
    a.q.rt_query_u.key.user = user;
    a.q.rt_query_u.key.movie = movie;
    state_query(s->node[k].st, &a, &res);
    uint32_t v = 0;
    if (res.status == RT_OK)
        v = res.result.rt_answer_opt_u.answer.rt_answer_u.halves;
    else if (res.status != RT_NOT_FOUND)
        sim_die(s, "r%u: reading %u:%u: %s", k, user, movie, res.detail ? res.detail : "?");
    xdr_free((xdrproc_t)xdr_rt_query_res, (char *)&res);
    return v;
}

/* ---- requests ------------------------------------------------------------------- */

static void reply(sim_t *s, const msg_t *m, enum msg_kind kind, xdrproc_t proc, void *res)
{
    size_t len;
    char *buf = wire_encode(proc, res, &len);
    if (!buf)
        sim_die(s, "cannot encode a reply");
    msg_t *r = msg_new(s, kind, m->to, m->from, m->call, buf, len);
    r->op = m->op;
    r->to_inc = m->from_inc;
    net_send(s, r);
}

static void handle_update(sim_t *s, node_t *nd, msg_t *m)
{
    rt_update_args a;
    rt_update_res res;
    memset(&res, 0, sizeof res);
    if (wire_decode((xdrproc_t)xdr_rt_update_args, m->buf, m->len, &a, sizeof a) < 0)
        sim_die(s, "r%u: undecodable update", nd->id);
    state_update(nd->st, &a, m->kind == M_SUBMIT, &res);
    client_copy_handled(s, m, res.status);
    reply(s, m, M_UPDATE_RES, (xdrproc_t)xdr_rt_update_res, &res);
    xdr_free((xdrproc_t)xdr_rt_update_args, (char *)&a);
    xdr_free((xdrproc_t)xdr_rt_update_res, (char *)&res);
}

static void handle_query(sim_t *s, node_t *nd, msg_t *m)
{
    rt_query_args a;
    rt_query_res res;
    memset(&res, 0, sizeof res);
    if (wire_decode((xdrproc_t)xdr_rt_query_args, m->buf, m->len, &a, sizeof a) < 0)
        sim_die(s, "r%u: undecodable query", nd->id);
    state_query(nd->st, &a, &res);
    client_copy_handled(s, m, res.status);
    reply(s, m, M_QUERY_RES, (xdrproc_t)xdr_rt_query_res, &res);
    xdr_free((xdrproc_t)xdr_rt_query_args, (char *)&a);
    xdr_free((xdrproc_t)xdr_rt_query_res, (char *)&res);
}

static void handle_gossip(sim_t *s, node_t *nd, msg_t *m)
{
    rt_gossip_args a;
    rt_gossip_res res;
    memset(&res, 0, sizeof res);
    if (wire_decode((xdrproc_t)xdr_rt_gossip_args, m->buf, m->len, &a, sizeof a) < 0)
        sim_die(s, "r%u: undecodable gossip", nd->id);
    state_gossip_in(nd->st, &a, &res);
    reply(s, m, M_GOSSIP_RES, (xdrproc_t)xdr_rt_gossip_res, &res);
    xdr_free((xdrproc_t)xdr_rt_gossip_args, (char *)&a);
    xdr_free((xdrproc_t)xdr_rt_gossip_res, (char *)&res);
}

/* ---- the gossip thread ------------------------------------------------------------- */

static void polled(node_t *nd, uint32_t p, bool ok);
static void repair_if_due(sim_t *s, node_t *nd, uint32_t p);

static void peer_failed(node_t *nd, uint32_t p)
{
    struct peer_link *l = &nd->peer[p];
    if (l->for_recovery)
        polled(nd, p, false);
    l->for_recovery = false;
    l->call = 0;
    l->backoff = l->backoff ? l->backoff * 2 : GOSSIP_INTERVAL;
    if (l->backoff > GOSSIP_BACKOFF_MAX)
        l->backoff = GOSSIP_BACKOFF_MAX;
    l->retry_at = nd->sim->now + l->backoff;
}

static void gossip_call(sim_t *s, node_t *nd, uint32_t p)
{
    struct peer_link *l = &nd->peer[p];
    rt_gossip_args args;
    size_t len;
    if (state_gossip_out(nd->st, p, &args) < 0)
        sim_die(s, "r%u: state_gossip_out failed", nd->id);
    l->sent_more = args.more;
    char *buf = wire_encode((xdrproc_t)xdr_rt_gossip_args, &args, &len);
    xdr_free((xdrproc_t)xdr_rt_gossip_args, (char *)&args);
    if (!buf)
        sim_die(s, "cannot encode gossip");
    l->call = ++s->next_call;
    l->burst++;
    s->st.gossip_calls++;
    sim_at(s, GOSSIP_TIMEOUT, EV_GOSSIP_DEADLINE, nd->id, p, l->call, NULL);
    net_send(s, msg_new(s, M_GOSSIP, nd->id, p, l->call, buf, len));
}

void node_tick(sim_t *s, uint32_t k, uint64_t inc)
{
    node_t *nd = &s->node[k];
    if (!nd->up || inc != nd->inc)
        return; /* a tick of an earlier incarnation */
    schedule_tick(s, nd, GOSSIP_INTERVAL - GOSSIP_INTERVAL / 5 +
                             prng_range(&s->rng, 0, 2 * GOSSIP_INTERVAL / 5));
    if (nd->paused)
        return;
    for (uint32_t p = 0; p < s->n; p++)
        if (p != k && nd->peer[p].call == 0 && s->now >= nd->peer[p].retry_at) {
            nd->peer[p].burst = 0;
            gossip_call(s, nd, p);
        }
}

void node_gossip_deadline(sim_t *s, uint32_t k, uint32_t p, uint64_t call)
{
    node_t *nd = &s->node[k];
    if (nd->up && nd->peer[p].call == call)
        peer_failed(nd, p);
}

static void handle_gossip_reply(sim_t *s, node_t *nd, msg_t *m)
{
    uint32_t p = m->from;
    struct peer_link *l = &nd->peer[p];
    if (p >= s->n || l->call != m->call)
        return; /* the call timed out already */
    if (m->kind == M_REFUSED) {
        peer_failed(nd, p);
        return;
    }
    rt_gossip_res res;
    if (wire_decode((xdrproc_t)xdr_rt_gossip_res, m->buf, m->len, &res, sizeof res) < 0)
        sim_die(s, "r%u: undecodable gossip reply", nd->id);
    int rc = state_gossip_reply(nd->st, p, &res);
    bool more = l->sent_more || res.more;
    xdr_free((xdrproc_t)xdr_rt_gossip_res, (char *)&res);
    l->call = 0;
    l->backoff = 0;
    l->retry_at = 0;
    if (rc == 0 && more && l->burst < 64) {
        gossip_call(s, nd, p);
        return;
    }
    if (l->for_recovery)
        polled(nd, p, rc == 0);
    l->for_recovery = false;
    if (rc == 0)
        repair_if_due(s, nd, p);
}

/* ---- anti-entropy (peers.c: repair_if_due) ----------------------------------------- */

/* Every REPAIR_INTERVAL, with a peer that just answered gossip: one round,
 * its calls in process (inproc.c), taking no simulated time. */
static void repair_if_due(sim_t *s, node_t *nd, uint32_t p)
{
    struct peer_link *l = &nd->peer[p];
    if (!s->repair || s->now < l->repair_at)
        return;
    l->repair_at = s->now + REPAIR_INTERVAL;
    struct inproc_ctx ctx = {s, nd->id, p};
    struct repair_stats st;
    enum repair_outcome out = repair_round(nd->st, p, inproc_repair, &ctx, &st);
    s->st.repair_rounds++;
    if (out == REPAIR_DONE) {
        s->st.repairs++;
        sim_trace(s, "r%u repaired with r%u: sent %llu rows, took %llu", nd->id, p,
                  (unsigned long long)st.sent, (unsigned long long)st.taken);
    }
}

/* ---- recovery (peers.c: recovery_step) ---------------------------------------------- */

/* After a poll of peer p: when to poll it again. */
static void polled(node_t *nd, uint32_t p, bool ok)
{
    struct peer_link *l = &nd->peer[p];
    l->poll_backoff = ok ? 0 : !l->poll_backoff ? RECOVERY_POLL
                              : l->poll_backoff * 2 > RECOVERY_POLL_MAX ? RECOVERY_POLL_MAX
                                                                       : l->poll_backoff * 2;
    l->poll_at = nd->sim->now + l->poll_backoff;
}

static void ask_status(sim_t *s, node_t *nd, uint32_t p)
{
    struct peer_link *l = &nd->peer[p];
    l->status_call = ++s->next_call;
    sim_at(s, GOSSIP_TIMEOUT, EV_STATUS_DEADLINE, nd->id, p, l->status_call, NULL);
    net_send(s, msg_new(s, M_STATUS, nd->id, p, l->status_call, NULL, 0));
}

static void status_answered(sim_t *s, node_t *nd, msg_t *m)
{
    uint32_t p = m->from;
    struct peer_link *l = &nd->peer[p];
    rt_status_res res;
    vts_t their;
    l->status_call = 0;
    if (m->kind == M_REFUSED) {
        polled(nd, p, false);
        return;
    }
    if (wire_decode((xdrproc_t)xdr_rt_status_res, m->buf, m->len, &res, sizeof res) < 0)
        sim_die(s, "r%u: undecodable STATUS reply", nd->id);
    if (res.status == RT_OK && vts_from_xdr(&their, &res.replica_ts) == RT_OK)
        state_heard_status(nd->st, p, &their, res.state != ST_RECOVERING);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&res);
    polled(nd, p, true);
}

void node_status_deadline(sim_t *s, uint32_t k, uint32_t p, uint64_t call)
{
    node_t *nd = &s->node[k];
    if (nd->up && nd->peer[p].status_call == call) {
        nd->peer[p].status_call = 0;
        polled(nd, p, false);
    }
}

/* Copy the state of the peer recovery names (join.c), through inproc.c. */
static void rejoin(sim_t *s, node_t *nd, uint32_t src)
{
    struct inproc_ctx ctx = {s, nd->id, 0};
    struct join_peers peers = {inproc_connect, &ctx};
    char err[512];
    if (join_from_with(nd->st, &peers, src, 100, err, sizeof err) < 0) {
        sim_trace(s, "r%u recovering: %s (trying again)", nd->id, err);
        return;
    }
    s->st.rejoins++;
    sim_trace(s, "r%u recovering: copied r%u's state", nd->id, src);
}

void node_recovery_tick(sim_t *s, uint32_t k, uint64_t inc)
{
    node_t *nd = &s->node[k];
    if (!nd->up || inc != nd->inc)
        return;
    sim_at(s, RECOVERY_POLL, EV_RECOVERY_TICK, k, 0, nd->inc, NULL);
    if (nd->paused)
        return;
    uint64_t waiting = state_recovery_waiting(nd->st);
    bool recovering = waiting || state_rejoin_wanted(nd->st) >= 0 ||
                      state_recovery_source(nd->st) >= 0;
    if (recovering != nd->recovering)
        sim_trace(s, "r%u %s", k, recovering ? "recovering: no updates until it has heard "
                                               "from every peer"
                                             : "recovered");
    nd->recovering = recovering;
    for (uint32_t p = 0; p < s->n; p++)
        if ((waiting >> p & 1) && nd->peer[p].status_call == 0 && s->now >= nd->peer[p].poll_at)
            ask_status(s, nd, p);
    int src = state_rejoin_wanted(nd->st);
    if (src >= 0) {
        rejoin(s, nd, (uint32_t)src);
    } else if ((src = state_recovery_source(nd->st)) >= 0 && nd->peer[src].call == 0 &&
               s->now >= nd->peer[src].poll_at) {
        nd->peer[src].burst = 0;
        nd->peer[src].for_recovery = true;
        gossip_call(s, nd, (uint32_t)src);
    }
}

static void handle_status(sim_t *s, node_t *nd, msg_t *m)
{
    rt_status_res res;
    memset(&res, 0, sizeof res);
    state_status(nd->st, &res);
    reply(s, m, M_STATUS_RES, (xdrproc_t)xdr_rt_status_res, &res);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&res);
}

int node_status(sim_t *s, uint32_t k, vts_t *replica_ts, vts_t *value_ts, rt_state *state)
{
    rt_status_res res;
    if (!s->node[k].up)
        return -1;
    memset(&res, 0, sizeof res);
    state_status(s->node[k].st, &res);
    int rc = res.status == RT_OK && vts_from_xdr(replica_ts, &res.replica_ts) == RT_OK &&
                     vts_from_xdr(value_ts, &res.value_ts) == RT_OK
                 ? 0
                 : -1;
    *state = res.state;
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&res);
    return rc;
}

vts_t node_replica_ts(const sim_t *s, uint32_t k)
{
    struct state_probe p;
    if (!s->node[k].up) {
        vts_zero(&p.replica_ts, s->n);
        return p.replica_ts;
    }
    state_probe(s->node[k].st, &p);
    return p.replica_ts;
}

void node_receive(sim_t *s, msg_t *m)
{
    node_t *nd = &s->node[m->to];
    if (!nd->up || m->to_inc != nd->inc) {
        if (msg_is_request(m)) { /* its process died since the call went out */
            msg_t *r = msg_new(s, M_REFUSED, m->to, m->from, m->call, NULL, 0);
            r->to_inc = m->from_inc;
            r->op = m->op;
            r->reset = true;
            net_send(s, r);
        }
        net_discard(s, m);
        return;
    }
    if (nd->paused) {
        if (nd->inbox_tail)
            nd->inbox_tail->next = m;
        else
            nd->inbox = m;
        nd->inbox_tail = m;
        return;
    }
    switch (m->kind) {
    case M_UPDATE:
    case M_SUBMIT: handle_update(s, nd, m); break;
    case M_QUERY: handle_query(s, nd, m); break;
    case M_GOSSIP: handle_gossip(s, nd, m); break;
    case M_STATUS: handle_status(s, nd, m); break;
    case M_STATUS_RES:
        if (m->from < s->n && nd->peer[m->from].status_call == m->call)
            status_answered(s, nd, m); /* (else the poll timed out already) */
        break;
    case M_GOSSIP_RES: handle_gossip_reply(s, nd, m); break;
    case M_REFUSED: /* of a gossip call or of a STATUS poll */
        if (m->from < s->n && nd->peer[m->from].status_call == m->call)
            status_answered(s, nd, m);
        else
            handle_gossip_reply(s, nd, m);
        break;
    default: sim_die(s, "r%u: a message of kind %d", nd->id, m->kind);
    }
    free(m->buf);
    free(m);
}
