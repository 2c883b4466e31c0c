/* repair.c -- anti-entropy repair, the caller's half: one round with a
 * peer down the digest tree (repair.h), and the round over RPC.  The
 * callee's half is repair_serve.c; the messages' checks and rows,
 * repair_msg.c. */
#include "repair_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "record.h"

#define X(f) REPAIR_XDR(f)

static bool has_u32(const uint32_t *v, size_t n, uint32_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] == x)
            return true;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

struct round {
    state_t *s;
    uint32_t peer;
    repair_call_fn call;
    void *ctx;
    vts_t at;              /* the value timestamp both sides compare at */
    struct repair_stats *st;
};

/* Ask the peer; ask's memory goes with the call.  1: answered at `at`;
 * 0: the peer is at another timestamp; -1: no valid answer. */
static int ask_peer(struct round *r, rt_repair_ask *ask, rt_repair_res *res)
{
    rt_repair_args args = {.from = state_id(r->s), .ask = *ask};
    rt_repair_step step = ask->step;
    memset(ask, 0, sizeof *ask);
    memset(res, 0, sizeof *res);
    int rc = vts_to_xdr(&args.value_ts, &r->at) < 0 ? -1 : r->call(r->ctx, &args, res);
    r->st->calls++;
    r->st->bytes += xdr_sizeof(X(xdr_rt_repair_args), &args);
    if (rc == 0)
        r->st->bytes += xdr_sizeof(X(xdr_rt_repair_res), res);
    xdr_free(X(xdr_rt_repair_args), (char *)&args);
    if (rc < 0)
        return -1;
    if (res->status == RT_NOT_READY)
        return 0;
    if (res->status != RT_OK || res->answer.step != step) {
        log_warn("repair: replica %u answered %s", r->peer,
                 res->status == RT_DENIED ? "denied (another key file?)" : "with an error");
        return -1;
    }
    return 1;
}

/* Run fn on our store at r->at: 1 done, 0 our timestamp moved, -1 failed. */
static int local(struct round *r, bool writes, int (*fn)(void *arg, store_t *db), void *arg)
{
    vts_t now;
    return state_repair_at(r->s, &r->at, writes, fn, arg, &now);
}

/* ---- root ---- */

static int read_root(void *arg, store_t *db)
{
    *(uint64_t *)arg = merkle_root(store_repair_tree(db));
    return 0;
}

/* ---- nodes, level by level ---- */

struct nodes_read {
    uint32_t level;
    const uint32_t *nodes;
    size_t n;
    uint64_t *out;
};

static int read_children(void *arg, store_t *db)
{
    struct nodes_read *nr = arg;
    for (size_t i = 0; i < nr->n; i++)
        if (merkle_children(store_repair_tree(db), nr->level, nr->nodes[i],
                            nr->out + i * MERKLE_FANOUT) < 0)
            return -1;
    return 0;
}

/* The children of nodes[n] (of `level`) whose digests differ, into next
 * (room for MERKLE_BUCKETS); their count in *nnext.  1, 0 or -1 as local. */
static int descend(struct round *r, uint32_t level, const uint32_t *nodes, size_t n,
                   uint32_t *next, size_t *nnext)
{
    enum { BATCH = RT_MAX_REPAIR_DIGESTS / MERKLE_FANOUT };
    uint64_t mine[RT_MAX_REPAIR_DIGESTS];
    uint32_t diff[RT_MAX_REPAIR_DIGESTS];
    *nnext = 0;
    for (size_t off = 0; off < n; off += BATCH) {
        size_t b = n - off < BATCH ? n - off : BATCH;
        rt_repair_ask ask = {.step = REPAIR_NODES};
        ask.rt_repair_ask_u.nodes.level = level;
        ask.rt_repair_ask_u.nodes.nodes.nodes_len = (u_int)b;
        ask.rt_repair_ask_u.nodes.nodes.nodes_val = malloc(b * sizeof(u_int));
        if (!ask.rt_repair_ask_u.nodes.nodes.nodes_val)
            return -1;
        memcpy(ask.rt_repair_ask_u.nodes.nodes.nodes_val, nodes + off, b * sizeof(u_int));
        rt_repair_res res;
        int rc = ask_peer(r, &ask, &res);
        const rt_repair_answer *a = &res.answer;
        if (rc > 0 && a->rt_repair_answer_u.digests.digests_len != b * MERKLE_FANOUT)
            rc = -1;
        struct nodes_read nr = {level, nodes + off, b, mine};
        if (rc > 0)
            rc = local(r, false, read_children, &nr);
        if (rc > 0) {
            size_t k = merkle_diff(mine, (const uint64_t *)a->rt_repair_answer_u.digests.digests_val,
                                   b * MERKLE_FANOUT, diff);
            for (size_t i = 0; i < k; i++)
                next[(*nnext)++] = nodes[off + diff[i] / MERKLE_FANOUT] * MERKLE_FANOUT +
                                   diff[i] % MERKLE_FANOUT;
        }
        xdr_free(X(xdr_rt_repair_res), (char *)&res);
        if (rc <= 0)
            return rc;
    }
    return 1;
}

