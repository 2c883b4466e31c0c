/*
 * test_store_value.c -- the value (server/store_value.c): last writer wins
 * with tombstones, added movies and the merge of a duplicate one, the
 * result and digest independent of the order records arrive in (the digest
 * against a recomputation straight from the database file), 64-bit stamps,
 * and the queries (title search, a user's ratings page by page, unknown
 * ids).
 *
 * Run from the top of the repository (make unit does): the fixtures are
 * read from tests/data and data/ml-latest-small.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "digest.h"
#include "store_fixture.h"

static void test_lww_newer_wins(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    /* user 1 rated movie 1 4.0 (8 halves) at 964982703 s */
    apply(s, rate(1, 1, 3, 2000000000000ULL, 1, 1));
    assert_int_equal(rating_of(s, 1, 1), 3);
    expect_stats(s, 1, 5, 31 - 8 + 3);
    apply(s, rate(1, 1, 9, 2000000000001ULL, 2, 1));
    assert_int_equal(rating_of(s, 1, 1), 9);
    expect_stats(s, 1, 5, 31 - 8 + 9);
    /* a new key adds to the movie's count */
    apply(s, rate(9, 1, 4, 2000000000002ULL, 2, 2));
    expect_stats(s, 1, 6, 31 - 8 + 9 + 4);
    expect_counts(s, 35, 11, 3);
    store_close(s);
}

static void test_lww_older_arriving_later_loses(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    apply(s, rate(1, 1, 2, 2000000000000ULL, 1, 1));
    apply(s, rate(1, 1, 10, 1999999999999ULL, 2, 9)); /* older stamp, higher uid */
    assert_int_equal(rating_of(s, 1, 1), 2);
    expect_stats(s, 1, 5, 31 - 8 + 2);
    /* older than the imported rating too: it stays */
    apply(s, rate(3, 1, 1, 1000, 1, 2));
    assert_int_equal(rating_of(s, 3, 1), 10);
    expect_stats(s, 1, 5, 31 - 8 + 2);
    uint64_t stamp = 0;
    bool live = false;
    assert_int_equal(store_key_stamp(s, 1, 1, &stamp, &live), 1);
    assert_int_equal(stamp, 2000000000000ULL);
    assert_true(live);
    /* the losers were still executed */
    expect_counts(s, 34, 11, 3);
    store_close(s);
}

static void test_lww_equal_stamps_by_uid(void **st)
{
    (void)st;
    const uint64_t t = 2000000000000ULL;
    /* lww_cmp: same stamp, so the higher uid (origin, then seq) wins,
     * whichever arrives first. */
    urec_t lo = rate(5, 2, 4, t, 1, 50), hi = rate(5, 2, 7, t, 2, 1);
    urec_t hi_seq = rate(5, 2, 9, t, 2, 2);
    assert_true(lww_cmp(hi.stamp, &hi.uid, lo.stamp, &lo.uid) > 0);
    for (int order = 0; order < 2; order++) {
        store_t *s = tiny_store();
        apply(s, order ? hi : lo);
        apply(s, order ? lo : hi);
        assert_int_equal(rating_of(s, 5, 2), 7);
        /* movie 2 had 3.0, 1.0, 2.0 = 12 halves from 3 users */
        expect_stats(s, 2, 4, 12 + 7);
        apply(s, hi_seq); /* same origin, higher seq */
        assert_int_equal(rating_of(s, 5, 2), 9);
        expect_stats(s, 2, 4, 12 + 9);
        apply(s, hi); /* the same write again changes nothing */
        assert_int_equal(rating_of(s, 5, 2), 9);
        expect_stats(s, 2, 4, 12 + 9);
        store_close(s);
    }
}

