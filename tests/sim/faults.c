/*
 * faults.c -- what goes wrong in a schedule, and when.
 *
 * --faults names the classes a run may use (sim.h: enum fault).  Each
 * schedule uses a random part of them, with random intensities, so that
 * one seed shows one combination: message faults (drop, dup, delay, late)
 * act on each message as it is sent (net.c); the others are injected one
 * at a time, every fault_gap on average, each undoing itself later (a
 * partition heals, a crashed, wiped or restored replica restarts, a paused
 * one resumes).  At most n - 1 replicas are down or paused at once.  When
 * the clients are done the schedule heals everything (faults_heal_all).
 */
#include <string.h>

#include "sim.h"

const char *const fault_names[F_COUNT] = {"drop",  "dup",   "delay", "partition", "clock",
                                          "crash", "pause", "late",  "wipe",      "restore"};

int faults_parse(const char *list, uint32_t *mask, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(list) >= sizeof buf) {
        snprintf(err, errlen, "--faults: too long");
        return -1;
    }
    strcpy(buf, list);
    *mask = 0;
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        bool off = *w == '-';
        uint32_t bits = 0;
        if (off)
            w++;
        if (strcmp(w, "all") == 0)
            bits = (1u << F_COUNT) - 1;
        else if (strcmp(w, "none") == 0)
            bits = 0;
        else
            for (int f = 0; f < F_COUNT; f++)
                if (strcmp(w, fault_names[f]) == 0)
                    bits = 1u << f;
        if (!bits && strcmp(w, "none") != 0) {
            snprintf(err, errlen, "--faults: no fault class '%s' (all, none, or a list of: "
                     "drop dup delay partition clock crash pause late wipe restore; -x removes)",
                     w);
            return -1;
        }
        *mask = off ? *mask & ~bits : *mask | bits;
    }
    return 0;
}

void faults_format(uint32_t mask, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int f = 0; f < F_COUNT; f++)
        if (mask & 1u << f)
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "", fault_names[f]);
    if (!off)
        snprintf(buf, len, "none");
}

static bool active(const sim_t *s, enum fault f) { return s->active & 1u << f; }

static const uint32_t injected = 1u << F_PARTITION | 1u << F_CLOCK | 1u << F_CRASH |
                                 1u << F_PAUSE | 1u << F_WIPE | 1u << F_RESTORE;

void faults_plan(sim_t *s)
{
    s->active = 0;
    for (int f = 0; f < F_COUNT; f++)
        if ((s->par->faults & 1u << f) && prng_chance(&s->rng, 0.75))
            s->active |= 1u << f;
    struct net *n = &s->net;
    memset(n, 0, sizeof *n);
    n->on = true;
    n->p_drop = active(s, F_DROP) ? 0.01 + 0.1 * prng_unit(&s->rng) : 0;
    n->p_dup = active(s, F_DUP) ? 0.01 + 0.05 * prng_unit(&s->rng) : 0;
    n->p_delay = active(s, F_DELAY) ? 0.05 + 0.3 * prng_unit(&s->rng) : 0;
    n->delay_max_gossip = 3 * GOSSIP_TIMEOUT;
    /* a request's delay and its reply's together stay below the front end's time-out */
    n->delay_max_client = FE_TIMEOUT / 4;
    n->p_late = active(s, F_LATE) ? 0.02 + 0.08 * prng_unit(&s->rng) : 0;
    n->p_lost_reply = active(s, F_LATE) ? 0.05 * prng_unit(&s->rng) : 0;
    for (uint32_t k = 0; k < s->n; k++)
        if (active(s, F_CLOCK) && prng_chance(&s->rng, 0.5)) {
            s->node[k].skew_ms = (int64_t)prng_range(&s->rng, 0, 2 * 3600 * 1000) - 3600 * 1000;
            s->st.faults[F_CLOCK]++;
        }
    s->fault_gap = prng_range(&s->rng, 20, 150) * MS;
    if (s->active & injected)
        sim_at(s, prng_range(&s->rng, 0, 2 * s->fault_gap), EV_FAULT, 0, 0, 0, NULL);
}

static uint32_t unavailable(const sim_t *s)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < s->n; k++)
        n += !node_serving(s, k);
    return n;
}

/* A random replica that is serving, or -1 (also when taking it away would
 * leave none). */
static int pick_serving(sim_t *s)
{
    if (unavailable(s) + 1 >= s->n)
        return -1;
    uint32_t k = (uint32_t)prng_below(&s->rng, s->n);
    for (uint32_t i = 0; i < s->n; i++, k = (k + 1) % s->n)
        if (node_serving(s, k))
            return (int)k;
    return -1;
}