/* ---- owners of the buckets that differ ---- */

/* A growing array of owners. */
struct owners {
    merkle_owner_t *v;
    size_t n, cap;
};

static int owners_push(struct owners *o, const merkle_owner_t *e)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        merkle_owner_t *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return -1;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = *e;
    return 0;
}

struct owners_read {
    const uint32_t *buckets;
    size_t n;
    struct owners *out;
};

static int read_owners(void *arg, store_t *db)
{
    struct owners_read *or = arg;
    merkle_owner_t page[256];
    for (size_t i = 0; i < or->n; i++) {
        uint32_t from = 0;
        size_t got;
        do {
            if (store_repair_owners(db, or->buckets[i], from, page, 256, &got) < 0)
                return -1;
            for (size_t j = 0; j < got; j++)
                if (owners_push(or->out, &page[j]) < 0)
                    return -1;
            if (got)
                from = page[got - 1].owner + 1;
        } while (got == 256);
    }
    return 0;
}

/* The peer's owners of buckets[n] (ascending), page by page, checked to
 * be in those buckets and in order. */
static int peer_owners(struct round *r, const uint32_t *buckets, size_t n, struct owners *out)
{
    uint32_t from_bucket = 0, from_user = 0;
    for (;;) {
        rt_repair_ask ask = {.step = REPAIR_USERS};
        rt_repair_users_ask *u = &ask.rt_repair_ask_u.users;
        u->buckets.buckets_val = malloc(n * sizeof(u_int));
        if (!u->buckets.buckets_val)
            return -1;
        memcpy(u->buckets.buckets_val, buckets, n * sizeof(u_int));
        u->buckets.buckets_len = (u_int)n;
        u->from_bucket = from_bucket;
        u->from_user = from_user;
        rt_repair_res res;
        int rc = ask_peer(r, &ask, &res);
        const rt_repair_users *a = &res.answer.rt_repair_answer_u.users;
        bool more = rc > 0 && a->more && a->users.users_len > 0;
        for (u_int i = 0; rc > 0 && i < a->users.users_len; i++) {
            const rt_repair_user *e = &a->users.users_val[i];
            merkle_owner_t o = {e->bucket, e->user, e->rows, e->digest};
            bool sorted = out->n == 0 || out->v[out->n - 1].bucket < o.bucket ||
                          (out->v[out->n - 1].bucket == o.bucket && out->v[out->n - 1].owner < o.owner);
            if (!sorted || merkle_bucket(o.owner) != o.bucket || !has_u32(buckets, n, o.bucket))
                rc = -1;
            else if (owners_push(out, &o) < 0)
                rc = -1;
            from_bucket = o.bucket;
            from_user = o.owner + 1;
        }
        xdr_free(X(xdr_rt_repair_res), (char *)&res);
        if (rc <= 0 || !more)
            return rc;
    }
}

/* The owners that differ in the buckets, into *diffs. */
struct diffs {
    merkle_owner_diff_t *v;
    size_t n;
};

