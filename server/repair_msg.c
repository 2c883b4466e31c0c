/*
 * repair_msg.c -- the messages of anti-entropy repair (repair_int.h):
 * what a call may hold, checked before the callee takes its lock; the
 * rows of some parts read from the store with their hashes, and rows
 * between the store and messages.
 */
#include "repair_int.h"

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "record.h"

/* ---- checks --------------------------------------------------------------- */

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

/* Valid parts, and one owner split one way only (so that an owner's rows
 * are walked once for all its parts). */
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
 * (store_value.c: add_movie); any other movie has a title. */
static bool movie_ok(const rt_repair_movie *m)
{
    if (m->movie == 0 || !m->title || !m->genres)
        return false;
    if (m->alias_of)
        return m->movie >= RT_NEW_MOVIE_BASE && m->alias_of < m->movie;
    return m->title[0] != '\0';
}

bool repair_rows_ok(const rt_repair_rows *rows, const rt_repair_part *parts, u_int nparts)
{
    for (u_int i = 0; i < rows->ratings.ratings_len; i++) {
        const rt_snap_rating *r = &rows->ratings.ratings_val[i];
        if (!rating_ok(r) || (parts && !part_of(parts, nparts, r->user, r->movie)))
            return false;
    }
    for (u_int i = 0; i < rows->movies.movies_len; i++) {
        const rt_repair_movie *m = &rows->movies.movies_val[i];
        if (!movie_ok(m) || (parts && !part_of(parts, nparts, MERKLE_MOVIES, m->movie)))
            return false;
    }
    return true;
}

static bool nodes_ok(const rt_repair_nodes *n)
{
    if (n->level >= MERKLE_LEVELS || n->nodes.nodes_len * MERKLE_FANOUT > RT_MAX_REPAIR_DIGESTS)
        return false;
    for (u_int i = 0; i < n->nodes.nodes_len; i++)
        if (n->nodes.nodes_val[i] >= merkle_level_size(n->level))
            return false;
    return true;
}

static bool buckets_ok(const rt_repair_users_ask *u)
{
    for (u_int i = 0; i < u->buckets.buckets_len; i++)
        if (u->buckets.buckets_val[i] >= MERKLE_BUCKETS ||
            (i > 0 && u->buckets.buckets_val[i] <= u->buckets.buckets_val[i - 1]))
            return false;
    return true;
}

static bool splits_ok(const rt_repair_split *sp, u_int n)
{
    uint64_t total = 0;
    for (u_int i = 0; i < n; i++) {
        if (!merkle_nparts_ok(sp[i].nparts))
            return false;
        total += sp[i].nparts;
    }
    return total <= RT_MAX_REPAIR_DIGESTS;
}

static bool keys_ok(const rt_repair_keys *k)
{
    const rt_repair_part *p = k->parts.parts_val;
    u_int n = k->parts.parts_len;
    if (!parts_ok(p, n))
        return false;
    for (u_int i = 0; i < k->keys.keys_len; i++)
        if (!part_of(p, n, k->keys.keys_val[i].user, k->keys.keys_val[i].movie))
            return false;
    return true;
}

bool repair_ask_ok(const rt_repair_ask *q)
{
    switch (q->step) {
    case REPAIR_ROOT: return true;
    case REPAIR_NODES: return nodes_ok(&q->rt_repair_ask_u.nodes);
    case REPAIR_USERS: return buckets_ok(&q->rt_repair_ask_u.users);
    case REPAIR_PARTS:
        return splits_ok(q->rt_repair_ask_u.splits.splits_val,
                         q->rt_repair_ask_u.splits.splits_len);
    case REPAIR_KEYS: return keys_ok(&q->rt_repair_ask_u.keys);
    case REPAIR_PUSH: return repair_rows_ok(&q->rt_repair_ask_u.rows, NULL, 0);
    }
    return false;
}

/* ---- the rows of some parts ------------------------------------------------ */

static int grow(void **v, size_t *cap, size_t size)
{
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, c * size);
    if (!p)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

static int add_entry(repair_set_t *s, uint32_t user, uint32_t movie, uint64_t hash, size_t at)
{
    if (s->n == s->cap && grow((void **)&s->entries, &s->cap, sizeof *s->entries) < 0)
        return -1;
    s->entries[s->n++] = (repair_entry_t){user, movie, hash, (uint32_t)at};
    return 0;
}

static int set_rating(void *arg, const snap_rating_t *r)
{
    repair_set_t *s = arg;
    if (s->nratings == s->cap_ratings &&
        grow((void **)&s->ratings, &s->cap_ratings, sizeof *s->ratings) < 0)
        return -1;
    s->ratings[s->nratings] = *r;
    upd_id_t uid = r->uid;
    return add_entry(s, r->user, r->movie,
                     rating_row_hash(r->user, r->movie, r->halves, r->stamp, &uid),
                     s->nratings++);
}

static int set_movie(void *arg, const movie_info_t *m)
{
    repair_set_t *s = arg;
    if (s->nmovies == s->cap_movies &&
        grow((void **)&s->movies, &s->cap_movies, sizeof *s->movies) < 0)
        return -1;
    s->movies[s->nmovies] = *m;
    return add_entry(s, MERKLE_MOVIES, m->movie,
                     movie_row_hash(m->movie, m->title, m->genres, m->alias_of), s->nmovies++);
}

