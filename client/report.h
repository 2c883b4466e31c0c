/*
 * report.h -- how the client reports: every error is one line on stderr,
 * "rating: <message>", and each outcome has an exit code (cli.h).
 */
#ifndef RATINGD_CLI_REPORT_H
#define RATINGD_CLI_REPORT_H

#include "rating.h"

/* Print "rating: <message>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit code for a status the service answered with. */
int cli_exit_for(rt_status st);

#endif
