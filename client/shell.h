/*
 * shell.h -- interactive mode.  At the "rating> " prompt a person types a
 * number for the menu of the original system (1 retrieve a movie, 2 a
 * user's ratings, 3 submit, 4 update or delete, 5 status, 0 exit), which
 * asks for what it needs, or any one-shot command ("get 1 1", with "..."
 * or '...' around words with spaces).  One session for the whole run: prev
 * stays in memory (read-your-writes), every update takes the next sequence
 * number of the session's update id, and repeating an update that got no
 * answer retries it under the same id.
 *
 * From a pipe it reads the same lines without printing prompts or menus,
 * so scripts and tests can drive it.  End of input or "quit" ends it with
 * status 0; an error ends only its command.
 */
#ifndef RATINGD_CLI_SHELL_H
#define RATINGD_CLI_SHELL_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

/* Read commands from in until end of input or quit.  Returns CLI_OK. */
int cli_shell(cli_session_t *s, FILE *in, bool prompts);

/* Split line into words in place: blanks separate, '...' and "..." quote,
 * a backslash takes the next character literally (not inside '...').
 * Returns the number of words, or -1 with a message in *err. */
int cli_split(char *line, char **words, int max, const char **err);

#endif
