/*
 * test_client.c -- the pure parts of the command-line client (client/):
 * the arguments of every command, valid and invalid; the options; update
 * ids; the session file (round trip, merge, malformed files); the output
 * formats (average, movie, search line, ok line, status table); the
 * shell's word splitting; exit codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <unistd.h>

/* By path: server/ and frontend/ come first in the include path and may
 * have headers of the same names. */
#include "../../client/args.h"
#include "../../client/options.h"
#include "../../client/output.h"
#include "../../client/report.h"
#include "../../client/session.h"
#include "../../client/shell.h"

/* ---- helpers ---------------------------------------------------------- */

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parse a command given as words; returns cli_parse_command's result. */
static int parse(cli_cmd_t *c, int argc, char **argv)
{
    char err[512];
    err[0] = '\0';
    int rc = cli_parse_command(argc, argv, c, err, sizeof err);
    if (rc < 0)
        assert_true(strlen(err) > 0); /* a refusal always says why */
    return rc;
}

/* The command must be refused and the message must mention `word`. */
static void refused(const char *word, int argc, char **argv)
{
    cli_cmd_t c;
    char err[512] = "";
    if (cli_parse_command(argc, argv, &c, err, sizeof err) == 0)
        fail_msg("'%s ...' with %d words was accepted", argv[0], argc);
    if (!strstr(err, word))
        fail_msg("message '%s' does not mention '%s'", err, word);
}

static char *repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

/* What f printed, via open_memstream. */
struct capture {
    char *buf;
    size_t len;
    FILE *f;
};

static FILE *capture_open(struct capture *c)
{
    c->buf = NULL;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    return c->f;
}

static const char *capture_text(struct capture *c)
{
    fclose(c->f);
    return c->buf;
}

/* ---- commands ------------------------------------------------------------- */

static void test_parse_queries(void **state)
{
    cli_cmd_t c;
    char *movie[] = {"movie", "42"};
    assert_int_equal(parse(&c, ARGC(movie), movie), 0);
    assert_int_equal(c.kind, CMD_MOVIE);
    assert_int_equal(c.movie, 42);

    char *search[] = {"search", "toy", "story"};
    assert_int_equal(parse(&c, ARGC(search), search), 0);
    assert_int_equal(c.kind, CMD_SEARCH);
    assert_string_equal(c.pattern, "toy story");

    char *get[] = {"get", "7", "2147483647"};
    assert_int_equal(parse(&c, ARGC(get), get), 0);
    assert_int_equal(c.kind, CMD_GET);
    assert_int_equal(c.user, 7);
    assert_int_equal(c.movie, 2147483647u);

    char *user[] = {"user", "611"};
    assert_int_equal(parse(&c, ARGC(user), user), 0);
    assert_int_equal(c.kind, CMD_USER);
    assert_int_equal(c.user, 611);

    char *status[] = {"status"}, *shell[] = {"shell"};
    assert_int_equal(parse(&c, 1, status), 0);
    assert_int_equal(c.kind, CMD_STATUS);
    assert_int_equal(c.watch_ms, 0);
    char *watch[] = {"status", "--watch"}, *watch_half[] = {"status", "-w", "0.5"};
    assert_int_equal(parse(&c, ARGC(watch), watch), 0);
    assert_int_equal(c.watch_ms, 2000);
    assert_int_equal(parse(&c, ARGC(watch_half), watch_half), 0);
    assert_int_equal(c.watch_ms, 500);
    assert_int_equal(parse(&c, 1, shell), 0);
    assert_int_equal(c.kind, CMD_SHELL);
}

static void test_parse_updates(void **state)
{
    cli_cmd_t c;
    char *rate[] = {"rate", "611", "1", "4.5"};
    assert_int_equal(parse(&c, ARGC(rate), rate), 0);
    assert_int_equal(c.kind, CMD_RATE);
    assert_int_equal(c.op.kind, OP_RATE);
    assert_int_equal(c.op.user, 611);
    assert_int_equal(c.op.movie, 1);
    assert_int_equal(c.op.halves, 9);

    char *update[] = {"update", "611", "1", "0.5"};
    assert_int_equal(parse(&c, ARGC(update), update), 0);
    assert_int_equal(c.kind, CMD_UPDATE);
    assert_int_equal(c.op.kind, OP_RATE);
    assert_int_equal(c.op.halves, 1);

    char *del[] = {"delete", "611", "3"};
    assert_int_equal(parse(&c, ARGC(del), del), 0);
    assert_int_equal(c.kind, CMD_DELETE);
    assert_int_equal(c.op.kind, OP_DELETE);
    assert_int_equal(c.op.user, 611);
    assert_int_equal(c.op.movie, 3);

    char *add[] = {"add-movie", "611", "4", "My Film (2026)", "Drama|Comedy"};
    assert_int_equal(parse(&c, ARGC(add), add), 0);
    assert_int_equal(c.kind, CMD_ADD_MOVIE);
    assert_int_equal(c.op.kind, OP_ADD_MOVIE);
    assert_int_equal(c.op.movie, 0);
    assert_int_equal(c.op.user, 611);
    assert_int_equal(c.op.halves, 8);
    assert_string_equal(c.op.title, "My Film (2026)");
    assert_string_equal(c.op.genres, "Drama|Comedy");

    char *add3[] = {"add-movie", "5", "5.0", "Untitled"};
    assert_int_equal(parse(&c, ARGC(add3), add3), 0);
    assert_int_equal(c.op.halves, 10);
    assert_string_equal(c.op.genres, "");
}

