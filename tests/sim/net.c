/*
 * net.c -- the simulated network.  A message is its XDR bytes, from one
 * endpoint to another, delivered after a latency; while a schedule's
 * faults are on (net.on) a message may also be lost, delivered twice,
 * delayed far enough to overtake later ones, or stopped by a partition.
 *
 * What each fault class may do to client traffic is chosen so that a class
 * either never makes the front end send a second copy of a request that
 * was (or will be) handled, or says so: only F_LATE and F_PAUSE do (a
 * request handled after the front end gave up on it, a lost reply), and
 * those are the late copies of issue 10's bug 1.  So a drop loses a client
 * request before it arrives, only gossip is duplicated (a duplicate of a
 * request that was refused could be accepted after the front end moved on:
 * a late copy), a request's and its reply's delays together stay below the
 * front end's time-out, and a
 * partition refuses new requests but lets replies through.  Gossip suffers
 * everything.
 *
 * Connections: a message to a replica is for the incarnation it was sent
 * to.  A replica that is down, or restarted since, refuses a request (the
 * caller gets M_REFUSED, as a reset connection) and drops anything else.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

bool msg_is_request(const msg_t *m)
{
    return m->kind == M_UPDATE || m->kind == M_SUBMIT || m->kind == M_QUERY ||
           m->kind == M_GOSSIP || m->kind == M_STATUS;
}

static bool is_client(const msg_t *m) { return m->kind <= M_QUERY_RES; }
/* Replica to replica: gossip, and recovery's STATUS polls. */
static bool is_gossip(const msg_t *m) { return m->kind >= M_GOSSIP && m->kind <= M_STATUS_RES; }
static bool to_replica(const msg_t *m) { return m->to < SIM_MAX_REPLICAS; }

msg_t *msg_new(sim_t *s, enum msg_kind kind, uint32_t from, uint32_t to, uint64_t call,
               char *buf, size_t len)
{
    msg_t *m = calloc(1, sizeof *m);
    if (!m)
        sim_die(s, "out of memory");
    *m = (msg_t){.kind = kind, .from = from, .to = to, .call = call, .buf = buf, .len = len};
    if (to < SIM_MAX_REPLICAS)
        m->to_inc = s->node[to].inc;
    if (from < SIM_MAX_REPLICAS)
        m->from_inc = s->node[from].inc;
    return m;
}

void net_discard(sim_t *s, msg_t *m)
{
    if (m->kind == M_UPDATE || m->kind == M_SUBMIT || m->kind == M_QUERY)
        client_copy_gone(s, m->op);
    free(m->buf);
    free(m);
}

static void schedule(sim_t *s, msg_t *m, uint64_t after)
{
    s->net.in_flight++;
    s->st.messages++;
    sim_at(s, after, EV_DELIVER, 0, 0, 0, m);
}

static uint64_t latency(sim_t *s) { return prng_range(&s->rng, NET_LATENCY_MIN, NET_LATENCY_MAX); }

/* The caller learns that its call did not get through. */
static void refuse(sim_t *s, msg_t *m)
{
    msg_t *r = msg_new(s, M_REFUSED, m->to, m->from, m->call, NULL, 0);
    r->to_inc = m->from_inc;
    r->op = m->op;
    schedule(s, r, latency(s));
    net_discard(s, m);
}

bool net_reachable(const sim_t *s, uint32_t a, uint32_t b)
{
    return !s->net.on || !s->net.cut[a][b];
}

static bool active(const sim_t *s, enum fault f) { return s->net.on && (s->active & 1u << f); }

/* Extra delay for this message, from the faults in force. */
static uint64_t extra_delay(sim_t *s, const msg_t *m)
{
    uint64_t d = 0;
    if (active(s, F_DELAY) && prng_chance(&s->rng, s->net.p_delay)) {
        d += prng_range(&s->rng, 0, is_gossip(m) ? s->net.delay_max_gossip
                                                 : s->net.delay_max_client);
        s->st.faults[F_DELAY]++;
    }
    if (active(s, F_LATE) && msg_is_request(m) && is_client(m) &&
        prng_chance(&s->rng, s->net.p_late)) {
        d += FE_TIMEOUT + prng_range(&s->rng, 0, 4 * FE_TIMEOUT);
        s->st.faults[F_LATE]++;
        sim_trace(s, "net: request of call %llu will arrive late", (unsigned long long)m->call);
    }
    return d;
}

/* A second copy of a gossip message, up to 100 ms after the first. */
static void duplicate(sim_t *s, const msg_t *m, uint64_t after)
{
    msg_t *d = malloc(sizeof *d);
    char *buf = m->len ? malloc(m->len) : NULL;
    if (!d || (m->len && !buf))
        sim_die(s, "out of memory");
    *d = *m;
    d->buf = buf;
    if (m->len)
        memcpy(buf, m->buf, m->len);
    schedule(s, d, after + prng_range(&s->rng, 0, 100 * MS));
}

void net_send(sim_t *s, msg_t *m)
{
    if (to_replica(m) && msg_is_request(m) &&
        (!s->node[m->to].up || (is_client(m) && !net_reachable(s, m->from, m->to)))) {
        refuse(s, m); /* connection refused, or no route to the host */
        return;
    }
    if (active(s, F_DROP) && (is_gossip(m) || (msg_is_request(m) && is_client(m))) &&
        prng_chance(&s->rng, s->net.p_drop)) {
        sim_trace(s, "net: lost %s call %llu from %u to %u", is_gossip(m) ? "gossip" : "request",
                  (unsigned long long)m->call, m->from, m->to);
        s->st.faults[F_DROP]++;
        net_discard(s, m);
        return;
    }
    if (active(s, F_LATE) && is_client(m) && !msg_is_request(m) &&
        prng_chance(&s->rng, s->net.p_lost_reply)) {
        sim_trace(s, "net: lost the reply of call %llu", (unsigned long long)m->call);
        s->st.faults[F_LATE]++;
        net_discard(s, m);
        return;
    }
    uint64_t after = latency(s) + extra_delay(s, m);
    if (active(s, F_DUP) && is_gossip(m) && prng_chance(&s->rng, s->net.p_dup)) {
        duplicate(s, m, after);
        s->st.faults[F_DUP]++;
    }
    schedule(s, m, after);
}

void net_deliver(sim_t *s, msg_t *m)
{
    s->net.in_flight--;
    if (is_gossip(m) && !net_reachable(s, m->from, m->to)) {
        net_discard(s, m); /* a partition is silence */
        return;
    }
    if (to_replica(m))
        node_receive(s, m);
    else
        client_receive(s, m);
}
