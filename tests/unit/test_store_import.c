/*
 * test_store_import.c -- the MovieLens import (server/store_import.c): the
 * tiny fixture in tests/data, its bad variants (every field and header
 * checked, the first bad row named by file and line), the progress line,
 * import only into a new store, and the real ml-latest-small.
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

static void test_import_tiny(void **st)
{
    (void)st;
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    assert_false(store_is_new(s));
    /* 11 movie rows and 34 rating rows below the header lines */
    expect_counts(s, 34, 11, 0); /* imported ratings have uid (0,0): not executed */

    movie_info_t m = movie_of(s, 11);
    assert_string_equal(m.title, "American President, The (1995)");
    assert_string_equal(m.genres, "Comedy|Drama|Romance");
    m = movie_of(s, 29);
    assert_string_equal(m.title, "City of Lost Children, The (Cité des enfants perdus, La) (1995)");
    m = movie_of(s, 7789);
    assert_string_equal(m.title, "11'09\"01 - September 11 (2002)");
    assert_string_equal(m.genres, "Drama");
    m = movie_of(s, 1);
    assert_string_equal(m.title, "Toy Story (1995)"); /* no '\r' kept from CRLF */
    assert_string_equal(m.genres, "Adventure|Animation|Children|Comedy|Fantasy");

    /* By hand from tests/data/tiny/ratings.csv: movie 1 is rated 4.0, 3.5,
     * 5.0, 0.5, 2.5 (users 1-5) = 8+7+10+1+5 halves; movie 11 is rated 3.5,
     * 4.0, 3.0 (users 1, 4, 6) = 7+8+6. */
    expect_stats(s, 1, 5, 31);
    expect_stats(s, 11, 3, 21);
    expect_stats(s, 7789, 1, 6);
    assert_int_equal(rating_of(s, 4, 1), 1);   /* 0.5 */
    assert_int_equal(rating_of(s, 1, 50), 10); /* 5.0 */
    assert_int_equal(rating_of(s, 1, 2), 0);   /* never rated */

    /* The import stamp is the GroupLens timestamp in milliseconds. */
    uint64_t stamp = 0;
    bool live = false;
    assert_int_equal(store_key_stamp(s, 1, 1, &stamp, &live), 1);
    assert_int_equal(stamp, 964982703ULL * 1000);
    assert_true(live);
    assert_int_equal(store_key_stamp(s, 1, 2, &stamp, &live), 0);
    store_close(s);
}

/* A failed import names file and line and leaves nothing behind. */
static void expect_import_fails(const char *dir, const char *where, const char *what)
{
    store_t *s = open_ok(":memory:", 0, NREP);
    char err[512] = "";
    assert_int_equal(store_import_movielens(s, dir, false, err, sizeof err), -1);
    if (!strstr(err, where) || (what && !strstr(err, what)))
        fail_msg("import error \"%s\" should name \"%s\" and \"%s\"", err, where,
                 what ? what : "");
    store_counts_t c = counts_of(s);
    assert_int_equal(c.nratings, 0);
    assert_int_equal(c.nmovies, 0);
    assert_int_equal(c.digest, 0);
    movie_info_t m;
    assert_int_equal(store_movie(s, 1, &m), 0); /* movies.csv was rolled back too */
    assert_int_equal(rating_of(s, 1, 1), 0);
    assert_true(store_is_new(s));
    /* and the store is usable afterwards: a good import goes through */
    import_ok(s, TESTDATA "/tiny");
    expect_counts(s, 34, 11, 0);
    store_close(s);
}

static void test_import_bad_rating(void **st)
{
    (void)st;
    expect_import_fails(TESTDATA "/bad_rating", "ratings.csv:4:", "rating from 0.5 to 5.0");
}

static void test_import_unknown_movie(void **st)
{
    (void)st;
    expect_import_fails(TESTDATA "/unknown_movie", "ratings.csv:7:", "movie 4242");
}

static void test_import_missing_dir(void **st)
{
    (void)st;
    expect_import_fails(tmp_path("nowhere"), "movies.csv", "cannot open");
}

