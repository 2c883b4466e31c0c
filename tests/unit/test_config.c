/*
 * test_config.c -- ratingd.conf (common/config.c) and the servers' shared
 * options (common/daemon.c): the lists, sections, keys as long options,
 * the command line over the file, and a FILE:LINE message for each kind of
 * mistake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "daemon.h"

static char path[64];

/* What the option function saw, in order: "key=value;" */
struct seen {
    char log[1024];
};

enum { OPT_FLAG = 500 };
static const struct option opts[] = {
    {"gossip-ms", required_argument, 0, 'g'}, {"data-dir", required_argument, 0, 'd'},
    {"listen", required_argument, 0, 'l'},    {"flag", no_argument, 0, OPT_FLAG},
    {"id", required_argument, 0, 'i'},        {"config", required_argument, 0, 'c'},
    {0, 0, 0, 0}};

static int record(void *ctx, int opt, const char *value, char *err, size_t errlen)
{
    struct seen *s = ctx;
    if (value && strcmp(value, "bad") == 0) {
        snprintf(err, errlen, "bad value 'bad'");
        return -1;
    }
    char item[128];
    snprintf(item, sizeof item, "%c=%s;", opt == OPT_FLAG ? 'F' : opt, value ? value : "");
    strncat(s->log, item, sizeof s->log - strlen(s->log) - 1);
    return 0;
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Read path as [ratingd]; returns config_read's result. */
static int read_as(const char *section, const char *text, struct seen *s, config_cluster_t *cc,
                   char *err)
{
    write_file(text);
    memset(s, 0, sizeof *s);
    return config_read(path, true, section, opts, record, s, cc, err, 512);
}

static int setup(void **st)
{
    (void)st;
    snprintf(path, sizeof path, "/tmp/test_config.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    unlink(path);
    return 0;
}

static void test_lists_sections_and_keys(void **st)
{
    struct seen s;
    config_cluster_t cc;
    char err[512];
    const char *text = "# the cluster\n"
                       "replica 1 h1 0x40000001\n"
                       "  replica 0 h0 1073741824   # out of order, decimal\n"
                       "\n"
                       "frontend 0 fe 0x40000010\r\n"
                       "listen 10.0.0.1\n"
                       "key-file /k\n"
                       "[ratingfe]\n"
                       "gossip-ms 7\n"
                       "[ratingd]\n"
                       "gossip-ms 250\n"
                       "data-dir /var/lib/ratingd data#not-a-comment\n"
                       "flag yes\n"
                       "[rating]\n"
                       "unknown-in-another-section 1\n";
    assert_int_equal(read_as("ratingd", text, &s, &cc, err), 0);
    assert_int_equal(cc.replicas.n, 2);
    assert_string_equal(cc.replicas.rep[0].host, "h0");
    assert_int_equal(cc.replicas.rep[0].prog, 0x40000000);
    assert_string_equal(cc.replicas.rep[1].host, "h1");
    assert_int_equal(cc.replicas.rep[1].prog, 0x40000001);
    assert_int_equal(cc.frontends.n, 1);
    assert_string_equal(cc.frontends.rep[0].host, "fe");
    /* key-file is global and this program has no such option: skipped;
     * [ratingfe] and [rating] are another program's */
    assert_string_equal(s.log, "l=10.0.0.1;g=250;d=/var/lib/ratingd data#not-a-comment;F=;");
    config_release(&cc);
    assert_null(cc.text);

    assert_int_equal(read_as("ratingfe", text, &s, &cc, err), 0);
    assert_string_equal(s.log, "l=10.0.0.1;g=7;");
    config_release(&cc);
}

static void test_flag_no_and_empty_file(void **st)
{
    struct seen s;
    config_cluster_t cc;
    char err[512];
    assert_int_equal(read_as("ratingd", "[ratingd]\nflag no\n", &s, &cc, err), 0);
    assert_string_equal(s.log, "");
    config_release(&cc);
    assert_int_equal(read_as("ratingd", "", &s, &cc, err), 0);
    assert_int_equal(cc.replicas.n, 0);
    assert_int_equal(cc.frontends.n, 0);
    config_release(&cc);
}

/* text must fail at line `line` with a message containing `want`. */
static void refused(const char *text, int line, const char *want)
{
    struct seen s;
    config_cluster_t cc;
    char err[512], where[128];
    assert_int_equal(read_as("ratingd", text, &s, &cc, err), -1);
    if (line)
        snprintf(where, sizeof where, "%s:%d: ", path, line);
    else
        snprintf(where, sizeof where, "%s", path);
    if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, want))
        fail_msg("'%s' gave '%s', wanted '%s...%s'", text, err, where, want);
    assert_null(cc.text); /* released on failure */
}

