/*
 * client.c -- the simulated clients: sessions as client/commands.c and
 * client/session.c run them, behind front ends as frontend/forward.c and
 * frontend/route.c serve them, and the history they leave for the checker.
 *
 * A session does one operation at a time: it reads a key, or writes it
 * (SUBMIT a rating it believes absent, UPDATE or DELETE one it believes
 * there), then thinks a little.  Each session has keys of its own (it alone
 * writes them) and shares a few with everyone.  Values are chosen unused on
 * the key while the rating scale allows, so a read names the write it saw.
 *
 * The session's prev is the merge of the ts of every reply; an update's id
 * is the session's (origin, seq), seq moving on once an update's outcome
 * is known; after an unknown one the session may repeat the same update
 * with the same id, as the CLI's shell does (client/session.c).
 *
 * The front end (forward.c) sends the request -- the same bytes, so the
 * same uid -- to one replica after another: the sticky one first, replicas
 * that failed or were busy lately last (route.c: rank); a call that gets no
 * answer within FE_TIMEOUT, a refused connection, or RT_NOT_READY,
 * RT_OVERLOADED, RT_OFFLINE, RT_INTERNAL sends it to the next.  After a
 * round it waits (doubling) and goes round again until FE_WAIT has passed,
 * then answers RT_UNAVAILABLE.
 *
 * What the history records of an update: ok when the answer was RT_OK;
 * unknown when some copy of the request may still be handled, or was
 * handled with RT_OK, without the front end seeing it (a late copy, a lost
 * reply); fail otherwise (every copy was refused or lost before it
 * arrived).  The simulator knows this; a real client would log unknown
 * for every time-out.
 *
 * Stamps (rating.x: whoever picks the id picks the stamp): a new update's
 * is the session's clock in ms, above every stamp it used or was told of
 * (next_stamp); a repeat keeps its id and stamp.  RT_STALE (a later write
 * is there; the front end passes it on only when no copy can have been
 * applied) makes the session send the update again at once with a new id
 * and a stamp above the one returned, up to three times, as commands.c
 * does; each attempt is a line of the history.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "validate.h"
#include "wire.h"

#define THINK_MAX (20 * MS)
#define ROUND_DELAY_MIN (2 * MS)  /* forward.c: 20 ms doubling to 200 */
#define ROUND_DELAY_MAX (20 * MS)
#define BACKOFF_FAILED (25 * MS)  /* route.c: 500 ms, busy 100 ms, at most 5 s */
#define BACKOFF_BUSY (5 * MS)
#define BACKOFF_MAX (250 * MS)

enum outcome { ROUTE_OK, ROUTE_BUSY, ROUTE_FAILED };

static session_t *session_of(sim_t *s, uint64_t op) { return &s->sess[s->ops[op].session]; }

/* ---- keys and what a session does --------------------------------------------- */

static void add_key(sim_t *s, uint32_t user, uint32_t movie, int owner)
{
    simkey_t *k = &s->keys[s->nkeys++];
    *k = (simkey_t){user, movie, owner, node_value(s, 0, user, movie), 0};
    hist_initial(s->hist, user, movie, k->initial);
}

