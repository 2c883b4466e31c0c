/* fixture.c -- the replica the fuzz harnesses run against (fixture.h). */
#include "fixture.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handlers.h"
#include "log.h"
#include "snapshot.h"

static char dir[256], golden[300], work[300];
static state_t *st;
static bool open_now;
static const struct rpc_program *prog;
uint64_t fixture_snap_session;

static const struct rpc_program *wrap(const struct rpc_program *p);

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz fixture: %s: %s\n", what, err);
    exit(1);
}

static void open_state(const char *path)
{
    struct state_config cfg = {.id = FIXTURE_ID, .n = FIXTURE_N, .db_path = path,
                               .no_sync = true, .overload = 1000000, .seed = 1};
    char err[256];
    if (!(st = state_open(&cfg, err, sizeof err)))
        die("state_open", err);
    /* A new database recovers until every peer has been heard from (the
     * peers of the fuzzed replica are new too): else every update would
     * be refused and the update path left unfuzzed. */
    vts_t zero;
    vts_zero(&zero, FIXTURE_N);
    for (uint32_t k = 0; k < FIXTURE_N; k++)
        if (k != FIXTURE_ID)
            state_heard_status(st, k, &zero, true);
    open_now = true;
}

static void close_state(void)
{
    if (!open_now)
        return;
    /* A view an input left open reads the file we are about to replace. */
    if (fixture_snap_session) {
        rt_snap_args a = {.from = 1, .session = fixture_snap_session, .part = SNAP_END};
        rt_snap_res r;
        memset(&r, 0, sizeof r);
        snapshot_serve(st, &a, &r);
        xdr_free((xdrproc_t)xdr_rt_snap_res, (char *)&r);
        fixture_snap_session = 0;
    }
    state_close(st);
    st = NULL;
    open_now = false;
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char buf[65536];
    ssize_t n;
    if (in < 0 || out < 0)
        die("copy", from);
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            die("copy", to);
    close(in);
    close(out);
}

static void remove_db(const char *path)
{
    char p[320];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static void cleanup(void)
{
    close_state();
    remove_db(work);
    remove_db(golden);
    rmdir(dir);
}

void fixture_init(void)
{
    /* Quiet unless FUZZ_VERBOSE: hostile gossip makes the replica log errors by design. */
    log_init("fuzz", getenv("FUZZ_VERBOSE") ? LOG_LVL_DEBUG : (enum log_level)(LOG_LVL_ERROR + 1));
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/ratingd-fuzz.XXXXXX", base);
    if (!mkdtemp(dir))
        die("mkdtemp", dir);
    snprintf(golden, sizeof golden, "%s/golden.db", dir);
    snprintf(work, sizeof work, "%s/replica.db", dir);
    atexit(cleanup);
    /* The data set: FUZZ_DATA, or tests/e2e/data from the source tree. */
    const char *data = getenv("FUZZ_DATA");
    if (!data)
        data = FUZZ_SRCDIR "/tests/e2e/data";
    char err[256];
    open_state(golden);
    if (state_import(st, data, false, err, sizeof err) < 0)
        die("import", err);
    close_state(); /* the last close checkpoints the WAL into the file */
}

state_t *fixture_reset(void)
{
    close_state();
    remove_db(work);
    copy_file(golden, work);
    open_state(work);
    prog = wrap(replica_program(st, FIXTURE_PROG));
    return st;
}

const struct rpc_program *fixture_program(void) { return prog; }

void fixture_snap_seen(const rt_snap_args *a, const rt_snap_res *r)
{
    if (r->status != RT_OK)
        return;
    if (a->part == SNAP_BEGIN)
        fixture_snap_session = r->rows.rt_snap_rows_u.header.session;
    else if (a->part < SNAP_MOVIES || a->part > SNAP_LOG)
        fixture_snap_session = 0; /* SNAP_END, or a part the server treats as one */
}

/* The replica's own procedure table, except that SNAPSHOT also tells us
 * which view it opened or closed. */
static rpc_handler real_snapshot;
static struct rpc_proc procs[16];
static struct rpc_program wrapped;

static bool_t snapshot_seen(void *arg, void *res, struct svc_req *rq)
{
    bool_t ok = real_snapshot(arg, res, rq);
    fixture_snap_seen(arg, res);
    return ok;
}

static const struct rpc_program *wrap(const struct rpc_program *p)
{
    if (p->nprocs > sizeof procs / sizeof procs[0])
        die("procedure table", "too long");
    memcpy(procs, p->procs, p->nprocs * sizeof *procs);
    real_snapshot = procs[RP_SNAPSHOT].fn;
    procs[RP_SNAPSHOT].fn = snapshot_seen;
    wrapped = *p;
    wrapped.procs = procs;
    return &wrapped;
}
