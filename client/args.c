/* args.c -- parse and check a command's arguments. */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

typedef int (*parse_fn)(char *const a[], int n, cli_cmd_t *c, char *err, size_t len);

struct cmd_def {
    const char *name;
    cli_kind kind;
    int min, max;          /* number of arguments; max -1: any */
    const char *synopsis;
    parse_fn parse;
};

static int id_arg(const char *s, const char *field, uint32_t *id, char *err, size_t len)
{
    const char *e = parse_id(s, id);
    if (!e)
        return 0;
    if (!*s)
        snprintf(err, len, "missing %s id", field);
    else if (strncmp(e, "id ", 3) == 0)
        snprintf(err, len, "%s %s (got '%s')", field, e, s);
    else
        snprintf(err, len, "%s id: %s (got '%s')", field, e, s);
    return -1;
}

static int rating_arg(const char *s, uint32_t *halves, char *err, size_t len)
{
    const char *e = parse_rating(s, halves);
    if (!e)
        return 0;
    if (*s)
        snprintf(err, len, "%s (got '%s')", e, s);
    else
        snprintf(err, len, "%s", e);
    return -1;
}

/* Copy a title, genre list or search text, checking its length first. */
static int text_arg(const char *s, const char *what, char *dst, size_t cap, char *err, size_t len)
{
    size_t n = strlen(s);
    if (n >= cap) {
        snprintf(err, len, "%s is longer than %zu bytes (it has %zu)", what, cap - 1, n);
        return -1;
    }
    memcpy(dst, s, n + 1);
    return 0;
}

static int check_op(const cli_cmd_t *c, char *err, size_t len)
{
    const char *e = op_check(&c->op, 1);
    if (e)
        snprintf(err, len, "%s", e);
    return e ? -1 : 0;
}

static int parse_none(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    return 0;
}

/* status [--watch [SECONDS]] */
static int parse_status(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    if (n == 0)
        return 0;
    if (strcmp(a[0], "--watch") != 0 && strcmp(a[0], "-w") != 0) {
        snprintf(err, len, "status takes --watch [SECONDS], not '%s'", a[0]);
        return -1;
    }
    double secs = 2;
    char *end = NULL;
    if (n > 1) {
        errno = 0;
        secs = strtod(a[1], &end);
        if (errno || end == a[1] || *end || !(secs >= 0.1 && secs <= 3600)) {
            snprintf(err, len, "--watch SECONDS: give 0.1 to 3600 (got '%s')", a[1]);
            return -1;
        }
    }
    c->watch_ms = (int)(secs * 1000 + 0.5);
    return 0;
}

static int parse_movie(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    return id_arg(a[0], "movie", &c->movie, err, len);
}

static int parse_user(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    return id_arg(a[0], "user", &c->user, err, len);
}

static int parse_get(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    if (id_arg(a[0], "user", &c->user, err, len) || id_arg(a[1], "movie", &c->movie, err, len))
        return -1;
    return 0;
}

/* search TEXT...: the words joined by single spaces. */
static int parse_search(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += strlen(a[i]) + (i > 0);
    if (total > RT_MAX_TITLE) {
        snprintf(err, len, "search text is longer than %d bytes (it has %zu)", RT_MAX_TITLE,
                 total);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (i > 0)
            strcat(c->pattern, " ");
        strcat(c->pattern, a[i]);
    }
    if (c->pattern[0] == '\0' || has_control(c->pattern)) {
        snprintf(err, len, "search text must be non-empty, without control characters");
        return -1;
    }
    return 0;
}

static int parse_rate(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    c->op.kind = OP_RATE;
    if (id_arg(a[0], "user", &c->op.user, err, len) ||
        id_arg(a[1], "movie", &c->op.movie, err, len) || rating_arg(a[2], &c->op.halves, err, len))
        return -1;
    return check_op(c, err, len);
}

static int parse_delete(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    c->op.kind = OP_DELETE;
    if (id_arg(a[0], "user", &c->op.user, err, len) ||
        id_arg(a[1], "movie", &c->op.movie, err, len))
        return -1;
    return check_op(c, err, len);
}

/* add-movie USER RATING TITLE [GENRES] */
static int parse_add(char *const a[], int n, cli_cmd_t *c, char *err, size_t len)
{
    c->op.kind = OP_ADD_MOVIE;
    c->op.movie = 0;
    if (id_arg(a[0], "user", &c->op.user, err, len) || rating_arg(a[1], &c->op.halves, err, len) ||
        text_arg(a[2], "title", c->op.title, sizeof c->op.title, err, len) ||
        text_arg(n > 3 ? a[3] : "", "genres", c->op.genres, sizeof c->op.genres, err, len))
        return -1;
    return check_op(c, err, len);
}

static const struct cmd_def defs[] = {
    {"movie", CMD_MOVIE, 1, 1, "movie ID", parse_movie},
    {"search", CMD_SEARCH, 1, -1, "search TEXT", parse_search},
    {"get", CMD_GET, 2, 2, "get USER MOVIE", parse_get},
    {"user", CMD_USER, 1, 1, "user USER", parse_user},
    {"rate", CMD_RATE, 3, 3, "rate USER MOVIE RATING", parse_rate},
    {"update", CMD_UPDATE, 3, 3, "update USER MOVIE RATING", parse_rate},
    {"delete", CMD_DELETE, 2, 2, "delete USER MOVIE", parse_delete},
    {"add-movie", CMD_ADD_MOVIE, 3, 4, "add-movie USER RATING TITLE [GENRES]", parse_add},
    {"status", CMD_STATUS, 0, 2, "status [--watch [SECONDS]]", parse_status},
    {"shell", CMD_SHELL, 0, 0, "shell", parse_none},
};

#define NDEFS (sizeof defs / sizeof defs[0])

const char *cli_command_synopsis(cli_kind kind)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (defs[i].kind == kind)
            return defs[i].synopsis;
    return "";
}

int cli_parse_command(int argc, char *const argv[], cli_cmd_t *cmd, char *err, size_t errlen)
{
    memset(cmd, 0, sizeof *cmd);
    if (argc < 1) {
        snprintf(err, errlen, "no command given");
        return -1;
    }
    for (size_t i = 0; i < NDEFS; i++) {
        const struct cmd_def *d = &defs[i];
        if (strcmp(argv[0], d->name) != 0)
            continue;
        int n = argc - 1;
        if (n < d->min || (d->max >= 0 && n > d->max)) {
            snprintf(err, errlen, "%s arguments; usage: rating %s",
                     n < d->min ? "missing" : "too many", d->synopsis);
            return -1;
        }
        cmd->kind = d->kind;
        return d->parse(argv + 1, n, cmd, err, errlen);
    }
    snprintf(err, errlen, "unknown command '%s'", argv[0]);
    return -1;
}
