/* peers.c -- the gossip thread. */
#include "peers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "clock.h"
#include "join.h"
#include "log.h"
#include "rating.h"
#include "repair.h"
#include "rpcutil.h"

struct peer {
    CLIENT *clnt;
    bool down;            /* last contact failed (for up/down log lines) */
    uint64_t retry_at_ms; /* do not try before this (backoff while down) */
    int backoff_ms;
    /* recovery's STATUS polls have a back-off of their own, short: the
     * gossip interval may be long, and recovery waits for this peer */
    uint64_t poll_at_ms;
    int poll_backoff_ms;
    uint64_t repair_at_ms; /* next anti-entropy round with it (repair.h) */
};

static struct {
    state_t *state;
    struct peers_config cfg;
    struct peer peer[VTS_MAX];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void peer_failed(uint32_t k, const char *why)
{
    struct peer *p = &g.peer[k];
    if (p->clnt) {
        clnt_destroy(p->clnt);
        p->clnt = NULL;
    }
    if (!p->down)
        log_warn("peer %u (%s:%#x) down: %s", k, g.cfg.cluster->rep[k].host,
                 g.cfg.cluster->rep[k].prog, why);
    p->down = true;
    p->backoff_ms = backoff_next_ms(p->backoff_ms, g.cfg.interval_ms, BACKOFF_MAX_MS);
    p->retry_at_ms = clock_mono_ms() + (uint64_t)p->backoff_ms;
}

static void peer_ok(uint32_t k)
{
    struct peer *p = &g.peer[k];
    if (p->down)
        log_info("peer %u (%s:%#x) up", k, g.cfg.cluster->rep[k].host, g.cfg.cluster->rep[k].prog);
    p->down = false;
    p->backoff_ms = 0;
    p->retry_at_ms = 0;
}

/* Peer k's client handle, connected through its host's rpcbind if need
 * be; NULL (and the peer marked down) if it cannot be reached. */
static CLIENT *peer_client(uint32_t k)
{
    struct peer *p = &g.peer[k];
    char err[256];
    if (!p->clnt) {
        const endpoint_t *e = &g.cfg.cluster->rep[k];
        p->clnt = rpc_connect(e->host, e->prog, RATING_REPLICA_V1, g.cfg.timeout_ms, err,
                              sizeof err);
        if (!p->clnt)
            peer_failed(k, err);
    }
    return p->clnt;
}

/* One exchange with peer k.  Returns 1 if either side had more records
 * than fit in one message, 0 when done, -1 on failure. */
static int gossip_once(uint32_t k)
{
    struct peer *p = &g.peer[k];
    if (!peer_client(k))
        return -1;
    rt_gossip_args args;
    rt_gossip_res res;
    memset(&res, 0, sizeof res);
    if (state_gossip_out(g.state, k, &args) < 0) {
        xdr_free((xdrproc_t)xdr_rt_gossip_args, (char *)&args);
        return -1;
    }
    bool sent_more = args.more;
    if (auth_sign_call(AUTH_GOSSIP, (xdrproc_t)xdr_rt_gossip_args, &args, &args.mac.mac_len,
                       &args.mac.mac_val)) {
        xdr_free((xdrproc_t)xdr_rt_gossip_args, (char *)&args);
        return -1;
    }
    enum clnt_stat cs = rp_gossip_1(args, &res, p->clnt);
    /* The reply's MAC covers this call's: keep it until the reply is checked. */
    char call_mac[AUTH_MAC_LEN];
    u_int call_mac_len = args.mac.mac_len == AUTH_MAC_LEN ? AUTH_MAC_LEN : 0;
    if (call_mac_len)
        memcpy(call_mac, args.mac.mac_val, AUTH_MAC_LEN);
    xdr_free((xdrproc_t)xdr_rt_gossip_args, (char *)&args);
    if (cs != RPC_SUCCESS) {
        peer_failed(k, clnt_sperrno(cs));
        return -1;
    }
    peer_ok(k);
    int rc = 0;
    if (res.status != RT_OK) {
        log_warn("peer %u refused gossip: %s", k,
                 res.status == RT_DENIED ? "not authenticated (another key file?)" : "error");
        rc = -1;
    } else if (!auth_verify_reply(AUTH_GOSSIP, call_mac_len, call_mac,
                                  (xdrproc_t)xdr_rt_gossip_res, &res, &res.mac.mac_len,
                                  &res.mac.mac_val)) {
        log_warn("peer %u answered gossip without a valid authenticator: ignored", k);
        rc = -1;
    } else if (state_gossip_reply(g.state, k, &res) < 0) {
        rc = -1;
    } else {
        rc = (sent_more || res.more) ? 1 : 0;
    }
    xdr_free((xdrproc_t)xdr_rt_gossip_res, (char *)&res);
    return rc;
}

/* Every repair_ms, with a peer that just answered gossip, compare the
 * digests of the data and repair what differs (repair.h).  Right after
 * gossip is when both sides most likely have the same value timestamp. */
static void repair_if_due(uint32_t k, uint64_t now)
{
    struct peer *p = &g.peer[k];
    if (g.cfg.repair_ms <= 0 || !p->clnt || p->down || now < p->repair_at_ms)
        return;
    p->repair_at_ms = now + (uint64_t)g.cfg.repair_ms;
    repair_with_peer(g.state, k, p->clnt);
}

static void gossip_round(bool repair)
{
    uint64_t now = clock_mono_ms();
    for (uint32_t k = 0; k < g.cfg.cluster->n; k++) {
        if (k == g.cfg.self || now < g.peer[k].retry_at_ms)
            continue;
        /* Keep going while messages are full, but bounded, so one busy
         * peer cannot starve the others. */
        for (int i = 0; i < 64 && gossip_once(k) == 1; i++)
            ;
        if (repair)
            repair_if_due(k, now);
    }
}

/* ---- recovery (recovery.h) ---------------------------------------------- */

/* While the replica recovers, the thread wakes this often, whatever the
 * gossip interval, to hear from the peers it still waits for. */
#define RECOVERY_POLL_MS 100

/* The longest wait between two STATUS polls of a peer recovery waits for. */
#define RECOVERY_POLL_MAX_MS 1000

/* After a poll of peer k: when to poll it again. */
static void polled(uint32_t k, bool ok)
{
    struct peer *p = &g.peer[k];
    p->poll_backoff_ms =
        ok ? 0 : backoff_next_ms(p->poll_backoff_ms, RECOVERY_POLL_MS, RECOVERY_POLL_MAX_MS);
    p->poll_at_ms = clock_mono_ms() + (uint64_t)p->poll_backoff_ms;
}

/* Peer k's STATUS: what it holds of our updates. */
static void ask_status(uint32_t k)
{
    struct peer *p = &g.peer[k];
    char err[256];
    rt_status_res st;
    vts_t their;
    if (!p->clnt) {
        const endpoint_t *e = &g.cfg.cluster->rep[k];
        p->clnt = rpc_connect(e->host, e->prog, RATING_REPLICA_V1, g.cfg.timeout_ms, err,
                              sizeof err);
    }
    memset(&st, 0, sizeof st);
    bool ok = p->clnt && rp_status_1(&st, p->clnt) == RPC_SUCCESS;
    if (ok && st.status == RT_OK && vts_from_xdr(&their, &st.replica_ts) == RT_OK)
        state_heard_status(g.state, k, &their, st.state != ST_RECOVERING);
    xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&st);
    if (!ok && p->clnt) {
        clnt_destroy(p->clnt);
        p->clnt = NULL;
    }
    polled(k, ok);
}

