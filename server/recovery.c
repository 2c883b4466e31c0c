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
    r->best = r->self;
    r->rejoin = false;
    snprintf(r->why, sizeof r->why, "%s", why);
}

uint64_t recovery_waiting(const recovery_t *r)
{
    uint64_t all = r->n >= 64 ? ~0ULL : (1ULL << r->n) - 1;
    all &= ~(1ULL << r->self);
    return r->active ? all & ~r->heard : 0;
}

enum recovery_event recovery_check(recovery_t *r, const vts_t *ours)
{
    if (!r->active || recovery_waiting(r) != 0 || ours->t[r->self] < r->own_known)
        return RECOVERY_NONE;
    r->active = false;
    r->rejoin = false;
    return RECOVERY_DONE;
}

enum recovery_event recovery_heard(recovery_t *r, uint32_t from, const vts_t *their,
                                   const vts_t *ours, bool complete)
{
    if (from >= r->n || from == r->self)
        return RECOVERY_NONE;
    uint64_t held = their->t[r->self], have = ours->t[r->self];
    bool begun = false;
    if (!r->active) {
        if (held <= have)
            return RECOVERY_NONE;
        /* A loss nothing local showed (recovery.h: the limit). */
        char why[sizeof r->why];
        snprintf(why, sizeof why, "replica %u holds %llu of our updates but we have %llu: "
                 "this replica lost state", from, (unsigned long long)held,
                 (unsigned long long)have);
        recovery_begin(r, why);
        begun = true;
    }
    r->heard |= 1ULL << from;
    if (held > r->own_known) {
        r->own_known = held;
        r->best = from;
        r->rejoin = false;
    }
    if (recovery_check(r, ours) == RECOVERY_DONE)
        return RECOVERY_DONE;
    if (recovery_waiting(r) == 0) {
        /* All that best had for us came, and ours are still short: they
         * left its log (known everywhere, before we lost them). */
        if (complete && from == r->best && !r->rejoin) {
            r->rejoin = true;
            return RECOVERY_REJOIN;
        }
    }
    return begun ? RECOVERY_BEGUN : RECOVERY_NONE;
}
