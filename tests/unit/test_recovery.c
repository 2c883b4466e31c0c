/* test_recovery.c -- when a replica may hand out sequence numbers (server/recovery.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recovery.h"

/* Replica 2 of 3, holding `have` of its own updates. */
static vts_t own(uint64_t have)
{
    vts_t v;
    vts_zero(&v, 3);
    v.t[2] = have;
    return v;
}

static void test_whole_state_needs_nothing(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 2, 3);
    vts_t ours = own(5), theirs = own(5);
    assert_false(r.active);
    assert_int_equal(recovery_heard(&r, 0, &theirs, &ours, true, true), RECOVERY_NONE);
    assert_false(r.active);
    assert_int_equal(recovery_waiting(&r), 0);
}

/* Every peer heard, none holds more: recovery ends at the last one. */
static void test_done_when_every_peer_heard(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 2, 3);
    recovery_begin(&r, "a new database");
    assert_true(r.active);
    assert_int_equal(recovery_waiting(&r), 0x3);
    vts_t ours = own(3), theirs = own(3), fewer = own(1);
    assert_int_equal(recovery_heard(&r, 0, &theirs, &ours, false, true), RECOVERY_NONE);
    assert_true(r.active);
    assert_int_equal(recovery_waiting(&r), 0x2);
    /* self and strangers do not count */
    assert_int_equal(recovery_heard(&r, 2, &theirs, &ours, true, true), RECOVERY_NONE);
    assert_int_equal(recovery_heard(&r, 7, &theirs, &ours, true, true), RECOVERY_NONE);
    assert_true(r.active);
    assert_int_equal(recovery_heard(&r, 1, &fewer, &ours, false, true), RECOVERY_DONE);
    assert_false(r.active);
}

/* A peer holds more of our updates: no end until we hold them too. */
static void test_waits_for_own_records(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 2, 3);
    recovery_begin(&r, "restored");
    vts_t ours = own(3), five = own(5), none = own(0);
    assert_int_equal(recovery_heard(&r, 0, &five, &ours, false, true), RECOVERY_NONE);
    assert_int_equal(r.own_known, 5);
    assert_int_equal(r.best, 0);
    /* the last peer holds fewer: still short of what peer 0 holds */
    assert_int_equal(recovery_heard(&r, 1, &none, &ours, true, true), RECOVERY_NONE);
    assert_true(r.active);
    assert_false(r.rejoin);
    /* gossip from peer 0 brought 4 and 5 */
    vts_t now = own(5);
    assert_int_equal(recovery_heard(&r, 0, &five, &now, true, true), RECOVERY_DONE);
    assert_false(r.active);
}

/* The best peer's complete answer left us short: its log lacks them. */
static void test_rejoin_when_the_log_lacks_them(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 2, 3);
    recovery_begin(&r, "wiped");
    vts_t ours = own(0), five = own(5), two = own(2);
    assert_int_equal(recovery_heard(&r, 1, &two, &ours, true, true), RECOVERY_NONE);
    /* a partial message from the best peer proves nothing */
    assert_int_equal(recovery_heard(&r, 0, &five, &ours, false, true), RECOVERY_NONE);
    assert_false(r.rejoin);
    /* neither does a complete one from another peer */
    assert_int_equal(recovery_heard(&r, 1, &two, &ours, true, true), RECOVERY_NONE);
    assert_false(r.rejoin);
    assert_int_equal(recovery_heard(&r, 0, &five, &ours, true, true), RECOVERY_REJOIN);
    assert_true(r.rejoin);
    assert_true(r.active);
    /* once: the copy is being made */
    assert_int_equal(recovery_heard(&r, 0, &five, &ours, true, true), RECOVERY_NONE);
    /* the copy holds them */
    vts_t copied = own(5);
    assert_int_equal(recovery_check(&r, &copied), RECOVERY_DONE);
    assert_false(r.active);
    assert_false(r.rejoin);
}

/* We lost records of another replica that every log has dropped (a
 * restored backup): none of ours is missing, but the best peer's complete
 * answer leaves us short of what it holds, so we copy it; once we hold all
 * it holds, recovery ends without a copy. */
static void test_other_replicas_records_count(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 0, 3);
    recovery_begin(&r, "restored");
    vts_t ours, ahead, same;
    vts_zero(&ours, 3);
    ours.t[2] = 21;
    ahead = ours;
    ahead.t[2] = 55;
    same = ours;
    assert_int_equal(recovery_source(&r, &ours), -1); /* nobody heard yet */
    assert_int_equal(recovery_heard(&r, 1, &same, &ours, false, true), RECOVERY_NONE);
    assert_int_equal(recovery_heard(&r, 2, &ahead, &ours, false, true), RECOVERY_NONE);
    assert_true(r.active);
    /* own_known is 0 everywhere: the best is the peer that holds the most */
    assert_int_equal(recovery_source(&r, &ours), 2);
    /* a complete answer of another peer proves nothing */
    assert_int_equal(recovery_heard(&r, 1, &same, &ours, true, true), RECOVERY_NONE);
    assert_int_equal(recovery_heard(&r, 2, &ahead, &ours, true, true), RECOVERY_REJOIN);
    assert_int_equal(recovery_source(&r, &ours), -1); /* copying */
    recovery_t g;
    recovery_init(&g, 0, 3);
    recovery_begin(&g, "restored");
    assert_int_equal(recovery_heard(&g, 1, &same, &ours, false, true), RECOVERY_NONE);
    assert_int_equal(recovery_heard(&g, 2, &ahead, &ours, false, true), RECOVERY_NONE);
    /* this time the exchange brought 22..55 */
    assert_int_equal(recovery_heard(&g, 2, &ahead, &ahead, true, true), RECOVERY_DONE);
    assert_false(g.active);
}

