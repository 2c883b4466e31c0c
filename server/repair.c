/* repair.c -- anti-entropy repair: the caller's walk down the digest tree
 * and the callee's answers (repair.h). */
#include "repair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "digest.h"
#include "log.h"
#include "merkle.h"
#include "record.h"

#define X(f) ((xdrproc_t)(f))

/* ==== what a message may hold ============================================ */

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

/* A part of one owner's rows. */
static bool part_ok(const rt_repair_part *p)
{
    return merkle_nparts_ok(p->nparts) && p->part < p->nparts;
}

/* The part of `list` that the row (owner, movie) falls in, or NULL. */
static const rt_repair_part *part_of(const rt_repair_part *list, u_int n, uint32_t owner,
                                     uint32_t movie)
{
    for (u_int i = 0; i < n; i++)
        if (list[i].user == owner && merkle_part(movie, list[i].nparts) == list[i].part)
            return &list[i];
    return NULL;
}

/* Parts are valid, and one owner is split one way only (so that the rows
 * of an owner can be walked once for all its parts). */
static bool parts_ok(const rt_repair_part *p, u_int n)
{
    for (u_int i = 0; i < n; i++) {
        if (!part_ok(&p[i]))
            return false;
        for (u_int j = 0; j < i; j++)
            if (p[j].user == p[i].user && p[j].nparts != p[i].nparts)
                return false;
    }
    return true;
}

static bool rating_ok(const rt_snap_rating *r)
{
    return r->user > 0 && r->movie > 0 && r->halves <= RT_HALVES_MAX;
}

/* An alias names a lower id, and only created movies are aliases
 * (store.c: add_movie). */
static bool movie_ok(const rt_repair_movie *m)
{
    if (m->movie == 0 || !m->title || !m->genres)
        return false;
    if (m->alias_of)
        return m->movie >= RT_NEW_MOVIE_BASE && m->alias_of < m->movie;
    return m->title[0] != '\0';
}

/* Every row is well formed and in one of the parts. */
static bool rows_ok(const rt_repair_part *parts, u_int nparts, const rt_snap_rating *r, u_int nr,
                    const rt_repair_movie *m, u_int nm)
{
    for (u_int i = 0; i < nr; i++)
        if (!rating_ok(&r[i]) || !part_of(parts, nparts, r[i].user, r[i].movie))
            return false;
    for (u_int i = 0; i < nm; i++)
        if (!movie_ok(&m[i]) || !part_of(parts, nparts, MERKLE_MOVIES, m[i].movie))
            return false;
    return true;
}

static bool ask_ok(const rt_repair_ask *q)
{
    switch (q->step) {
    case REPAIR_ROOT:
        return true;
    case REPAIR_NODES: {
        const rt_repair_nodes *n = &q->rt_repair_ask_u.nodes;
        if (n->level >= MERKLE_LEVELS ||
            n->nodes.nodes_len * MERKLE_FANOUT > RT_MAX_REPAIR_DIGESTS)
            return false;
        for (u_int i = 0; i < n->nodes.nodes_len; i++)
            if (n->nodes.nodes_val[i] >= merkle_level_size(n->level))
                return false;
        return true;
    }
    case REPAIR_USERS: {
        const rt_repair_users_ask *u = &q->rt_repair_ask_u.users;
        for (u_int i = 0; i < u->buckets.buckets_len; i++)
            if (u->buckets.buckets_val[i] >= MERKLE_BUCKETS ||
                (i > 0 && u->buckets.buckets_val[i] <= u->buckets.buckets_val[i - 1]))
                return false;
        return true;
    }
    case REPAIR_PARTS: {
        uint64_t total = 0;
        for (u_int i = 0; i < q->rt_repair_ask_u.splits.splits_len; i++) {
            const rt_repair_split *sp = &q->rt_repair_ask_u.splits.splits_val[i];
            if (!merkle_nparts_ok(sp->nparts))
                return false;
            total += sp->nparts;
        }
        return total <= RT_MAX_REPAIR_DIGESTS;
    }
    case REPAIR_ROWS: {
        const rt_repair_rows *r = &q->rt_repair_ask_u.rows;
        return parts_ok(r->parts.parts_val, r->parts.parts_len) &&
               rows_ok(r->parts.parts_val, r->parts.parts_len, r->ratings.ratings_val,
                       r->ratings.ratings_len, r->movies.movies_val, r->movies.movies_len);
    }
    }
    return false;
}

