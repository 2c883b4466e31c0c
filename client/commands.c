/* commands.c -- one function per command. */
#include "commands.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "conn.h"
#include "output.h"
#include "report.h"
#include "rpcutil.h"
#include "session.h"
#include "validate.h"

#define WHAT_MAX (RT_MAX_TITLE + 128)

/* ---- requests -------------------------------------------------------- */

/* Merge a reply's timestamp into prev. */
static void take_ts(cli_session_t *s, const rt_vts *ts)
{
    vts_t t;
    if (vts_from_xdr(&t, ts) == RT_OK)
        vts_merge(&s->prev, &t);
    s->seen_reply = true;
}

/* The service said no: "<what>: <its detail>". */
static int refused(const cli_session_t *s, rt_status st, const char *detail, const char *what)
{
    char ts[VTS_MAX * 22 + 4];
    cli_error("%s: %s", what, detail && *detail ? detail : status_text(st));
    if ((st == RT_NOT_READY || st == RT_UNAVAILABLE) && s->file && s->prev.n > 0)
        cli_error("note: requests carry the timestamp %s of session file %s; a replica that "
                  "has not seen that much cannot answer (if the file is from an earlier run of "
                  "the service, remove it)",
                  vts_format(&s->prev, ts, sizeof ts), s->file);
    return cli_exit_for(st);
}

/* Send query q; on RT_OK the answer (of q's kind) is in r.  `missing` is
 * the message for RT_NOT_FOUND.  The caller xdr_frees r in every case. */
static int query(cli_session_t *s, const rt_query *q, rt_query_res *r, const char *what,
                 const char *missing)
{
    rt_query_args a = {.q = *q};
    memset(r, 0, sizeof *r);
    if (vts_to_xdr(&a.prev, &s->prev) < 0) {
        cli_error("out of memory");
        return CLI_UNAVAILABLE;
    }
    bool answered = cli_call_query(s, &a, r);
    free(a.prev.rt_vts_val); /* a.q belongs to the caller */
    if (!answered)
        return CLI_UNAVAILABLE;
    take_ts(s, &r->ts);
    if (r->status == RT_NOT_FOUND && missing) {
        cli_error("%s", missing);
        return CLI_NOT_FOUND;
    }
    if (r->status != RT_OK)
        return refused(s, r->status, r->detail, what);
    if (!r->result.present || r->result.rt_answer_opt_u.answer.kind != q->kind) {
        cli_error("%s: the service sent an answer of the wrong kind", what);
        return CLI_UNAVAILABLE;
    }
    return CLI_OK;
}

/* After an update whose outcome is unknown: how to retry it safely. */
static void say_unknown(const cli_session_t *s, upd_id_t id, uint64_t stamp)
{
    if (s->shell)
        cli_error("the update may or may not have been applied; repeat the same command to "
                  "retry it (it keeps its id %llu:%llu:%llu, so it is applied at most once)",
                  (unsigned long long)id.origin, (unsigned long long)id.seq,
                  (unsigned long long)stamp);
    else
        cli_error("the update may or may not have been applied; to retry it so that it is "
                  "applied at most once, repeat the command with --uid %llu:%llu:%llu",
                  (unsigned long long)id.origin, (unsigned long long)id.seq,
                  (unsigned long long)stamp);
}

/* Send op (SUBMIT or UPDATE) once with the session's prev, id and stamp.
 * Returns whether an answer came; *repeat says the id was sent before. */
static bool send_update(cli_session_t *s, bool submit, const op_t *op, rt_update_res *r,
                        bool *repeat)
{
    rt_update_args a;
    memset(&a, 0, sizeof a);
    memset(r, 0, sizeof *r);
    upd_id_t id = cli_session_next_uid(s, op, repeat);
    a.uid.origin = id.origin;
    a.uid.seq = id.seq;
    a.stamp = s->stamp;
    if (vts_to_xdr(&a.prev, &s->prev) < 0 || op_to_xdr(&a.op, op) < 0) {
        xdr_free(RPC_XDR(xdr_rt_update_args), (char *)&a);
        cli_error("out of memory");
        return false;
    }
    bool answered = cli_call_update(s, submit, &a, r);
    xdr_free(RPC_XDR(xdr_rt_update_args), (char *)&a);
    return answered;
}

/* Times an update is sent again with a new id after RT_STALE. */
#define RESTAMPS 3

/* Send op (SUBMIT or UPDATE); the answer is in r, which the caller frees.
 * RT_STALE (a later write to the rating is there) for an update that no
 * replica can have applied -- its id was never sent without an answer, and
 * is not the user's -- means only that our stamp was behind: a new id with
 * a stamp after the later write's writes it (rating.x). */
