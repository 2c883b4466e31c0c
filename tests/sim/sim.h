/*
 * sim.h -- the deterministic simulator's world: N replicas built from the
 * real server/state*.c, gossip.c, recovery.c, join.c, snapshot.c,
 * datadir.c and SQLite store, front ends and client sessions modelled on
 * frontend/forward.c and client/commands.c, a
 * simulated network and simulated clocks, all in one process and one
 * thread, driven by one seed (docs/simulator.md).
 *
 * Time is simulated, in microseconds: nothing happens between events, and
 * an event's work (a replica handling a message, a crash, a snapshot
 * transfer) takes no simulated time.  Every random choice comes from the
 * schedule's generator (prng.h), so a seed replays exactly.
 *
 * The parts, one file each:
 *   queue.c   the events, by time
 *   wire.c    XDR to bytes and back: every message travels encoded
 *   net.c     messages between endpoints: delay, loss, duplicates, partitions
 *   node.c    a replica: state_t in its own data directory; crash, restart,
 *             pause, wipe, backup and restore; the gossip thread and its
 *             recovery polls (peers.c)
 *   inproc.c  a CLIENT whose calls run another replica's handler (join.c)
 *   client.c  sessions and the front end: requests, failover, the history
 *   faults.c  which faults a schedule injects, and when
 *   sim.c     one schedule: set up, run, heal, wait for quiet, check
 */
#ifndef RATINGSIM_SIM_H
#define RATINGSIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "datadir.h"
#include "history.h"
#include "prng.h"
#include "queue.h"
#include "state.h"

#define SIM_MAX_REPLICAS 5
#define SIM_MAX_FE 2
#define SIM_MAX_SESSIONS 8
#define SIM_MAX_KEYS 40
/* Endpoints: replica k is k, front end f is SIM_FE0 + f. */
#define SIM_FE0 SIM_MAX_REPLICAS
#define SIM_ENDPOINTS (SIM_MAX_REPLICAS + SIM_MAX_FE)

#define MS 1000ULL /* simulated time is in microseconds */

/* The service's timing, shorter than the real defaults (ratingfe --timeout 2000
 * --wait 5000, ratingd --gossip-ms 1000 --timeout 1000) but in about their
 * ratios: what matters is which comes first. */
#define NET_LATENCY_MIN (100ULL)
#define NET_LATENCY_MAX (2 * MS)
#define FE_TIMEOUT (100 * MS)      /* one call to a replica */
#define FE_WAIT (500 * MS)         /* how long the front end keeps trying */
#define GOSSIP_INTERVAL (50 * MS)
#define GOSSIP_TIMEOUT (100 * MS)
#define GOSSIP_BACKOFF_MAX (5 * GOSSIP_INTERVAL)
/* peers.c: while recovering, STATUS polls of the peers still to hear from
 * (RECOVERY_POLL_MS, RECOVERY_POLL_MAX_MS: a tenth and the whole of the
 * gossip interval) */
#define RECOVERY_POLL (GOSSIP_INTERVAL / 10)
#define RECOVERY_POLL_MAX GOSSIP_INTERVAL
/* ratingd --repair-ms: 10 gossip intervals (10 s against 1 s) */
#define REPAIR_INTERVAL (10 * GOSSIP_INTERVAL)
/* The simulated wall clock starts here (ms since 1970: 2025-06-15). */
#define SIM_EPOCH_MS 1750000000000ULL

/* ---- fault classes (faults.c) ---------------------------------------------- */

enum fault {
    F_DROP,       /* gossip lost; client requests lost before they arrive */
    F_DUP,        /* messages delivered twice */
    F_DELAY,      /* long delays that reorder (client ones below the front end's time-out) */
    F_PARTITION,  /* replicas cut from each other, and the front ends from some */
    F_CLOCK,      /* replica clocks skewed by up to an hour and jumping backward */
    F_CRASH,      /* a replica stops (its process dies) and restarts from its database */
    F_PAUSE,      /* a replica stops taking messages for a while (SIGSTOP, a slow disk) */
    F_LATE,       /* client requests that arrive after the front end gave up, lost replies */
    F_WIPE,       /* a replica loses its database and rejoins by snapshot */
    F_RESTORE,    /* a replica's database is put back from an earlier backup */
    F_COUNT
};