/* One step of recovery: hear from the peers still waited for; then take
 * our own updates back, from a peer's log by gossip or, when its log no
 * longer has them, by copying its state (a failure is tried again). */
static void recovery_step(void)
{
    uint64_t waiting = state_recovery_waiting(g.state), now = clock_mono_ms();
    for (uint32_t k = 0; k < g.cfg.cluster->n; k++)
        if ((waiting >> k & 1) && now >= g.peer[k].poll_at_ms)
            ask_status(k);
    char err[512];
    int k = state_rejoin_wanted(g.state);
    if (k >= 0 && join_from(g.state, g.cfg.cluster, (uint32_t)k, g.cfg.timeout_ms, err,
                            sizeof err) < 0)
        log_error("recovering: %s (trying again)", err);
    else if (k < 0 && (k = state_recovery_source(g.state)) >= 0 &&
             now >= g.peer[k].poll_at_ms) {
        int rc;
        for (int i = 0; i < 64 && (rc = gossip_once((uint32_t)k)) == 1; i++)
            ;
        polled((uint32_t)k, rc == 0);
    }
}

static void *gossip_main(void *arg)
{
    (void)arg;
    uint64_t next_round = clock_mono_ms() + (uint64_t)g.cfg.interval_ms;
    pthread_mutex_lock(&g.mu);
    while (!g.stop) {
        bool recovering = state_recovery_waiting(g.state) != 0 ||
                          state_recovery_source(g.state) >= 0 ||
                          state_rejoin_wanted(g.state) >= 0;
        uint64_t now = clock_mono_ms();
        int64_t wait = next_round > now ? (int64_t)(next_round - now) : 0;
        if (recovering && wait > RECOVERY_POLL_MS)
            wait = RECOVERY_POLL_MS;
        struct timespec until = clock_deadline_ms(wait);
        while (!g.stop && !g.kicked && wait > 0)
            if (clock_cond_wait(&g.cv, &g.mu, &until) == ETIMEDOUT)
                break;
        bool kicked = g.kicked;
        g.kicked = false;
        pthread_mutex_unlock(&g.mu);
        if (recovering)
            recovery_step();
        if (kicked || clock_mono_ms() >= next_round) {
            gossip_round(true);
            next_round = clock_mono_ms() + (uint64_t)g.cfg.interval_ms;
        }
        pthread_mutex_lock(&g.mu);
    }
    pthread_mutex_unlock(&g.mu);
    return NULL;
}

int peers_start(state_t *s, const struct peers_config *cfg)
{
    g.state = s;
    g.cfg = *cfg;
    g.stop = false;
    if (cfg->cluster->n <= 1)
        return 0;
    return pthread_create(&g.thread, NULL, gossip_main, NULL) == 0 ? 0 : -1;
}

void peers_kick(void)
{
    pthread_mutex_lock(&g.mu);
    g.kicked = true;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
}

void peers_stop(void)
{
    if (g.cfg.cluster == NULL || g.cfg.cluster->n <= 1)
        return;
    pthread_mutex_lock(&g.mu);
    g.stop = true;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(g.thread, NULL);
    /* A last round so updates accepted just before shutdown leave now
     * (peers known to be down are skipped: shutdown must not hang). */
    log_info("last gossip round before shutdown");
    gossip_round(false);
    for (uint32_t k = 0; k < g.cfg.cluster->n; k++)
        if (g.peer[k].clnt) {
            clnt_destroy(g.peer[k].clnt);
            g.peer[k].clnt = NULL;
        }
}