/* ==== rows in and out ==================================================== */

static snap_rating_t rating_in(const rt_snap_rating *r)
{
    snap_rating_t s = {r->user, r->movie, r->halves, r->stamp, {r->uid.origin, r->uid.seq}};
    return s;
}

static void movie_in(const rt_repair_movie *m, movie_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->movie = m->movie;
    out->alias_of = m->alias_of;
    snprintf(out->title, sizeof out->title, "%s", m->title);
    snprintf(out->genres, sizeof out->genres, "%s", m->genres);
}

static uint64_t xrating_hash(const rt_snap_rating *r)
{
    upd_id_t uid = {r->uid.origin, r->uid.seq};
    return rating_row_hash(r->user, r->movie, r->halves, r->stamp, &uid);
}

static uint64_t xmovie_hash(const rt_repair_movie *m)
{
    return movie_row_hash(m->movie, m->title, m->genres, m->alias_of);
}

/* Merge rows a peer sent, the movies first (so that a movie's counts take
 * its ratings).  Returns the rows taken, or -1. */
static int64_t merge_rows(store_t *db, const rt_repair_rows *in)
{
    int64_t taken = 0;
    for (u_int i = 0; i < in->movies.movies_len; i++) {
        movie_info_t m;
        movie_in(&in->movies.movies_val[i], &m);
        int rc = store_repair_merge_movie(db, &m);
        if (rc < 0)
            return -1;
        taken += rc;
    }
    for (u_int i = 0; i < in->ratings.ratings_len; i++) {
        snap_rating_t r = rating_in(&in->ratings.ratings_val[i]);
        int rc = store_repair_merge_rating(db, &r);
        if (rc < 0)
            return -1;
        taken += rc;
    }
    return taken;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Rows of parts into an rt_repair_rows, leaving out those whose hash is
 * in `skip` (sorted): the rows the other side has already. */
struct collect {
    rt_repair_rows *out;
    const uint64_t *skip;
    size_t nskip;
    char err; /* out of memory */
};

static bool skipped(const struct collect *c, uint64_t h)
{
    return c->nskip && bsearch(&h, c->skip, c->nskip, sizeof h, cmp_u64);
}

static int collect_rating(void *arg, const snap_rating_t *r)
{
    struct collect *c = arg;
    upd_id_t uid = r->uid;
    if (skipped(c, rating_row_hash(r->user, r->movie, r->halves, r->stamp, &uid)))
        return 0;
    if (c->out->ratings.ratings_len == RT_MAX_REPAIR_ROWS) {
        c->out->more = TRUE; /* a later round finds the rest */
        return 0;
    }
    rt_snap_rating *x = &c->out->ratings.ratings_val[c->out->ratings.ratings_len++];
    *x = (rt_snap_rating){r->user, r->movie, r->halves, r->stamp, {r->uid.origin, r->uid.seq}};
    return 0;
}

static int collect_movie(void *arg, const movie_info_t *m)
{
    struct collect *c = arg;
    if (skipped(c, movie_row_hash(m->movie, m->title, m->genres, m->alias_of)))
        return 0;
    if (c->out->movies.movies_len == RT_MAX_REPAIR_ROWS) {
        c->out->more = TRUE;
        return 0;
    }
    char *title = strdup(m->title), *genres = strdup(m->genres);
    if (!title || !genres) {
        free(title);
        free(genres);
        c->err = 1;
        return -1;
    }
    c->out->movies.movies_val[c->out->movies.movies_len++] =
        (rt_repair_movie){m->movie, title, genres, m->alias_of};
    return 0;
}

static int rows_alloc(rt_repair_rows *out)
{
    out->ratings.ratings_val = calloc(RT_MAX_REPAIR_ROWS, sizeof(rt_snap_rating));
    out->movies.movies_val = calloc(RT_MAX_REPAIR_ROWS, sizeof(rt_repair_movie));
    return out->ratings.ratings_val && out->movies.movies_val ? 0 : -1;
}

static int cmp_part(const void *a, const void *b)
{
    const rt_repair_part *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->part > y->part) - (x->part < y->part);
}