extern const char *const fault_names[F_COUNT];

/* ---- the network (net.c) ---------------------------------------------------- */

enum msg_kind {
    M_UPDATE, M_SUBMIT, M_QUERY,          /* front end -> replica */
    M_UPDATE_RES, M_QUERY_RES,            /* replica -> front end */
    M_GOSSIP, M_GOSSIP_RES,               /* replica -> replica */
    M_STATUS, M_STATUS_RES,               /* replica -> replica (recovery's polls) */
    M_REFUSED                             /* the call did not reach its target */
};

typedef struct msg {
    enum msg_kind kind;
    uint32_t from, to;     /* endpoints */
    uint64_t to_inc;       /* a replica target: the incarnation the sender talks to */
    uint64_t from_inc;     /* a replica sender: its incarnation (for the answer) */
    uint64_t call;         /* the call this is, or answers */
    uint64_t op;           /* client requests and replies: the operation (client.c) */
    bool reset;            /* M_REFUSED: the call went out, the connection broke after */
    char *buf;
    size_t len;
    struct msg *next;      /* in a paused replica's inbox */
} msg_t;

struct net {
    bool on;                     /* faults apply (off while the schedule heals) */
    uint64_t in_flight;          /* messages sent and not yet delivered */
    bool cut[SIM_ENDPOINTS][SIM_ENDPOINTS];
    double p_drop, p_dup, p_delay, p_late, p_lost_reply;
    uint64_t delay_max_gossip, delay_max_client;
};

/* ---- replicas (node.c) -------------------------------------------------------- */

struct peer_link {               /* the gossip thread's view of one peer (peers.c) */
    uint64_t call;               /* the gossip call waiting for an answer, 0 none */
    bool sent_more;
    int burst;                   /* calls in a row this round (at most 64) */
    bool for_recovery;           /* the burst takes our own records back */
    uint64_t retry_at;
    uint64_t backoff;
    uint64_t repair_at;          /* next anti-entropy round with it (repair.h) */
    uint64_t status_call;        /* recovery's STATUS poll waiting, 0 none */
    uint64_t poll_at;
    uint64_t poll_backoff;
};

typedef struct node {
    uint32_t id;
    struct sim *sim;
    state_t *st;                 /* while up */
    datadir_t *dir;              /* while up: the lock and the mark (datadir.h) */
    bool up, paused;
    bool recovering;             /* as the last recovery tick saw it (for the trace) */
    uint64_t inc;                /* incarnation: one more at every start */
    char dirpath[256], path[256], backup[256];
    bool have_backup;
    msg_t *inbox, *inbox_tail;   /* what arrived while paused */
    struct peer_link peer[SIM_MAX_REPLICAS];
    vts_t disk_ts;               /* while down: the replica_ts its database holds */
    int64_t skew_ms;             /* its clock against simulated time */
    uint64_t gen;                /* one more at every crash and pause: their events carry it */
    uint32_t restart_how;        /* while down: how it comes back (RESTART_*) */
} node_t;

/* ---- clients (client.c) ------------------------------------------------------ */

typedef struct key {
    uint32_t user, movie;
    int owner;                   /* the session that alone writes it, -1 shared */
    uint32_t initial;
    uint16_t used;               /* values written so far (bit v) */
} simkey_t;

/* One operation of a session and every copy of its request in the network. */
typedef struct op_rec {
    uint32_t session;
    bool write;
    uint32_t pending;            /* copies sent, not yet handled nor lost */
    bool applied;                /* a copy was answered RT_OK by a replica */
    uint64_t handled_call;       /* the last call a replica handled */
} op_rec_t;

typedef struct front_end {
    uint32_t sticky;
    uint64_t avoid_until[SIM_MAX_REPLICAS];
    uint64_t backoff[SIM_MAX_REPLICAS];
    vts_t value_ts[SIM_MAX_REPLICAS];
} front_end_t;

