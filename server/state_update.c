/*
 * state_update.c -- updates (state.h: state_update): the checks an update
 * passes in the order they apply (update_locked), the stamp rule of
 * last-writer-wins, and the step that accepts it (docs/algorithm.md).
 */
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "validate.h"

/* ---- updates ------------------------------------------------------- */

/* UPDATE changes or deletes an existing rating; SUBMIT adds a new rating
 * or a new movie.  Checked against the value, which reflects everything
 * the client has seen (prev <= value_ts was checked before). */
static rt_status check_against_value(state_t *s, const op_t *op, bool submit, const char **why)
{
    if (submit ? op->kind == OP_DELETE : op->kind == OP_ADD_MOVIE) {
        *why = submit ? "SUBMIT adds a rating or a movie" : "UPDATE changes or deletes a rating";
        return RT_INVALID;
    }
    if (op->kind == OP_ADD_MOVIE)
        return RT_OK;
    movie_info_t m;
    int rc = store_movie(s->store, op->movie, &m);
    if (rc <= 0) {
        *why = "no such movie";
        return rc < 0 ? RT_INTERNAL : RT_NOT_FOUND;
    }
    uint32_t halves;
    rc = store_rating(s->store, op->user, op->movie, &halves);
    if (rc < 0)
        return RT_INTERNAL;
    if (submit && rc == 1) {
        *why = "the user has already rated this movie; use update";
        return RT_EXISTS;
    }
    if (!submit && rc == 0) {
        *why = "the user has not rated this movie";
        return RT_NOT_FOUND;
    }
    return RT_OK;
}

/* How far ahead of this replica's clock an update's stamp may be.  Stamps
 * come from the clocks of whoever made the updates (rating.x); a day covers
 * any clock that is merely wrong, and keeps stamps away from the end of the
 * 64-bit range, after which no write could follow them. */
#define STAMP_MAX_AHEAD_MS (24ULL * 3600 * 1000)

/* Last writer wins per (user, movie) by the update's own stamp, so every
 * copy of one update lands at one place in the order.  A stamp that is not
 * above the current write's would not win even here; and since the value
 * reflects everything the client saw (prev <= value_ts), refusing it is
 * what makes a write issued after another one always win over it. */
static rt_status check_stamp(state_t *s, const op_t *op, uint64_t stamp, uint64_t *later,
                             const char **why)
{
    uint64_t current = 0;
    bool live;
    if (op->kind == OP_ADD_MOVIE)
        return RT_OK; /* a new movie: no earlier write to its ratings */
    int rc = store_key_stamp(s->store, op->user, op->movie, &current, &live);
    if (rc < 0)
        return RT_INTERNAL;
    if (rc == 0 || stamp > current)
        return RT_OK;
    *later = current;
    *why = "the rating has a later write than this update: a new update id with a later "
           "stamp writes it again";
    return RT_STALE;
}


static rt_status accept_update(state_t *s, const op_t *op, const vts_t *prev,
                               const upd_id_t *uid, uint64_t stamp, urec_t *out)
{
    if (store_begin(s->store) < 0) {
        state_finish(s, -1);
        return RT_INTERNAL;
    }
    rt_status st = replica_accept(&s->rep, op, prev, uid, stamp, out);
    if (state_finish(s, st == RT_OK ? 0 : -1) < 0)
        return st == RT_OK ? RT_INTERNAL : st;
    state_note_load(s);
    return RT_OK;
}

/* Step 1 of update_locked: the arguments, whatever the replica's state. */
static rt_status read_update(const state_t *s, const rt_update_args *a, op_t *op, vts_t *prev,
                             const char **why)
{
    upd_id_t uid = {a->uid.origin, a->uid.seq};
    if (state_read_prev(s, &a->prev, prev) != RT_OK || op_from_xdr(op, &a->op) != RT_OK)
        *why = "malformed update";
    else if (uid_is_zero(&uid))
        *why = "an update needs a non-zero id";
    else if (a->stamp == 0)
        *why = "an update needs a stamp (rating.x: rt_update_args)";
    else if (a->stamp > state_now_ms(s) + STAMP_MAX_AHEAD_MS)
        *why = "the update's stamp is more than a day ahead of this replica's clock: check the "
               "clock of the client";
    else
        *why = op_check(op, op->kind == OP_ADD_MOVIE);
    return *why ? RT_INVALID : RT_OK;
}

/* The checks an update passes, in the order they apply; the first that
 * fails answers.  On RT_OK *got is what the update got (now, or when it was
 * first accepted); on RT_STALE got->stamp is the later write's. */
static rt_status update_locked(state_t *s, const rt_update_args *a, bool submit,
                               upd_result_t *got, const char **why)
{
    op_t op;
    vts_t prev;
    upd_id_t uid = {a->uid.origin, a->uid.seq};
    /* 1. Reject what no replica could accept: malformed, no id, no stamp. */
    rt_status st = read_update(s, a, &op, &prev, why);
    if (st != RT_OK)
        return st;
    /* 2. A copy of an update accepted before (a client's repeat, a front
     *    end's resend): the first answer again, applied once.  The same id
     *    for another operation is a mistake, not a repeat. */
    if (replica_find_uid(&s->rep, &uid, got)) {
        if (got->digest == 0 || got->digest == op_digest(&op))
            return RT_OK;
        *why = "this update id was used for another update: give each update its own id";
        return RT_INVALID;
    }
    /* 3. A simulated failure (--fail-rate). */
    if (state_offline_now(s))
        return RT_OFFLINE;
    /* 4. No sequence numbers while we may lack some we handed out. */
    if (s->recovery.active) {
        *why = state_recovering_text;
        return RT_NOT_READY;
    }
    /* 5. Too many of our own updates wait for gossip. */
    if (state_overloaded(s))
        return RT_OVERLOADED;
    /* 6. The value must reflect everything the client has seen. */
    if (!replica_can_answer(&s->rep, &prev))
        return RT_NOT_READY;
    /* 7. The operation must make sense against that value. */
    if ((st = check_against_value(s, &op, submit, why)) != RT_OK)
        return st;
    /* 8. Its stamp must come after the rating's current write. */
    if ((st = check_stamp(s, &op, a->stamp, &got->stamp, why)) != RT_OK)
        return st;
    /* 9. Accept: a sequence number, the log, the value if stable, on disk. */
    urec_t rec;
    if ((st = accept_update(s, &op, &prev, &uid, a->stamp, &rec)) == RT_OK)
        urec_result(&rec, got);
    return st;
}

void state_update(state_t *s, const rt_update_args *a, bool submit, rt_update_res *res)
{
    upd_result_t got;
    const char *why = NULL;
    memset(&got, 0, sizeof got);
    pthread_mutex_lock(&s->lock);
    if (s->installing)
        res->status = RT_NOT_READY; /* hands off the store (state_install_begin) */
    else
        res->status = update_locked(s, a, submit, &got, &why);
    res->replica = s->rep.id;
    uint64_t seq = state_committed(s);
    pthread_mutex_unlock(&s->lock);
    state_wait_durable(s, seq); /* no reply before the commit is on disk */
    if (res->status != RT_OK)
        vts_zero(&got.ts, 0);
    res->movie = res->status == RT_OK ? got.movie : 0;
    res->stamp = got.stamp;
    res->uid = a->uid;
    vts_to_xdr(&res->ts, &got.ts);
    res->detail = state_detail(why ? why : res->status == RT_OK ? "" : status_text(res->status));
}

