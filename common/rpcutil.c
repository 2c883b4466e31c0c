/* rpcutil.c -- the client half of rpcutil.h: connecting, program numbers.
 * The server half is rpcsrv.c. */
#include "rpcutil.h"

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
