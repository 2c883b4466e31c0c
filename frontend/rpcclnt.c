/* rpcclnt.c -- lean ONC RPC calls over TCP for the front end (rpcclnt.h). */
#include "rpcclnt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "recmark.h"
#include "rpcutil.h"

#define BUF_INIT 4096
/* A reply larger than this is refused (as rpcsrv refuses such calls). */
#define MAX_REPLY RPC_MAX_RECORD

struct conn {
    int fd;
    uint32_t prog, vers, xid;
    struct timeval timeout;
    struct rpc_err err;        /* of the last call */
    char *out;                 /* the call being sent, after 4 bytes of mark */
    size_t out_cap;
    rec_in_t in;               /* received bytes (recmark.h) */
    uint64_t deadline;         /* of the call in progress */
};

static uint64_t timeout_ms(const struct conn *c)
{
    return (uint64_t)c->timeout.tv_sec * 1000 + (uint64_t)c->timeout.tv_usec / 1000;
}

static enum clnt_stat failed(struct conn *c, enum clnt_stat st, int err)
{
    c->err.re_status = st;
    c->err.re_errno = err;
    return st;
}

/* ---- the call ---------------------------------------------------------- */

/* Encode the call header and arguments after the mark; grow the buffer
 * once (to what xdr_sizeof says) if they do not fit.  Length, or 0. */
static size_t encode_call(struct conn *c, rpcproc_t proc, xdrproc_t xargs, void *args)
{
    struct rpc_msg call;
    memset(&call, 0, sizeof call);
    call.rm_xid = c->xid;
    call.rm_direction = CALL;
    call.rm_call.cb_rpcvers = RPC_MSG_VERSION;
    call.rm_call.cb_prog = c->prog;
    call.rm_call.cb_vers = c->vers;
    call.rm_call.cb_proc = proc;
    call.rm_call.cb_cred = _null_auth;
    call.rm_call.cb_verf = _null_auth;
    for (int pass = 0; pass < 2; pass++) {
        XDR x;
        xdrmem_create(&x, c->out + 4, (u_int)(c->out_cap - 4), XDR_ENCODE);
        bool ok = xdr_callmsg(&x, &call) && xargs(&x, args);
        size_t len = xdr_getpos(&x);
        xdr_destroy(&x);
        if (ok)
            return len;
        size_t need = 4 + 128 + 2 * MAX_AUTH_BYTES + xdr_sizeof(xargs, args);
        if (pass > 0 || need <= c->out_cap)
            break;
        char *nb = realloc(c->out, need);
        if (!nb)
            break;
        c->out = nb;
        c->out_cap = need;
    }
    return 0;
}

/* recmark's receive function: what has arrived, by the call's deadline.
 * A failure is noted in c->err. */
static int recv_more(void *ctx, rec_in_t *b)
{
    struct conn *c = ctx;
    for (;;) {
        /* SO_RCVTIMEO bounds each wait; the deadline bounds the call */
        ssize_t n = recv(c->fd, b->buf + b->end, b->cap - b->end, 0);
        if (n > 0) {
            b->end += (size_t)n;
            return 0;
        }
        if (n == 0) {
            failed(c, RPC_CANTRECV, ECONNRESET);
            return -1;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (clock_mono_ms() >= c->deadline) {
                failed(c, RPC_TIMEDOUT, 0);
                return -1;
            }
        } else if (errno != EINTR) {
            failed(c, RPC_CANTRECV, errno);
            return -1;
        }
    }
}

/* The next reply record, fragments joined, at *rec (in the buffer). */
static enum clnt_stat next_record(struct conn *c, char **rec, size_t *len)
{
    c->err.re_status = RPC_SUCCESS;
    ssize_t n = rec_next(&c->in, MAX_REPLY, recv_more, c, rec);
    if (n >= 0) {
        *len = (size_t)n;
        return RPC_SUCCESS;
    }
    if (c->err.re_status == RPC_SUCCESS) /* not recv_more's: too long, or no memory */
        failed(c, RPC_CANTRECV, errno);
    return c->err.re_status;
}

/* Decode a reply to our call: header, then results into res. */
static enum clnt_stat decode_reply(struct conn *c, char *rec, size_t len, xdrproc_t xres,
                                   void *res)
{
    struct rpc_msg reply;
    memset(&reply, 0, sizeof reply);
    reply.acpted_rply.ar_verf = _null_auth;
    reply.acpted_rply.ar_results.where = res;
    reply.acpted_rply.ar_results.proc = xres;
    XDR x;
    xdrmem_create(&x, rec, (u_int)len, XDR_DECODE);
    bool ok = xdr_replymsg(&x, &reply);
    if (reply.acpted_rply.ar_verf.oa_base) {
        x.x_op = XDR_FREE;
        xdr_opaque_auth(&x, &reply.acpted_rply.ar_verf);
    }
    xdr_destroy(&x);
    if (!ok)
        return failed(c, RPC_CANTDECODERES, 0);
    _seterr_reply(&reply, &c->err);
    return c->err.re_status;
}

