/* record.c -- update records: identity, LWW order, XDR conversion. */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "digest.h"

bool uid_eq(const upd_id_t *a, const upd_id_t *b)
{
    return a->origin == b->origin && a->seq == b->seq;
}

bool uid_is_zero(const upd_id_t *u)
{
    return u->origin == 0 && u->seq == 0;
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

int lww_cmp(uint64_t stamp_a, const upd_id_t *a, uint64_t stamp_b, const upd_id_t *b)
{
    int c = cmp_u64(stamp_a, stamp_b);
    if (c == 0)
        c = cmp_u64(a->origin, b->origin);
    if (c == 0)
        c = cmp_u64(a->seq, b->seq);
    return c;
}

uint64_t op_digest(const op_t *op)
{
    uint64_t h = mix64((uint64_t)op->kind);
    h = mix64(h ^ (((uint64_t)op->user << 32) | (op->kind == OP_ADD_MOVIE ? 0 : op->movie)));
    h = mix64(h ^ op->halves);
    if (op->kind == OP_ADD_MOVIE)
        h = hash_str(hash_str(h, op->title), op->genres);
    return h ? h : 1;
}

void urec_result(const urec_t *r, upd_result_t *out)
{
    out->ts = r->ts;
    out->movie = r->op.movie;
    out->stamp = r->stamp;
    out->digest = op_digest(&r->op);
}

int lww_row_cmp(uint64_t stamp_a, const upd_id_t *a, uint32_t halves_a, uint64_t stamp_b,
                const upd_id_t *b, uint32_t halves_b)
{
    int c = lww_cmp(stamp_a, a, stamp_b, b);
    return c ? c : (halves_a > halves_b) - (halves_a < halves_b);
}

rt_status vts_from_xdr(vts_t *dst, const rt_vts *src)
{
    if (src->rt_vts_len > VTS_MAX)
        return RT_INVALID;
    vts_zero(dst, src->rt_vts_len);
    for (u_int k = 0; k < src->rt_vts_len; k++)
        dst->t[k] = src->rt_vts_val[k];
    return RT_OK;
}

int vts_to_xdr(rt_vts *dst, const vts_t *src)
{
    dst->rt_vts_len = src->n;
    dst->rt_vts_val = NULL;
    if (src->n == 0)
        return 0;
    dst->rt_vts_val = malloc(src->n * sizeof *dst->rt_vts_val);
    if (!dst->rt_vts_val) {
        dst->rt_vts_len = 0;
        return -1;
    }
    memcpy(dst->rt_vts_val, src->t, src->n * sizeof *dst->rt_vts_val);
    return 0;
}

/* Copy a NUL-terminated XDR string into a fixed buffer; XDR already bounds
 * its length, but a server must not trust that the bound was enforced. */
static rt_status copy_bounded(char *dst, size_t cap, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return RT_OK;
    }
    size_t len = strnlen(src, cap);
    if (len >= cap)
        return RT_INVALID;
    memcpy(dst, src, len + 1);
    return RT_OK;
}

rt_status op_from_xdr(op_t *dst, const rt_op *src)
{
    memset(dst, 0, sizeof *dst);
    dst->kind = src->kind;
    switch (src->kind) {
    case OP_RATE:
        dst->user = src->rt_op_u.rate.user;
        dst->movie = src->rt_op_u.rate.movie;
        dst->halves = src->rt_op_u.rate.halves;
        return RT_OK;
    case OP_DELETE:
        dst->user = src->rt_op_u.del.user;
        dst->movie = src->rt_op_u.del.movie;
        return RT_OK;
    case OP_ADD_MOVIE: {
        const rt_add_movie *a = &src->rt_op_u.add;
        dst->user = a->user;
        dst->movie = a->movie;
        dst->halves = a->halves;
        if (copy_bounded(dst->title, sizeof dst->title, a->title) != RT_OK ||
            copy_bounded(dst->genres, sizeof dst->genres, a->genres) != RT_OK)
            return RT_INVALID;
        return RT_OK;
    }
    }
    return RT_INVALID;
}

int op_to_xdr(rt_op *dst, const op_t *src)
{
    memset(dst, 0, sizeof *dst);
    dst->kind = src->kind;
    switch (src->kind) {
    case OP_RATE:
        dst->rt_op_u.rate.user = src->user;
        dst->rt_op_u.rate.movie = src->movie;
        dst->rt_op_u.rate.halves = src->halves;
        return 0;
    case OP_DELETE:
        dst->rt_op_u.del.user = src->user;
        dst->rt_op_u.del.movie = src->movie;
        return 0;
    case OP_ADD_MOVIE: {
        rt_add_movie *a = &dst->rt_op_u.add;
        a->user = src->user;
        a->movie = src->movie;
        a->halves = src->halves;
        a->title = strdup(src->title);
        a->genres = strdup(src->genres);
        return (a->title && a->genres) ? 0 : -1;
    }
    }
    return -1;
}

rt_status urec_from_xdr(urec_t *dst, const rt_record *src)
{
    memset(dst, 0, sizeof *dst);
    dst->origin = src->origin;
    dst->uid.origin = src->uid.origin;
    dst->uid.seq = src->uid.seq;
    dst->stamp = src->stamp;
    if (src->origin >= VTS_MAX || vts_from_xdr(&dst->ts, &src->ts) != RT_OK ||
        vts_from_xdr(&dst->prev, &src->prev) != RT_OK)
        return RT_INVALID;
    return op_from_xdr(&dst->op, &src->op);
}

int urec_to_xdr(rt_record *dst, const urec_t *src)
{
    memset(dst, 0, sizeof *dst);
    dst->origin = src->origin;
    dst->uid.origin = src->uid.origin;
    dst->uid.seq = src->uid.seq;
    dst->stamp = src->stamp;
    if (vts_to_xdr(&dst->ts, &src->ts) || vts_to_xdr(&dst->prev, &src->prev))
        return -1;
    return op_to_xdr(&dst->op, &src->op);
}
