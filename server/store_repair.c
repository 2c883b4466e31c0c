/*
 * store_repair.c -- the digest tree of a store (store.h, "anti-entropy
 * repair"; the tree: merkle.h), and the rows that repair reads and merges.
 *
 * Table digests(bucket, owner, rows, digest): one row per owner (a user;
 * 0 for the movies) with the number of its rows and the sum of their
 * hashes (digest.h); keyed by bucket first, so the owners of a bucket are
 * one range.  In memory: the whole tree (merkle_t), and the changes of the
 * open transaction per owner (merkle_delta_t).
 *
 * Every change of a row goes through store_repair_rating or
 * store_repair_movie (store_value.c calls them from its writes): the
 * difference of the row hashes goes into the tree at once, so the root --
 * counts.digest, the digest STATUS shows -- and every node are current
 * inside the transaction too, and into the owner's change.  store_commit
 * writes each changed owner once (store_repair_flush), in the same
 * transaction as the rows; a rollback takes the changes out of the tree.
 * So an import of 10 million ratings writes 70,000 owner rows, not 10
 * million, and the write path adds a few additions and one hash-table
 * entry per row.
 *
 * meta 'digests' = 1 says the table matches the rows.  Without it (a
 * database made before this table; or rows changed by hand, after which
 * the operator deletes the key: docs/operations.md) the table and tree are
 * recomputed from the rows when the store is opened, and so is everything
 * else derived from them (movies' counts, the store's counters); so are
 * they when a snapshot install commits (store_repair_stale).  The tree
 * above the owners is summed from the table at every open (one row per
 * owner, not per rating).
 *
 * Merging a peer's row (server/repair.c decides when):
 *   rating  last writer wins by lww_row_cmp, as an applied update
 *           (store_rating_write), which keeps the movie's counts (repair
 *           sends the movies first, so that a movie one side lacked is
 *           there before its ratings);
 *   movie   one we lack is created (or its alias recorded), with the counts
 *           of the ratings we have of it (at commit); an alias wins
 *           over the movie itself (aliases are never undone: store_value.c
 *           makes them and moves the ratings over, and so do we, once the
 *           movie it names is here); of two aliases, the one naming the
 *           lower id wins (the lower id is the one every replica keeps);
 *           of two versions of one movie, the greater (title, genres)
 *           bytewise -- an arbitrary rule, the same on every replica, for
 *           what only damage can make.
 */
#include "store_int.h"

#include <stdlib.h>

#include "digest.h"

enum repair_stmt {
    R_OWNER_GET, R_OWNER_PUT, R_OWNER_DEL, R_OWNERS, R_ALL,
    R_USER_ROWS, R_MOVIE_ROWS, R_MOVIE_TEXT, R_MOVIE_TARGET, R_RECOUNT, R_MOVIE_COUNTS,
    R_COUNT
};

static const char *const repair_sql[R_COUNT] = {
    [R_OWNER_GET] = "SELECT rows, digest FROM digests WHERE bucket = ?1 AND owner = ?2",
    [R_OWNER_PUT] = "INSERT OR REPLACE INTO digests(bucket, owner, rows, digest) "
                    "VALUES (?1, ?2, ?3, ?4)",
    [R_OWNER_DEL] = "DELETE FROM digests WHERE bucket = ?1 AND owner = ?2",
    [R_OWNERS] = "SELECT owner, rows, digest FROM digests WHERE bucket = ?1 AND owner >= ?2 "
                 "ORDER BY owner LIMIT ?3",
    [R_ALL] = "SELECT bucket, owner, digest FROM digests",
    [R_USER_ROWS] = "SELECT movie, halves, stamp, uid_origin, uid_seq FROM ratings "
                    "WHERE user = ?1",
    [R_MOVIE_ROWS] = "SELECT " MOVIE_COLUMNS " FROM movies",
    [R_MOVIE_TEXT] = "UPDATE movies SET title = ?2, genres = ?3 WHERE movie = ?1",
    [R_MOVIE_TARGET] = "UPDATE movies SET alias_of = ?2 WHERE movie = ?1",
    [R_RECOUNT] = "SELECT movie, COUNT(*), SUM(halves) FROM ratings WHERE halves > 0 "
                  "GROUP BY movie",
    [R_MOVIE_COUNTS] = "UPDATE movies SET nratings = ?2, sum_halves = ?3 WHERE movie = ?1",
};

