/*
 * ratingbench.c -- load generator for `make bench`.
 *
 *   ratingbench null    -H HOST -P PROG -c CLIENTS -d SECONDS
 *   ratingbench query   -H HOST -P FEPROG -c CLIENTS -d SECONDS
 *   ratingbench update  -H HOST -P FEPROG -c CLIENTS -d SECONDS
 *   ratingbench converge -H HOST -P FEPROG -R host:prog,... -n UPDATES
 *   ratingbench gbytes  -R host:prog,...     gossip bytes sent so far
 *   ratingbench snapshot -H HOST -P PROG     read a replica's whole state as a
 *                                            rejoining replica does: bytes, time
 *
 * Each client is a thread with its own connection (libtirpc client
 * handles are not shared), calling back to back for the given time.
 * Prints one JSON object: calls, seconds, calls/s, p50/p99 latency in
 * microseconds (converge: milliseconds until every replica answers).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cluster.h"
#include "rating.h"
#include "record.h"
#include "rpcutil.h"

enum mode { M_NULL, M_QUERY, M_UPDATE, M_CONVERGE, M_GBYTES, M_SNAPSHOT };

static struct {
    enum mode mode;
    const char *host;
    uint32_t prog;
    int clients;
    double seconds;
    int updates;
    cluster_t cluster;
    uint64_t origin;
} opt = {.host = "localhost", .clients = 1, .seconds = 2, .updates = 50};

struct worker {
    int id;
    double *lat;      /* microseconds of each call */
    size_t n, cap;
    size_t errors;
    pthread_t thread;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void record(struct worker *w, double us)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
        if (!w->lat) {
            perror("realloc");
            exit(1);
        }
    }
    w->lat[w->n++] = us;
}

/* Movie ids present in MovieLens small, so queries and updates hit. */
static const uint32_t movies[] = {1, 2, 3, 5, 6, 7, 10, 11, 16, 17, 19, 21, 25, 32, 34, 36, 39,
                                  47, 50, 62, 110, 150, 153, 160, 165, 185, 231, 253, 260, 292,
                                  296, 316, 318, 329, 344, 356, 357, 364, 367, 377, 380, 457};
#define NMOVIES (sizeof movies / sizeof movies[0])

static enum clnt_stat one_call(CLIENT *c, struct worker *w, uint64_t i)
{
    static const struct timeval tv = {10, 0};
    switch (opt.mode) {
    case M_NULL:
        return clnt_call(c, 0, RPC_XDR(xdr_void), NULL, RPC_XDR(xdr_void), NULL, tv);
    case M_QUERY: {
        rt_query_args a;
        rt_query_res r;
        memset(&a, 0, sizeof a);
        memset(&r, 0, sizeof r);
        a.q.kind = Q_MOVIE;
        a.q.rt_query_u.movie = movies[(i * 7 + (uint64_t)w->id) % NMOVIES];
        enum clnt_stat cs = fe_query_1(a, &r, c);
        if (cs == RPC_SUCCESS && r.status != RT_OK)
            w->errors++;
        xdr_free((xdrproc_t)xdr_rt_query_res, (char *)&r);
        return cs;
    }
    case M_UPDATE: {
        rt_update_args a;
        rt_update_res r;
        memset(&a, 0, sizeof a);
        memset(&r, 0, sizeof r);
        /* a new (user, movie) every time: users far above MovieLens', in a
         * range of this run's own (from its random origin) */
        a.uid.origin = opt.origin;
        a.uid.seq = ((uint64_t)w->id << 40) | (i + 1);
        a.stamp = clock_wall_ms(); /* whoever picks the id picks the stamp (rating.x) */
        a.op.kind = OP_RATE;
        a.op.rt_op_u.rate.user = 1000000 + (uint32_t)(opt.origin % 10000) * 100000 +
                                 (uint32_t)w->id * 1500 + (uint32_t)(i / NMOVIES);
        a.op.rt_op_u.rate.movie = movies[i % NMOVIES];
        a.op.rt_op_u.rate.halves = 1 + (uint32_t)(i % 10);
        enum clnt_stat cs = fe_submit_1(a, &r, c);
        if (cs == RPC_SUCCESS && r.status != RT_OK)
            w->errors++;
        xdr_free((xdrproc_t)xdr_rt_update_res, (char *)&r);
        return cs;
    }
    case M_CONVERGE:
    case M_GBYTES:
    case M_SNAPSHOT:
        break;
    }
    return RPC_FAILED;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char err[256];
    CLIENT *c = rpc_connect(opt.host, opt.prog, 1, 10000, err, sizeof err);
    if (!c) {
        fprintf(stderr, "ratingbench: %s\n", err);
        w->errors++;
        return NULL;
    }
    double end = now_s() + opt.seconds;
    for (uint64_t i = 0;; i++) {
        double t0 = now_s();
        if (t0 >= end)
            break;
        if (one_call(c, w, i) != RPC_SUCCESS) {
            w->errors++;
            continue;
        }
        record(w, (now_s() - t0) * 1e6);
    }
    clnt_destroy(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void report(const char *what, double *all, size_t n, size_t errors, double seconds)
{
    qsort(all, n, sizeof *all, cmp_double);
    printf("{\"mode\":\"%s\",\"clients\":%d,\"calls\":%zu,\"errors\":%zu,\"seconds\":%.3f,"
           "\"tput\":%.1f,\"p50\":%.1f,\"p99\":%.1f}\n",
           what, opt.clients, n, errors, seconds, (double)n / seconds, percentile(all, n, 0.5),
           percentile(all, n, 0.99));
}

static int run_load(const char *what)
{
    struct worker *w = calloc((size_t)opt.clients, sizeof *w);
    double t0 = now_s();
    for (int i = 0; i < opt.clients; i++) {
        w[i].id = i;
        pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
    }
    size_t total = 0, errors = 0;
    for (int i = 0; i < opt.clients; i++) {
        pthread_join(w[i].thread, NULL);
        total += w[i].n;
        errors += w[i].errors;
    }
    double elapsed = now_s() - t0;
    double *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < opt.clients; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat);
    }
    report(what, all, total, errors, elapsed);
    free(all);
    free(w);
    return errors ? 1 : 0;
}