void clients_init(sim_t *s)
{
    s->nfe = (uint32_t)prng_range(&s->rng, 1, SIM_MAX_FE);
    for (uint32_t f = 0; f < s->nfe; f++) {
        memset(&s->fe[f], 0, sizeof s->fe[f]);
        s->fe[f].sticky = (uint32_t)prng_below(&s->rng, s->n);
        for (uint32_t k = 0; k < s->n; k++)
            vts_zero(&s->fe[f].value_ts[k], s->n);
    }
    s->nsessions = (uint32_t)prng_range(&s->rng, 2, 6);
    s->nkeys = 0;
    for (uint32_t i = 0; i < s->nsessions; i++)
        for (uint32_t m = 1; m <= 2; m++)
            add_key(s, 70001 + i, m, (int)i);
    add_key(s, 1, 1, -1); /* in the data set */
    add_key(s, 1, 3, -1);
    add_key(s, 80001, 4, -1);
    for (uint32_t i = 0; i < s->nsessions; i++) {
        session_t *c = &s->sess[i];
        memset(c, 0, sizeof *c);
        c->id = i;
        snprintf(c->name, sizeof c->name, "s%u", i);
        c->fe = i % s->nfe;
        vts_zero(&c->prev, s->n);
        if ((s->active & 1u << F_CLOCK) && prng_chance(&s->rng, 0.5))
            c->skew_ms = (int64_t)prng_range(&s->rng, 0, 2 * 3600 * 1000) - 3600 * 1000;
        c->uid = (upd_id_t){0x5100 + i, 1};
        c->seq = 1;
        for (uint32_t k = 0; k < s->nkeys; k++)
            c->believed[k] = s->keys[k].initial != 0;
        sim_at(s, prng_range(&s->rng, 0, THINK_MAX), EV_SESSION_NEXT, i, 0, 0, NULL);
    }
}

/* A value not yet written to the key, while there is one. */
static uint32_t pick_value(sim_t *s, simkey_t *k)
{
    uint32_t free_values[10], n = 0;
    for (uint32_t v = 1; v <= 10; v++)
        if (!(k->used & 1u << v))
            free_values[n++] = v;
    uint32_t v = n ? free_values[prng_below(&s->rng, n)] : (uint32_t)prng_range(&s->rng, 1, 10);
    k->used |= (uint16_t)(1u << v);
    return v;
}

/* Own keys mostly; shared ones; for reads also the others' own keys. */
static uint32_t pick_key(sim_t *s, const session_t *c, bool write)
{
    uint32_t shared0 = 2 * s->nsessions, nshared = s->nkeys - shared0;
    double x = prng_unit(&s->rng);
    if (x < (write ? 0.7 : 0.5))
        return 2 * c->id + (uint32_t)prng_below(&s->rng, 2);
    if (x < (write ? 1.0 : 0.8))
        return shared0 + (uint32_t)prng_below(&s->rng, nshared);
    return (uint32_t)prng_below(&s->rng, shared0);
}

/* The stamp of a new update (client/session.c: fresh_stamp): the session's
 * clock, above every stamp it used or was told of and above `after`. */
static uint64_t next_stamp(const sim_t *s, session_t *c, uint64_t after)
{
    uint64_t clock = (uint64_t)((int64_t)(SIM_EPOCH_MS + s->now / MS) + c->skew_ms);
    uint64_t floor = c->stamp_last > after ? c->stamp_last : after;
    c->stamp_last = clock > floor ? clock : floor + 1;
    return c->stamp_last;
}

/* The next operation: c->kind, key, and for an update upd, upd_uid and
 * stamp (a repeat keeps all three). */
static void choose(sim_t *s, session_t *c)
{
    c->restamps = 0;
    c->repeat = c->last_unknown && prng_chance(&s->rng, 0.5);
    if (c->repeat) {
        sim_trace(s, "%s repeats its unanswered update with its uid", c->name);
        return; /* the same kind, key, upd, uid and stamp */
    }
    if (c->last_unknown)
        c->uid.seq++; /* another update: the unanswered one keeps its id */
    c->last_unknown = false;
    bool write = prng_chance(&s->rng, 0.65);
    c->key = pick_key(s, c, write);
    simkey_t *k = &s->keys[c->key];
    if (!write) {
        c->kind = M_QUERY;
        return;
    }
    int present = c->believed[c->key];
    if (present < 0)
        present = prng_chance(&s->rng, 0.5);
    memset(&c->upd, 0, sizeof c->upd);
    c->upd.user = k->user;
    c->upd.movie = k->movie;
    if (present && prng_chance(&s->rng, 0.25)) {
        c->kind = M_UPDATE;
        c->upd.kind = OP_DELETE;
    } else {
        c->kind = present ? M_UPDATE : M_SUBMIT;
        c->upd.kind = OP_RATE;
        c->upd.halves = pick_value(s, k);
    }
    c->upd_uid = c->uid;
    c->stamp = next_stamp(s, c, 0);
}