static const char repair_schema[] =
    "CREATE TABLE IF NOT EXISTS digests(bucket INTEGER NOT NULL, owner INTEGER NOT NULL,"
    " rows INTEGER NOT NULL, digest INTEGER NOT NULL, PRIMARY KEY(bucket, owner)) WITHOUT ROWID;";

struct store_repair {
    merkle_t tree;
    merkle_delta_t delta;  /* this transaction's changes per owner */
    bool rebuilt;          /* this transaction recomputed the table */
    bool stale;            /* this transaction replaced the rows: recompute at commit */
    uint32_t *made;        /* movies this transaction's merges created */
    size_t nmade, capmade;
    sqlite3_stmt *st[R_COUNT];
};

static sqlite3_stmt *rstmt(store_t *s, enum repair_stmt id)
{
    sqlite3_stmt *st = s->repair->st[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static uint64_t rating_hash_of(const snap_rating_t *r)
{
    return rating_row_hash(r->user, r->movie, r->halves, r->stamp, &r->uid);
}

static uint64_t movie_hash_of(const movie_info_t *m)
{
    return movie_row_hash(m->movie, m->title, m->genres, m->alias_of);
}

static void col_rating(sqlite3_stmt *st, uint32_t user, snap_rating_t *r)
{
    r->user = user;
    r->movie = (uint32_t)sqlite3_column_int64(st, 0);
    r->halves = (uint32_t)sqlite3_column_int64(st, 1);
    r->stamp = col_u64(st, 2);
    r->uid.origin = col_u64(st, 3);
    r->uid.seq = col_u64(st, 4);
}

/* ---- keeping the tree with the rows ------------------------------------ */

static int change(store_t *s, uint32_t owner, int64_t rows, uint64_t delta)
{
    struct store_repair *r = s->repair;
    if (!r || (rows == 0 && delta == 0))
        return 0; /* readers never write */
    if (merkle_delta_add(&r->delta, owner, rows, delta) < 0) {
        snprintf(s->err, sizeof s->err, "out of memory for the digest tree");
        return -1;
    }
    merkle_add(&r->tree, merkle_bucket(owner), delta);
    s->counts.digest += delta;
    return 0;
}

int store_repair_rating(store_t *s, const snap_rating_t *was, const snap_rating_t *now)
{
    const snap_rating_t *key = was ? was : now;
    if (!key)
        return 0;
    uint64_t delta = (now ? rating_hash_of(now) : 0) - (was ? rating_hash_of(was) : 0);
    return change(s, key->user, (int64_t)(now != NULL) - (was != NULL), delta);
}

int store_repair_movie(store_t *s, const movie_info_t *was, const movie_info_t *now)
{
    if (!was && !now)
        return 0;
    uint64_t delta = (now ? movie_hash_of(now) : 0) - (was ? movie_hash_of(was) : 0);
    return change(s, MERKLE_MOVIES, (int64_t)(now != NULL) - (was != NULL), delta);
}

/* One owner's row of the table: add the change to what is stored. */
static int flush_owner(void *arg, const merkle_change_t *c)
{
    store_t *s = arg;
    uint32_t bucket = merkle_bucket(c->owner);
    sqlite3_stmt *st = rstmt(s, R_OWNER_GET);
    sqlite3_bind_int64(st, 1, bucket);
    sqlite3_bind_int64(st, 2, c->owner);
    int rc = sqlite3_step(st);
    int64_t rows = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    uint64_t digest = rc == SQLITE_ROW ? col_u64(st, 1) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(s, "read an owner's digest");
    rows += c->rows;
    digest += c->digest;
    if (rows <= 0) {
        st = rstmt(s, R_OWNER_DEL);
        sqlite3_bind_int64(st, 1, bucket);
        sqlite3_bind_int64(st, 2, c->owner);
        return step_done(s, st, "write an owner's digest");
    }
    st = rstmt(s, R_OWNER_PUT);
    sqlite3_bind_int64(st, 1, bucket);
    sqlite3_bind_int64(st, 2, c->owner);
    sqlite3_bind_int64(st, 3, rows);
    bind_u64(st, 4, digest);
    return step_done(s, st, "write an owner's digest");
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* A movie that a merge created (it was lost here, with or without its
 * ratings) gets its counts from the ratings this store has: one pass over
 * the ratings for all the transaction made (there is no index by movie;
 * this happens only where a movie was lost). */
static int recount_made(store_t *s)
{
    struct store_repair *r = s->repair;
    qsort(r->made, r->nmade, sizeof *r->made, cmp_u32);
    sqlite3_stmt *st = rstmt(s, R_RECOUNT);
    int rc, out = 0;
    while (out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint32_t movie = (uint32_t)sqlite3_column_int64(st, 0);
        if (!bsearch(&movie, r->made, r->nmade, sizeof movie, cmp_u32))
            continue;
        sqlite3_stmt *up = rstmt(s, R_MOVIE_COUNTS);
        sqlite3_bind_int64(up, 1, movie);
        sqlite3_bind_int64(up, 2, sqlite3_column_int64(st, 1));
        sqlite3_bind_int64(up, 3, sqlite3_column_int64(st, 2));
        out = step_done(s, up, "count a repaired movie's ratings");
    }
    if (out == 0 && rc != SQLITE_DONE)
        out = fail(s, "count a repaired movie's ratings");
    sqlite3_reset(st);
    r->nmade = 0;
    return out;
}

void store_repair_stale(store_t *s)
{
    if (s->repair)
        s->repair->stale = true;
}

int store_repair_flush(store_t *s)
{
    struct store_repair *r = s->repair;
    if (!r)
        return 0;
    if (r->stale) { /* every row was replaced: the tree is made from them */
        if (store_repair_rebuild(s) < 0)
            return -1;
    } else if ((r->nmade && recount_made(s) < 0) ||
               merkle_delta_each(&r->delta, flush_owner, s) != 0) {
        return -1;
    }
    merkle_delta_clear(&r->delta);
    r->rebuilt = r->stale = false;
    r->nmade = 0;
    return 0;
}

/* The tree from the table.  0, 1 if a row is in the wrong bucket (the
 * table was made by another bucket rule: stale), -1 on error. */
static int load(store_t *s)
{
    struct store_repair *r = s->repair;
    merkle_clear(&r->tree);
    sqlite3_stmt *st = rstmt(s, R_ALL);
    int rc, stale = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint32_t owner = (uint32_t)sqlite3_column_int64(st, 1);
        stale |= (uint32_t)sqlite3_column_int64(st, 0) != merkle_bucket(owner);
        merkle_add(&r->tree, merkle_bucket(owner), col_u64(st, 2));
    }
    sqlite3_reset(st);
    return rc != SQLITE_DONE ? fail(s, "read the digest tree") : stale;
}

int store_repair_rollback(store_t *s)
{
    struct store_repair *r = s->repair;
    if (!r)
        return 0;
    int rc = 0;
    if (r->rebuilt || r->stale)
        rc = load(s) < 0 ? -1 : 0;
    else
        merkle_delta_undo(&r->delta, &r->tree);
    merkle_delta_clear(&r->delta);
    r->rebuilt = r->stale = false;
    r->nmade = 0;
    s->counts.digest = merkle_root(&r->tree);
    return rc;
}

/* ---- recomputing it from the rows ----------------------------------------- */

static int put_owner(store_t *s, uint32_t owner, int64_t rows, uint64_t digest)
{
    if (rows == 0)
        return 0;
    sqlite3_stmt *st = rstmt(s, R_OWNER_PUT);
    sqlite3_bind_int64(st, 1, merkle_bucket(owner));
    sqlite3_bind_int64(st, 2, owner);
    sqlite3_bind_int64(st, 3, rows);
    bind_u64(st, 4, digest);
    if (step_done(s, st, "write an owner's digest") < 0)
        return -1;
    merkle_add(&s->repair->tree, merkle_bucket(owner), digest);
    return 0;
}

/* The ratings table in key order: each user's rows one after another. */
static int rebuild_ratings(store_t *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT user, movie, halves, stamp, uid_origin, uid_seq "
                                  "FROM ratings ORDER BY user, movie", -1, &st, NULL) != SQLITE_OK)
        return fail(s, "rebuild the digest tree");
    uint32_t user = 0;
    int64_t rows = 0;
    uint64_t digest = 0;
    int rc, out = 0;
    while (out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        snap_rating_t r = {(uint32_t)sqlite3_column_int64(st, 0), 0, 0, 0, {0, 0}};
        r.movie = (uint32_t)sqlite3_column_int64(st, 1);
        r.halves = (uint32_t)sqlite3_column_int64(st, 2);
        r.stamp = col_u64(st, 3);
        r.uid.origin = col_u64(st, 4);
        r.uid.seq = col_u64(st, 5);
        if (r.user != user) {
            out = put_owner(s, user, rows, digest);
            user = r.user;
            rows = 0;
            digest = 0;
        }
        rows++;
        digest += rating_hash_of(&r);
    }
    if (out == 0 && rc != SQLITE_DONE)
        out = fail(s, "rebuild the digest tree");
    sqlite3_finalize(st);
    return out == 0 ? put_owner(s, user, rows, digest) : -1;
}