/* The rows of the parts (valid: parts_ok), owner by owner, into c. */
static int collect_parts(store_t *db, const rt_repair_part *parts, u_int n, struct collect *c)
{
    rt_repair_part *p = malloc((n ? n : 1) * sizeof *p);
    uint8_t bits[MERKLE_MAX_PARTS / 8];
    if (!p)
        return -1;
    memcpy(p, parts, n * sizeof *p);
    qsort(p, n, sizeof *p, cmp_part);
    store_repair_sink_t sink = {collect_rating, collect_movie, c};
    int rc = 0;
    for (u_int i = 0; i < n && rc == 0;) {
        u_int j = i;
        memset(bits, 0, sizeof bits);
        for (; j < n && p[j].user == p[i].user; j++)
            bits[p[j].part / 8] |= (uint8_t)(1u << (p[j].part % 8));
        rc = store_repair_rows(db, p[i].user, p[i].nparts, bits, &sink);
        i = j;
    }
    free(p);
    return rc;
}

/* ==== the callee ========================================================= */

struct serve {
    const rt_repair_ask *q;
    rt_repair_answer *ans;
    int64_t taken;
};

static int serve_nodes(store_t *db, const rt_repair_nodes *n, rt_repair_answer *ans)
{
    u_int len = n->nodes.nodes_len * MERKLE_FANOUT;
    uint64_t *d = calloc(len ? len : 1, sizeof *d);
    ans->rt_repair_answer_u.digests.digests_val = (u_quad_t *)d;
    if (!d)
        return -1;
    ans->rt_repair_answer_u.digests.digests_len = len;
    for (u_int i = 0; i < n->nodes.nodes_len; i++)
        if (merkle_children(store_repair_tree(db), n->level, n->nodes.nodes_val[i],
                            d + (size_t)i * MERKLE_FANOUT) < 0)
            return -1;
    return 0;
}

static int serve_users(store_t *db, const rt_repair_users_ask *u, rt_repair_users *out)
{
    enum { MAX = RT_MAX_REPAIR_USERS };
    merkle_owner_t *o = calloc(MAX + 1, sizeof *o);
    out->users.users_val = calloc(MAX, sizeof *out->users.users_val);
    if (!o || !out->users.users_val) {
        free(o);
        return -1;
    }
    size_t n = 0;
    for (u_int i = 0; i < u->buckets.buckets_len && n <= MAX; i++) {
        uint32_t b = u->buckets.buckets_val[i];
        if (b < u->from_bucket)
            continue;
        size_t got = 0;
        if (store_repair_owners(db, b, b == u->from_bucket ? u->from_user : 0, o + n,
                                MAX + 1 - n, &got) < 0) {
            free(o);
            return -1;
        }
        n += got;
    }
    out->more = n > MAX; /* one more than fits: there are more */
    if (n > MAX)
        n = MAX;
    for (size_t i = 0; i < n; i++)
        out->users.users_val[i] = (rt_repair_user){o[i].bucket, o[i].owner, o[i].rows, o[i].digest};
    out->users.users_len = (u_int)n;
    free(o);
    return 0;
}

static int serve_parts(store_t *db, const rt_repair_split *sp, u_int n, rt_repair_answer *ans)
{
    u_int total = 0;
    for (u_int i = 0; i < n; i++)
        total += sp[i].nparts;
    uint64_t *d = calloc(total ? total : 1, sizeof *d);
    ans->rt_repair_answer_u.parts.parts_val = (u_quad_t *)d;
    if (!d)
        return -1;
    ans->rt_repair_answer_u.parts.parts_len = total;
    for (u_int i = 0, off = 0; i < n; off += sp[i].nparts, i++)
        if (store_repair_parts(db, sp[i].user, sp[i].nparts, d + off) < 0)
            return -1;
    return 0;
}

/* Merge the caller's rows, then answer with ours in the same parts that
 * the caller did not send as they are now here. */
