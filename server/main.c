/*
 * main.c -- ratingd, a replica manager of the gossip architecture.
 *
 * Options, then: open the store (importing MovieLens on first start),
 * register with rpcbind, start the gossip thread, serve until SIGINT or
 * SIGTERM, run a last gossip round, unregister.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "cluster.h"
#include "handlers.h"
#include "join.h"
#include "log.h"
#include "peers.h"
#include "rating.h"
#include "rpcutil.h"
#include "state.h"

#define RATINGD_VERSION "0.1.0"

struct options {
    long id;
    cluster_t cluster;
    const char *replicas;
    uint32_t nreplicas;
    uint32_t base_prog;
    const char *listen;
    const char *data_dir;
    const char *movielens;
    int gossip_ms;
    int timeout_ms;
    uint64_t overload;
    double fail_rate;
    uint64_t seed;
    const char *key_file;
    int no_sync;
    int verbose;
};

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ratingd --id K [options]\n"
            "A replica of the ratingd movie-rating service (gossip architecture).\n\n"
            "  -i, --id K               this replica's index in the replica list (required)\n"
            "  -R, --replicas SPEC      host:prog,host:prog,...  replica k is the k-th\n"
            "  -n, --nreplicas N        without --replicas: N replicas on localhost (default 3)\n"
            "  -b, --replica-base PROG  ... at program numbers PROG+k (default %#x)\n"
            "  -l, --listen ADDR        address to bind (default 127.0.0.1)\n"
            "  -d, --data-dir DIR       state directory; database DIR/replica-K.db (default var)\n"
            "  -m, --movielens DIR      data set imported on first start\n"
            "                           (default data/ml-latest-small; 'none' for empty)\n"
            "  -g, --gossip-ms MS       gossip interval (default 1000)\n"
            "  -T, --timeout MS         timeout of calls to peers (default 1000)\n"
            "  -o, --overload N         overloaded when more than N own updates await gossip\n"
            "                           (default 100)\n"
            "  -f, --fail-rate P        simulated offline probability per request, 0..1 (default 0)\n"
            "  -s, --seed S             seed of the simulated failures (default 1)\n"
            "  -k, --key-file FILE      shared key authenticating replica-to-replica calls\n"
            "                           (the same file on every replica; 16 to 256 bytes)\n"
            "      --no-sync            do not fsync commits (benchmarks only: loses updates on crash)\n"
            "  -v, --verbose            debug log lines\n"
            "  -h, --help, -V, --version\n\n"
            "Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 on a start-up error,\n"
            "2 on a usage error.\n",
            RATING_REPLICA);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    const struct option longopts[] = {
        {"id", required_argument, 0, 'i'},          {"replicas", required_argument, 0, 'R'},
        {"nreplicas", required_argument, 0, 'n'},   {"replica-base", required_argument, 0, 'b'},
        {"listen", required_argument, 0, 'l'},      {"data-dir", required_argument, 0, 'd'},
        {"movielens", required_argument, 0, 'm'},   {"gossip-ms", required_argument, 0, 'g'},
        {"timeout", required_argument, 0, 'T'},     {"overload", required_argument, 0, 'o'},
        {"fail-rate", required_argument, 0, 'f'},   {"seed", required_argument, 0, 's'},
        {"key-file", required_argument, 0, 'k'},    {"no-sync", no_argument, &o->no_sync, 1},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},              {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    double v;
    int c;
    while ((c = getopt_long(argc, argv, "i:R:n:b:l:d:m:g:T:o:f:s:k:vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 0: break;
        case 'i': if (parse_num(optarg, 0, VTS_MAX - 1, &v)) goto bad; o->id = (long)v; break;
        case 'R': o->replicas = optarg; break;
        case 'n': if (parse_num(optarg, 1, VTS_MAX, &v)) goto bad; o->nreplicas = (uint32_t)v; break;
        case 'b': if (rpc_parse_prog(optarg, &o->base_prog)) goto bad; break;
        case 'l': o->listen = optarg; break;
        case 'd': o->data_dir = optarg; break;
        case 'm': o->movielens = strcmp(optarg, "none") ? optarg : NULL; break;
        case 'g': if (parse_num(optarg, 10, 3600000, &v)) goto bad; o->gossip_ms = (int)v; break;
        case 'T': if (parse_num(optarg, 10, 600000, &v)) goto bad; o->timeout_ms = (int)v; break;
        case 'o': if (parse_num(optarg, 0, 1e12, &v)) goto bad; o->overload = (uint64_t)v; break;
        case 'f': if (parse_num(optarg, 0, 1, &v)) goto bad; o->fail_rate = v; break;
        case 's': if (parse_num(optarg, 0, 1e18, &v)) goto bad; o->seed = (uint64_t)v; break;
        case 'k': o->key_file = optarg; break;
        case 'v': o->verbose = 1; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("ratingd %s\n", RATINGD_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
        continue;
    bad:
        fprintf(stderr, "ratingd: bad value '%s' for option -%c\n", optarg, c);
        return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "ratingd: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->id < 0) {
        fprintf(stderr, "ratingd: --id is required\n");
        return -1;
    }
    char err[256];
    if (o->replicas) {
        if (cluster_parse(&o->cluster, o->replicas, err, sizeof err) < 0) {
            fprintf(stderr, "ratingd: --replicas: %s\n", err);
            return -1;
        }
    } else {
        cluster_default(&o->cluster, "localhost", o->base_prog, o->nreplicas);
    }
    if ((uint32_t)o->id >= o->cluster.n) {
        fprintf(stderr, "ratingd: --id %ld but only %u replicas\n", o->id, o->cluster.n);
        return -1;
    }
    return 0;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0755) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "ratingd: cannot create data directory %s: %s\n", dir, strerror(errno));
    return -1;
}

/* A new database gets the cluster's state from a peer if the cluster has
 * any (join.c), else the data set. */
