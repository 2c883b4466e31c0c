/* recovery.c -- when a replica may hand out sequence numbers (see recovery.h). */
#include "recovery.h"

#include <stdio.h>
#include <string.h>

void recovery_init(recovery_t *r, uint32_t self, uint32_t n)
{
    memset(r, 0, sizeof *r);
    r->self = self;
    r->n = n;
}

void recovery_begin(recovery_t *r, const char *why)
{
    r->active = true;
    r->heard = 0;
    r->own_known = 0;
    r->best = r->ref = r->self;
    r->ref_sum = 0;
    vts_zero(&r->ref_ts, r->n);
    vts_zero(&r->known, r->n);
    r->rejoin = false;
    snprintf(r->why, sizeof r->why, "%s", why);
}

uint64_t recovery_waiting(const recovery_t *r)
{
    uint64_t all = r->n >= 64 ? ~0ULL : (1ULL << r->n) - 1;
    all &= ~(1ULL << r->self);
    return r->active ? all & ~r->heard : 0;
}

static enum recovery_event done(recovery_t *r)
{
    r->active = false;
    r->rejoin = false;
    return RECOVERY_DONE;
}

static uint64_t sum(const vts_t *v)
{
    uint64_t n = 0;
    for (uint32_t k = 0; k < v->n; k++)
        n += v->t[k];
    return n;
}

static enum recovery_event rejoin(recovery_t *r)
{
    if (r->rejoin || r->ref == r->self)
        return RECOVERY_NONE;
    r->rejoin = true;
    return RECOVERY_REJOIN;
}

int recovery_source(const recovery_t *r, const vts_t *ours)
{
    if (!r->active || r->rejoin || recovery_waiting(r) != 0)
        return -1;
    uint32_t k = ours->t[r->self] < r->own_known ? r->best : r->ref;
    return k == r->self ? -1 : (int)k;
}

enum recovery_event recovery_check(recovery_t *r, const vts_t *ours)
{
    if (!r->active || recovery_waiting(r) != 0 || ours->t[r->self] < r->own_known)
        return RECOVERY_NONE;
    return done(r);
}

/* What peer `from` holds: of our records (best), and in all if it is
 * whole (ref). */
static void note_peer(recovery_t *r, uint32_t from, const vts_t *their, bool whole)
{
    uint64_t held = their->t[r->self];
    r->heard |= 1ULL << from;
    vts_merge(&r->known, their);
    if (held > r->own_known || r->best == r->self) {
        r->own_known = held > r->own_known ? held : r->own_known;
        r->best = from;
    }
    if (!whole)
        return;
    if (r->ref == r->self || (from != r->ref && sum(their) > r->ref_sum)) {
        r->ref = from;
        vts_zero(&r->ref_ts, r->n);
        r->rejoin = false;
    }
    if (from == r->ref) {
        vts_merge(&r->ref_ts, their);
        r->ref_sum = sum(&r->ref_ts);
    }
}

enum recovery_event recovery_heard(recovery_t *r, uint32_t from, const vts_t *their,
                                   const vts_t *ours, bool complete, bool whole)
{
    if (from >= r->n || from == r->self)
        return RECOVERY_NONE;
    uint64_t held = their->t[r->self], have = ours->t[r->self];
    bool begun = false;
    if (!r->active) {
        /* A loss nothing local showed (recovery.h: the limit). */
        char why[sizeof r->why];
        if (held > have)
            snprintf(why, sizeof why, "replica %u holds %llu of our updates but we have %llu: "
                     "this replica lost state", from, (unsigned long long)held,
                     (unsigned long long)have);
        else if (complete && !vts_le(their, ours))
            snprintf(why, sizeof why, "replica %u holds records we lack that its log no longer "
                     "has: this replica lost state", from);
        else
            return RECOVERY_NONE;
        recovery_begin(r, why);
        begun = true;
    }
    note_peer(r, from, their, whole);
    if (recovery_waiting(r) != 0)
        return begun ? RECOVERY_BEGUN : RECOVERY_NONE;
    /* We hold all that anyone reported: nothing can be missing. */
    if (have >= r->own_known && vts_le(&r->known, ours))
        return done(r);
    if (complete && from == r->best && have < r->own_known)
        return rejoin(r); /* ours left best's log: ref has them */
    /* All that ref has past ours came: do we hold all it ever said it
     * holds?  If not, the rest left its log (known everywhere, before we
     * lost it). */
    if (complete && from == r->ref) {
        if (have >= r->own_known && vts_le(&r->ref_ts, ours))
            return done(r);
        return rejoin(r);
    }
    return begun ? RECOVERY_BEGUN : RECOVERY_NONE;
}
