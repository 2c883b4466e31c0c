/*
 * seeds.c -- write the seed corpora of the fuzz harnesses: valid
 * encodings of every message of rating.x, in each harness's input format.
 *
 *   seeds DIR     writes DIR/xdr, DIR/handlers and DIR/rpc_record (one file a seed)
 *
 * The committed fuzz/corpus/ was made by `make fuzz-seeds`; libFuzzer
 * mutates from these (it could start from nothing, but a valid gossip
 * message with a record is many lucky guesses away from empty).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include "fixture.h"
#include "rating.h"
#include "rpcutil.h"

static const char *outdir;

/* ---- a growing byte buffer ----------------------------------------------- */

struct buf {
    char b[65536];
    size_t len;
};

static void put_xdr(struct buf *o, xdrproc_t proc, void *v)
{
    XDR x;
    xdrmem_create(&x, o->b + o->len, (u_int)(sizeof o->b - o->len), XDR_ENCODE);
    if (!proc(&x, v, 0)) {
        fprintf(stderr, "seeds: cannot encode a seed value\n");
        exit(1);
    }
    o->len += xdr_getpos(&x);
    xdr_destroy(&x);
}

static void put_u8(struct buf *o, uint8_t v) { o->b[o->len++] = (char)v; }

static void put_u32(struct buf *o, uint32_t v)
{
    v = htonl(v);
    memcpy(o->b + o->len, &v, 4);
    o->len += 4;
}

static void write_seed(const char *harness, const char *name, const struct buf *o)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", outdir, harness);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", outdir, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(o->b, 1, o->len, f) != o->len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* ---- sample values -------------------------------------------------------- */

static uint64_t ts3[3] = {0, 1, 0}, zero3[3] = {0, 0, 0}, ts_big[3] = {5, 7, 9};
static char ftitle[] = "Fuzz Film, The (2026)", genres[] = "Drama|Comedy", toy[] = "Toy";
static char empty[] = "";

static rt_query_args q_movie(uint32_t m)
{
    rt_query_args a = {{0, NULL}, {.kind = Q_MOVIE, .rt_query_u.movie = m}};
    return a;
}

static rt_query_args q_title(char *pat)
{
    rt_query_args a = {{3, zero3}, {.kind = Q_TITLE, .rt_query_u.pattern = pat}};
    return a;
}

static rt_query_args q_rating(uint32_t u, uint32_t m)
{
    rt_query_args a = {{0, NULL}, {.kind = Q_RATING, .rt_query_u.key = {u, m}}};
    return a;
}

static rt_query_args q_user(uint32_t u)
{
    rt_query_args a = {{0, NULL}, {.kind = Q_USER, .rt_query_u.page = {u, 0, 10}}};
    return a;
}

/* The updates' stamps (rating.x): a moment in 2023, so a replica's clock
 * is always past them. */
#define SEED_STAMP 1700000000000ULL

static rt_update_args u_rate(uint64_t seq, uint32_t u, uint32_t m, uint32_t h)
{
    rt_update_args a = {{0, NULL}, {7, seq}, SEED_STAMP + seq, {.kind = OP_RATE, .rt_op_u.rate = {u, m, h}}};
    return a;
}

static rt_update_args u_delete(uint64_t seq, uint32_t u, uint32_t m)
{
    rt_update_args a = {{0, NULL}, {7, seq}, SEED_STAMP + seq, {.kind = OP_DELETE, .rt_op_u.del = {u, m}}};
    return a;
}

static rt_update_args u_add(uint64_t seq)
{
    rt_update_args a = {{0, NULL}, {7, seq}, SEED_STAMP + seq, {.kind = OP_ADD_MOVIE}};
    a.op.rt_op_u.add = (rt_add_movie){0, ftitle, genres, 900, 9};
    return a;
}

static rt_record sample_record(void)
{
    rt_record r = {1, {3, ts3}, {3, zero3}, {8, 1}, 1700000000000ULL,
                   {.kind = OP_RATE, .rt_op_u.rate = {901, 2, 7}}};
    return r;
}

static rt_gossip_args gossip(uint32_t from, rt_record *rec, u_int nrec)
{
    rt_gossip_args g = {from, 5, {3, ts3}, {nrec, rec}, FALSE, FALSE, {0, NULL}};
    return g;
}

static rt_snap_args snap(rt_snap_part part)
{
    rt_snap_args a = {1, 0, part, 0, 0, {0, NULL}};
    return a;
}