static int owners_differing(struct round *r, const uint32_t *buckets, size_t n, struct diffs *d)
{
    enum { BATCH = RT_MAX_REPAIR_ASK };
    int rc = 1;
    for (size_t off = 0; off < n && rc > 0; off += BATCH) {
        size_t b = n - off < BATCH ? n - off : BATCH;
        struct owners mine = {0}, theirs = {0};
        struct owners_read or = {buckets + off, b, &mine};
        rc = peer_owners(r, buckets + off, b, &theirs);
        if (rc > 0)
            rc = local(r, false, read_owners, &or);
        merkle_owner_diff_t *v = rc > 0 ? realloc(d->v, (d->n + mine.n + theirs.n + 1) * sizeof *v)
                                        : NULL;
        if (rc > 0 && !v)
            rc = -1;
        if (rc > 0) {
            d->v = v;
            d->n += merkle_owners_diff(mine.v, mine.n, theirs.v, theirs.n, d->v + d->n);
        }
        free(mine.v);
        free(theirs.v);
    }
    return rc;
}

/* ---- parts of the owners that differ ---- */

/* A part to exchange, with the rows we expect in it (to fill messages). */
struct part {
    rt_repair_part p;
    uint32_t expect;
};

struct parts {
    struct part *v;
    size_t n, cap;
};

static int parts_push(struct parts *ps, uint32_t owner, uint32_t nparts, uint32_t part,
                      uint32_t rows)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 256;
        struct part *v = realloc(ps->v, cap * sizeof *v);
        if (!v)
            return -1;
        ps->v = v;
        ps->cap = cap;
    }
    ps->v[ps->n++] = (struct part){{owner, nparts, part}, rows / nparts + 1};
    return 0;
}

static int cmp_xpart(const void *a, const void *b)
{
    const rt_repair_part *x = &((const struct part *)a)->p, *y = &((const struct part *)b)->p;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->part > y->part) - (x->part < y->part);
}

struct parts_read {
    const rt_repair_split *splits;
    size_t n;
    uint64_t *out;
};

static int read_parts(void *arg, store_t *db)
{
    struct parts_read *pr = arg;
    for (size_t i = 0, off = 0; i < pr->n; off += pr->splits[i].nparts, i++)
        if (store_repair_parts(db, pr->splits[i].user, pr->splits[i].nparts, pr->out + off) < 0)
            return -1;
    return 0;
}

/* Compare the part digests of a batch of splits; differing parts to ps. */
static int split_batch(struct round *r, const rt_repair_split *sp, size_t n, u_int total,
                       const uint32_t *rows, struct parts *ps)
{
    rt_repair_ask ask = {.step = REPAIR_PARTS};
    ask.rt_repair_ask_u.splits.splits_val = malloc(n * sizeof *sp);
    uint64_t *mine = malloc(total * sizeof *mine);
    if (!ask.rt_repair_ask_u.splits.splits_val || !mine) {
        free(ask.rt_repair_ask_u.splits.splits_val);
        free(mine);
        return -1;
    }
    memcpy(ask.rt_repair_ask_u.splits.splits_val, sp, n * sizeof *sp);
    ask.rt_repair_ask_u.splits.splits_len = (u_int)n;
    rt_repair_res res;
    int rc = ask_peer(r, &ask, &res);
    const uint64_t *theirs = (const uint64_t *)res.answer.rt_repair_answer_u.parts.parts_val;
    if (rc > 0 && res.answer.rt_repair_answer_u.parts.parts_len != total)
        rc = -1;
    struct parts_read pr = {sp, n, mine};
    if (rc > 0)
        rc = local(r, false, read_parts, &pr);
    for (size_t i = 0, off = 0; rc > 0 && i < n; off += sp[i].nparts, i++)
        for (uint32_t p = 0; p < sp[i].nparts; p++)
            if (mine[off + p] != theirs[off + p] &&
                parts_push(ps, sp[i].user, sp[i].nparts, p, rows[i]) < 0)
                rc = -1;
    xdr_free(X(xdr_rt_repair_res), (char *)&res);
    free(mine);
    return rc;
}

/* An owner with a few rows is exchanged whole; the others are split and
 * their parts compared. */
