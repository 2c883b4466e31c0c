/*
 * config.h -- ratingd.conf, the one configuration file of the cluster
 * (documented in ratingd.conf(5)).
 *
 * The same file serves every host and every program:
 *
 *     replica 0 host0 0x2f5a7100        # global part: read by every program
 *     frontend 0 fehost 0x2f5a7000
 *     key-file /etc/ratingd/gossip.key
 *     [ratingd]                         # one section per program
 *     gossip-ms 1000
 *
 * `replica` and `frontend` lines build the two lists; every other key is
 * the long option of the same name, handed to the program's own option
 * function, so the file and the command line share one validation.  The
 * program reads the file first and its command line second: the command
 * line overrides.  Keys in another program's section are skipped.
 */
#ifndef RATINGD_CONFIG_H
#define RATINGD_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cluster.h"

#include "paths.h" /* RATING_SYSCONFDIR, written by the Makefile */
#define CONFIG_DEFAULT_PATH RATING_SYSCONFDIR "/ratingd/ratingd.conf"

/* What the file says about the cluster (n = 0: nothing). */
typedef struct config_cluster {
    cluster_t replicas;
    cluster_t frontends;
    char *text;          /* the file; option values point into it */
} config_cluster_t;

/* Sets option `opt` (a val of the program's longopts) to value (NULL for
 * an option without a value).  Returns 0, or -1 with a message in err.
 * The same function serves the program's getopt loop. */
typedef int (*config_apply_fn)(void *ctx, int opt, const char *value, char *err, size_t errlen);

/* Read path: lists into cc, every other key of the global part and of
 * `section` through fn.  A key names a long option of longopts; an option
 * without a value takes yes or no.  Global keys the program has no option
 * for are skipped; any other unknown key is an error.  A missing file is
 * an error only if required.  Returns 0 (also when an optional file is
 * missing), or -1 with "FILE:LINE: ..." in err.  The values stay valid
 * until config_release. */
int config_read(const char *path, bool required, const char *section,
                const struct option *longopts, config_apply_fn fn, void *ctx,
                config_cluster_t *cc, char *err, size_t errlen);

void config_release(config_cluster_t *cc);

/* Find and read the program's configuration: -c/--config FILE in argv
 * (getopt over the program's own options, errors left to the real parse),
 * else $RATING_CONFIG, else CONFIG_DEFAULT_PATH if it
 * exists.  An empty name means no file.  Returns as config_read. */
int config_load(int argc, char **argv, const char *optstring, const struct option *longopts,
                int config_opt, const char *section, config_apply_fn fn, void *ctx,
                config_cluster_t *cc, char *err, size_t errlen);

/* The numeric address to bind for an entry's host: its first IPv4
 * address, else its first address.  Returns 0, or -1 with err. */
int config_listen_addr(const char *host, char *buf, size_t len, char *err, size_t errlen);

#endif