static int cmp_key(uint32_t ua, uint32_t ma, uint32_t ub, uint32_t mb)
{
    if (ua != ub)
        return ua < ub ? -1 : 1;
    return (ma > mb) - (ma < mb);
}

static int cmp_entry(const void *a, const void *b)
{
    const repair_entry_t *x = a, *y = b;
    return cmp_key(x->user, x->movie, y->user, y->movie);
}

static int cmp_part(const void *a, const void *b)
{
    const rt_repair_part *x = a, *y = b;
    return cmp_key(x->user, x->part, y->user, y->part);
}

int repair_set_read(store_t *db, const rt_repair_part *parts, u_int n, repair_set_t *set)
{
    memset(set, 0, sizeof *set);
    rt_repair_part *p = malloc((n ? n : 1) * sizeof *p);
    uint8_t bits[MERKLE_MAX_PARTS / 8];
    if (!p)
        return -1;
    if (n) { /* (an empty XDR array has no memory) */
        memcpy(p, parts, n * sizeof *p);
        qsort(p, n, sizeof *p, cmp_part);
    }
    store_repair_sink_t sink = {set_rating, set_movie, set};
    int rc = 0;
    for (u_int i = 0; i < n && rc == 0;) { /* one owner's parts at a time */
        u_int j = i;
        memset(bits, 0, sizeof bits);
        for (; j < n && p[j].user == p[i].user; j++)
            bits[p[j].part / 8] |= (uint8_t)(1u << (p[j].part % 8));
        rc = store_repair_rows(db, p[i].user, p[i].nparts, bits, &sink);
        i = j;
    }
    free(p);
    if (rc == 0 && set->n)
        qsort(set->entries, set->n, sizeof *set->entries, cmp_entry);
    return rc ? -1 : 0;
}

const repair_entry_t *repair_set_find(const repair_set_t *set, uint32_t user, uint32_t movie)
{
    repair_entry_t key = {user, movie, 0, 0};
    return set->n ? bsearch(&key, set->entries, set->n, sizeof key, cmp_entry) : NULL;
}

void repair_set_free(repair_set_t *set)
{
    free(set->ratings);
    free(set->movies);
    free(set->entries);
    memset(set, 0, sizeof *set);
}

/* ---- rows in messages ---------------------------------------------------------- */

int repair_rows_alloc(rt_repair_rows *out)
{
    out->ratings.ratings_val = calloc(RT_MAX_REPAIR_ROWS, sizeof(rt_snap_rating));
    out->movies.movies_val = calloc(RT_MAX_REPAIR_ROWS, sizeof(rt_repair_movie));
    return out->ratings.ratings_val && out->movies.movies_val ? 0 : -1;
}

int repair_rows_add(rt_repair_rows *out, const repair_set_t *set, const repair_entry_t *e)
{
    if (e->user != MERKLE_MOVIES) {
        if (out->ratings.ratings_len == RT_MAX_REPAIR_ROWS)
            return 0;
        const snap_rating_t *r = &set->ratings[e->at];
        out->ratings.ratings_val[out->ratings.ratings_len++] =
            (rt_snap_rating){r->user, r->movie, r->halves, r->stamp, {r->uid.origin, r->uid.seq}};
        return 1;
    }
    if (out->movies.movies_len == RT_MAX_REPAIR_ROWS)
        return 0;
    const movie_info_t *m = &set->movies[e->at];
    char *title = strdup(m->title), *genres = strdup(m->genres);
    if (!title || !genres) {
        free(title);
        free(genres);
        return -1;
    }
    out->movies.movies_val[out->movies.movies_len++] =
        (rt_repair_movie){m->movie, title, genres, m->alias_of};
    return 1;
}

int64_t repair_rows_merge(store_t *db, const rt_repair_rows *in)
{
    int64_t taken = 0;
    for (u_int i = 0; i < in->movies.movies_len; i++) {
        const rt_repair_movie *x = &in->movies.movies_val[i];
        movie_info_t m = {.movie = x->movie, .alias_of = x->alias_of};
        snprintf(m.title, sizeof m.title, "%s", x->title);
        snprintf(m.genres, sizeof m.genres, "%s", x->genres);
        int rc = store_repair_merge_movie(db, &m);
        if (rc < 0)
            return -1;
        taken += rc;
    }
    for (u_int i = 0; i < in->ratings.ratings_len; i++) {
        const rt_snap_rating *x = &in->ratings.ratings_val[i];
        snap_rating_t r = {x->user, x->movie, x->halves, x->stamp, {x->uid.origin, x->uid.seq}};
        int rc = store_repair_merge_rating(db, &r);
        if (rc < 0)
            return -1;
        taken += rc;
    }
    return taken;
}

uint64_t repair_rating_hash(const rt_snap_rating *r)
{
    upd_id_t uid = {r->uid.origin, r->uid.seq};
    return rating_row_hash(r->user, r->movie, r->halves, r->stamp, &uid);
}