static int parts_differing(struct round *r, const struct diffs *d, struct parts *ps)
{
    rt_repair_split sp[RT_MAX_REPAIR_ASK];
    uint32_t rows[RT_MAX_REPAIR_ASK];
    size_t n = 0;
    u_int total = 0;
    int rc = 1;
    for (size_t i = 0; i <= d->n && rc > 0; i++) {
        uint32_t most = i < d->n ? (d->v[i].mine > d->v[i].theirs ? d->v[i].mine : d->v[i].theirs)
                                 : 0;
        uint32_t np = i < d->n ? merkle_nparts(most) : 0;
        if (np == 1) {
            rc = parts_push(ps, d->v[i].owner, 1, 0, most) < 0 ? -1 : 1;
            continue;
        }
        if (n > 0 && (i == d->n || n == RT_MAX_REPAIR_ASK || total + np > RT_MAX_REPAIR_DIGESTS)) {
            rc = split_batch(r, sp, n, total, rows, ps);
            n = 0;
            total = 0;
        }
        if (i < d->n) {
            sp[n] = (rt_repair_split){d->v[i].owner, np};
            rows[n++] = most;
            total += np;
        }
    }
    return rc;
}

/* ---- rows of the parts that differ ---- */

struct set_read {
    const rt_repair_part *parts;
    u_int n;
    repair_set_t *set;
};

static int read_set(void *arg, store_t *db)
{
    struct set_read *sr = arg;
    return repair_set_read(db, sr->parts, sr->n, sr->set);
}

struct rows_merge {
    const rt_repair_rows *in;
    int64_t taken;
};

static int merge_answer(void *arg, store_t *db)
{
    struct rows_merge *m = arg;
    m->taken = repair_rows_merge(db, m->in);
    return m->taken < 0 ? -1 : 0;
}

/* The keys of our rows of the parts, for KEYS. */
static rt_repair_ask keys_ask(const rt_repair_part *parts, u_int n, const repair_set_t *mine)
{
    rt_repair_ask ask = {.step = REPAIR_KEYS};
    rt_repair_keys *k = &ask.rt_repair_ask_u.keys;
    size_t nk = mine->n < RT_MAX_REPAIR_KEYS ? mine->n : RT_MAX_REPAIR_KEYS;
    k->parts.parts_val = malloc(n * sizeof *parts);
    k->keys.keys_val = malloc((nk ? nk : 1) * sizeof *k->keys.keys_val);
    if (!k->parts.parts_val || !k->keys.keys_val)
        return ask; /* empty: ask_keys sees it */
    memcpy(k->parts.parts_val, parts, n * sizeof *parts);
    k->parts.parts_len = n;
    for (size_t i = 0; i < nk; i++) /* past the bound: the peer sends its rows of the rest */
        k->keys.keys_val[i] = (rt_repair_key){mine->entries[i].user, mine->entries[i].movie,
                                              mine->entries[i].hash};
    k->keys.keys_len = (u_int)nk;
    return ask;
}

/* Does the peer's answer hold a rating for the key that wins over ours? */
static bool theirs_wins(const rt_repair_rows *theirs, const repair_set_t *mine,
                        const repair_entry_t *e)
{
    if (e->user == MERKLE_MOVIES)
        return false; /* the movie rule is the callee's to apply */
    const snap_rating_t *m = &mine->ratings[e->at];
    for (u_int i = 0; i < theirs->ratings.ratings_len; i++) {
        const rt_snap_rating *t = &theirs->ratings.ratings_val[i];
        upd_id_t uid = {t->uid.origin, t->uid.seq};
        if (t->user == e->user && t->movie == e->movie)
            return lww_row_cmp(t->stamp, &uid, t->halves, m->stamp, &m->uid, m->halves) > 0;
    }
    return false;
}

/* Send the peer our rows of the keys it asked for, but those its own row
 * wins over, RT_MAX_REPAIR_ROWS a message.  1, 0 or -1 as local. */
static int push(struct round *r, const rt_repair_diff *d, const repair_set_t *mine)
{
    int rc = 1;
    for (u_int i = 0; i < d->wanted.wanted_len && rc > 0;) {
        rt_repair_ask ask = {.step = REPAIR_PUSH};
        rt_repair_rows *out = &ask.rt_repair_ask_u.rows;
        if (repair_rows_alloc(out) < 0)
            rc = -1;
        for (int added = 1; rc > 0 && added > 0 && i < d->wanted.wanted_len; i++) {
            const rt_key *k = &d->wanted.wanted_val[i];
            const repair_entry_t *e = repair_set_find(mine, k->user, k->movie);
            if (!e || theirs_wins(&d->rows, mine, e))
                continue;
            added = repair_rows_add(out, mine, e);
            if (added < 0)
                rc = -1;
            else if (added == 0)
                break; /* full: this one goes in the next message */
        }
        u_int n = out->ratings.ratings_len + out->movies.movies_len;
        if (rc < 0 || n == 0) {
            xdr_free(REPAIR_XDR(xdr_rt_repair_ask), (char *)&ask);
            continue;
        }
        r->st->sent += n;
        rt_repair_res res;
        rc = ask_peer(r, &ask, &res);
        xdr_free(REPAIR_XDR(xdr_rt_repair_res), (char *)&res);
    }
    return rc;
}