static int fill_new_store(state_t *st, const struct options *o, char *err, size_t errlen)
{
    if (!state_is_new(st))
        return 0;
    int joined = join_cluster(st, &o->cluster, o->timeout_ms, err, errlen);
    if (joined != 0 || !o->movielens)
        return joined < 0 ? -1 : 0;
    return state_import(st, o->movielens, isatty(2), err, errlen);
}

int main(int argc, char **argv)
{
    struct options o = {.id = -1, .nreplicas = 3, .base_prog = RATING_REPLICA,
                        .listen = "127.0.0.1", .data_dir = "var",
                        .movielens = "data/ml-latest-small", .gossip_ms = 1000,
                        .timeout_ms = 1000, .overload = 100, .seed = 1};
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    char name[32], db[4096], err[512];
    snprintf(name, sizeof name, "replica%ld", o.id);
    log_init(name, o.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
    install_signals();
    if (make_dir(o.data_dir) < 0)
        return 1;
    if (o.key_file && auth_load_key(o.key_file, err, sizeof err) < 0) {
        fprintf(stderr, "ratingd: %s\n", err);
        return 1;
    }
    if (!o.key_file && o.cluster.n > 1)
        log_warn("no --key-file: gossip between replicas is not authenticated");
    snprintf(db, sizeof db, "%s/replica-%ld.db", o.data_dir, o.id);

    struct state_config cfg = {.id = (uint32_t)o.id, .n = o.cluster.n, .db_path = db,
                               .no_sync = o.no_sync, .overload = o.overload,
                               .fail_rate = o.fail_rate, .seed = o.seed};
    static state_t st;
    if (state_open(&st, &cfg, err, sizeof err) < 0 || fill_new_store(&st, &o, err, sizeof err) < 0) {
        fprintf(stderr, "ratingd: %s\n", err);
        return 1;
    }
    uint32_t prog = o.cluster.rep[o.id].prog;
    if (rpc_listen(replica_program(&st, prog), o.listen, 0, err, sizeof err) < 0) {
        fprintf(stderr, "ratingd: %s\n", err);
        state_close(&st);
        return 1;
    }
    struct peers_config pc = {&o.cluster, (uint32_t)o.id, o.gossip_ms, o.timeout_ms};
    if (peers_start(&st, &pc) < 0) {
        fprintf(stderr, "ratingd: cannot start the gossip thread\n");
        rpc_unlisten();
        state_close(&st);
        return 1;
    }
    log_info("replica %ld of %u ready: %s, gossip every %d ms", o.id, o.cluster.n, db,
             o.gossip_ms);
    rpc_serve(&stop_flag, 1000, NULL, NULL);
    log_info("shutting down");
    rpc_unlisten();
    peers_stop();
    state_close(&st);
    auth_forget_key();
    return 0;
}