static void test_parse_bad_ratings(void **state)
{
    const char *bad[] = {"6", "0", "4.3", "-1", "abc", "5.5", "0.25", "", "1e1", "4,5", "nan",
                         " 3", "3 ", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *rate[] = {"rate", "1", "2", (char *)bad[i]};
        char *update[] = {"update", "1", "2", (char *)bad[i]};
        char *add[] = {"add-movie", "1", (char *)bad[i], "Title"};
        refused("rating", ARGC(rate), rate);
        refused("rating", ARGC(update), update);
        refused("rating", ARGC(add), add);
    }
}

static void test_parse_bad_ids(void **state)
{
    const char *bad[] = {"abc", "-5", "1.5", "0", "4294967296", "2147483648", "", "+3", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *id = (char *)bad[i];
        char *movie[] = {"movie", id};
        char *get_u[] = {"get", id, "1"}, *get_m[] = {"get", "1", id};
        char *user[] = {"user", id};
        char *rate_u[] = {"rate", id, "1", "3"}, *rate_m[] = {"rate", "1", id, "3"};
        char *del[] = {"delete", "1", id};
        char *add[] = {"add-movie", id, "3", "T"};
        refused("movie id", ARGC(movie), movie);
        refused("user id", ARGC(get_u), get_u);
        refused("movie id", ARGC(get_m), get_m);
        refused("user id", ARGC(user), user);
        refused("user id", ARGC(rate_u), rate_u);
        refused("movie id", ARGC(rate_m), rate_m);
        refused("movie id", ARGC(del), del);
        refused("user id", ARGC(add), add);
    }
}

static void test_parse_arity(void **state)
{
    char *movie0[] = {"movie"}, *movie2[] = {"movie", "1", "2"};
    char *get1[] = {"get", "1"}, *get3[] = {"get", "1", "1", "1"};
    char *user0[] = {"user"}, *rate2[] = {"rate", "1", "2"}, *rate4[] = {"rate", "1", "2", "3", "4"};
    char *update2[] = {"update", "1", "1"}, *delete1[] = {"delete", "1"};
    char *add2[] = {"add-movie", "1", "4"}, *add5[] = {"add-movie", "1", "4", "T", "G", "x"};
    char *search0[] = {"search"}, *status3[] = {"status", "-w", "1", "x"}, *shell1[] = {"shell", "x"};
    refused("missing", ARGC(movie0), movie0);
    refused("too many", ARGC(movie2), movie2);
    refused("missing", ARGC(get1), get1);
    refused("too many", ARGC(get3), get3);
    refused("missing", ARGC(user0), user0);
    refused("rate USER MOVIE RATING", ARGC(rate2), rate2);
    refused("too many", ARGC(rate4), rate4);
    refused("missing", ARGC(update2), update2);
    refused("missing", ARGC(delete1), delete1);
    refused("missing", ARGC(add2), add2);
    refused("too many", ARGC(add5), add5);
    refused("missing", ARGC(search0), search0);
    refused("too many", ARGC(status3), status3);
    char *statusx[] = {"status", "x"}, *watch0[] = {"status", "--watch", "0"},
         *watchx[] = {"status", "-w", "2s"};
    refused("--watch [SECONDS], not 'x'", ARGC(statusx), statusx);
    refused("give 0.1 to 3600 (got '0')", ARGC(watch0), watch0);
    refused("give 0.1 to 3600 (got '2s')", ARGC(watchx), watchx);
    refused("too many", ARGC(shell1), shell1);
    char *unknown[] = {"frobnicate", "1"}, *prefix[] = {"mov", "1"};
    refused("unknown command 'frobnicate'", ARGC(unknown), unknown);
    refused("unknown command", ARGC(prefix), prefix);
    cli_cmd_t c;
    char err[128];
    assert_int_equal(cli_parse_command(0, NULL, &c, err, sizeof err), -1);
}

