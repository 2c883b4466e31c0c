/*
 * recmark.h -- ONC RPC record marking over TCP (RFC 5531 section 11): the
 * input buffer of one connection and the assembly of a record from its
 * fragments, shared by the server loop (rpcsrv.c) and the front end's
 * client (frontend/rpcclnt.c).
 *
 * The buffer reads ahead whatever has arrived; several records in one
 * segment come out one after another.  How bytes arrive (timeouts, a stop
 * flag) is the caller's, through a receive function.
 */
#ifndef RATINGD_RECMARK_H
#define RATINGD_RECMARK_H

#include <stddef.h>
#include <sys/types.h>

typedef struct rec_in {
    char *buf;                 /* received bytes; [start, end) are not used yet */
    size_t cap, start, end;
} rec_in_t;

/* Receive at least one byte into b->buf + b->end (at most b->cap - b->end)
 * and advance b->end.  Returns 0, or -1 (the peer closed, an error, a
 * timeout: the caller's function has noted which). */
typedef int (*rec_recv_fn)(void *ctx, rec_in_t *b);

/* An empty buffer of cap bytes.  Returns 0 or -1 (no memory). */
int rec_in_init(rec_in_t *b, size_t cap);
void rec_in_free(rec_in_t *b);

/* The next record, its fragments joined, at *rec (inside the buffer, valid
 * until the next call).  A record longer than max, or whose marks add more
 * than max / 16 bytes (endless empty fragments), is refused.  Returns its
 * length, or -1 with errno EMSGSIZE (too long), ENOMEM, or as recv left
 * it (-1 from recv). */
ssize_t rec_next(rec_in_t *b, size_t max, rec_recv_fn recv, void *ctx, char **rec);

/* Write all of p to fd (MSG_NOSIGNAL, EINTR retried).  Returns 0 or -1. */
int rec_send_all(int fd, const char *p, size_t len);

#endif
