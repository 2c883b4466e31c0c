/* log.c -- timestamped log lines on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static const char *log_prog = "ratingd";
static enum log_level log_min = LOG_LVL_INFO;

void log_init(const char *progname, enum log_level min)
{
    log_prog = progname;
    log_min = min;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < log_min)
        return;
    struct timeval tv;
    struct tm tm;
    char line[1024], when[32];
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines of concurrent threads do not mix. */
    fprintf(stderr, "%s.%03ld %s %s: %s\n", when, (long)(tv.tv_usec / 1000), names[lvl], log_prog,
            line);
}
