/* handlers.c -- RATING_REPLICA procedure table. */
#include "handlers.h"

#include "auth.h"
#include "log.h"
#include "peers.h"
#include "rating.h"
#include "repair.h"
#include "snapshot.h"

static state_t *served_state;

/* Gossip early once half the overload threshold waits for it. */
static void kick_gossip_if_busy(const rt_update_res *res)
{
    if (res->status == RT_OK && state_gossip_due(served_state))
        peers_kick();
}

static bool_t do_null(void *arg, void *res, struct svc_req *rq) { return TRUE; }

static bool_t do_query(void *arg, void *res, struct svc_req *rq)
{
    state_query(served_state, arg, res);
    return TRUE;
}

static bool_t do_update(void *arg, void *res, struct svc_req *rq)
{
    state_update(served_state, arg, false, res);
    kick_gossip_if_busy(res);
    return TRUE;
}

static bool_t do_submit(void *arg, void *res, struct svc_req *rq)
{
    state_update(served_state, arg, true, res);
    kick_gossip_if_busy(res);
    return TRUE;
}

/* Replica-to-replica calls are checked before anything is applied. */
static bool refuse_unsigned(const char *label, xdrproc_t proc, void *arg, u_int *mac_len,
                            char **mac_val, uint32_t from, const char *what)
{
    if (auth_verify_call(label, proc, arg, mac_len, mac_val))
        return false;
    log_warn("refused %s claiming to be from replica %u: missing or wrong authenticator "
             "(not a peer, or another key file)", what, from);
    return true;
}

static bool_t do_gossip(void *arg, void *res, struct svc_req *rq)
{
    rt_gossip_args *a = arg;
    rt_gossip_res *r = res;
    if (refuse_unsigned(AUTH_GOSSIP, (xdrproc_t)xdr_rt_gossip_args, a, &a->mac.mac_len,
                        &a->mac.mac_val, a->from, "GOSSIP")) {
        r->status = RT_DENIED;
        return TRUE;
    }
    state_gossip_in(served_state, a, r);
    /* Unsigned (the caller ignores it) only if there is no memory for the MAC. */
    auth_sign_reply(AUTH_GOSSIP, a->mac.mac_len, a->mac.mac_val, (xdrproc_t)xdr_rt_gossip_res, r,
                    &r->mac.mac_len, &r->mac.mac_val);
    return TRUE;
}

static bool_t do_snapshot(void *arg, void *res, struct svc_req *rq)
{
    rt_snap_args *a = arg;
    rt_snap_res *r = res;
    if (refuse_unsigned(AUTH_SNAPSHOT, (xdrproc_t)xdr_rt_snap_args, a, &a->mac.mac_len,
                        &a->mac.mac_val, a->from, "SNAPSHOT")) {
        r->status = RT_DENIED;
        r->rows.part = SNAP_END;
        return TRUE;
    }
    snapshot_serve(served_state, a, r);
    /* The rows are the peer's database: the joining replica takes them only
     * with this MAC, which also ties them to this call's session and cursor. */
    auth_sign_reply(AUTH_SNAPSHOT, a->mac.mac_len, a->mac.mac_val, (xdrproc_t)xdr_rt_snap_res, r,
                    &r->mac.mac_len, &r->mac.mac_val);
    return TRUE;
}

static bool_t do_repair(void *arg, void *res, struct svc_req *rq)
{
    rt_repair_args *a = arg;
    rt_repair_res *r = res;
    if (refuse_unsigned(AUTH_REPAIR, (xdrproc_t)xdr_rt_repair_args, a, &a->mac.mac_len,
                        &a->mac.mac_val, a->from, "REPAIR")) {
        r->status = RT_DENIED;
        return TRUE;
    }
    repair_serve(served_state, a, r);
    /* The rows are this replica's: the caller merges them only with this MAC. */
    auth_sign_reply(AUTH_REPAIR, a->mac.mac_len, a->mac.mac_val, (xdrproc_t)xdr_rt_repair_res, r,
                    &r->mac.mac_len, &r->mac.mac_val);
    return TRUE;
}

static bool_t do_status(void *arg, void *res, struct svc_req *rq)
{
    state_status(served_state, res);
    return TRUE;
}

static const struct rpc_proc replica_procs[] = {
    [RP_NULL] = RPC_PROC(xdr_void, char, xdr_void, char, do_null),
    [RP_QUERY] = RPC_PROC(xdr_rt_query_args, rt_query_args, xdr_rt_query_res, rt_query_res, do_query),
    [RP_UPDATE] = RPC_PROC(xdr_rt_update_args, rt_update_args, xdr_rt_update_res, rt_update_res,
                       do_update),
    [RP_SUBMIT] = RPC_PROC(xdr_rt_update_args, rt_update_args, xdr_rt_update_res, rt_update_res,
                       do_submit),
    [RP_GOSSIP] = RPC_PROC(xdr_rt_gossip_args, rt_gossip_args, xdr_rt_gossip_res, rt_gossip_res,
                       do_gossip),
    [RP_STATUS] = RPC_PROC(xdr_void, char, xdr_rt_status_res, rt_status_res, do_status),
    [RP_SNAPSHOT] = RPC_PROC(xdr_rt_snap_args, rt_snap_args, xdr_rt_snap_res, rt_snap_res,
                             do_snapshot),
    [RP_REPAIR] = RPC_PROC(xdr_rt_repair_args, rt_repair_args, xdr_rt_repair_res, rt_repair_res,
                           do_repair),
};

const struct rpc_program *replica_program(state_t *s, uint32_t prog)
{
    static struct rpc_program p;
    served_state = s;
    p.name = "replica";
    p.prog = prog;
    p.vers = RATING_REPLICA_V1;
    p.procs = replica_procs;
    p.nprocs = sizeof replica_procs / sizeof replica_procs[0];
    p.concurrent = true; /* state.c takes its lock */
    return &p;
}