/* One REPAIR call of each step, at the fixture's value timestamp (zero). */
static u_int nodes[2] = {0, 5}, buckets[3] = {17, 900, 4000};
static rt_repair_split splits[2] = {{6, 4}, {0, 8}};
static rt_repair_part parts[2] = {{6, 4, 1}, {0, 1, 0}};
static rt_repair_key keys[2] = {{0, 1, 0x1234ULL}, {0, 5, 0x5678ULL}};
static rt_key wanted[1] = {{6, 2}};
static rt_snap_rating repair_rating = {6, 2, 8, 845553522000ULL, {0, 0}};
static rt_repair_movie repair_movie = {1000000032, ftitle, genres, 0};

static rt_repair_args repair(rt_repair_step step)
{
    rt_repair_args a = {1, {0, NULL}, {.step = step}, {0, NULL}};
    rt_repair_ask *q = &a.ask;
    switch (step) {
    case REPAIR_ROOT: break;
    case REPAIR_NODES: q->rt_repair_ask_u.nodes = (rt_repair_nodes){1, {2, nodes}}; break;
    case REPAIR_USERS: q->rt_repair_ask_u.users = (rt_repair_users_ask){{3, buckets}, 0, 0}; break;
    case REPAIR_PARTS:
        q->rt_repair_ask_u.splits.splits_len = 2;
        q->rt_repair_ask_u.splits.splits_val = splits;
        break;
    case REPAIR_KEYS:
        q->rt_repair_ask_u.keys = (rt_repair_keys){{2, parts}, {2, keys}};
        break;
    case REPAIR_PUSH:
        q->rt_repair_ask_u.rows = (rt_repair_rows){{1, &repair_rating}, {1, &repair_movie}};
        break;
    }
    return a;
}

/* ---- xdr: selector byte + one encoding ------------------------------------ */

enum { T_QA, T_UA, T_GA, T_SA, T_QR, T_UR, T_GR, T_SR, T_SNR, T_SL, T_RA, T_RR };

static void xdr_seed(const char *name, int type, xdrproc_t proc, void *v)
{
    struct buf o = {.len = 0};
    put_u8(&o, (uint8_t)type);
    put_xdr(&o, proc, v);
    write_seed("xdr", name, &o);
}

#define X(f) RPC_XDR(f)

