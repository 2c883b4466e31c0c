/*
 * test_auth.c -- gossip authentication (common/auth.c): a signed message
 * verifies; a changed record, a missing MAC or another key does not.
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

#define SIGN(a) auth_sign((xdrproc_t)xdr_rt_gossip_args, (a), &(a)->mac.mac_len, &(a)->mac.mac_val)
#define VERIFY(a) auth_verify((xdrproc_t)xdr_rt_gossip_args, (a), &(a)->mac.mac_len, &(a)->mac.mac_val)

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
        cmocka_unit_test(test_no_key_no_checks),
        cmocka_unit_test(test_bad_key_files),
    };
    return cmocka_run_group_tests_name("auth", tests, setup, teardown);
}
