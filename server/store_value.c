/*
 * store_value.c -- the value of a replica (store.h): movies and ratings,
 * and the queries that read them.
 *
 * Last writer wins per (user, movie): a write replaces the current one
 * only if its row is newer by lww_row_cmp (stamp, uid, then halves); a
 * delete is a write of 0 halves that stays as a tombstone, so an older
 * write arriving later cannot bring the rating back.  Every write keeps in
 * step, in the same transaction: the movie's count and sum of ratings, the
 * store's counters, and the digest tree (store_repair.c: the hash of every
 * row, tombstones included, and of every movie, whose sum is the digest;
 * it does not depend on the order of the writes).
 *
 * Aliases: one OP_ADD_MOVIE update retried through another replica makes
 * two movie ids.  Every replica keeps the lower id, whatever order the two
 * records arrive in; the higher becomes an alias (movies.alias_of) whose
 * ratings move over, and later ratings and lookups of it are redirected.
 *
 * Applying a record also records its uid as executed (store_log.c).
 */
#include "store_int.h"

/* ---- the value: last writer wins per (user, movie) -------------------- */

struct rating_row {
    uint32_t halves; /* 0: deleted */
    uint64_t stamp;
    upd_id_t uid;
};

static int rating_get(store_t *s, uint32_t user, uint32_t movie, struct rating_row *r)
{
    sqlite3_stmt *st = stmt(s, S_RATING_GET);
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_int64(st, 2, movie);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->halves = (uint32_t)sqlite3_column_int(st, 0);
        r->stamp = col_u64(st, 1);
        r->uid.origin = col_u64(st, 2);
        r->uid.seq = col_u64(st, 3);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read rating");
}

static int movie_stats_add(store_t *s, uint32_t movie, int64_t dn, int64_t dsum)
{
    sqlite3_stmt *st = stmt(s, S_MOVIE_STATS);
    sqlite3_bind_int64(st, 1, movie);
    sqlite3_bind_int64(st, 2, dn);
    sqlite3_bind_int64(st, 3, dsum);
    return step_done(s, st, "update movie stats");
}

/* A movie created twice by one update (see add_movie) lives on under the
 * lower id; the other id is an alias of it.  Only created movies can be
 * aliases.  Sets *to the id to use; -1 on a storage error. */
static int movie_resolve(store_t *s, uint32_t movie, uint32_t *to)
{
    *to = movie;
    if (movie < RT_NEW_MOVIE_BASE)
        return 0;
    sqlite3_stmt *st = stmt(s, S_MOVIE_GET);
    sqlite3_bind_int64(st, 1, movie);
    int rc = sqlite3_step(st);
    uint32_t target = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 5) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(s, "read movie");
    if (target)
        *to = target;
    return 0;
}

int store_rating_put(store_t *s, uint32_t user, uint32_t movie, uint32_t halves,
                     uint64_t stamp, const upd_id_t *uid, const char *what)
{
    sqlite3_stmt *st = stmt(s, S_RATING_PUT);
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_int64(st, 2, movie);
    sqlite3_bind_int(st, 3, (int)halves);
    bind_u64(st, 4, stamp);
    bind_u64(st, 5, uid->origin);
    bind_u64(st, 6, uid->seq);
    return step_done(s, st, what);
}

/* Last writer wins: the write is made only if its row is newer than what
 * is there (store_int.h). */
int store_rating_write(store_t *s, uint32_t user, uint32_t movie, uint32_t halves,
                       uint64_t stamp, const upd_id_t *uid)
{
    struct rating_row old = {0};
    if (movie_resolve(s, movie, &movie) < 0)
        return -1;
    int have = rating_get(s, user, movie, &old);
    if (have < 0)
        return -1;
    /* An older write, or the same one again, leaves the current one.  Two
     * writes with one stamp and id but different ratings can only be a
     * reused id (state.c refuses it where it can see it) or damage: the
     * higher rating wins (lww_row_cmp), so that every replica keeps the
     * same one. */
    if (have && lww_row_cmp(stamp, uid, halves, old.stamp, &old.uid, old.halves) <= 0)
        return 0;
    if (store_rating_put(s, user, movie, halves, stamp, uid, "write rating") < 0)
        return -1;
    int64_t dn = (halves > 0) - (have && old.halves > 0);
    int64_t dsum = (int64_t)halves - (have ? (int64_t)old.halves : 0);
    if ((dn || dsum) && movie_stats_add(s, movie, dn, dsum) < 0)
        return -1;
    s->counts.nratings += (uint64_t)dn;
    snap_rating_t was = {user, movie, old.halves, old.stamp, old.uid};
    snap_rating_t now = {user, movie, halves, stamp, *uid};
    return store_repair_rating(s, have ? &was : NULL, &now) < 0 ? -1 : 1;
}

