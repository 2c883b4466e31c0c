/*
 * main.c -- ratingd, a replica manager of the gossip architecture.
 *
 * Options, then: refuse to be a second process for this replica (exit 2:
 * a live server already has its program number, or another process holds
 * its data directory, datadir.h), open the store (importing MovieLens on
 * first start), register with rpcbind, start the gossip thread, serve until SIGINT or
 * SIGTERM, run a last gossip round, unregister.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "cluster.h"
#include "daemon.h"
#include "datadir.h"
#include "handlers.h"
#include "join.h"
#include "log.h"
#include "peers.h"
#include "rating.h"
#include "rpcutil.h"
#include "state.h"

#define RATINGD_VERSION "0.1.0"

enum { OPT_NO_SYNC = 400, OPT_ALLOW_UNAUTH, OPT_REPAIR_MS };

struct options {
    daemon_opts_t d;
    const char *data_dir;
    const char *movielens;
    int gossip_ms;
    int repair_ms;
    int timeout_ms;
    uint64_t overload;
    double fail_rate;
    uint64_t seed;
    const char *key_file;
    bool no_sync;
    bool allow_unauth;
};

static volatile int stop_flag;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ratingd --id K [options]\n"
            "A replica of the ratingd movie-rating service (gossip architecture).\n"
            "Settings come from the configuration file, then the command line.\n\n"
            "  -i, --id K               this replica's index in the replica list (required)\n"
            DAEMON_USAGE
            "  -d, --data-dir DIR       state directory; database DIR/replica-K.db (default var)\n"
            "  -m, --movielens DIR      data set imported on first start\n"
            "                           (default data/ml-latest-small; 'none' for empty)\n"
            "  -g, --gossip-ms MS       gossip interval (default 1000)\n"
            "      --repair-ms MS       compare data digests with each peer and repair what\n"
            "                           differs this often (default 10000; 0: never)\n"
            "  -T, --timeout MS         timeout of calls to peers (default 1000)\n"
            "  -o, --overload N         overloaded when more than N own updates await gossip\n"
            "                           (default 100)\n"
            "  -f, --fail-rate P        simulated offline probability per request, 0..1 (default 0)\n"
            "  -s, --seed S             seed of the simulated failures (default 1)\n"
            "  -k, --key-file FILE      shared key authenticating replica-to-replica calls\n"
            "                           (the same file on every replica; 16 to 256 bytes;\n"
            "                           required unless the replica listens on loopback)\n"
            "      --allow-unauthenticated  serve gossip without --key-file on a\n"
            "                           non-loopback address (anyone who reaches it can\n"
            "                           inject updates)\n"
            "      --no-sync            do not fsync commits (benchmarks only: loses updates on crash)\n"
            "  -h, --help, -V, --version\n\n"
            "Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 on a start-up error,\n"
            "2 on a usage, configuration or identity error (another process already serves\n"
            "this replica: its program number answers, or its data directory is locked).\n",
            RATING_REPLICA);
}

static const char optstring[] = DAEMON_OPTSTRING "d:m:g:T:o:f:s:k:";
static const struct option longopts[] = {
    DAEMON_LONGOPTS,
    {"data-dir", required_argument, 0, 'd'},
    {"movielens", required_argument, 0, 'm'}, {"gossip-ms", required_argument, 0, 'g'},
    {"timeout", required_argument, 0, 'T'},   {"overload", required_argument, 0, 'o'},
    {"fail-rate", required_argument, 0, 'f'}, {"seed", required_argument, 0, 's'},
    {"key-file", required_argument, 0, 'k'},  {"no-sync", no_argument, 0, OPT_NO_SYNC},
    {"allow-unauthenticated", no_argument, 0, OPT_ALLOW_UNAUTH},
    {"repair-ms", required_argument, 0, OPT_REPAIR_MS},
    {0, 0, 0, 0}};

/* One option, from the configuration file or the command line. */
static int apply_option(void *ctx, int c, const char *v, char *err, size_t errlen)
{
    struct options *o = ctx;
    int rc = daemon_option(&o->d, c, v, err, errlen);
    if (rc <= 0)
        return rc;
    double n;
    switch (c) {
    case 'd': o->data_dir = v; return 0;
    case 'm': o->movielens = strcmp(v, "none") ? v : NULL; return 0;
    case 'g': rc = daemon_number(v, 10, 3600000, &n, "--gossip-ms", err, errlen); o->gossip_ms = (int)n; break;
    case 'T': rc = daemon_number(v, 10, 600000, &n, "--timeout", err, errlen); o->timeout_ms = (int)n; break;
    case 'o': rc = daemon_number(v, 0, 1e12, &n, "--overload", err, errlen); o->overload = (uint64_t)n; break;
    case 'f': rc = daemon_number(v, 0, 1, &n, "--fail-rate", err, errlen); o->fail_rate = n; break;
    case 's': rc = daemon_number(v, 0, 1e18, &n, "--seed", err, errlen); o->seed = (uint64_t)n; break;
    case 'k': o->key_file = v; return 0;
    case OPT_REPAIR_MS:
        if (strcmp(v, "0") == 0) {
            o->repair_ms = 0;
            return 0;
        }
        rc = daemon_number(v, 10, 86400000, &n, "--repair-ms", err, errlen);
        o->repair_ms = (int)n;
        break;
    case OPT_NO_SYNC: o->no_sync = true; return 0;
    case OPT_ALLOW_UNAUTH: o->allow_unauth = true; return 0;
    default: snprintf(err, errlen, "unknown option"); return -1;
    }
    return rc;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    if (daemon_parse(&o->d, argc, argv, optstring, longopts, "ratingd", apply_option, o, usage,
                     RATINGD_VERSION) < 0 ||
        daemon_finish(&o->d) < 0)
        return -1;
    if (o->d.id < 0) {
        fprintf(stderr, "ratingd: --id is required\n");
        return -1;
    }
    if ((uint32_t)o->d.id >= o->d.cluster.n) {
        fprintf(stderr, "ratingd: --id %ld but only %u replicas\n", o->d.id, o->d.cluster.n);
        return -1;
    }
    return 0;
}