/* One exchange of a batch of parts: our keys, the peer's rows and the
 * keys it wants, our merge, our push.  *more: the peer left rows out. */
static int exchange_once(struct round *r, const rt_repair_part *p, u_int n,
                         const repair_set_t *mine, bool *more)
{
    rt_repair_ask ask = keys_ask(p, n, mine);
    bool empty = ask.rt_repair_ask_u.keys.parts.parts_len == 0;
    r->st->keys += ask.rt_repair_ask_u.keys.keys.keys_len;
    rt_repair_res res;
    int rc = empty ? -1 : ask_peer(r, &ask, &res);
    if (empty)
        xdr_free(REPAIR_XDR(xdr_rt_repair_ask), (char *)&ask);
    const rt_repair_diff *d = &res.answer.rt_repair_answer_u.diff;
    if (rc > 0 && !repair_rows_ok(&d->rows, p, n))
        rc = -1;
    struct rows_merge m = {&d->rows, 0};
    if (rc > 0 && d->rows.ratings.ratings_len + d->rows.movies.movies_len > 0)
        rc = local(r, true, merge_answer, &m);
    r->st->taken += m.taken > 0 ? (uint64_t)m.taken : 0;
    if (rc > 0)
        rc = push(r, d, mine);
    *more = rc > 0 && d->more;
    if (!empty)
        xdr_free(REPAIR_XDR(xdr_rt_repair_res), (char *)&res);
    return rc;
}

/* A batch of parts: our rows of them, then exchanges until the peer has
 * sent all of its own (each exchange makes the keys it carried equal: our
 * merge or our push).  A batch whose rows exceed a message is halved. */
static int rows_batch(struct round *r, const struct part *parts, size_t n)
{
    rt_repair_part *p = malloc(n * sizeof *p);
    if (!p)
        return -1;
    for (size_t i = 0; i < n; i++)
        p[i] = parts[i].p;
    int rc = 1;
    bool more = true;
    for (int tries = 0; rc > 0 && more && tries < 16; tries++) {
        repair_set_t mine = {0};
        struct set_read sr = {p, (u_int)n, &mine};
        rc = local(r, false, read_set, &sr);
        if (rc > 0 && mine.n > RT_MAX_REPAIR_KEYS && n > 1) {
            repair_set_free(&mine);
            free(p);
            rc = rows_batch(r, parts, n / 2);
            return rc > 0 ? rows_batch(r, parts + n / 2, n - n / 2) : rc;
        }
        if (rc > 0)
            rc = exchange_once(r, p, (u_int)n, &mine, &more);
        repair_set_free(&mine);
    }
    r->st->parts += n;
    free(p);
    return rc;
}

/* Movies first and alone, then ratings, in batches of at most
 * RT_MAX_REPAIR_ASK parts and about RT_MAX_REPAIR_KEYS expected rows. */
static int exchange_rows(struct round *r, struct parts *ps)
{
    if (ps->n)
        qsort(ps->v, ps->n, sizeof *ps->v, cmp_xpart); /* owner 0 (the movies) first */
    int rc = 1;
    for (size_t i = 0; i < ps->n && rc > 0;) {
        size_t j = i;
        uint64_t expect = 0;
        bool movies = ps->v[i].p.user == MERKLE_MOVIES;
        while (j < ps->n && j - i < RT_MAX_REPAIR_ASK &&
               (j == i || ((ps->v[j].p.user == MERKLE_MOVIES) == movies &&
                           expect + ps->v[j].expect <= RT_MAX_REPAIR_KEYS)))
            expect += ps->v[j++].expect;
        rc = rows_batch(r, ps->v + i, j - i);
        i = j;
    }
    return rc;
}

