/*
 * hist_rules.c -- hist_check: the rules of history.h, one key at a time.
 *
 * For each key the ok and unknown updates become nodes of a graph whose
 * edges say "x precedes y in the arbitration order" (history.h lists where
 * they come from); node 0 is the key's initial value.  Session order enters
 * through one point per session event: point e stands for "every write of
 * the session after event e", so an ok write at event e precedes all later
 * writes of its session with one edge (x -> point e), and the graph stays
 * linear in the history's size.  Only predecessor lists are kept: every
 * question the rules ask is "which nodes precede x?", a walk backwards.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "history_int.h"

struct report {
    const hist_t *h;
    FILE *f;
    int count;
};

static void violation(struct report *r, const char *rule, uint64_t key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void violation(struct report *r, const char *rule, uint64_t key, const char *fmt, ...)
{
    r->count++;
    if (!r->f)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(r->f, "%s: key %u:%u: ", rule, (uint32_t)(key >> 32), (uint32_t)key);
    vfprintf(r->f, fmt, ap);
    fputc('\n', r->f);
    va_end(ap);
}

/* ---- one key's history ------------------------------------------------- */

enum ev_kind { EV_WRITE, EV_ACK, EV_READ };

/* An update of the key (node >= 1) or its initial value (node 0). */
struct node {
    uint32_t session;
    uint32_t halves;
    uint8_t status;        /* HIST_OK or HIST_UNKNOWN */
    bool ok_at_first;      /* its first line was ok (else an EV_ACK says when) */
    uint64_t seq;          /* its first line */
    uint64_t stamp;
    upd_id_t uid;
};

/* A session's operation on the key, in seq order.  EV_ACK: a later line of
 * an update (a repeat with its uid) that was the first to be answered ok. */
struct event {
    enum ev_kind kind;
    uint32_t node;         /* EV_WRITE, EV_ACK: the update; EV_READ: the one it observed */
    uint32_t halves;       /* EV_READ */
    uint32_t ncand;        /* EV_READ: writes it may have observed */
    uint64_t seq;
};

struct session_span {
    uint32_t session;
    size_t first, n;       /* its events */
};

struct key {
    uint64_t key;
    uint32_t initial;
    struct node *nodes;
    size_t nnodes, capnodes;
    struct event *events;
    size_t nevents, capevents;
    struct session_span *spans;
    size_t nspans, capspans;
    bool single_writer;
    /* edges, then predecessor lists (CSR): vertices are the nodes and then
     * one point per event */
    uint32_t (*edges)[2];
    size_t nedges, capedges;
    size_t nvert;
    uint32_t *pred_start, *pred;
    /* nodes by value: byval[byval_start[v] .. byval_start[v + 1]) */
    uint32_t byval_start[12];
    uint32_t *byval;
    /* walks */
    uint8_t *mark_own, *mark_all, *mark_dom;
    uint32_t *stack;
};

static void key_reset(struct key *k)
{
    k->nnodes = k->nevents = k->nspans = k->nedges = 0;
    free(k->pred_start);
    free(k->pred);
    free(k->byval);
    free(k->mark_own);
    free(k->mark_all);
    free(k->mark_dom);
    free(k->stack);
    k->pred_start = k->pred = k->byval = k->stack = NULL;
    k->mark_own = k->mark_all = k->mark_dom = NULL;
}

static void key_free(struct key *k)
{
    key_reset(k);
    free(k->nodes);
    free(k->events);
    free(k->spans);
    free(k->edges);
}

static uint32_t point(const struct key *k, size_t event) { return (uint32_t)(k->nnodes + event); }

static int edge(struct key *k, uint32_t from, uint32_t to)
{
    if (hist_grow((void **)&k->edges, &k->capedges, k->nedges, sizeof *k->edges) < 0)
        return -1;
    k->edges[k->nedges][0] = from;
    k->edges[k->nedges][1] = to;
    k->nedges++;
    return 0;
}

static void describe(const struct report *r, const struct key *k, uint32_t x, char *buf,
                     size_t len)
{
    const struct node *n = &k->nodes[x];
    if (x == 0) {
        snprintf(buf, len, "the initial value %u", k->initial);
        return;
    }
    snprintf(buf, len, "%s seq=%" PRIu64 " value=%u %s uid=%" PRIu64 ":%" PRIu64 " stamp=%" PRIu64,
             r->h->names[n->session], n->seq, n->halves, hist_status_names[n->status],
             n->uid.origin, n->uid.seq, n->stamp);
}