/* Every address addr names is a loopback address (127.0.0.0/8, ::1). */
static bool loopback_only(const char *addr)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai;
    if (getaddrinfo(addr, NULL, &hints, &ai) != 0)
        return false;
    bool only = true;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        if (p->ai_family == AF_INET)
            only &= (ntohl(((struct sockaddr_in *)p->ai_addr)->sin_addr.s_addr) >> 24) == 127;
        else if (p->ai_family == AF_INET6)
            only &= IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)p->ai_addr)->sin6_addr);
        else
            only = false;
    }
    freeaddrinfo(ai);
    return only;
}

/* Gossip without a key is only for replicas that nobody else can reach. */
static int check_authentication(const struct options *o, const char *listen)
{
    if (o->key_file || o->d.cluster.n <= 1)
        return 0;
    if (!loopback_only(listen) && !o->allow_unauth) {
        fprintf(stderr,
                "ratingd: refusing to serve gossip without authentication on %s, which is not "
                "loopback: give --key-file (key-file in ratingd.conf), or "
                "--allow-unauthenticated\n",
                listen);
        return -1;
    }
    log_warn("no --key-file: gossip between replicas is not authenticated");
    return 0;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0755) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "ratingd: cannot create data directory %s: %s\n", dir, strerror(errno));
    return -1;
}

static const char *twin_hint(long id)
{
    static char hint[64];
    snprintf(hint, sizeof hint, ": another ratingd --id %ld is running", id);
    return hint;
}

/* A second ratingd --id K, with another data directory than the one that
 * serves, would answer for K with other data: stop before touching any
 * directory.  (With the same directory, its lock stops it: datadir.h.) */
static int refuse_twin(uint32_t prog, long id)
{
    char where[96];
    if (!rpc_served_locally(prog, RATING_REPLICA_V1, where, sizeof where))
        return 0;
    fprintf(stderr, "ratingd: program %#x version %u is already served at %s%s\n", prog,
            (unsigned)RATING_REPLICA_V1, where, twin_hint(id));
    return -1;
}

/* After every group commit: the data directory's mark (datadir.h). */
static void keep_mark(void *arg, uint64_t commit, uint64_t epoch)
{
    datadir_t *dir = arg;
    if (datadir_mark_put(dir, commit, epoch) < 0)
        log_warn("%s", datadir_error(dir));
}

/* A new database gets the cluster's state from a peer if the cluster has
 * any (join.c), else the data set. */
