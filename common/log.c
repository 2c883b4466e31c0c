/* log.c -- log lines on stderr or to syslog. */
#include "log.h"

#include "clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *log_prog = "ratingd";
static enum log_level log_min = LOG_LVL_INFO;
static bool log_syslog;

void log_init(const char *progname, enum log_level min)
{
    log_prog = progname;
    log_min = min;
}

void log_use_syslog(void)
{
    openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    log_syslog = true;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = LOG_LVL_DEBUG; i <= LOG_LVL_ERROR; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    return -1;
}

int log_dest_parse(const char *s, bool *syslog_on)
{
    if (strcmp(s, "stderr") && strcmp(s, "syslog"))
        return -1;
    *syslog_on = strcmp(s, "syslog") == 0;
    return 0;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const int priorities[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
    if (lvl < log_min)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_syslog) {
        syslog(priorities[lvl], "%s: %s", level_names[lvl], line);
        return;
    }
    struct timeval tv;
    struct tm tm;
    char when[32];
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    /* One fprintf per line so lines of concurrent threads do not mix. */
    fprintf(stderr, "%s.%03ld %s %s: %s\n", when, (long)(tv.tv_usec / 1000), level_names[lvl],
            log_prog, line);
}

void log_limited(log_limit_t *l, int period_ms, enum log_level lvl, const char *fmt, ...)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    uint64_t now = clock_mono_ms(), held = 0;
    pthread_mutex_lock(&mu);
    bool emit = now >= l->next_ms;
    if (emit) {
        held = l->held;
        l->held = 0;
        l->next_ms = now + (uint64_t)period_ms;
    } else {
        l->held++;
    }
    pthread_mutex_unlock(&mu);
    if (!emit || lvl < log_min)
        return;
    char line[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (held)
        log_msg(lvl, "%s (and %llu more like it in the last %d s)", line,
                (unsigned long long)held, period_ms / 1000);
    else
        log_msg(lvl, "%s", line);
}