/* ---- building the graph ----------------------------------------------- */

static int add_event(struct key *k, enum ev_kind kind, uint32_t node, uint32_t halves,
                     uint64_t seq)
{
    if (hist_grow((void **)&k->events, &k->capevents, k->nevents, sizeof *k->events) < 0)
        return -1;
    k->events[k->nevents++] = (struct event){kind, node, halves, 0, seq};
    k->spans[k->nspans - 1].n++;
    return 0;
}

/* An update line of the session whose events start at `first`: a new node,
 * or a repeat of one (same uid and value) that may make it acknowledged. */
static int add_update(struct report *r, struct key *k, const struct line *l, size_t first)
{
    if (!(l->uid.origin == 0 && l->uid.seq == 0)) {
        for (size_t e = first; e < k->nevents; e++) {
            struct node *n = &k->nodes[k->events[e].node];
            if (k->events[e].kind != EV_WRITE || !uid_eq(&n->uid, &l->uid) ||
                n->halves != l->halves)
                continue;
            if (n->stamp && l->stamp && n->stamp != l->stamp)
                violation(r, "stamps", k->key, "%s: update %" PRIu64 ":%" PRIu64 " has stamp %"
                          PRIu64 " at seq=%" PRIu64 " but %" PRIu64 " at seq=%" PRIu64,
                          r->h->names[l->session], l->uid.origin, l->uid.seq, n->stamp, n->seq,
                          l->stamp, l->seq);
            if (!n->stamp)
                n->stamp = l->stamp;
            if (n->status == HIST_OK || l->status != HIST_OK)
                return 0;
            n->status = HIST_OK;
            return add_event(k, EV_ACK, k->events[e].node, 0, l->seq);
        }
    }
    if (hist_grow((void **)&k->nodes, &k->capnodes, k->nnodes, sizeof *k->nodes) < 0)
        return -1;
    k->nodes[k->nnodes] = (struct node){l->session, l->halves, l->status,
                                        l->status == HIST_OK, l->seq, l->stamp, l->uid};
    return add_event(k, EV_WRITE, (uint32_t)k->nnodes++, 0, l->seq);
}

/* Nodes and events from the key's lines (sorted by session, then seq). */
static int collect(struct report *r, struct key *k, const struct line *lines, size_t n)
{
    if (hist_grow((void **)&k->nodes, &k->capnodes, 0, sizeof *k->nodes) < 0)
        return -1;
    k->nodes[0] = (struct node){UINT32_MAX, k->initial, HIST_OK, true, 0, 0, {0, 0}};
    k->nnodes = 1;
    for (size_t i = 0; i < n; i++) {
        const struct line *l = &lines[i];
        if (i == 0 || l->session != lines[i - 1].session) {
            if (hist_grow((void **)&k->spans, &k->capspans, k->nspans, sizeof *k->spans) < 0)
                return -1;
            k->spans[k->nspans++] = (struct session_span){l->session, k->nevents, 0};
        } else if (l->seq == lines[i - 1].seq) {
            violation(r, "history", k->key, "%s: two operations with seq=%" PRIu64,
                      r->h->names[l->session], l->seq);
        }
        int rc = 0;
        if (l->is_write && (l->status == HIST_OK || l->status == HIST_UNKNOWN))
            rc = add_update(r, k, l, k->spans[k->nspans - 1].first);
        else if (!l->is_write && l->status == HIST_OK)
            rc = add_event(k, EV_READ, 0, l->halves, l->seq);
        if (rc < 0)
            return -1;
    }
    k->single_writer = true;
    for (size_t x = 2; x < k->nnodes; x++)
        if (k->nodes[x].session != k->nodes[1].session)
            k->single_writer = false;
    return 0;
}

static int index_by_value(struct key *k)
{
    k->byval = malloc(k->nnodes * sizeof *k->byval);
    if (!k->byval)
        return -1;
    uint32_t count[12] = {0};
    for (size_t x = 0; x < k->nnodes; x++)
        count[k->nodes[x].halves + 1]++;
    k->byval_start[0] = 0;
    for (int v = 1; v < 12; v++)
        k->byval_start[v] = k->byval_start[v - 1] + count[v];
    uint32_t fill[11];
    memcpy(fill, k->byval_start, sizeof fill);
    for (size_t x = 0; x < k->nnodes; x++)
        k->byval[fill[k->nodes[x].halves]++] = (uint32_t)x;
    return 0;
}

