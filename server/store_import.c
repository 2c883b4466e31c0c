/*
 * store_import.c -- the MovieLens import (store.h): movies.csv and
 * ratings.csv of a GroupLens data set (CRLF lines, quoted titles, a header
 * line naming the columns) into a new store, in one transaction.
 *
 * Every field is checked before it is stored, and the first bad row stops
 * the import with its file and line.  Ids and ratings follow the rules
 * every program reads them by (common/validate.c: parse_id, parse_rating):
 * ids are positive decimal numbers that fit in 31 bits (ids from
 * RT_NEW_MOVIE_BASE up are kept for movies added later), a rating is 0.5
 * to 5.0 in half stars; timestamps are Unix seconds, titles and genres fit
 * their limits and hold no control characters, a movie appears once, and
 * a rating names a movie of movies.csv.  Nothing is kept of a failed
 * import: the transaction is rolled back.
 *
 * An imported rating has the zero uid (no update made it), so it is not
 * recorded as executed, and the file's timestamp in milliseconds as its
 * last-writer-wins stamp.
 */
#include "store_int.h"

#include <stdarg.h>
#include <stdlib.h>

#include "csv.h"
#include "validate.h"

/* One CSV file of the data set, and where its errors go. */
struct import_file {
    char path[4096];
    csv_t *c;
    char *err;
    size_t errlen;
};