/* ---- requests and replies: the one place they are built and read ------------ */

static char *build_update(const session_t *c, size_t *len)
{
    rt_update_args a;
    memset(&a, 0, sizeof a);
    a.uid.origin = c->upd_uid.origin;
    a.uid.seq = c->upd_uid.seq;
    a.stamp = c->stamp;
    char *buf = NULL;
    if (vts_to_xdr(&a.prev, &c->prev) == 0 && op_to_xdr(&a.op, &c->upd) == 0)
        buf = wire_encode((xdrproc_t)xdr_rt_update_args, &a, len);
    xdr_free((xdrproc_t)xdr_rt_update_args, (char *)&a);
    return buf;
}

static char *build_query(const sim_t *s, const session_t *c, size_t *len)
{
    rt_query_args a;
    memset(&a, 0, sizeof a);
    a.q.kind = Q_RATING;
    a.q.rt_query_u.key.user = s->keys[c->key].user;
    a.q.rt_query_u.key.movie = s->keys[c->key].movie;
    char *buf = NULL;
    if (vts_to_xdr(&a.prev, &c->prev) == 0)
        buf = wire_encode((xdrproc_t)xdr_rt_query_args, &a, len);
    free(a.prev.rt_vts_val);
    return buf;
}

/* What a reply says: its status, timestamp and (queries) value. */
struct answer {
    rt_status status;
    vts_t ts;
    bool have_ts;
    uint32_t halves;
    uint64_t stamp;        /* updates: the update's (RT_OK), the later write's (RT_STALE) */
};

static int read_reply(const msg_t *m, struct answer *out)
{
    memset(out, 0, sizeof *out);
    if (m->kind == M_UPDATE_RES) {
        rt_update_res r;
        if (wire_decode((xdrproc_t)xdr_rt_update_res, m->buf, m->len, &r, sizeof r) < 0)
            return -1;
        out->status = r.status;
        out->have_ts = vts_from_xdr(&out->ts, &r.ts) == RT_OK;
        out->stamp = r.stamp;
        xdr_free((xdrproc_t)xdr_rt_update_res, (char *)&r);
        return 0;
    }
    rt_query_res r;
    if (wire_decode((xdrproc_t)xdr_rt_query_res, m->buf, m->len, &r, sizeof r) < 0)
        return -1;
    out->status = r.status;
    out->have_ts = vts_from_xdr(&out->ts, &r.ts) == RT_OK;
    if (r.status == RT_OK && r.result.present && r.result.rt_answer_opt_u.answer.kind == Q_RATING)
        out->halves = r.result.rt_answer_opt_u.answer.rt_answer_u.halves;
    xdr_free((xdrproc_t)xdr_rt_query_res, (char *)&r);
    return 0;
}

/* ---- the front end (forward.c, route.c) --------------------------------------------- */

static bool try_another(rt_status st)
{
    return st == RT_NOT_READY || st == RT_OVERLOADED || st == RT_OFFLINE || st == RT_INTERNAL;
}

static unsigned rank(const sim_t *s, const front_end_t *fe, uint32_t k, const session_t *c)
{
    unsigned r = (k + s->n - fe->sticky) % s->n;
    if (c->kind == M_QUERY && !vts_le(&c->prev, &fe->value_ts[k]))
        r += VTS_MAX;
    if (fe->avoid_until[k] > s->now)
        r += 2 * VTS_MAX;
    return r;
}

static void route_order(sim_t *s, session_t *c)
{
    const front_end_t *fe = &s->fe[c->fe];
    unsigned ranks[SIM_MAX_REPLICAS];
    for (uint32_t k = 0; k < s->n; k++) {
        ranks[k] = rank(s, fe, k, c);
        c->order[k] = k;
    }
    for (uint32_t i = 1; i < s->n; i++)
        for (uint32_t j = i; j > 0 && ranks[c->order[j]] < ranks[c->order[j - 1]]; j--) {
            uint32_t t = c->order[j];
            c->order[j] = c->order[j - 1];
            c->order[j - 1] = t;
        }
}