static void test_parse_text_bounds(void **state)
{
    cli_cmd_t c;
    char *t255 = repeat('t', RT_MAX_TITLE), *t256 = repeat('t', RT_MAX_TITLE + 1);
    char *add_ok[] = {"add-movie", "1", "4", t255, t255};
    assert_int_equal(parse(&c, ARGC(add_ok), add_ok), 0);
    assert_int_equal(strlen(c.op.title), RT_MAX_TITLE);
    assert_int_equal(strlen(c.op.genres), RT_MAX_GENRES);
    char *add_long[] = {"add-movie", "1", "4", t256};
    refused("title is longer than 255 bytes (it has 256)", ARGC(add_long), add_long);
    char *genres_long[] = {"add-movie", "1", "4", "T", t256};
    refused("genres", ARGC(genres_long), genres_long);
    char *add_empty[] = {"add-movie", "1", "4", ""};
    refused("title", ARGC(add_empty), add_empty);
    char *add_ctl[] = {"add-movie", "1", "4", "Bad\nTitle"};
    refused("control", ARGC(add_ctl), add_ctl);

    char *s_ok[] = {"search", t255};
    assert_int_equal(parse(&c, ARGC(s_ok), s_ok), 0);
    char *s_long[] = {"search", t256};
    refused("longer than 255", ARGC(s_long), s_long);
    /* words joined by a space: 127 + 1 + 127 = 255 bytes fit, 128 + 1 + 127 do not */
    char *w127 = repeat('h', 127), *w128 = repeat('h', 128);
    char *s_fits[] = {"search", w127, w127};
    assert_int_equal(parse(&c, ARGC(s_fits), s_fits), 0);
    assert_int_equal(strlen(c.pattern), 255);
    assert_int_equal(c.pattern[127], ' ');
    char *s_joined[] = {"search", w128, w127};
    refused("longer than 255 bytes (it has 256)", ARGC(s_joined), s_joined);
    char *s_empty[] = {"search", ""};
    refused("non-empty", ARGC(s_empty), s_empty);
    char *s_tab[] = {"search", "a\tb"};
    refused("control", ARGC(s_tab), s_tab);
    free(t255);
    free(t256);
    free(w127);
    free(w128);
}

static void test_synopsis(void **state)
{
    assert_string_equal(cli_command_synopsis(CMD_RATE), "rate USER MOVIE RATING");
    assert_string_equal(cli_command_synopsis(CMD_ADD_MOVIE), "add-movie USER RATING TITLE [GENRES]");
}

/* ---- options ---------------------------------------------------------------- */

static int opts(cli_options_t *o, char *err, int argc, char **argv)
{
    return cli_options_parse(argc, argv, o, err, 256);
}

static void test_options_defaults_and_values(void **state)
{
    cli_options_t o;
    char err[256];
    unsetenv("RATING_HOST");
    unsetenv("RATING_PROG");
    unsetenv("RATING_SESSION");
    setenv("RATING_CONFIG", "", 1); /* not the machine's installed file */
    char *none[] = {"rating", "movie", "1"};
    assert_int_equal(opts(&o, err, ARGC(none), none), 0);
    assert_string_equal(o.target.host, "localhost");
    assert_int_equal(o.target.prog, 0x2F5A7000);
    assert_false(o.target.replica);
    assert_int_equal(o.target.timeout_ms, 10000);
    assert_null(o.session_file);
    assert_false(o.has_uid);
    assert_int_equal(o.first, 1);

    char *all[] = {"rating", "-H", "example.org", "-P", "0x40000010", "-t", "250", "-s", "/tmp/s",
                   "--uid", "77:3", "get", "1", "2"};
    assert_int_equal(opts(&o, err, ARGC(all), all), 0);
    assert_string_equal(o.target.host, "example.org");
    assert_int_equal(o.target.prog, 0x40000010);
    assert_int_equal(o.target.timeout_ms, 250);
    assert_string_equal(o.session_file, "/tmp/s");
    assert_true(o.has_uid);
    assert_true(o.uid.origin == 77 && o.uid.seq == 3);
    assert_string_equal(all[o.first], "get");

    char *longs[] = {"rating", "--host=h2", "--prog=1073741840", "--timeout=5", "--replica",
                     "r.example:0x40000001", "status"};
    assert_int_equal(opts(&o, err, ARGC(longs), longs), 0);
    assert_true(o.target.replica);
    assert_string_equal(o.target.host, "r.example");
    assert_int_equal(o.target.prog, 0x40000001);
    assert_int_equal(o.target.timeout_ms, 5);
    assert_string_equal(longs[o.first], "status");

    /* --replica beats -H and -P whatever their order */
    char *mixed[] = {"rating", "-r", "r1:0x40000005", "-P", "0x40000099", "-H", "fe", "status"};
    assert_int_equal(opts(&o, err, ARGC(mixed), mixed), 0);
    assert_true(o.target.replica);
    assert_string_equal(o.target.host, "r1");
    assert_int_equal(o.target.prog, 0x40000005);
}