static void test_import_bad_movies_line(void **st)
{
    (void)st;
    /* movies.csv with an unterminated quote on line 3 */
    const char *dir = tmp_path("badmovies");
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/movies.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("movieId,title,genres\r\n1,Toy Story (1995),Comedy\r\n2,\"Jumanji (1995),Fantasy\r\n",
          f);
    fclose(f);
    snprintf(path, sizeof path, "%s/ratings.csv", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("userId,movieId,rating,timestamp\r\n", f);
    fclose(f);
    expect_import_fails(dir, "movies.csv:3:", "unterminated quoted field");
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_import_rejects_bad_fields(void **st)
{
    (void)st;
    static const char *const bad_ratings[] = {
        "1,1,3.3,964982703",   /* not a half star */
        "1,1,0.0,964982703",   /* below 0.5 */
        "1,1,5.5,964982703",   /* above 5.0 */
        "1,1,4.0x,964982703",
        "1,1,,964982703",
        "1,1,4.0",             /* three fields */
        "1,1,4.0,9649827x3",   /* timestamp */
        "1,1,4.0,",            /* no timestamp */
        "1,1,4.0,-964982703",  /* negative: would wrap to a stamp no write beats */
        "1,1,4.0,99999999999999999", /* times 1000 overflows 64 bits */
        "0,1,4.0,964982703",   /* user 0 */
        "1,-1,4.0,964982703",
        "1,1,4.0,964982703,5", /* five fields */
        "1,1,nan,964982703",   /* strtod would take these */
        "1,1,inf,964982703",
        "1,1, 4.0,964982703",
        "1,1,0x8p-2,964982703",
        "1,1,4e0,964982703",
        "1,1,4.,964982703",
        "1,1,.5,964982703",
        "1,1,3.25,964982703",
        "1,1,4.05,964982703",
        "+1,1,4.0,964982703",  /* strtoul would take these */
        " 1,1,4.0,964982703",
        "1,1,4.0, 964982703",
        "1,1,4.0,+964982703",
        "2147483648,1,4.0,964982703", /* past 31 bits */
        "1,4242,4.0,964982703", /* no such movie */
        "1,1000000000,4.0,964982703",
    };
    const char *dir = tmp_path("badfields");
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(dir, "movies.csv", "movieId,title,genres\r\n1,\"A, B\",Drama\r\n");
    for (size_t i = 0; i < sizeof bad_ratings / sizeof *bad_ratings; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "userId,movieId,rating,timestamp\r\n2,1,3.5,964982703\r\n%s\r\n", bad_ratings[i]);
        write_file(dir, "ratings.csv", text);
        store_t *s = open_ok(":memory:", 0, NREP);
        char err[512] = "";
        if (store_import_movielens(s, dir, false, err, sizeof err) != -1)
            fail_msg("ratings line \"%s\" was accepted", bad_ratings[i]);
        if (!strstr(err, "ratings.csv:3:"))
            fail_msg("ratings line \"%s\": error \"%s\" should name ratings.csv:3", bad_ratings[i],
                     err);
        expect_counts(s, 0, 0, 0);
        store_close(s);
    }
    /* the forms of a good rating */
    write_file(dir, "ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4,1\r\n2,1,0.5,1\r\n"
                                   "3,1,3.50,1\r\n4,1,5.0,1\r\n5,1,1.000,1\r\n");
    store_t *ok = open_ok(":memory:", 0, NREP);
    import_ok(ok, dir);
    static const uint32_t want[] = {8, 1, 7, 10, 2};
    for (uint32_t u = 1; u <= 5; u++)
        assert_int_equal(rating_of(ok, u, 1), want[u - 1]);
    store_close(ok);
    /* and a bad movie id in movies.csv */
    write_file(dir, "movies.csv", "movieId,title,genres\r\n1,A,Drama\r\nx2,B,Drama\r\n");
    write_file(dir, "ratings.csv", "userId,movieId,rating,timestamp\r\n");
    expect_import_fails(dir, "movies.csv:3:", "expected movieId,title,genres");
}

/* movies.csv rows that must be refused, each with the words of its error. */
static void test_import_rejects_bad_movies(void **st)
{
    (void)st;
    char long_title[RT_MAX_TITLE + 2];
    memset(long_title, 'x', sizeof long_title - 1);
    long_title[sizeof long_title - 1] = '\0';
    char at_limit[RT_MAX_TITLE + 1];
    memcpy(at_limit, long_title, RT_MAX_TITLE);
    at_limit[RT_MAX_TITLE] = '\0';
    char row_long[512], row_limit[512];
    snprintf(row_long, sizeof row_long, "3,%s,Drama", long_title);
    snprintf(row_limit, sizeof row_limit, "3,%s,Drama", at_limit);
    const struct {
        const char *row, *what;
    } bad[] = {
        {row_long, "title longer than 255"},
        {"1,Again (1995),Drama", "movie 1 appears twice"},
        {"1000000000,Reserved,Drama", "kept for movies added later"},
        {"3,,Drama", "needs a title"},
        {"3,\"Tab\there\",Drama", "control character"},
        {"3,\"Two\nlines\",Drama", "control character"},
        {"+3,Plus,Drama", "positive movieId"},
        {" 3,Blank,Drama", "positive movieId"},
        {"0,Zero,Drama", "positive movieId"},
        {"2147483648,Big,Drama", "positive movieId"},
        {"3,Two fields", "expected movieId,title,genres"},
        {"3,\"Quoted\" badly,Drama", "text after a closing quote"},
    };
    const char *dir = tmp_path("badmovies2");
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(dir, "ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[1024];
        snprintf(text, sizeof text, "movieId,title,genres\r\n1,\"A, B\",Drama\r\n%s\r\n",
                 bad[i].row);
        write_file(dir, "movies.csv", text);
        store_t *s = open_ok(":memory:", 0, NREP);
        char err[512] = "";
        if (store_import_movielens(s, dir, false, err, sizeof err) != -1)
            fail_msg("movies line \"%s\" was accepted", bad[i].row);
        if (!strstr(err, "movies.csv:3:") || !strstr(err, bad[i].what))
            fail_msg("movies line \"%s\": error \"%s\" should name movies.csv:3 and \"%s\"",
                     bad[i].row, err, bad[i].what);
        expect_counts(s, 0, 0, 0);
        store_close(s);
    }
    /* a title of exactly RT_MAX_TITLE bytes is fine */
    char text[1024];
    snprintf(text, sizeof text, "movieId,title,genres\r\n1,\"A, B\",Drama\r\n%s\r\n", row_limit);
    write_file(dir, "movies.csv", text);
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, dir);
    assert_int_equal(strlen(movie_of(s, 3).title), RT_MAX_TITLE);
    store_close(s);
}