static void test_mistakes(void **st)
{
    refused("replica 0 h 0x40000000\nbogus 1\n", 2, "unknown key 'bogus'");
    refused("[ratingd]\nkey-file /k\n", 2, "unknown key 'key-file'"); /* global only */
    refused("replica 0 h 0x40000000\nreplica 0 h 0x40000001\n", 2, "id 0 is given twice");
    refused("replica 0 h 0x40000000\nreplica 2 h 0x40000002\n", 0, "1 is");
    refused("replica x h 0x40000000\n", 1, "bad id 'x'");
    refused("replica 32 h 0x40000000\n", 1, "bad id '32'");
    refused("replica -1 h 0x40000000\n", 1, "bad id '-1'");
    refused("replica 0 h zz\n", 1, "bad program number 'zz'");
    refused("replica 0 h\n", 1, "give replica ID HOST PROGRAM");
    refused("replica 0 h 1 extra\n", 1, "give replica ID HOST PROGRAM");
    refused("frontend 0\n", 1, "give frontend ID HOST PROGRAM");
    refused("[ratingd]\nreplica 0 h 0x40000000\n", 2, "before the first section");
    refused("[nfsd]\n", 1, "unknown section [nfsd]");
    refused("[ratingd\n", 1, "lacks its ']'");
    refused("[ratingd]\nid 3\n", 2, "'id' is given on the command line");
    refused("config /etc/x\n", 1, "'config' is given on the command line");
    refused("[ratingd]\nflag maybe\n", 2, "give yes or no, not 'maybe'");
    refused("[ratingd]\ngossip-ms\n", 2, "'gossip-ms' needs a value");
    refused("\n\n[ratingd]\ngossip-ms bad\n", 4, "bad value 'bad'");
    char host[300];
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    char line[400];
    snprintf(line, sizeof line, "replica 0 %s 0x40000000\n", host);
    refused(line, 1, "too long");
}

static void test_nul_byte_and_missing_file(void **st)
{
    struct seen s;
    config_cluster_t cc;
    char err[512];
    FILE *f = fopen(path, "w");
    fwrite("listen a\0b\n", 1, 11, f);
    fclose(f);
    assert_int_equal(config_read(path, true, "ratingd", opts, record, &s, &cc, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "NUL"));
    const char *none = "/nonexistent/ratingd.conf";
    assert_int_equal(config_read(none, false, "ratingd", opts, record, &s, &cc, err, sizeof err),
                     0);
    assert_int_equal(cc.replicas.n, 0);
    assert_int_equal(config_read(none, true, "ratingd", opts, record, &s, &cc, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "cannot read configuration /nonexistent/ratingd.conf"));
}

static void test_load_finds_the_file(void **st)
{
    struct seen s = {{0}};
    config_cluster_t cc;
    char err[512];
    write_file("[ratingd]\ngossip-ms 9\n");
    char *argv[] = {"prog", "-g", "1", "--config", path, NULL};
    unsetenv("RATING_CONFIG");
    assert_int_equal(config_load(5, argv, "c:g:", opts, 'c', "ratingd", record, &s, &cc, err,
                                 sizeof err), 0);
    assert_string_equal(s.log, "g=9;");
    assert_int_equal(optind, 0); /* the real parse starts over */
    config_release(&cc);

    memset(&s, 0, sizeof s);
    char *plain[] = {"prog", NULL};
    setenv("RATING_CONFIG", path, 1);
    assert_int_equal(config_load(1, plain, "c:g:", opts, 'c', "ratingd", record, &s, &cc, err,
                                 sizeof err), 0);
    assert_string_equal(s.log, "g=9;");
    config_release(&cc);

    memset(&s, 0, sizeof s);
    setenv("RATING_CONFIG", "", 1); /* empty: no file at all */
    assert_int_equal(config_load(1, plain, "c:g:", opts, 'c', "ratingd", record, &s, &cc, err,
                                 sizeof err), 0);
    assert_string_equal(s.log, "");
    assert_null(cc.text);
    unsetenv("RATING_CONFIG");
}