static enum clnt_stat fc_call(CLIENT *cl, rpcproc_t proc, xdrproc_t xargs, void *args,
                              xdrproc_t xres, void *res, struct timeval tv)
{
    struct conn *c = cl->cl_private;
    (void)tv; /* the stubs' 25 s: the connection's timeout rules, as in clnt_vc */
    memset(&c->err, 0, sizeof c->err);
    c->xid++;
    size_t len = encode_call(c, proc, xargs, args);
    if (len == 0)
        return failed(c, RPC_CANTENCODEARGS, 0);
    uint32_t mark = htonl(0x80000000U | (uint32_t)len);
    memcpy(c->out, &mark, 4);
    if (rec_send_all(c->fd, c->out, 4 + len) < 0)
        return failed(c, RPC_CANTSEND, errno);
    c->deadline = clock_mono_ms() + timeout_ms(c);
    for (;;) {
        char *rec;
        size_t rlen;
        enum clnt_stat st = next_record(c, &rec, &rlen);
        if (st != RPC_SUCCESS)
            return st;
        uint32_t xid;
        if (rlen < 4)
            return failed(c, RPC_CANTDECODERES, 0);
        memcpy(&xid, rec, 4);
        if (ntohl(xid) == c->xid) /* else the late reply of an earlier call */
            return decode_reply(c, rec, rlen, xres, res);
    }
}

/* ---- the rest of a CLIENT ------------------------------------------------ */

static void fc_abort(CLIENT *cl) { (void)cl; }

static void fc_geterr(CLIENT *cl, struct rpc_err *err)
{
    *err = ((struct conn *)cl->cl_private)->err;
}

static bool_t fc_freeres(CLIENT *cl, xdrproc_t xres, void *res)
{
    (void)cl;
    xdr_free(xres, res);
    return TRUE;
}

static void fc_destroy(CLIENT *cl)
{
    struct conn *c = cl->cl_private;
    close(c->fd);
    rec_in_free(&c->in);
    free(c->out);
    free(c);
    free(cl);
}

static void set_timeouts(struct conn *c)
{
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &c->timeout, sizeof c->timeout);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &c->timeout, sizeof c->timeout);
}

static bool_t fc_control(CLIENT *cl, u_int req, void *info)
{
    struct conn *c = cl->cl_private;
    switch (req) {
    case CLSET_TIMEOUT:
        c->timeout = *(struct timeval *)info;
        set_timeouts(c);
        return TRUE;
    case CLGET_TIMEOUT:
        *(struct timeval *)info = c->timeout;
        return TRUE;
    case CLGET_FD:
        *(int *)info = c->fd;
        return TRUE;
    case CLGET_XID:
        *(uint32_t *)info = c->xid;
        return TRUE;
    }
    return FALSE;
}

static struct clnt_ops fc_ops = {fc_call, fc_abort, fc_geterr, fc_freeres, fc_destroy,
                                 fc_control};

/* ---- connecting ---------------------------------------------------------- */

/* connect() within timeout_ms; the socket stays blocking afterwards. */
static int connect_timed(int fd, const struct netbuf *addr, int timeout_ms)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    int rc = connect(fd, (const struct sockaddr *)addr->buf, addr->len);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t el = sizeof err;
        rc = poll(&p, 1, timeout_ms);
        if (rc == 0)
            errno = ETIMEDOUT;
        if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err)
            errno = err;
        rc = rc > 0 && err == 0 ? 0 : -1;
    }
    if (rc == 0 && fcntl(fd, F_SETFL, flags) < 0)
        rc = -1;
    return rc;
}

static CLIENT *wrap(int fd, uint32_t prog, uint32_t vers, int timeout_ms)
{
    CLIENT *cl = calloc(1, sizeof *cl);
    struct conn *c = calloc(1, sizeof *c);
    if (c) {
        c->out = malloc(BUF_INIT);
        rec_in_init(&c->in, BUF_INIT);
    }
    if (!cl || !c || !c->out || !c->in.buf) {
        if (c) {
            free(c->out);
            rec_in_free(&c->in);
        }
        free(c);
        free(cl);
        return NULL;
    }
    c->fd = fd;
    c->prog = prog;
    c->vers = vers;
    c->out_cap = BUF_INIT;
    c->timeout.tv_sec = timeout_ms / 1000;
    c->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    while (getrandom(&c->xid, sizeof c->xid, 0) != sizeof c->xid)
        ;
    set_timeouts(c);
    cl->cl_auth = authnone_create();
    cl->cl_ops = &fc_ops;
    cl->cl_private = c;
    return cl;
}

CLIENT *rpcclnt_connect(const char *host, uint32_t prog, uint32_t vers, int timeout_ms,
                        char *err, size_t errlen)
{
    struct netconfig *nconf = NULL;
    struct netbuf *addr = NULL;
    if (rpc_lookup(host, "tcp", prog, vers, timeout_ms, &nconf, &addr) < 0) {
        snprintf(err, errlen, "%s", clnt_spcreateerror(host));
        size_t len = strlen(err);
        while (len && (err[len - 1] == '\n' || err[len - 1] == ' '))
            err[--len] = '\0';
        return NULL;
    }
    freenetconfigent(nconf);
    const struct sockaddr *sa = (const struct sockaddr *)addr->buf;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    CLIENT *cl = NULL;
    if (fd >= 0 && connect_timed(fd, addr, timeout_ms) == 0) {
        /* a call is one send: nothing to gain from Nagle, a delayed ACK to lose */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cl = wrap(fd, prog, vers, timeout_ms);
    }
    if (!cl) {
        snprintf(err, errlen, "%s: RPC: cannot connect: %s", host, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    free(addr->buf);
    free(addr);
    return cl;
}