/* The writes a read at event e of span s may have observed: the key's
 * value v from the initial state or an ok or unknown update, but not one
 * its own session issued after it.  Returns their number and, when it is
 * one, that node in *only. */
static uint32_t candidates(const struct key *k, const struct session_span *s, size_t e,
                           uint32_t v, uint32_t *only)
{
    uint32_t n = 0;
    for (uint32_t i = k->byval_start[v]; i < k->byval_start[v + 1]; i++) {
        uint32_t x = k->byval[i];
        const struct node *nd = &k->nodes[x];
        if (x != 0 && nd->session == s->session && nd->seq > k->events[e].seq)
            continue;
        *only = x;
        n++;
    }
    return n;
}

static const struct key *sort_key; /* qsort has no context argument */

static int by_lww(const void *a, const void *b)
{
    const struct node *x = &sort_key->nodes[*(const uint32_t *)a];
    const struct node *y = &sort_key->nodes[*(const uint32_t *)b];
    return lww_cmp(x->stamp, &x->uid, y->stamp, &y->uid);
}

/* Known stamps order the updates that have them. */
static int stamp_edges(struct key *k)
{
    uint32_t *with = malloc(k->nnodes * sizeof *with);
    size_t n = 0;
    if (!with)
        return -1;
    for (size_t x = 1; x < k->nnodes; x++)
        if (k->nodes[x].stamp)
            with[n++] = (uint32_t)x;
    sort_key = k;
    qsort(with, n, sizeof *with, by_lww);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (by_lww(&with[i - 1], &with[i]) < 0)
            rc = edge(k, with[i - 1], with[i]);
    free(with);
    return rc;
}

/* Is ev where the session learnt that its update was acknowledged? */
static bool acked_here(const struct key *k, const struct event *ev)
{
    return ev->kind == EV_ACK || (ev->kind == EV_WRITE && k->nodes[ev->node].ok_at_first);
}

/* Session order: the points, and what precedes each session's later writes. */
static int session_edges(struct key *k)
{
    for (size_t s = 0; s < k->nspans; s++) {
        const struct session_span *sp = &k->spans[s];
        for (size_t e = sp->first; e < sp->first + sp->n; e++) {
            const struct event *ev = &k->events[e];
            const struct event *next = e + 1 < sp->first + sp->n ? ev + 1 : NULL;
            if (next && edge(k, point(k, e), point(k, e + 1)) < 0)
                return -1;
            /* Into a write whose stamp is known, the stamps alone say where it
             * goes: the session's rule binds only a write that is applied (a
             * replica refuses one below what it follows, RT_STALE), and the
             * stamps rule checks the acknowledged ones. */
            if (next && next->kind == EV_WRITE && k->nodes[next->node].stamp == 0 &&
                edge(k, point(k, e), next->node) < 0)
                return -1;
            bool precedes_later = acked_here(k, ev) ||
                                  (ev->kind == EV_WRITE && k->single_writer) ||
                                  (ev->kind == EV_READ && ev->ncand == 1 && ev->node != 0);
            if (precedes_later && edge(k, ev->node, point(k, e)) < 0)
                return -1;
        }
    }
    return 0;
}

/* The read events' candidates, every edge, and the predecessor lists. */
static int build_graph(struct key *k)
{
    if (index_by_value(k) < 0)
        return -1;
    for (size_t s = 0; s < k->nspans; s++)
        for (size_t e = k->spans[s].first; e < k->spans[s].first + k->spans[s].n; e++)
            if (k->events[e].kind == EV_READ)
                k->events[e].ncand = candidates(k, &k->spans[s], e, k->events[e].halves,
                                                &k->events[e].node);
    for (size_t x = 1; x < k->nnodes; x++)
        if (edge(k, 0, (uint32_t)x) < 0)
            return -1;
    if (stamp_edges(k) < 0 || session_edges(k) < 0)
        return -1;
    k->nvert = k->nnodes + k->nevents;
    k->pred_start = calloc(k->nvert + 1, sizeof *k->pred_start);
    k->pred = malloc((k->nedges ? k->nedges : 1) * sizeof *k->pred);
    k->mark_own = malloc(k->nvert);
    k->mark_all = malloc(k->nvert);
    k->mark_dom = calloc(k->nvert, 1);
    k->stack = malloc(k->nvert * sizeof *k->stack);
    if (!k->pred_start || !k->pred || !k->mark_own || !k->mark_all || !k->mark_dom || !k->stack)
        return -1;
    for (size_t i = 0; i < k->nedges; i++)
        k->pred_start[k->edges[i][1] + 1]++;
    for (size_t v = 0; v < k->nvert; v++)
        k->pred_start[v + 1] += k->pred_start[v];
    uint32_t *fill = malloc(k->nvert * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, k->pred_start, k->nvert * sizeof *fill);
    for (size_t i = 0; i < k->nedges; i++)
        k->pred[fill[k->edges[i][1]]++] = k->edges[i][0];
    free(fill);
    return 0;
}