typedef struct session {
    uint32_t id;
    char name[16];
    uint32_t fe;
    vts_t prev;                  /* merged ts of every reply (client/commands.c) */
    upd_id_t uid;                /* the next update's id */
    uint64_t seq;                /* history seq */
    int8_t believed[SIM_MAX_KEYS]; /* 1 present, 0 absent, -1 not known */
    /* the operation in progress */
    bool busy;
    uint64_t op;
    enum msg_kind kind;
    uint32_t key;
    uint32_t halves;             /* written or read */
    op_t upd;                    /* an update's operation */
    upd_id_t upd_uid;
    uint64_t stamp;              /* the update's stamp (rating.x: the client's choice) */
    uint64_t stamp_last;         /* above every stamp it used or was told of */
    int restamps;                /* new ids after RT_STALE for this command */
    bool repeat;                 /* this update repeats an unanswered one */
    int64_t skew_ms;             /* the client's clock against simulated time */
    bool last_unknown;           /* the last update's outcome is not known */
    uint64_t t0;
    /* the front end's work on it (forward.c) */
    char *args;
    size_t args_len;
    uint64_t deadline;
    uint32_t order[SIM_MAX_REPLICAS], tried;
    uint64_t round_delay;
    uint64_t call;               /* the attempt waiting for an answer */
    uint32_t target;
    bool maybe_applied;          /* an attempt timed out: a copy may be applied */
} session_t;

/* ---- one schedule ------------------------------------------------------------- */

struct sim_params {
    uint32_t replicas;           /* 0: chosen per schedule, 3..5 */
    uint32_t steps;              /* client operations per schedule */
    uint32_t faults;             /* enabled classes: bit (1 << F_x) */
    int verbose;
    const char *data_dir;        /* the data set the templates import */
    const char *work_dir;        /* the replicas' databases (on /dev/shm) */
    const char *tmpl_dir;        /* the templates (sim_prepare) */
    FILE *history_out;           /* the schedule's history in the log format, or NULL */
};

struct sim_stats {
    uint64_t schedules, ops, writes, reads, violations, failing;
    uint64_t faults[F_COUNT];
    uint64_t late_copies;        /* requests handled after their front end gave up, or
                                    before it gave up without seeing the answer */
    uint64_t messages, gossip_calls, rejoins, unquiet;
    uint64_t behind;             /* restarts knowing fewer own updates than a peer */
    uint64_t repairs;            /* anti-entropy rounds that exchanged rows */
    uint64_t repair_rounds;      /* anti-entropy rounds run */
};

typedef struct sim {
    uint64_t seed;
    const struct sim_params *par;
    prng_t rng;
    uint64_t now;
    queue_t q;
    uint32_t n;
    node_t node[SIM_MAX_REPLICAS];
    struct net net;
    uint32_t nfe;
    front_end_t fe[SIM_MAX_FE];
    uint32_t nsessions;
    session_t sess[SIM_MAX_SESSIONS];
    uint32_t nkeys;
    simkey_t keys[SIM_MAX_KEYS];
    op_rec_t *ops;
    size_t nops, capops;
    uint32_t issued;             /* client operations started */
    uint64_t overload;           /* the replicas' --overload */
    bool repair;                 /* anti-entropy rounds (most schedules; some do without) */
    uint64_t next_call;
    bool healing;
    /* what this schedule injects (faults.c) */
    uint32_t active;             /* classes in use */
    uint64_t fault_gap;          /* mean time between injections */
    uint64_t partition_gen;
    hist_t *hist;
    struct sim_stats st;         /* this schedule's counts */
    FILE *trace;                 /* -v: the events */
} sim_t;

enum ev_type {
    EV_DELIVER,         /* ptr: msg_t */
    EV_SESSION_NEXT,    /* a: session */
    EV_FE_DEADLINE,     /* a: session, c: call */
    EV_FE_ROUND,        /* a: session, c: op */
    EV_GOSSIP_TICK,     /* a: node, c: incarnation */
    EV_GOSSIP_DEADLINE, /* a: node, b: peer, c: call */
    EV_FAULT,           /* the next injection */
    EV_RESTART,         /* a: node, c: its gen */
    EV_RESUME,          /* a: node, c: its gen */
    EV_HEAL,            /* c: partition generation */
    EV_RECOVERY_TICK,   /* a: node, c: incarnation */
    EV_STATUS_DEADLINE, /* a: node, b: peer, c: call */
};