static void test_delete_leaves_tombstone(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    const uint64_t t = 2000000000000ULL;
    apply(s, del(1, 1, t, 1, 1));
    assert_int_equal(rating_of(s, 1, 1), 0);
    uint32_t h = 77;
    assert_int_equal(store_rating(s, 1, 1, &h), 0);
    assert_int_equal(h, 77); /* untouched when not found */
    expect_stats(s, 1, 4, 31 - 8);
    expect_counts(s, 33, 11, 1);
    uint64_t stamp = 0;
    bool live = true;
    assert_int_equal(store_key_stamp(s, 1, 1, &stamp, &live), 1);
    assert_int_equal(stamp, t);
    assert_false(live);

    /* an older write arriving afterwards does not bring it back */
    apply(s, rate(1, 1, 6, t - 1, 2, 7));
    assert_int_equal(rating_of(s, 1, 1), 0);
    expect_stats(s, 1, 4, 31 - 8);
    expect_counts(s, 33, 11, 2);
    /* deleting again (older) does not count twice */
    apply(s, del(1, 1, t - 2, 2, 8));
    expect_stats(s, 1, 4, 31 - 8);
    expect_counts(s, 33, 11, 3);

    /* a newer write does */
    apply(s, rate(1, 1, 6, t + 1, 2, 9));
    assert_int_equal(rating_of(s, 1, 1), 6);
    expect_stats(s, 1, 5, 31 - 8 + 6);
    expect_counts(s, 34, 11, 4);

    /* deleting a key never written leaves a tombstone too */
    apply(s, del(42, 3, t, 1, 2));
    apply(s, rate(42, 3, 8, t - 5, 1, 3));
    assert_int_equal(rating_of(s, 42, 3), 0);
    store_close(s);
}

static void test_add_movie_once(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    urec_t r = add_movie(5000, "Heat, The (1995)", "Action|Crime", 9, 7, 2000000000000ULL, 1, 1);
    apply(s, r);
    movie_info_t m = movie_of(s, 5000);
    assert_string_equal(m.title, "Heat, The (1995)");
    assert_string_equal(m.genres, "Action|Crime");
    assert_int_equal(m.nratings, 1);
    assert_int_equal(m.sum_halves, 7);
    assert_int_equal(rating_of(s, 9, 5000), 7);
    expect_counts(s, 35, 12, 1);
    uint64_t digest = counts_of(s).digest;
    apply(s, r); /* a retry, or gossip bringing it back */
    expect_stats(s, 5000, 1, 7);
    expect_counts(s, 35, 12, 1);
    assert_int_equal(counts_of(s).digest, digest);
    /* the movie can then be rated like any other */
    apply(s, rate(10, 5000, 3, 2000000000001ULL, 2, 1));
    expect_stats(s, 5000, 2, 10);
    store_close(s);
}

/* ADD_MOVIE goes before the other records of its movie, as the causal
 * order guarantees (prev of a rating includes the creation). */
static void adds_first(urec_t *r)
{
    for (int i = 0; i < NRECS; i++)
        if (r[i].op.kind == OP_ADD_MOVIE)
            for (int j = 0; j < i; j++)
                if (r[j].op.movie == r[i].op.movie) {
                    urec_t t = r[i];
                    memmove(&r[j + 1], &r[j], (size_t)(i - j) * sizeof *r);
                    r[j] = t;
                    break;
                }
}

/* A deterministic shuffle that keeps adds_first. */
static void shuffled(urec_t *r, unsigned seed)
{
    for (int i = NRECS - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        int j = (int)((seed >> 16) % (unsigned)(i + 1));
        urec_t t = r[i];
        r[i] = r[j];
        r[j] = t;
    }
    adds_first(r);
}

static void test_order_independent(void **st)
{
    (void)st;
    urec_t in_order[NRECS], reversed[NRECS], mixed[NRECS];
    some_records(in_order);
    for (int i = 0; i < NRECS; i++)
        reversed[i] = in_order[NRECS - 1 - i];
    adds_first(reversed);
    some_records(mixed);
    shuffled(mixed, 2024);
    int moved = 0;
    for (int i = 0; i < NRECS; i++)
        moved += !uid_eq(&mixed[i].uid, &in_order[i].uid);
    assert_true(moved > NRECS / 2); /* really another order */

    store_t *a = tiny_store(), *b = tiny_store(), *c = tiny_store();
    for (int i = 0; i < NRECS; i++) {
        apply(a, in_order[i]);
        apply(b, reversed[i]);
        apply(c, mixed[i]);
    }
    static const uint32_t added[] = {5000, 5001};
    expect_same_state(a, b, added, 2);
    expect_same_state(a, c, added, 2);
    /* and the state is the one worked out by hand */
    assert_int_equal(rating_of(a, 2, 5000), 0);
    assert_int_equal(rating_of(a, 1, 1), 3);
    assert_int_equal(rating_of(a, 3, 50), 4);
    assert_int_equal(rating_of(a, 4, 100), 0);
    assert_int_equal(rating_of(a, 11, 2), 8);
    assert_int_equal(rating_of(a, 3, 5001), 10);
    assert_int_equal(rating_of(a, 7, 5001), 0);
    expect_stats(a, 5000, 1, 8);
    expect_stats(a, 5001, 1, 10);
    /* 34 imported, + (1,5000), - (4,100), + (3,5001), + (11,2); two movies
     * added; every record has its own uid */
    expect_counts(a, 36, 13, NRECS);
    store_close(a);
    store_close(b);
    store_close(c);
}

