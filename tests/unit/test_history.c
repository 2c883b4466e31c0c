/*
 * test_history.c -- the history checker (tests/lib/history.h): for every
 * rule a history that breaks it and one that keeps it, written in the log
 * format, so the parser is exercised too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "history.h"

static char report[8192];

/* Check the history given as lines; returns the number of violations and
 * leaves the report in `report`. */
static int check(const char *const *lines)
{
    hist_t *h = hist_new();
    char err[256];
    assert_non_null(h);
    for (size_t i = 0; lines[i]; i++)
        if (hist_parse_line(h, lines[i], err, sizeof err) < 0)
            fail_msg("line %zu: %s", i, err);
    FILE *f = fmemopen(report, sizeof report, "w");
    assert_non_null(f);
    int v = hist_check(h, f);
    fputc('\0', f);
    fclose(f);
    report[sizeof report - 1] = '\0';
    hist_free(h);
    return v;
}

#define CHECK(...) check((const char *const[]){__VA_ARGS__, NULL})

static void expect(int violations, const char *rule, int got)
{
    if (got != violations)
        fail_msg("expected %d violations, got %d:\n%s", violations, got, report);
    if (rule && !strstr(report, rule))
        fail_msg("expected a '%s' violation:\n%s", rule, report);
}

/* Three replicas ending with value v for key 7:1. */
#define FINALS(v) "op=final replica=0 key=7:1 value=" #v, "op=final replica=1 key=7:1 value=" #v, \
                  "op=final replica=2 key=7:1 value=" #v

static void test_convergence(void **st)
{
    (void)st;
    expect(0, NULL, CHECK("op=write session=a seq=1 key=7:1 value=6 stamp=0 uid=1:1 status=ok",
                          FINALS(6)));
    /* two concurrent writes, each a possible winner, but not both */
    expect(1, "convergence:", CHECK("op=write session=a seq=1 key=7:1 value=6 uid=1:1 status=ok",
                                     "op=write session=b seq=1 key=7:1 value=8 uid=2:1 status=ok",
                                     "op=final replica=0 key=7:1 value=6",
                                     "op=final replica=1 key=7:1 value=6",
                                     "op=final replica=2 key=7:1 value=8"));
    /* the replica that differs has also lost the write */
    expect(2, "convergence:", CHECK("op=write session=a seq=1 key=7:1 value=6 uid=1:1 status=ok",
                                     "op=final replica=0 key=7:1 value=6",
                                     "op=final replica=1 key=7:1 value=6",
                                     "op=final replica=2 key=7:1 value=0"));
    assert_non_null(strstr(report, "final:"));
}

/* Bug 1 of issue 10: an acknowledged delete undone by a late copy. */
static void test_single_writer_lost_ack(void **st)
{
    (void)st;
    const char *rate = "op=write session=a seq=1 key=7:1 value=2 uid=1:1 status=ok t0=1 t1=2";
    const char *del = "op=write session=a seq=2 key=7:1 value=0 uid=1:2 status=ok t0=3 t1=4";
    expect(0, NULL, CHECK(rate, del, FINALS(0)));
    expect(1, "final:", CHECK(rate, del, FINALS(2)));
    /* an update in place of the delete */
    expect(1, "final:", CHECK(rate, "op=write session=a seq=2 key=7:1 value=4 uid=1:2 status=ok",
                              FINALS(2)));
}

static void test_single_writer_unknown(void **st)
{
    (void)st;
    const char *ok6 = "op=write session=a seq=2 key=7:1 value=6 uid=1:2 status=ok";
    /* a later unknown write may or may not be there */
    const char *unk8 = "op=write session=a seq=3 key=7:1 value=8 uid=1:3 status=unknown";
    expect(0, NULL, CHECK(ok6, unk8, FINALS(8)));
    expect(0, NULL, CHECK(ok6, unk8, FINALS(6)));
    /* an earlier unknown one must not come back */
    const char *unk4 = "op=write session=a seq=1 key=7:1 value=4 uid=1:1 status=unknown";
    expect(1, "final:", CHECK(unk4, ok6, FINALS(4)));
    expect(0, NULL, CHECK(unk4, FINALS(4)));
    expect(0, NULL, CHECK(unk4, FINALS(0)));
    /* failed and stale writes are never applied */
    expect(1, "final:", CHECK(ok6, "op=write session=a seq=3 key=7:1 value=8 uid=1:3 status=fail",
                              FINALS(8)));
    expect(1, "final:", CHECK(ok6, "op=write session=a seq=3 key=7:1 value=8 uid=1:3 status=stale",
                              FINALS(8)));
    /* no write acknowledged: the initial value may stay */
    expect(0, NULL, CHECK("op=initial key=7:1 value=9", unk4, FINALS(9)));
    expect(1, "final:", CHECK("op=initial key=7:1 value=9", ok6, FINALS(9)));
}