static int serve_rows(store_t *db, const rt_repair_rows *in, rt_repair_rows *out, int64_t *taken)
{
    *taken = merge_rows(db, in);
    if (*taken < 0 || rows_alloc(out) < 0)
        return -1;
    size_t nskip = in->ratings.ratings_len + in->movies.movies_len;
    uint64_t *skip = malloc((nskip ? nskip : 1) * sizeof *skip);
    if (!skip)
        return -1;
    for (u_int i = 0; i < in->ratings.ratings_len; i++)
        skip[i] = xrating_hash(&in->ratings.ratings_val[i]);
    for (u_int i = 0; i < in->movies.movies_len; i++)
        skip[in->ratings.ratings_len + i] = xmovie_hash(&in->movies.movies_val[i]);
    qsort(skip, nskip, sizeof *skip, cmp_u64);
    struct collect c = {out, skip, nskip, 0};
    int rc = collect_parts(db, in->parts.parts_val, in->parts.parts_len, &c);
    free(skip);
    return rc;
}

static int serve_fn(void *arg, store_t *db)
{
    struct serve *sv = arg;
    rt_repair_answer *ans = sv->ans;
    switch (sv->q->step) {
    case REPAIR_ROOT:
        ans->rt_repair_answer_u.root = merkle_root(store_repair_tree(db));
        return 0;
    case REPAIR_NODES:
        return serve_nodes(db, &sv->q->rt_repair_ask_u.nodes, ans);
    case REPAIR_USERS:
        return serve_users(db, &sv->q->rt_repair_ask_u.users, &ans->rt_repair_answer_u.users);
    case REPAIR_PARTS:
        return serve_parts(db, sv->q->rt_repair_ask_u.splits.splits_val,
                           sv->q->rt_repair_ask_u.splits.splits_len, ans);
    case REPAIR_ROWS:
        return serve_rows(db, &sv->q->rt_repair_ask_u.rows, &ans->rt_repair_answer_u.rows,
                          &sv->taken);
    }
    return -1;
}

void repair_serve(state_t *s, const rt_repair_args *a, rt_repair_res *res)
{
    vts_t at, now;
    vts_zero(&now, s->cfg.n);
    res->answer.step = (uint32_t)a->ask.step <= REPAIR_ROWS ? a->ask.step : REPAIR_ROOT;
    if (a->from >= s->cfg.n || a->from == s->cfg.id) {
        res->status = RT_DENIED;
        log_warn("refused REPAIR claiming to be from replica %u: not another replica of this "
                 "cluster", a->from);
    } else if (vts_from_xdr(&at, &a->value_ts) != RT_OK || at.n > s->cfg.n ||
               !ask_ok(&a->ask)) {
        res->status = RT_INVALID;
        log_warn("refused a malformed REPAIR from replica %u", a->from);
    } else {
        struct serve sv = {&a->ask, &res->answer, 0};
        int rc = state_repair_at(s, &at, a->ask.step == REPAIR_ROWS, serve_fn, &sv, &now);
        res->status = rc > 0 ? RT_OK : rc == 0 ? RT_NOT_READY : RT_INTERNAL;
        if (rc < 0)
            log_error("repair for replica %u failed: %s", a->from, store_errmsg(s->store));
        if (sv.taken > 0)
            log_info("repair from replica %u: took %lld rows", a->from, (long long)sv.taken);
    }
    if (res->status != RT_OK) { /* nothing but the status and our timestamp */
        rt_repair_step step = res->answer.step;
        xdr_free(X(xdr_rt_repair_answer), (char *)&res->answer);
        memset(&res->answer, 0, sizeof res->answer);
        res->answer.step = step;
    }
    vts_to_xdr(&res->value_ts, &now);
}

/* ==== the caller ========================================================= */

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
    rt_repair_args args = {.from = r->s->cfg.id, .ask = *ask};
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

/* The rows of an answer are in the parts we asked about. */
static bool rows_ok_parts(const struct part *parts, size_t n, const rt_repair_rows *a)
{
    rt_repair_part p[RT_MAX_REPAIR_ASK];
    for (size_t i = 0; i < n; i++)
        p[i] = parts[i].p;
    return a->parts.parts_len == 0 &&
           rows_ok(p, (u_int)n, a->ratings.ratings_val, a->ratings.ratings_len,
                   a->movies.movies_val, a->movies.movies_len);
}