static void import_error(struct import_file *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void import_error(struct import_file *im, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(im->err, im->errlen, "%s:%zu: %s", im->path, im->c ? csv_line(im->c) : 0, msg);
}

/* The first row must name the columns: a file without a header would
 * silently lose its first row, and a swapped file fails here, once. */
static bool header_is(char **f, int nf, const char *const *names, int n)
{
    if (nf != n)
        return false;
    for (int i = 0; i < n; i++) {
        const char *got = f[i];
        if (i == 0 && strncmp(got, "\xef\xbb\xbf", 3) == 0)
            got += 3; /* a UTF-8 byte order mark */
        if (strcmp(got, names[i]) != 0)
            return false;
    }
    return true;
}

static int import_open(struct import_file *im, const char *dir, const char *name,
                       const char *const *cols, int ncols, char *err, size_t errlen)
{
    memset(im, 0, sizeof *im);
    im->err = err;
    im->errlen = errlen;
    snprintf(im->path, sizeof im->path, "%s/%s", dir, name);
    if (!(im->c = csv_open(im->path, err, errlen)))
        return -1;
    char *f[8];
    int nf = csv_row(im->c, f, 8);
    if (nf < 0) {
        import_error(im, "%s", csv_error(im->c));
        return -1;
    }
    if (nf == 0 || !header_is(f, nf, cols, ncols)) {
        char want[128] = "";
        for (int i = 0; i < ncols; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? "," : "",
                     cols[i]);
        import_error(im, "expected the header line %s", want);
        return -1;
    }
    return 0;
}

/* The next row that is not blank: 1, 0 at the end, -1 on an error. */
static int import_row(struct import_file *im, char **f, int max, int *nf)
{
    do {
        *nf = csv_row(im->c, f, max);
        if (*nf < 0) {
            import_error(im, "%s", csv_error(im->c));
            return -1;
        }
    } while (*nf == 1 && f[0][0] == '\0');
    return *nf > 0;
}

/* Unix seconds to a millisecond stamp that fits in 64 bits. */
static int field_stamp(const char *p, uint64_t *ms)
{
    uint64_t v = 0;
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX / 1000 - (uint64_t)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *ms = v * 1000;
    return 0;
}

/* Why a movies.csv row cannot be imported, or NULL. */
static const char *movie_row_error(char **f, int nf, uint32_t *movie)
{
    if (nf != 3 || parse_id(f[0], movie) != NULL)
        return "expected movieId,title,genres with a positive movieId";
    if (*movie >= RT_NEW_MOVIE_BASE)
        return "movie ids from 1000000000 up are kept for movies added later";
    if (f[1][0] == '\0')
        return "a movie needs a title";
    if (strlen(f[1]) > RT_MAX_TITLE)
        return "title longer than 255 bytes";
    if (strlen(f[2]) > RT_MAX_GENRES)
        return "genres longer than 255 bytes";
    if (has_control(f[1]) || has_control(f[2]))
        return "control character in the title or genres";
    return NULL;
}

static int import_movie(store_t *s, struct import_file *im, char **f, int nf)
{
    uint32_t movie = 0;
    const char *why = movie_row_error(f, nf, &movie);
    int rc = why ? -1 : store_movie_create(s, movie, f[1], f[2]);
    if (rc == 1)
        return 0;
    if (why)
        import_error(im, "%s", why);
    else if (rc == 0) /* INSERT OR IGNORE kept the first: a lost title */
        import_error(im, "movie %u appears twice", movie);
    else
        import_error(im, "%s", s->err);
    return -1;
}

static int import_movies(store_t *s, const char *dir, char *err, size_t errlen)
{
    static const char *const cols[] = {"movieId", "title", "genres"};
    struct import_file im;
    char *f[8];
    int nf, rc = import_open(&im, dir, "movies.csv", cols, 3, err, errlen);
    while (rc == 0 && (rc = import_row(&im, f, 8, &nf)) == 1)
        rc = import_movie(s, &im, f, nf);
    csv_close(im.c);
    return rc;
}

/* Rows of a file (lines less the header): the total of the progress line.
 * A quoted line break would count twice; ratings.csv has none. */
static uint64_t count_rows(const char *path)
{
    enum { CHUNK = 1 << 16 };
    FILE *f = fopen(path, "rb");
    char *buf = malloc(CHUNK);
    uint64_t lines = 0;
    char last = '\n';
    size_t n;
    while (f && buf && (n = fread(buf, 1, CHUNK, f)) > 0) {
        for (size_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
        last = buf[n - 1];
    }
    if (f)
        fclose(f);
    free(buf);
    lines += last != '\n';
    return lines ? lines - 1 : 0;
}

static int import_rating(store_t *s, struct import_file *im, char **f, int nf)
{
    static const upd_id_t none = {0, 0};
    uint32_t user, movie, halves;
    uint64_t stamp;
    movie_info_t m;
    if (nf != 4 || parse_id(f[0], &user) != NULL || parse_id(f[1], &movie) != NULL ||
        field_stamp(f[3], &stamp) < 0) {
        import_error(im, "expected userId,movieId,rating,timestamp with positive ids and "
                         "the timestamp in seconds");
        return -1;
    }
    if (parse_rating(f[2], &halves) != NULL) {
        import_error(im, "rating \"%.16s\": expected a rating from 0.5 to 5.0 in steps of 0.5",
                     f[2]);
        return -1;
    }
    int known = store_movie(s, movie, &m);
    if (known <= 0) {
        import_error(im, "movie %u is not in movies.csv%s%s", movie, known < 0 ? ": " : "",
                     known < 0 ? s->err : "");
        return -1;
    }
    if (store_rating_write(s, user, movie, halves, stamp, &none) < 0) {
        import_error(im, "%s", s->err);
        return -1;
    }
    return 0;
}

static int import_ratings(store_t *s, const char *dir, bool progress, char *err, size_t errlen)
{
    static const char *const cols[] = {"userId", "movieId", "rating", "timestamp"};
    struct import_file im;
    char *f[8];
    int nf, rc = import_open(&im, dir, "ratings.csv", cols, 4, err, errlen);
    uint64_t rows = 0, total = rc == 0 && progress ? count_rows(im.path) : 0;
    while (rc == 0 && (rc = import_row(&im, f, 8, &nf)) == 1) {
        rc = import_rating(s, &im, f, nf);
        if (progress && ++rows % 10000 == 0)
            fprintf(stderr, "\rimporting ratings: %llu/%llu", (unsigned long long)rows,
                    (unsigned long long)total);
    }
    if (progress && rc == 0)
        fprintf(stderr, "\rimporting ratings: %llu/%llu, done\n", (unsigned long long)rows,
                (unsigned long long)rows);
    else if (progress && rows >= 10000)
        fputc('\n', stderr); /* end the progress line before the error */
    csv_close(im.c);
    return rc;
}

int store_import_movielens(store_t *s, const char *dir, bool progress, char *err, size_t errlen)
{
    if (!s->is_new) {
        snprintf(err, errlen, "%s already holds data; import into a new database", s->path);
        return -1;
    }
    if (store_begin(s) < 0) {
        snprintf(err, errlen, "%s", s->err);
        return -1;
    }
    if (import_movies(s, dir, err, errlen) < 0 || import_ratings(s, dir, progress, err, errlen) < 0)
        goto fail;
    if (meta_put_u64(s, "imported", 1) < 0 || store_commit(s) < 0) {
        snprintf(err, errlen, "%s", s->err);
        goto fail;
    }
    s->is_new = false;
    return 0;
fail:
    store_rollback(s);
    return -1;
}
