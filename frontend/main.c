/*
 * main.c -- ratingfe, the front end of ratingd: clients call it, it
 * forwards each request to a replica (frontend/forward.c) and fails over.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "forward.h"
#include "log.h"
#include "rating.h"
#include "route.h"
#include "rpcutil.h"

#define RATINGFE_VERSION "0.1.0"

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

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
    uint32_t prog;
    const char *listen;
    const char *replicas;
    uint32_t nreplicas;
    uint32_t base_prog;
    long prefer;
    int timeout_ms;
    int wait_ms;
    int verbose;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ratingfe [options]\n"
            "The front end of the ratingd movie-rating service: clients call it, it forwards\n"
            "each request to a replica and fails over to another.\n\n"
            "  -p, --prog PROG          program number to register (default %#x)\n"
            "  -l, --listen ADDR        address to bind (default 127.0.0.1)\n"
            "  -R, --replicas SPEC      host:prog,host:prog,...  replica k is the k-th\n"
            "  -n, --nreplicas N        without --replicas: N replicas on localhost (default 3)\n"
            "  -b, --replica-base PROG  ... at program numbers PROG+k (default %#x)\n"
            "  -P, --prefer K           replica to try first (default 0)\n"
            "  -T, --timeout MS         timeout of a call to a replica (default 2000)\n"
            "  -w, --wait MS            how long to keep trying when no replica can serve\n"
            "                           (default 5000)\n"
            "  -v, --verbose            debug log lines\n"
            "  -h, --help, -V, --version\n\n"
            "Exit status: 0 after SIGINT/SIGTERM, 1 on a start-up error, 2 on a usage error.\n",
            RATING_FRONTEND, RATING_REPLICA);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"prog", required_argument, 0, 'p'},      {"listen", required_argument, 0, 'l'},
        {"replicas", required_argument, 0, 'R'},  {"nreplicas", required_argument, 0, 'n'},
        {"replica-base", required_argument, 0, 'b'}, {"prefer", required_argument, 0, 'P'},
        {"timeout", required_argument, 0, 'T'},   {"wait", required_argument, 0, 'w'},
        {"verbose", no_argument, 0, 'v'},         {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},         {0, 0, 0, 0}};
    long v;
    int c;
    while ((c = getopt_long(argc, argv, "p:l:R:n:b:P:T:w:vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': if (rpc_parse_prog(optarg, &o->prog)) goto bad; break;
        case 'l': o->listen = optarg; break;
        case 'R': o->replicas = optarg; break;
        case 'n': if (parse_long(optarg, 1, VTS_MAX, &v)) goto bad; o->nreplicas = (uint32_t)v; break;
        case 'b': if (rpc_parse_prog(optarg, &o->base_prog)) goto bad; break;
        case 'P': if (parse_long(optarg, 0, VTS_MAX - 1, &o->prefer)) goto bad; break;
        case 'T': if (parse_long(optarg, 10, 600000, &v)) goto bad; o->timeout_ms = (int)v; break;
        case 'w': if (parse_long(optarg, 0, 600000, &v)) goto bad; o->wait_ms = (int)v; break;
        case 'v': o->verbose = 1; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("ratingfe %s\n", RATINGFE_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
        continue;
    bad:
        fprintf(stderr, "ratingfe: bad value '%s' for option -%c\n", optarg, c);
        return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "ratingfe: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static int make_cluster(const struct options *o, cluster_t *c)
{
    char err[256];
    if (!o->replicas) {
        cluster_default(c, "localhost", o->base_prog, o->nreplicas);
    } else if (cluster_parse(c, o->replicas, err, sizeof err) < 0) {
        fprintf(stderr, "ratingfe: --replicas: %s\n", err);
        return -1;
    }
    if ((uint32_t)o->prefer >= c->n) {
        fprintf(stderr, "ratingfe: --prefer %ld but only %u replicas\n", o->prefer, c->n);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {.prog = RATING_FRONTEND, .listen = "127.0.0.1", .nreplicas = 3,
                        .base_prog = RATING_REPLICA, .timeout_ms = 2000, .wait_ms = 5000};
    static cluster_t cluster;
    if (parse_args(argc, argv, &o) < 0 || make_cluster(&o, &cluster) < 0)
        return 2;
    log_init("frontend", o.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (route_init(&cluster, (uint32_t)o.prefer, o.timeout_ms) < 0 || forward_init(o.wait_ms) < 0) {
        fprintf(stderr, "ratingfe: cannot initialise\n");
        return 1;
    }
    static struct rpc_program prog = {"frontend", 0, RATING_FRONTEND_V1, fe_procs,
                                      sizeof fe_procs / sizeof fe_procs[0], true};
    prog.prog = o.prog;
    char err[512];
    if (rpc_listen(&prog, o.listen, 0, err, sizeof err) < 0) {
        fprintf(stderr, "ratingfe: %s\n", err);
        return 1;
    }
    log_info("front end ready for %u replicas", cluster.n);
    rpc_serve(&stop_flag, 1000, NULL, NULL);
    log_info("shutting down");
    rpc_unlisten();
    route_shutdown();
    return 0;
}