static void route_report(sim_t *s, front_end_t *fe, uint32_t k, enum outcome o, const vts_t *ts)
{
    if (ts)
        vts_merge(&fe->value_ts[k], ts);
    if (o == ROUTE_OK) {
        fe->backoff[k] = 0;
        fe->avoid_until[k] = 0;
        fe->sticky = k;
        return;
    }
    uint64_t base = o == ROUTE_FAILED ? BACKOFF_FAILED : BACKOFF_BUSY;
    fe->backoff[k] = fe->backoff[k] ? fe->backoff[k] * 2 : base;
    if (fe->backoff[k] > BACKOFF_MAX)
        fe->backoff[k] = BACKOFF_MAX;
    fe->avoid_until[k] = s->now + fe->backoff[k];
}

static void finish(sim_t *s, session_t *c, const struct answer *a);

static void try_next(sim_t *s, session_t *c)
{
    if (c->tried == s->n) {
        if (s->now + c->round_delay > c->deadline) {
            struct answer none = {.status = RT_UNAVAILABLE};
            finish(s, c, &none);
            return;
        }
        sim_at(s, c->round_delay, EV_FE_ROUND, c->id, 0, c->op, NULL);
        c->round_delay = c->round_delay * 2 > ROUND_DELAY_MAX ? ROUND_DELAY_MAX
                                                              : c->round_delay * 2;
        return;
    }
    uint32_t k = c->order[c->tried++];
    char *buf = malloc(c->args_len);
    if (!buf)
        sim_die(s, "out of memory");
    memcpy(buf, c->args, c->args_len);
    c->call = ++s->next_call;
    c->target = k;
    msg_t *m = msg_new(s, c->kind, SIM_FE0 + c->fe, k, c->call, buf, c->args_len);
    m->op = c->op;
    client_copy_sent(s, c->op);
    sim_at(s, FE_TIMEOUT, EV_FE_DEADLINE, c->id, 0, c->call, NULL);
    sim_trace(s, "fe%u: %s's call %llu to r%u", c->fe, c->name, (unsigned long long)c->call, k);
    net_send(s, m);
}

static void start_round(sim_t *s, session_t *c)
{
    route_order(s, c);
    c->tried = 0;
    try_next(s, c);
}

void client_round(sim_t *s, uint32_t i, uint64_t op)
{
    session_t *c = &s->sess[i];
    if (c->busy && c->op == op && c->call == 0)
        start_round(s, c);
}

void client_deadline(sim_t *s, uint32_t i, uint64_t call)
{
    session_t *c = &s->sess[i];
    if (!c->busy || c->call != call)
        return;
    sim_trace(s, "fe%u: call %llu to r%u timed out", c->fe, (unsigned long long)call, c->target);
    if (s->ops[c->op].handled_call == call) {
        s->st.late_copies++; /* the next replica gets a second copy of a handled request */
        sim_trace(s, "fe%u: r%u had handled call %llu: its answer is late", c->fe, c->target,
                  (unsigned long long)call);
    }
    c->call = 0;
    c->maybe_applied = true; /* forward.c: the call may have reached its replica */
    route_report(s, &s->fe[c->fe], c->target, ROUTE_FAILED, NULL);
    try_next(s, c);
}

