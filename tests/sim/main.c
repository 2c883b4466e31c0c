/*
 * main.c -- ratingsim, the deterministic simulator's command line
 * (docs/simulator.md).
 *
 *   ratingsim [--seed S] [--schedules N] [--replicas N] [--steps N]
 *             [--faults LIST] [--jobs J] [--time-limit SEC] [-v] ...
 *
 * Runs N schedules with seeds S, S+1, ...; prints one line per failing
 * seed and a summary; exit 1 if any schedule had a violation, 2 on a usage
 * error, 3 if the simulator itself failed.  --seed S --schedules 1 -v
 * replays one schedule, printing its events.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

/* The classes the code survives today (docs/simulator.md); wipe and
 * restore still find divergence (issue 10). */
#define DEFAULT_FAULTS "drop,dup,delay,partition,clock,crash,pause,late"

struct options {
    uint64_t seed, schedules;
    unsigned jobs;
    double time_limit;
    struct sim_params par;
    const char *history;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ratingsim [options]\n"
            "Runs schedules of a simulated ratingd cluster (the real state, gossip and store\n"
            "code; simulated network, clocks, clients and faults) and checks each history.\n\n"
            "  --seed S          first seed (default 1); schedule i uses seed S + i\n"
            "  --schedules N     schedules to run (default 100)\n"
            "  --replicas N      3 to 5 (default: chosen per schedule)\n"
            "  --steps N         client operations per schedule (default 100)\n"
            "  --faults LIST     fault classes to use: all, none, or of drop dup delay\n"
            "                    partition clock crash pause late wipe restore; -x removes one\n"
            "                    (default " DEFAULT_FAULTS ")\n"
            "  --jobs J          run in J processes (default 1)\n"
            "  --time-limit SEC  start no schedule after SEC seconds\n"
            "  --data DIR        the data set (default tests/e2e/data)\n"
            "  --work DIR        databases (default /dev/shm/ratingsim.PID)\n"
            "  --history FILE    write each schedule's history in the log format\n"
            "  -v                the events of every schedule, and every violation (-v -v:\n"
            "                    the replicas' log lines too)\n\n"
            "Exit status: 0 no violation, 1 violations, 2 usage, 3 the simulator failed.\n");
}