static void test_digest_matches_recomputation(void **st)
{
    (void)st;
    const char *path = tmp_path("digest.db");
    store_t *s = open_ok(path, 0, NREP);
    expect_digest_matches_file(s, path); /* empty: 0 == 0 */
    import_ok(s, TESTDATA "/tiny");
    assert_int_not_equal(counts_of(s).digest, 0);
    expect_digest_matches_file(s, path);
    urec_t r[NRECS];
    some_records(r);
    for (int i = 0; i < NRECS; i++) {
        apply(s, r[i]);
        expect_digest_matches_file(s, path); /* after every step */
    }
    struct recount rc = recompute(path);
    assert_int_equal(rc.tombstones, 3); /* (2,5000), (4,100), (7,5001) */
    store_close(s);
    s = open_ok(path, 0, NREP); /* and as loaded from meta */
    expect_digest_matches_file(s, path);
    store_close(s);
}

/* The digest is a function of the rows: the same writes in any order give
 * the same one.  And it covers everything last-writer-wins decides by, not
 * only the live values: a tombstone, or the same value under another
 * stamp, is another state (the next late write lands differently). */
static void test_digest_covers_what_lww_decides_by(void **st)
{
    (void)st;
    const uint64_t t = 2000000000000ULL;
    store_t *a = tiny_store(), *b = tiny_store();
    uint64_t start = counts_of(a).digest;
    assert_int_equal(counts_of(b).digest, start);
    /* the same three writes, in two orders */
    urec_t w[3] = {rate(1, 1, 2, t + 2, 2, 1), rate(1, 1, 10, t + 3, 2, 2),
                   del(1, 1, t + 4, 2, 3)};
    apply(a, w[0]);
    apply(a, w[1]);
    apply(a, w[2]);
    apply(b, w[2]);
    apply(b, w[0]);
    apply(b, w[1]);
    assert_int_equal(counts_of(a).digest, counts_of(b).digest);
    assert_int_not_equal(counts_of(a).digest, start);
    /* add + delete of a new rating leaves a tombstone: not the start */
    uint64_t before = counts_of(a).digest;
    apply(a, rate(20, 3, 5, t, 1, 1));
    apply(a, del(20, 3, t + 1, 1, 2));
    assert_int_equal(rating_of(a, 20, 3), 0);
    assert_int_not_equal(counts_of(a).digest, before);
    /* the same value under another stamp or uid is another row */
    store_t *c = tiny_store(), *d = tiny_store();
    apply(c, rate(1, 1, 6, t + 10, 1, 3));
    apply(d, rate(1, 1, 6, t + 11, 1, 3));
    assert_int_not_equal(counts_of(c).digest, counts_of(d).digest);
    store_close(d);
    d = tiny_store();
    apply(d, rate(1, 1, 6, t + 10, 1, 4));
    assert_int_not_equal(counts_of(c).digest, counts_of(d).digest);
    /* and another value, of course */
    store_close(d);
    d = tiny_store();
    apply(d, rate(1, 1, 7, t + 10, 1, 3));
    assert_int_not_equal(counts_of(c).digest, counts_of(d).digest);
    store_close(a);
    store_close(b);
    store_close(c);
    store_close(d);
}

/* One add-movie update accepted twice (a retry at another replica after an
 * ambiguous failure) gives two records with one uid and two movie ids.
 * Whatever the order, every store keeps the lower id, the higher becomes
 * an alias, and ratings made under either id end up on the one movie. */