/* Schedule an event `after` microseconds from now. */
void sim_at(sim_t *s, uint64_t after, int type, uint32_t a, uint32_t b, uint64_t c, void *ptr);
/* A line of the -v trace, prefixed with the simulated time. */
void sim_trace(sim_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stop the run: an internal failure of the simulator (not of the system). */
void sim_die(sim_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Run one schedule of seed; add its counts to *total; the violations'
 * lines go to report.  Returns the number of violations. */
int sim_run(uint64_t seed, const struct sim_params *par, struct sim_stats *total, FILE *report);
/* Build the template databases once per process (sim.c); 0 or -1. */
int sim_prepare(const struct sim_params *par, char *err, size_t errlen);
void sim_cleanup(const struct sim_params *par);
/* The servers' own log lines: none, or all from info up (-v -v). */
void sim_logging(int verbose);

/* net.c */
void net_send(sim_t *s, msg_t *m);
void net_deliver(sim_t *s, msg_t *m);
void net_discard(sim_t *s, msg_t *m);
msg_t *msg_new(sim_t *s, enum msg_kind kind, uint32_t from, uint32_t to, uint64_t call, char *buf,
               size_t len);
bool msg_is_request(const msg_t *m);
bool net_reachable(const sim_t *s, uint32_t a, uint32_t b);

/* node.c */
int node_init(sim_t *s, uint32_t k);
void node_stop(sim_t *s, uint32_t k);   /* end of schedule: close, no trace */
void node_receive(sim_t *s, msg_t *m);
void node_tick(sim_t *s, uint32_t k, uint64_t inc);
void node_gossip_deadline(sim_t *s, uint32_t k, uint32_t peer, uint64_t call);
void node_recovery_tick(sim_t *s, uint32_t k, uint64_t inc);
void node_status_deadline(sim_t *s, uint32_t k, uint32_t peer, uint64_t call);
/* The node's timestamps and state now (STATUS); 0, or -1 when it is down. */
int node_status(sim_t *s, uint32_t k, vts_t *replica_ts, vts_t *value_ts, rt_state *state);
/* Its replica_ts (cheaper: no XDR); zero when down. */
vts_t node_replica_ts(const sim_t *s, uint32_t k);
void node_crash(sim_t *s, uint32_t k);
void node_restart(sim_t *s, uint32_t k);
void node_wipe(sim_t *s, uint32_t k);
int node_restore(sim_t *s, uint32_t k);
void node_pause(sim_t *s, uint32_t k);
void node_resume(sim_t *s, uint32_t k);
int node_backup(sim_t *s, uint32_t k);
bool node_serving(const sim_t *s, uint32_t k);
uint64_t node_clock_ms(const node_t *nd);
/* The replica's value of (user, movie) now (0: absent), read as a query
 * with an empty prev. */
uint32_t node_value(sim_t *s, uint32_t k, uint32_t user, uint32_t movie);
enum { RESTART_SAME, RESTART_WIPED, RESTART_RESTORED };

/* inproc.c */
CLIENT *inproc_connect(void *ctx, uint32_t k, int timeout_ms, char *err, size_t errlen);
struct inproc_ctx {
    sim_t *s;
    uint32_t from;
    uint32_t target;   /* inproc_repair */
};
/* repair.h's repair_call_fn: one RP_REPAIR call to ctx's target. */
int inproc_repair(void *ctx, rt_repair_args *args, rt_repair_res *res);

/* client.c */
void clients_init(sim_t *s);
void client_next(sim_t *s, uint32_t sess);
void client_receive(sim_t *s, msg_t *m);
void client_deadline(sim_t *s, uint32_t sess, uint64_t call);
void client_round(sim_t *s, uint32_t sess, uint64_t op);
void client_copy_gone(sim_t *s, uint64_t op);
void client_copy_sent(sim_t *s, uint64_t op);
void client_copy_handled(sim_t *s, const msg_t *m, rt_status st);
bool clients_idle(const sim_t *s);
void clients_free(sim_t *s);

/* faults.c */
int faults_parse(const char *list, uint32_t *mask, char *err, size_t errlen);
void faults_format(uint32_t mask, char *buf, size_t len);
void faults_plan(sim_t *s);
void faults_inject(sim_t *s);
void faults_heal_partition(sim_t *s, uint64_t gen);
void faults_heal_all(sim_t *s);

#endif
