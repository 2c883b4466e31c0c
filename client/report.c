/* report.c -- error lines and exit codes. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout); /* keep the order of output and errors in a shared terminal */
    fputs("rating: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_exit_for(rt_status st)
{
    switch (st) {
    case RT_OK: return CLI_OK;
    case RT_NOT_FOUND: return CLI_NOT_FOUND;
    case RT_INVALID: return CLI_USAGE;
    case RT_EXISTS: return CLI_EXISTS;
    case RT_STALE: return CLI_STALE;
    default: return CLI_UNAVAILABLE; /* overloaded, not ready, offline, denied, internal, full */
    }
}