static void test_multi_writer_stamps(void **st)
{
    (void)st;
    const char *a = "op=write session=a seq=1 key=7:1 value=6 stamp=100 uid=1:1 status=ok";
    const char *b = "op=write session=b seq=1 key=7:1 value=8 stamp=200 uid=2:1 status=ok";
    expect(0, NULL, CHECK(a, b, FINALS(8)));
    expect(1, "final:", CHECK(a, b, FINALS(6)));
    /* an unknown write above the greatest ok one may win */
    const char *c_hi = "op=write session=c seq=1 key=7:1 value=2 stamp=300 uid=3:1 status=unknown";
    const char *c_lo = "op=write session=c seq=1 key=7:1 value=2 stamp=150 uid=3:1 status=unknown";
    expect(0, NULL, CHECK(a, b, c_hi, FINALS(2)));
    expect(1, "final:", CHECK(a, b, c_lo, FINALS(2)));
    /* equal stamps: the uid decides */
    const char *b_eq = "op=write session=b seq=1 key=7:1 value=8 stamp=100 uid=2:1 status=ok";
    expect(0, NULL, CHECK(a, b_eq, FINALS(8)));
    expect(1, "final:", CHECK(a, b_eq, FINALS(6)));
}

static void test_multi_writer_without_stamps(void **st)
{
    (void)st;
    const char *a6 = "op=write session=a seq=1 key=7:1 value=6 uid=1:1 status=ok";
    const char *b8 = "op=write session=b seq=1 key=7:1 value=8 uid=2:1 status=ok";
    /* concurrent: either may win, nothing else */
    expect(0, NULL, CHECK(a6, b8, FINALS(6)));
    expect(0, NULL, CHECK(a6, b8, FINALS(8)));
    expect(1, "final:", CHECK(a6, b8, FINALS(4)));
    /* a's later write follows its earlier one */
    const char *a4 = "op=write session=a seq=2 key=7:1 value=4 uid=1:2 status=ok";
    expect(1, "final:", CHECK(a6, a4, b8, FINALS(6)));
    expect(0, NULL, CHECK(a6, a4, b8, FINALS(4)));
    /* b read a's write before writing: b's write must win over it */
    const char *b_read = "op=read session=b seq=1 key=7:1 value=6 status=ok";
    const char *b8_after = "op=write session=b seq=2 key=7:1 value=8 uid=2:1 status=ok";
    expect(1, "final:", CHECK(a6, b_read, b8_after, FINALS(6)));
    expect(0, NULL, CHECK(a6, b_read, b8_after, FINALS(8)));
    /* an unknown write of a session does not bind its later writes when
     * others write the key too (the client did not see it) */
    const char *a2u = "op=write session=a seq=0 key=7:1 value=2 uid=1:9 status=unknown";
    expect(0, NULL, CHECK(a2u, a6, b8, FINALS(2)));
}

static void test_stamp_order(void **st)
{
    (void)st;
    const char *b = "op=write session=b seq=1 key=7:1 value=8 stamp=50 uid=2:1 status=ok";
    const char *a1 = "op=write session=a seq=1 key=7:1 value=6 stamp=200 uid=1:1 status=ok";
    const char *a2_lo = "op=write session=a seq=2 key=7:1 value=4 stamp=100 uid=1:2 status=ok";
    const char *a2_hi = "op=write session=a seq=2 key=7:1 value=4 stamp=300 uid=1:2 status=ok";
    expect(0, NULL, CHECK(b, a1, a2_hi, FINALS(4)));
    int v = CHECK(b, a1, a2_lo, FINALS(4));
    assert_true(v >= 1);
    expect(v, "stamps:", v);
    /* a write after a read of another session's write */
    const char *c_read = "op=read session=c seq=1 key=7:1 value=6 status=ok";
    const char *c_lo = "op=write session=c seq=2 key=7:1 value=2 stamp=150 uid=3:1 status=ok";
    const char *c_hi = "op=write session=c seq=2 key=7:1 value=2 stamp=250 uid=3:1 status=ok";
    expect(0, NULL, CHECK(b, a1, c_read, c_hi, FINALS(2)));
    v = CHECK(b, a1, c_read, c_lo, FINALS(6));
    assert_true(v >= 1);
    expect(v, "stamps:", v);
    /* unknown, the same write is no violation: no replica that has what the
     * session read applies it (RT_STALE), and it cannot win */
    const char *c_lo_unknown =
        "op=write session=c seq=2 key=7:1 value=2 stamp=150 uid=3:1 status=unknown";
    expect(0, NULL, CHECK(b, a1, c_read, c_lo_unknown, FINALS(6)));
    expect(1, "final:", CHECK(b, a1, c_read, c_lo_unknown, FINALS(2)));
    /* one update id, two stamps */
    v = CHECK("op=write session=a seq=1 key=7:1 value=6 stamp=10 uid=1:1 status=unknown",
              "op=write session=a seq=2 key=7:1 value=6 stamp=11 uid=1:1 status=ok", FINALS(6));
    expect(1, "stamps:", v);
}