void client_receive(sim_t *s, msg_t *m)
{
    session_t *c = session_of(s, m->op);
    struct answer a;
    if (!c->busy || c->call != m->call) {
        net_discard(s, m); /* an answer to a call the front end gave up on */
        return;
    }
    c->call = 0;
    front_end_t *fe = &s->fe[c->fe];
    if (m->kind == M_REFUSED) {
        sim_trace(s, "fe%u: r%u %s call %llu", c->fe, c->target,
                  m->reset ? "lost the connection of" : "refused", (unsigned long long)m->call);
        c->maybe_applied |= m->reset; /* a reset after the call went out: it may have */
        route_report(s, fe, c->target, ROUTE_FAILED, NULL);
        net_discard(s, m);
        try_next(s, c);
        return;
    }
    if (read_reply(m, &a) < 0)
        sim_die(s, "fe%u: undecodable reply", c->fe);
    net_discard(s, m);
    if (try_another(a.status)) {
        sim_trace(s, "fe%u: r%u answers %s", c->fe, c->target, status_text(a.status));
        route_report(s, fe, c->target, ROUTE_BUSY, a.have_ts ? &a.ts : NULL);
        try_next(s, c);
        return;
    }
    route_report(s, fe, c->target, ROUTE_OK, a.have_ts ? &a.ts : NULL);
    if (a.status == RT_STALE && c->maybe_applied) {
        /* forward.c: a copy may be applied (and superseded): not known */
        struct answer unknown = {.status = RT_UNAVAILABLE};
        finish(s, c, &unknown);
        return;
    }
    finish(s, c, &a);
}

/* ---- operations ----------------------------------------------------------------- */

void client_copy_sent(sim_t *s, uint64_t op) { s->ops[op].pending++; }

void client_copy_gone(sim_t *s, uint64_t op) { s->ops[op].pending--; }

void client_copy_handled(sim_t *s, const msg_t *m, rt_status st)
{
    op_rec_t *o = &s->ops[m->op];
    session_t *c = session_of(s, m->op);
    o->pending--;
    o->handled_call = m->call;
    if (o->write && st == RT_OK)
        o->applied = true;
    if (!(c->busy && c->op == m->op && c->call == m->call)) {
        s->st.late_copies++;
        sim_trace(s, "r%u handles a late copy of %s's call %llu: %s", m->to, c->name,
                  (unsigned long long)m->call, status_text(st));
    }
}

/* Send the session's chosen operation through its front end. */
static void start(sim_t *s, session_t *c)
{
    if (s->nops == s->capops) {
        size_t cap = s->capops ? 2 * s->capops : 256;
        op_rec_t *ops = realloc(s->ops, cap * sizeof *ops);
        if (!ops)
            sim_die(s, "out of memory");
        s->ops = ops;
        s->capops = cap;
    }
    s->ops[s->nops] = (op_rec_t){c->id, c->kind != M_QUERY, 0, false, 0};
    c->op = s->nops++;
    c->args = c->kind == M_QUERY ? build_query(s, c, &c->args_len) : build_update(c, &c->args_len);
    if (!c->args)
        sim_die(s, "cannot encode a request");
    c->busy = true;
    c->maybe_applied = false;
    c->t0 = s->now;
    c->deadline = s->now + FE_WAIT;
    c->round_delay = ROUND_DELAY_MIN;
    const simkey_t *k = &s->keys[c->key];
    if (c->kind == M_QUERY)
        sim_trace(s, "%s reads %u:%u", c->name, k->user, k->movie);
    else
        sim_trace(s, "%s %s %u:%u = %u (uid %llu:%llu, stamp %llu)", c->name,
                  c->kind == M_SUBMIT ? "submits" : c->upd.kind == OP_DELETE ? "deletes"
                                                                             : "updates",
                  k->user, k->movie, c->upd.kind == OP_DELETE ? 0 : c->upd.halves,
                  (unsigned long long)c->upd_uid.origin, (unsigned long long)c->upd_uid.seq,
                  (unsigned long long)c->stamp);
    start_round(s, c);
}

void client_next(sim_t *s, uint32_t i)
{
    session_t *c = &s->sess[i];
    if (c->busy || s->issued >= s->par->steps)
        return;
    s->issued++;
    choose(s, c);
    start(s, c);
}

