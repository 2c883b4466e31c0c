/*
 * fuzz_xdr.c -- every message type of rating.x decoded from hostile bytes.
 *
 * The first input byte picks a type: the request arguments servers decode
 * (rt_query_args, rt_update_args, rt_gossip_args, rt_snap_args,
 * rt_repair_args) and the replies that clients, front ends and peers
 * decode (rt_query_res, rt_update_res, rt_gossip_res, rt_status_res,
 * rt_snap_res, rt_status_list, rt_repair_res).  The rest is decoded with xdrmem, then:
 *   - what the programs do with a decoded value runs on it: vts_from_xdr,
 *     op_from_xdr + op_check (replica and front end), urec_from_xdr
 *     (gossip and snapshot logs), the client's printing of answers;
 *   - encode(decode(input)) must succeed, be xdr_sizeof bytes long, and
 *     decode and encode again to the same bytes (XDR decoding is not
 *     one-to-one -- any nonzero bool is TRUE, a string stops at a NUL,
 *     padding is skipped -- but one round makes it canonical);
 *   - xdr_free releases everything, also after a decode that failed half
 *     way (LeakSanitizer checks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "rating.h"
#include "record.h"
#include "validate.h"

static FILE *devnull;

static void finding(const char *what, const char *type)
{
    fprintf(stderr, "fuzz_xdr: %s (%s)\n", what, type);
    abort();
}

/* ---- what the programs do with decoded values ------------------------ */

static void use_vts(const rt_vts *x)
{
    vts_t v;
    char buf[VTS_MAX * 22 + 4];
    if (vts_from_xdr(&v, x) == RT_OK)
        vts_format(&v, buf, sizeof buf);
    cli_format_vts(x, buf, sizeof buf);
}

static void use_op(const rt_op *x)
{
    op_t op;
    if (op_from_xdr(&op, x) != RT_OK)
        return;
    op_check(&op, 1);
    op_check(&op, 0);
    rt_op back;
    if (op_to_xdr(&back, &op) == 0 && back.kind != x->kind)
        finding("op_to_xdr(op_from_xdr(x)) changed the kind", "rt_op");
    xdr_free((xdrproc_t)xdr_rt_op, (char *)&back);
}

static void use_records(const rt_record *val, u_int len)
{
    for (u_int i = 0; i < len; i++) {
        urec_t r;
        use_vts(&val[i].ts);
        use_vts(&val[i].prev);
        if (urec_from_xdr(&r, &val[i]) == RT_OK) {
            rt_record back;
            if (urec_to_xdr(&back, &r) == 0 && back.origin != val[i].origin)
                finding("urec_to_xdr(urec_from_xdr(x)) changed the origin", "rt_record");
            xdr_free((xdrproc_t)xdr_rt_record, (char *)&back);
        }
    }
}

static void use_query_args(const void *p)
{
    const rt_query_args *a = p;
    use_vts(&a->prev);
}

static void use_update_args(const void *p)
{
    const rt_update_args *a = p;
    use_vts(&a->prev);
    use_op(&a->op);
}

static void use_gossip_args(const void *p)
{
    const rt_gossip_args *a = p;
    use_vts(&a->replica_ts);
    use_records(a->records.records_val, a->records.records_len);
}

static void use_snap_args(const void *p) { (void)p; }

static void use_query_res(const void *p)
{
    const rt_query_res *r = p;
    use_vts(&r->ts);
    status_text(r->status);
    if (!r->result.present)
        return;
    const rt_answer *a = &r->result.rt_answer_opt_u.answer;
    switch (a->kind) {
    case Q_MOVIE: cli_print_movie(devnull, &a->rt_answer_u.movie); break;
    case Q_TITLE:
        for (u_int i = 0; i < a->rt_answer_u.matches.matches_len; i++)
            cli_print_match(devnull, &a->rt_answer_u.matches.matches_val[i]);
        break;
    case Q_RATING: cli_print_rating(devnull, a->rt_answer_u.halves); break;
    case Q_USER:
        for (u_int i = 0; i < a->rt_answer_u.user.ratings.ratings_len; i++)
            cli_print_user_rating(devnull, &a->rt_answer_u.user.ratings.ratings_val[i]);
        break;
    }
}

static void use_update_res(const void *p)
{
    const rt_update_res *r = p;
    cli_print_ok(devnull, r->replica, &r->ts);
    status_text(r->status);
}

static void use_gossip_res(const void *p)
{
    const rt_gossip_res *r = p;
    use_vts(&r->replica_ts);
    use_records(r->records.records_val, r->records.records_len);
}

static void use_status_res(const void *p) { cli_print_status(devnull, p, 1); }

static void use_snap_res(const void *p)
{
    const rt_snap_res *r = p;
    const rt_snap_rows *rows = &r->rows;
    switch (rows->part) {
    case SNAP_BEGIN:
        use_vts(&rows->rt_snap_rows_u.header.replica_ts);
        use_vts(&rows->rt_snap_rows_u.header.value_ts);
        for (u_int i = 0; i < rows->rt_snap_rows_u.header.table.table_len; i++)
            use_vts(&rows->rt_snap_rows_u.header.table.table_val[i]);
        break;
    case SNAP_EXECUTED:
        for (u_int i = 0; i < rows->rt_snap_rows_u.executed.executed_len; i++)
            use_vts(&rows->rt_snap_rows_u.executed.executed_val[i].ts);
        break;
    case SNAP_LOG:
        use_records(rows->rt_snap_rows_u.log.log_val, rows->rt_snap_rows_u.log.log_len);
        break;
    default: break;
    }
}