static void xdr_seeds(void)
{
    rt_query_args qa = q_title(toy);
    xdr_seed("query_args_title", T_QA, X(xdr_rt_query_args), &qa);
    qa = q_user(1);
    xdr_seed("query_args_user", T_QA, X(xdr_rt_query_args), &qa);
    rt_update_args ua = u_add(1);
    xdr_seed("update_args_add", T_UA, X(xdr_rt_update_args), &ua);
    ua = u_rate(2, 1, 1, 8);
    xdr_seed("update_args_rate", T_UA, X(xdr_rt_update_args), &ua);
    rt_record rec[2] = {sample_record(), sample_record()};
    rec[1].op.kind = OP_ADD_MOVIE;
    rec[1].op.rt_op_u.add = (rt_add_movie){1000000033, ftitle, genres, 3, 4};
    rt_gossip_args ga = gossip(1, rec, 2);
    xdr_seed("gossip_args", T_GA, X(xdr_rt_gossip_args), &ga);
    rt_snap_args sa = snap(SNAP_LOG);
    xdr_seed("snap_args", T_SA, X(xdr_rt_snap_args), &sa);

    rt_movie_info mi[2] = {{1, ftitle, genres, 16, 124}, {2, toy, empty, 0, 0}};
    rt_query_res qr = {RT_OK, {3, ts3}, 0, {TRUE, {.answer = {.kind = Q_MOVIE}}}, empty};
    qr.result.rt_answer_opt_u.answer.rt_answer_u.movie = mi[0];
    xdr_seed("query_res_movie", T_QR, X(xdr_rt_query_res), &qr);
    qr.result.rt_answer_opt_u.answer.kind = Q_TITLE;
    qr.result.rt_answer_opt_u.answer.rt_answer_u.matches.matches_len = 2;
    qr.result.rt_answer_opt_u.answer.rt_answer_u.matches.matches_val = mi;
    xdr_seed("query_res_title", T_QR, X(xdr_rt_query_res), &qr);
    rt_user_rating ur[2] = {{1, 8}, {3, 7}};
    qr.result.rt_answer_opt_u.answer.kind = Q_USER;
    qr.result.rt_answer_opt_u.answer.rt_answer_u.user = (rt_user_ratings){2, {2, ur}};
    xdr_seed("query_res_user", T_QR, X(xdr_rt_query_res), &qr);
    char nf[] = "no such movie";
    rt_query_res qnf = {RT_NOT_FOUND, {3, ts3}, 2, {FALSE, {.answer = {.kind = Q_MOVIE}}}, nf};
    xdr_seed("query_res_not_found", T_QR, X(xdr_rt_query_res), &qnf);
    rt_update_res upr = {RT_OK, {3, ts3}, 1000000032, 1, SEED_STAMP + 1, {7, 1}, empty};
    xdr_seed("update_res", T_UR, X(xdr_rt_update_res), &upr);
    rt_gossip_res gr = {RT_OK, 5, {3, ts_big}, {1, rec}, TRUE, FALSE, {0, NULL}};
    xdr_seed("gossip_res", T_GR, X(xdr_rt_gossip_res), &gr);
    rt_status_res sr[3] = {
        {RT_OK, 0, 3, ST_ACTIVE, {3, ts3}, {3, ts3}, 2, 1, 103, 103, 22, 0x1234abcd, 10, 1},
        {RT_OK, 1, 3, ST_OVERLOADED, {3, ts_big}, {3, zero3}, 0, 0, 0, 0, 0, 0, 0, 0},
        {RT_UNAVAILABLE, 2, 3, ST_UNREACHABLE, {0, NULL}, {0, NULL}, 0, 0, 0, 0, 0, 0, 0, 0}};
    xdr_seed("status_res", T_SR, X(xdr_rt_status_res), &sr[0]);
    rt_status_list sl = {3, sr};
    xdr_seed("status_list", T_SL, X(xdr_rt_status_list), &sl);

    rt_snap_res snr = {RT_OK, FALSE, {.part = SNAP_BEGIN}, {0, NULL}};
    rt_vts table[3] = {{3, ts3}, {3, zero3}, {3, ts_big}};
    snr.rows.rt_snap_rows_u.header =
        (rt_snap_header){42, {3, ts3}, {3, ts3}, {3, table}, 103, 22, 3, 0xfeedULL};
    xdr_seed("snap_res_header", T_SNR, X(xdr_rt_snap_res), &snr);
    rt_snap_movie sm[2] = {{1, ftitle, genres, 16, 124, 0}, {1000000032, toy, empty, 1, 8, 1}};
    snr.rows.part = SNAP_MOVIES;
    snr.rows.rt_snap_rows_u.movies.movies_len = 2;
    snr.rows.rt_snap_rows_u.movies.movies_val = sm;
    xdr_seed("snap_res_movies", T_SNR, X(xdr_rt_snap_res), &snr);
    rt_snap_rating srt[2] = {{1, 1, 8, 5, {0, 0}}, {900, 2, 0, 1700000000001ULL, {7, 1}}};
    snr.rows.part = SNAP_RATINGS;
    snr.rows.rt_snap_rows_u.ratings.ratings_len = 2;
    snr.rows.rt_snap_rows_u.ratings.ratings_val = srt;
    xdr_seed("snap_res_ratings", T_SNR, X(xdr_rt_snap_res), &snr);
    rt_snap_exec se[1] = {{{7, 1}, {3, ts3}, 0, SEED_STAMP + 1, 0x9e3779b97f4a7c15ULL}};
    snr.rows.part = SNAP_EXECUTED;
    snr.rows.rt_snap_rows_u.executed.executed_len = 1;
    snr.rows.rt_snap_rows_u.executed.executed_val = se;
    xdr_seed("snap_res_executed", T_SNR, X(xdr_rt_snap_res), &snr);
    snr.rows.part = SNAP_LOG;
    snr.done = TRUE;
    snr.rows.rt_snap_rows_u.log.log_len = 2;
    snr.rows.rt_snap_rows_u.log.log_val = rec;
    xdr_seed("snap_res_log", T_SNR, X(xdr_rt_snap_res), &snr);

    static const char *const steps[] = {"root", "nodes", "users", "parts", "keys", "push"};
    char name[64];
    for (int i = REPAIR_ROOT; i <= REPAIR_PUSH; i++) {
        rt_repair_args ra = repair((rt_repair_step)i);
        snprintf(name, sizeof name, "repair_args_%s", steps[i]);
        xdr_seed(name, T_RA, X(xdr_rt_repair_args), &ra);
    }
    u_quad_t digests[4] = {1, 0xfeedULL, 3, 4};
    rt_repair_user users[2] = {{17, 6, 14, 0x1234ULL}, {17, 0, 22, 0x99ULL}};
    rt_repair_res rr = {RT_OK, {3, zero3}, {.step = REPAIR_ROOT}, {0, NULL}};
    rr.answer.rt_repair_answer_u.root = 0xabcdef;
    xdr_seed("repair_res_root", T_RR, X(xdr_rt_repair_res), &rr);
    rr.answer.step = REPAIR_NODES;
    rr.answer.rt_repair_answer_u.digests.digests_len = 4;
    rr.answer.rt_repair_answer_u.digests.digests_val = digests;
    xdr_seed("repair_res_nodes", T_RR, X(xdr_rt_repair_res), &rr);
    rr.answer.step = REPAIR_USERS;
    rr.answer.rt_repair_answer_u.users = (rt_repair_users){{2, users}, TRUE};
    xdr_seed("repair_res_users", T_RR, X(xdr_rt_repair_res), &rr);
    rr.answer.step = REPAIR_KEYS;
    rr.answer.rt_repair_answer_u.diff =
        (rt_repair_diff){{{1, &repair_rating}, {1, &repair_movie}}, {1, wanted}, TRUE};
    xdr_seed("repair_res_keys", T_RR, X(xdr_rt_repair_res), &rr);
    rr.answer.step = REPAIR_PUSH;
    rr.answer.rt_repair_answer_u.taken = 2;
    xdr_seed("repair_res_push", T_RR, X(xdr_rt_repair_res), &rr);
    rt_repair_res not_ready = {RT_NOT_READY, {3, ts3}, {.step = REPAIR_PARTS}, {0, NULL}};
    xdr_seed("repair_res_not_ready", T_RR, X(xdr_rt_repair_res), &not_ready);
}

