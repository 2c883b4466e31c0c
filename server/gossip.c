/*
 * gossip.c -- the replica algorithm: update acceptance, stability, causal
 * application, gossip exchange and log discard.  Pure state transitions;
 * the value and all persistence are behind the hooks (see gossip.h).
 */
#include "gossip.h"

#include <stdlib.h>
#include <string.h>

int replica_init(replica_t *r, uint32_t id, uint32_t n, const struct replica_hooks *hooks)
{
    if (n == 0 || n > VTS_MAX || id >= n)
        return -1;
    memset(r, 0, sizeof *r);
    r->id = id;
    r->n = n;
    vts_zero(&r->replica_ts, n);
    vts_zero(&r->value_ts, n);
    for (uint32_t k = 0; k < n; k++)
        vts_zero(&r->table[k], n);
    r->hooks = *hooks;
    return 0;
}

void replica_free(replica_t *r)
{
    free(r->log);
    r->log = NULL;
    r->log_len = r->log_cap = 0;
}

static int log_append(replica_t *r, const urec_t *rec)
{
    if (r->log_len == r->log_cap) {
        size_t cap = r->log_cap ? r->log_cap * 2 : 64;
        urec_t *log = realloc(r->log, cap * sizeof *log);
        if (!log)
            return -1;
        r->log = log;
        r->log_cap = cap;
    }
    r->log[r->log_len++] = *rec;
    return 0;
}

int replica_log_restore(replica_t *r, const urec_t *rec)
{
    if (rec->origin >= r->n)
        return -1;
    return log_append(r, rec);
}

bool gossip_can_answer(const vts_t *prev, const vts_t *value_ts)
{
    return vts_le(prev, value_ts);
}

bool replica_can_answer(const replica_t *r, const vts_t *prev)
{
    return gossip_can_answer(prev, &r->value_ts);
}

bool replica_find_uid(const replica_t *r, const upd_id_t *uid, upd_result_t *out)
{
    for (size_t i = 0; i < r->log_len; i++) {
        if (uid_eq(&r->log[i].uid, uid)) {
            urec_result(&r->log[i], out);
            return true;
        }
    }
    return r->hooks.executed(r->hooks.ctx, uid, out);
}

/* New movie ids come from the accepting replica and its own counter, so
 * two replicas can never hand out the same one (rating.x). */
static int assign_movie_id(const replica_t *r, uint64_t seq, uint32_t *movie)
{
    uint64_t id = RT_NEW_MOVIE_BASE + seq * VTS_MAX + r->id;
    if (id > 0x7fffffffU)
        return -1;
    *movie = (uint32_t)id;
    return 0;
}

int replica_accept(replica_t *r, const op_t *op, const vts_t *prev, const upd_id_t *uid,
                   uint64_t stamp, urec_t *out)
{
    urec_t rec;
    memset(&rec, 0, sizeof rec);
    rec.origin = r->id;
    rec.prev = *prev;
    rec.prev.n = r->n;
    rec.uid = *uid;
    rec.stamp = stamp;
    rec.op = *op;
    uint64_t seq = r->replica_ts.t[r->id] + 1;
    if (op->kind == OP_ADD_MOVIE && assign_movie_id(r, seq, &rec.op.movie) < 0)
        return RT_FULL;
    /* ts = prev with entry i replaced by the new count (the paper). */
    rec.ts = rec.prev;
    rec.ts.t[r->id] = seq;
    if (log_append(r, &rec) < 0)
        return RT_INTERNAL;
    if (r->hooks.logged(r->hooks.ctx, &rec) != 0) {
        r->log_len--;
        return RT_INTERNAL;
    }
    r->replica_ts.t[r->id] = seq;
    *out = rec;
    if (replica_apply_stable(r) < 0)
        return RT_INTERNAL;
    return RT_OK;
}

/* One pass over the log applying every record that is stable now.  A
 * record that depends on another (r2.prev >= r1.ts) only becomes stable
 * once r1 is applied, so repeating passes until nothing changes applies
 * records in an order consistent with happened-before. */
static int apply_pass(replica_t *r)
{
    int applied = 0;
    for (size_t i = 0; i < r->log_len; i++) {
        urec_t *rec = &r->log[i];
        if (rec->applied || !vts_le(&rec->prev, &r->value_ts))
            continue;
        if (r->hooks.apply(r->hooks.ctx, rec) != 0)
            return -1;
        rec->applied = true;
        vts_merge(&r->value_ts, &rec->ts);
        if (r->hooks.logged(r->hooks.ctx, rec) != 0)
            return -1;
        applied++;
    }
    return applied;
}

int replica_apply_stable(replica_t *r)
{
    int total = 0, n;
    while ((n = apply_pass(r)) > 0)
        total += n;
    if (n < 0)
        return -1;
    if (log_discard_stable(r) < 0)
        return -1;
    return total;
}

static bool record_sane(const replica_t *r, const urec_t *rec)
{
    return rec->origin < r->n && rec->ts.n <= r->n && rec->prev.n <= r->n &&
           rec->ts.t[rec->origin] > 0 && vts_le(&rec->prev, &rec->ts);
}