/* Counts the movie and adds it to the digest when it is new. */
int store_movie_create(store_t *s, uint32_t movie, const char *title, const char *genres)
{
    sqlite3_stmt *st = stmt(s, S_MOVIE_PUT);
    sqlite3_bind_int64(st, 1, movie);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, genres, -1, SQLITE_STATIC);
    if (step_done(s, st, "create movie") < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0; /* a repeat */
    s->counts.nmovies++;
    movie_info_t now = {.movie = movie};
    snprintf(now.title, sizeof now.title, "%s", title);
    snprintf(now.genres, sizeof now.genres, "%s", genres);
    return store_repair_movie(s, NULL, &now) < 0 ? -1 : 1;
}

/* Run a one-off statement with parameters ?1 = a (and ?2 = b if used). */
static int exec_sql(store_t *s, const char *sql, const char *what, int64_t a, int64_t b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, what);
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

/* Move every rating of movie `from` to movie `to` (last writer wins
 * there), then make `from` an alias of `to` (store_int.h). */
int store_movie_merge(store_t *s, uint32_t from, uint32_t to)
{
    movie_info_t old;
    int have = store_movie(s, from, &old);
    if (have == 0)
        snprintf(s->err, sizeof s->err, "merge movies: movie %u is missing", from);
    if (have <= 0)
        return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT user, halves, stamp, uid_origin, uid_seq FROM ratings "
                                  "WHERE movie = ?1 AND user > ?2 ORDER BY user LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "merge movies");
    int64_t after = -1;
    int rc = 0;
    while (rc == 0) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, from);
        sqlite3_bind_int64(st, 2, after);
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) { /* not the end: the rest must not be deleted */
            rc = fail(s, "merge movies");
            break;
        }
        uint32_t user = (uint32_t)sqlite3_column_int64(st, 0);
        uint32_t halves = (uint32_t)sqlite3_column_int64(st, 1);
        upd_id_t uid = {col_u64(st, 3), col_u64(st, 4)};
        uint64_t stamp = col_u64(st, 2);
        after = user;
        if (halves) /* the live rating leaves `from` */
            s->counts.nratings--;
        snap_rating_t gone = {user, from, halves, stamp, uid};
        rc = store_repair_rating(s, &gone, NULL) < 0 ||
                     store_rating_write(s, user, to, halves, stamp, &uid) < 0
                 ? -1
                 : 0;
    }
    sqlite3_finalize(st);
    if (rc < 0 || exec_sql(s, "DELETE FROM ratings WHERE movie = ?1", "merge movies", from, 0) < 0 ||
        exec_sql(s, "UPDATE movies SET alias_of = ?2, nratings = 0, sum_halves = 0 WHERE movie = ?1",
                 "merge movies", from, to) < 0)
        return -1;
    s->counts.nmovies--;
    movie_info_t alias = old;
    alias.alias_of = to;
    if (store_repair_movie(s, &old, &alias) < 0)
        return -1;
    return exec_sql(s, "UPDATE executed SET movie = ?2 WHERE movie = ?1", "merge movies", from, to);
}