static void test_read_your_writes(void **st)
{
    (void)st;
    const char *w6 = "op=write session=a seq=1 key=7:1 value=6 uid=1:1 status=ok";
    expect(0, NULL, CHECK(w6, "op=read session=a seq=2 key=7:1 value=6 status=ok"));
    expect(1, "read-your-writes:", CHECK(w6, "op=read session=a seq=2 key=7:1 value=0 status=ok"));
    /* a later unknown write of the session may be read; an earlier one not */
    const char *u8 = "op=write session=a seq=2 key=7:1 value=8 uid=1:2 status=unknown";
    expect(0, NULL, CHECK(w6, u8, "op=read session=a seq=3 key=7:1 value=8 status=ok"));
    expect(0, NULL, CHECK(w6, u8, "op=read session=a seq=3 key=7:1 value=6 status=ok"));
    const char *u4 = "op=write session=a seq=0 key=7:1 value=4 uid=1:0 status=unknown";
    expect(1, "read-your-writes:", CHECK(u4, w6, "op=read session=a seq=3 key=7:1 value=4 status=ok"));
    /* a failed read says nothing */
    expect(0, NULL, CHECK(w6, "op=read session=a seq=2 key=7:1 value=0 status=fail"));
    /* several writers: what precedes the own write by stamp may not be read */
    const char *a = "op=write session=a seq=1 key=7:1 value=6 stamp=100 uid=1:1 status=ok";
    const char *b_lo = "op=write session=b seq=1 key=7:1 value=8 stamp=50 uid=2:1 status=ok";
    const char *b_hi = "op=write session=b seq=1 key=7:1 value=8 stamp=150 uid=2:1 status=ok";
    const char *r8 = "op=read session=a seq=2 key=7:1 value=8 status=ok";
    expect(1, "read-your-writes:", CHECK(a, b_lo, r8));
    expect(0, NULL, CHECK(a, b_hi, r8));
    /* without stamps another session's write may come after */
    expect(0, NULL, CHECK(w6, "op=write session=b seq=1 key=7:1 value=8 uid=2:1 status=ok", r8));
}

static void test_monotonic_reads(void **st)
{
    (void)st;
    const char *w2 = "op=write session=a seq=1 key=7:1 value=2 uid=1:1 status=ok";
    const char *w4 = "op=write session=a seq=2 key=7:1 value=4 uid=1:2 status=ok";
    const char *w6 = "op=write session=a seq=3 key=7:1 value=6 uid=1:3 status=ok";
    const char *r4 = "op=read session=b seq=1 key=7:1 value=4 status=ok";
    expect(0, NULL, CHECK(w2, w4, w6, r4, "op=read session=b seq=2 key=7:1 value=6 status=ok"));
    expect(0, NULL, CHECK(w2, w4, w6, r4, "op=read session=b seq=2 key=7:1 value=4 status=ok"));
    expect(1, "monotonic-reads:", CHECK(w2, w4, w6, r4,
                                        "op=read session=b seq=2 key=7:1 value=2 status=ok"));
    expect(1, "monotonic-reads:", CHECK(w2, w4, w6, r4,
                                        "op=read session=b seq=2 key=7:1 value=0 status=ok"));
    /* values that repeat: a read is held only to what it surely saw */
    const char *w6b = "op=write session=a seq=0 key=7:1 value=6 uid=1:0 status=ok";
    expect(0, NULL, CHECK(w6b, w2, w4, w6, "op=read session=b seq=1 key=7:1 value=6 status=ok",
                          "op=read session=b seq=2 key=7:1 value=2 status=ok"));
}

static void test_reads_of_nothing(void **st)
{
    (void)st;
    const char *w6 = "op=write session=a seq=1 key=7:1 value=6 uid=1:1 status=ok";
    expect(1, "reads:", CHECK(w6, "op=read session=b seq=1 key=7:1 value=7 status=ok"));
    expect(1, "reads:", CHECK("op=write session=a seq=1 key=7:1 value=7 uid=1:1 status=fail",
                              "op=read session=b seq=1 key=7:1 value=7 status=ok"));
    /* a session cannot read what it writes later */
    expect(1, "reads:", CHECK("op=read session=a seq=1 key=7:1 value=6 status=ok",
                              "op=write session=a seq=2 key=7:1 value=6 uid=1:1 status=ok"));
    expect(0, NULL, CHECK("op=initial key=7:1 value=8",
                          "op=read session=b seq=1 key=7:1 value=8 status=ok"));
    expect(0, NULL, CHECK("op=read session=b seq=1 key=7:1 value=0 status=ok"));
}

