/* history.c -- recording, parsing and checking operation histories (see
 * history.h for the format and the rules). */
#include "history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "history_int.h"

/* Grow *arr (of *cap elements of size sz) to hold one more than n. */
int hist_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, c * sz);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

#define GROW(arr, n, cap) hist_grow((void **)&(arr), &(cap), (n), sizeof *(arr))

hist_t *hist_new(void) { return calloc(1, sizeof(hist_t)); }

void hist_free(hist_t *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nnames; i++)
        free(h->names[i]);
    free(h->names);
    free(h->slots);
    free(h->lines);
    free(h->finals);
    free(h->initials);
    free(h);
}

static uint64_t hash_str(const char *s)
{
    uint64_t x = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        x = (x ^ (unsigned char)*s) * 1099511628211ULL;
    return x;
}

static int rehash(hist_t *h)
{
    size_t n = h->nslots ? h->nslots * 2 : 64;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < h->nnames; i++) {
        size_t j = hash_str(h->names[i]) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(h->slots);
    h->slots = slots;
    h->nslots = n;
    return 0;
}

/* The index of session name s, added if new; -1 with no memory. */
static int64_t intern(hist_t *h, const char *s)
{
    if ((h->nnames + 1) * 2 > h->nslots && rehash(h) < 0)
        return -1;
    size_t j = hash_str(s) & (h->nslots - 1);
    for (; h->slots[j]; j = (j + 1) & (h->nslots - 1))
        if (strcmp(h->names[h->slots[j] - 1], s) == 0)
            return h->slots[j] - 1;
    char *copy = strdup(s);
    if (!copy || GROW(h->names, h->nnames, h->capnames) < 0) {
        free(copy);
        return -1;
    }
    h->names[h->nnames] = copy;
    h->slots[j] = (uint32_t)++h->nnames;
    return (int64_t)h->nnames - 1;
}

static uint64_t key_of(uint32_t user, uint32_t movie) { return (uint64_t)user << 32 | movie; }

static int add_line(hist_t *h, const hist_op_t *op, bool is_write)
{
    if (op->halves > 10 || !op->session || (unsigned)op->status > HIST_STALE ||
        (!is_write && op->status != HIST_OK && op->status != HIST_FAIL))
        return -1;
    int64_t s = intern(h, op->session);
    if (s < 0 || GROW(h->lines, h->nlines, h->caplines) < 0)
        return -1;
    h->lines[h->nlines++] = (struct line){
        .session = (uint32_t)s, .is_write = is_write, .status = (uint8_t)op->status,
        .halves = op->halves, .seq = op->seq, .key = key_of(op->user, op->movie),
        .stamp = op->stamp, .uid = {op->uid_origin, op->uid_seq}, .t0 = op->t0, .t1 = op->t1};
    return 0;
}

int hist_write(hist_t *h, const hist_op_t *op) { return add_line(h, op, true); }
int hist_read(hist_t *h, const hist_op_t *op) { return add_line(h, op, false); }

int hist_final(hist_t *h, uint32_t replica, uint32_t user, uint32_t movie, uint32_t halves)
{
    if (halves > 10 || GROW(h->finals, h->nfinals, h->capfinals) < 0)
        return -1;
    h->finals[h->nfinals++] = (struct fact){key_of(user, movie), replica, halves};
    return 0;
}

int hist_initial(hist_t *h, uint32_t user, uint32_t movie, uint32_t halves)
{
    if (halves > 10 || GROW(h->initials, h->ninitials, h->capinitials) < 0)
        return -1;
    h->initials[h->ninitials++] = (struct fact){key_of(user, movie), 0, halves};
    return 0;
}

/* ---- the log format ------------------------------------------------------ */

const char *const hist_status_names[] = {"ok", "fail", "unknown", "stale"};

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