/* Records from one origin c form a sequence 1, 2, 3, ... (their ts[c]);
 * replica_ts[c] = m means we hold (or have applied) all of 1..m.  A sender
 * sends, in order, every record of c past what it knows we have, so each
 * new record of c is exactly replica_ts[c] + 1; anything else is a gap and
 * is ignored until a later message fills it.  That holds for our own
 * records too: a peer holds one past our count only if we lost it, and
 * taking it back is how a replica that lost state recovers (recovery.h). */
static int receive_record(replica_t *r, const urec_t *in, bool *gap)
{
    urec_t rec = *in;
    uint32_t c = rec.origin;
    uint64_t seq = rec.ts.t[c];
    if (seq <= r->replica_ts.t[c])
        return 0; /* have it */
    if (seq != r->replica_ts.t[c] + 1) {
        *gap = true;
        return 0;
    }
    rec.ts.n = rec.prev.n = r->n;
    rec.applied = false;
    if (log_append(r, &rec) < 0 || r->hooks.logged(r->hooks.ctx, &rec) != 0)
        return -1;
    r->replica_ts.t[c] = seq;
    return 1;
}

int replica_take_records(replica_t *r, const urec_t *recs, size_t nrecs)
{
    int added = 0;
    bool gap = false;
    for (size_t i = 0; i < nrecs; i++) {
        int rc = record_sane(r, &recs[i]) ? receive_record(r, &recs[i], &gap) : 0;
        if (rc < 0)
            return -1;
        added += rc;
    }
    return replica_apply_stable(r) < 0 ? -1 : added;
}

int replica_gossip_receive(replica_t *r, uint32_t from, const vts_t *their_ts,
                           const urec_t *recs, size_t nrecs, bool more)
{
    if (from >= r->n || from == r->id || their_ts->n > r->n)
        return -1;
    int added = 0;
    bool gap = false;
    for (size_t i = 0; i < nrecs; i++) {
        if (!record_sane(r, &recs[i]))
            return -1;
        int rc = receive_record(r, &recs[i], &gap);
        if (rc < 0)
            return -1;
        added += rc;
    }
    /* replica_ts rises only with the records themselves (receive_record),
     * never by merging their_ts.  Adopting a complete message's their_ts
     * assumed that a record missing from it was discarded, so at every
     * replica, us included; but the sender chose the records by what it
     * believed we hold (table[us], or our replica_ts in the call), and that
     * belief can be of an earlier incarnation of ours (a call built before
     * our new epoch reached it, a discard made before then): we then
     * counted records we neither hold nor will ever be sent again.  When
     * every belief is true adopting adds nothing: a record we lack is in
     * the sender's log (it discards only what it believes we hold) and is
     * sent in sequence.  What we lack that is in no log any more is
     * recovery's to find (recovery.h). */
    r->replica_ts.n = r->n;
    vts_merge(&r->table[from], their_ts);
    r->table[from].n = r->n;
    if (replica_apply_stable(r) < 0)
        return -1;
    return added;
}

size_t replica_gossip_select(const replica_t *r, const vts_t *their_ts, const urec_t **out,
                             size_t max, bool *more)
{
    size_t n = 0;
    *more = false;
    for (size_t i = 0; i < r->log_len; i++) {
        const urec_t *rec = &r->log[i];
        if (rec->ts.t[rec->origin] <= their_ts->t[rec->origin])
            continue;
        if (n == max) {
            *more = true;
            break;
        }
        out[n++] = rec;
    }
    return n;
}

int replica_peer_has(replica_t *r, uint32_t k, const vts_t *their_ts)
{
    if (k >= r->n)
        return -1;
    vts_merge(&r->table[k], their_ts);
    r->table[k].n = r->n;
    return log_discard_stable(r);
}

void replica_peer_reset(replica_t *r, uint32_t k, const vts_t *their_ts)
{
    if (k >= r->n || k == r->id)
        return;
    r->table[k] = *their_ts;
    r->table[k].n = r->n;
}

/* Every replica k is known to have rec: table[k][c] >= rec.ts[c] where c is
 * the record's origin.  Our own row is replica_ts. */
static bool known_everywhere(const replica_t *r, const urec_t *rec)
{
    uint32_t c = rec->origin;
    for (uint32_t k = 0; k < r->n; k++) {
        const vts_t *has = k == r->id ? &r->replica_ts : &r->table[k];
        if (has->t[c] < rec->ts.t[c])
            return false;
    }
    return true;
}

int log_discard_stable(replica_t *r)
{
    size_t keep = 0;
    int discarded = 0;
    for (size_t i = 0; i < r->log_len; i++) {
        urec_t *rec = &r->log[i];
        if (rec->applied && known_everywhere(r, rec)) {
            if (r->hooks.discarded(r->hooks.ctx, rec) != 0)
                return -1;
            discarded++;
            continue;
        }
        if (keep != i)
            r->log[keep] = *rec;
        keep++;
    }
    r->log_len = keep;
    return discarded;
}

uint64_t replica_pending(const replica_t *r)
{
    uint64_t best = 0;
    for (uint32_t k = 0; k < r->n; k++)
        if (k != r->id && r->table[k].t[r->id] > best)
            best = r->table[k].t[r->id];
    uint64_t own = r->replica_ts.t[r->id];
    return r->n == 1 ? 0 : own - (best < own ? best : own);
}