/* ---- handlers and rpc_record: sequences of requests ----------------------- */

struct req {
    uint32_t proc;
    bool live; /* SNAPSHOT: use the session of the input's SNAP_BEGIN */
    xdrproc_t xdr;
    void *arg;
};

static void handler_seed(const char *name, const struct req *r, size_t n)
{
    struct buf o = {.len = 0};
    for (size_t i = 0; i < n; i++) {
        put_u8(&o, (uint8_t)(r[i].proc | (r[i].live ? 0x80 : 0)));
        if (r[i].xdr)
            put_xdr(&o, r[i].xdr, r[i].arg);
    }
    write_seed("handlers", name, &o);
}

/* One RPC call record: the call header (AUTH_NONE), then the arguments.
 * frags > 1 splits the record into that many fragments. */
static void put_call(struct buf *o, uint32_t xid, uint32_t rpcvers, uint32_t prog, uint32_t vers,
                     uint32_t proc, xdrproc_t xdr, void *arg, int frags)
{
    struct buf body = {.len = 0};
    put_u32(&body, xid);
    put_u32(&body, CALL);
    put_u32(&body, rpcvers);
    put_u32(&body, prog);
    put_u32(&body, vers);
    put_u32(&body, proc);
    put_u32(&body, AUTH_NONE);
    put_u32(&body, 0);
    put_u32(&body, AUTH_NONE);
    put_u32(&body, 0);
    if (xdr)
        put_xdr(&body, xdr, arg);
    size_t done = 0;
    for (int f = 0; f < frags; f++) {
        size_t n = f == frags - 1 ? body.len - done : body.len / (size_t)frags;
        put_u32(o, (uint32_t)n | (f == frags - 1 ? 0x80000000U : 0));
        memcpy(o->b + o->len, body.b + done, n);
        o->len += n;
        done += n;
    }
}

static void record_seed(const char *name, const struct req *r, size_t n)
{
    struct buf o = {.len = 0};
    for (size_t i = 0; i < n; i++)
        put_call(&o, (uint32_t)(100 + i), 2, FIXTURE_PROG, RATING_REPLICA_V1, r[i].proc,
                 r[i].xdr, r[i].arg, 1);
    write_seed("rpc_record", name, &o);
}