static int cmp_xpart(const void *a, const void *b)
{
    return cmp_part(&((const struct part *)a)->p, &((const struct part *)b)->p);
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

struct rows_read {
    const rt_repair_part *parts;
    u_int n;
    rt_repair_rows *out;
};

static int read_rows(void *arg, store_t *db)
{
    struct rows_read *rr = arg;
    struct collect c = {rr->out, NULL, 0, 0};
    return collect_parts(db, rr->parts, rr->n, &c);
}

struct rows_merge {
    const rt_repair_rows *in;
    int64_t taken;
};

static int merge_answer(void *arg, store_t *db)
{
    struct rows_merge *m = arg;
    m->taken = merge_rows(db, m->in);
    return m->taken < 0 ? -1 : 0;
}

/* Send our rows of parts[n]; merge what the peer answers with. */
static int rows_batch(struct round *r, const struct part *parts, size_t n)
{
    rt_repair_ask ask = {.step = REPAIR_ROWS};
    rt_repair_rows *q = &ask.rt_repair_ask_u.rows;
    rt_repair_part *p = malloc(n * sizeof *p);
    int rc = p && rows_alloc(q) == 0 ? 1 : -1;
    q->parts.parts_val = p;
    for (size_t i = 0; rc > 0 && i < n; i++)
        p[i] = parts[i].p;
    q->parts.parts_len = p ? (u_int)n : 0;
    struct rows_read rr = {p, (u_int)n, q};
    if (rc > 0)
        rc = local(r, false, read_rows, &rr);
    if (rc <= 0) {
        xdr_free(X(xdr_rt_repair_ask), (char *)&ask);
        return rc;
    }
    r->st->sent += q->ratings.ratings_len + q->movies.movies_len;
    r->st->parts += n;
    rt_repair_res res;
    rc = ask_peer(r, &ask, &res); /* frees ask, so p too: use res's parts no more */
    const rt_repair_rows *a = &res.answer.rt_repair_answer_u.rows;
    if (rc > 0 && !rows_ok_parts(parts, n, a))
        rc = -1;
    struct rows_merge m = {a, 0};
    if (rc > 0)
        rc = local(r, true, merge_answer, &m);
    if (rc > 0)
        r->st->taken += (uint64_t)m.taken;
    xdr_free(X(xdr_rt_repair_res), (char *)&res);
    return rc;
}

/* Movies first and alone, then ratings, in messages of at most
 * RT_MAX_REPAIR_ASK parts and about RT_MAX_REPAIR_ROWS expected rows. */
static int exchange_rows(struct round *r, struct parts *ps)
{
    qsort(ps->v, ps->n, sizeof *ps->v, cmp_xpart); /* owner 0 (the movies) first */
    int rc = 1;
    for (size_t i = 0; i < ps->n && rc > 0;) {
        size_t j = i;
        uint64_t expect = 0;
        while (j < ps->n && j - i < RT_MAX_REPAIR_ASK &&
               (j == i || ((ps->v[j].p.user == MERKLE_MOVIES) == (ps->v[i].p.user == MERKLE_MOVIES) &&
                           expect + ps->v[j].expect <= RT_MAX_REPAIR_ROWS)))
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
        log_info("repair with replica %u: %llu owners differed, %llu parts; sent %llu rows, "
                 "took %llu; %llu bytes in %llu calls, %llu ms",
                 k, (unsigned long long)st.owners, (unsigned long long)st.parts,
                 (unsigned long long)st.sent, (unsigned long long)st.taken,
                 (unsigned long long)st.bytes, (unsigned long long)st.calls,
                 (unsigned long long)st.ms);
    else
        log_debug("repair with replica %u: %s (%llu bytes)", k,
                  out == REPAIR_EQUAL ? "equal" : out == REPAIR_MOVED ? "other value timestamp"
                                                                        : "failed",
                  (unsigned long long)st.bytes);
    return out;
}

