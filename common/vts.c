/* vts.c -- vector timestamps: compare, merge, print. */
#include "vts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

void vts_zero(vts_t *v, uint32_t n)
{
    memset(v, 0, sizeof *v);
    v->n = n > VTS_MAX ? VTS_MAX : n;
}

bool vts_le(const vts_t *a, const vts_t *b)
{
    uint32_t n = max_u32(a->n, b->n);
    for (uint32_t k = 0; k < n; k++)
        if (a->t[k] > b->t[k])
            return false;
    return true;
}

bool vts_eq(const vts_t *a, const vts_t *b)
{
    return vts_le(a, b) && vts_le(b, a);
}

void vts_merge(vts_t *dst, const vts_t *src)
{
    for (uint32_t k = 0; k < src->n; k++)
        if (src->t[k] > dst->t[k])
            dst->t[k] = src->t[k];
    dst->n = max_u32(dst->n, src->n);
}

char *vts_format(const vts_t *v, char *buf, size_t len)
{
    size_t off = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    off += (size_t)snprintf(buf + off, len - off, "[");
    for (uint32_t k = 0; k < v->n && off < len; k++)
        off += (size_t)snprintf(buf + off, len - off, "%s%llu", k ? "," : "",
                                (unsigned long long)v->t[k]);
    if (off < len)
        snprintf(buf + off, len - off, "]");
    return buf;
}

int vts_parse(vts_t *v, const char *s)
{
    vts_zero(v, 0);
    while (*s == ' ' || *s == '[')
        s++;
    while (*s && *s != ']') {
        char *end;
        if (v->n >= VTS_MAX || *s < '0' || *s > '9')
            return -1;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno || end == s)
            return -1;
        v->t[v->n++] = x;
        s = end;
        while (*s == ' ')
            s++;
        if (*s == ',')
            s++;
        else if (*s && *s != ']')
            return -1;
    }
    return 0;
}