static void test_options_stop_at_command(void **state)
{
    cli_options_t o;
    char err[256];
    /* "-5" after the command is the command's argument, not an option */
    char *argv[] = {"rating", "movie", "-5"};
    assert_int_equal(opts(&o, err, ARGC(argv), argv), 0);
    assert_int_equal(o.first, 1);
    char *help[] = {"rating", "--help"}, *ver[] = {"rating", "-V"};
    assert_int_equal(opts(&o, err, ARGC(help), help), 0);
    assert_true(o.help);
    assert_int_equal(opts(&o, err, ARGC(ver), ver), 0);
    assert_true(o.version);
    assert_int_equal(o.first, 2);
}

static void test_options_invalid(void **state)
{
    cli_options_t o;
    char err[256];
    struct {
        char *argv[4];
        const char *word;
    } bad[] = {
        {{"rating", "-P", "zero", "status"}, "program number"},
        {{"rating", "-P", "0", "status"}, "program number"},
        {{"rating", "-t", "0", "status"}, "--timeout"},
        {{"rating", "-t", "1x", "status"}, "--timeout"},
        {{"rating", "--uid", "nonsense", "status"}, "--uid"},
        {{"rating", "--uid", "0:1", "status"}, "--uid"},
        {{"rating", "-r", "nocolon", "status"}, "--replica"},
        {{"rating", "-r", "a:1,b:2", "status"}, "one HOST:PROG"},
        {{"rating", "-r", "h:zz", "status"}, "--replica"},
        {{"rating", "--no-such-option", "movie", "1"}, "--no-such-option"},
        {{"rating", "-x", "movie", "1"}, "-x"},
        {{"rating", "-H", "", "status"}, "host"},
        {{"rating", "-s", "", "status"}, "--session"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (opts(&o, err, 4, bad[i].argv) == 0)
            fail_msg("accepted %s %s", bad[i].argv[1], bad[i].argv[2]);
        if (!strstr(err, bad[i].word))
            fail_msg("message '%s' does not mention '%s'", err, bad[i].word);
    }
    char *missing[] = {"rating", "-t"};
    assert_int_equal(opts(&o, err, ARGC(missing), missing), -1);
    assert_non_null(strstr(err, "needs a value"));
}

static void test_options_environment(void **state)
{
    cli_options_t o;
    char err[256];
    setenv("RATING_HOST", "envhost", 1);
    setenv("RATING_PROG", "1073741825", 1);
    setenv("RATING_SESSION", "/tmp/envsession", 1);
    char *argv[] = {"rating", "status"};
    assert_int_equal(opts(&o, err, ARGC(argv), argv), 0);
    assert_string_equal(o.target.host, "envhost");
    assert_int_equal(o.target.prog, 1073741825);
    assert_string_equal(o.session_file, "/tmp/envsession");
    char *over[] = {"rating", "-H", "opthost", "status"};
    assert_int_equal(opts(&o, err, ARGC(over), over), 0);
    assert_string_equal(o.target.host, "opthost"); /* options beat the environment */
    setenv("RATING_PROG", "bogus", 1);
    assert_int_equal(opts(&o, err, ARGC(argv), argv), -1);
    assert_non_null(strstr(err, "RATING_PROG"));
    unsetenv("RATING_HOST");
    unsetenv("RATING_PROG");
    unsetenv("RATING_SESSION");
}

/* ---- update ids ---------------------------------------------------------------- */

static void test_uid_parse(void **state)
{
    upd_id_t u;
    uint64_t stamp = 99;
    assert_int_equal(cli_uid_parse("4242:1", &u, &stamp), 0);
    assert_true(u.origin == 4242 && u.seq == 1 && stamp == 0);
    assert_int_equal(cli_uid_parse("18446744073709551615:0", &u, &stamp), 0);
    assert_true(u.origin == UINT64_MAX && u.seq == 0);
    assert_int_equal(cli_uid_parse("7:3:1733337000123", &u, &stamp), 0);
    assert_true(u.origin == 7 && u.seq == 3 && stamp == 1733337000123ULL);
    const char *bad[] = {"", "1", "1:", ":1", "0:5", "1:2x", "x:1", "-1:2", "1:-2", "1:2:0",
                         "1:2:", "1:2:3:4", "1:2:x", "0:2:3", "18446744073709551616:1", " 1:2",
                         "1 :2", "1:2:18446744073709551616"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cli_uid_parse(bad[i], &u, &stamp) == 0)
            fail_msg("--uid '%s' was accepted", bad[i]);
}

static void test_uid_fresh(void **state)
{
    upd_id_t a, b;
    assert_int_equal(cli_uid_fresh(&a), 0);
    assert_int_equal(cli_uid_fresh(&b), 0);
    assert_true(a.origin != 0 && b.origin != 0);
    assert_int_equal(a.seq, 1);
    assert_true(a.origin != b.origin); /* 2^-64 to fail by chance */
}

static void test_uid_sequence_and_retry(void **state)
{
    cli_session_t s;
    op_t op1, op2;
    memset(&s, 0, sizeof s);
    memset(&op1, 0, sizeof op1);
    memset(&op2, 0, sizeof op2);
    s.uid = (upd_id_t){9, 1};
    op1.kind = op2.kind = OP_RATE;
    op1.user = op2.user = 1;
    op1.movie = 1;
    op2.movie = 2;
    op1.halves = op2.halves = 6;

    bool repeat;
    upd_id_t u = cli_session_next_uid(&s, &op1, &repeat);
    assert_true(u.origin == 9 && u.seq == 1 && !repeat);
    uint64_t first = s.stamp;
    assert_true(first > 0);
    cli_session_sent(&s, &op1, true);
    u = cli_session_next_uid(&s, &op1, &repeat); /* answered: the same command again is new */
    assert_int_equal(u.seq, 2);
    assert_false(repeat);
    uint64_t second = s.stamp;
    assert_true(second > first); /* a session's writes follow each other, whatever the clock */
    cli_session_sent(&s, &op1, false);
    u = cli_session_next_uid(&s, &op1, &repeat); /* no answer: a repeat is a retry ... */
    assert_int_equal(u.seq, 2);
    assert_true(repeat);
    assert_true(s.stamp == second); /* ... with the same id and the same stamp */
    cli_session_sent(&s, &op1, false);
    u = cli_session_next_uid(&s, &op2, &repeat); /* another update after an unanswered one */
    assert_int_equal(u.seq, 3);
    assert_false(repeat);
    assert_true(s.stamp > second);
    cli_session_sent(&s, &op2, true);
    assert_int_equal(cli_session_next_uid(&s, &op2, &repeat).seq, 4);
    assert_int_equal(s.uid.origin, 9);
}

/* RT_STALE: a new id, and a stamp after the later write's, even one far ahead. */
static void test_uid_restamp(void **state)
{
    cli_session_t s;
    op_t op;
    bool repeat;
    memset(&s, 0, sizeof s);
    memset(&op, 0, sizeof op);
    s.uid = (upd_id_t){9, 1};
    op.kind = OP_RATE;
    op.user = op.movie = 1;
    op.halves = 6;
    cli_session_next_uid(&s, &op, &repeat);
    uint64_t later = s.stamp + 3600 * 1000;
    cli_session_restamp(&s, later);
    assert_int_equal(s.uid.seq, 2);
    assert_true(s.stamp == later + 1);
    assert_true(cli_session_next_uid(&s, &op, &repeat).seq == 2 && s.stamp == later + 1);
}

/* ---- the session file ------------------------------------------------------------- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_client.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    return rmdir(tmpdir);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char *read_text(const char *path)
{
    static char buf[2048];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_session_round_trip(void **state)
{
    char path[128], err[512];
    vts_t v, back;
    snprintf(path, sizeof path, "%s/session", tmpdir);
    assert_int_equal(cli_session_load(path, &back, err, sizeof err), 0); /* missing: empty */
    assert_int_equal(back.n, 0);

    vts_zero(&v, 3);
    v.t[0] = 5;
    v.t[1] = 0;
    v.t[2] = UINT64_MAX;
    assert_int_equal(cli_session_save(path, &v, err, sizeof err), 0);
    assert_string_equal(read_text(path), "[5,0,18446744073709551615]\n");
    assert_int_equal(cli_session_load(path, &back, err, sizeof err), 0);
    assert_int_equal(back.n, 3);
    assert_true(vts_eq(&v, &back));
    assert_int_equal(count_entries(tmpdir), 1); /* no temporary file left behind */

    vts_t full;
    vts_zero(&full, VTS_MAX);
    for (uint32_t k = 0; k < VTS_MAX; k++)
        full.t[k] = UINT64_MAX - k;
    snprintf(path, sizeof path, "%s/full", tmpdir); /* a fresh file: nothing to merge with */
    assert_int_equal(cli_session_save(path, &full, err, sizeof err), 0);
    assert_int_equal(cli_session_load(path, &back, err, sizeof err), 0);
    assert_int_equal(back.n, VTS_MAX);
    assert_true(vts_eq(&full, &back));
}

