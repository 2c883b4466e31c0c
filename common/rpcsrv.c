/*
 * rpcsrv.c -- the server half of rpcutil.h: an ONC RPC server over TCP
 * with one thread per connection.
 *
 * Why not libtirpc's svc_run: it keeps its transports in global state and
 * is not safe to call from several threads, and it replies only when the
 * dispatch function returns, so one slow request (a front end waiting on
 * a replica, a replica waiting on fsync) holds up every client.  Here
 * libtirpc does what it is good at -- XDR of the call header, arguments,
 * results and reply header -- and the loop is ours: record marking
 * (RFC 5531 section 11), a bound on the record size, the credentials a
 * call may carry (AUTH_NONE and AUTH_SYS; AUTH_ERROR for the others, see
 * check_credentials), and a thread per connection so requests on
 * different connections run at once.
 *
 * A program that is not thread-safe sets `concurrent = false`; its
 * handlers are then called one at a time (connections are still served
 * by their own threads, so a slow client cannot stall the others while
 * it sends or receives).
 */
#include "rpcutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rpc/auth_unix.h>
#include <rpc/rpcb_clnt.h>

#include "clock.h"
#include "log.h"
#include "recmark.h"

#define RPC_MAX_CONNS 1024
#define POLL_MS 250 /* how often idle threads look at the stop flag */

static struct {
    const struct rpc_program *prog;
    struct netconfig *nconf;
    struct sockaddr_storage addr; /* what we registered */
    socklen_t addrlen;
    time_t last_check;
    int listen_fd;
    volatile int *stop;
    pthread_mutex_t serial; /* for programs that are not concurrent */
    pthread_mutex_t mu;     /* guards nconns */
    pthread_cond_t idle;
    int nconns;
} srv = {.listen_fd = -1,
         .serial = PTHREAD_MUTEX_INITIALIZER,
         .mu = PTHREAD_MUTEX_INITIALIZER,
         .idle = PTHREAD_COND_INITIALIZER};

/* ---- listening and rpcbind ---------------------------------------- */

static int bind_socket(const char *addr, int port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(addr, portstr, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "cannot resolve listen address %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 256) < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static void describe(const struct sockaddr_storage *ss, char *host, size_t hostlen, int *port)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, (socklen_t)hostlen);
        *port = ntohs(a->sin6_port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, (socklen_t)hostlen);
        *port = ntohs(a->sin_port);
    }
}

/*
 * Register p at nb.  rpcbind refuses a second registration of one
 * program, version and netid, so when rpcb_set fails the program is taken:
 * by a live server (a second copy of this one, or another program given
 * the same number), which we must not hide -- -2; or by a process that
 * died without unregistering (kill -9, a crash), whose registration would
 * hide ours -- replaced.  Asking first and setting after would let two
 * servers starting at once both register; this way only one rpcb_set of
 * a free number succeeds.
 */
static int claim_registration(const struct rpc_program *p, struct netconfig *nc, struct netbuf *nb,
                              char *err, size_t errlen)
{
    if (rpcb_set(p->prog, p->vers, nc, nb))
        return 0;
    char where[INET6_ADDRSTRLEN + 16];
    if (rpc_served_locally(p->prog, p->vers, where, sizeof where)) {
        snprintf(err, errlen, "program %#x version %u is already served at %s", p->prog,
                 p->vers, where);
        return -2;
    }
    rpcb_unset(p->prog, p->vers, nc);
    if (!rpcb_set(p->prog, p->vers, nc, nb)) {
        snprintf(err, errlen,
                 "cannot register program %#x version %u with rpcbind (is rpcbind running?)",
                 p->prog, p->vers);
        return -1;
    }
    log_warn("%s: replaced a registration of program %#x that no server answers (left by a "
             "process that died?)",
             p->name, p->prog);
    return 0;
}