static void test_duplicate_add_movie_merges(void **st)
{
    (void)st;
    const uint64_t t = 2000000000000ULL;
    const uint32_t lo = RT_NEW_MOVIE_BASE + 1 * RT_MAX_REPLICAS + 0; /* replica 0's first */
    const uint32_t hi = RT_NEW_MOVIE_BASE + 1 * RT_MAX_REPLICAS + 1; /* replica 1's first */
    urec_t r[5];
    r[0] = add_movie(lo, "Heat (1995)", "Action|Crime", 9, 7, t, 1000000007, 1);
    r[1] = add_movie(hi, "Heat (1995)", "Action|Crime", 9, 8, t + 5, 1000000007, 1);
    r[1].origin = 1;
    r[2] = rate(10, hi, 4, t + 10, 1, 2);
    r[3] = rate(10, lo, 6, t + 20, 0, 3);
    r[4] = rate(11, hi, 9, t + 30, 1, 3);
    /* causal orders: each rating after the add-movie of its id */
    static const int orders[3][5] = {{0, 3, 1, 2, 4}, {1, 2, 4, 0, 3}, {1, 0, 3, 2, 4}};
    store_t *s[3];
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "dup%d.db", k);
        const char *path = tmp_path(name);
        s[k] = open_ok(path, 0, NREP);
        import_ok(s[k], TESTDATA "/tiny");
        for (int i = 0; i < 5; i++)
            apply(s[k], r[orders[k][i]]);
        expect_digest_matches_file(s[k], path);

        expect_counts(s[k], 34 + 3, 12, 4);
        movie_info_t m = movie_of(s[k], lo);
        assert_string_equal(m.title, "Heat (1995)");
        assert_int_equal(m.alias_of, 0);
        /* (9) 8 at t+5 beats 7 at t; (10) 6 at t+20 beats 4 at t+10; (11) 9 */
        assert_int_equal(m.nratings, 3);
        assert_int_equal(m.sum_halves, 8 + 6 + 9);
        assert_int_equal(rating_of(s[k], 9, lo), 8);
        assert_int_equal(rating_of(s[k], 10, lo), 6);
        assert_int_equal(rating_of(s[k], 11, lo), 9);
        /* the other id leads to the same movie */
        memset(&m, 0, sizeof m);
        assert_int_equal(store_movie(s[k], hi, &m), 1);
        assert_int_equal(m.movie, lo);
        assert_int_equal(rating_of(s[k], 10, hi), 6);
        /* one movie in searches */
        movie_info_t found[4];
        size_t n = 0;
        assert_int_equal(store_title_search(s[k], "heat", found, 4, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(found[0].movie, lo);
        /* and the update's executed entry names the kept id */
        vts_t ts;
        uint32_t movie = 0;
        assert_int_equal(executed_find(s[k], &r[0].uid, &ts, &movie), 1);
        assert_int_equal(movie, lo);
    }
    for (int k = 1; k < 3; k++) {
        assert_int_equal(counts_of(s[k]).digest, counts_of(s[0]).digest);
        expect_same_state(s[0], s[k], &lo, 1);
    }
    for (int k = 0; k < 3; k++)
        store_close(s[k]);
}

static void expect_search(store_t *s, const char *pattern, size_t max, size_t n, ...)
{
    movie_info_t out[16];
    size_t nout = 999;
    assert_true(max <= 16);
    assert_int_equal(store_title_search(s, pattern, out, max, &nout), 0);
    if (nout != n)
        fail_msg("search \"%s\" (max %zu): %zu results, expected %zu", pattern, max, nout, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t id = va_arg(ap, uint32_t);
        if (out[i].movie != id)
            fail_msg("search \"%s\": result %zu is %u, expected %u", pattern, i, out[i].movie,
                     id);
    }
    va_end(ap);
}

