/*
 * main.c -- ratingfe, the front end of ratingd: clients call it, it
 * forwards each request to a replica (frontend/forward.c) and fails over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "daemon.h"
#include "forward.h"
#include "log.h"
#include "rating.h"
#include "route.h"
#include "rpcutil.h"

#define RATINGFE_VERSION "0.1.0"

static volatile int stop_flag;

static bool_t do_null(void *arg, void *res, struct svc_req *rq) { return TRUE; }

static bool_t do_query(void *arg, void *res, struct svc_req *rq)
{
    forward_query(arg, res);
    return TRUE;
}

static bool_t do_update(void *arg, void *res, struct svc_req *rq)
{
    forward_update(arg, false, res);
    return TRUE;
}

static bool_t do_submit(void *arg, void *res, struct svc_req *rq)
{
    forward_update(arg, true, res);
    return TRUE;
}

static bool_t do_status(void *arg, void *res, struct svc_req *rq)
{
    forward_status(res);
    return TRUE;
}

static const struct rpc_proc fe_procs[] = {
    [FE_NULL] = RPC_PROC(xdr_void, char, xdr_void, char, do_null),
    [FE_QUERY] = RPC_PROC(xdr_rt_query_args, rt_query_args, xdr_rt_query_res, rt_query_res,
                          do_query),
    [FE_UPDATE] = RPC_PROC(xdr_rt_update_args, rt_update_args, xdr_rt_update_res, rt_update_res,
                           do_update),
    [FE_SUBMIT] = RPC_PROC(xdr_rt_update_args, rt_update_args, xdr_rt_update_res, rt_update_res,
                           do_submit),
    [FE_STATUS] = RPC_PROC(xdr_void, char, xdr_rt_status_list, rt_status_list, do_status),
};

struct options {
    daemon_opts_t d;
    uint32_t prog;   /* 0: the file's entry for id, else RATING_FRONTEND */
    long prefer;
    int timeout_ms;
    int wait_ms;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ratingfe [options]\n"
            "The front end of the ratingd movie-rating service: clients call it, it forwards\n"
            "each request to a replica and fails over to another.\n"
            "Settings come from the configuration file, then the command line.\n\n"
            "  -i, --id K               this front end's entry in the configuration file\n"
            "                           (default 0)\n"
            "  -p, --prog PROG          program number to register (default: the entry's,\n"
            "                           else %#x)\n"
            DAEMON_USAGE
            "  -P, --prefer K           replica to try first (default 0)\n"
            "  -T, --timeout MS         timeout of a call to a replica (default 2000)\n"
            "  -w, --wait MS            how long to keep trying when no replica can serve\n"
            "                           (default 5000)\n"
            "  -h, --help, -V, --version\n\n"
            "Exit status: 0 after SIGINT/SIGTERM, 1 on a start-up error, 2 on a usage or\n"
            "configuration error, or when a live server already has its program number.\n",
            RATING_FRONTEND, RATING_REPLICA);
}

static const char optstring[] = DAEMON_OPTSTRING "p:P:T:w:";
static const struct option longopts[] = {
    DAEMON_LONGOPTS,
    {"prog", required_argument, 0, 'p'},
    {"prefer", required_argument, 0, 'P'},  {"timeout", required_argument, 0, 'T'},
    {"wait", required_argument, 0, 'w'},    {0, 0, 0, 0}};

/* One option, from the configuration file or the command line. */
static int apply_option(void *ctx, int c, const char *v, char *err, size_t errlen)
{
    struct options *o = ctx;
    int rc = daemon_option(&o->d, c, v, err, errlen);
    if (rc <= 0)
        return rc;
    double n;
    switch (c) {
    case 'p':
        if (rpc_parse_prog(v, &o->prog) == 0 && o->prog)
            return 0;
        snprintf(err, errlen, "bad program number '%s' for --prog", v);
        return -1;
    case 'P': rc = daemon_number(v, 0, VTS_MAX - 1, &n, "--prefer", err, errlen); o->prefer = (long)n; break;
    case 'T': rc = daemon_number(v, 10, 600000, &n, "--timeout", err, errlen); o->timeout_ms = (int)n; break;
    case 'w': rc = daemon_number(v, 0, 600000, &n, "--wait", err, errlen); o->wait_ms = (int)n; break;
    default: snprintf(err, errlen, "unknown option"); return -1;
    }
    return rc;
}

/* Options, the replica list, and this front end's own entry (or NULL). */
static int parse_args(int argc, char **argv, struct options *o, const endpoint_t **own)
{
    if (daemon_parse(&o->d, argc, argv, optstring, longopts, "ratingfe", apply_option, o, usage,
                     RATINGFE_VERSION) < 0 ||
        daemon_finish(&o->d) < 0)
        return -1;
    const cluster_t *fes = &o->d.file.frontends;
    if (fes->n > 0 && (uint32_t)o->d.id >= fes->n) {
        fprintf(stderr, "ratingfe: --id %ld but the configuration lists %u front ends\n", o->d.id,
                fes->n);
        return -1;
    }
    *own = fes->n > 0 ? &fes->rep[o->d.id] : NULL;
    if (!o->prog)
        o->prog = *own ? (*own)->prog : RATING_FRONTEND;
    if ((uint32_t)o->prefer >= o->d.cluster.n) {
        fprintf(stderr, "ratingfe: --prefer %ld but only %u replicas\n", o->prefer,
                o->d.cluster.n);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct options o = {.d = {.name = "ratingfe", .level = LOG_LVL_INFO},
                               .timeout_ms = 2000, .wait_ms = 5000};
    const endpoint_t *own;
    char listen[256], err[512];
    if (parse_args(argc, argv, &o, &own) < 0)
        return 2;
    if (daemon_listen_addr(&o.d, own, listen, sizeof listen) < 0)
        return 1;
    const cluster_t *cluster = &o.d.cluster;
    daemon_start_logging(&o.d, "frontend");
    daemon_signals(&stop_flag);
    if (route_init(cluster, (uint32_t)o.prefer, o.timeout_ms) < 0 || forward_init(o.wait_ms) < 0) {
        fprintf(stderr, "ratingfe: cannot initialise\n");
        return 1;
    }
    static struct rpc_program prog = {"frontend", 0, RATING_FRONTEND_V1, fe_procs,
                                      sizeof fe_procs / sizeof fe_procs[0], true};
    prog.prog = o.prog;
    int listening = rpc_listen(&prog, listen, 0, err, sizeof err);
    if (listening < 0) {
        fprintf(stderr, "ratingfe: %s%s\n", err,
                listening == -2 ? ": another ratingfe is running" : "");
        route_shutdown();
        return listening == -2 ? 2 : 1;
    }
    log_info("front end ready for %u replicas", cluster->n);
    rpc_serve(&stop_flag, 1000, NULL, NULL);
    log_info("shutting down");
    rpc_unlisten();
    route_shutdown();
    config_release(&o.d.file);
    return 0;
}