int rpc_listen(const struct rpc_program *p, const char *addr, int port, char *err, size_t errlen)
{
    int fd = bind_socket(addr, port, err, errlen);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    /* srv is set only on success: a refused second listen leaves a first
     * one as it was. */
    struct netconfig *nc = getnetconfigent(ss.ss_family == AF_INET6 ? "tcp6" : "tcp");
    if (!nc) {
        snprintf(err, errlen, "no netconfig entry for tcp (is /etc/netconfig installed?)");
        close(fd);
        return -1;
    }
    struct netbuf nb = {.maxlen = sl, .len = sl, .buf = &ss};
    int rc = claim_registration(p, nc, &nb, err, errlen);
    if (rc < 0) {
        freenetconfigent(nc);
        close(fd);
        return rc;
    }
    srv.nconf = nc;
    srv.prog = p;
    srv.listen_fd = fd;
    srv.addr = ss;
    srv.addrlen = sl;
    char host[INET6_ADDRSTRLEN] = "?";
    int lport = 0;
    describe(&ss, host, sizeof host, &lport);
    log_info("%s: registered program %#x version %u with rpcbind, tcp %s port %d", p->name,
             p->prog, p->vers, host, lport);
    return 0;
}

void rpc_unlisten(void)
{
    if (!srv.prog)
        return;
    rpcb_unset(srv.prog->prog, srv.prog->vers, srv.nconf);
    log_info("%s: unregistered program %#x from rpcbind", srv.prog->name, srv.prog->prog);
    if (srv.listen_fd >= 0)
        close(srv.listen_fd);
    srv.listen_fd = -1;
    freenetconfigent(srv.nconf);
    srv.nconf = NULL;
    srv.prog = NULL;
}

/* rpcbind keeps registrations in memory: when it restarts without its
 * state file they are gone and nobody can find us.  Every few seconds ask
 * the local rpcbind for our program (rpcb_set alone cannot tell: it also
 * succeeds for an entry that is there) and register again if it is
 * missing.  A silent rpcbind is left alone (it may be restarting). */
static void keep_registered(void)
{
    time_t now = time(NULL);
    if (!srv.prog || now - srv.last_check < 3)
        return;
    srv.last_check = now;
    /* Not rpcb_getaddr(): it goes through libtirpc's rpcbind address cache,
     * which double-frees when the cached rpcbind is gone (rpcutil.c). */
    struct netconfig *nc = NULL;
    struct netbuf *got = NULL;
    if (rpc_lookup("localhost", srv.nconf->nc_netid, srv.prog->prog, srv.prog->vers, 2000, &nc,
                   &got) == 0) {
        free(got->buf);
        free(got);
        freenetconfigent(nc);
        return;
    }
    if (rpc_createerr.cf_stat != RPC_PROGNOTREGISTERED && rpc_createerr.cf_stat != RPC_PROGUNAVAIL)
        return;
    struct netbuf nb = {.maxlen = srv.addrlen, .len = srv.addrlen, .buf = &srv.addr};
    if (rpcb_set(srv.prog->prog, srv.prog->vers, srv.nconf, &nb))
        log_warn("%s: registration with rpcbind was gone (rpcbind restarted?): registered again",
                 srv.prog->name);
}

/* ---- a connection: records in, replies out --------------------------- */

/*
 * Each connection has an input buffer and a reply buffer, kept for its
 * lifetime, so the usual call costs one recv() and one send() and no
 * allocation.  (Reading the record mark and the body with a poll() before
 * each, and a malloc() and an xdr_sizeof() pass per reply, made the server
 * side of a null call 5 system calls instead of 2.)  A connection reads
 * ahead whatever has arrived; several calls in one segment are served in
 * order.  The receive timeout (SO_RCVTIMEO) is what lets an idle
 * connection look at the stop flag every POLL_MS.
 */
struct conn {
    int fd;
    rec_in_t in;     /* received bytes (recmark.h) */
    char *out;       /* the reply being encoded, after 4 bytes for its mark */
    size_t out_cap;
};

