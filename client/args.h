/*
 * args.h -- a command and its arguments ("movie 1", "rate 611 1 4.5", ...)
 * into a checked cli_cmd_t.  Everything a request will carry is checked
 * here, with the rules of validate.h, before any connection is made.
 */
#ifndef RATINGD_CLI_ARGS_H
#define RATINGD_CLI_ARGS_H

#include <stddef.h>

#include "cli.h"

/* argv[0] is the command name.  Returns 0, or -1 with a message in err
 * (the caller exits CLI_USAGE). */
int cli_parse_command(int argc, char *const argv[], cli_cmd_t *cmd, char *err, size_t errlen);
/* "rate USER MOVIE RATING": a command's synopsis, for messages. */
const char *cli_command_synopsis(cli_kind kind);

#endif