/* Does replica c answer (user, movie) given prev = the update's ts? */
static int replica_has(CLIENT *c, rt_vts *ts, uint32_t user, uint32_t movie)
{
    rt_query_args a;
    rt_query_res r;
    memset(&a, 0, sizeof a);
    memset(&r, 0, sizeof r);
    a.prev = *ts;
    a.q.kind = Q_RATING;
    a.q.rt_query_u.key.user = user;
    a.q.rt_query_u.key.movie = movie;
    int ok = rp_query_1(a, &r, c) == RPC_SUCCESS && r.status == RT_OK;
    xdr_free((xdrproc_t)xdr_rt_query_res, (char *)&r);
    return ok;
}

/* The movies of movies[] that the service has (the small data set of the
 * gossip runs lacks most): *n of them into have[]. */
static void movies_present(CLIENT *fe, uint32_t *have, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < NMOVIES; i++) {
        rt_query_args a;
        rt_query_res r;
        memset(&a, 0, sizeof a);
        memset(&r, 0, sizeof r);
        a.q.kind = Q_MOVIE;
        a.q.rt_query_u.movie = movies[i];
        if (fe_query_1(a, &r, fe) == RPC_SUCCESS && r.status == RT_OK)
            have[(*n)++] = movies[i];
        xdr_free((xdrproc_t)xdr_rt_query_res, (char *)&r);
    }
}

