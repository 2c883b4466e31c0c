/* options.c -- getopt_long over the options before the command. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rating.h"
#include "rpcutil.h"
#include "session.h"

enum { OPT_UID = 256 };

static int set_host(cli_options_t *o, const char *host, char *err, size_t errlen)
{
    if (!*host || strlen(host) >= sizeof o->target.host) {
        snprintf(err, errlen, "host name '%s' is empty or too long", host);
        return -1;
    }
    snprintf(o->target.host, sizeof o->target.host, "%s", host);
    return 0;
}

static int set_prog(cli_options_t *o, const char *s, const char *from, char *err, size_t errlen)
{
    if (rpc_parse_prog(s, &o->target.prog) < 0) {
        snprintf(err, errlen, "%s: '%s' is not a program number (decimal or 0x-hex)", from, s);
        return -1;
    }
    return 0;
}

/* --replica HOST:PROG */
static int set_replica(cli_options_t *o, const char *s, char *err, size_t errlen)
{
    cluster_t c;
    char why[256];
    if (cluster_parse(&c, s, why, sizeof why) < 0 || c.n != 1) {
        snprintf(err, errlen, "--replica '%s': %s", s, c.n > 1 ? "give one HOST:PROG" : why);
        return -1;
    }
    o->replica = c.rep[0];
    o->has_replica = true;
    return 0;
}

static int set_timeout(cli_options_t *o, const char *s, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > CLI_MAX_TIMEOUT_MS) {
        snprintf(err, errlen, "--timeout '%s': give milliseconds from 1 to %d", s,
                 CLI_MAX_TIMEOUT_MS);
        return -1;
    }
    o->target.timeout_ms = (int)v;
    return 0;
}

static int set_uid(cli_options_t *o, const char *s, char *err, size_t errlen)
{
    if (cli_uid_parse(s, &o->uid, &o->stamp) < 0) {
        snprintf(err, errlen,
                 "--uid '%s': give ORIGIN:SEQ:STAMP as the client printed it (decimal numbers, "
                 "ORIGIN and STAMP not 0), or ORIGIN:SEQ",
                 s);
        return -1;
    }
    o->has_uid = true;
    return 0;
}

static int from_env(cli_options_t *o, char *err, size_t errlen)
{
    const char *v;
    if ((v = getenv("RATING_HOST")) && *v) {
        o->fixed_target = true;
        if (set_host(o, v, err, errlen) < 0)
            return -1;
    }
    if ((v = getenv("RATING_PROG")) && *v) {
        o->fixed_target = true;
        if (set_prog(o, v, "RATING_PROG", err, errlen) < 0)
            return -1;
    }
    if ((v = getenv("RATING_SESSION")) && *v)
        o->session_file = v;
    return 0;
}

/* One option, from the configuration file or the command line. */
static int apply_option(void *ctx, int c, const char *v, char *err, size_t errlen)
{
    cli_options_t *o = ctx;
    switch (c) {
    case 'c': return 0; /* read first (config_load) */
    case 'H': o->fixed_target = true; return set_host(o, v, err, errlen);
    case 'P': o->fixed_target = true; return set_prog(o, v, "--prog", err, errlen);
    case 'r': return set_replica(o, v, err, errlen);
    case 's':
        if (!*v)
            snprintf(err, errlen, "--session needs a file name");
        o->session_file = v;
        return *v ? 0 : -1;
    case 't': return set_timeout(o, v, err, errlen);
    case OPT_UID: return set_uid(o, v, err, errlen);
    case 'h': o->help = true; return 0;
    case 'V': o->version = true; return 0;
    default: snprintf(err, errlen, "unknown option"); return -1;
    }
}

/* getopt's complaint, in our words. */
static int bad_option(int c, char **argv, char *err, size_t errlen)
{
    if (c == ':')
        snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
    else if (strncmp(argv[optind - 1], "--", 2) == 0)
        snprintf(err, errlen, "unknown or ambiguous option '%s'", argv[optind - 1]);
    else
        snprintf(err, errlen, "unknown option '-%c'", optopt);
    return -1;
}

int cli_options_parse(int argc, char **argv, cli_options_t *o, char *err, size_t errlen)
{
    static const char optstring[] = "+:c:H:P:r:s:t:hV";
    static const struct option longopts[] = {
        {"config", required_argument, 0, 'c'},  {"host", required_argument, 0, 'H'},
        {"prog", required_argument, 0, 'P'},    {"replica", required_argument, 0, 'r'},
        {"session", required_argument, 0, 's'}, {"timeout", required_argument, 0, 't'},
        {"uid", required_argument, 0, OPT_UID}, {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},       {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    snprintf(o->target.host, sizeof o->target.host, "localhost");
    o->target.prog = RATING_FRONTEND;
    o->target.timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
    opterr = 0; /* our own messages, which start "rating: " */
    if (config_load(argc, argv, optstring, longopts, 'c', "rating", apply_option, o, &o->file, err,
                    errlen) < 0 ||
        from_env(o, err, errlen) < 0)
        return -1;
    optind = 0; /* GNU: start over (the shell and the tests parse more than once) */
    int c;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1)
        if ((c == ':' || c == '?' ? bad_option(c, argv, err, errlen)
                                  : apply_option(o, c, optarg, err, errlen)) < 0)
            return -1;
    o->first = optind;
    if (o->has_replica) {
        snprintf(o->target.host, sizeof o->target.host, "%s", o->replica.host);
        o->target.prog = o->replica.prog;
        o->target.replica = true;
    } else if (!o->fixed_target && o->file.frontends.n > 0) {
        o->target.prog = o->file.frontends.rep[0].prog;
        snprintf(o->target.host, sizeof o->target.host, "%s", o->file.frontends.rep[0].host);
    }
    return 0;
}

void cli_options_release(cli_options_t *o)
{
    config_release(&o->file);
}