/* Record the operation's outcome; what the session now believes of the key. */
static void record_outcome(sim_t *s, session_t *c, const struct answer *a)
{
    const simkey_t *k = &s->keys[c->key];
    const op_rec_t *o = &s->ops[c->op];
    hist_op_t h = {.session = c->name, .seq = c->seq++, .user = k->user, .movie = k->movie,
                   .t0 = c->t0 / MS, .t1 = s->now / MS};
    const char *what;
    if (c->kind == M_QUERY) {
        bool ok = a->status == RT_OK || a->status == RT_NOT_FOUND;
        h.status = ok ? HIST_OK : HIST_FAIL;
        h.halves = a->status == RT_OK ? a->halves : 0;
        if (ok)
            c->believed[c->key] = h.halves != 0;
        if (hist_read(s->hist, &h) < 0)
            sim_die(s, "out of memory");
        s->st.reads++;
        what = ok ? "read" : "read failed";
    } else {
        h.halves = c->upd.kind == OP_DELETE ? 0 : c->upd.halves;
        h.uid_origin = c->upd_uid.origin;
        h.uid_seq = c->upd_uid.seq;
        h.stamp = a->status == RT_OK && a->stamp ? a->stamp : c->stamp;
        h.status = a->status == RT_OK                ? HIST_OK
                   : o->pending || o->applied        ? HIST_UNKNOWN
                   : a->status == RT_STALE           ? HIST_STALE
                                                     : HIST_FAIL;
        c->believed[c->key] = h.status == HIST_OK ? h.halves != 0
                              : a->status == RT_NOT_FOUND ? 0
                              : a->status == RT_EXISTS ? 1 : -1;
        if (a->stamp > c->stamp_last) /* commands.c: above every stamp it was told of */
            c->stamp_last = a->stamp;
        if (hist_write(s->hist, &h) < 0)
            sim_die(s, "out of memory");
        s->st.writes++;
        /* client/session.c: an answered update moves the id on */
        if (a->status != RT_UNAVAILABLE)
            c->uid.seq++;
        c->last_unknown = a->status == RT_UNAVAILABLE;
        what = h.status == HIST_OK ? "ok" : h.status == HIST_UNKNOWN ? "unknown"
               : h.status == HIST_STALE ? "stale" : "failed";
    }
    s->st.ops++;
    char ts[VTS_MAX * 22 + 4] = "";
    if (a->have_ts)
        vts_format(&a->ts, ts, sizeof ts);
    sim_trace(s, "%s: %s %u:%u value %u (%s%s%u%s%s)", c->name, what, k->user, k->movie,
              h.halves, status_text(a->status), a->status == RT_UNAVAILABLE ? "" : " at r",
              a->status == RT_UNAVAILABLE ? 0 : c->target, ts[0] ? " ts " : "", ts);
}

static void finish(sim_t *s, session_t *c, const struct answer *a)
{
    if (a->have_ts) /* every reply's ts into prev (commands.c: take_ts) */
        vts_merge(&c->prev, &a->ts);
    record_outcome(s, c, a);
    free(c->args);
    c->args = NULL;
    c->busy = false;
    /* commands.c: RT_STALE for an update of a fresh id that nothing else can
     * have applied: a new id with a stamp above the later write's */
    if (a->status == RT_STALE && c->kind != M_QUERY && !c->repeat && c->restamps < 3) {
        c->restamps++;
        c->upd_uid = c->uid; /* moved on: the stale one was answered */
        c->stamp = next_stamp(s, c, a->stamp);
        sim_trace(s, "%s writes again with a new id and a later stamp", c->name);
        start(s, c);
        return;
    }
    sim_at(s, prng_range(&s->rng, 0, THINK_MAX), EV_SESSION_NEXT, c->id, 0, 0, NULL);
}

bool clients_idle(const sim_t *s)
{
    for (uint32_t i = 0; i < s->nsessions; i++)
        if (s->sess[i].busy)
            return false;
    return s->issued >= s->par->steps;
}

void clients_free(sim_t *s)
{
    for (uint32_t i = 0; i < s->nsessions; i++) {
        free(s->sess[i].args);
        s->sess[i].args = NULL;
        s->sess[i].busy = false;
    }
    free(s->ops);
    s->ops = NULL;
    s->nops = s->capops = 0;
}
