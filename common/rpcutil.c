/* rpcutil.c -- table-driven dispatch, listening, rpcbind, connecting. */
#include "rpcutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rpc/rpc_com.h>
#include <rpc/rpcb_clnt.h>

#include "log.h"

/* svc_reg's callback has no context pointer; a process serves one program. */
static const struct rpc_program *served;
static struct netconfig *served_nconf;

static void rpc_dispatch(struct svc_req *rq, SVCXPRT *xprt)
{
    const struct rpc_program *p = served;
    if (rq->rq_proc >= p->nprocs || !p->procs[rq->rq_proc].fn) {
        svcerr_noproc(xprt);
        return;
    }
    const struct rpc_proc *proc = &p->procs[rq->rq_proc];
    /* Arguments and results of every procedure fit in 1 KiB of fixed
     * part; the variable parts are heap memory owned by XDR. */
    union { char c[1024]; long double align; } argbuf, resbuf;
    if (proc->arg_size > sizeof argbuf || proc->res_size > sizeof resbuf) {
        svcerr_systemerr(xprt);
        return;
    }
    memset(&argbuf, 0, sizeof argbuf);
    memset(&resbuf, 0, sizeof resbuf);
    if (!svc_getargs(xprt, proc->xdr_arg, (caddr_t)&argbuf)) {
        svc_freeargs(xprt, proc->xdr_arg, (caddr_t)&argbuf);
        svcerr_decode(xprt);
        return;
    }
    bool_t ok = proc->fn(&argbuf, &resbuf, rq);
    if (ok && !svc_sendreply(xprt, proc->xdr_res, (caddr_t)&resbuf))
        svcerr_systemerr(xprt);
    if (!ok)
        svcerr_systemerr(xprt);
    xdr_free(proc->xdr_res, (caddr_t)&resbuf);
    svc_freeargs(xprt, proc->xdr_arg, (caddr_t)&argbuf);
}

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
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int rpc_listen(const struct rpc_program *p, const char *addr, int port, char *err, size_t errlen)
{
    int maxrec = RPC_MAX_RECORD;
    /* Non-blocking connections with bounded records: a client that sends
     * a huge length prefix or trickles bytes cannot stall the server. */
    rpc_control(RPC_SVC_CONNMAXREC_SET, &maxrec);
    int fd = bind_socket(addr, port, err, errlen);
    if (fd < 0)
        return -1;
    int v6 = 0;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        v6 = ss.ss_family == AF_INET6;
    served_nconf = getnetconfigent(v6 ? "tcp6" : "tcp");
    SVCXPRT *xprt = svc_vc_create(fd, 0, 0);
    if (!served_nconf || !xprt) {
        snprintf(err, errlen, "cannot create RPC transport");
        close(fd);
        return -1;
    }
    served = p;
    /* A registration left by a crashed predecessor would hide ours. */
    rpcb_unset(p->prog, p->vers, served_nconf);
    if (!svc_reg(xprt, p->prog, p->vers, rpc_dispatch, NULL) ||
        !rpcb_set(p->prog, p->vers, served_nconf, &xprt->xp_ltaddr)) {
        snprintf(err, errlen, "cannot register program %#x version %u with rpcbind (is rpcbind running?)",
                 p->prog, p->vers);
        return -1;
    }
    char host[INET6_ADDRSTRLEN] = "?";
    int lport = 0;
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        lport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
        lport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    log_info("%s: registered program %#x version %u with rpcbind, tcp %s port %d", p->name,
             p->prog, p->vers, host, lport);
    return 0;
}

void rpc_unlisten(void)
{
    if (!served)
        return;
    rpcb_unset(served->prog, served->vers, served_nconf);
    log_info("%s: unregistered program %#x from rpcbind", served->name, served->prog);
    served = NULL;
}

void rpc_serve(volatile int *stop, int timeout_ms, void (*tick)(void *), void *arg)
{
    while (!*stop) {
        int n = svc_max_pollfd;
        struct pollfd *fds = calloc((size_t)(n > 0 ? n : 1), sizeof *fds);
        if (!fds)
            break;
        memcpy(fds, svc_pollfd, (size_t)n * sizeof *fds);
        int rc = poll(fds, (nfds_t)n, timeout_ms);
        if (rc > 0)
            svc_getreq_poll(fds, rc);
        free(fds);
        if (rc < 0 && errno != EINTR)
            break;
        if (tick)
            tick(arg);
    }
}

CLIENT *rpc_connect(const char *host, uint32_t prog, uint32_t vers, int timeout_ms, char *err,
                    size_t errlen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    CLIENT *c = clnt_create_timed(host, prog, vers, "tcp", &tv);
    if (!c) {
        snprintf(err, errlen, "%s", clnt_spcreateerror(host));
        size_t len = strlen(err);
        while (len && (err[len - 1] == '\n' || err[len - 1] == ' '))
            err[--len] = '\0';
        return NULL;
    }
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    return c;
}

int rpc_parse_prog(const char *s, uint32_t *prog)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || end == s || *end || v == 0 || v > 0xffffffffUL)
        return -1;
    *prog = (uint32_t)v;
    return 0;
}
