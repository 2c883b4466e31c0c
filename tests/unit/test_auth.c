/*
 * test_auth.c -- gossip authentication (common/auth.c): a signed message
 * verifies; a changed record, a missing MAC or another key does not; a
 * signed call does not pass for another procedure's; a reply verifies only
 * against the call it answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "rating.h"

static char keyfile[64];

static void write_key(const char *k)
{
    FILE *f = fopen(keyfile, "w");
    assert_non_null(f);
    fputs(k, f);
    fclose(f);
}

static int setup(void **st)
{
    (void)st;
    snprintf(keyfile, sizeof keyfile, "/tmp/test_auth.XXXXXX");
    int fd = mkstemp(keyfile);
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    auth_forget_key();
    unlink(keyfile);
    return 0;
}

/* A gossip message with one record, as the gossip thread builds it. */
static void make_msg(rt_gossip_args *a, rt_record *rec, uint64_t ts[3])
{
    memset(a, 0, sizeof *a);
    memset(rec, 0, sizeof *rec);
    rec->origin = 1;
    rec->ts.rt_vts_len = 3;
    rec->ts.rt_vts_val = ts;
    rec->uid.origin = 5;
    rec->uid.seq = 6;
    rec->op.kind = OP_RATE;
    rec->op.rt_op_u.rate.user = 10;
    rec->op.rt_op_u.rate.movie = 20;
    rec->op.rt_op_u.rate.halves = 7;
    a->from = 1;
    a->epoch = 99;
    a->records.records_len = 1;
    a->records.records_val = rec;
}

#define SIGN(a) \
    auth_sign_call(AUTH_GOSSIP, (xdrproc_t)xdr_rt_gossip_args, (a), &(a)->mac.mac_len, \
                   &(a)->mac.mac_val)
#define VERIFY(a) \
    auth_verify_call(AUTH_GOSSIP, (xdrproc_t)xdr_rt_gossip_args, (a), &(a)->mac.mac_len, \
                     &(a)->mac.mac_val)

static void test_sign_and_verify(void **st)
{
    (void)st;
    write_key("a shared secret of the cluster\n");
    char err[256];
    assert_int_equal(auth_load_key(keyfile, err, sizeof err), 0);
    rt_gossip_args a;
    rt_record rec;
    uint64_t ts[3] = {0, 4, 0};
    make_msg(&a, &rec, ts);
    assert_int_equal(SIGN(&a), 0);
    assert_int_equal(a.mac.mac_len, AUTH_MAC_LEN);
    assert_true(VERIFY(&a));
    /* the check leaves the message as it was */
    assert_int_equal(a.mac.mac_len, AUTH_MAC_LEN);
    assert_true(VERIFY(&a));
    /* an injected change to the record is caught */
    rec.op.rt_op_u.rate.halves = 10;
    assert_false(VERIFY(&a));
    rec.op.rt_op_u.rate.halves = 7;
    a.from = 2;
    assert_false(VERIFY(&a));
    a.from = 1;
    /* no MAC at all */
    char *mac = a.mac.mac_val;
    a.mac.mac_val = NULL;
    a.mac.mac_len = 0;
    assert_false(VERIFY(&a));
    a.mac.mac_val = mac;
    a.mac.mac_len = AUTH_MAC_LEN;
    /* another key */
    write_key("another secret, another cluster");
    assert_int_equal(auth_load_key(keyfile, err, sizeof err), 0);
    assert_false(VERIFY(&a));
    free(mac);
}

static void load(const char *k)
{
    char err[256];
    write_key(k);
    assert_int_equal(auth_load_key(keyfile, err, sizeof err), 0);
}

/* The label keeps a MAC made for one procedure from passing for another
 * over the same bytes: a GOSSIP message signed as a SNAPSHOT call (the
 * bytes two procedures' messages can share: before the gossip message had
 * its `recovering` flag, the SNAPSHOT call {from 1, session S, SNAP_MOVIES,
 * after (A, 0)} and the GOSSIP call {from 1, epoch S, replica_ts [A]} were
 * the same bytes) does not verify as GOSSIP. */