/* Mark every vertex that precedes x (x itself only on a cycle). */
static void mark_preceding(const struct key *k, uint8_t *mark, uint32_t x)
{
    size_t top = 0;
    k->stack[top++] = x;
    while (top) {
        uint32_t v = k->stack[--top];
        for (uint32_t i = k->pred_start[v]; i < k->pred_start[v + 1]; i++) {
            uint32_t p = k->pred[i];
            if (!mark[p]) {
                mark[p] = 1;
                k->stack[top++] = p;
            }
        }
    }
}

/* ---- the rules ---------------------------------------------------------- */

/* Does any candidate of the read at event e escape mark?  (When none does,
 * whatever it observed precedes what it must not.) */
static bool some_candidate_free(const struct key *k, const struct session_span *s, size_t e,
                                const uint8_t *mark)
{
    uint32_t v = k->events[e].halves;
    for (uint32_t i = k->byval_start[v]; i < k->byval_start[v + 1]; i++) {
        uint32_t x = k->byval[i];
        const struct node *nd = &k->nodes[x];
        if (x != 0 && nd->session == s->session && nd->seq > k->events[e].seq)
            continue;
        if (!mark[x])
            return true;
    }
    return false;
}

struct stamp_floor {
    bool set;
    uint32_t node;         /* the write whose (stamp, uid) later writes must pass */
    const char *why;       /* "follows" or "read" */
    uint64_t at_seq;       /* where the session learnt it */
};

static void raise_floor(const struct key *k, struct stamp_floor *f, uint32_t x, const char *why,
                        uint64_t at)
{
    const struct node *n = &k->nodes[x];
    if (x == 0 || !n->stamp)
        return;
    if (f->set) {
        const struct node *m = &k->nodes[f->node];
        if (lww_cmp(n->stamp, &n->uid, m->stamp, &m->uid) <= 0)
            return;
    }
    *f = (struct stamp_floor){true, x, why, at};
}

static void check_stamp(struct report *r, const struct key *k, const struct stamp_floor *f,
                        uint32_t x)
{
    const struct node *n = &k->nodes[x], *m = &k->nodes[f->node];
    if (!f->set || !n->stamp || lww_cmp(n->stamp, &n->uid, m->stamp, &m->uid) > 0)
        return;
    char a[200], b[200];
    describe(r, k, x, a, sizeof a);
    describe(r, k, f->node, b, sizeof b);
    violation(r, "stamps", k->key, "%s is not above %s, which %s at seq=%" PRIu64, a, b,
              strcmp(f->why, "read") == 0 ? "the session read" : "it follows", f->at_seq);
}

static void check_read(struct report *r, const struct key *k, const struct session_span *s,
                       size_t e)
{
    const struct event *ev = &k->events[e];
    const char *who = r->h->names[s->session];
    if (ev->ncand == 0) {
        violation(r, "reads", k->key, "%s seq=%" PRIu64 " read %u, which neither the initial "
                  "value (%u) nor any ok or unknown write before it has", who, ev->seq,
                  ev->halves, k->initial);
        return;
    }
    const char *rule = !some_candidate_free(k, s, e, k->mark_own) ? "read-your-writes"
                       : !some_candidate_free(k, s, e, k->mark_all) ? "monotonic-reads"
                                                                     : NULL;
    if (!rule)
        return;
    char what[200] = "";
    if (ev->ncand == 1)
        describe(r, k, ev->node, what, sizeof what);
    violation(r, rule, k->key, "%s seq=%" PRIu64 " read %u%s%s, older than what %s", who,
              ev->seq, ev->halves, ev->ncand == 1 ? ": " : "", what,
              rule[0] == 'r' ? "it wrote before" : "it read before");
}

/* Walk one session's events in order: reads against what the session has
 * written and read so far; stamps against what its writes follow. */
