/*
 * test_recmark.c -- record marking (common/recmark.c): fragments joined,
 * records that arrive a byte at a time or several in one read, the bounds
 * on a record and on its marks, and a peer that closes mid-record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>

#include "recmark.h"

/* The bytes "the peer" sends, handed out `chunk` at a time. */
struct wire {
    unsigned char bytes[1 << 16];
    size_t len, pos, chunk;
};

static int from_wire(void *ctx, rec_in_t *b)
{
    struct wire *w = ctx;
    size_t n = w->len - w->pos;
    if (n == 0) {
        errno = ECONNRESET;
        return -1;
    }
    if (n > w->chunk)
        n = w->chunk;
    if (n > b->cap - b->end)
        n = b->cap - b->end;
    memcpy(b->buf + b->end, w->bytes + w->pos, n);
    w->pos += n;
    b->end += n;
    return 0;
}

static void put_fragment(struct wire *w, const char *data, uint32_t len, int last)
{
    uint32_t mark = htonl((last ? 0x80000000U : 0) | len);
    memcpy(w->bytes + w->len, &mark, 4);
    memcpy(w->bytes + w->len + 4, data, len);
    w->len += 4 + len;
}

static void check_records(size_t chunk)
{
    struct wire w = {.chunk = chunk};
    put_fragment(&w, "hello, ", 7, 0);
    put_fragment(&w, "", 0, 0);
    put_fragment(&w, "world", 5, 1);
    put_fragment(&w, "second", 6, 1);
    rec_in_t b;
    assert_int_equal(rec_in_init(&b, 8), 0); /* small: it must grow */
    char *rec;
    ssize_t n = rec_next(&b, 1024, from_wire, &w, &rec);
    assert_int_equal(n, 12);
    assert_memory_equal(rec, "hello, world", 12);
    n = rec_next(&b, 1024, from_wire, &w, &rec);
    assert_int_equal(n, 6);
    assert_memory_equal(rec, "second", 6);
    errno = 0;
    assert_int_equal(rec_next(&b, 1024, from_wire, &w, &rec), -1);
    assert_int_equal(errno, ECONNRESET);
    rec_in_free(&b);
}

static void test_fragments_joined(void **st)
{
    check_records(1);         /* a byte at a time */
    check_records(7);         /* marks split across reads */
    check_records(1 << 16);   /* everything in one read */
}

static void test_bounds(void **st)
{
    char big[200];
    memset(big, 'x', sizeof big);
    rec_in_t b;
    char *rec;

    struct wire w = {.chunk = 4096};
    put_fragment(&w, big, 100, 1);
    assert_int_equal(rec_in_init(&b, 64), 0);
    assert_int_equal(rec_next(&b, 100, from_wire, &w, &rec), 100); /* exactly the bound */
    rec_in_free(&b);

    struct wire w2 = {.chunk = 4096};
    put_fragment(&w2, big, 60, 0);
    put_fragment(&w2, big, 41, 1);
    assert_int_equal(rec_in_init(&b, 64), 0);
    errno = 0;
    assert_int_equal(rec_next(&b, 100, from_wire, &w2, &rec), -1);
    assert_int_equal(errno, EMSGSIZE);
    rec_in_free(&b);

    /* endless empty fragments: their marks alone pass max / 16 */
    struct wire w3 = {.chunk = 4096};
    for (int i = 0; i < 300; i++) /* 1200 bytes of marks > 1024 + 1024 / 16 */
        put_fragment(&w3, "", 0, 0);
    assert_int_equal(rec_in_init(&b, 64), 0);
    errno = 0;
    assert_int_equal(rec_next(&b, 1024, from_wire, &w3, &rec), -1);
    assert_int_equal(errno, EMSGSIZE);
    rec_in_free(&b);
}

static void test_closed_mid_record(void **st)
{
    struct wire w = {.chunk = 3};
    put_fragment(&w, "abcdef", 6, 1);
    w.len -= 2; /* the peer goes away before the end */
    rec_in_t b;
    char *rec;
    assert_int_equal(rec_in_init(&b, 16), 0);
    assert_int_equal(rec_next(&b, 1024, from_wire, &w, &rec), -1);
    rec_in_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragments_joined),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_closed_mid_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