static void test_listen_addr(void **st)
{
    char buf[64], err[256];
    assert_int_equal(config_listen_addr("localhost", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "127.0.0.1");
    assert_int_equal(config_listen_addr("10.1.2.3", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "10.1.2.3");
    assert_int_equal(config_listen_addr("::1", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "::1");
    assert_int_equal(config_listen_addr("no-such-host.invalid", buf, sizeof buf, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "no-such-host.invalid"));
}

static void test_bool_words(void **st)
{
    struct seen s;
    config_cluster_t cc;
    char err[512];
    assert_int_equal(read_as("ratingd", "[ratingd]\nflag YES\nflag off\nflag true\nflag 0\n",
                             &s, &cc, err), 0);
    assert_string_equal(s.log, "F=;F=;");
    config_release(&cc);
    refused("[ratingd]\nflag 2\n", 2, "give yes or no");
}

/* ---- daemon.c: the file first, the command line wins ------------------------ */

static int apply_daemon(void *ctx, int c, const char *v, char *err, size_t errlen)
{
    int rc = daemon_option(ctx, c, v, err, errlen);
    if (rc == 1)
        snprintf(err, errlen, "not a shared option");
    return rc == 1 ? -1 : rc;
}

static void no_help(FILE *f) { (void)f; }

static void test_daemon_file_then_command_line(void **st)
{
    static const struct option longopts[] = {DAEMON_LONGOPTS, {0, 0, 0, 0}};
    write_file("replica 0 a 0x40000000\nreplica 1 b 0x40000001\n"
               "log-level warn\nlisten 10.9.9.9\n");
    daemon_opts_t d = {.name = "test", .level = LOG_LVL_INFO};
    char *argv[] = {"test", "-c", path, "--log-level", "debug", NULL};
    assert_int_equal(daemon_parse(&d, 5, argv, DAEMON_OPTSTRING, longopts, "ratingd",
                                  apply_daemon, &d, no_help, "0"), 0);
    assert_int_equal(d.level, LOG_LVL_DEBUG); /* command line over file */
    assert_string_equal(d.listen, "10.9.9.9");
    assert_int_equal(daemon_finish(&d), 0);
    assert_true(d.cluster_from_file);
    assert_int_equal(d.cluster.n, 2);
    assert_string_equal(d.cluster.rep[1].host, "b");
    config_release(&d.file);

    /* --nreplicas on the command line replaces the file's list */
    daemon_opts_t d2 = {.name = "test", .level = LOG_LVL_INFO};
    char *argv2[] = {"test", "-c", path, "-n", "4", "-b", "0x40000100", NULL};
    assert_int_equal(daemon_parse(&d2, 7, argv2, DAEMON_OPTSTRING, longopts, "ratingd",
                                  apply_daemon, &d2, no_help, "0"), 0);
    assert_int_equal(daemon_finish(&d2), 0);
    assert_false(d2.cluster_from_file);
    assert_int_equal(d2.cluster.n, 4);
    assert_string_equal(d2.cluster.rep[3].host, "localhost");
    assert_int_equal(d2.cluster.rep[3].prog, 0x40000103);
    char addr[64];
    assert_int_equal(daemon_listen_addr(&d2, NULL, addr, sizeof addr), 0);
    assert_string_equal(addr, "10.9.9.9"); /* the file's listen still holds */
    config_release(&d2.file);

    /* a mistake in the file is reported and refused */
    write_file("log fax\n");
    daemon_opts_t d3 = {.name = "test", .level = LOG_LVL_INFO};
    char *argv3[] = {"test", "-c", path, NULL};
    assert_int_equal(daemon_parse(&d3, 3, argv3, DAEMON_OPTSTRING, longopts, "ratingd",
                                  apply_daemon, &d3, no_help, "0"), -1);
}

static void test_daemon_listen_default(void **st)
{
    daemon_opts_t d = {.name = "test"};
    endpoint_t own = {.host = "localhost", .prog = 1};
    char addr[64];
    assert_int_equal(daemon_listen_addr(&d, NULL, addr, sizeof addr), 0);
    assert_string_equal(addr, "127.0.0.1");
    snprintf(own.host, sizeof own.host, "127.0.0.2");
    assert_int_equal(daemon_listen_addr(&d, &own, addr, sizeof addr), 0);
    assert_string_equal(addr, "127.0.0.2");
    d.listen = "0.0.0.0";
    assert_int_equal(daemon_listen_addr(&d, &own, addr, sizeof addr), 0);
    assert_string_equal(addr, "0.0.0.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_sections_and_keys),
        cmocka_unit_test(test_flag_no_and_empty_file),
        cmocka_unit_test(test_mistakes),
        cmocka_unit_test(test_nul_byte_and_missing_file),
        cmocka_unit_test(test_load_finds_the_file),
        cmocka_unit_test(test_listen_addr),
        cmocka_unit_test(test_bool_words),
        cmocka_unit_test(test_daemon_file_then_command_line),
        cmocka_unit_test(test_daemon_listen_default),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