static int update(cli_session_t *s, bool submit, const op_t *op, rt_update_res *r,
                  const char *what)
{
    bool repeat = false, answered = false, known = false;
    for (int n = 0; n <= RESTAMPS; n++) {
        answered = send_update(s, submit, op, r, &repeat);
        /* The front end's "unavailable" may follow a call that did reach a replica. */
        known = answered && r->status != RT_UNAVAILABLE;
        if (!known || r->status != RT_STALE || repeat || s->fixed_uid || n == RESTAMPS)
            break;
        cli_session_restamp(s, r->stamp);
        xdr_free(RPC_XDR(xdr_rt_update_res), (char *)r);
    }
    upd_id_t id = s->uid;
    uint64_t stamp = s->stamp;
    cli_session_sent(s, op, known);
    int rc = CLI_UNAVAILABLE;
    if (answered) {
        take_ts(s, &r->ts);
        if (r->stamp > s->stamp_last)
            s->stamp_last = r->stamp;
        rc = r->status == RT_OK ? CLI_OK : refused(s, r->status, r->detail, what);
    }
    if (!known)
        say_unknown(s, id, stamp);
    return rc;
}

/* ---- queries ----------------------------------------------------------- */

static int run_movie(cli_session_t *s, const cli_cmd_t *c)
{
    char what[64], missing[64];
    rt_query q = {.kind = Q_MOVIE, .rt_query_u.movie = c->movie};
    rt_query_res r;
    snprintf(what, sizeof what, "movie %u", c->movie);
    snprintf(missing, sizeof missing, "movie %u not found", c->movie);
    int rc = query(s, &q, &r, what, missing);
    if (rc == CLI_OK)
        cli_print_movie(stdout, &r.result.rt_answer_opt_u.answer.rt_answer_u.movie);
    xdr_free(RPC_XDR(xdr_rt_query_res), (char *)&r);
    return rc;
}

static int run_search(cli_session_t *s, const cli_cmd_t *c)
{
    char what[WHAT_MAX], missing[WHAT_MAX];
    rt_query q = {.kind = Q_TITLE, .rt_query_u.pattern = (char *)c->pattern};
    rt_query_res r;
    snprintf(what, sizeof what, "search '%s'", c->pattern);
    snprintf(missing, sizeof missing, "no movie matches '%s'", c->pattern);
    int rc = query(s, &q, &r, what, missing);
    if (rc == CLI_OK) {
        const rt_answer *a = &r.result.rt_answer_opt_u.answer;
        u_int n = a->rt_answer_u.matches.matches_len;
        for (u_int i = 0; i < n; i++)
            cli_print_match(stdout, &a->rt_answer_u.matches.matches_val[i]);
        if (n == 0) {
            cli_error("%s", missing);
            rc = CLI_NOT_FOUND;
        } else if (n >= RT_MAX_MATCHES) {
            cli_error("note: an answer holds at most %u matches, so there may be more; a "
                      "longer TEXT narrows the search", n);
        }
    }
    xdr_free(RPC_XDR(xdr_rt_query_res), (char *)&r);
    return rc;
}

static int run_get(cli_session_t *s, const cli_cmd_t *c)
{
    char what[64], missing[64];
    rt_query q = {.kind = Q_RATING, .rt_query_u.key = {c->user, c->movie}};
    rt_query_res r;
    snprintf(what, sizeof what, "user %u's rating of movie %u", c->user, c->movie);
    snprintf(missing, sizeof missing, "user %u has no rating of movie %u", c->user, c->movie);
    int rc = query(s, &q, &r, what, missing);
    if (rc == CLI_OK)
        cli_print_rating(stdout, r.result.rt_answer_opt_u.answer.rt_answer_u.halves);
    xdr_free(RPC_XDR(xdr_rt_query_res), (char *)&r);
    return rc;
}

/* One page of a user's ratings from offset *offset; advances it.  *more
 * says whether to ask for another page. */
static int user_page(cli_session_t *s, const cli_cmd_t *c, uint32_t *offset, bool *more)
{
    char what[64], missing[64];
    rt_query q = {.kind = Q_USER, .rt_query_u.page = {c->user, *offset, RT_MAX_PAGE}};
    rt_query_res r;
    snprintf(what, sizeof what, "ratings of user %u", c->user);
    snprintf(missing, sizeof missing, "user %u has no ratings", c->user);
    int rc = query(s, &q, &r, what, missing);
    *more = false;
    if (rc == CLI_OK) {
        const rt_user_ratings *u = &r.result.rt_answer_opt_u.answer.rt_answer_u.user;
        for (u_int i = 0; i < u->ratings.ratings_len; i++)
            cli_print_user_rating(stdout, &u->ratings.ratings_val[i]);
        *offset += u->ratings.ratings_len;
        /* an empty page ends it even if total says more: ratings went away meanwhile */
        *more = u->ratings.ratings_len > 0 && *offset < u->total;
    }
    xdr_free(RPC_XDR(xdr_rt_query_res), (char *)&r);
    return rc;
}

