/* recmark.c -- record marking (recmark.h). */
#include "recmark.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int rec_in_init(rec_in_t *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->buf = malloc(cap);
    b->cap = b->buf ? cap : 0;
    return b->buf ? 0 : -1;
}

void rec_in_free(rec_in_t *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

/* Until `need` bytes from start are in the buffer: move the unused bytes
 * to the front, grow the buffer (doubling) if they still do not fit. */
static int fill(rec_in_t *b, size_t need, rec_recv_fn recv_more, void *ctx)
{
    if (b->start + need > b->cap && b->start > 0) {
        memmove(b->buf, b->buf + b->start, b->end - b->start);
        b->end -= b->start;
        b->start = 0;
    }
    if (need > b->cap) {
        size_t cap = b->cap * 2 > need ? b->cap * 2 : need;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            errno = ENOMEM;
            return -1;
        }
        b->buf = nb;
        b->cap = cap;
    }
    while (b->end - b->start < need)
        if (recv_more(ctx, b) < 0)
            return -1;
    return 0;
}

/* Offsets are from start (fill may move it): the record is assembled from
 * 4 (after the first mark), the next mark is read at `pos`. */
ssize_t rec_next(rec_in_t *b, size_t max, rec_recv_fn recv_more, void *ctx, char **rec)
{
    size_t len = 0, pos = 0;
    for (;;) {
        if (fill(b, pos + 4, recv_more, ctx) < 0)
            return -1;
        uint32_t mark;
        memcpy(&mark, b->buf + b->start + pos, 4);
        mark = ntohl(mark);
        size_t frag = mark & 0x7fffffffU;
        if (len + frag > max || pos + 4 + frag > max + max / 16) {
            errno = EMSGSIZE;
            return -1;
        }
        if (fill(b, pos + 4 + frag, recv_more, ctx) < 0)
            return -1;
        if (pos != len) /* a later fragment: join it to the record */
            memmove(b->buf + b->start + 4 + len, b->buf + b->start + pos + 4, frag);
        len += frag;
        pos += 4 + frag;
        if (mark & 0x80000000U) {
            *rec = b->buf + b->start + 4;
            b->start += pos;
            if (b->start == b->end)
                b->start = b->end = 0;
            return (ssize_t)len;
        }
    }
}

int rec_send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