static void test_label_separates_procedures(void **st)
{
    (void)st;
    load("a shared secret of the cluster");
    uint64_t ts[1] = {42};
    rt_gossip_args g;
    memset(&g, 0, sizeof g);
    g.from = 1;
    g.epoch = 0x1122334455667788ULL;
    g.replica_ts.rt_vts_len = 1;
    g.replica_ts.rt_vts_val = ts;
    assert_int_equal(auth_sign_call(AUTH_SNAPSHOT, (xdrproc_t)xdr_rt_gossip_args, &g,
                                    &g.mac.mac_len, &g.mac.mac_val), 0);
    assert_true(auth_verify_call(AUTH_SNAPSHOT, (xdrproc_t)xdr_rt_gossip_args, &g,
                                 &g.mac.mac_len, &g.mac.mac_val));
    assert_false(VERIFY(&g)); /* the same bytes and MAC, as GOSSIP */
    free(g.mac.mac_val);
}

/* A reply verifies with the MAC of the call it answers, not another's, and
 * not as a call. */
static void test_reply_bound_to_call(void **st)
{
    (void)st;
    load("a shared secret of the cluster");
    rt_gossip_args c1, c2;
    rt_record r1, r2;
    uint64_t ts1[3] = {0, 4, 0}, ts2[3] = {0, 5, 0};
    make_msg(&c1, &r1, ts1);
    make_msg(&c2, &r2, ts2);
    assert_int_equal(SIGN(&c1), 0);
    assert_int_equal(SIGN(&c2), 0);
    rt_gossip_res res;
    memset(&res, 0, sizeof res);
    uint64_t rts[3] = {7, 8, 9};
    res.replica_ts.rt_vts_len = 3;
    res.replica_ts.rt_vts_val = rts;
#define RES_ARGS (xdrproc_t)xdr_rt_gossip_res, &res, &res.mac.mac_len, &res.mac.mac_val
    assert_int_equal(auth_sign_reply(AUTH_GOSSIP, c1.mac.mac_len, c1.mac.mac_val, RES_ARGS), 0);
    assert_true(auth_verify_reply(AUTH_GOSSIP, c1.mac.mac_len, c1.mac.mac_val, RES_ARGS));
    assert_false(auth_verify_reply(AUTH_GOSSIP, c2.mac.mac_len, c2.mac.mac_val, RES_ARGS));
    assert_false(auth_verify_reply(AUTH_SNAPSHOT, c1.mac.mac_len, c1.mac.mac_val, RES_ARGS));
    assert_false(auth_verify_call(AUTH_GOSSIP, RES_ARGS));
    assert_false(auth_verify_reply(AUTH_GOSSIP, 0, NULL, RES_ARGS));
    rts[2] = 10; /* a changed reply */
    assert_false(auth_verify_reply(AUTH_GOSSIP, c1.mac.mac_len, c1.mac.mac_val, RES_ARGS));
    /* a reply to an unsigned call is not signed */
    assert_int_equal(auth_sign_reply(AUTH_GOSSIP, 0, NULL, RES_ARGS), -1);
#undef RES_ARGS
    free(res.mac.mac_val);
    free(c1.mac.mac_val);
    free(c2.mac.mac_val);
}

static void test_no_key_no_checks(void **st)
{
    (void)st;
    auth_forget_key();
    rt_gossip_args a;
    rt_record rec;
    uint64_t ts[3] = {1, 0, 0};
    make_msg(&a, &rec, ts);
    assert_int_equal(SIGN(&a), 0);
    assert_int_equal(a.mac.mac_len, 0);
    assert_true(VERIFY(&a));
}

static void test_bad_key_files(void **st)
{
    (void)st;
    char err[256];
    write_key("short\n");
    assert_int_equal(auth_load_key(keyfile, err, sizeof err), -1);
    assert_non_null(strstr(err, "16 to"));
    assert_false(auth_enabled());
    assert_int_equal(auth_load_key("/nonexistent/key", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_and_verify),
        cmocka_unit_test(test_label_separates_procedures),
        cmocka_unit_test(test_reply_bound_to_call),
        cmocka_unit_test(test_no_key_no_checks),
        cmocka_unit_test(test_bad_key_files),
    };
    return cmocka_run_group_tests_name("auth", tests, setup, teardown);
}
