/*
 * gossip.h -- the replica algorithm of Ladin, Liskov, Shrira and Ghemawat,
 * "Providing High Availability Using Lazy Replication" (TOCS 1992), as pure
 * state transitions.  This file and gossip.c are where the gossip rules
 * live; nothing here does I/O.  The caller (server/replica.c) supplies the
 * value through hooks, holds the lock, and persists what the hooks report.
 *
 * Replica `id` of `n` keeps:
 *   replica_ts    updates accepted into the log (entry id counts its own)
 *   value_ts      merge of the ts of the updates reflected in the value
 *   log           records not yet known to be at every replica
 *   table[k]      latest replica_ts that replica k is known to have
 *   executed      (in the value store, through hooks) ids already applied
 *
 * Rules (docs/algorithm.md walks through them):
 *   query:   answerable iff prev <= value_ts
 *   update:  a known uid returns its old ts; otherwise replica_ts[id]++,
 *            ts = prev with ts[id] = replica_ts[id], append to the log
 *   stable:  a record is stable when prev <= value_ts; stable records are
 *            applied in happened-before order
 *   gossip:  send records r from origin c with r.ts[c] > table[peer][c]
 *            (in log order, so each origin's records arrive in sequence);
 *            on receipt add each record of origin c that is replica_ts[c]
 *            + 1 (replica_ts rises only with records), apply what became
 *            stable, table[from] = merge(table[from], theirs)
 *   discard: record r from origin c leaves the log once applied here and
 *            table[k][c] >= r.ts[c] for every replica k
 */
#ifndef RATINGD_GOSSIP_H
#define RATINGD_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "vts.h"

struct replica_hooks {
    void *ctx;
    /* Apply r->op to the value and record r->uid as executed.  Nonzero
     * aborts the step (the caller rolls its transaction back). */
    int (*apply)(void *ctx, const urec_t *r);
    /* Was uid executed here?  If so fill what it got. */
    bool (*executed)(void *ctx, const upd_id_t *uid, upd_result_t *out);
    /* A record entered the log, or changed (became applied). */
    int (*logged)(void *ctx, const urec_t *r);
    /* A record left the log. */
    int (*discarded)(void *ctx, const urec_t *r);
};

typedef struct replica {
    uint32_t id;
    uint32_t n;
    vts_t replica_ts;
    vts_t value_ts;
    vts_t table[VTS_MAX];
    urec_t *log;
    size_t log_len;
    size_t log_cap;
    struct replica_hooks hooks;
} replica_t;

/* Returns 0, or -1 if id >= n or n > VTS_MAX. */
int replica_init(replica_t *r, uint32_t id, uint32_t n, const struct replica_hooks *hooks);
void replica_free(replica_t *r);

/* Put a record back into the log at start-up (from storage). */
int replica_log_restore(replica_t *r, const urec_t *rec);

/* Query rule: may a value with timestamp value_ts be shown to a client
 * that has seen prev?  (prev <= value_ts.)  replica_can_answer asks it of
 * the replica's own value; a query on a reader asks it of the value_ts
 * its read transaction saw (state.c). */
bool gossip_can_answer(const vts_t *prev, const vts_t *value_ts);
bool replica_can_answer(const replica_t *r, const vts_t *prev);

/* Find a record for uid in the log or the executed table.  Returns true
 * and fills what the update got when it was accepted (a retry, or a reuse
 * of the id if out->digest differs from the new operation's). */
bool replica_find_uid(const replica_t *r, const upd_id_t *uid, upd_result_t *out);

/* Accept a new update (the caller checked that uid is not a retry and
 * that op is valid).  Assigns ts and, for OP_ADD_MOVIE, the movie id;
 * appends the record, then applies every record that became stable.
 * Returns 0 and fills *out, or RT_FULL / RT_INTERNAL. */
int replica_accept(replica_t *r, const op_t *op, const vts_t *prev, const upd_id_t *uid,
                   uint64_t stamp, urec_t *out);

/* Apply every stable record not yet applied, in causal order, then
 * discard records every replica has.  Returns the number applied or -1. */
int replica_apply_stable(replica_t *r);

/* Gossip receipt: records from replica `from` (which may include records
 * we have), its replica_ts, and whether it had more than it sent.
 * Returns the number of new records, or -1 for a malformed message or a
 * storage failure. */
int replica_gossip_receive(replica_t *r, uint32_t from, const vts_t *their_ts,
                           const urec_t *recs, size_t nrecs, bool more);

/* Records this replica held before its state was replaced by a copy of a
 * peer's (a snapshot install): those past the copy's replica_ts go back
 * into the log, in sequence, as gossip would have brought them (the copy
 * must not lose a record that may be held nowhere else), and what became
 * stable is applied.  Returns the number taken, or -1. */
int replica_take_records(replica_t *r, const urec_t *recs, size_t nrecs);

/* Gossip sending: the records that a replica known to have `their_ts` may
 * lack, in log order.  Fills at most max pointers into the log (valid
 * until the log changes); *more says some were left out. */
size_t replica_gossip_select(const replica_t *r, const vts_t *their_ts, const urec_t **out,
                             size_t max, bool *more);

/* Peer k acknowledged having their_ts: table[k] = merge(table[k], their_ts),
 * and records every replica has leave the log. */
int replica_peer_has(replica_t *r, uint32_t k, const vts_t *their_ts);

/* Peer k came back with new state (its database was replaced): forget
 * what we believed it had; it has their_ts.  Unlike every other rule this
 * lowers a table entry, so records it lacks stay in our log for it. */
void replica_peer_reset(replica_t *r, uint32_t k, const vts_t *their_ts);

/* Remove applied records that every replica has.  Returns the count. */
int log_discard_stable(replica_t *r);

/* Own updates that no peer has acknowledged yet (the overload measure). */
uint64_t replica_pending(const replica_t *r);

#endif