static void test_session_save_merges(void **state)
{
    char path[128], err[512];
    vts_t a, b, back;
    snprintf(path, sizeof path, "%s/merge", tmpdir);
    write_file(path, "[1,9]\n", 6); /* saved by another invocation meanwhile */
    vts_zero(&a, 3);
    a.t[0] = 4;
    a.t[2] = 2;
    assert_int_equal(cli_session_save(path, &a, err, sizeof err), 0);
    assert_int_equal(cli_session_load(path, &back, err, sizeof err), 0);
    vts_zero(&b, 3);
    b.t[0] = 4;
    b.t[1] = 9;
    b.t[2] = 2;
    assert_true(vts_eq(&back, &b));
    assert_int_equal(back.n, 3);
}

static void test_session_malformed(void **state)
{
    char path[128], err[512];
    vts_t v;
    const char *bad[] = {"garbage\n", "[1,2\n", "1,2]\n", "[1,x]\n", "[1,2]junk\n", "[1;2]\n",
                         "[-1]\n", "[1,2]\n[3]\n", "[18446744073709551616]\n", "[]x\n"};
    snprintf(path, sizeof path, "%s/bad", tmpdir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i], strlen(bad[i]));
        err[0] = '\0';
        if (cli_session_load(path, &v, err, sizeof err) == 0)
            fail_msg("session file '%s' was accepted", bad[i]);
        assert_non_null(strstr(err, path));
    }
    write_file(path, "[1,\0002]\n", 7); /* a NUL inside */
    assert_int_equal(cli_session_load(path, &v, err, sizeof err), -1);
    char *big = repeat('1', 4000);
    big[0] = '[';
    big[3999] = ']';
    write_file(path, big, 4000);
    assert_int_equal(cli_session_load(path, &v, err, sizeof err), -1);
    free(big);
    /* an empty file (as mktemp makes it) is an empty prev */
    write_file(path, "", 0);
    assert_int_equal(cli_session_load(path, &v, err, sizeof err), 0);
    assert_int_equal(v.n, 0);
    write_file(path, " \n", 2);
    assert_int_equal(cli_session_load(path, &v, err, sizeof err), 0);
    /* surrounding whitespace is fine */
    write_file(path, "  [3,4]  \n\n", 11);
    assert_int_equal(cli_session_load(path, &v, err, sizeof err), 0);
    assert_true(v.n == 2 && v.t[0] == 3 && v.t[1] == 4);
    /* a directory is not a session file */
    assert_int_equal(cli_session_load(tmpdir, &v, err, sizeof err), -1);
    unlink(path);
}

