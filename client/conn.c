/* conn.c -- connect, call, and report RPC failures. */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "rpcutil.h"

char *cli_target_name(const cli_target_t *t, char *buf, size_t len)
{
    snprintf(buf, len, "%s at %s program %#x", t->replica ? "the replica" : "the front end",
             t->host, t->prog);
    return buf;
}

/* What to check when a connection could not be made. */
static const char *connect_hint(const cli_target_t *t, enum clnt_stat why, int sys_errno)
{
    switch (why) {
    case RPC_PROGNOTREGISTERED:
        return t->replica ? " (is that ratingd running?)"
                          : " (is ratingfe running? -H and -P say where it is)";
    case RPC_RPCBFAILURE:
    case RPC_SYSTEMERROR:
        return sys_errno == ECONNREFUSED ? " (is rpcbind running there?)" : "";
    default: return "";
    }
}

/* One attempt at s->target; on failure why says what went wrong. */
static bool try_connect(cli_session_t *s, char *why, size_t len)
{
    char err[512], name[CLUSTER_HOST_MAX + 64];
    s->clnt = rpc_connect(s->target.host, s->target.prog, 1, s->target.timeout_ms, err, sizeof err);
    if (s->clnt)
        return true;
    /* rpc_connect's message starts with the host name, which we say already */
    const char *msg = err;
    size_t hl = strlen(s->target.host);
    if (strncmp(msg, s->target.host, hl) == 0 && msg[hl] == ':')
        msg += hl + 1 + (msg[hl + 1] == ' ');
    snprintf(why, len, "cannot reach %s: %s%s", cli_target_name(&s->target, name, sizeof name),
             msg, connect_hint(&s->target, rpc_createerr.cf_stat, rpc_createerr.cf_error.re_errno));
    return false;
}

/* The configuration's front ends are tried in turn, from the one that
 * worked last; only when none answers is each failure reported. */
bool cli_connect(cli_session_t *s)
{
    char why[VTS_MAX][1024];
    if (s->clnt)
        return true;
    uint32_t n = s->frontends ? s->frontends->n : 1;
    for (uint32_t i = 0; i < n; i++) {
        if (s->frontends) {
            const endpoint_t *e = &s->frontends->rep[(s->fe_index + i) % n];
            snprintf(s->target.host, sizeof s->target.host, "%s", e->host);
            s->target.prog = e->prog;
        }
        if (try_connect(s, why[i], sizeof why[i])) {
            s->fe_index = (s->fe_index + i) % n;
            return true;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        cli_error("%s", why[i]);
    return false;
}

void cli_disconnect(cli_session_t *s)
{
    if (s->clnt)
        clnt_destroy(s->clnt);
    s->clnt = NULL;
}

/* After a call: report a failure and drop the connection. */
static bool called(cli_session_t *s, enum clnt_stat st)
{
    char name[CLUSTER_HOST_MAX + 64];
    struct rpc_err e;
    if (st == RPC_SUCCESS)
        return true;
    clnt_geterr(s->clnt, &e);
    cli_target_name(&s->target, name, sizeof name);
    if (e.re_status == RPC_SYSTEMERROR || e.re_status == RPC_CANTSEND ||
        e.re_status == RPC_CANTRECV)
        cli_error("no answer from %s: %s (%s)", name, clnt_sperrno(st), strerror(e.re_errno));
    else
        cli_error("no answer from %s: %s", name, clnt_sperrno(st));
    cli_disconnect(s);
    return false;
}

bool cli_call_query(cli_session_t *s, rt_query_args *a, rt_query_res *r)
{
    memset(r, 0, sizeof *r);
    if (!cli_connect(s))
        return false;
    return called(s, s->target.replica ? rp_query_1(*a, r, s->clnt) : fe_query_1(*a, r, s->clnt));
}

bool cli_call_update(cli_session_t *s, bool submit, rt_update_args *a, rt_update_res *r)
{
    memset(r, 0, sizeof *r);
    if (!cli_connect(s))
        return false;
    enum clnt_stat st;
    if (s->target.replica)
        st = submit ? rp_submit_1(*a, r, s->clnt) : rp_update_1(*a, r, s->clnt);
    else
        st = submit ? fe_submit_1(*a, r, s->clnt) : fe_update_1(*a, r, s->clnt);
    return called(s, st);
}

bool cli_call_status(cli_session_t *s, rt_status_list *list)
{
    memset(list, 0, sizeof *list);
    if (!cli_connect(s))
        return false;
    if (!s->target.replica)
        return called(s, fe_status_1(list, s->clnt));
    list->rt_status_list_val = calloc(1, sizeof *list->rt_status_list_val);
    if (!list->rt_status_list_val) {
        cli_error("out of memory");
        return false;
    }
    list->rt_status_list_len = 1;
    return called(s, rp_status_1(list->rt_status_list_val, s->clnt));
}