static void check_session(struct report *r, const struct key *k, const struct session_span *s)
{
    struct stamp_floor floor = {false, 0, NULL, 0};
    memset(k->mark_own, 0, k->nvert);
    memset(k->mark_all, 0, k->nvert);
    for (size_t e = s->first; e < s->first + s->n; e++) {
        const struct event *ev = &k->events[e];
        bool acked = acked_here(k, ev);
        if (ev->kind == EV_READ) {
            check_read(r, k, s, e);
            if (ev->ncand == 1) {
                mark_preceding(k, k->mark_all, ev->node);
                raise_floor(k, &floor, ev->node, "read", ev->seq);
            }
            continue;
        }
        /* (an unknown write below the floor is no violation: no replica that
         * has seen what it follows applies it, RT_STALE) */
        if (ev->kind == EV_WRITE && k->nodes[ev->node].status == HIST_OK)
            check_stamp(r, k, &floor, ev->node);
        if (acked) {
            mark_preceding(k, k->mark_own, ev->node);
            mark_preceding(k, k->mark_all, ev->node);
        }
        if (acked || (ev->kind == EV_WRITE && k->single_writer))
            raise_floor(k, &floor, ev->node, "follows", ev->seq);
    }
}

/* Convergence, and each final value against the writes that may be last. */
static void check_finals(struct report *r, struct key *k, const struct fact *f, size_t nf)
{
    if (nf == 0)
        return;
    char held[512] = "";
    size_t len = 0;
    bool differ = false;
    for (size_t i = 0; i < nf; i++) {
        differ |= f[i].halves != f[0].halves;
        if (len < sizeof held - 32)
            len += (size_t)snprintf(held + len, sizeof held - len, "%sreplica %u has %u",
                                    i ? ", " : "", f[i].replica, f[i].halves);
    }
    if (differ)
        violation(r, "convergence", k->key, "%s", held);
    /* what an ok write follows cannot be last */
    for (size_t x = 0; x < k->nnodes; x++)
        if (k->nodes[x].status == HIST_OK && x != 0)
            mark_preceding(k, k->mark_dom, (uint32_t)x);
    for (size_t i = 0; i < nf; i++) {
        uint32_t v = f[i].halves;
        bool seen = false, possible = false;
        for (size_t j = 0; j < i; j++)
            seen |= f[j].halves == v;
        for (uint32_t j = k->byval_start[v]; j < k->byval_start[v + 1] && !seen; j++)
            possible |= !k->mark_dom[k->byval[j]];
        if (seen || possible)
            continue;
        char last[400] = "", had[400] = "";
        size_t ll = 0, hl = 0;
        for (size_t x = 1; x < k->nnodes && ll < sizeof last - 210; x++)
            if (k->nodes[x].status == HIST_OK && !k->mark_dom[x]) {
                if (ll)
                    last[ll++] = ';', last[ll++] = ' ';
                describe(r, k, (uint32_t)x, last + ll, sizeof last - ll);
                ll = strlen(last);
            }
        for (uint32_t j = k->byval_start[v]; j < k->byval_start[v + 1] && hl < sizeof had - 210;
             j++) {
            if (hl)
                had[hl++] = ';', had[hl++] = ' ';
            describe(r, k, k->byval[j], had + hl, sizeof had - hl);
            hl = strlen(had);
        }
        char who[128] = "";
        size_t wl = 0;
        for (size_t j = i; j < nf && wl < sizeof who - 12; j++)
            if (f[j].halves == v)
                wl += (size_t)snprintf(who + wl, sizeof who - wl, "%s%u", wl ? "," : "",
                                       f[j].replica);
        violation(r, "final", k->key, "replicas %s end with %u, but %s must come last (%s"
                  "%s%s)", who, v, ll ? last : "no write", k->single_writer
                  ? "single writer" : "several writers", hl ? "; it is the value of " : "",
                  hl ? had : "; no write has that value");
    }
}

/* The key's initial value from the sorted initial facts; two different
 * ones are a malformed history. */
static uint32_t initial_of(struct report *r, const hist_t *h, uint64_t key, size_t *at)
{
    while (*at < h->ninitials && h->initials[*at].key < key)
        (*at)++;
    uint32_t v = 0;
    for (size_t i = *at; i < h->ninitials && h->initials[i].key == key; i++) {
        if (i > *at && h->initials[i].halves != v)
            violation(r, "history", key, "two initial values, %u and %u", v,
                      h->initials[i].halves);
        v = h->initials[i].halves;
    }
    return v;
}