#define CONN_BUF 4096

/* Receive what has arrived (at least a byte).  -1 when the peer closed, on
 * an error, or when the server stops. */
static int recv_more(void *ctx, rec_in_t *b)
{
    struct conn *c = ctx;
    for (;;) {
        if (*srv.stop)
            return -1;
        ssize_t n = recv(c->fd, b->buf + b->end, b->cap - b->end, 0);
        if (n > 0) {
            b->end += (size_t)n;
            return 0;
        }
        if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return -1;
    }
}

/* ---- calls and replies --------------------------------------------- */

/* Encode reply (with results from proc/where, if accepted with SUCCESS)
 * as one record and send it.  The reply buffer grows once to the size
 * xdr_sizeof gives when the results do not fit. */
static int send_reply(struct conn *c, struct rpc_msg *reply, xdrproc_t proc, void *where)
{
    for (int pass = 0; pass < 2; pass++) {
        XDR x;
        xdrmem_create(&x, c->out + 4, (u_int)(c->out_cap - 4), XDR_ENCODE);
        bool ok = xdr_replymsg(&x, reply);
        uint32_t len = xdr_getpos(&x);
        xdr_destroy(&x);
        if (ok) {
            uint32_t mark = htonl(0x80000000U | len);
            memcpy(c->out, &mark, 4);
            return rec_send_all(c->fd, c->out, 4 + len);
        }
        size_t need = 4 + 64 + MAX_AUTH_BYTES + (proc ? xdr_sizeof(proc, where) : 0);
        if (pass > 0 || need <= c->out_cap)
            break; /* it fits and still does not encode: bad results */
        char *nb = realloc(c->out, need);
        if (!nb)
            break;
        c->out = nb;
        c->out_cap = need;
    }
    return -1;
}

/* A reply's header: to call xid, accepted or denied. */
static struct rpc_msg reply_to(uint32_t xid, enum reply_stat stat)
{
    struct rpc_msg r;
    memset(&r, 0, sizeof r);
    r.rm_xid = xid;
    r.rm_direction = REPLY;
    r.rm_reply.rp_stat = stat;
    return r;
}

static int reply_accepted(struct conn *c, uint32_t xid, enum accept_stat stat, uint32_t vers)
{
    struct rpc_msg r = reply_to(xid, MSG_ACCEPTED);
    r.acpted_rply.ar_verf = _null_auth;
    r.acpted_rply.ar_stat = stat;
    if (stat == PROG_MISMATCH)
        r.acpted_rply.ar_vers.low = r.acpted_rply.ar_vers.high = vers;
    if (stat == SUCCESS) {
        r.acpted_rply.ar_results.where = NULL;
        r.acpted_rply.ar_results.proc = RPC_XDR(xdr_void);
    }
    return send_reply(c, &r, NULL, NULL);
}

static int reply_rpc_mismatch(struct conn *c, uint32_t xid)
{
    struct rpc_msg r = reply_to(xid, MSG_DENIED);
    r.rjcted_rply.rj_stat = RPC_MISMATCH;
    r.rjcted_rply.rj_vers.low = r.rjcted_rply.rj_vers.high = 2;
    return send_reply(c, &r, NULL, NULL);
}

static int reply_auth_error(struct conn *c, uint32_t xid, enum auth_stat why)
{
    struct rpc_msg r = reply_to(xid, MSG_DENIED);
    r.rjcted_rply.rj_stat = AUTH_ERROR;
    r.rjcted_rply.rj_why = why;
    return send_reply(c, &r, NULL, NULL);
}