static void test_repeated_uid(void **st)
{
    (void)st;
    /* a client repeats a timed-out write with its uid: one update, at the
     * place of its first attempt */
    const char *first = "op=write session=a seq=1 key=7:1 value=6 uid=1:1 status=unknown";
    const char *other = "op=write session=a seq=2 key=7:1 value=8 uid=1:2 status=ok";
    const char *again = "op=write session=a seq=3 key=7:1 value=6 uid=1:1 status=ok";
    expect(0, NULL, CHECK(first, other, again, FINALS(8)));
    expect(0, NULL, CHECK(first, again, FINALS(6)));
    expect(0, NULL, CHECK(first, again, "op=read session=a seq=4 key=7:1 value=6 status=ok"));
    /* read before the repeat was answered: not yet its own write */
    expect(0, NULL, CHECK(first, "op=read session=a seq=2 key=7:1 value=0 status=ok", again));
    /* one uid acknowledged for two different updates */
    expect(1, "uid:", CHECK("op=write session=a seq=1 key=7:1 value=6 uid=1:1 status=ok",
                            "op=write session=a seq=2 key=7:1 value=8 uid=1:1 status=ok",
                            FINALS(8)));
}

static void test_history_errors(void **st)
{
    (void)st;
    hist_t *h = hist_new();
    char err[256];
    static const char *const bad[] = {
        "op=write session=a seq=1 key=7:1 value=6 status=maybe",
        "op=write session=a key=7:1 value=6 status=ok",
        "op=write session=a seq=1 key=7 value=6 status=ok",
        "op=write session=a seq=1 key=7:1 value=11 status=ok",
        "op=read session=a seq=1 key=7:1 value=6 status=unknown",
        "op=final key=7:1 value=6",
        "op=delete key=7:1 value=0",
        "op=write session=a seq=x key=7:1 value=6 status=ok",
        "garbage",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (hist_parse_line(h, bad[i], err, sizeof err) == 0)
            fail_msg("accepted: %s", bad[i]);
    assert_int_equal(hist_parse_line(h, "# a comment", err, sizeof err), 0);
    assert_int_equal(hist_parse_line(h, "", err, sizeof err), 0);
    assert_int_equal(hist_parse_line(h, "op=write session=a seq=1 key=7:1 value=6 status=ok "
                                        "worker=3\r\n", err, sizeof err), 0);
    hist_stats_t s;
    hist_stats(h, &s);
    assert_int_equal(s.ops, 1);
    assert_int_equal(s.writes, 1);
    assert_int_equal(s.sessions, 1);
    hist_free(h);
    /* two operations of one session with one seq */
    expect(1, "history:", CHECK("op=write session=a seq=1 key=7:1 value=6 uid=1:1 status=ok",
                                "op=read session=a seq=1 key=7:1 value=6 status=ok"));
}

/* The in-process interface gives the same verdicts as the log format. */
static void test_api(void **st)
{
    (void)st;
    hist_t *h = hist_new();
    hist_op_t w = {.session = "s0", .seq = 1, .user = 7, .movie = 1, .halves = 2,
                   .uid_origin = 1, .uid_seq = 1, .status = HIST_OK};
    assert_int_equal(hist_write(h, &w), 0);
    w.seq = 2, w.halves = 0, w.uid_seq = 2;
    assert_int_equal(hist_write(h, &w), 0);
    hist_op_t r = {.session = "s0", .seq = 3, .user = 7, .movie = 1, .halves = 0,
                   .status = HIST_OK};
    assert_int_equal(hist_read(h, &r), 0);
    r.status = HIST_UNKNOWN;
    assert_int_equal(hist_read(h, &r), -1);
    for (uint32_t k = 0; k < 3; k++)
        assert_int_equal(hist_final(h, k, 7, 1, 2), 0);
    assert_int_equal(hist_check(h, NULL), 1);
    hist_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convergence),
        cmocka_unit_test(test_single_writer_lost_ack),
        cmocka_unit_test(test_single_writer_unknown),
        cmocka_unit_test(test_multi_writer_stamps),
        cmocka_unit_test(test_multi_writer_without_stamps),
        cmocka_unit_test(test_stamp_order),
        cmocka_unit_test(test_read_your_writes),
        cmocka_unit_test(test_monotonic_reads),
        cmocka_unit_test(test_reads_of_nothing),
        cmocka_unit_test(test_repeated_uid),
        cmocka_unit_test(test_history_errors),
        cmocka_unit_test(test_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