/* ---- a round ---- */

static enum repair_outcome outcome_of(int rc)
{
    return rc > 0 ? REPAIR_DONE : rc == 0 ? REPAIR_MOVED : REPAIR_FAILED;
}

/* Everything below a differing root. */
static int walk(struct round *r)
{
    uint32_t *nodes = malloc(MERKLE_BUCKETS * sizeof *nodes);
    uint32_t *next = malloc(MERKLE_BUCKETS * sizeof *next);
    struct diffs d = {0};
    struct parts ps = {0};
    size_t n = 1;
    int rc = nodes && next ? 1 : -1;
    if (rc > 0)
        nodes[0] = 0;
    for (uint32_t level = 0; rc > 0 && level < MERKLE_LEVELS && n > 0; level++) {
        rc = descend(r, level, nodes, n, next, &n);
        uint32_t *t = nodes;
        nodes = next;
        next = t;
    }
    if (rc > 0)
        rc = owners_differing(r, nodes, n, &d);
    r->st->owners = d.n;
    if (rc > 0)
        rc = parts_differing(r, &d, &ps);
    if (rc > 0)
        rc = exchange_rows(r, &ps);
    free(nodes);
    free(next);
    free(d.v);
    free(ps.v);
    return rc;
}

enum repair_outcome repair_round(state_t *s, uint32_t k, repair_call_fn call, void *ctx,
                                 struct repair_stats *stats)
{
    struct repair_stats none;
    if (!stats)
        stats = &none;
    memset(stats, 0, sizeof *stats);
    struct round r = {s, k, call, ctx, {0}, stats};
    uint64_t t0 = clock_mono_ms(), mine = 0;
    if (state_repair_at(s, NULL, false, read_root, &mine, &r.at) < 0)
        return REPAIR_FAILED;
    rt_repair_ask ask = {.step = REPAIR_ROOT};
    rt_repair_res res;
    int rc = ask_peer(&r, &ask, &res);
    uint64_t theirs = res.answer.rt_repair_answer_u.root;
    xdr_free(X(xdr_rt_repair_res), (char *)&res);
    enum repair_outcome out = rc <= 0 ? outcome_of(rc) : theirs == mine ? REPAIR_EQUAL
                                                                          : outcome_of(walk(&r));
    stats->ms = clock_mono_ms() - t0;
    return out;
}

/* ---- over RPC ---- */

static int call_over_rpc(void *ctx, rt_repair_args *args, rt_repair_res *res)
{
    CLIENT *clnt = ctx;
    if (auth_sign_call(AUTH_REPAIR, X(xdr_rt_repair_args), args, &args->mac.mac_len,
                       &args->mac.mac_val))
        return -1;
    enum clnt_stat cs = rp_repair_1(*args, res, clnt);
    if (cs != RPC_SUCCESS) {
        log_debug("repair: %s", clnt_sperrno(cs));
        return -1;
    }
    if (!auth_verify_reply(AUTH_REPAIR, args->mac.mac_len, args->mac.mac_val,
                           X(xdr_rt_repair_res), res, &res->mac.mac_len, &res->mac.mac_val)) {
        log_warn("repair: an answer without a valid authenticator: ignored");
        return -1;
    }
    return 0;
}

enum repair_outcome repair_with_peer(state_t *s, uint32_t k, CLIENT *clnt)
{
    struct repair_stats st;
    enum repair_outcome out = repair_round(s, k, call_over_rpc, clnt, &st);
    if (out == REPAIR_DONE)
        log_info("repair with replica %u: %llu owners differed, %llu parts, %llu row hashes; "
                 "sent %llu rows, took %llu; %llu bytes in %llu calls, %llu ms",
                 k, (unsigned long long)st.owners, (unsigned long long)st.parts,
                 (unsigned long long)st.keys, (unsigned long long)st.sent,
                 (unsigned long long)st.taken,
                 (unsigned long long)st.bytes, (unsigned long long)st.calls,
                 (unsigned long long)st.ms);
    else
        log_debug("repair with replica %u: %s (%llu bytes)", k,
                  out == REPAIR_EQUAL ? "equal" : out == REPAIR_MOVED ? "other value timestamp"
                                                                        : "failed",
                  (unsigned long long)st.bytes);
    return out;
}