/* Finals of one replica for one key must agree; keep one of each. */
static size_t dedup_finals(struct report *r, struct fact *f, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out && f[out - 1].replica == f[i].replica) {
            if (f[out - 1].halves != f[i].halves)
                violation(r, "history", f[i].key, "replica %u has two final values, %u and %u",
                          f[i].replica, f[out - 1].halves, f[i].halves);
            continue;
        }
        f[out++] = f[i];
    }
    return out;
}

static int check_key(struct report *r, struct key *k, const struct line *lines, size_t nl,
                     struct fact *finals, size_t nf)
{
    key_reset(k);
    if (collect(r, k, lines, nl) < 0 || build_graph(k) < 0)
        return -1;
    for (size_t s = 0; s < k->nspans; s++)
        check_session(r, k, &k->spans[s]);
    check_finals(r, k, finals, dedup_finals(r, finals, nf));
    return 0;
}

/* ---- across keys ---------------------------------------------------------- */

static int by_key_session_seq(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->session != y->session)
        return x->session < y->session ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int by_key_replica(const void *a, const void *b)
{
    const struct fact *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->replica > y->replica) - (x->replica < y->replica);
}

static int by_uid(const void *a, const void *b)
{
    const struct line *x = *(const struct line *const *)a, *y = *(const struct line *const *)b;
    int c = lww_cmp(0, &x->uid, 0, &y->uid);
    if (c)
        return c;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->halves > y->halves) - (x->halves < y->halves);
}

/* One update id acknowledged for two different updates. */
static int check_uids(struct report *r, const hist_t *h)
{
    const struct line **w = malloc((h->nlines ? h->nlines : 1) * sizeof *w);
    size_t n = 0;
    if (!w)
        return -1;
    for (size_t i = 0; i < h->nlines; i++)
        if (h->lines[i].is_write && h->lines[i].status == HIST_OK &&
            !(h->lines[i].uid.origin == 0 && h->lines[i].uid.seq == 0))
            w[n++] = &h->lines[i];
    qsort(w, n, sizeof *w, by_uid);
    for (size_t i = 1; i < n; i++)
        if (uid_eq(&w[i]->uid, &w[i - 1]->uid) &&
            (w[i]->key != w[i - 1]->key || w[i]->halves != w[i - 1]->halves))
            violation(r, "uid", w[i]->key, "update %" PRIu64 ":%" PRIu64 " acknowledged for "
                      "value %u of key %u:%u (%s seq=%" PRIu64 ") and for value %u here (%s seq=%"
                      PRIu64 ")", w[i]->uid.origin, w[i]->uid.seq, w[i - 1]->halves,
                      (uint32_t)(w[i - 1]->key >> 32), (uint32_t)w[i - 1]->key,
                      h->names[w[i - 1]->session], w[i - 1]->seq, w[i]->halves,
                      h->names[w[i]->session], w[i]->seq);
    free(w);
    return 0;
}

int hist_check(hist_t *h, FILE *report)
{
    struct report r = {h, report, 0};
    struct key k;
    memset(&k, 0, sizeof k);
    /* (qsort may not be given a null array, even an empty one) */
    if (h->nlines)
        qsort(h->lines, h->nlines, sizeof *h->lines, by_key_session_seq);
    if (h->nfinals)
        qsort(h->finals, h->nfinals, sizeof *h->finals, by_key_replica);
    if (h->ninitials)
        qsort(h->initials, h->ninitials, sizeof *h->initials, by_key_replica);
    int rc = check_uids(&r, h);
    size_t li = 0, fi = 0, ii = 0;
    while (rc == 0 && (li < h->nlines || fi < h->nfinals)) {
        uint64_t key = li < h->nlines ? h->lines[li].key : UINT64_MAX;
        if (fi < h->nfinals && h->finals[fi].key < key)
            key = h->finals[fi].key;
        size_t l0 = li, f0 = fi;
        while (li < h->nlines && h->lines[li].key == key)
            li++;
        while (fi < h->nfinals && h->finals[fi].key == key)
            fi++;
        k.key = key;
        k.initial = initial_of(&r, h, key, &ii);
        rc = check_key(&r, &k, h->lines + l0, li - l0, h->finals + f0, fi - f0);
    }
    key_free(&k);
    return rc < 0 ? -1 : r.count;
}