static int run_user(cli_session_t *s, const cli_cmd_t *c)
{
    uint32_t offset = 0;
    bool more = true;
    while (more) {
        int rc = user_page(s, c, &offset, &more);
        if (rc != CLI_OK)
            return rc;
    }
    if (offset == 0) {
        cli_error("user %u has no ratings", c->user);
        return CLI_NOT_FOUND;
    }
    return CLI_OK;
}

/* ---- updates -------------------------------------------------------------- */

/* rate, update, delete: "ok replica=K ts=[...]". */
static int run_change(cli_session_t *s, const cli_cmd_t *c)
{
    static const char *verb[] = {[CMD_RATE] = "rate", [CMD_UPDATE] = "update",
                                 [CMD_DELETE] = "delete"};
    char what[128];
    rt_update_res r;
    if (c->kind == CMD_RATE)
        snprintf(what, sizeof what, "cannot rate movie %u for user %u", c->op.movie, c->op.user);
    else
        snprintf(what, sizeof what, "cannot %s user %u's rating of movie %u", verb[c->kind],
                 c->op.user, c->op.movie);
    int rc = update(s, c->kind == CMD_RATE, &c->op, &r, what);
    if (rc == CLI_OK)
        cli_print_ok(stdout, r.replica, &r.ts);
    xdr_free(RPC_XDR(xdr_rt_update_res), (char *)&r);
    return rc;
}

/* add-movie: the new movie's id alone. */
static int run_add_movie(cli_session_t *s, const cli_cmd_t *c)
{
    char what[WHAT_MAX];
    rt_update_res r;
    snprintf(what, sizeof what, "cannot add the movie '%s'", c->op.title);
    int rc = update(s, true, &c->op, &r, what);
    if (rc == CLI_OK)
        printf("%u\n", r.movie);
    xdr_free(RPC_XDR(xdr_rt_update_res), (char *)&r);
    return rc;
}

/* ---- status ------------------------------------------------------------------ */

static int status_once(cli_session_t *s)
{
    rt_status_list list;
    int rc = CLI_UNAVAILABLE;
    if (cli_call_status(s, &list)) {
        cli_print_status(stdout, list.rt_status_list_val, list.rt_status_list_len);
        rc = CLI_OK;
    }
    xdr_free(RPC_XDR(xdr_rt_status_list), (char *)&list);
    return rc;
}

static volatile sig_atomic_t watch_stop;
static void on_watch_signal(int sig) { (void)sig; watch_stop = 1; }

/* status --watch: the table again every interval, on a cleared screen when
 * stdout is a terminal, until SIGINT or SIGTERM (then exit 0).  A service
 * that cannot be reached is reported and asked again next time. */
static int status_watch(cli_session_t *s, int interval_ms)
{
    struct sigaction sa = {.sa_handler = on_watch_signal}, old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    bool tty = isatty(STDOUT_FILENO);
    while (!watch_stop) {
        char when[32];
        time_t now = time(NULL);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
        printf("%s%s, every %.1f s (Ctrl-C to stop)\n", tty ? "\033[H\033[2J" : "", when,
               interval_ms / 1000.0);
        status_once(s);
        if (!tty)
            putchar('\n');
        fflush(stdout);
        struct timespec ts = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
        while (!watch_stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return CLI_OK;
}

static int run_status(cli_session_t *s, const cli_cmd_t *c)
{
    if (!c->watch_ms)
        return status_once(s);
    if (s->shell) {
        cli_error("status --watch runs as a command of its own, not in the shell");
        return CLI_USAGE;
    }
    return status_watch(s, c->watch_ms);
}

int cli_run(cli_session_t *s, const cli_cmd_t *cmd)
{
    switch (cmd->kind) {
    case CMD_MOVIE: return run_movie(s, cmd);
    case CMD_SEARCH: return run_search(s, cmd);
    case CMD_GET: return run_get(s, cmd);
    case CMD_USER: return run_user(s, cmd);
    case CMD_RATE:
    case CMD_UPDATE:
    case CMD_DELETE: return run_change(s, cmd);
    case CMD_ADD_MOVIE: return run_add_movie(s, cmd);
    case CMD_STATUS: return run_status(s, cmd);
    case CMD_SHELL: break;
    }
    cli_error("'%s' cannot run here", cli_command_synopsis(cmd->kind));
    return CLI_USAGE;
}
