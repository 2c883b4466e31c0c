/*
 * state_query.c -- queries (state.h: state_query).  A query takes no state
 * lock: it runs on a reader, a read-only connection of its own (a pool of
 * them), in one read transaction that gives the value and the value_ts it
 * was committed with, so the answer reflects exactly the timestamp it
 * carries, and the query rule (prev <= value_ts, gossip_can_answer) is
 * checked against that.  A volatile store has no readers: its queries use
 * the writer under the lock, as updates do.
 */
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "validate.h"

/* ---- readers ----------------------------------------------------------- */

/* An idle reader, or a new one; NULL for a volatile store (its queries
 * take the lock and use the writer). */
static store_t *reader_get(state_t *s)
{
    store_t *r = NULL;
    if (s->no_readers)
        return NULL;
    pthread_mutex_lock(&s->readers_lock);
    if (s->nreaders > 0)
        r = s->readers[--s->nreaders];
    pthread_mutex_unlock(&s->readers_lock);
    if (r)
        return r;
    char err[256];
    r = store_reader_open(s->store, err, sizeof err);
    if (!r)
        log_error("%s: queries wait for the state lock", err);
    return r;
}

static void reader_put(state_t *s, store_t *r)
{
    pthread_mutex_lock(&s->readers_lock);
    if (s->nreaders < STATE_MAX_READERS) {
        s->readers[s->nreaders++] = r;
        r = NULL;
    }
    pthread_mutex_unlock(&s->readers_lock);
    if (r)
        store_close(r);
}

/* ---- queries ------------------------------------------------------- */

static int movie_to_xdr(rt_movie_info *dst, const movie_info_t *m)
{
    dst->movie = m->movie;
    dst->nratings = m->nratings;
    dst->sum_halves = m->sum_halves;
    dst->title = strdup(m->title);
    dst->genres = strdup(m->genres);
    return dst->title && dst->genres ? 0 : -1;
}

static rt_status answer_movie(store_t *db, uint32_t movie, rt_answer *ans)
{
    movie_info_t m;
    int rc = store_movie(db, movie, &m);
    if (rc <= 0)
        return rc == 0 ? RT_NOT_FOUND : RT_INTERNAL;
    return movie_to_xdr(&ans->rt_answer_u.movie, &m) ? RT_INTERNAL : RT_OK;
}

static rt_status answer_title(store_t *db, const char *pattern, rt_answer *ans)
{
    movie_info_t *m = calloc(RT_MAX_MATCHES, sizeof *m);
    size_t n = 0;
    rt_status st = RT_INTERNAL;
    if (!m || store_title_search(db, pattern ? pattern : "", m, RT_MAX_MATCHES, &n) < 0)
        goto out;
    st = n ? RT_OK : RT_NOT_FOUND;
    ans->rt_answer_u.matches.matches_val = calloc(n ? n : 1, sizeof(rt_movie_info));
    if (!ans->rt_answer_u.matches.matches_val) {
        st = RT_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ans->rt_answer_u.matches.matches_len = (u_int)(i + 1);
        if (movie_to_xdr(&ans->rt_answer_u.matches.matches_val[i], &m[i]) < 0) {
            st = RT_INTERNAL;
            break;
        }
    }
out:
    free(m);
    return st;
}

static rt_status answer_rating(store_t *db, const rt_key *k, rt_answer *ans)
{
    int rc = store_rating(db, k->user, k->movie, &ans->rt_answer_u.halves);
    return rc < 0 ? RT_INTERNAL : rc == 0 ? RT_NOT_FOUND : RT_OK;
}

static rt_status answer_user(store_t *db, const rt_user_page *p, rt_answer *ans)
{
    uint32_t limit = p->limit == 0 || p->limit > RT_MAX_PAGE ? RT_MAX_PAGE : p->limit;
    rt_user_ratings *u = &ans->rt_answer_u.user;
    user_rating_t *rows = calloc(limit, sizeof *rows);
    size_t n = 0;
    if (!rows)
        return RT_INTERNAL;
    int rc = store_user_ratings(db, p->user, p->offset, limit, rows, &n, &u->total);
    if (rc <= 0) {
        free(rows);
        return rc == 0 ? RT_NOT_FOUND : RT_INTERNAL;
    }
    /* user_rating_t and rt_user_rating are both {movie, halves}; copy
     * field by field rather than rely on identical layout. */
    u->ratings.ratings_val = calloc(n ? n : 1, sizeof(rt_user_rating));
    if (!u->ratings.ratings_val) {
        free(rows);
        return RT_INTERNAL;
    }
    for (size_t i = 0; i < n; i++) {
        u->ratings.ratings_val[i].movie = rows[i].movie;
        u->ratings.ratings_val[i].halves = rows[i].halves;
    }
    u->ratings.ratings_len = (u_int)n;
    free(rows);
    return RT_OK;
}

