/* config.c -- read ratingd.conf (config.h, ratingd.conf(5)). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rpcutil.h"

#define CONFIG_FILE_MAX (1024 * 1024)

static const char *const sections[] = {"ratingd", "ratingfe", "rating"};
/* Keys of the global part every program accepts, used or not. */
static const char *const global_keys[] = {"key-file", "listen", "log", "log-level"};
/* Options that make no sense in a file shared by every host. */
static const char *const refused_keys[] = {"id", "uid", "config", "help", "version"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}
#define IN(s, list) in_list(s, list, sizeof list / sizeof list[0])

/* "yes"/"no" (also true/false, on/off, 1/0, any case).  Returns 0 or -1. */
static int config_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(value, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(value, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

/* ---- one line ------------------------------------------------------ */

struct reader {
    const char *path;
    unsigned line;
    const char *section;     /* the program's */
    bool in_global, in_ours; /* where the current line is */
    const struct option *longopts;
    config_apply_fn fn;
    void *ctx;
    config_cluster_t *cc;
    uint32_t seen_rep, seen_fe; /* bit k: entry k given */
    char *err;
    size_t errlen;
};

static int fail(struct reader *r, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    snprintf(r->err, r->errlen, "%s:%u: %s", r->path, r->line, msg);
    return -1;
}

/* Cut a line to its content: no comment, no surrounding blanks. */
static char *trim(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '#' && (p == s || *(p - 1) == ' ' || *(p - 1) == '\t')) {
            *p = '\0';
            break;
        }
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int section_line(struct reader *r, char *s)
{
    size_t n = strlen(s);
    if (s[n - 1] != ']')
        return fail(r, "section header '%s' lacks its ']'", s);
    s[n - 1] = '\0';
    char *name = trim(s + 1);
    if (!IN(name, sections))
        return fail(r, "unknown section [%s] (ratingd, ratingfe or rating)", name);
    r->in_global = false;
    r->in_ours = strcmp(name, r->section) == 0;
    return 0;
}

/* `replica ID HOST PROG` or `frontend ID HOST PROG` */
static int entry_line(struct reader *r, const char *key, char *value)
{
    bool rep = strcmp(key, "replica") == 0;
    cluster_t *c = rep ? &r->cc->replicas : &r->cc->frontends;
    uint32_t *seen = rep ? &r->seen_rep : &r->seen_fe;
    char *save = NULL, *id = strtok_r(value, " \t", &save), *host = strtok_r(NULL, " \t", &save),
         *prog = strtok_r(NULL, " \t", &save), *extra = strtok_r(NULL, " \t", &save);
    if (!prog || extra)
        return fail(r, "give %s ID HOST PROGRAM", key);
    char *end;
    errno = 0;
    unsigned long k = strtoul(id, &end, 10);
    if (errno || *end || *id < '0' || *id > '9' || k >= VTS_MAX)
        return fail(r, "bad id '%s' (0 to 31)", id);
    if (*seen & (1u << k))
        return fail(r, "id %s is given twice", id);
    if (strlen(host) >= CLUSTER_HOST_MAX)
        return fail(r, "host name '%s' is too long", host);
    if (rpc_parse_prog(prog, &c->rep[k].prog) < 0)
        return fail(r, "bad program number '%s' (decimal or 0x-hex)", prog);
    snprintf(c->rep[k].host, sizeof c->rep[k].host, "%s", host);
    *seen |= 1u << k;
    return 0;
}

static int option_line(struct reader *r, const char *key, const char *value)
{
    const struct option *o = r->longopts;
    while (o->name && strcmp(o->name, key) != 0)
        o++;
    if (IN(key, refused_keys))
        return fail(r, "'%s' is given on the command line, not in the file", key);
    if (!o->name) {
        if (r->in_global && IN(key, global_keys))
            return 0;
        return fail(r, "unknown key '%s'", key);
    }
    char msg[512];
    int rc;
    if (o->has_arg == no_argument) {
        bool on;
        if (config_bool(value, &on) < 0)
            return fail(r, "give yes or no, not '%s'", value);
        rc = on ? r->fn(r->ctx, o->val, NULL, msg, sizeof msg) : 0;
    } else {
        rc = r->fn(r->ctx, o->val, value, msg, sizeof msg);
    }
    return rc < 0 ? fail(r, "%s", msg) : 0;
}

static int one_line(struct reader *r, char *line)
{
    char *s = trim(line);
    if (!*s)
        return 0;
    if (*s == '[')
        return section_line(r, s);
    if (!r->in_global && !r->in_ours)
        return 0;
    char *value = s + strcspn(s, " \t");
    if (*value)
        *value++ = '\0';
    value = trim(value);
    if (!*value)
        return fail(r, "'%s' needs a value", s);
    bool entry = strcmp(s, "replica") == 0 || strcmp(s, "frontend") == 0;
    if (entry && !r->in_global)
        return fail(r, "'%s' lines belong before the first section", s);
    return entry ? entry_line(r, s, value) : option_line(r, s, value);
}

/* ---- the file ------------------------------------------------------ */

/* Ids 0..n-1, none missing. */
static int check_ids(struct reader *r, const char *what, uint32_t seen, cluster_t *c)
{
    c->n = 0;
    while (c->n < VTS_MAX && (seen & (1u << c->n)))
        c->n++;
    if (c->n < VTS_MAX && (seen >> c->n) != 0) {
        snprintf(r->err, r->errlen, "%s: %s ids must be 0, 1, 2, ... with none missing: %u is",
                 r->path, what, c->n);
        return -1;
    }
    return 0;
}

/* The whole file, NUL-terminated, in one heap block (the values handed to
 * the option function point into it). */
static char *read_text(const char *path, bool required, bool *missing, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    *missing = false;
    if (!f) {
        *missing = !required && errno == ENOENT;
        if (!*missing)
            snprintf(err, errlen, "cannot read configuration %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CONFIG_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, CONFIG_FILE_MAX + 1, f) : 0;
    const char *why = !text ? "out of memory" : ferror(f) ? strerror(errno)
                    : n > CONFIG_FILE_MAX ? "larger than 1 MiB" : NULL;
    fclose(f);
    if (why) {
        snprintf(err, errlen, "cannot read configuration %s: %s", path, why);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    if (strlen(text) != n) {
        snprintf(err, errlen, "%s: not a text file (it holds a NUL byte)", path);
        free(text);
        return NULL;
    }
    return text;
}

int config_read(const char *path, bool required, const char *section,
                const struct option *longopts, config_apply_fn fn, void *ctx,
                config_cluster_t *cc, char *err, size_t errlen)
{
    memset(cc, 0, sizeof *cc);
    bool missing;
    cc->text = read_text(path, required, &missing, err, errlen);
    if (!cc->text)
        return missing ? 0 : -1;
    struct reader r = {.path = path, .section = section, .in_global = true, .longopts = longopts,
                       .fn = fn, .ctx = ctx, .cc = cc, .err = err, .errlen = errlen};
    int rc = 0;
    for (char *line = cc->text, *next; rc == 0 && line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        r.line++;
        rc = one_line(&r, line);
    }
    if (rc == 0)
        rc = check_ids(&r, "replica", r.seen_rep, &cc->replicas);
    if (rc == 0)
        rc = check_ids(&r, "frontend", r.seen_fe, &cc->frontends);
    if (rc < 0)
        config_release(cc);
    return rc;
}

void config_release(config_cluster_t *cc)
{
    free(cc->text);
    cc->text = NULL;
}

/* The last -c/--config in argv, or NULL.  Leaves optind at 0 so that the
 * real parse starts over. */
static const char *config_path_arg(int argc, char **argv, const char *optstring,
                            const struct option *longopts, int config_opt)
{
    const char *path = NULL;
    int saved = opterr, c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1)
        if (c == config_opt)
            path = optarg;
    opterr = saved;
    optind = 0;
    return path;
}

int config_load(int argc, char **argv, const char *optstring, const struct option *longopts,
                int config_opt, const char *section, config_apply_fn fn, void *ctx,
                config_cluster_t *cc, char *err, size_t errlen)
{
    const char *path = config_path_arg(argc, argv, optstring, longopts, config_opt);
    if (!path)
        path = getenv("RATING_CONFIG");
    if (path && !*path) {
        memset(cc, 0, sizeof *cc);
        return 0;
    }
    return config_read(path ? path : CONFIG_DEFAULT_PATH, path != NULL, section, longopts, fn,
                       ctx, cc, err, errlen);
}

int config_listen_addr(const char *host, char *buf, size_t len, char *err, size_t errlen)
{
    static const int families[] = {AF_INET, AF_UNSPEC};
    for (size_t i = 0; i < 2; i++) {
        struct addrinfo hints = {.ai_family = families[i], .ai_socktype = SOCK_STREAM};
        struct addrinfo *ai;
        int rc = getaddrinfo(host, NULL, &hints, &ai);
        if (rc) {
            if (i == 0)
                continue;
            snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
            return -1;
        }
        int ok = getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, (socklen_t)len, NULL, 0,
                             NI_NUMERICHOST) == 0;
        freeaddrinfo(ai);
        if (ok)
            return 0;
    }
    snprintf(err, errlen, "cannot resolve %s", host);
    return -1;
}