/* The header lines are checked (a file without one would lose its first
 * row); a UTF-8 byte order mark, LF line ends and blank lines are fine. */
static void test_import_headers_and_blank_lines(void **st)
{
    (void)st;
    const char *dir = tmp_path("headers");
    assert_int_equal(mkdir(dir, 0700), 0);
    static const char ratings[] = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n";
    write_file(dir, "movies.csv", "1,Toy Story (1995),Comedy\r\n2,Heat (1995),Action\r\n");
    write_file(dir, "ratings.csv", ratings);
    expect_import_fails(dir, "movies.csv:1:", "expected the header line movieId,title,genres");
    write_file(dir, "movies.csv", "");
    expect_import_fails(dir, "movies.csv", "expected the header line");
    /* the two files swapped */
    write_file(dir, "movies.csv", ratings);
    expect_import_fails(dir, "movies.csv:1:", "header");
    write_file(dir, "movies.csv", "movieId,title,genres\r\n1,Toy Story (1995),Comedy\r\n");
    write_file(dir, "ratings.csv", "userId,movieId,rating\n1,1,4.0\n");
    expect_import_fails(dir, "ratings.csv:1:", "userId,movieId,rating,timestamp");

    write_file(dir, "movies.csv", "\xef\xbb\xbfmovieId,title,genres\n\n1,\"Toy Story (1995)\",Comedy\n"
                                  "\r\n2,Heat (1995),Action\n\n");
    write_file(dir, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n\n"
                                   "2,2,3.5,964982704\n");
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, dir);
    expect_counts(s, 2, 2, 0);
    assert_string_equal(movie_of(s, 2).title, "Heat (1995)");
    assert_int_equal(rating_of(s, 2, 2), 7);
    store_close(s);
}

/* Importing twice, or into a store with state, would mix two histories. */
static void test_import_only_into_new_store(void **st)
{
    (void)st;
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, TESTDATA "/tiny");
    char err[512] = "";
    assert_int_equal(store_import_movielens(s, TESTDATA "/tiny", false, err, sizeof err), -1);
    assert_non_null(strstr(err, "already holds data"));
    expect_counts(s, 34, 11, 0);
    store_close(s);

    s = open_ok(":memory:", 0, NREP);
    vts_t rts, vts, tab[NREP];
    vts_zero(&rts, NREP);
    vts_zero(&vts, NREP);
    for (int k = 0; k < NREP; k++)
        vts_zero(&tab[k], NREP);
    assert_int_equal(store_save_ts(s, &rts, &vts, tab, NREP), 0);
    assert_int_equal(store_import_movielens(s, TESTDATA "/tiny", false, err, sizeof err), -1);
    expect_counts(s, 0, 0, 0);
    store_close(s);
}

