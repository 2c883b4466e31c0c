/* validate.c -- input rules shared by client, front end and replica. */
#include "validate.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decimal digits from p: how many, and where they end. */
static const char *digits(const char *p, size_t *n)
{
    const char *q = p;
    while (*q >= '0' && *q <= '9')
        q++;
    *n = (size_t)(q - p);
    return q;
}

/* Exactly, without strtod: it takes blanks, "nan", hex, exponents and the
 * locale's decimal point, so "0x1p2" would be 4 stars. */
const char *parse_rating(const char *s, uint32_t *halves)
{
    size_t nwhole = 0, nfrac = 0;
    if (!s || !*s)
        return "missing rating";
    const char *dot = digits(s, &nwhole), *end = dot;
    if (*dot == '.')
        end = digits(dot + 1, &nfrac);
    if (nwhole == 0 || *end != '\0' || (*dot == '.' && nfrac == 0))
        return "rating must be a number from 0.5 to 5.0 in steps of 0.5";
    /* Whole stars of at most two digits; a fraction of .0 or .5, then only
     * zeros (".50"). */
    uint32_t whole = nwhole <= 2 ? (uint32_t)strtoul(s, NULL, 10) : UINT32_MAX / 4;
    bool half = nfrac > 0 && dot[1] == '5';
    bool steps = nfrac == 0 || ((dot[1] == '0' || half) && strspn(dot + 2, "0") == nfrac - 1);
    uint32_t h = whole * 2 + half;
    if (!steps || h < RT_HALVES_MIN || h > RT_HALVES_MAX)
        return "rating must be from 0.5 to 5.0 in steps of 0.5";
    *halves = h;
    return NULL;
}

const char *parse_id(const char *s, uint32_t *id)
{
    char *end;
    if (!s || !*s)
        return "missing id";
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return "id must be a positive whole number";
    errno = 0;
    unsigned long x = strtoul(s, &end, 10);
    if (errno || *end || x == 0 || x > 0x7fffffffUL)
        return "id must be a positive whole number below 2^31";
    *id = (uint32_t)x;
    return NULL;
}

bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static const char *check_id(uint32_t id, const char *what_zero)
{
    return (id == 0 || id > 0x7fffffffU) ? what_zero : NULL;
}

const char *op_check(const op_t *op, int from_client)
{
    const char *e;
    switch (op->kind) {
    case OP_RATE:
    case OP_ADD_MOVIE:
        if (op->halves < RT_HALVES_MIN || op->halves > RT_HALVES_MAX)
            return "rating must be from 0.5 to 5.0 in steps of 0.5";
        break;
    case OP_DELETE:
        break;
    default:
        return "unknown operation";
    }
    if ((e = check_id(op->user, "user id must be a positive whole number")))
        return e;
    if (op->kind != OP_ADD_MOVIE)
        return check_id(op->movie, "movie id must be a positive whole number");
    if (from_client && op->movie != 0)
        return "a new movie's id is assigned by the service";
    if (op->title[0] == '\0')
        return "a new movie needs a title";
    if (strnlen(op->title, RT_MAX_TITLE + 1) > RT_MAX_TITLE)
        return "title is longer than 255 bytes";
    if (strnlen(op->genres, RT_MAX_GENRES + 1) > RT_MAX_GENRES)
        return "genres are longer than 255 bytes";
    if (has_control(op->title) || has_control(op->genres))
        return "title and genres may not contain control characters";
    return NULL;
}

const char *status_text(rt_status st)
{
    switch (st) {
    case RT_OK: return "ok";
    case RT_NOT_FOUND: return "not found";
    case RT_INVALID: return "invalid argument";
    case RT_EXISTS: return "already exists";
    case RT_OVERLOADED: return "replica overloaded";
    case RT_NOT_READY: return "replica not ready";
    case RT_OFFLINE: return "replica offline";
    case RT_UNAVAILABLE: return "no replica available";
    case RT_DENIED: return "permission denied";
    case RT_INTERNAL: return "internal error";
    case RT_FULL: return "id space exhausted";
    case RT_STALE: return "superseded by a later write";
    }
    return "unknown status";
}

const char *halves_format(uint32_t halves, char buf[8])
{
    snprintf(buf, 8, "%u.%u", (halves / 2) % 100, (halves % 2) * 5);
    return buf;
}