static void use_repair_args(const void *p)
{
    const rt_repair_args *a = p;
    use_vts(&a->value_ts);
}

static void use_repair_res(const void *p)
{
    const rt_repair_res *r = p;
    use_vts(&r->value_ts);
    status_text(r->status);
}

static void use_status_list(const void *p)
{
    const rt_status_list *l = p;
    cli_print_status(devnull, l->rt_status_list_val, l->rt_status_list_len);
}

/* ---- the types --------------------------------------------------------- */

#define XDR_OF(f) ((xdrproc_t)(void (*)(void))(f))

static const struct type {
    const char *name;
    xdrproc_t proc;
    size_t size;
    void (*use)(const void *);
} types[] = {
    {"rt_query_args", XDR_OF(xdr_rt_query_args), sizeof(rt_query_args), use_query_args},
    {"rt_update_args", XDR_OF(xdr_rt_update_args), sizeof(rt_update_args), use_update_args},
    {"rt_gossip_args", XDR_OF(xdr_rt_gossip_args), sizeof(rt_gossip_args), use_gossip_args},
    {"rt_snap_args", XDR_OF(xdr_rt_snap_args), sizeof(rt_snap_args), use_snap_args},
    {"rt_query_res", XDR_OF(xdr_rt_query_res), sizeof(rt_query_res), use_query_res},
    {"rt_update_res", XDR_OF(xdr_rt_update_res), sizeof(rt_update_res), use_update_res},
    {"rt_gossip_res", XDR_OF(xdr_rt_gossip_res), sizeof(rt_gossip_res), use_gossip_res},
    {"rt_status_res", XDR_OF(xdr_rt_status_res), sizeof(rt_status_res), use_status_res},
    {"rt_snap_res", XDR_OF(xdr_rt_snap_res), sizeof(rt_snap_res), use_snap_res},
    {"rt_status_list", XDR_OF(xdr_rt_status_list), sizeof(rt_status_list), use_status_list},
    /* appended, so that the selectors of the older seeds keep their types */
    {"rt_repair_args", XDR_OF(xdr_rt_repair_args), sizeof(rt_repair_args), use_repair_args},
    {"rt_repair_res", XDR_OF(xdr_rt_repair_res), sizeof(rt_repair_res), use_repair_res},
};
#define NTYPES (sizeof types / sizeof types[0])

/* Room for the largest of them, aligned for any member. */
typedef union {
    rt_query_args qa;
    rt_update_args ua;
    rt_gossip_args ga;
    rt_snap_args sa;
    rt_query_res qr;
    rt_update_res ur;
    rt_gossip_res gr;
    rt_status_res sr;
    rt_snap_res snr;
    rt_status_list sl;
    rt_repair_args ra;
    rt_repair_res rr;
} any_t;

/* Encode v; returns the bytes (malloc) and their count, NULL on failure. */
static char *encode(const struct type *t, void *v, u_int *len)
{
    u_int size = (u_int)xdr_sizeof(t->proc, v);
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    XDR x;
    xdrmem_create(&x, buf, size, XDR_ENCODE);
    bool_t ok = t->proc(&x, v, 0);
    *len = xdr_getpos(&x);
    xdr_destroy(&x);
    if (!ok) {
        free(buf);
        return NULL;
    }
    if (*len != size)
        finding("encoded length differs from xdr_sizeof", t->name);
    return buf;
}

static bool decode(const struct type *t, const char *buf, u_int len, any_t *v, u_int *used)
{
    memset(v, 0, sizeof *v);
    XDR x;
    xdrmem_create(&x, (char *)buf, len, XDR_DECODE);
    bool_t ok = t->proc(&x, v, 0);
    *used = xdr_getpos(&x);
    xdr_destroy(&x);
    return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 24))
        return 0;
    const struct type *t = &types[data[0] % NTYPES];
    any_t v, w;
    u_int used;
    if (!decode(t, (const char *)data + 1, (u_int)(size - 1), &v, &used)) {
        xdr_free(t->proc, (char *)&v);
        return 0;
    }
    if (used > size - 1)
        finding("decoding read past the input", t->name);
    t->use(&v);

    u_int len1, len2, used2;
    char *enc1 = encode(t, &v, &len1);
    if (!enc1)
        finding("a decoded value does not encode", t->name);
    if (!decode(t, enc1, len1, &w, &used2) || used2 != len1)
        finding("an encoded value does not decode to its full length", t->name);
    char *enc2 = encode(t, &w, &len2);
    if (!enc2 || len2 != len1 || memcmp(enc1, enc2, len1) != 0)
        finding("encode(decode(encode(decode(x)))) differs from encode(decode(x))", t->name);
    free(enc1);
    free(enc2);
    xdr_free(t->proc, (char *)&w);
    xdr_free(t->proc, (char *)&v);
    return 0;
}