/*
 * The credentials a call may carry (RFC 5531 sections 8 to 10; the choice
 * is explained in docs/security.md).  Neither server decides anything by
 * who a caller says it is, so it takes the two flavors that claim nothing
 * it would have to check: AUTH_NONE, and AUTH_SYS (what rpcinfo and
 * rpcgen/libtirpc clients send), whose body must still decode as an
 * authsys_parms (AUTH_BADCRED otherwise, as libtirpc's _svcauth_unix
 * answers).  With either, the call's verifier is AUTH_NONE (RFC 5531
 * section 10.1 and appendix A): any other is AUTH_BADVERF.  Every other
 * flavor (AUTH_SHORT, AUTH_DH, RPCSEC_GSS, unknown numbers) asks for a
 * check this server cannot make, and is refused with AUTH_REJECTEDCRED, as
 * libtirpc's _authenticate refuses a flavor it has no handler for --
 * rather than served as if it had been checked.
 */
static enum auth_stat check_credentials(const struct rpc_msg *call)
{
    const struct opaque_auth *cred = &call->rm_call.cb_cred;
    switch (cred->oa_flavor) {
    case AUTH_NONE:
        break;
    case AUTH_SYS: {
        struct authunix_parms aup;
        memset(&aup, 0, sizeof aup);
        XDR x;
        xdrmem_create(&x, cred->oa_base, cred->oa_length, XDR_DECODE);
        bool_t ok = xdr_authunix_parms(&x, &aup);
        xdr_destroy(&x);
        xdr_free(RPC_XDR(xdr_authunix_parms), (char *)&aup);
        if (!ok)
            return AUTH_BADCRED;
        break;
    }
    default:
        return AUTH_REJECTEDCRED;
    }
    return call->rm_call.cb_verf.oa_flavor == AUTH_NONE ? AUTH_OK : AUTH_BADVERF;
}

/* Decode the arguments that follow the call header in x, run the
 * handler, send its results. */
static int call_procedure(struct conn *c, XDR *x, const struct rpc_msg *call)
{
    const struct rpc_program *p = srv.prog;
    const struct rpc_proc *proc = &p->procs[call->rm_call.cb_proc];
    union { char c[1024]; long double align; } argbuf, resbuf;
    if (proc->arg_size > sizeof argbuf || proc->res_size > sizeof resbuf)
        return reply_accepted(c, call->rm_xid, SYSTEM_ERR, 0);
    memset(&argbuf, 0, proc->arg_size);
    memset(&resbuf, 0, proc->res_size);
    if (!proc->xdr_arg(x, &argbuf, 0)) {
        xdr_free(proc->xdr_arg, (char *)&argbuf);
        return reply_accepted(c, call->rm_xid, GARBAGE_ARGS, 0);
    }
    struct svc_req rq;
    memset(&rq, 0, sizeof rq);
    rq.rq_prog = call->rm_call.cb_prog;
    rq.rq_vers = call->rm_call.cb_vers;
    rq.rq_proc = call->rm_call.cb_proc;
    if (!p->concurrent)
        pthread_mutex_lock(&srv.serial);
    bool_t ok = proc->fn(&argbuf, &resbuf, &rq);
    if (!p->concurrent)
        pthread_mutex_unlock(&srv.serial);
    int rc;
    if (ok) {
        struct rpc_msg r = reply_to(call->rm_xid, MSG_ACCEPTED);
        r.acpted_rply.ar_verf = _null_auth;
        r.acpted_rply.ar_stat = SUCCESS;
        r.acpted_rply.ar_results.where = (caddr_t)&resbuf;
        r.acpted_rply.ar_results.proc = proc->xdr_res;
        rc = send_reply(c, &r, proc->xdr_res, &resbuf);
        xdr_free(proc->xdr_res, (char *)&resbuf);
    } else {
        rc = reply_accepted(c, call->rm_xid, SYSTEM_ERR, 0);
    }
    xdr_free(proc->xdr_arg, (char *)&argbuf);
    return rc;
}

