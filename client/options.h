/*
 * options.h -- the options before the command: where the service is, the
 * session file, the RPC timeout, a fixed update id.  Defaults come first,
 * then the configuration file (its front ends and its [rating] section;
 * config.h), then the environment (RATING_HOST, RATING_PROG,
 * RATING_SESSION), then the command line.  Parsing stops at the first word that is not an option:
 * that is the command.
 */
#ifndef RATINGD_CLI_OPTIONS_H
#define RATINGD_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "config.h"

#define CLI_DEFAULT_TIMEOUT_MS 10000
#define CLI_MAX_TIMEOUT_MS 3600000

typedef struct cli_options {
    cli_target_t target;        /* the front end, or the replica of --replica */
    bool has_replica;
    endpoint_t replica;         /* --replica, which beats -H and -P in any order */
    const char *session_file;   /* NULL: none */
    bool has_uid;
    upd_id_t uid;
    uint64_t stamp;        /* --uid's third part; 0 if not given */
    bool help;
    bool version;
    int first;                  /* argv index of the command (argc: none) */
    bool fixed_target;          /* -H, -P or the environment named the front end */
    config_cluster_t file;      /* the configuration file: its front ends, if any,
                                   are tried in order unless fixed_target */
} cli_options_t;

/* Returns 0, or -1 with a message in err (a usage error).  Release o
 * after use (also after a failure). */
int cli_options_parse(int argc, char **argv, cli_options_t *o, char *err, size_t errlen);
void cli_options_release(cli_options_t *o);

#endif