static rt_status answer(store_t *db, const rt_query *q, rt_answer *ans)
{
    ans->kind = q->kind;
    switch (q->kind) {
    case Q_MOVIE: return answer_movie(db, q->rt_query_u.movie, ans);
    case Q_TITLE: return answer_title(db, q->rt_query_u.pattern, ans);
    case Q_RATING: return answer_rating(db, &q->rt_query_u.key, ans);
    case Q_USER: return answer_user(db, &q->rt_query_u.page, ans);
    }
    return RT_INVALID;
}

static const char *query_detail(rt_status st, const rt_query *q)
{
    static const char *notfound[] = {"", "no such movie", "no movie title matches",
                                     "no such rating", "the user has no ratings"};
    if (st == RT_NOT_FOUND && q->kind >= Q_MOVIE && q->kind <= Q_USER)
        return notfound[q->kind];
    return st == RT_OK ? "" : status_text(st);
}

/* The query rule (gossip_can_answer), against the value_ts the answer was
 * read with: never older than what the client saw.
 * (The answer is read first, see store_read_clock; one that may not be
 * given is dropped.) */
static rt_status check_prev(rt_status st, const vts_t *prev, const vts_t *value_ts,
                            rt_answer_opt *out)
{
    if (gossip_can_answer(prev, value_ts))
        return st;
    xdr_free((xdrproc_t)xdr_rt_answer_opt, (char *)out);
    memset(out, 0, sizeof *out);
    return RT_NOT_READY;
}

static rt_status answer_opt(store_t *db, const rt_query *q, rt_answer_opt *out)
{
    out->present = TRUE; /* the union owns memory even when it failed part way */
    return answer(db, q, &out->rt_answer_opt_u.answer);
}

/* On a reader, without the state lock: the read transaction gives the value
 * and the value_ts it was committed with, so the answer reflects exactly
 * the timestamp it carries (never less, so a client never reads older
 * than it saw; never more, so it never believes it saw what it did not).
 * A volatile store has no readers: the writer under the lock, as updates. */
static rt_status query_view(state_t *s, const rt_query *q, const vts_t *prev, vts_t *value_ts,
                            uint64_t *commit, rt_answer_opt *out)
{
    if (state_offline_now(s))
        return RT_OFFLINE;
    store_t *r = reader_get(s);
    if (!r) {
        pthread_mutex_lock(&s->lock);
        *value_ts = s->rep.value_ts;
        *commit = state_committed(s);
        rt_status st = s->installing ? RT_NOT_READY
                                     : check_prev(answer_opt(s->store, q, out), prev, value_ts, out);
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    rt_status st = RT_INTERNAL;
    if (store_read_begin(r) == 0) {
        st = answer_opt(r, q, out);
        if (store_read_clock(r, value_ts, commit) == 0)
            st = check_prev(st, prev, value_ts, out);
        else
            st = RT_INTERNAL;
        store_read_end(r);
    }
    if (st == RT_INTERNAL)
        log_error("query: %s", store_errmsg(r));
    reader_put(s, r);
    return st;
}

void state_query(state_t *s, const rt_query_args *a, rt_query_res *res)
{
    vts_t prev, value_ts;
    uint64_t commit = 0;
    vts_zero(&value_ts, s->cfg.n);
    res->replica = s->cfg.id;
    rt_status st = state_read_prev(s, &a->prev, &prev);
    if (st == RT_OK)
        st = query_view(s, &a->q, &prev, &value_ts, &commit, &res->result);
    res->status = st;
    vts_to_xdr(&res->ts, &value_ts);
    /* what it read may be committed but not yet durable */
    state_wait_durable(s, commit);
    if (st != RT_OK && res->result.present) {
        xdr_free((xdrproc_t)xdr_rt_answer_opt, (char *)&res->result);
        memset(&res->result, 0, sizeof res->result);
    }
    res->detail = state_detail(query_detail(st, &a->q));
}