/* "A:B" with A, B decimal and at most max_a. */
static int parse_pair(const char *v, uint64_t max_a, uint64_t max_b, uint64_t *a, uint64_t *b)
{
    char left[32];
    const char *colon = strchr(v, ':');
    if (!colon || (size_t)(colon - v) >= sizeof left)
        return -1;
    memcpy(left, v, (size_t)(colon - v));
    left[colon - v] = '\0';
    if (parse_u64(left, a) < 0 || parse_u64(colon + 1, b) < 0 || *a > max_a || *b > max_b)
        return -1;
    return 0;
}

struct fields {
    char op[16], session[256], status[16];
    uint64_t seq, user, movie, value, stamp, uid_o, uid_s, replica, t0, t1;
    bool has_seq, has_key, has_value, has_replica;
};

static int parse_field(struct fields *f, const char *name, const char *v, char *err,
                       size_t errlen)
{
    int rc = 0;
    if (strcmp(name, "op") == 0 || strcmp(name, "session") == 0 || strcmp(name, "status") == 0) {
        char *dst = name[0] == 'o' ? f->op : name[1] == 'e' ? f->session : f->status;
        size_t cap = name[0] == 'o' ? sizeof f->op : name[1] == 'e' ? sizeof f->session
                                                                     : sizeof f->status;
        if (strlen(v) >= cap || !*v)
            rc = -1;
        else
            strcpy(dst, v);
    } else if (strcmp(name, "seq") == 0) {
        rc = parse_u64(v, &f->seq);
        f->has_seq = true;
    } else if (strcmp(name, "key") == 0) {
        rc = parse_pair(v, UINT32_MAX, UINT32_MAX, &f->user, &f->movie);
        f->has_key = true;
    } else if (strcmp(name, "value") == 0) {
        rc = parse_u64(v, &f->value) < 0 || f->value > 10 ? -1 : 0;
        f->has_value = true;
    } else if (strcmp(name, "stamp") == 0) {
        rc = parse_u64(v, &f->stamp);
    } else if (strcmp(name, "uid") == 0) {
        rc = parse_pair(v, UINT64_MAX, UINT64_MAX, &f->uid_o, &f->uid_s);
    } else if (strcmp(name, "replica") == 0) {
        rc = parse_u64(v, &f->replica) < 0 || f->replica > UINT32_MAX ? -1 : 0;
        f->has_replica = true;
    } else if (strcmp(name, "t0") == 0) {
        rc = parse_u64(v, &f->t0);
    } else if (strcmp(name, "t1") == 0) {
        rc = parse_u64(v, &f->t1);
    } /* other fields: ignored (history.h) */
    if (rc < 0)
        snprintf(err, errlen, "bad %s=%s", name, v);
    return rc;
}

static int parse_status(const char *s, enum hist_status *st)
{
    for (int i = 0; i <= HIST_STALE; i++)
        if (strcmp(s, hist_status_names[i]) == 0) {
            *st = (enum hist_status)i;
            return 0;
        }
    return -1;
}

