/*
 * repair_serve.c -- the callee's half of anti-entropy repair (repair.h):
 * every call is checked first (repair_ask_ok), then answered under the
 * state lock only at the caller's value timestamp (state_repair_at):
 *   ROOT, NODES  from the digest tree in memory;
 *   USERS        a page of the owners of some buckets (table digests);
 *   PARTS        part digests, from each owner's rows;
 *   KEYS         our rows of the parts that the caller's keys do not name
 *                with the same hash, and the caller's keys that ours do
 *                not match (read only);
 *   PUSH         the caller's rows, merged by last writer wins in one
 *                transaction, durable before the answer.
 */
#include "repair_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

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
    merkle_owner_t *o = calloc(MAX + 1, sizeof *o); /* one more: are there more? */
    out->users.users_val = calloc(MAX, sizeof *out->users.users_val);
    if (!o || !out->users.users_val) {
        free(o);
        return -1;
    }
    size_t n = 0;
    for (u_int i = 0; i < u->buckets.buckets_len && n <= MAX; i++) {
        uint32_t b = u->buckets.buckets_val[i];
        size_t nb = 0;
        if (b < u->from_bucket)
            continue;
        if (store_repair_owners(db, b, b == u->from_bucket ? u->from_user : 0, o + n,
                                MAX + 1 - n, &nb) < 0) {
            free(o);
            return -1;
        }
        n += nb;
    }
    out->more = n > MAX;
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

static int cmp_key(const void *a, const void *b)
{
    const rt_repair_key *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->movie > y->movie) - (x->movie < y->movie);
}

/* Ours that differ go out whole; theirs that differ are asked for. */
static int serve_keys(store_t *db, const rt_repair_keys *in, rt_repair_diff *out)
{
    u_int nk = in->keys.keys_len;
    rt_repair_key *keys = malloc((nk ? nk : 1) * sizeof *keys);
    bool *same = calloc(nk ? nk : 1, sizeof *same);
    repair_set_t mine = {0};
    out->wanted.wanted_val = calloc(nk ? nk : 1, sizeof *out->wanted.wanted_val);
    int rc = keys && same && out->wanted.wanted_val && repair_rows_alloc(&out->rows) == 0
                 ? repair_set_read(db, in->parts.parts_val, in->parts.parts_len, &mine)
                 : -1;
    if (rc == 0 && nk) { /* (an empty XDR array has no memory) */
        memcpy(keys, in->keys.keys_val, nk * sizeof *keys);
        qsort(keys, nk, sizeof *keys, cmp_key);
    }
    for (size_t i = 0; i < mine.n && rc == 0; i++) {
        const repair_entry_t *e = &mine.entries[i];
        rt_repair_key probe = {e->user, e->movie, 0};
        rt_repair_key *k = nk ? bsearch(&probe, keys, nk, sizeof probe, cmp_key) : NULL;
        if (k && k->hash == e->hash) {
            same[k - keys] = true;
            continue;
        }
        int added = repair_rows_add(&out->rows, &mine, e);
        if (added < 0)
            rc = -1;
        else if (added == 0)
            out->more = TRUE; /* the caller asks again, with these merged */
    }
    for (u_int i = 0; i < nk && rc == 0; i++)
        if (!same[i])
            out->wanted.wanted_val[out->wanted.wanted_len++] =
                (rt_key){keys[i].user, keys[i].movie};
    repair_set_free(&mine);
    free(keys);
    free(same);
    return rc;
}

static int serve_fn(void *arg, store_t *db)
{
    struct serve *sv = arg;
    const rt_repair_ask *q = sv->q;
    rt_repair_answer *ans = sv->ans;
    switch (q->step) {
    case REPAIR_ROOT:
        ans->rt_repair_answer_u.root = merkle_root(store_repair_tree(db));
        return 0;
    case REPAIR_NODES:
        return serve_nodes(db, &q->rt_repair_ask_u.nodes, ans);
    case REPAIR_USERS:
        return serve_users(db, &q->rt_repair_ask_u.users, &ans->rt_repair_answer_u.users);
    case REPAIR_PARTS:
        return serve_parts(db, q->rt_repair_ask_u.splits.splits_val,
                           q->rt_repair_ask_u.splits.splits_len, ans);
    case REPAIR_KEYS:
        return serve_keys(db, &q->rt_repair_ask_u.keys, &ans->rt_repair_answer_u.diff);
    case REPAIR_PUSH:
        sv->taken = repair_rows_merge(db, &q->rt_repair_ask_u.rows);
        ans->rt_repair_answer_u.taken = sv->taken > 0 ? (u_int)sv->taken : 0;
        return sv->taken < 0 ? -1 : 0;
    }
    return -1;
}

void repair_serve(state_t *s, const rt_repair_args *a, rt_repair_res *res)
{
    vts_t at, now;
    vts_zero(&now, state_nreplicas(s));
    res->answer.step = (uint32_t)a->ask.step <= REPAIR_PUSH ? a->ask.step : REPAIR_ROOT;
    if (a->from >= state_nreplicas(s) || a->from == state_id(s)) {
        res->status = RT_DENIED;
        log_warn("refused REPAIR claiming to be from replica %u: not another replica of this "
                 "cluster", a->from);
    } else if (vts_from_xdr(&at, &a->value_ts) != RT_OK || at.n > state_nreplicas(s) ||
               !repair_ask_ok(&a->ask)) {
        res->status = RT_INVALID;
        log_warn("refused a malformed REPAIR from replica %u", a->from);
    } else {
        struct serve sv = {&a->ask, &res->answer, 0};
        int rc = state_repair_at(s, &at, a->ask.step == REPAIR_PUSH, serve_fn, &sv, &now);
        res->status = rc > 0 ? RT_OK : rc == 0 ? RT_NOT_READY : RT_INTERNAL;
        if (rc < 0)
            log_error("repair for replica %u failed", a->from);
        if (rc > 0 && sv.taken > 0)
            log_info("repair from replica %u: took %lld rows", a->from, (long long)sv.taken);
    }
    if (res->status != RT_OK) { /* nothing but the status and our timestamp */
        rt_repair_step step = res->answer.step;
        xdr_free(REPAIR_XDR(xdr_rt_repair_answer), (char *)&res->answer);
        memset(&res->answer, 0, sizeof res->answer);
        res->answer.step = step;
    }
    vts_to_xdr(&res->value_ts, &now);
}
