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

/* ---- replica-to-replica calls (GOSSIP, SNAPSHOT, REPAIR) ---------------
 * A call's MAC is checked before anything is applied, and the reply is
 * signed over it (auth.h), so a reply fits only its call.  What differs
 * between the three is in a table. */

struct mac_ref {
    u_int *len;
    char **val;
};

struct peer_proc {
    const char *label, *what;
    xdrproc_t args_proc, res_proc;
    /* where the call's and the reply's MACs are, and who the caller says it is */
    void (*refs)(void *args, void *res, struct mac_ref *call, struct mac_ref *reply,
                 uint32_t *from);
    void (*serve)(void *args, void *res);
    void (*deny)(void *res);   /* the reply to a call without a valid MAC */
};

static bool_t serve_signed(const struct peer_proc *p, void *args, void *res)
{
    struct mac_ref call, reply;
    uint32_t from;
    p->refs(args, res, &call, &reply, &from);
    if (!auth_verify_call(p->label, p->args_proc, args, call.len, call.val)) {
        log_warn("refused %s claiming to be from replica %u: missing or wrong authenticator "
                 "(not a peer, or another key file)", p->what, from);
        p->deny(res);
        return TRUE;
    }
    p->serve(args, res);
    /* Unsigned (the caller then ignores it) only without memory for the MAC. */
    auth_sign_reply(p->label, *call.len, *call.val, p->res_proc, res, reply.len, reply.val);
    return TRUE;
}

static void gossip_refs(void *args, void *res, struct mac_ref *call, struct mac_ref *reply,
                        uint32_t *from)
{
    rt_gossip_args *a = args;
    rt_gossip_res *r = res;
    *call = (struct mac_ref){&a->mac.mac_len, &a->mac.mac_val};
    *reply = (struct mac_ref){&r->mac.mac_len, &r->mac.mac_val};
    *from = a->from;
}
static void serve_gossip(void *args, void *res) { state_gossip_in(served_state, args, res); }
static void gossip_deny(void *res) { ((rt_gossip_res *)res)->status = RT_DENIED; }

/* The rows are this replica's database: the joining replica installs them
 * only with the reply's MAC, which also ties them to the call's session
 * and cursor. */
static void snapshot_refs(void *args, void *res, struct mac_ref *call, struct mac_ref *reply,
                          uint32_t *from)
{
    rt_snap_args *a = args;
    rt_snap_res *r = res;
    *call = (struct mac_ref){&a->mac.mac_len, &a->mac.mac_val};
    *reply = (struct mac_ref){&r->mac.mac_len, &r->mac.mac_val};
    *from = a->from;
}
static void serve_snapshot(void *args, void *res) { snapshot_serve(served_state, args, res); }
static void snapshot_deny(void *res)
{
    rt_snap_res *r = res;
    r->status = RT_DENIED;
    r->rows.part = SNAP_END; /* the reply cannot carry an unknown part */
}

/* The rows are this replica's: the caller merges them only with the MAC. */
static void repair_refs(void *args, void *res, struct mac_ref *call, struct mac_ref *reply,
                        uint32_t *from)
{
    rt_repair_args *a = args;
    rt_repair_res *r = res;
    *call = (struct mac_ref){&a->mac.mac_len, &a->mac.mac_val};
    *reply = (struct mac_ref){&r->mac.mac_len, &r->mac.mac_val};
    *from = a->from;
}
static void serve_repair(void *args, void *res) { repair_serve(served_state, args, res); }
static void repair_deny(void *res) { ((rt_repair_res *)res)->status = RT_DENIED; }

static const struct peer_proc gossip_proc = {
    AUTH_GOSSIP, "GOSSIP", (xdrproc_t)xdr_rt_gossip_args, (xdrproc_t)xdr_rt_gossip_res,
    gossip_refs, serve_gossip, gossip_deny};
static const struct peer_proc snapshot_proc = {
    AUTH_SNAPSHOT, "SNAPSHOT", (xdrproc_t)xdr_rt_snap_args, (xdrproc_t)xdr_rt_snap_res,
    snapshot_refs, serve_snapshot, snapshot_deny};
static const struct peer_proc repair_proc = {
    AUTH_REPAIR, "REPAIR", (xdrproc_t)xdr_rt_repair_args, (xdrproc_t)xdr_rt_repair_res,
    repair_refs, serve_repair, repair_deny};

static bool_t do_gossip(void *arg, void *res, struct svc_req *rq)
{
    return serve_signed(&gossip_proc, arg, res);
}

static bool_t do_snapshot(void *arg, void *res, struct svc_req *rq)
{
    return serve_signed(&snapshot_proc, arg, res);
}

static bool_t do_repair(void *arg, void *res, struct svc_req *rq)
{
    return serve_signed(&repair_proc, arg, res);
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
