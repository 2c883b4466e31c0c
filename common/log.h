/*
 * log.h -- one line per event: time, level, program, message.  On stderr
 * by default; with log_use_syslog() to syslog (facility daemon), where
 * syslog adds the time and the level becomes the priority.
 */
#ifndef RATINGD_LOG_H
#define RATINGD_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

void log_init(const char *progname, enum log_level min);
/* Send the lines to syslog from now on (openlog with the program name). */
void log_use_syslog(void);
/* "debug", "info", "warn", "error" -> level.  Returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
/* "stderr" -> false, "syslog" -> true.  Returns 0 or -1. */
int log_dest_parse(const char *s, bool *syslog);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A message that can repeat many times a second (a full disk refuses every
 * update): logged at most once per period_ms, the next line saying how
 * many were held back meanwhile.  One log_limit_t per call site, zeroed. */
typedef struct log_limit {
    uint64_t next_ms;
    uint64_t held;
} log_limit_t;
void log_limited(log_limit_t *l, int period_ms, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
