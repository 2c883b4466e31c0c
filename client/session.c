/* session.c -- the session's prev in a file, and update ids. */
#include "session.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "report.h"

/* Longest session file: 32 entries of 20 digits, commas, brackets. */
#define SESSION_MAX 1024

/* "[a,b,c]" with nothing but whitespace around it, or nothing at all. */
static int parse_line(char *buf, vts_t *prev)
{
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    char *s = buf;
    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    if (n == 0)
        return 0; /* an empty file (mktemp makes one) is an empty prev */
    if (n < 2 || s[0] != '[' || s[n - 1] != ']' || strchr(s, ']') != s + n - 1)
        return -1;
    return vts_parse(prev, s);
}

int cli_session_load(const char *path, vts_t *prev, char *err, size_t errlen)
{
    char buf[SESSION_MAX + 1];
    vts_zero(prev, 0);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read session file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int bad = ferror(f) || (!feof(f) && fgetc(f) != EOF);
    fclose(f);
    buf[n] = '\0';
    if (bad || memchr(buf, '\0', n) || parse_line(buf, prev) < 0) {
        vts_zero(prev, 0);
        snprintf(err, errlen,
                 "session file %s is not a vector timestamp like [1,2,3] (remove it to start "
                 "a new session)",
                 path);
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int cli_session_save(const char *path, const vts_t *prev, char *err, size_t errlen)
{
    vts_t now, merged = *prev;
    char tmp[4096], line[SESSION_MAX], ignored[256];
    if (cli_session_load(path, &now, ignored, sizeof ignored) == 0)
        vts_merge(&merged, &now);
    vts_format(&merged, line, sizeof line - 1);
    strcat(line, "\n");
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
        snprintf(err, errlen, "session file name is too long");
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write session file %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = write_all(fd, line, strlen(line));
    if (rc == 0)
        rc = fsync(fd);
    if (close(fd) < 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc < 0) {
        snprintf(err, errlen, "cannot write session file %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    return rc;
}

int cli_session_commit(cli_session_t *s)
{
    char err[4200];
    if (!s->file || !s->seen_reply)
        return CLI_OK;
    if (cli_session_save(s->file, &s->prev, err, sizeof err) < 0) {
        cli_error("%s", err);
        return CLI_UNAVAILABLE;
    }
    s->seen_reply = false;
    return CLI_OK;
}

int cli_uid_parse(const char *s, upd_id_t *uid, uint64_t *stamp)
{
    unsigned long long v[3] = {0, 0, 0};
    int n = 0;
    for (; n < 3; n++) {
        char *end;
        if (!isdigit((unsigned char)*s))
            return -1;
        errno = 0;
        v[n] = strtoull(s, &end, 10);
        if (errno)
            return -1;
        if (*end == '\0')
            break;
        if (*end != ':' || n == 2)
            return -1;
        s = end + 1;
    }
    if (n == 0 || v[0] == 0 || (n == 2 && v[2] == 0))
        return -1;
    uid->origin = v[0];
    uid->seq = v[1];
    *stamp = v[2];
    return 0;
}

int cli_uid_fresh(upd_id_t *uid)
{
    uint64_t r = 0;
    for (int tries = 0; r == 0 && tries < 8; tries++) {
        ssize_t n = getrandom(&r, sizeof r, 0);
        if (n != (ssize_t)sizeof r)
            r = 0;
    }
    uid->origin = r;
    uid->seq = 1;
    return r ? 0 : -1;
}

/* A stamp for a new update (rating.x): the clock in ms, above every stamp
 * this session used or was told of, so its own writes follow each other
 * whatever the clock does. */
static void fresh_stamp(cli_session_t *s, uint64_t after)
{
    uint64_t now = clock_wall_ms(), floor = s->stamp_last > after ? s->stamp_last : after;
    s->stamp = now > floor ? now : floor + 1;
    s->stamp_last = s->stamp;
}

upd_id_t cli_session_next_uid(cli_session_t *s, const op_t *op, bool *repeat)
{
    *repeat = s->last_unknown && memcmp(&s->last_op, op, sizeof *op) == 0;
    if (*repeat)
        return s->uid;
    if (s->last_unknown) {
        s->uid.seq++; /* a different update: the unanswered one keeps its id */
        s->stamp = 0;
    }
    s->last_unknown = false;
    if (s->stamp == 0)
        fresh_stamp(s, 0);
    return s->uid;
}

void cli_session_sent(cli_session_t *s, const op_t *op, bool answered)
{
    s->last_op = *op;
    s->last_unknown = !answered;
    if (answered) {
        s->uid.seq++;
        s->stamp = 0;
        s->fixed_uid = false; /* --uid named one update */
    }
}

void cli_session_restamp(cli_session_t *s, uint64_t later)
{
    s->uid.seq++;
    fresh_stamp(s, later);
}
