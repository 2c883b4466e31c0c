/* rpcutil.c -- the client half of rpcutil.h: connecting, program numbers.
 * The server half is rpcsrv.c. */
#include "rpcutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc/rpcb_prot.h>

/*
 * Why not clnt_create_timed(host, ...): libtirpc 1.3.3 (Debian 12) caches
 * the address of each host's rpcbind, and when a cached rpcbind no longer
 * accepts connections (rpcbind restarted, the host down) its delete_cache()
 * frees the entry's address string twice and the process aborts ("free():
 * double free detected").  Fixed upstream in libtirpc 1.3.4 ("rpcb_clnt.c:
 * Eliminate double frees in delete_cache()", Red Hat bug 2224666).  So
 * libtirpc never sees a host name here: we resolve it ourselves, ask that
 * host's rpcbind for the program (GETADDR, rpcbind version 4, then 3) over
 * a connection of our own, and connect to the address it names.  Failures
 * leave rpc_createerr set as clnt_create would.
 */
int rpc_lookup(const char *host, const char *netid, uint32_t prog, uint32_t vers, int timeout_ms,
               struct netconfig **nconfp, struct netbuf **addrp)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    bool v6 = strcmp(netid, "tcp6") == 0;
    struct addrinfo hints = {.ai_family = v6 ? AF_INET6 : AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res, *a;
    if (getaddrinfo(host, "111", &hints, &res) != 0) {
        rpc_createerr.cf_stat = RPC_UNKNOWNHOST;
        return -1;
    }
    int rc = -1;
    for (a = res; a && rc < 0; a = a->ai_next) {
        struct netconfig *nconf = getnetconfigent(netid);
        if (!nconf) {
            rpc_createerr.cf_stat = RPC_UNKNOWNPROTO;
            continue;
        }
        struct netbuf rb_addr = {.maxlen = a->ai_addrlen, .len = a->ai_addrlen, .buf = a->ai_addr};
        CLIENT *rb = clnt_tli_create(RPC_ANYFD, nconf, &rb_addr, RPCBPROG, RPCBVERS4, 0, 0);
        if (!rb) { /* rpc_createerr says why */
            freenetconfigent(nconf);
            continue;
        }
        RPCB parms = {.r_prog = prog, .r_vers = vers, .r_netid = nconf->nc_netid,
                      .r_addr = "", .r_owner = "ratingd"};
        char *ua = NULL;
        enum clnt_stat st = RPC_PROGVERSMISMATCH;
        for (rpcvers_t v = RPCBVERS4; v >= RPCBVERS && st == RPC_PROGVERSMISMATCH; v--) {
            clnt_control(rb, CLSET_VERS, (char *)&v);
            st = clnt_call(rb, RPCBPROC_GETADDR, (xdrproc_t)xdr_rpcb, (char *)&parms,
                           (xdrproc_t)xdr_wrapstring, (char *)&ua, tv);
        }
        if (st != RPC_SUCCESS) {
            rpc_createerr.cf_stat = st; /* what clnt_create reports too */
            clnt_geterr(rb, &rpc_createerr.cf_error);
        } else if (!ua || !*ua) {
            rpc_createerr.cf_stat = RPC_PROGNOTREGISTERED;
            a = NULL; /* the host answered: no other address of it will know more */
        } else if (!(*addrp = uaddr2taddr(nconf, ua))) {
            rpc_createerr.cf_stat = RPC_N2AXLATEFAILURE;
        } else {
            *nconfp = nconf;
            nconf = NULL;
            rc = 0;
        }
        if (ua)
            xdr_free((xdrproc_t)xdr_wrapstring, (char *)&ua);
        clnt_destroy(rb);
        if (nconf)
            freenetconfigent(nconf);
        if (!a)
            break;
    }
    freeaddrinfo(res);
    return rc;
}

CLIENT *rpc_connect(const char *host, uint32_t prog, uint32_t vers, int timeout_ms, char *err,
                    size_t errlen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    struct netconfig *nconf = NULL;
    struct netbuf *addr = NULL;
    CLIENT *c = NULL;
    if (rpc_lookup(host, "tcp", prog, vers, timeout_ms, &nconf, &addr) == 0) {
        c = clnt_tli_create(RPC_ANYFD, nconf, addr, prog, vers, 0, 0);
        free(addr->buf);
        free(addr);
        freenetconfigent(nconf);
    }
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

/* "127.0.0.1 port 40001" for a TCP address. */
static void describe_addr(const struct netbuf *nb, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    const struct sockaddr *sa = nb->buf;
    if (sa->sa_family == AF_INET6 && nb->len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = nb->buf;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    } else if (sa->sa_family == AF_INET && nb->len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *a = nb->buf;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    }
    snprintf(out, outlen, "%s port %d", host, port);
}

/* A NULL call to prog/vers at addr succeeds within RPC_PROBE_MS.  Only
 * SUCCESS counts: a refused connection is a dead process's port, and
 * PROG_UNAVAIL or PROG_MISMATCH another program that got the port since. */
static bool answers_null(struct netconfig *nc, struct netbuf *addr, uint32_t prog, uint32_t vers)
{
    CLIENT *c = clnt_tli_create(RPC_ANYFD, nc, addr, prog, vers, 0, 0);
    if (!c)
        return false;
    struct timeval tv = {RPC_PROBE_MS / 1000, (RPC_PROBE_MS % 1000) * 1000};
    enum clnt_stat st = clnt_call(c, NULLPROC, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void),
                                  NULL, tv);
    clnt_destroy(c);
    return st == RPC_SUCCESS;
}

int rpc_served_locally(uint32_t prog, uint32_t vers, char *where, size_t wherelen)
{
    static const char *const netids[] = {"tcp", "tcp6"};
    /* rpc_lookup reports through rpc_createerr; a probe is no error. */
    enum clnt_stat saved_stat = rpc_createerr.cf_stat;
    struct rpc_err saved_err = rpc_createerr.cf_error;
    int live = 0;
    for (size_t i = 0; i < sizeof netids / sizeof netids[0] && !live; i++) {
        struct netconfig *nc = NULL;
        struct netbuf *addr = NULL;
        if (rpc_lookup("localhost", netids[i], prog, vers, RPC_PROBE_MS, &nc, &addr) < 0)
            continue;
        if (answers_null(nc, addr, prog, vers)) {
            live = 1;
            describe_addr(addr, where, wherelen);
        }
        free(addr->buf);
        free(addr);
        freenetconfigent(nc);
    }
    rpc_createerr.cf_stat = saved_stat;
    rpc_createerr.cf_error = saved_err;
    return live;
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
