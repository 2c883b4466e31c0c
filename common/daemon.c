/* daemon.c -- options, configuration, logging and signals of the servers. */
#include "daemon.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rating.h"
#include "rpcutil.h"

int daemon_number(const char *s, double lo, double hi, double *out, const char *opt, char *err,
                  size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v != v || v < lo || v > hi) {
        snprintf(err, errlen, "bad value '%s' for %s (%.15g to %.15g)", s, opt, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int daemon_option(daemon_opts_t *d, int opt, const char *v, char *err, size_t errlen)
{
    double n;
    switch (opt) {
    case 'c': return 0; /* read before everything else (daemon_parse) */
    case 'i':
        if (daemon_number(v, 0, VTS_MAX - 1, &n, "--id", err, errlen) < 0)
            return -1;
        d->id = (long)n;
        return 0;
    case 'R': d->replicas = v; return 0;
    case 'n':
        if (daemon_number(v, 1, VTS_MAX, &n, "--nreplicas", err, errlen) < 0)
            return -1;
        d->nreplicas = (uint32_t)n;
        return 0;
    case 'b':
        if (rpc_parse_prog(v, &d->base_prog) < 0 || d->base_prog == 0) {
            snprintf(err, errlen, "bad program number '%s' for --replica-base", v);
            return -1;
        }
        return 0;
    case 'l': d->listen = v; return 0;
    case 'v': d->level = LOG_LVL_DEBUG; return 0;
    case DAEMON_OPT_LOG:
        if (log_dest_parse(v, &d->use_syslog) == 0)
            return 0;
        snprintf(err, errlen, "bad value '%s' for --log (stderr or syslog)", v);
        return -1;
    case DAEMON_OPT_LOG_LEVEL:
        if (log_level_parse(v, &d->level) == 0)
            return 0;
        snprintf(err, errlen, "bad value '%s' for --log-level (debug, info, warn, error)", v);
        return -1;
    default: return 1;
    }
}

int daemon_parse(daemon_opts_t *d, int argc, char **argv, const char *optstring,
                 const struct option *longopts, const char *section, config_apply_fn apply,
                 void *ctx, void (*help)(FILE *), const char *version)
{
    char err[1024];
    if (config_load(argc, argv, optstring, longopts, 'c', section, apply, ctx, &d->file, err,
                    sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", d->name, err);
        return -1;
    }
    d->have_file = d->file.replicas.n > 0 || d->file.frontends.n > 0;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        if (c == 'h') {
            help(stdout);
            exit(0);
        }
        if (c == 'V') {
            printf("%s %s\n", d->name, version);
            exit(0);
        }
        if (c == '?' || c == ':') { /* getopt said what */
            fprintf(stderr, "Try '%s --help' for more information.\n", d->name);
            return -1;
        }
        if (apply(ctx, c, optarg, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s\n", d->name, err);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", d->name, argv[optind]);
        return -1;
    }
    return 0;
}

int daemon_finish(daemon_opts_t *d)
{
    char err[256];
    if (d->replicas) {
        if (cluster_parse(&d->cluster, d->replicas, err, sizeof err) < 0) {
            fprintf(stderr, "%s: --replicas: %s\n", d->name, err);
            return -1;
        }
    } else if (d->file.replicas.n > 0 && !d->nreplicas && !d->base_prog) {
        d->cluster = d->file.replicas;
        d->cluster_from_file = true;
    } else {
        cluster_default(&d->cluster, "localhost", d->base_prog ? d->base_prog : RATING_REPLICA,
                        d->nreplicas ? d->nreplicas : 3);
    }
    return 0;
}

int daemon_listen_addr(const daemon_opts_t *d, const endpoint_t *own, char *buf, size_t len)
{
    char err[512];
    if (d->listen) {
        snprintf(buf, len, "%s", d->listen);
        return 0;
    }
    if (!own) {
        snprintf(buf, len, "127.0.0.1");
        return 0;
    }
    if (config_listen_addr(own->host, buf, len, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "%s: address to listen on: %s (set listen in the file or --listen)\n",
            d->name, err);
    return -1;
}

void daemon_start_logging(const daemon_opts_t *d, const char *name)
{
    log_init(name, d->level);
    if (d->use_syslog)
        log_use_syslog();
}

static volatile int *stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    *stop_flag = 1;
}

void daemon_signals(volatile int *stop)
{
    struct sigaction sa;
    stop_flag = stop;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