static int number(const char *v, uint64_t min, uint64_t max, uint64_t *out, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || end == v || x < min || x > max) {
        fprintf(stderr, "ratingsim: %s: %s is not a number from %llu to %llu\n", what, v,
                (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"seed", 1, 0, 'S'},  {"schedules", 1, 0, 'N'}, {"replicas", 1, 0, 'R'},
        {"steps", 1, 0, 's'}, {"faults", 1, 0, 'F'},    {"jobs", 1, 0, 'j'},
        {"time-limit", 1, 0, 't'}, {"data", 1, 0, 'd'}, {"work", 1, 0, 'w'},
        {"history", 1, 0, 'H'}, {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    char err[256];
    uint64_t x;
    int c;
    if (faults_parse(DEFAULT_FAULTS, &o->par.faults, err, sizeof err) < 0)
        return -1;
    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'S': rc = number(optarg, 0, UINT64_MAX / 2, &o->seed, "--seed"); break;
        case 'N': rc = number(optarg, 1, UINT64_MAX / 2, &o->schedules, "--schedules"); break;
        case 'R': rc = number(optarg, 3, SIM_MAX_REPLICAS, &x, "--replicas");
                  o->par.replicas = (uint32_t)x; break;
        case 's': rc = number(optarg, 1, 1000000, &x, "--steps"); o->par.steps = (uint32_t)x; break;
        case 'j': rc = number(optarg, 1, 64, &x, "--jobs"); o->jobs = (unsigned)x; break;
        case 't': rc = number(optarg, 1, 1000000, &x, "--time-limit"); o->time_limit = (double)x;
                  break;
        case 'F':
            rc = faults_parse(optarg, &o->par.faults, err, sizeof err);
            if (rc < 0)
                fprintf(stderr, "ratingsim: %s\n", err);
            break;
        case 'd': o->par.data_dir = optarg; break;
        case 'w': o->par.work_dir = optarg; break;
        case 'H': o->history = optarg; break;
        case 'v': o->par.verbose++; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "ratingsim: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->history && o->jobs > 1) {
        fprintf(stderr, "ratingsim: --history writes one file: not with --jobs\n");
        return -1;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Schedules first, first + stride, ... (count of them, or until the time
 * limit): a line per failing seed on out, the counts into *total. */
static void run_seeds(const struct options *o, const struct sim_params *par, uint64_t first,
                      uint64_t stride, uint64_t count, double started, FILE *out,
                      struct sim_stats *total)
{
    for (uint64_t i = 0; i < count; i++) {
        if (o->time_limit > 0 && now_s() - started > o->time_limit)
            break;
        uint64_t seed = first + i * stride;
        char *text = NULL;
        size_t len = 0;
        FILE *rep = open_memstream(&text, &len);
        if (!rep)
            sim_die(NULL, "out of memory");
        int v = sim_run(seed, par, total, rep);
        fclose(rep);
        if (ferror(out))
            break; /* nobody reads what we print (a closed pipe): stop, and clean up */
        if (v > 0) {
            char *nl = strchr(text, '\n');
            fprintf(out, "seed %llu: %d violations: %.*s\n", (unsigned long long)seed, v,
                    nl ? (int)(nl - text) : (int)len, text);
            if (par->verbose)
                fputs(text, out);
            fflush(out);
        }
        free(text);
    }
}

/* Job j of J in a child process: seeds S + j, S + j + J, ...; its lines and
 * counts into files the parent reads. */
static pid_t start_job(const struct options *o, unsigned j, double started, const char *base)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    char dir[300], path[320];
    snprintf(dir, sizeof dir, "%s/job%u", base, j);
    mkdir(dir, 0700);
    struct sim_params par = o->par;
    par.work_dir = dir;
    snprintf(path, sizeof path, "%s/job%u.out", base, j);
    FILE *out = fopen(path, "w");
    struct sim_stats total = {0};
    uint64_t count = o->schedules > j ? (o->schedules - j + o->jobs - 1) / o->jobs : 0;
    if (!out)
        _exit(3);
    run_seeds(o, &par, o->seed + j, o->jobs, count, started, out, &total);
    fclose(out);
    snprintf(path, sizeof path, "%s/job%u.stats", base, j);
    FILE *st = fopen(path, "wb");
    if (!st || fwrite(&total, sizeof total, 1, st) != 1)
        _exit(3);
    fclose(st);
    sim_cleanup(&par);
    _exit(0);
}

static void add(struct sim_stats *t, const struct sim_stats *x)
{
    t->schedules += x->schedules, t->ops += x->ops, t->writes += x->writes;
    t->reads += x->reads, t->violations += x->violations, t->failing += x->failing;
    t->late_copies += x->late_copies, t->messages += x->messages;
    t->gossip_calls += x->gossip_calls, t->rejoins += x->rejoins, t->unquiet += x->unquiet;
    t->behind += x->behind, t->repairs += x->repairs, t->repair_rounds += x->repair_rounds;
    for (int f = 0; f < F_COUNT; f++)
        t->faults[f] += x->faults[f];
}

static int by_seed(const void *a, const void *b)
{
    unsigned long long x = strtoull(*(char *const *)a + 5, NULL, 10);
    unsigned long long y = strtoull(*(char *const *)b + 5, NULL, 10);
    return (x > y) - (x < y);
}

/* The jobs' failing seeds, in seed order (a job's -v text goes as it is). */
static int collect(const struct options *o, const char *base, struct sim_stats *total)
{
    char **lines = NULL, path[320], buf[4096];
    size_t n = 0, cap = 0;
    int rc = 0;
    for (unsigned j = 0; j < o->jobs; j++) {
        snprintf(path, sizeof path, "%s/job%u.stats", base, j);
        FILE *st = fopen(path, "rb");
        struct sim_stats x;
        if (!st || fread(&x, sizeof x, 1, st) != 1)
            rc = -1;
        else
            add(total, &x);
        if (st)
            fclose(st);
        unlink(path);
        snprintf(path, sizeof path, "%s/job%u.out", base, j);
        FILE *out = fopen(path, "r");
        while (out && fgets(buf, sizeof buf, out)) {
            if (o->par.verbose || strncmp(buf, "seed ", 5) != 0) {
                fputs(buf, stdout);
                continue;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                char **l = realloc(lines, cap * sizeof *l);
                if (!l)
                    sim_die(NULL, "out of memory");
                lines = l;
            }
            lines[n++] = strdup(buf);
        }
        if (out)
            fclose(out);
        unlink(path);
    }
    if (n)
        qsort(lines, n, sizeof *lines, by_seed);
    for (size_t i = 0; i < n; i++) {
        fputs(lines[i], stdout);
        free(lines[i]);
    }
    free(lines);
    return rc;
}

static void summary(const struct options *o, const struct sim_stats *t, double secs)
{
    char faults[128], injected[512], replicas[16] = "3-5";
    size_t len = 0;
    if (o->par.replicas)
        snprintf(replicas, sizeof replicas, "%u", o->par.replicas);
    faults_format(o->par.faults, faults, sizeof faults);
    injected[0] = '\0';
    for (int f = 0; f < F_COUNT; f++)
        if (t->faults[f])
            len += (size_t)snprintf(injected + len, sizeof injected - len, " %s %llu",
                                    fault_names[f], (unsigned long long)t->faults[f]);
    char seeds[64];
    if (t->schedules < o->schedules)
        snprintf(seeds, sizeof seeds, "from %llu, stopped by --time-limit",
                 (unsigned long long)o->seed);
    else
        snprintf(seeds, sizeof seeds, "%llu..%llu", (unsigned long long)o->seed,
                 (unsigned long long)(o->seed + o->schedules - 1));
    printf("ratingsim: %llu schedules (seeds %s, %s replicas, %u steps, faults %s) in %.1f s\n",
           (unsigned long long)t->schedules, seeds, replicas, o->par.steps, faults, secs);
    printf("ratingsim: %llu operations checked (%llu writes, %llu reads); faults injected:%s; "
           "late copies handled %llu, rejoins %llu (%llu behind their own updates), repairs "
           "%llu of %llu rounds, messages %llu\n",
           (unsigned long long)t->ops, (unsigned long long)t->writes,
           (unsigned long long)t->reads, len ? injected : " none",
           (unsigned long long)t->late_copies, (unsigned long long)t->rejoins,
           (unsigned long long)t->behind, (unsigned long long)t->repairs,
           (unsigned long long)t->repair_rounds, (unsigned long long)t->messages);
    printf("ratingsim: %llu violations in %llu schedules\n", (unsigned long long)t->violations,
           (unsigned long long)t->failing);
}

int main(int argc, char **argv)
{
    static char work[64];
    struct options o = {.seed = 1, .schedules = 100, .jobs = 1,
                        .par = {.steps = 100, .data_dir = "tests/e2e/data"}};
    if (parse(argc, argv, &o) < 0)
        return 2;
    if (!o.par.work_dir) {
        snprintf(work, sizeof work, "/dev/shm/ratingsim.%ld", (long)getpid());
        o.par.work_dir = work;
    }
    o.par.tmpl_dir = o.par.work_dir;
    FILE *hist = NULL;
    if (o.history && !(hist = fopen(o.history, "w"))) {
        fprintf(stderr, "ratingsim: %s: %s\n", o.history, strerror(errno));
        return 2;
    }
    o.par.history_out = hist;
    if (o.par.verbose)
        setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe ends the run normally: the databases go */
    sim_logging(0); /* the templates' import and first recovery say nothing of interest */
    char err[512];
    int prepared = sim_prepare(&o.par, err, sizeof err);
    sim_logging(o.par.verbose);
    if (prepared < 0) {
        fprintf(stderr, "ratingsim: cannot make the template databases: %s\n", err);
        return 3;
    }
    double started = now_s();
    struct sim_stats total = {0};
    int rc = 0;
    if (o.jobs == 1) {
        run_seeds(&o, &o.par, o.seed, 1, o.schedules, started, stdout, &total);
    } else {
        fflush(stdout);
        pid_t pids[64];
        for (unsigned j = 0; j < o.jobs; j++)
            if ((pids[j] = start_job(&o, j, started, o.par.work_dir)) < 0)
                sim_die(NULL, "fork: %s", strerror(errno));
        for (unsigned j = 0; j < o.jobs; j++) {
            int status;
            if (waitpid(pids[j], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
                rc = 3;
        }
        if (collect(&o, o.par.work_dir, &total) < 0)
            rc = 3;
    }
    summary(&o, &total, now_s() - started);
    if (hist)
        fclose(hist);
    sim_cleanup(&o.par);
    if (rc)
        return rc;
    return total.violations ? 1 : 0;
}
