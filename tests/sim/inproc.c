/*
 * inproc.c -- a CLIENT (libtirpc's client handle) whose calls go to another
 * simulated replica in process: join.c's STATUS and SNAPSHOT calls during a
 * rejoin.  A call encodes its arguments to XDR and decodes them again, runs
 * the target's handler (state_status, snapshot_serve), and encodes and
 * decodes the result into the caller's, as the network would.  The target
 * must be reachable from the caller at the moment of the call: up, not
 * paused, and not cut off by a partition; otherwise the call times out.
 *
 * A transfer runs from its first call to its last without simulated time
 * passing, so the one view that snapshot.c serves at a time is never
 * contended.  An anti-entropy round (repair.h) goes the same way: its
 * calls run the target's repair_serve, through XDR, one after another.
 */
#include <stdlib.h>
#include <string.h>

#include "repair.h"
#include "sim.h"
#include "snapshot.h"
#include "wire.h"

struct inproc {
    sim_t *s;
    uint32_t from, target;
    struct rpc_err err;
};

static bool reachable(const struct inproc *ip)
{
    return node_serving(ip->s, ip->target) && net_reachable(ip->s, ip->from, ip->target);
}

/* Run the target's procedure on the request's bytes; the reply's bytes. */
static char *serve(struct inproc *ip, rpcproc_t proc, const char *in, size_t inlen,
                   size_t *outlen)
{
    state_t *st = ip->s->node[ip->target].st;
    char *out = NULL;
    if (proc == RP_STATUS) {
        rt_status_res res;
        memset(&res, 0, sizeof res);
        state_status(st, &res);
        out = wire_encode((xdrproc_t)xdr_rt_status_res, &res, outlen);
        xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&res);
    } else if (proc == RP_SNAPSHOT) {
        rt_snap_args a;
        rt_snap_res res;
        memset(&res, 0, sizeof res);
        if (wire_decode((xdrproc_t)xdr_rt_snap_args, in, inlen, &a, sizeof a) < 0)
            return NULL;
        snapshot_serve(st, &a, &res);
        out = wire_encode((xdrproc_t)xdr_rt_snap_res, &res, outlen);
        xdr_free((xdrproc_t)xdr_rt_snap_args, (char *)&a);
        xdr_free((xdrproc_t)xdr_rt_snap_res, (char *)&res);
    }
    return out;
}

static enum clnt_stat ip_call(CLIENT *cl, rpcproc_t proc, xdrproc_t xargs, void *args,
                              xdrproc_t xres, void *res, struct timeval tv)
{
    struct inproc *ip = cl->cl_private;
    size_t inlen = 0, outlen = 0;
    (void)tv;
    memset(&ip->err, 0, sizeof ip->err);
    if (!reachable(ip))
        return ip->err.re_status = RPC_TIMEDOUT;
    if (proc != RP_STATUS && proc != RP_SNAPSHOT)
        return ip->err.re_status = RPC_PROCUNAVAIL;
    char *in = wire_encode(xargs, args, &inlen);
    char *out = in ? serve(ip, proc, in, inlen, &outlen) : NULL;
    free(in);
    if (!out)
        return ip->err.re_status = RPC_CANTENCODEARGS;
    /* the caller zeroed res, as rpcgen's stubs expect */
    XDR x;
    xdrmem_create(&x, out, (u_int)outlen, XDR_DECODE);
    bool_t ok = xres(&x, res, 0);
    xdr_destroy(&x);
    free(out);
    return ip->err.re_status = ok ? RPC_SUCCESS : RPC_CANTDECODERES;
}

static void ip_abort(CLIENT *cl) { (void)cl; }

static void ip_geterr(CLIENT *cl, struct rpc_err *e) { *e = ((struct inproc *)cl->cl_private)->err; }

static bool_t ip_freeres(CLIENT *cl, xdrproc_t proc, void *res)
{
    (void)cl;
    xdr_free(proc, res);
    return TRUE;
}

static void ip_destroy(CLIENT *cl)
{
    free(cl->cl_private);
    free(cl);
}

static bool_t ip_control(CLIENT *cl, u_int req, void *info)
{
    (void)cl, (void)req, (void)info;
    return FALSE;
}

static struct clnt_ops ip_ops = {ip_call, ip_abort, ip_geterr, ip_freeres, ip_destroy, ip_control};

CLIENT *inproc_connect(void *ctx, uint32_t k, int timeout_ms, char *err, size_t errlen)
{
    struct inproc_ctx *c = ctx;
    (void)timeout_ms;
    struct inproc probe = {c->s, c->from, k, {0}};
    if (k >= c->s->n || !reachable(&probe)) {
        snprintf(err, errlen, "replica %u is not reachable", k);
        return NULL;
    }
    CLIENT *cl = calloc(1, sizeof *cl);
    struct inproc *ip = malloc(sizeof *ip);
    if (!cl || !ip) {
        free(cl);
        free(ip);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *ip = probe;
    cl->cl_ops = &ip_ops;
    cl->cl_private = ip;
    return cl;
}

int inproc_repair(void *ctx, rt_repair_args *args, rt_repair_res *res)
{
    const struct inproc_ctx *c = ctx;
    struct inproc ip = {c->s, c->from, c->target, {0}};
    size_t inlen, outlen;
    rt_repair_args a;
    rt_repair_res r;
    if (!reachable(&ip))
        return -1;
    char *in = wire_encode((xdrproc_t)xdr_rt_repair_args, args, &inlen);
    if (!in || wire_decode((xdrproc_t)xdr_rt_repair_args, in, inlen, &a, sizeof a) < 0) {
        free(in);
        return -1;
    }
    free(in);
    memset(&r, 0, sizeof r);
    repair_serve(c->s->node[c->target].st, &a, &r);
    char *out = wire_encode((xdrproc_t)xdr_rt_repair_res, &r, &outlen);
    xdr_free((xdrproc_t)xdr_rt_repair_args, (char *)&a);
    xdr_free((xdrproc_t)xdr_rt_repair_res, (char *)&r);
    int rc = out && wire_decode((xdrproc_t)xdr_rt_repair_res, out, outlen, res, sizeof *res) == 0
                 ? 0
                 : -1;
    free(out);
    return rc;
}
