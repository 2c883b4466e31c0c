/*
 * histcheck.c -- check operation histories written by the fault tests'
 * workers (the format and the rules: history.h, docs/history-format.md).
 *
 *   histcheck FILE...      ('-' reads standard input)
 *
 * Several files are one history (one file per worker).  Prints one line per
 * violation, then
 *   histcheck: N operations (W writes, R reads, K keys, S sessions), V violations
 * Exit status: 0 no violation, 1 violations, 2 unreadable or malformed input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

static int load(hist_t *h, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "histcheck: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1100], err[256];
    unsigned long n = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        n++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "histcheck: %s:%lu: line too long\n", path, n);
            rc = -1;
        } else if (hist_parse_line(h, line, err, sizeof err) < 0) {
            fprintf(stderr, "histcheck: %s:%lu: %s\n", path, n, err);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "histcheck: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (f != stdin)
        fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: histcheck FILE...  ('-': standard input)\n"
                "Checks an operation history (docs/history-format.md): convergence, no\n"
                "acknowledged write lost, final values consistent with the acknowledged order,\n"
                "read-your-writes, monotonic reads.  Exit 0: none violated; 1: violations;\n"
                "2: unreadable or malformed input.\n");
        return argc < 2 ? 2 : 0;
    }
    hist_t *h = hist_new();
    if (!h)
        return 2;
    for (int i = 1; i < argc; i++)
        if (load(h, argv[i]) < 0) {
            hist_free(h);
            return 2;
        }
    int v = hist_check(h, stdout);
    if (v < 0) {
        fprintf(stderr, "histcheck: out of memory\n");
        hist_free(h);
        return 2;
    }
    hist_stats_t st;
    hist_stats(h, &st);
    printf("histcheck: %llu operations (%llu writes, %llu reads, %llu keys, %llu sessions), "
           "%d violations\n",
           (unsigned long long)st.ops, (unsigned long long)st.writes,
           (unsigned long long)st.reads, (unsigned long long)st.keys,
           (unsigned long long)st.sessions, v);
    hist_free(h);
    return v ? 1 : 0;
}
