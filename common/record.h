/*
 * record.h -- update operations and update-log records, as the algorithm
 * and the storage layer hold them, and their conversion to and from the
 * XDR types of rating.x.
 *
 * The XDR types own heap memory (rpcgen strings and arrays); these are
 * flat, fixed-size values that can be copied with '=' and stored in
 * arrays, so the algorithm never allocates per field.
 */
#ifndef RATINGD_RECORD_H
#define RATINGD_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "rating.h"
#include "vts.h"

/* A unique update id (rt_uid): who made it and its sequence number. */
typedef struct upd_id {
    uint64_t origin;
    uint64_t seq;
} upd_id_t;

typedef struct op {
    rt_op_kind kind;       /* OP_RATE, OP_DELETE, OP_ADD_MOVIE */
    uint32_t user;
    uint32_t movie;
    uint32_t halves;       /* OP_RATE and OP_ADD_MOVIE */
    char title[RT_MAX_TITLE + 1];   /* OP_ADD_MOVIE */
    char genres[RT_MAX_GENRES + 1]; /* OP_ADD_MOVIE */
} op_t;

/* The paper's <i, ts, op, prev, id>, and the last-writer-wins stamp. */
typedef struct urec {
    uint32_t origin;
    vts_t ts;
    vts_t prev;
    upd_id_t uid;
    uint64_t stamp;
    op_t op;
    bool applied;          /* local only: reflected in the value already */
} urec_t;

/* What an update id got when it was accepted: its timestamp, its movie
 * (the id assigned to a new movie), its stamp, and the digest of its
 * operation (op_digest), so that a repeat of the id can be told from a
 * reuse of it for another update. */
typedef struct upd_result {
    vts_t ts;
    uint32_t movie;
    uint64_t stamp;
    uint64_t digest;       /* 0: not known (recorded before digests) */
} upd_result_t;

bool uid_eq(const upd_id_t *a, const upd_id_t *b);
bool uid_is_zero(const upd_id_t *u);
/* Order for last-writer-wins: by stamp, then uid.  <0, 0, >0. */
int lww_cmp(uint64_t stamp_a, const upd_id_t *a, uint64_t stamp_b, const upd_id_t *b);
/* A digest of what an operation does, never 0: equal for two copies of one
 * update.  A new movie's id is left out (each replica that accepts a copy
 * assigns its own, store.c reconciles them). */
uint64_t op_digest(const op_t *op);
/* The record's result, as the executed table keeps it. */
void urec_result(const urec_t *r, upd_result_t *out);
/* The order of a rating's rows: lww_cmp, then halves.  Two rows of one
 * write (one stamp and uid) hold the same halves unless one was damaged;
 * the last tie-break makes even those resolve alike on every replica, so
 * that anti-entropy repair (server/repair.c) converges on any difference. */
int lww_row_cmp(uint64_t stamp_a, const upd_id_t *a, uint32_t halves_a, uint64_t stamp_b,
                const upd_id_t *b, uint32_t halves_b);

/* XDR <-> internal.  The from_xdr functions validate lengths and return
 * RT_INVALID for anything out of range; to_xdr fills heap memory that
 * xdr_free releases. */
rt_status vts_from_xdr(vts_t *dst, const rt_vts *src);
int vts_to_xdr(rt_vts *dst, const vts_t *src);
rt_status op_from_xdr(op_t *dst, const rt_op *src);
int op_to_xdr(rt_op *dst, const op_t *src);
rt_status urec_from_xdr(urec_t *dst, const rt_record *src);
int urec_to_xdr(rt_record *dst, const urec_t *src);

#endif
