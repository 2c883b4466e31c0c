/*
 * daemon.h -- what the two servers (ratingd, ratingfe) share before they
 * serve: the options they have in common, the configuration file, the
 * replica list, the address to bind, logging and signals.
 *
 * A server's option function hands every option to daemon_option first;
 * the same function reads the configuration file (config.h) and the
 * command line, in that order, so the command line wins.
 */
#ifndef RATINGD_DAEMON_H
#define RATINGD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cluster.h"
#include "config.h"
#include "log.h"

enum { DAEMON_OPT_LOG = 300, DAEMON_OPT_LOG_LEVEL };

/* Short options and long options every server has; put them in its own
 * optstring and longopts array.  (--id is shared too, but each server says
 * in its own --help what it is the index of.) */
#define DAEMON_OPTSTRING "c:i:R:n:b:l:vhV"
#define DAEMON_LONGOPTS                                                                      \
    {"config", required_argument, 0, 'c'}, {"id", required_argument, 0, 'i'},                \
        {"replicas", required_argument, 0, 'R'},                                             \
        {"nreplicas", required_argument, 0, 'n'}, {"replica-base", required_argument, 0, 'b'}, \
        {"listen", required_argument, 0, 'l'}, {"log", required_argument, 0, DAEMON_OPT_LOG},  \
        {"log-level", required_argument, 0, DAEMON_OPT_LOG_LEVEL},                             \
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'},                     \
        {"version", no_argument, 0, 'V'}

/* The option lines of --help for the shared options. */
#define DAEMON_USAGE                                                                           \
    "  -c, --config FILE        configuration file (default " CONFIG_DEFAULT_PATH ")\n"       \
    "  -R, --replicas SPEC      host:prog,host:prog,...  replica k is the k-th\n"             \
    "  -n, --nreplicas N        without a replica list: N replicas on localhost (default 3)\n" \
    "  -b, --replica-base PROG  ... at program numbers PROG+k (default %#x)\n"                \
    "  -l, --listen ADDR        address to bind (default: the host of this server's entry\n"  \
    "                           in the configuration file, else 127.0.0.1)\n"                 \
    "      --log DEST           stderr (default) or syslog\n"                                 \
    "      --log-level LEVEL    debug, info (default), warn or error\n"                       \
    "  -v, --verbose            the same as --log-level debug\n"

typedef struct daemon_opts {
    const char *name;            /* program name, for messages */
    long id;                     /* --id: the replica's or front end's entry */
    const char *replicas;        /* --replicas */
    uint32_t nreplicas;          /* --nreplicas (0: not given) */
    uint32_t base_prog;          /* --replica-base (0: not given) */
    const char *listen;          /* --listen or the file's listen (NULL: derive) */
    bool use_syslog;
    enum log_level level;
    config_cluster_t file;       /* what the configuration file lists */
    bool have_file;              /* a configuration file was read */
    cluster_t cluster;           /* the replicas, after daemon_finish */
    bool cluster_from_file;      /* ... as the configuration file lists them */
} daemon_opts_t;

/* Handle one of the shared options.  Returns 0, -1 with a message in err,
 * or 1: not a shared option (the caller handles it). */
int daemon_option(daemon_opts_t *d, int opt, const char *value, char *err, size_t errlen);

/* Read the configuration file (-c in argv, else the default path if it
 * exists) through apply, then the command line through apply.  -h and -V
 * print help(stdout) / the version and exit 0.  Returns 0, or -1 after
 * printing a message (a usage error: exit 2). */
int daemon_parse(daemon_opts_t *d, int argc, char **argv, const char *optstring,
                 const struct option *longopts, const char *section, config_apply_fn apply,
                 void *ctx, void (*help)(FILE *), const char *version);

/* After parsing: the replica list (command line, else file, else 3 on
 * localhost).  Returns 0, or -1 after printing a message. */
int daemon_finish(daemon_opts_t *d);

/* The address to bind: --listen / the file's listen, else the address of
 * own's host (this server's entry in the file; NULL if it has none), else
 * 127.0.0.1.  Returns 0, or -1 after printing a message. */
int daemon_listen_addr(const daemon_opts_t *d, const endpoint_t *own, char *buf, size_t len);

/* Log as name at the chosen level and destination. */
void daemon_start_logging(const daemon_opts_t *d, const char *name);
/* SIGINT and SIGTERM set *stop (and interrupt poll); SIGPIPE ignored. */
void daemon_signals(volatile int *stop);

/* A number in [lo, hi].  Returns 0, or -1 with "bad value ..." in err. */
int daemon_number(const char *s, double lo, double hi, double *out, const char *opt, char *err,
                  size_t errlen);

#endif
