/*
 * store_fixture.h -- what the store's unit tests (test_store_*.c) share:
 * a temporary directory per test, opening and importing that fail the
 * test with the store's message, update records made in one line, a
 * recomputation of the digest straight from the database file, and the
 * records, timestamps and log readers more than one of them uses.
 *
 * Run from the top of the repository (make unit does): the fixtures are
 * read from tests/data and data/ml-latest-small.
 */
#ifndef RATINGD_STORE_FIXTURE_H
#define RATINGD_STORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define NREP 3
#define TESTDATA "tests/data"
#define MOVIELENS "data/ml-latest-small"

/* The test's own directory, made by setup and removed by teardown. */
extern char tmpdir[64];

/* cmocka set-up and tear-down of every store test: a fresh temporary
 * directory (tmp_path names files in it), removed afterwards. */
int setup(void **st);
int teardown(void **st);

/* tmpdir/name; the last four results stay valid. */
const char *tmp_path(const char *name);

/* store_open without sync, or the test fails with its message. */
store_t *open_ok(const char *path, uint32_t id, uint32_t n);

/* Import a data set (or the test fails); the counters, and a check of them. */
void import_ok(store_t *s, const char *dir);
store_counts_t counts_of(store_t *s);
void expect_counts(store_t *s, uint64_t nratings, uint32_t nmovies, uint64_t executed);

/* store_executed_find, for the timestamp and movie only. */
int executed_find(store_t *s, const upd_id_t *uid, vts_t *ts, uint32_t *movie);

/* The live rating of (user, movie) in halves, or 0 when absent or deleted. */
uint32_t rating_of(store_t *s, uint32_t user, uint32_t movie);

/* The movie, which must exist. */
movie_info_t movie_of(store_t *s, uint32_t movie);

/* The movie's count and sum of ratings. */
void expect_stats(store_t *s, uint32_t movie, uint32_t nratings, uint64_t sum_halves);

/* Update records: origin = uid_origin % NREP, ts[origin] = uid_seq (the
 * log key), prev zero. */
urec_t rec(rt_op_kind kind, uint32_t user, uint32_t movie, uint32_t halves,
           uint64_t stamp, uint64_t uid_origin, uint64_t uid_seq);
urec_t rate(uint32_t user, uint32_t movie, uint32_t halves, uint64_t stamp,
            uint64_t uid_origin, uint64_t uid_seq);
urec_t del(uint32_t user, uint32_t movie, uint64_t stamp, uint64_t uid_origin,
           uint64_t uid_seq);
urec_t add_movie(uint32_t movie, const char *title, const char *genres, uint32_t user,
                 uint32_t halves, uint64_t stamp, uint64_t uid_origin, uint64_t uid_seq);

/* Apply one record in its own transaction, as the replica does. */
void apply(store_t *s, urec_t r);

/* The row hashes are the store's own (server/digest.h); the sums here are
 * made from the tables, independently of the store's running digest. */
struct recount {
    uint64_t digest;
    uint64_t nratings;     /* live */
    uint32_t nmovies;
    uint64_t tombstones;
};

/* Read the movies and ratings tables of a database file with sqlite3.
 * A movie id that became an alias of another (a duplicate add-movie, see
 * test_duplicate_add_movie_merges) is not a movie of its own. */
struct recount recompute(const char *path);

/* The store's digest and counters equal the recomputation. */
void expect_digest_matches_file(store_t *s, const char *path);

/* A volatile store with tests/data/tiny imported. */
store_t *tiny_store(void);

/* NRECS records over the tiny data set: overwrites, deletes, stale
 * writes, equal stamps and two added movies. */
#define NRECS 16
void some_records(urec_t *r);

/* Same counters, digest, movies (the tiny ones and the extra ones) and
 * ratings of the users that appear in these tests. */
void expect_same_state(store_t *a, store_t *b, const uint32_t *extra, size_t nextra);

/* Saved timestamps with a value in every field, and a check that a store
 * loads exactly them. */
void make_ts(vts_t *replica_ts, vts_t *value_ts, vts_t *table);
void expect_ts_loaded(store_t *s);

/* store_log_each into an array: collect keeps up to 8 records (more
 * fails), log_contents reads the whole log; refuse counts its calls and
 * stops at the first. */
struct collected {
    urec_t r[8];
    int n;
};

int collect(void *arg, const urec_t *r);
struct collected log_contents(store_t *s);
int refuse(void *arg, const urec_t *r);

#endif