static void test_title_search(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    const uint64_t t = 2000000000000ULL;
    /* added in descending id order: results must still come by id */
    apply(s, add_movie(9005, "Back\\slash", "Drama", 1, 5, t, 1, 5));
    apply(s, add_movie(9004, "Cry Wolf (2005)", "Drama", 1, 5, t, 1, 4));
    apply(s, add_movie(9003, "Cry_Wolf (2005)", "Drama", 1, 5, t, 1, 3));
    apply(s, add_movie(9002, "1000 Arabica", "Drama", 1, 5, t, 1, 2));
    apply(s, add_movie(9001, "100% Arabica (1997)", "Comedy", 1, 5, t, 1, 1));

    expect_search(s, "city", 16, 2, 29u, 100u); /* case-insensitive, by id */
    expect_search(s, "CITY HALL", 16, 1, 100u);
    expect_search(s, "THE (19", 16, 3, 11u, 50u, 1250u);
    expect_search(s, "the (19", 2, 2, 11u, 50u); /* max respected */
    expect_search(s, "the (19", 0, 0);
    expect_search(s, "arabica", 16, 2, 9001u, 9002u);
    expect_search(s, "100%", 16, 1, 9001u);   /* '%' is literal */
    expect_search(s, "y_w", 16, 1, 9003u);    /* '_' is literal */
    expect_search(s, "Cry%Wolf", 16, 0);
    expect_search(s, "k\\s", 16, 1, 9005u);   /* so is '\' */
    expect_search(s, "Cité", 16, 1, 29u);
    expect_search(s, "no such title", 16, 0);
    movie_info_t m;
    size_t n = 0;
    assert_int_equal(store_title_search(s, "heat", &m, 1, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_title_search(s, "toy story", &m, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(m.title, "Toy Story (1995)");
    assert_int_equal(m.nratings, 5); /* the stats come with the result */
    assert_int_equal(m.sum_halves, 31);
    store_close(s);
}

static void expect_page(store_t *s, uint32_t user, uint32_t offset, uint32_t limit, int rc,
                        uint32_t total, size_t n, const uint32_t *movies, const uint32_t *halves)
{
    user_rating_t out[16];
    size_t nout = 999;
    uint32_t tot = 999;
    assert_true(limit <= 16);
    assert_int_equal(store_user_ratings(s, user, offset, limit, out, &nout, &tot), rc);
    assert_int_equal(tot, total);
    assert_int_equal(nout, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].movie, movies[i]);
        assert_int_equal(out[i].halves, halves[i]);
    }
}

static void test_user_ratings_paging(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    /* user 4 in tiny/ratings.csv: movies 1, 2, 3, 11, 32, 100 rated
     * 0.5, 1.0, 2.5, 4.0, 3.5, 2.0 */
    static const uint32_t mv[] = {1, 2, 3, 11, 32, 100}, hv[] = {1, 2, 5, 8, 7, 4};
    expect_page(s, 4, 0, 16, 1, 6, 6, mv, hv);
    expect_page(s, 4, 0, 4, 1, 6, 4, mv, hv);
    expect_page(s, 4, 4, 4, 1, 6, 2, mv + 4, hv + 4);
    expect_page(s, 4, 2, 1, 1, 6, 1, mv + 2, hv + 2);
    expect_page(s, 4, 6, 4, 1, 6, 0, NULL, NULL);
    expect_page(s, 4, 0, 0, 1, 6, 0, NULL, NULL);
    /* deleted ones are neither listed nor counted */
    apply(s, del(4, 3, 2000000000000ULL, 1, 1));
    static const uint32_t mv2[] = {1, 2, 11, 32, 100}, hv2[] = {1, 2, 8, 7, 4};
    expect_page(s, 4, 0, 16, 1, 5, 5, mv2, hv2);
    expect_page(s, 4, 2, 2, 1, 5, 2, mv2 + 2, hv2 + 2);
    /* a user with nothing, and one whose only rating was deleted */
    expect_page(s, 99, 0, 16, 0, 0, 0, NULL, NULL);
    apply(s, del(8, 7789, 2000000000000ULL, 1, 2));
    expect_page(s, 8, 0, 16, 0, 0, 0, NULL, NULL);
    store_close(s);
}

/* Stamps and ids use all 64 bits: the top bit survives SQLite's signed
 * INTEGER, and last-writer-wins compares them unsigned. */
static void test_full_64_bit_values(void **st)
{
    (void)st;
    const char *path = tmp_path("u64.db");
    store_t *s = open_ok(path, 0, NREP);
    const uint64_t hi = 1ULL << 63, lo = 1ULL << 62;
    apply(s, rate(1, 1, 4, lo, 1, 1));
    apply(s, rate(1, 1, 6, hi, 1, 2));       /* negative as int64, but newer */
    apply(s, rate(1, 1, 8, lo + 1, 1, 3));   /* older: loses */
    assert_int_equal(rating_of(s, 1, 1), 6);
    urec_t big = rate(2, 2, 5, UINT64_MAX, UINT64_MAX, UINT64_MAX - 1);
    big.ts.t[big.origin] = UINT64_MAX;
    apply(s, big);
    apply(s, rate(2, 2, 9, UINT64_MAX, UINT64_MAX, UINT64_MAX - 2)); /* same stamp, lower uid */
    assert_int_equal(rating_of(s, 2, 2), 5);
    store_close(s);
    s = open_ok(path, 0, NREP);
    uint64_t stamp = 0;
    bool live = false;
    assert_int_equal(store_key_stamp(s, 1, 1, &stamp, &live), 1);
    assert_true(stamp == hi);
    assert_int_equal(store_key_stamp(s, 2, 2, &stamp, &live), 1);
    assert_true(stamp == UINT64_MAX);
    vts_t ts;
    uint32_t movie = 0;
    assert_int_equal(executed_find(s, &big.uid, &ts, &movie), 1);
    assert_true(vts_eq(&ts, &big.ts));
    assert_int_equal(movie, 2);
    store_close(s);
}

/* Ids nobody has: not found, never an error. A rating may name a movie
 * this replica does not have; it is kept, without movie statistics. */
static void test_unknown_ids(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    movie_info_t m;
    uint32_t h = 0;
    uint64_t stamp = 0;
    bool live = false;
    assert_int_equal(store_movie(s, 0, &m), 0);
    assert_int_equal(store_movie(s, 4242, &m), 0);
    assert_int_equal(store_movie(s, RT_NEW_MOVIE_BASE + 99, &m), 0);
    assert_int_equal(store_rating(s, 1, 0, &h), 0);
    assert_int_equal(store_rating(s, 0, 1, &h), 0);
    assert_int_equal(store_rating(s, 1, RT_NEW_MOVIE_BASE + 99, &h), 0);
    assert_int_equal(store_key_stamp(s, 1, 0, &stamp, &live), 0);
    assert_int_equal(store_key_stamp(s, 1, RT_NEW_MOVIE_BASE + 99, &stamp, &live), 0);
    uint64_t digest = counts_of(s).digest;
    apply(s, rate(1, 4242, 5, 2000000000000ULL, 1, 1));
    assert_int_equal(rating_of(s, 1, 4242), 5);
    assert_int_equal(store_movie(s, 4242, &m), 0); /* no movie made up */
    expect_counts(s, 35, 11, 1);
    upd_id_t uid = {1, 1};
    assert_true(counts_of(s).digest == digest + rating_row_hash(1, 4242, 5, 2000000000000ULL, &uid));
    store_close(s);
}

static void test_title_search_edges(void **st)
{
    (void)st;
    store_t *s = tiny_store();
    /* the empty pattern matches every title, by id */
    expect_search(s, "", 3, 3, 1u, 2u, 3u);
    /* a pattern longer than any title matches nothing */
    char longer[2 * RT_MAX_TITLE];
    memset(longer, '%', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    expect_search(s, longer, 16, 0);
    longer[RT_MAX_TITLE] = '\0'; /* 255 wildcard characters: literal, no match */
    expect_search(s, longer, 16, 0);
    store_close(s);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_lww_newer_wins),
        T(test_lww_older_arriving_later_loses),
        T(test_lww_equal_stamps_by_uid),
        T(test_delete_leaves_tombstone),
        T(test_add_movie_once),
        T(test_order_independent),
        T(test_digest_matches_recomputation),
        T(test_digest_covers_what_lww_decides_by),
        T(test_duplicate_add_movie_merges),
        T(test_title_search),
        T(test_user_ratings_paging),
        T(test_full_64_bit_values),
        T(test_unknown_ids),
        T(test_title_search_edges),
    };
#undef T
    return cmocka_run_group_tests_name("store_value", tests, NULL, NULL);
}
