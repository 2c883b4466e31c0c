/*
 * test_rpcsrv.c -- the ONC RPC server loop (common/rpcsrv.c) against real
 * libtirpc clients and the real rpcbind: replies, RPC-level errors for a
 * wrong procedure, version or argument, hostile records, credentials of
 * every flavor (AUTH_ERROR for those not served), a second server for a
 * live program number refused, and calls on two connections running at
 * the same time; and the front end's own client
 * (frontend/rpcclnt.c) against it: results, RPC-level errors, a timeout.
 *
 * The test registers a program number of its own in the transient range
 * and removes it at the end.  Without rpcbind the tests are skipped.
 */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <rpc/pmap_clnt.h>
#include <rpc/rpcb_clnt.h>

#include "log.h"
#include "rating.h"
#include "rpcclnt.h"
#include "rpcutil.h"

static uint32_t prog;
static volatile int stop;
static pthread_t server;
static bool have_rpcbind;

/* Procedure 1 echoes a movie id back in a Q_MOVIE-shaped answer; procedure
 * 2 blocks until procedure 3 has run (only possible if calls overlap). */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static bool_t echo(void *arg, void *res, struct svc_req *rq)
{
    rt_query_args *a = arg;
    rt_query_res *r = res;
    r->status = RT_OK;
    r->replica = a->q.rt_query_u.movie;
    r->detail = strdup("echo");
    return TRUE;
}

static bool_t wait_gate(void *arg, void *res, struct svc_req *rq)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int ok = 1;
    pthread_mutex_lock(&gate_mu);
    while (!gate_open && ok)
        ok = pthread_cond_timedwait(&gate_cv, &gate_mu, &until) == 0;
    pthread_mutex_unlock(&gate_mu);
    *(bool_t *)res = gate_open;
    return TRUE;
}

static bool_t open_gate(void *arg, void *res, struct svc_req *rq)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    return TRUE;
}

static const struct rpc_proc procs[] = {
    [0] = RPC_PROC(xdr_void, char, xdr_void, char, open_gate),
    [1] = RPC_PROC(xdr_rt_query_args, rt_query_args, xdr_rt_query_res, rt_query_res, echo),
    [2] = RPC_PROC(xdr_void, char, xdr_bool, bool_t, wait_gate),
    [3] = RPC_PROC(xdr_void, char, xdr_void, char, open_gate),
};
static const struct rpc_program program = {"test", 0, 1, procs, 4, true};
static struct rpc_program prog_copy;

static void *serve(void *arg)
{
    (void)arg;
    rpc_serve(&stop, 100, NULL, NULL);
    return NULL;
}

static int setup(void **st)
{
    (void)st;
    log_init("test_rpcsrv", LOG_LVL_WARN);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    prog = 0x40000000U + ((uint32_t)rand() % 0x1fffffffU);
    prog_copy = program;
    prog_copy.prog = prog;
    char err[256];
    if (rpc_listen(&prog_copy, "127.0.0.1", 0, err, sizeof err) < 0) {
        fprintf(stderr, "skipping: %s\n", err);
        return 0;
    }
    have_rpcbind = true;
    return pthread_create(&server, NULL, serve, NULL);
}

static int teardown(void **st)
{
    (void)st;
    if (!have_rpcbind)
        return 0;
    stop = 1;
    pthread_join(server, NULL);
    rpc_unlisten();
    return 0;
}

static CLIENT *connect_vers(uint32_t vers)
{
    char err[256];
    CLIENT *c = rpc_connect("localhost", prog, vers, 3000, err, sizeof err);
    if (!c)
        fail_msg("connect: %s", err);
    return c;
}

static void test_call_returns_result(void **st)
{
    (void)st;
    if (!have_rpcbind)
        skip();
    CLIENT *c = connect_vers(1);
    rt_query_args a;
    rt_query_res r;
    memset(&a, 0, sizeof a);
    memset(&r, 0, sizeof r);
    a.q.kind = Q_MOVIE;
    a.q.rt_query_u.movie = 4242;
    struct timeval tv = {3, 0};
    assert_int_equal(clnt_call(c, 1, RPC_XDR(xdr_rt_query_args), (char *)&a,
                               RPC_XDR(xdr_rt_query_res), (char *)&r, tv),
                     RPC_SUCCESS);
    assert_int_equal(r.replica, 4242);
    assert_string_equal(r.detail, "echo");
    xdr_free(RPC_XDR(xdr_rt_query_res), (char *)&r);
    clnt_destroy(c);
}