/* Handle one record.  -1 closes the connection (not even a call header). */
static int handle_record(struct conn *c, char *buf, size_t len)
{
    char cred[MAX_AUTH_BYTES], verf[MAX_AUTH_BYTES];
    struct rpc_msg call;
    memset(&call, 0, sizeof call);
    call.rm_call.cb_cred.oa_base = cred;
    call.rm_call.cb_verf.oa_base = verf;
    XDR x;
    xdrmem_create(&x, buf, (u_int)len, XDR_DECODE);
    int rc;
    enum auth_stat why;
    if (!xdr_callmsg(&x, &call) || call.rm_direction != CALL)
        rc = -1;
    else if (call.rm_call.cb_rpcvers != 2)
        rc = reply_rpc_mismatch(c, call.rm_xid);
    else if ((why = check_credentials(&call)) != AUTH_OK)
        rc = reply_auth_error(c, call.rm_xid, why); /* before the program: as libtirpc */
    else if (call.rm_call.cb_prog != srv.prog->prog)
        rc = reply_accepted(c, call.rm_xid, PROG_UNAVAIL, 0);
    else if (call.rm_call.cb_vers != srv.prog->vers)
        rc = reply_accepted(c, call.rm_xid, PROG_MISMATCH, srv.prog->vers);
    else if (call.rm_call.cb_proc >= srv.prog->nprocs || !srv.prog->procs[call.rm_call.cb_proc].fn)
        rc = reply_accepted(c, call.rm_xid, PROC_UNAVAIL, 0);
    else
        rc = call_procedure(c, &x, &call);
    xdr_destroy(&x);
    return rc;
}

static void *connection_main(void *arg)
{
    struct conn c = {.fd = (int)(intptr_t)arg, .out_cap = CONN_BUF};
    struct timeval tv = {0, POLL_MS * 1000};
    int ok = rec_in_init(&c.in, CONN_BUF) == 0;
    c.out = malloc(c.out_cap);
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char *rec;
    ssize_t len;
    while (ok && c.out && (len = rec_next(&c.in, RPC_MAX_RECORD, recv_more, &c, &rec)) >= 0)
        if (handle_record(&c, rec, (size_t)len) < 0)
            break;
    rec_in_free(&c.in);
    free(c.out);
    close(c.fd);
    pthread_mutex_lock(&srv.mu);
    if (--srv.nconns == 0)
        pthread_cond_broadcast(&srv.idle);
    pthread_mutex_unlock(&srv.mu);
    return NULL;
}

static void start_connection(int fd)
{
    pthread_mutex_lock(&srv.mu);
    bool full = srv.nconns >= RPC_MAX_CONNS;
    if (!full)
        srv.nconns++;
    pthread_mutex_unlock(&srv.mu);
    if (full) {
        log_warn("%s: %d connections open, refusing another", srv.prog->name, RPC_MAX_CONNS);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&t, &attr, connection_main, (void *)(intptr_t)fd) != 0) {
        close(fd);
        pthread_mutex_lock(&srv.mu);
        srv.nconns--;
        pthread_mutex_unlock(&srv.mu);
    }
    pthread_attr_destroy(&attr);
}

/* Wait for connection threads to finish their calls, at most 5 s. */
static void drain_connections(void)
{
    struct timespec until = clock_deadline_ms(5000);
    pthread_mutex_lock(&srv.mu);
    while (srv.nconns > 0)
        if (clock_cond_wait(&srv.idle, &srv.mu, &until) != 0)
            break;
    pthread_mutex_unlock(&srv.mu);
}

void rpc_serve(volatile int *stop, int timeout_ms, void (*tick)(void *), void *arg)
{
    srv.stop = stop;
    struct pollfd pfd = {.fd = srv.listen_fd, .events = POLLIN};
    while (!*stop) {
        int rc = poll(&pfd, 1, timeout_ms < POLL_MS ? timeout_ms : POLL_MS);
        if (rc > 0) {
            int fd = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                start_connection(fd);
        } else if (rc < 0 && errno != EINTR) {
            log_error("poll on the listening socket: %s", strerror(errno));
            break;
        }
        keep_registered();
        if (tick)
            tick(arg);
    }
    drain_connections();
}
