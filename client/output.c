/* output.c -- formatting of answers. */
#include "output.h"

#include <inttypes.h>
#include <string.h>

#include "record.h"
#include "validate.h"

char *cli_format_average(uint64_t sum_halves, uint32_t n, char *buf, size_t len)
{
    if (n == 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    /* stars = sum_halves / (2n); in integers, so no rounding surprises. */
    uint64_t d = 2 * (uint64_t)n;
    uint64_t whole = sum_halves / d, rem = sum_halves % d;
    uint64_t cents = (rem * 100 + n) / d; /* + d/2 rounds half up */
    if (cents >= 100) {
        whole++;
        cents -= 100;
    }
    snprintf(buf, len, "%" PRIu64 ".%02" PRIu64, whole, cents);
    return buf;
}

char *cli_format_vts(const rt_vts *v, char *buf, size_t len)
{
    vts_t t;
    if (vts_from_xdr(&t, v) != RT_OK)
        snprintf(buf, len, "?");
    else
        vts_format(&t, buf, len);
    return buf;
}

const char *cli_state_text(rt_state st)
{
    switch (st) {
    case ST_ACTIVE: return "active";
    case ST_OVERLOADED: return "overloaded";
    case ST_OFFLINE: return "offline";
    case ST_RECOVERING: return "recovering";
    case ST_UNREACHABLE: return "unreachable";
    }
    return "unknown";
}

/* A string from the service, with control characters (tabs, newlines)
 * shown as '?', so that one answer stays one line. */
static void put_clean(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

void cli_print_movie(FILE *f, const rt_movie_info *m)
{
    char avg[32];
    fprintf(f, "id: %u\ntitle: ", m->movie);
    put_clean(f, m->title);
    fputs("\ngenres: ", f);
    put_clean(f, m->genres);
    fprintf(f, "\naverage: %s\nratings: %u\n",
            cli_format_average(m->sum_halves, m->nratings, avg, sizeof avg), m->nratings);
}

void cli_print_match(FILE *f, const rt_movie_info *m)
{
    char avg[32];
    fprintf(f, "%u\t", m->movie);
    put_clean(f, m->title);
    fputc('\t', f);
    put_clean(f, m->genres);
    fprintf(f, "\t%s\t%u\n", cli_format_average(m->sum_halves, m->nratings, avg, sizeof avg),
            m->nratings);
}

void cli_print_user_rating(FILE *f, const rt_user_rating *r)
{
    char h[8];
    fprintf(f, "%u\t%s\n", r->movie, halves_format(r->halves, h));
}

void cli_print_rating(FILE *f, uint32_t halves)
{
    char h[8];
    fprintf(f, "%s\n", halves_format(halves, h));
}

void cli_print_ok(FILE *f, uint32_t replica, const rt_vts *ts)
{
    char buf[VTS_MAX * 22 + 4];
    fprintf(f, "ok replica=%u ts=%s\n", replica, cli_format_vts(ts, buf, sizeof buf));
}

/* ---- the status table ----------------------------------------------- */

enum { NCOL = 11, CELL = VTS_MAX * 22 + 4 };

static const char *const header[NCOL] = {"replica", "state",    "replica_ts", "value_ts",
                                         "behind",  "log",      "pending",    "executed",
                                         "ratings", "movies",   "digest"};

/* Everything any reachable replica has accepted: the merge of their
 * replica timestamps.  A replica is behind by the updates in it that its
 * value does not reflect yet. */
static void known_everywhere(const rt_status_res *rows, size_t n, uint64_t known[VTS_MAX])
{
    memset(known, 0, VTS_MAX * sizeof *known);
    for (size_t r = 0; r < n; r++)
        for (u_int i = 0; rows[r].state != ST_UNREACHABLE && i < rows[r].replica_ts.rt_vts_len &&
                          i < VTS_MAX; i++)
            if (rows[r].replica_ts.rt_vts_val[i] > known[i])
                known[i] = rows[r].replica_ts.rt_vts_val[i];
}

static uint64_t behind(const rt_status_res *r, const uint64_t known[VTS_MAX])
{
    uint64_t missing = 0;
    for (u_int i = 0; i < VTS_MAX; i++) {
        uint64_t have = i < r->value_ts.rt_vts_len ? r->value_ts.rt_vts_val[i] : 0;
        missing += known[i] > have ? known[i] - have : 0;
    }
    return missing;
}

static void row_cells(const rt_status_res *r, const uint64_t known[VTS_MAX], char c[NCOL][CELL])
{
    snprintf(c[0], CELL, "%u", r->replica);
    snprintf(c[1], CELL, "%s", cli_state_text(r->state));
    if (r->state == ST_UNREACHABLE) {
        for (int i = 2; i < NCOL; i++)
            snprintf(c[i], CELL, "-");
        return;
    }
    cli_format_vts(&r->replica_ts, c[2], CELL);
    cli_format_vts(&r->value_ts, c[3], CELL);
    snprintf(c[4], CELL, "%" PRIu64, behind(r, known));
    snprintf(c[5], CELL, "%u", r->log_len);
    snprintf(c[6], CELL, "%u", r->pending);
    snprintf(c[7], CELL, "%" PRIu64, (uint64_t)r->executed);
    snprintf(c[8], CELL, "%" PRIu64, (uint64_t)r->nratings);
    snprintf(c[9], CELL, "%u", r->nmovies);
    snprintf(c[10], CELL, "%016" PRIx64, (uint64_t)r->digest);
}

static void print_row(FILE *f, const char *const cells[NCOL], const size_t width[NCOL])
{
    for (int i = 0; i < NCOL - 1; i++)
        fprintf(f, "%-*s  ", (int)width[i], cells[i]);
    fprintf(f, "%s\n", cells[NCOL - 1]);
}

static bool same_vts(const rt_vts *a, const rt_vts *b)
{
    u_int n = a->rt_vts_len > b->rt_vts_len ? a->rt_vts_len : b->rt_vts_len;
    for (u_int i = 0; i < n; i++) {
        uint64_t x = i < a->rt_vts_len ? a->rt_vts_val[i] : 0;
        uint64_t y = i < b->rt_vts_len ? b->rt_vts_val[i] : 0;
        if (x != y)
            return false;
    }
    return true;
}

/* Replicas with one value_ts have applied the same updates, so they must
 * hold the same data: different digests there are divergence, which
 * anti-entropy repair finds and merges (docs/algorithm.md).  One line for
 * each such group after the table. */
static void print_divergence(FILE *f, const rt_status_res *rows, size_t n)
{
    bool seen[RT_MAX_REPLICAS] = {false};
    if (n > RT_MAX_REPLICAS)
        n = RT_MAX_REPLICAS;
    for (size_t i = 0; i < n; i++) {
        if (seen[i] || rows[i].state == ST_UNREACHABLE)
            continue;
        size_t group[RT_MAX_REPLICAS], k = 0;
        bool differ = false;
        for (size_t j = i; j < n; j++)
            if (!seen[j] && rows[j].state != ST_UNREACHABLE &&
                same_vts(&rows[i].value_ts, &rows[j].value_ts)) {
                seen[j] = true;
                group[k++] = j;
                differ |= rows[j].digest != rows[i].digest;
            }
        if (!differ)
            continue;
        char ts[CELL];
        fputs("divergence: replicas ", f);
        for (size_t g = 0; g < k; g++)
            fprintf(f, "%s%u", g == 0 ? "" : g + 1 == k ? " and " : ", ", rows[group[g]].replica);
        fprintf(f, " have value_ts %s but different digests; anti-entropy repair merges them\n",
                cli_format_vts(&rows[i].value_ts, ts, sizeof ts));
    }
}

void cli_print_status(FILE *f, const rt_status_res *rows, size_t n)
{
    char c[NCOL][CELL];
    const char *cells[NCOL];
    size_t width[NCOL];
    uint64_t known[VTS_MAX];
    known_everywhere(rows, n, known);
    for (int i = 0; i < NCOL; i++)
        width[i] = strlen(header[i]);
    for (size_t r = 0; r < n; r++) {
        row_cells(&rows[r], known, c);
        for (int i = 0; i < NCOL; i++)
            if (strlen(c[i]) > width[i])
                width[i] = strlen(c[i]);
    }
    print_row(f, header, width);
    for (size_t r = 0; r < n; r++) {
        row_cells(&rows[r], known, c);
        for (int i = 0; i < NCOL; i++)
            cells[i] = c[i];
        print_row(f, cells, width);
    }
    print_divergence(f, rows, n);
}