static void partition(sim_t *s)
{
    uint32_t side = 0;
    while (side == 0 || side == (1u << s->n) - 1)
        side = (uint32_t)prng_below(&s->rng, 1u << s->n);
    memset(s->net.cut, 0, sizeof s->net.cut);
    for (uint32_t a = 0; a < s->n; a++)
        for (uint32_t b = 0; b < s->n; b++)
            s->net.cut[a][b] = ((side >> a) & 1) != ((side >> b) & 1);
    for (uint32_t f = 0; f < s->nfe; f++)
        if (prng_chance(&s->rng, 0.3)) {
            uint32_t from = prng_below(&s->rng, 2);
            for (uint32_t k = 0; k < s->n; k++)
                if (((side >> k) & 1) == from)
                    s->net.cut[SIM_FE0 + f][k] = s->net.cut[k][SIM_FE0 + f] = true;
        }
    s->partition_gen++;
    uint64_t lasts = prng_range(&s->rng, 50, 600) * MS;
    sim_at(s, lasts, EV_HEAL, 0, 0, s->partition_gen, NULL);
    sim_trace(s, "partition: replicas %#x apart from the others for %llu ms", side,
              (unsigned long long)(lasts / MS));
}

static void clock_jump(sim_t *s)
{
    uint32_t k = (uint32_t)prng_below(&s->rng, s->n);
    int64_t jump = (int64_t)prng_range(&s->rng, 1000, 120000);
    if (prng_chance(&s->rng, 0.7))
        jump = -jump;
    s->node[k].skew_ms += jump;
    sim_trace(s, "r%u's clock jumps %+lld ms", k, (long long)jump);
}

/* Does every update replica k holds live on at another replica?  Losing a
 * database that held the only copy of an acknowledged update loses that
 * update, whatever the recovery: with lazy replication that is the price,
 * not a bug, so wipes and restores wait until what the replica has is
 * held elsewhere, as in issue 10's reproductions. */
static bool held_elsewhere(const sim_t *s, uint32_t k)
{
    vts_t others;
    vts_zero(&others, s->n);
    for (uint32_t i = 0; i < s->n; i++) {
        const node_t *nd = &s->node[i];
        vts_t has = nd->up ? node_replica_ts(s, i) : nd->disk_ts;
        if (i != k && (nd->up || nd->restart_how == RESTART_SAME))
            vts_merge(&others, &has);
    }
    vts_t mine = node_replica_ts(s, k);
    return vts_le(&mine, &others);
}

/* Take a replica away for a while; how it comes back is its restart_how. */
static void take_down(sim_t *s, enum fault f)
{
    int k = pick_serving(s);
    if (k < 0)
        return;
    node_t *nd = &s->node[k];
    if (f == F_RESTORE && !nd->have_backup) {
        node_backup(s, (uint32_t)k);
        return;
    }
    if (f != F_CRASH && !held_elsewhere(s, (uint32_t)k)) {
        sim_trace(s, "r%u holds updates no other replica has: no %s now", (uint32_t)k,
                  fault_names[f]);
        return;
    }
    if (f == F_CRASH)
        node_crash(s, (uint32_t)k);
    else if (f == F_WIPE)
        node_wipe(s, (uint32_t)k);
    else
        node_restore(s, (uint32_t)k);
    sim_at(s, prng_range(&s->rng, 10, 400) * MS, EV_RESTART, (uint32_t)k, 0, nd->gen, NULL);
}

static void pause_one(sim_t *s)
{
    int k = pick_serving(s);
    if (k < 0)
        return;
    node_pause(s, (uint32_t)k);
    sim_at(s, prng_range(&s->rng, 50, 800) * MS, EV_RESUME, (uint32_t)k, 0, s->node[k].gen,
           NULL);
}

void faults_inject(sim_t *s)
{
    enum fault list[F_COUNT];
    uint32_t n = 0;
    for (int f = 0; f < F_COUNT; f++)
        if (active(s, (enum fault)f) && (injected & 1u << f))
            list[n++] = (enum fault)f;
    enum fault f = list[prng_below(&s->rng, n)];
    s->st.faults[f]++;
    switch (f) {
    case F_PARTITION: partition(s); break;
    case F_CLOCK: clock_jump(s); break;
    case F_PAUSE: pause_one(s); break;
    default: take_down(s, f); break;
    }
    sim_at(s, prng_range(&s->rng, s->fault_gap / 2, 3 * s->fault_gap / 2), EV_FAULT, 0, 0, 0,
           NULL);
}

void faults_heal_partition(sim_t *s, uint64_t gen)
{
    if (gen != s->partition_gen)
        return;
    memset(s->net.cut, 0, sizeof s->net.cut);
    sim_trace(s, "partition healed");
}

void faults_heal_all(sim_t *s)
{
    sim_trace(s, "healing: no more faults; every replica up");
    s->net.on = false;
    memset(s->net.cut, 0, sizeof s->net.cut);
    s->partition_gen++;
    for (uint32_t k = 0; k < s->n; k++) {
        if (s->node[k].paused)
            node_resume(s, k);
        if (!s->node[k].up)
            node_restart(s, k);
    }
}