/* Run an import with fd 2 sent to a file; returns what it printed. */
static char *import_stderr(store_t *s, const char *dir, bool progress, int *rc)
{
    static char out[4096];
    const char *path = tmp_path("stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    assert_true(saved >= 0 && dup2(fileno(f), 2) == 2);
    char err[512] = "";
    *rc = store_import_movielens(s, dir, progress, err, sizeof err);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

static void test_import_progress(void **st)
{
    (void)st;
    const char *dir = tmp_path("progress");
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(dir, "movies.csv", "movieId,title,genres\r\n1,Toy Story (1995),Comedy\r\n");
    char path[256];
    snprintf(path, sizeof path, "%s/ratings.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("userId,movieId,rating,timestamp\r\n", f);
    for (int u = 1; u <= 20001; u++)
        fprintf(f, "%d,1,%d.5,%d\r\n", u, u % 5, 964982703 + u);
    assert_int_equal(fclose(f), 0);

    int rc = -1;
    store_t *s = open_ok(":memory:", 0, NREP);
    const char *out = import_stderr(s, dir, false, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, ""); /* quiet unless asked */
    expect_counts(s, 20001, 1, 0);
    store_close(s);

    s = open_ok(":memory:", 0, NREP);
    out = import_stderr(s, dir, true, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "\rimporting ratings: 10000/20001\rimporting ratings: 20000/20001"
                             "\rimporting ratings: 20001/20001, done\n");
    store_close(s);
}

static void test_import_movielens_small(void **st)
{
    (void)st;
    if (access(MOVIELENS "/ratings.csv", R_OK) != 0) {
        print_message("no " MOVIELENS " here (run from the repository top)\n");
        skip();
    }
    store_t *s = open_ok(":memory:", 0, NREP);
    import_ok(s, MOVIELENS);
    /* Expected numbers computed independently with awk on the files:
     *   awk 'NR>1' ratings.csv | wc -l                          -> 100836
     *   awk 'NR>1' movies.csv | wc -l                           -> 9742
     *     (no title in it spans lines)
     *   awk -F, 'NR>1 && $2=="1" {n++; s+=$3*2} END {print n, s}' ratings.csv
     *                                                           -> 215 1686
     *   awk -F, 'NR>1 {s+=$3*2} END {printf "%d\n", s}' ratings.csv -> 706166
     *   awk -F, 'NR>1 && $1=="1" {n++} END {print n}' ratings.csv   -> 232 */
    expect_counts(s, 100836, 9742, 0);
    expect_stats(s, 1, 215, 1686);
    movie_info_t m = movie_of(s, 11);
    assert_string_equal(m.title, "American President, The (1995)");
    m = movie_of(s, 7789);
    assert_string_equal(m.title, "11'09\"01 - September 11 (2002)");
    user_rating_t page[4];
    size_t n = 0;
    uint32_t total = 0;
    assert_int_equal(store_user_ratings(s, 1, 0, 4, page, &n, &total), 1);
    assert_int_equal(total, 232);
    assert_int_equal(n, 4);
    assert_int_equal(page[0].movie, 1);
    assert_int_equal(page[0].halves, 8); /* "1,1,4.0,964982703" */
    store_close(s);
}

static void test_is_new_false_after_import(void **st)
{
    (void)st;
    const char *path = tmp_path("imp.db");
    store_t *s = open_ok(path, 0, NREP);
    assert_true(store_is_new(s));
    import_ok(s, TESTDATA "/tiny");
    assert_false(store_is_new(s));
    store_close(s);
    s = open_ok(path, 0, NREP);
    assert_false(store_is_new(s));
    vts_t rts, vts, tab[NREP];
    assert_int_equal(store_load_ts(s, &rts, &vts, tab, NREP), 0); /* imported, none saved */
    store_close(s);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_import_tiny),
        T(test_import_bad_rating),
        T(test_import_unknown_movie),
        T(test_import_missing_dir),
        T(test_import_bad_movies_line),
        T(test_import_rejects_bad_fields),
        T(test_import_rejects_bad_movies),
        T(test_import_headers_and_blank_lines),
        T(test_import_only_into_new_store),
        T(test_import_progress),
        T(test_import_movielens_small),
        T(test_is_new_false_after_import),
    };
#undef T
    return cmocka_run_group_tests_name("store_import", tests, NULL, NULL);
}