/* Time from an update's acknowledgement until every replica answers it. */
static int run_converge(void)
{
    char err[256];
    CLIENT *fe = rpc_connect(opt.host, opt.prog, 1, 10000, err, sizeof err);
    CLIENT *rep[VTS_MAX] = {0};
    if (!fe) {
        fprintf(stderr, "ratingbench: %s\n", err);
        return 1;
    }
    for (uint32_t k = 0; k < opt.cluster.n; k++) {
        rep[k] = rpc_connect(opt.cluster.rep[k].host, opt.cluster.rep[k].prog, 1, 10000, err,
                             sizeof err);
        if (!rep[k]) {
            fprintf(stderr, "ratingbench: replica %u: %s\n", k, err);
            return 1;
        }
    }
    uint32_t have[NMOVIES];
    size_t nhave = 0;
    movies_present(fe, have, &nhave);
    if (nhave == 0) {
        fprintf(stderr, "ratingbench: none of the benchmark's movies exists\n");
        return 1;
    }
    double *ms = calloc((size_t)opt.updates, sizeof *ms);
    size_t n = 0, errors = 0;
    double t_start = now_s();
    for (int i = 0; i < opt.updates; i++) {
        rt_update_args a;
        rt_update_res r;
        memset(&a, 0, sizeof a);
        memset(&r, 0, sizeof r);
        a.uid.origin = opt.origin;
        a.uid.seq = (uint64_t)i + 1;
        a.stamp = clock_wall_ms();
        a.op.kind = OP_RATE;
        a.op.rt_op_u.rate.user = 1000000 + (uint32_t)(opt.origin % 10000) * 100000 + 99000 +
                                 (uint32_t)((size_t)i / nhave);
        a.op.rt_op_u.rate.movie = have[(size_t)i % nhave];
        a.op.rt_op_u.rate.halves = 7;
        if (fe_submit_1(a, &r, fe) != RPC_SUCCESS || r.status != RT_OK) {
            errors++;
            xdr_free((xdrproc_t)xdr_rt_update_res, (char *)&r);
            continue;
        }
        double t0 = now_s();
        for (uint32_t k = 0; k < opt.cluster.n; k++)
            while (!replica_has(rep[k], &r.ts, a.op.rt_op_u.rate.user, a.op.rt_op_u.rate.movie)) {
                if (now_s() - t0 > 30) {
                    errors++;
                    break;
                }
                usleep(500);
            }
        ms[n++] = (now_s() - t0) * 1e3;
        xdr_free((xdrproc_t)xdr_rt_update_res, (char *)&r);
    }
    report("converge", ms, n, errors, now_s() - t_start);
    free(ms);
    clnt_destroy(fe);
    for (uint32_t k = 0; k < opt.cluster.n; k++)
        clnt_destroy(rep[k]);
    return errors ? 1 : 0;
}

/* Sum of the gossip bytes and records the replicas have sent (STATUS). */
static int run_gbytes(void)
{
    char err[256];
    uint64_t bytes = 0, records = 0;
    for (uint32_t k = 0; k < opt.cluster.n; k++) {
        CLIENT *c = rpc_connect(opt.cluster.rep[k].host, opt.cluster.rep[k].prog, 1, 10000, err,
                                sizeof err);
        rt_status_res r;
        memset(&r, 0, sizeof r);
        if (!c || rp_status_1(&r, c) != RPC_SUCCESS) {
            fprintf(stderr, "ratingbench: replica %u: %s\n", k, c ? "no answer" : err);
            if (c)
                clnt_destroy(c);
            return 1;
        }
        bytes += r.gossip_bytes;
        records += r.gossip_records;
        xdr_free((xdrproc_t)xdr_rt_status_res, (char *)&r);
        clnt_destroy(c);
    }
    printf("{\"mode\":\"gbytes\",\"bytes\":%llu,\"records\":%llu}\n", (unsigned long long)bytes,
           (unsigned long long)records);
    return 0;
}

/* A whole snapshot transfer (RP_SNAPSHOT, as server/join.c reads it,
 * without installing it): the XDR bytes of its calls and replies, the
 * rows, the time.  The baseline that anti-entropy repair is measured
 * against.  Unsigned: the bench's replicas run without a key. */
static int snap_page(CLIENT *c, rt_snap_args *a, rt_snap_res *res, uint64_t *bytes)
{
    static const struct timeval tv = {60, 0};
    memset(res, 0, sizeof *res);
    if (clnt_call(c, RP_SNAPSHOT, (xdrproc_t)xdr_rt_snap_args, (char *)a,
                  (xdrproc_t)xdr_rt_snap_res, (char *)res, tv) != RPC_SUCCESS ||
        res->status != RT_OK) {
        fprintf(stderr, "ratingbench: snapshot part %d: %s\n", a->part,
                res->status != RT_OK ? "refused" : "no answer");
        return -1;
    }
    *bytes += xdr_sizeof((xdrproc_t)xdr_rt_snap_args, a) +
              xdr_sizeof((xdrproc_t)xdr_rt_snap_res, res);
    return 0;
}

