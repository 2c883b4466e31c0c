/*
 * commands.h -- run one checked command: one request (or, for `user`, one
 * per page) to the service, carrying the session's prev and merging the
 * reply's timestamp into it; the answer on stdout, an error on stderr.
 */
#ifndef RATINGD_CLI_COMMANDS_H
#define RATINGD_CLI_COMMANDS_H

#include "cli.h"

/* Returns the exit code (cli.h).  CMD_SHELL is not run here. */
int cli_run(cli_session_t *s, const cli_cmd_t *cmd);

#endif