static void test_session_unwritable(void **state)
{
    char path[128], err[512] = "";
    vts_t v;
    vts_zero(&v, 1);
    snprintf(path, sizeof path, "%s/no/such/dir/session", tmpdir);
    assert_int_equal(cli_session_save(path, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot write session file"));
}

/* ---- output ---------------------------------------------------------------------- */

static void test_format_average(void **state)
{
    char b[32];
    assert_string_equal(cli_format_average(7, 2, b, sizeof b), "1.75");
    assert_string_equal(cli_format_average(0, 0, b, sizeof b), "-");
    assert_string_equal(cli_format_average(8, 2, b, sizeof b), "2.00");
    assert_string_equal(cli_format_average(10, 1, b, sizeof b), "5.00");
    assert_string_equal(cli_format_average(1, 1, b, sizeof b), "0.50");
    assert_string_equal(cli_format_average(1, 3, b, sizeof b), "0.17");  /* 0.1666.. */
    assert_string_equal(cli_format_average(5, 3, b, sizeof b), "0.83");  /* 0.8333.. */
    assert_string_equal(cli_format_average(1, 4, b, sizeof b), "0.13");  /* 0.125 rounds up */
    assert_string_equal(cli_format_average(19, 2, b, sizeof b), "4.75");
    assert_string_equal(cli_format_average(1999, 200, b, sizeof b), "5.00"); /* 4.9975 */
    /* Toy Story in ml-latest-small: 215 ratings averaging 3.92093 */
    assert_string_equal(cli_format_average(1686, 215, b, sizeof b), "3.92");
    assert_string_equal(cli_format_average(10ull * 4000000000ull, 4000000000u, b, sizeof b), "5.00");
}

static void test_print_movie(void **state)
{
    struct capture c;
    rt_movie_info m = {.movie = 1, .title = "Toy Story (1995)", .genres = "Adventure|Animation",
                       .nratings = 215, .sum_halves = 1686};
    cli_print_movie(capture_open(&c), &m);
    assert_string_equal(capture_text(&c), "id: 1\ntitle: Toy Story (1995)\n"
                                          "genres: Adventure|Animation\naverage: 3.92\n"
                                          "ratings: 215\n");
    free(c.buf);
    rt_movie_info none = {.movie = 5, .title = "New", .genres = "", .nratings = 0};
    cli_print_movie(capture_open(&c), &none);
    assert_string_equal(capture_text(&c), "id: 5\ntitle: New\ngenres: \naverage: -\nratings: 0\n");
    free(c.buf);
}

static void test_print_lines(void **state)
{
    struct capture c;
    rt_movie_info m = {.movie = 3, .title = "A\tB\nC", .genres = "Drama", .nratings = 2,
                       .sum_halves = 7};
    cli_print_match(capture_open(&c), &m);
    assert_string_equal(capture_text(&c), "3\tA?B?C\tDrama\t1.75\t2\n"); /* one line, 5 fields */
    free(c.buf);

    rt_user_rating r = {.movie = 1, .halves = 8};
    cli_print_user_rating(capture_open(&c), &r);
    assert_string_equal(capture_text(&c), "1\t4.0\n");
    free(c.buf);

    cli_print_rating(capture_open(&c), 7);
    assert_string_equal(capture_text(&c), "3.5\n");
    free(c.buf);

    u_quad_t t[] = {3, 0, 12};
    rt_vts ts = {3, t};
    cli_print_ok(capture_open(&c), 2, &ts);
    assert_string_equal(capture_text(&c), "ok replica=2 ts=[3,0,12]\n");
    free(c.buf);
}

static void test_print_status(void **state)
{
    struct capture c;
    u_quad_t rts[] = {10, 20, 3}, vts[] = {10, 19, 3}, rts2[] = {12, 18, 3}, vts2[] = {9, 18, 3};
    rt_status_res rows[3];
    memset(rows, 0, sizeof rows);
    rows[0] = (rt_status_res){.replica = 0, .nreplicas = 3, .state = ST_ACTIVE,
                              .replica_ts = {3, rts}, .value_ts = {3, vts}, .log_len = 4,
                              .pending = 1, .executed = 100836, .nratings = 100836,
                              .nmovies = 9742, .digest = 0xabcdef0123456789ull};
    rows[1] = (rt_status_res){.replica = 1, .state = ST_UNREACHABLE};
    rows[2] = (rt_status_res){.replica = 2, .nreplicas = 3, .state = ST_OVERLOADED,
                              .replica_ts = {3, rts2}, .value_ts = {3, vts2}};
    cli_print_status(capture_open(&c), rows, 3);
    const char *out = capture_text(&c);
    char line[4][256];
    const char *p = out;
    for (int i = 0; i < 4; i++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        snprintf(line[i], sizeof line[i], "%.*s", (int)(nl - p), p);
        p = nl + 1;
    }
    assert_string_equal(p, "");
    /* words of each line, whitespace-separated */
    /* behind: known everywhere is [12,20,3]; replica 0 lacks 2+1, replica 2 lacks 3+2 */
    char want[4][200] = {"replica state replica_ts value_ts behind log pending executed ratings movies digest",
                         "0 active [10,20,3] [10,19,3] 3 4 1 100836 100836 9742 abcdef0123456789",
                         "1 unreachable - - - - - - - - -",
                         "2 overloaded [12,18,3] [9,18,3] 5 0 0 0 0 0 0000000000000000"};
    for (int i = 0; i < 4; i++) {
        char words[256] = "", *save = NULL;
        for (char *w = strtok_r(line[i], " ", &save); w; w = strtok_r(NULL, " ", &save))
            snprintf(words + strlen(words), sizeof words - strlen(words), "%s%s", *words ? " " : "", w);
        assert_string_equal(words, want[i]);
    }
    /* aligned: the second column starts at the same place in every line */
    const char *h = out, *r0 = strchr(out, '\n') + 1;
    assert_int_equal(strstr(h, "state") - h, strstr(r0, "active") - r0);
    free(c.buf);
}

/* Replicas at one value_ts with different digests have diverged: a line
 * after the table says which; at different value timestamps, or with
 * equal digests, nothing is said. */
static void test_print_status_divergence(void **state)
{
    struct capture c;
    u_quad_t a[] = {4, 2}, b[] = {4, 2, 0}, other[] = {5, 2};
    rt_status_res rows[4];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 4; i++)
        rows[i] = (rt_status_res){.replica = (u_int)i, .nreplicas = 4, .state = ST_ACTIVE,
                                  .replica_ts = {2, a}, .value_ts = {2, a}, .digest = 7};
    rows[1].value_ts = (rt_vts){3, b}; /* the same timestamp, written longer */
    rows[1].digest = 8;
    rows[2].value_ts = (rt_vts){2, other};
    rows[2].digest = 9;
    rows[3].digest = 10;
    cli_print_status(capture_open(&c), rows, 4);
    const char *out = capture_text(&c);
    const char *d = strstr(out, "divergence:");
    assert_non_null(d);
    assert_string_equal(d, "divergence: replicas 0, 1 and 3 have value_ts [4,2] but different "
                           "digests; anti-entropy repair merges them\n");
    free(c.buf);
    rows[1].digest = rows[3].digest = 7; /* the same data: no line */
    rows[3].state = ST_UNREACHABLE;
    cli_print_status(capture_open(&c), rows, 4);
    assert_null(strstr(capture_text(&c), "divergence"));
    free(c.buf);
}

static void test_state_text(void **state)
{
    assert_string_equal(cli_state_text(ST_ACTIVE), "active");
    assert_string_equal(cli_state_text(ST_OVERLOADED), "overloaded");
    assert_string_equal(cli_state_text(ST_OFFLINE), "offline");
    assert_string_equal(cli_state_text(ST_RECOVERING), "recovering");
    assert_string_equal(cli_state_text(ST_UNREACHABLE), "unreachable");
}

/* ---- shell words, exit codes ------------------------------------------------------ */

static void test_split(void **state)
{
    char *w[8];
    const char *err = NULL;
    char l1[] = "  add-movie 611 4 \"My Film (2026)\" 'Drama|Comedy'\n";
    assert_int_equal(cli_split(l1, w, 8, &err), 5);
    assert_string_equal(w[0], "add-movie");
    assert_string_equal(w[2], "4");
    assert_string_equal(w[3], "My Film (2026)");
    assert_string_equal(w[4], "Drama|Comedy");

    char l2[] = "search it\\'s \"a \\\"b\\\"\" ''";
    assert_int_equal(cli_split(l2, w, 8, &err), 4);
    assert_string_equal(w[1], "it's");
    assert_string_equal(w[2], "a \"b\"");
    assert_string_equal(w[3], "");

    char l3[] = "   \t \n";
    assert_int_equal(cli_split(l3, w, 8, &err), 0);
    char l4[] = "get 'unclosed";
    assert_int_equal(cli_split(l4, w, 8, &err), -1);
    assert_non_null(strstr(err, "quote"));
    char l5[] = "a b c d";
    assert_int_equal(cli_split(l5, w, 3, &err), -1);
    char l6[] = "x\"y z\"w";
    assert_int_equal(cli_split(l6, w, 8, &err), 1);
    assert_string_equal(w[0], "xy zw");
}

static void test_exit_codes(void **state)
{
    assert_int_equal(cli_exit_for(RT_OK), 0);
    assert_int_equal(cli_exit_for(RT_NOT_FOUND), 1);
    assert_int_equal(cli_exit_for(RT_INVALID), 2);
    assert_int_equal(cli_exit_for(RT_EXISTS), 4);
    const rt_status unavailable[] = {RT_OVERLOADED, RT_NOT_READY, RT_OFFLINE, RT_UNAVAILABLE,
                                     RT_DENIED, RT_INTERNAL, RT_FULL};
    for (size_t i = 0; i < sizeof unavailable / sizeof unavailable[0]; i++)
        assert_int_equal(cli_exit_for(unavailable[i]), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_queries),
        cmocka_unit_test(test_parse_updates),
        cmocka_unit_test(test_parse_bad_ratings),
        cmocka_unit_test(test_parse_bad_ids),
        cmocka_unit_test(test_parse_arity),
        cmocka_unit_test(test_parse_text_bounds),
        cmocka_unit_test(test_synopsis),
        cmocka_unit_test(test_options_defaults_and_values),
        cmocka_unit_test(test_options_stop_at_command),
        cmocka_unit_test(test_options_invalid),
        cmocka_unit_test(test_options_environment),
        cmocka_unit_test(test_uid_parse),
        cmocka_unit_test(test_uid_fresh),
        cmocka_unit_test(test_uid_sequence_and_retry),
        cmocka_unit_test(test_uid_restamp),
        cmocka_unit_test(test_session_round_trip),
        cmocka_unit_test(test_session_save_merges),
        cmocka_unit_test(test_session_malformed),
        cmocka_unit_test(test_session_unwritable),
        cmocka_unit_test(test_format_average),
        cmocka_unit_test(test_print_movie),
        cmocka_unit_test(test_print_lines),
        cmocka_unit_test(test_print_status),
        cmocka_unit_test(test_print_status_divergence),
        cmocka_unit_test(test_state_text),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_exit_codes),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