/* A peer that is recovering too is no reference: it may lack the same
 * records.  With a whole one, its answer decides; with none, only holding
 * all that anyone reported ends recovery. */
static void test_recovering_peers_are_no_reference(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 0, 3);
    recovery_begin(&r, "restored");
    vts_t ours, ahead;
    vts_zero(&ours, 3);
    ours.t[2] = 21;
    ahead = ours;
    ahead.t[2] = 55;
    assert_int_equal(recovery_heard(&r, 1, &ahead, &ours, true, false), RECOVERY_NONE);
    assert_int_equal(recovery_heard(&r, 2, &ours, &ours, false, true), RECOVERY_NONE);
    assert_int_equal(recovery_source(&r, &ours), 2);
    /* the whole peer has nothing we lack: what peer 1 has is in some log */
    assert_int_equal(recovery_heard(&r, 2, &ours, &ours, true, true), RECOVERY_DONE);
    recovery_t none;
    recovery_init(&none, 0, 3);
    recovery_begin(&none, "restored");
    assert_int_equal(recovery_heard(&none, 1, &ahead, &ours, true, false), RECOVERY_NONE);
    assert_int_equal(recovery_heard(&none, 2, &ahead, &ours, true, false), RECOVERY_NONE);
    assert_int_equal(recovery_source(&none, &ours), -1); /* nobody to copy */
    assert_true(none.active);
    assert_int_equal(recovery_heard(&none, 2, &ahead, &ahead, true, false), RECOVERY_DONE);
}

/* A replica that believed its state whole hears of a loss. */
static void test_late_loss_begins_recovery(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 2, 3);
    vts_t ours = own(3), five = own(5);
    assert_int_equal(recovery_heard(&r, 1, &five, &ours, false, true), RECOVERY_BEGUN);
    assert_true(r.active);
    assert_non_null(strstr(r.why, "lost state"));
    assert_int_equal(r.own_known, 5);
    assert_int_equal(recovery_waiting(&r), 0x1); /* peer 1 was heard in the same breath */
}

/* A replica that believed its state whole gets a complete answer that
 * leaves it short of another replica's records: the peer dropped them from
 * its log believing we held them, so we lost them (or ended a recovery on
 * reports that missed them), and only a copy brings them back.  A STATUS
 * or a partial answer shows nothing: the rest may still come. */
static void test_short_after_complete_answer_begins_recovery(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 2, 3);
    vts_t ours = own(3), ahead = own(3);
    ahead.t[0] = 4;
    assert_int_equal(recovery_heard(&r, 1, &ahead, &ours, false, true), RECOVERY_NONE);
    assert_false(r.active);
    assert_int_equal(recovery_heard(&r, 1, &ahead, &ahead, true, true), RECOVERY_NONE);
    assert_false(r.active);
    assert_int_equal(recovery_heard(&r, 1, &ahead, &ours, true, true), RECOVERY_BEGUN);
    assert_true(r.active);
    assert_non_null(strstr(r.why, "log no longer has"));
    assert_int_equal(recovery_waiting(&r), 0x1);
    /* peer 0 is heard: peer 1, whole and holding more, is the one to copy */
    assert_int_equal(recovery_heard(&r, 0, &ours, &ours, false, true), RECOVERY_NONE);
    assert_int_equal(recovery_heard(&r, 1, &ahead, &ours, true, true), RECOVERY_REJOIN);
    assert_int_equal(r.ref, 1);
}

static void test_check_waits_for_everyone(void **st)
{
    (void)st;
    recovery_t r;
    recovery_init(&r, 0, 2);
    recovery_begin(&r, "x");
    vts_t ours;
    vts_zero(&ours, 2);
    assert_int_equal(recovery_check(&r, &ours), RECOVERY_NONE);
    assert_true(r.active);
    recovery_t one;
    recovery_init(&one, 0, 1);
    recovery_begin(&one, "alone");
    assert_int_equal(recovery_waiting(&one), 0);
    assert_int_equal(recovery_check(&one, &ours), RECOVERY_DONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_state_needs_nothing),
        cmocka_unit_test(test_done_when_every_peer_heard),
        cmocka_unit_test(test_waits_for_own_records),
        cmocka_unit_test(test_rejoin_when_the_log_lacks_them),
        cmocka_unit_test(test_other_replicas_records_count),
        cmocka_unit_test(test_recovering_peers_are_no_reference),
        cmocka_unit_test(test_late_loss_begins_recovery),
        cmocka_unit_test(test_short_after_complete_answer_begins_recovery),
        cmocka_unit_test(test_check_waits_for_everyone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
