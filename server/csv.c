/* csv.c -- RFC 4180 rows from a file, one at a time. */
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX_ROW (64 * 1024)

struct csv {
    FILE *f;
    char *buf;          /* the current row, fields NUL-separated */
    size_t next_line;   /* line number the next row starts on */
    size_t row_line;
    const char *err;
};

csv_t *csv_open(const char *path, char *err, size_t errlen)
{
    csv_t *c = calloc(1, sizeof *c);
    if (c)
        c->buf = malloc(CSV_MAX_ROW + 1);
    if (!c || !c->buf) {
        snprintf(err, errlen, "out of memory");
        csv_close(c);
        return NULL;
    }
    c->f = fopen(path, "r");
    if (!c->f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        csv_close(c);
        return NULL;
    }
    c->next_line = 1;
    return c;
}

void csv_close(csv_t *c)
{
    if (!c)
        return;
    if (c->f)
        fclose(c->f);
    free(c->buf);
    free(c);
}

size_t csv_line(const csv_t *c) { return c->row_line; }
const char *csv_error(const csv_t *c) { return c->err ? c->err : "no error"; }

static int fail(csv_t *c, const char *why)
{
    c->err = why;
    return -1;
}

int csv_row(csv_t *c, char **fields, int max)
{
    size_t len = 0;
    int nf = 0, ch;
    int quoted = 0, at_start = 1;
    c->row_line = c->next_line;
    ch = getc(c->f);
    if (ch == EOF)
        return ferror(c->f) ? fail(c, "read error") : 0; /* e.g. a directory */
    fields[nf++] = c->buf;
    for (; ch != EOF; ch = getc(c->f)) {
        if (len >= CSV_MAX_ROW)
            return fail(c, "line longer than 64 KiB");
        if (ch == '\0') /* it would end the field early, silently */
            return fail(c, "NUL byte in the file");
        if (quoted) {
            if (ch == '"') {
                int next = getc(c->f);
                if (next != '"') {
                    /* `"A, B" (1995)` is a field quoted by mistake: say so
                     * rather than guess where it ends. */
                    if (next != ',' && next != '\r' && next != '\n' && next != EOF)
                        return fail(c, "text after a closing quote");
                    quoted = 0;
                    ungetc(next, c->f);
                    continue;
                }
            } else if (ch == '\n') {
                c->next_line++;
            }
            c->buf[len++] = (char)ch;
            continue;
        }
        if (ch == '"' && at_start) {
            quoted = 1;
            at_start = 0;
            continue;
        }
        at_start = 0;
        if (ch == ',') {
            if (nf == max)
                return fail(c, "too many fields");
            c->buf[len++] = '\0';
            fields[nf++] = c->buf + len;
            at_start = 1;
            continue;
        }
        if (ch == '\r') {
            int next = getc(c->f);
            if (next != '\n')
                ungetc(next, c->f);
            ch = '\n';
        }
        if (ch == '\n') {
            c->next_line++;
            break;
        }
        c->buf[len++] = (char)ch;
    }
    if (quoted)
        return fail(c, "unterminated quoted field");
    if (ferror(c->f))
        return fail(c, "read error");
    c->buf[len] = '\0';
    return nf;
}