static void test_rpc_errors(void **st)
{
    (void)st;
    if (!have_rpcbind)
        skip();
    struct timeval tv = {3, 0};
    CLIENT *c = connect_vers(1);
    /* a procedure the program does not have */
    assert_int_equal(clnt_call(c, 9, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_PROCUNAVAIL);
    /* arguments that do not decode: an rt_query_args cut short */
    assert_int_equal(clnt_call(c, 1, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_CANTDECODEARGS);
    /* the connection still serves */
    assert_int_equal(clnt_call(c, 3, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_SUCCESS);
    clnt_destroy(c);
    /* a version we do not serve, on a connection made by hand */
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    u_short port = pmap_getport(&sin, prog, 1, IPPROTO_TCP);
    assert_int_not_equal(port, 0);
    sin.sin_port = htons(port);
    int fd = RPC_ANYSOCK;
    c = clnttcp_create(&sin, prog, 7, &fd, 0, 0);
    assert_non_null(c);
    assert_int_equal(clnt_call(c, 3, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_PROGVERSMISMATCH);
    clnt_destroy(c);
}

static int raw_connect(void)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(pmap_getport(&sin, prog, 1, IPPROTO_TCP));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    return fd;
}

/* The server closes a connection that sends garbage or announces a record
 * larger than it accepts, and goes on serving others. */
static void test_hostile_records(void **st)
{
    (void)st;
    if (!have_rpcbind)
        skip();
    const char *garbage[] = {"\x80\x00\x00\x08garbage!", "\xff\xff\xff\xff", "\x7f\xff\xff\xf0"};
    const size_t lens[] = {12, 4, 4};
    for (size_t i = 0; i < 3; i++) {
        int fd = raw_connect();
        assert_int_equal(write(fd, garbage[i], lens[i]), (ssize_t)lens[i]);
        if (i == 2) /* a fragment header with no last bit, then huge */
            assert_int_equal(write(fd, "\xff\xff\xff\xff", 4), 4);
        char b;
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        /* closed by the server: EOF, or a reset when our bytes were unread
         * (a timeout would be EAGAIN and fail) */
        ssize_t n = read(fd, &b, 1);
        assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
        close(fd);
    }
    test_call_returns_result(st);
}

/* ---- credentials ------------------------------------------------------ */

static void put32(unsigned char *b, size_t *len, uint32_t v)
{
    v = htonl(v);
    memcpy(b + *len, &v, 4);
    *len += 4;
}

/* One call to procedure proc on fd with the given credential (flavor and
 * body) and verifier flavor; the reply's decoded header in *r. */
static void raw_call(int fd, uint32_t xid, uint32_t proc, uint32_t cred_flavor,
                     const unsigned char *cred, uint32_t cred_len, uint32_t verf_flavor,
                     struct rpc_msg *r)
{
    unsigned char b[1024];
    size_t len = 4;
    put32(b, &len, xid);
    put32(b, &len, CALL);
    put32(b, &len, 2);
    put32(b, &len, prog);
    put32(b, &len, 1);
    put32(b, &len, proc);
    put32(b, &len, cred_flavor);
    put32(b, &len, cred_len);
    memcpy(b + len, cred, cred_len);
    len += (cred_len + 3) & ~3u;
    put32(b, &len, verf_flavor);
    put32(b, &len, 0);
    size_t mark_len = 0;
    put32(b, &mark_len, 0x80000000U | (uint32_t)(len - 4));
    assert_int_equal(write(fd, b, len), (ssize_t)len);
    unsigned char in[1024];
    uint32_t mark;
    assert_int_equal(read(fd, &mark, 4), 4);
    size_t n = ntohl(mark) & 0x7fffffffU;
    assert_true(n <= sizeof in);
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, in + got, n - got);
        assert_true(k > 0);
        got += (size_t)k;
    }
    memset(r, 0, sizeof *r);
    r->acpted_rply.ar_results.proc = RPC_XDR(xdr_void);
    XDR x;
    xdrmem_create(&x, (char *)in, (u_int)n, XDR_DECODE);
    assert_true(xdr_replymsg(&x, r));
    xdr_destroy(&x);
    assert_int_equal(r->rm_xid, xid);
}

static void expect_auth_error(const struct rpc_msg *r, enum auth_stat why)
{
    assert_int_equal(r->rm_reply.rp_stat, MSG_DENIED);
    assert_int_equal(r->rjcted_rply.rj_stat, AUTH_ERROR);
    assert_int_equal(r->rjcted_rply.rj_why, why);
}

static void expect_success(const struct rpc_msg *r)
{
    assert_int_equal(r->rm_reply.rp_stat, MSG_ACCEPTED);
    assert_int_equal(r->acpted_rply.ar_stat, SUCCESS);
}

/* AUTH_NONE and AUTH_SYS are served; every other credential flavor gets
 * MSG_DENIED / AUTH_ERROR (AUTH_REJECTEDCRED), a malformed AUTH_SYS body
 * AUTH_BADCRED, a verifier other than AUTH_NONE AUTH_BADVERF -- and the
 * procedure does not run.  The connection goes on serving. */
static void test_credentials(void **st)
{
    (void)st;
    if (!have_rpcbind)
        skip();
    /* what a libtirpc client with authunix_create_default sends */
    CLIENT *c = connect_vers(1);
    auth_destroy(c->cl_auth);
    c->cl_auth = authunix_create_default();
    struct timeval tv = {3, 0};
    assert_int_equal(clnt_call(c, 3, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_SUCCESS);
    auth_destroy(c->cl_auth); /* clnt_destroy leaves the handle's auth to its owner */
    clnt_destroy(c);

    pthread_mutex_lock(&gate_mu);
    gate_open = 0;
    pthread_mutex_unlock(&gate_mu);
    int fd = raw_connect();
    struct rpc_msg r;
    const unsigned char none[8] = {0};
    /* flavors nobody checks here: AUTH_SHORT, AUTH_DH, AUTH_KERB, RPCSEC_GSS,
     * AUTH_TLS, an unassigned one, the largest */
    const uint32_t refused[] = {2, 3, 4, 6, 7, 12345, 0xffffffffU};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        raw_call(fd, 100 + (uint32_t)i, 3, refused[i], none, 8, AUTH_NONE, &r);
        expect_auth_error(&r, AUTH_REJECTEDCRED);
    }
    /* AUTH_SYS whose machine name claims 1000 bytes in a 20-byte body */
    const unsigned char bad_sys[20] = {0, 0, 0, 1, 0, 0, 0x03, 0xe8};
    raw_call(fd, 200, 3, AUTH_SYS, bad_sys, sizeof bad_sys, AUTH_NONE, &r);
    expect_auth_error(&r, AUTH_BADCRED);
    /* AUTH_SYS cut short: stamp only */
    raw_call(fd, 201, 3, AUTH_SYS, bad_sys, 4, AUTH_NONE, &r);
    expect_auth_error(&r, AUTH_BADCRED);
    /* good credentials, a verifier that is not AUTH_NONE */
    raw_call(fd, 202, 3, AUTH_NONE, none, 0, AUTH_SYS, &r);
    expect_auth_error(&r, AUTH_BADVERF);
    raw_call(fd, 203, 3, AUTH_NONE, none, 0, 6, &r);
    expect_auth_error(&r, AUTH_BADVERF);
    /* none of those ran procedure 3 */
    pthread_mutex_lock(&gate_mu);
    assert_int_equal(gate_open, 0);
    pthread_mutex_unlock(&gate_mu);
    /* the same connection serves AUTH_NONE (with a body: RFC 5531 leaves it
     * undefined) and a well-formed AUTH_SYS: stamp, "h", uid, gid, no gids */
    raw_call(fd, 300, 3, AUTH_NONE, none, 8, AUTH_NONE, &r);
    expect_success(&r);
    const unsigned char good_sys[24] = {0, 0, 0, 1, 0, 0, 0, 1, 'h', 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    raw_call(fd, 301, 3, AUTH_SYS, good_sys, sizeof good_sys, AUTH_NONE, &r);
    expect_success(&r);
    pthread_mutex_lock(&gate_mu);
    assert_int_equal(gate_open, 1);
    pthread_mutex_unlock(&gate_mu);
    close(fd);
}

/* ---- one server per program number --------------------------------------- */

/* A second rpc_listen of a program that a live server answers is refused
 * (-2, naming the address), and leaves the first one serving and
 * registered.  rpc_served_locally tells a live registration from one a dead
 * process left (its port refuses) or one another program answers. */
static void test_live_registration_kept(void **st)
{
    (void)st;
    if (!have_rpcbind)
        skip();
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    u_short port = pmap_getport(&sin, prog, 1, IPPROTO_TCP);
    assert_int_not_equal(port, 0);
    char err[256] = "", want[64];
    assert_int_equal(rpc_listen(&prog_copy, "127.0.0.1", 0, err, sizeof err), -2);
    snprintf(want, sizeof want, "is already served at 127.0.0.1 port %u", port);
    assert_non_null(strstr(err, want));
    assert_int_equal(pmap_getport(&sin, prog, 1, IPPROTO_TCP), port);
    test_call_returns_result(st);
    char where[64] = "";
    assert_int_equal(rpc_served_locally(prog, 1, where, sizeof where), 1);
    snprintf(want, sizeof want, "127.0.0.1 port %u", port);
    assert_string_equal(where, want);
    assert_int_equal(rpc_served_locally(prog, 2, where, sizeof where), 0);

    /* a registration left by a dead process: its port refuses */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in dead = sin;
    dead.sin_port = 0;
    assert_int_equal(bind(s, (struct sockaddr *)&dead, sizeof dead), 0);
    socklen_t dl = sizeof dead;
    getsockname(s, (struct sockaddr *)&dead, &dl);
    close(s);
    struct netconfig *nc = getnetconfigent("tcp");
    assert_non_null(nc);
    struct netbuf nb = {.maxlen = sizeof dead, .len = sizeof dead, .buf = &dead};
    rpcb_unset(prog + 1, 1, nc);
    assert_true(rpcb_set(prog + 1, 1, nc, &nb));
    assert_int_equal(rpc_served_locally(prog + 1, 1, where, sizeof where), 0);
    rpcb_unset(prog + 1, 1, nc);
    /* a registration whose port another program now answers */
    struct sockaddr_in live = sin;
    live.sin_port = htons(port);
    nb.buf = &live;
    assert_true(rpcb_set(prog + 1, 1, nc, &nb));
    assert_int_equal(rpc_served_locally(prog + 1, 1, where, sizeof where), 0);
    rpcb_unset(prog + 1, 1, nc);
    freenetconfigent(nc);
}

struct waiter {
    CLIENT *c;
    bool_t result;
    enum clnt_stat stat;
};

static void *call_wait(void *arg)
{
    struct waiter *w = arg;
    struct timeval tv = {10, 0};
    w->stat = clnt_call(w->c, 2, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_bool), (char *)&w->result,
                        tv);
    return NULL;
}

/* Procedure 2 blocks until procedure 3 runs: both succeed only if the
 * server runs calls on two connections at the same time. */
static void test_calls_run_concurrently(void **st)
{
    (void)st;
    if (!have_rpcbind)
        skip();
    pthread_mutex_lock(&gate_mu);
    gate_open = 0; /* earlier tests called procedure 3 too */
    pthread_mutex_unlock(&gate_mu);
    struct waiter w = {connect_vers(1), FALSE, RPC_FAILED};
    pthread_t t;
    pthread_create(&t, NULL, call_wait, &w);
    usleep(100 * 1000);
    CLIENT *c = connect_vers(1);
    struct timeval tv = {3, 0};
    assert_int_equal(clnt_call(c, 3, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_SUCCESS);
    pthread_join(t, NULL);
    assert_int_equal(w.stat, RPC_SUCCESS);
    assert_true(w.result);
    clnt_destroy(c);
    clnt_destroy(w.c);
}

/* The front end's lean client: same answers as libtirpc's, one connection
 * for many calls, a call timeout. */
static void test_lean_client(void **st)
{
    (void)st;
    if (!have_rpcbind)
        skip();
    char err[256];
    CLIENT *c = rpcclnt_connect("localhost", prog, 1, 300, err, sizeof err);
    if (!c)
        fail_msg("rpcclnt_connect: %s", err);
    struct timeval tv = {3, 0};
    for (uint32_t i = 0; i < 50; i++) {
        rt_query_args a;
        rt_query_res r;
        memset(&a, 0, sizeof a);
        memset(&r, 0, sizeof r);
        a.q.kind = Q_MOVIE;
        a.q.rt_query_u.movie = 1000 + i;
        assert_int_equal(clnt_call(c, 1, RPC_XDR(xdr_rt_query_args), (char *)&a,
                                   RPC_XDR(xdr_rt_query_res), (char *)&r, tv),
                         RPC_SUCCESS);
        assert_int_equal(r.replica, 1000 + i);
        assert_string_equal(r.detail, "echo");
        clnt_freeres(c, RPC_XDR(xdr_rt_query_res), (char *)&r);
    }
    /* errors the server reports keep the connection usable */
    assert_int_equal(clnt_call(c, 9, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_PROCUNAVAIL);
    assert_int_equal(clnt_call(c, 1, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_CANTDECODEARGS);
    struct rpc_err e;
    clnt_geterr(c, &e);
    assert_int_equal(e.re_status, RPC_CANTDECODEARGS);
    assert_int_equal(clnt_call(c, 3, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv),
                     RPC_SUCCESS);
    /* procedure 2 waits for a gate that stays closed: the 300 ms timeout */
    pthread_mutex_lock(&gate_mu);
    gate_open = 0;
    pthread_mutex_unlock(&gate_mu);
    bool_t res = FALSE;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(clnt_call(c, 2, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_bool), (char *)&res,
                               tv),
                     RPC_TIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 250 && ms < 2000);
    clnt_destroy(c);
    /* a program nobody registered */
    assert_null(rpcclnt_connect("localhost", prog + 1, 1, 300, err, sizeof err));
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_returns_result),
        cmocka_unit_test(test_rpc_errors),
        cmocka_unit_test(test_hostile_records),
        cmocka_unit_test(test_calls_run_concurrently),
        cmocka_unit_test(test_lean_client),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_live_registration_kept),
    };
    return cmocka_run_group_tests_name("rpcsrv", tests, setup, teardown);
}
