/*
 * state_gossip.c -- gossip (state.h: state_gossip_in, _out, _reply): the
 * records a peer may lack, out; records from a peer, in, in one
 * transaction, with its epoch (a peer with a new one gets what it lacks
 * again) and what it tells recovery.
 */
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---- gossip --------------------------------------------------------- */

/* Convert up to RT_MAX_RECORDS records of the log that a replica with
 * their_ts may lack into an XDR array. */
static int records_out(state_t *s, const vts_t *their_ts, rt_record **val, u_int *len,
                       bool_t *more)
{
    const urec_t **sel = malloc(RT_MAX_RECORDS * sizeof *sel);
    bool m = false;
    *val = NULL;
    *len = 0;
    if (!sel)
        return -1;
    size_t n = replica_gossip_select(&s->rep, their_ts, sel, RT_MAX_RECORDS, &m);
    *more = m;
    *val = calloc(n ? n : 1, sizeof **val);
    int rc = *val ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = urec_to_xdr(&(*val)[i], sel[i]);
        *len = (u_int)(i + 1);
    }
    free(sel);
    return rc;
}

/* A peer gossiping with a new epoch replaced its database: what we
 * thought it had is void (gossip.c: replica_peer_reset).  Inside the
 * receive transaction. */
static bool retired(const state_t *s, uint32_t from, uint64_t epoch)
{
    for (int i = 0; i < RETIRED_EPOCHS; i++)
        if (s->retired_epoch[from][i] == epoch)
            return true;
    return false;
}

/* Returns 0, 1 for a message of an incarnation of `from` that is over (it
 * was delayed past its sender's restart: what it says the sender holds is
 * no longer true, so it must not raise what we believe), or -1. */
static int check_epoch(state_t *s, uint32_t from, uint64_t epoch, const vts_t *their)
{
    if (epoch == 0 || s->peer_epoch[from] == epoch)
        return 0;
    if (retired(s, from, epoch))
        return 1;
    if (s->peer_epoch[from] != 0) {
        log_warn("replica %u comes back with new state (epoch %llx): resending what it lacks",
                 from, (unsigned long long)epoch);
        replica_peer_reset(&s->rep, from, their);
        uint64_t *r = s->retired_epoch[from];
        memmove(r + 1, r, (RETIRED_EPOCHS - 1) * sizeof *r);
        r[0] = s->peer_epoch[from];
    }
    s->peer_epoch[from] = epoch;
    return state_save_peer_epochs(s);
}

/* One line per gossip message that brought something, and per discard. */
static void note_gossip(state_t *s, uint32_t from, int added, size_t log_before)
{
    long long discarded = (long long)log_before + added - (long long)s->rep.log_len;
    if (added > 0)
        log_info("gossip from replica %u: %d new records", from, added);
    if (discarded > 0)
        log_info("log: discarded %lld records known everywhere, %zu left", discarded,
                 s->rep.log_len);
    state_note_load(s);
}

/* Decode and apply records from peer `from` in one transaction.  `reply`:
 * the records answer our call, so they are all it has for us (recovery). */
static rt_status receive(state_t *s, uint32_t from, uint64_t epoch, const rt_vts *their_x,
                         const rt_record *val, u_int len, bool more, bool reply, bool whole)
{
    vts_t their;
    if (vts_from_xdr(&their, their_x) != RT_OK || their.n > s->rep.n || len > RT_MAX_RECORDS)
        return RT_INVALID;
    urec_t *recs = calloc(len ? len : 1, sizeof *recs);
    if (!recs)
        return RT_INTERNAL;
    rt_status st = RT_OK;
    for (u_int i = 0; i < len && st == RT_OK; i++)
        st = urec_from_xdr(&recs[i], &val[i]);
    if (st == RT_OK) {
        if (store_begin(s->store) < 0) {
            st = RT_INTERNAL;
        } else {
            size_t log_before = s->rep.log_len;
            int stale = check_epoch(s, from, epoch, &their), added = stale < 0 ? -1 : 0;
            if (stale == 0)
                added = replica_gossip_receive(&s->rep, from, &their, recs, len, more);
            if (stale == 0 && added >= 0 &&
                state_note_heard(s, from, &their, reply && !more, whole) < 0)
                added = -1;
            if (state_finish(s, added) < 0)
                st = added < 0 ? RT_INVALID : RT_INTERNAL;
            else
                note_gossip(s, from, added, log_before);
        }
    }
    free(recs);
    return st;
}

void state_gossip_in(state_t *s, const rt_gossip_args *a, rt_gossip_res *res)
{
    pthread_mutex_lock(&s->lock);
    if (a->from >= s->rep.n || a->from == s->rep.id) {
        res->status = RT_DENIED;
    } else if (s->installing) {
        res->status = RT_NOT_READY;
    } else {
        res->status = receive(s, a->from, a->epoch, &a->replica_ts, a->records.records_val,
                              a->records.records_len, a->more, false, !a->recovering);
    }
    if (res->status == RT_OK) {
        vts_t their;
        vts_from_xdr(&their, &a->replica_ts);
        if (records_out(s, &their, &res->records.records_val, &res->records.records_len,
                        &res->more) < 0)
            res->status = RT_INTERNAL;
    }
    vts_to_xdr(&res->replica_ts, &s->rep.replica_ts);
    res->epoch = store_epoch(s->store);
    res->recovering = s->recovery.active || s->installing;
    s->gossip_bytes += xdr_sizeof((xdrproc_t)xdr_rt_gossip_res, res);
    s->gossip_records += res->records.records_len;
    uint64_t seq = state_committed(s);
    pthread_mutex_unlock(&s->lock);
    /* the reply acknowledges what we received and passes on what we have */
    state_wait_durable(s, seq);
    if (res->status == RT_DENIED)
        log_warn("refused GOSSIP claiming to be from replica %u", a->from);
}

int state_gossip_out(state_t *s, uint32_t k, rt_gossip_args *args)
{
    memset(args, 0, sizeof *args);
    pthread_mutex_lock(&s->lock);
    args->from = s->rep.id;
    args->epoch = store_epoch(s->store);
    args->recovering = s->recovery.active || s->installing;
    int rc = records_out(s, &s->rep.table[k], &args->records.records_val,
                         &args->records.records_len, &args->more);
    if (rc == 0)
        rc = vts_to_xdr(&args->replica_ts, &s->rep.replica_ts);
    args->mac.mac_val = NULL;
    if (rc == 0) {
        s->gossip_bytes += xdr_sizeof((xdrproc_t)xdr_rt_gossip_args, args);
        s->gossip_records += args->records.records_len;
    }
    uint64_t seq = state_committed(s);
    pthread_mutex_unlock(&s->lock);
    state_wait_durable(s, seq); /* never pass on a record we could still lose */
    return rc;
}

int state_gossip_reply(state_t *s, uint32_t k, const rt_gossip_res *res)
{
    if (res->status != RT_OK)
        return -1;
    pthread_mutex_lock(&s->lock);
    rt_status st = s->installing ? RT_NOT_READY
                                 : receive(s, k, res->epoch, &res->replica_ts,
                                           res->records.records_val,
                                           res->records.records_len, res->more, true,
                                           !res->recovering);
    pthread_mutex_unlock(&s->lock);
    return st == RT_OK ? 0 : -1;
}

uint64_t state_pending(state_t *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t p = replica_pending(&s->rep);
    pthread_mutex_unlock(&s->lock);
    return p;
}

bool state_gossip_due(state_t *s) { return state_pending(s) * 2 > s->cfg.overload; }