static int rebuild_movies(store_t *s)
{
    sqlite3_stmt *st = rstmt(s, R_MOVIE_ROWS);
    int64_t rows = 0;
    uint64_t digest = 0;
    int rc;
    movie_info_t m;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_col_movie(st, &m);
        rows++;
        digest += movie_hash_of(&m);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail(s, "rebuild the digest tree");
    return put_owner(s, MERKLE_MOVIES, rows, digest);
}

/* What else follows from the rows and may be as stale as the digests: a
 * movie's count and sum of ratings, the store's counts of live ratings,
 * of movies and of executed updates. */
static int recount_all(store_t *s)
{
    sqlite3_stmt *st = NULL;
    if (store_exec(s, "UPDATE movies SET nratings = 0, sum_halves = 0 WHERE nratings <> 0 "
                      "OR sum_halves <> 0") < 0 ||
        store_exec(s, "UPDATE movies SET (nratings, sum_halves) = (SELECT c, t FROM "
                      "(SELECT movie AS m, COUNT(*) AS c, SUM(halves) AS t FROM ratings "
                      "WHERE halves > 0 GROUP BY movie) WHERE m = movies.movie) WHERE movie IN "
                      "(SELECT movie FROM ratings WHERE halves > 0)") < 0)
        return -1;
    if (sqlite3_prepare_v2(s->db, "SELECT (SELECT COUNT(*) FROM ratings WHERE halves > 0), "
                                  "(SELECT COUNT(*) FROM movies WHERE alias_of = 0), "
                                  "(SELECT COUNT(*) FROM executed)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "count the rows");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s->counts.nratings = col_u64(st, 0);
        s->counts.nmovies = (uint32_t)sqlite3_column_int64(st, 1);
        s->counts.executed = col_u64(st, 2);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(s, "count the rows");
}

int store_repair_rebuild(store_t *s)
{
    struct store_repair *r = s->repair;
    merkle_clear(&r->tree);
    merkle_delta_clear(&r->delta);
    r->rebuilt = true;
    r->stale = false;
    r->nmade = 0;
    if (store_exec(s, "DELETE FROM digests") < 0 || rebuild_ratings(s) < 0 ||
        rebuild_movies(s) < 0 || recount_all(s) < 0 || meta_put_u64(s, "digests", 1) < 0)
        return -1;
    s->counts.digest = merkle_root(&r->tree);
    return meta_put_u64(s, "digest", s->counts.digest) < 0 ||
                   meta_put_u64(s, "nratings", s->counts.nratings) < 0 ||
                   meta_put_u64(s, "nmovies", s->counts.nmovies) < 0 ||
                   meta_put_u64(s, "executed", s->counts.executed) < 0
               ? -1
               : 0;
}

/* ---- open and close ---------------------------------------------------------- */

/* At open, outside the numbered commits, like the identity. */
static int rebuild_now(store_t *s)
{
    if (store_exec(s, "BEGIN IMMEDIATE") < 0)
        return -1;
    if (store_repair_rebuild(s) < 0 || store_exec(s, "COMMIT") < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    s->repair->rebuilt = false;
    return 0;
}

int store_repair_open(store_t *s)
{
    s->repair = calloc(1, sizeof *s->repair);
    if (!s->repair) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    if (store_exec(s, repair_schema) < 0)
        return -1;
    for (int i = 0; i < R_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, repair_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->repair->st[i], NULL) != SQLITE_OK)
            return fail(s, "prepare the digest tree");
    uint64_t valid = 0;
    int rc = meta_get_u64(s, "digests", &valid);
    if (rc == 1 && valid == 1)
        rc = load(s);
    else if (rc >= 0)
        rc = 1;
    if (rc == 1)
        rc = rebuild_now(s);
    if (rc < 0)
        return -1;
    s->counts.digest = merkle_root(&s->repair->tree);
    return 0;
}

void store_repair_close(store_t *s)
{
    if (!s->repair)
        return;
    for (int i = 0; i < R_COUNT; i++)
        sqlite3_finalize(s->repair->st[i]);
    merkle_delta_free(&s->repair->delta);
    free(s->repair->made);
    free(s->repair);
    s->repair = NULL;
}

/* ---- reading (store.h) --------------------------------------------------------- */

const merkle_t *store_repair_tree(store_t *s) { return &s->repair->tree; }

int store_repair_owners(store_t *s, uint32_t bucket, uint32_t from, merkle_owner_t *out,
                        size_t max, size_t *nout)
{
    sqlite3_stmt *st = rstmt(s, R_OWNERS);
    sqlite3_bind_int64(st, 1, bucket);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    int rc = SQLITE_DONE; /* max 0: nothing asked, nothing read */
    for (*nout = 0; *nout < max && (rc = sqlite3_step(st)) == SQLITE_ROW; (*nout)++) {
        merkle_owner_t *o = &out[*nout];
        o->bucket = bucket;
        o->owner = (uint32_t)sqlite3_column_int64(st, 0);
        o->rows = (uint32_t)sqlite3_column_int64(st, 1);
        o->digest = col_u64(st, 2);
    }
    if (*nout == max)
        rc = SQLITE_DONE;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail(s, "read the owners of a bucket");
}

/* Walk an owner's rows: fn gets each rating or movie and its hash. */
struct walk {
    int (*rating)(void *arg, const snap_rating_t *r, uint64_t h);
    int (*movie)(void *arg, const movie_info_t *m, uint64_t h);
    void *arg;
};

static int walk_owner(store_t *s, uint32_t owner, const struct walk *w)
{
    sqlite3_stmt *st = rstmt(s, owner == MERKLE_MOVIES ? R_MOVIE_ROWS : R_USER_ROWS);
    if (owner != MERKLE_MOVIES)
        sqlite3_bind_int64(st, 1, owner);
    int rc, out = 0;
    while (out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (owner == MERKLE_MOVIES) {
            movie_info_t m;
            store_col_movie(st, &m);
            out = w->movie(w->arg, &m, movie_hash_of(&m));
        } else {
            snap_rating_t r;
            col_rating(st, owner, &r);
            out = w->rating(w->arg, &r, rating_hash_of(&r));
        }
    }
    sqlite3_reset(st);
    if (out == 0 && rc != SQLITE_DONE)
        return fail(s, "read an owner's rows");
    return out;
}

struct part_sums {
    uint32_t nparts;
    uint64_t *out;
};

static int sum_rating(void *arg, const snap_rating_t *r, uint64_t h)
{
    struct part_sums *p = arg;
    p->out[merkle_part(r->movie, p->nparts)] += h;
    return 0;
}

static int sum_movie(void *arg, const movie_info_t *m, uint64_t h)
{
    struct part_sums *p = arg;
    p->out[merkle_part(m->movie, p->nparts)] += h;
    return 0;
}

int store_repair_parts(store_t *s, uint32_t owner, uint32_t nparts, uint64_t *out)
{
    if (!merkle_nparts_ok(nparts)) {
        snprintf(s->err, sizeof s->err, "%u parts: not a power of two up to %u", nparts,
                 MERKLE_MAX_PARTS);
        return -1;
    }
    memset(out, 0, nparts * sizeof *out);
    struct part_sums p = {nparts, out};
    struct walk w = {sum_rating, sum_movie, &p};
    return walk_owner(s, owner, &w);
}

struct part_rows {
    uint32_t nparts;
    const uint8_t *bits;
    const store_repair_sink_t *sink;
};

static bool wanted(const struct part_rows *p, uint32_t movie)
{
    uint32_t part = merkle_part(movie, p->nparts);
    return p->bits[part / 8] & (1u << (part % 8));
}

static int row_rating(void *arg, const snap_rating_t *r, uint64_t h)
{
    struct part_rows *p = arg;
    return wanted(p, r->movie) ? p->sink->rating(p->sink->arg, r) : 0;
}

static int row_movie(void *arg, const movie_info_t *m, uint64_t h)
{
    struct part_rows *p = arg;
    return wanted(p, m->movie) ? p->sink->movie(p->sink->arg, m) : 0;
}

int store_repair_rows(store_t *s, uint32_t owner, uint32_t nparts, const uint8_t *parts,
                      const store_repair_sink_t *sink)
{
    if (!merkle_nparts_ok(nparts)) {
        snprintf(s->err, sizeof s->err, "%u parts: not a power of two up to %u", nparts,
                 MERKLE_MAX_PARTS);
        return -1;
    }
    struct part_rows p = {nparts, parts, sink};
    struct walk w = {row_rating, row_movie, &p};
    return walk_owner(s, owner, &w);
}

/* ---- merging a peer's rows --------------------------------------------------- */

int store_repair_merge_rating(store_t *s, const snap_rating_t *r)
{
    return store_rating_write(s, r->user, r->movie, r->halves, r->stamp, &r->uid);
}

static int set_text(store_t *s, const movie_info_t *mine, const movie_info_t *theirs)
{
    sqlite3_stmt *st = rstmt(s, R_MOVIE_TEXT);
    sqlite3_bind_int64(st, 1, theirs->movie);
    sqlite3_bind_text(st, 2, theirs->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, theirs->genres, -1, SQLITE_STATIC);
    if (step_done(s, st, "repair a movie") < 0)
        return -1;
    movie_info_t now = *mine;
    snprintf(now.title, sizeof now.title, "%s", theirs->title);
    snprintf(now.genres, sizeof now.genres, "%s", theirs->genres);
    return store_repair_movie(s, mine, &now) < 0 ? -1 : 1;
}

static int set_target(store_t *s, const movie_info_t *mine, uint32_t to)
{
    sqlite3_stmt *st = rstmt(s, R_MOVIE_TARGET);
    sqlite3_bind_int64(st, 1, mine->movie);
    sqlite3_bind_int64(st, 2, to);
    if (step_done(s, st, "repair a movie alias") < 0)
        return -1;
    movie_info_t now = *mine;
    now.alias_of = to;
    return store_repair_movie(s, mine, &now) < 0 ? -1 : 1;
}

/* Our movie becomes an alias, as theirs is: once the movie it names is
 * here (and is no alias itself), its ratings move over. */
static int follow_alias(store_t *s, uint32_t movie, uint32_t to)
{
    movie_info_t target;
    int have = store_movie_row(s, to, &target);
    if (have <= 0 || target.alias_of)
        return have < 0 ? -1 : 0;
    return store_movie_merge(s, movie, to) < 0 ? -1 : 1;
}

/* A movie we lack: its counts are made at commit (recount_made). */
static int create(store_t *s, const movie_info_t *m)
{
    struct store_repair *r = s->repair;
    if (r->nmade == r->capmade) {
        size_t cap = r->capmade ? r->capmade * 2 : 64;
        uint32_t *v = realloc(r->made, cap * sizeof *v);
        if (!v) {
            snprintf(s->err, sizeof s->err, "out of memory");
            return -1;
        }
        r->made = v;
        r->capmade = cap;
    }
    int rc = store_movie_create(s, m->movie, m->title, m->genres);
    if (rc == 1)
        r->made[r->nmade++] = m->movie;
    return rc;
}

int store_repair_merge_movie(store_t *s, const movie_info_t *m)
{
    movie_info_t mine;
    int have = store_movie_row(s, m->movie, &mine);
    if (have < 0)
        return -1;
    if (!have)
        return m->alias_of ? store_movie_alias(s, m->movie, m->alias_of) : create(s, m);
    if (!mine.alias_of && !m->alias_of) {
        int c = strcmp(m->title, mine.title);
        if (c == 0)
            c = strcmp(m->genres, mine.genres);
        return c > 0 ? set_text(s, &mine, m) : 0;
    }
    if (!mine.alias_of)
        return follow_alias(s, m->movie, m->alias_of);
    if (m->alias_of && m->alias_of < mine.alias_of)
        return set_target(s, &mine, m->alias_of);
    return 0;
}