static int run_snapshot(void)
{
    char err[256];
    CLIENT *c = rpc_connect(opt.host, opt.prog, 1, 60000, err, sizeof err);
    if (!c) {
        fprintf(stderr, "ratingbench: %s\n", err);
        return 1;
    }
    double t0 = now_s();
    uint64_t bytes = 0, rows = 0, calls = 0;
    rt_snap_args a = {.from = 1, .part = SNAP_BEGIN};
    rt_snap_res res;
    int rc = snap_page(c, &a, &res, &bytes);
    calls++;
    a.session = res.rows.rt_snap_rows_u.header.session;
    xdr_free((xdrproc_t)xdr_rt_snap_res, (char *)&res);
    for (int part = SNAP_MOVIES; rc == 0 && part <= SNAP_LOG; part++) {
        a.part = (rt_snap_part)part;
        a.after_a = a.after_b = 0;
        for (bool done = false; rc == 0 && !done;) {
            rc = snap_page(c, &a, &res, &bytes);
            calls++;
            const rt_snap_rows *r = &res.rows;
            u_int n = 0;
            if (rc == 0 && part == SNAP_MOVIES && (n = r->rt_snap_rows_u.movies.movies_len))
                a.after_a = r->rt_snap_rows_u.movies.movies_val[n - 1].movie;
            if (rc == 0 && part == SNAP_RATINGS && (n = r->rt_snap_rows_u.ratings.ratings_len)) {
                a.after_a = r->rt_snap_rows_u.ratings.ratings_val[n - 1].user;
                a.after_b = r->rt_snap_rows_u.ratings.ratings_val[n - 1].movie;
            }
            if (rc == 0 && part == SNAP_EXECUTED &&
                (n = r->rt_snap_rows_u.executed.executed_len)) {
                a.after_a = r->rt_snap_rows_u.executed.executed_val[n - 1].uid.origin;
                a.after_b = r->rt_snap_rows_u.executed.executed_val[n - 1].uid.seq;
            }
            if (rc == 0 && part == SNAP_LOG && (n = r->rt_snap_rows_u.log.log_len)) {
                const rt_record *last = &r->rt_snap_rows_u.log.log_val[n - 1];
                a.after_a = last->origin;
                a.after_b = last->origin < last->ts.rt_vts_len ? last->ts.rt_vts_val[last->origin]
                                                                : 0;
            }
            rows += n;
            done = rc != 0 || res.done || n == 0;
            xdr_free((xdrproc_t)xdr_rt_snap_res, (char *)&res);
        }
    }
    a.part = SNAP_END;
    if (rc == 0)
        rc = snap_page(c, &a, &res, &bytes);
    calls++;
    xdr_free((xdrproc_t)xdr_rt_snap_res, (char *)&res);
    clnt_destroy(c);
    if (rc == 0)
        printf("{\"mode\":\"snapshot\",\"bytes\":%llu,\"rows\":%llu,\"calls\":%llu,"
               "\"ms\":%.1f}\n",
               (unsigned long long)bytes, (unsigned long long)rows, (unsigned long long)calls,
               (now_s() - t0) * 1000);
    return rc ? 1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: ratingbench null|query|update|converge|gbytes|snapshot [-H host] -P prog [-c clients]"
                    " [-d seconds] [-n updates] [-R host:prog,...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *m = argv[1];
    opt.mode = !strcmp(m, "null")     ? M_NULL
               : !strcmp(m, "query")  ? M_QUERY
               : !strcmp(m, "update") ? M_UPDATE
               : !strcmp(m, "converge") ? M_CONVERGE
               : !strcmp(m, "gbytes") ? M_GBYTES
               : !strcmp(m, "snapshot") ? M_SNAPSHOT
                                        : (usage(), M_NULL);
    int c;
    char err[256];
    optind = 2;
    while ((c = getopt(argc, argv, "H:P:c:d:n:R:")) != -1) {
        switch (c) {
        case 'H': opt.host = optarg; break;
        case 'P': if (rpc_parse_prog(optarg, &opt.prog)) usage(); break;
        case 'c': opt.clients = atoi(optarg); break;
        case 'd': opt.seconds = atof(optarg); break;
        case 'n': opt.updates = atoi(optarg); break;
        case 'R':
            if (cluster_parse(&opt.cluster, optarg, err, sizeof err)) {
                fprintf(stderr, "ratingbench: %s\n", err);
                return 2;
            }
            break;
        default: usage();
        }
    }
    if (opt.mode == M_GBYTES)
        return run_gbytes();
    if (opt.mode == M_SNAPSHOT)
        return opt.prog ? run_snapshot() : (usage(), 2);
    if (!opt.prog || opt.clients < 1 || opt.seconds <= 0)
        usage();
    while (getrandom(&opt.origin, sizeof opt.origin, 0) != sizeof opt.origin || !opt.origin)
        ;
    if (opt.mode == M_CONVERGE)
        return run_converge();
    return run_load(m);
}