static void both(const char *name, const struct req *r, size_t n)
{
    handler_seed(name, r, n);
    bool live = false;
    for (size_t i = 0; i < n; i++)
        live |= r[i].live;
    if (!live) /* the session is random: no use over the wire */
        record_seed(name, r, n);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define QA X(xdr_rt_query_args)
#define UA X(xdr_rt_update_args)
#define GA X(xdr_rt_gossip_args)
#define SA X(xdr_rt_snap_args)
#define RA X(xdr_rt_repair_args)

static void request_seeds(void)
{
    rt_query_args movie1 = q_movie(1), toy_q = q_title(toy), user = q_user(1),
                  rating = q_rating(1, 1), fuzzfilm = q_title((char *)"Fuzz");
    rt_update_args rate = u_rate(1, 900, 1, 8), change = u_rate(2, 900, 1, 3),
                   del = u_delete(3, 900, 1), add = u_add(4), again = u_rate(1, 900, 1, 8);
    rt_record rec = sample_record();
    rt_gossip_args g = gossip(1, &rec, 1), g7 = gossip(7, NULL, 0);
    rt_snap_args begin = snap(SNAP_BEGIN), movies = snap(SNAP_MOVIES),
                 ratings = snap(SNAP_RATINGS), executed = snap(SNAP_EXECUTED), log = snap(SNAP_LOG),
                 end = snap(SNAP_END);

    struct req r1[] = {{RP_QUERY, false, QA, &movie1}};
    both("query_movie", r1, N(r1));
    struct req r2[] = {{RP_QUERY, false, QA, &toy_q}, {RP_QUERY, false, QA, &user},
                       {RP_QUERY, false, QA, &rating}};
    both("queries", r2, N(r2));
    struct req r3[] = {{RP_SUBMIT, false, UA, &rate}, {RP_UPDATE, false, UA, &change},
                       {RP_SUBMIT, false, UA, &again}, {RP_UPDATE, false, UA, &del},
                       {RP_QUERY, false, QA, &rating}};
    both("updates", r3, N(r3));
    struct req r4[] = {{RP_SUBMIT, false, UA, &add}, {RP_QUERY, false, QA, &fuzzfilm}};
    both("add_movie", r4, N(r4));
    struct req r5[] = {{RP_GOSSIP, false, GA, &g}, {RP_STATUS, false, NULL, NULL},
                       {RP_GOSSIP, false, GA, &g7}};
    both("gossip", r5, N(r5));
    struct req r6[] = {{RP_SUBMIT, false, UA, &rate},   {RP_SNAPSHOT, false, SA, &begin},
                       {RP_SNAPSHOT, true, SA, &movies}, {RP_SNAPSHOT, true, SA, &ratings},
                       {RP_SNAPSHOT, true, SA, &executed}, {RP_SNAPSHOT, true, SA, &log},
                       {RP_SNAPSHOT, true, SA, &end}};
    both("snapshot", r6, N(r6));
    struct req r7[] = {{RP_SNAPSHOT, false, SA, &begin}, {RP_SNAPSHOT, false, SA, &movies},
                       {RP_NULL, false, NULL, NULL}};
    both("snapshot_guess", r7, N(r7));
    rt_repair_args rroot = repair(REPAIR_ROOT), rnodes = repair(REPAIR_NODES),
                   rusers = repair(REPAIR_USERS), rparts = repair(REPAIR_PARTS),
                   rkeys = repair(REPAIR_KEYS), rpush = repair(REPAIR_PUSH),
                   rself = repair(REPAIR_ROOT);
    rself.from = FIXTURE_ID;
    struct req r8[] = {{RP_REPAIR, false, RA, &rroot}, {RP_REPAIR, false, RA, &rnodes},
                       {RP_REPAIR, false, RA, &rusers}, {RP_REPAIR, false, RA, &rparts},
                       {RP_REPAIR, false, RA, &rkeys}, {RP_REPAIR, false, RA, &rpush},
                       {RP_REPAIR, false, RA, &rroot},
                       {RP_REPAIR, false, RA, &rself}};
    both("repair", r8, N(r8));

    /* Only on the wire: what the call header can get wrong, and fragments. */
    struct buf o = {.len = 0};
    put_call(&o, 1, 2, FIXTURE_PROG, 2, RP_QUERY, QA, &movie1, 1);      /* PROG_MISMATCH */
    put_call(&o, 2, 2, FIXTURE_PROG + 1, 1, RP_QUERY, QA, &movie1, 1);  /* PROG_UNAVAIL */
    put_call(&o, 3, 2, FIXTURE_PROG, 1, 9, NULL, NULL, 1);              /* PROC_UNAVAIL */
    put_call(&o, 4, 3, FIXTURE_PROG, 1, RP_NULL, NULL, NULL, 1);        /* RPC_MISMATCH */
    put_call(&o, 5, 2, FIXTURE_PROG, 1, RP_QUERY, NULL, NULL, 1);       /* GARBAGE_ARGS */
    put_call(&o, 6, 2, FIXTURE_PROG, 1, RP_NULL, NULL, NULL, 1);
    write_seed("rpc_record", "header_errors", &o);
    o.len = 0;
    put_call(&o, 7, 2, FIXTURE_PROG, 1, RP_SUBMIT, UA, &add, 3);
    put_call(&o, 8, 2, FIXTURE_PROG, 1, RP_QUERY, QA, &toy_q, 2);
    write_seed("rpc_record", "fragments", &o);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seeds DIR\n");
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
        perror(outdir);
        return 1;
    }
    xdr_seeds();
    request_seeds();
    return 0;
}