/* A movie id that names another (store_int.h). */
int store_movie_alias(store_t *s, uint32_t movie, uint32_t to)
{
    if (exec_sql(s, "INSERT OR IGNORE INTO movies(movie, title, genres, nratings, sum_halves, "
                    "alias_of) VALUES (?1, '', '', 0, 0, ?2)",
                 "record a movie alias", movie, to) < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0;
    movie_info_t now = {.movie = movie, .alias_of = to};
    return store_repair_movie(s, NULL, &now) < 0 ? -1 : 1;
}

/* OP_ADD_MOVIE.  When a replica accepted it, died before replying, and
 * the front end retried it elsewhere, two records of one update exist,
 * with two movie ids.  Every replica keeps the lower id whatever order
 * they arrive in: the higher becomes an alias whose ratings move over, and
 * later ratings or lookups of it are redirected.  So the retry creates one
 * movie, and replicas agree on which. */
static int add_movie(store_t *s, const urec_t *r)
{
    const op_t *op = &r->op;
    upd_result_t first, res;
    int seen = uid_is_zero(&r->uid) ? 0 : store_executed_find(s, &r->uid, &first);
    if (seen < 0)
        return -1;
    uint32_t prior = seen ? first.movie : 0;
    uint32_t keep = op->movie;
    if (seen && prior && prior != op->movie) {
        keep = prior < op->movie ? prior : op->movie;
        if (keep == prior) { /* we have the keeper: this id is an alias */
            if (store_movie_alias(s, op->movie, prior) < 0)
                return -1;
        } else if (store_movie_create(s, keep, op->title, op->genres) < 0 ||
                   store_movie_merge(s, prior, keep) < 0) {
            return -1;
        }
    } else if (store_movie_create(s, keep, op->title, op->genres) < 0) {
        return -1;
    }
    if (store_rating_write(s, op->user, keep, op->halves, r->stamp, &r->uid) < 0)
        return -1;
    urec_result(r, &res);
    res.movie = keep;
    return store_executed_put(s, &r->uid, &res);
}

int store_apply(store_t *s, const urec_t *r)
{
    const op_t *op = &r->op;
    int rc = 0;
    switch (op->kind) {
    case OP_RATE:
        rc = store_rating_write(s, op->user, op->movie, op->halves, r->stamp, &r->uid);
        break;
    case OP_DELETE:
        rc = store_rating_write(s, op->user, op->movie, 0, r->stamp, &r->uid);
        break;
    case OP_ADD_MOVIE:
        return add_movie(s, r);
    default:
        snprintf(s->err, sizeof s->err, "unknown operation %d", (int)op->kind);
        return -1;
    }
    upd_result_t res;
    urec_result(r, &res);
    return rc < 0 ? -1 : store_executed_put(s, &r->uid, &res);
}

int store_key_stamp(store_t *s, uint32_t user, uint32_t movie, uint64_t *stamp, bool *live)
{
    struct rating_row r = {0};
    if (movie_resolve(s, movie, &movie) < 0)
        return -1;
    int rc = rating_get(s, user, movie, &r);
    if (rc == 1) {
        *stamp = r.stamp;
        *live = r.halves > 0;
    }
    return rc;
}

/* ---- queries --------------------------------------------------------- */

void store_col_movie(sqlite3_stmt *st, movie_info_t *m)
{
    m->alias_of = sqlite3_column_count(st) > 5 ? (uint32_t)sqlite3_column_int64(st, 5) : 0;
    m->movie = (uint32_t)sqlite3_column_int64(st, 0);
    col_text(st, 1, m->title, sizeof m->title);
    col_text(st, 2, m->genres, sizeof m->genres);
    m->nratings = (uint32_t)sqlite3_column_int64(st, 3);
    m->sum_halves = col_u64(st, 4);
}

int store_movie(store_t *s, uint32_t movie, movie_info_t *out)
{
    if (movie_resolve(s, movie, &movie) < 0)
        return -1;
    return store_movie_row(s, movie, out);
}

int store_movie_row(store_t *s, uint32_t movie, movie_info_t *out)
{
    sqlite3_stmt *st = stmt(s, S_MOVIE_GET);
    sqlite3_bind_int64(st, 1, movie);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        store_col_movie(st, out);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, "read movie");
}

int store_title_search(store_t *s, const char *pattern, movie_info_t *out, size_t max,
                       size_t *nout)
{
    /* LIKE is ASCII case-insensitive; escape its wildcards in the input. */
    char like[2 * RT_MAX_TITLE + 3];
    size_t j = 0;
    *nout = 0;
    if (strlen(pattern) > RT_MAX_TITLE)
        return 0; /* longer than any title (and than the buffer) */
    like[j++] = '%';
    for (const char *p = pattern; *p && j < sizeof like - 3; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            like[j++] = '\\';
        like[j++] = *p;
    }
    like[j++] = '%';
    like[j] = '\0';
    sqlite3_stmt *st = stmt(s, S_TITLE_SEARCH);
    sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *nout < max)
        store_col_movie(st, &out[(*nout)++]);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(s, "search titles");
}

int store_rating(store_t *s, uint32_t user, uint32_t movie, uint32_t *halves)
{
    struct rating_row r = {0};
    if (movie_resolve(s, movie, &movie) < 0)
        return -1;
    int rc = rating_get(s, user, movie, &r);
    if (rc == 1 && r.halves == 0)
        return 0; /* a tombstone: deleted */
    if (rc == 1)
        *halves = r.halves;
    return rc;
}

int store_user_ratings(store_t *s, uint32_t user, uint32_t offset, uint32_t limit,
                       user_rating_t *out, size_t *nout, uint32_t *total)
{
    sqlite3_stmt *st = stmt(s, S_USER_COUNT);
    sqlite3_bind_int64(st, 1, user);
    int rc = sqlite3_step(st);
    *total = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return fail(s, "count user ratings");
    st = stmt(s, S_USER_PAGE);
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    *nout = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *nout < limit) {
        out[*nout].movie = (uint32_t)sqlite3_column_int64(st, 0);
        out[*nout].halves = (uint32_t)sqlite3_column_int(st, 1);
        (*nout)++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail(s, "read user ratings");
    return *total > 0 ? 1 : 0;
}