/* Record the parsed fields as the operation they describe. */
static int record_fields(hist_t *h, const struct fields *f, char *err, size_t errlen)
{
    const char *missing = !f->has_key ? "key" : !f->has_value ? "value" : NULL;
    bool client = strcmp(f->op, "write") == 0 || strcmp(f->op, "read") == 0;
    if (!missing && client)
        missing = !f->session[0] ? "session" : !f->has_seq ? "seq" : !f->status[0] ? "status"
                                                                                    : NULL;
    if (!missing && strcmp(f->op, "final") == 0 && !f->has_replica)
        missing = "replica";
    if (missing) {
        snprintf(err, errlen, "op=%s without %s=", f->op, missing);
        return -1;
    }
    uint32_t u = (uint32_t)f->user, m = (uint32_t)f->movie, v = (uint32_t)f->value;
    if (strcmp(f->op, "final") == 0)
        return hist_final(h, (uint32_t)f->replica, u, m, v);
    if (strcmp(f->op, "initial") == 0)
        return hist_initial(h, u, m, v);
    enum hist_status st;
    bool is_write = strcmp(f->op, "write") == 0;
    if (parse_status(f->status, &st) < 0 || (!is_write && st != HIST_OK && st != HIST_FAIL)) {
        snprintf(err, errlen, "op=%s with status=%s", f->op, f->status);
        return -1;
    }
    hist_op_t op = {.session = f->session, .seq = f->seq, .user = u, .movie = m, .halves = v,
                    .stamp = f->stamp, .uid_origin = f->uid_o, .uid_seq = f->uid_s,
                    .status = st, .t0 = f->t0, .t1 = f->t1};
    if ((is_write ? hist_write(h, &op) : hist_read(h, &op)) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int hist_parse_line(hist_t *h, const char *line, char *err, size_t errlen)
{
    char buf[1024];
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len >= sizeof buf) {
        snprintf(err, errlen, "line longer than %zu bytes", sizeof buf - 1);
        return -1;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    if (buf[0] == '#' || buf[0] == '\0')
        return 0;
    struct fields f;
    memset(&f, 0, sizeof f);
    for (char *p = buf, *next; p; p = next) {
        next = strchr(p, ' ');
        if (next)
            *next++ = '\0';
        char *eq = strchr(p, '=');
        if (!eq || eq == p) {
            snprintf(err, errlen, "not key=value: '%s'", p);
            return -1;
        }
        *eq = '\0';
        if (parse_field(&f, p, eq + 1, err, errlen) < 0)
            return -1;
    }
    if (strcmp(f.op, "write") && strcmp(f.op, "read") && strcmp(f.op, "final") &&
        strcmp(f.op, "initial")) {
        snprintf(err, errlen, "op=%s: not write, read, final or initial", f.op);
        return -1;
    }
    return record_fields(h, &f, err, errlen);
}

void hist_dump(const hist_t *h, FILE *out)
{
    for (size_t i = 0; i < h->ninitials; i++)
        fprintf(out, "op=initial key=%u:%u value=%u\n", (uint32_t)(h->initials[i].key >> 32),
                (uint32_t)h->initials[i].key, h->initials[i].halves);
    for (size_t i = 0; i < h->nlines; i++) {
        const struct line *l = &h->lines[i];
        fprintf(out, "op=%s session=%s seq=%" PRIu64 " key=%u:%u value=%u", l->is_write ? "write"
                : "read", h->names[l->session], l->seq, (uint32_t)(l->key >> 32),
                (uint32_t)l->key, l->halves);
        if (l->is_write)
            fprintf(out, " stamp=%" PRIu64 " uid=%" PRIu64 ":%" PRIu64, l->stamp, l->uid.origin,
                    l->uid.seq);
        fprintf(out, " status=%s t0=%" PRIu64 " t1=%" PRIu64 "\n", hist_status_names[l->status], l->t0,
                l->t1);
    }
    for (size_t i = 0; i < h->nfinals; i++)
        fprintf(out, "op=final replica=%u key=%u:%u value=%u\n", h->finals[i].replica,
                (uint32_t)(h->finals[i].key >> 32), (uint32_t)h->finals[i].key,
                h->finals[i].halves);
}

void hist_stats(const hist_t *h, hist_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->ops = h->nlines;
    out->sessions = h->nnames;
    out->finals = h->nfinals;
    uint64_t *keys = malloc((h->nlines ? h->nlines : 1) * sizeof *keys);
    for (size_t i = 0; i < h->nlines; i++) {
        if (h->lines[i].is_write)
            out->writes++;
        else
            out->reads++;
        if (keys)
            keys[i] = h->lines[i].key;
    }
    if (!keys)
        return;
    qsort(keys, h->nlines, sizeof *keys, hist_cmp_u64);
    for (size_t i = 0; i < h->nlines; i++)
        out->keys += i == 0 || keys[i] != keys[i - 1];
    free(keys);
}

int hist_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}