static int fill_new_store(state_t *st, const struct options *o, char *err, size_t errlen)
{
    if (!state_is_new(st))
        return 0;
    int joined = join_cluster(st, &o->d.cluster, o->timeout_ms, err, errlen);
    if (joined != 0 || !o->movielens)
        return joined < 0 ? -1 : 0;
    return state_import(st, o->movielens, isatty(2), err, errlen);
}

int main(int argc, char **argv)
{
    /* static: the configuration's text stays reachable until exit */
    static struct options o = {.d = {.name = "ratingd", .level = LOG_LVL_INFO, .id = -1},
                        .data_dir = "var", .movielens = "data/ml-latest-small",
                        .gossip_ms = 1000, .repair_ms = 10000, .timeout_ms = 1000,
                        .overload = 100, .seed = 1};
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    char name[32], db[4096], err[512], listen[256];
    const cluster_t *cluster = &o.d.cluster;
    if (daemon_listen_addr(&o.d, o.d.cluster_from_file ? &cluster->rep[o.d.id] : NULL, listen,
                           sizeof listen) < 0)
        return 1;
    snprintf(name, sizeof name, "replica%ld", o.d.id);
    daemon_start_logging(&o.d, name);
    daemon_signals(&stop_flag);
    if (check_authentication(&o, listen) < 0)
        return 2;
    uint32_t prog = cluster->rep[o.d.id].prog;
    if (refuse_twin(prog, o.d.id) < 0)
        return 2;
    if (make_dir(o.data_dir) < 0)
        return 1;
    datadir_t *dir = NULL;
    int locked = datadir_open(o.data_dir, (uint32_t)o.d.id, &dir, err, sizeof err);
    if (locked < 0) {
        fprintf(stderr, "ratingd: %s\n", err);
        return locked == -2 ? 2 : 1;
    }
    if (o.key_file && auth_load_key(o.key_file, err, sizeof err) < 0) {
        fprintf(stderr, "ratingd: %s\n", err);
        datadir_close(dir);
        return 1;
    }
    snprintf(db, sizeof db, "%s/replica-%ld.db", o.data_dir, o.d.id);

    struct state_config cfg = {.id = (uint32_t)o.d.id, .n = cluster->n, .db_path = db,
                               .no_sync = o.no_sync, .overload = o.overload,
                               .fail_rate = o.fail_rate, .seed = o.seed,
                               .durable = keep_mark, .durable_arg = dir};
    int marked = datadir_mark_get(dir, &cfg.mark_commit, &cfg.mark_epoch);
    if (marked < 0) /* unreadable: recover, as without one (recovery.h) */
        log_warn("%s: recovering as if it had none", datadir_error(dir));
    cfg.have_mark = marked == 1;
    state_t *st = state_open(&cfg, err, sizeof err);
    if (!st || fill_new_store(st, &o, err, sizeof err) < 0) {
        fprintf(stderr, "ratingd: %s\n", err);
        state_close(st);
        datadir_close(dir);
        return 1;
    }
    int listening = rpc_listen(replica_program(st, prog), listen, 0, err, sizeof err);
    if (listening < 0) {
        fprintf(stderr, "ratingd: %s%s\n", err, listening == -2 ? twin_hint(o.d.id) : "");
        state_close(st);
        datadir_close(dir);
        return listening == -2 ? 2 : 1;
    }
    struct peers_config pc = {cluster, (uint32_t)o.d.id, o.gossip_ms, o.timeout_ms, o.repair_ms};
    if (peers_start(st, &pc) < 0) {
        fprintf(stderr, "ratingd: cannot start the gossip thread\n");
        rpc_unlisten();
        state_close(st);
        datadir_close(dir);
        return 1;
    }
    log_info("replica %ld of %u ready: %s, gossip every %d ms", o.d.id, cluster->n, db,
             o.gossip_ms);
    rpc_serve(&stop_flag, 1000, NULL, NULL);
    /* rpc_serve has stopped accepting and finished the calls in flight;
     * the last gossip round goes out before we disappear from rpcbind. */
    log_info("shutting down");
    peers_stop();
    rpc_unlisten();
    state_close(st);
    if (datadir_mark_sync(dir) < 0)
        log_error("%s", datadir_error(dir));
    datadir_close(dir);
    auth_forget_key();
    config_release(&o.d.file);
    return 0;
}
