/*
 * main.c -- rating, the command-line client of ratingd: options, then one
 * command (or the interactive shell), then the session file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "conn.h"
#include "options.h"
#include "report.h"
#include "session.h"
#include "shell.h"

#define RATING_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: rating [options] COMMAND [ARGS]\n"
            "The client of ratingd, a replicated movie-rating service.\n\n"
            "Commands:\n"
            "  movie ID                  the movie: id, title, genres, average, ratings\n"
            "  search TEXT               movies whose title contains TEXT (any case), one\n"
            "                            per line: ID TITLE GENRES AVERAGE COUNT (tabs)\n"
            "  get USER MOVIE            the user's rating of the movie, e.g. 4.0\n"
            "  user USER                 all the user's ratings: MOVIE RATING per line (tab)\n"
            "  rate USER MOVIE RATING    a new rating\n"
            "  update USER MOVIE RATING  change an existing rating\n"
            "  delete USER MOVIE         delete a rating\n"
            "  add-movie USER RATING TITLE [GENRES]\n"
            "                            a new movie (GENRES like Comedy|Drama) with the\n"
            "                            user's rating; prints the new movie's id\n"
            "  status [--watch [SECONDS]]\n"
            "                            every replica: reachable, state, timestamps, how\n"
            "                            far behind, log, digest, ...; --watch refreshes it\n"
            "                            every SECONDS (2) until Ctrl-C\n"
            "  shell                     interactive: a menu, or these commands at a prompt\n"
            "                            (the default without a command, on a terminal)\n"
            "Ratings are 0.5 to 5.0 in steps of 0.5; ids are positive whole numbers.\n"
            "rate, update and delete print \"ok replica=K ts=[...]\": the replica that\n"
            "accepted the update, and the update's vector timestamp.\n\n"
            "Options (before the command):\n"
            "  -c, --config FILE        configuration file: its front ends are tried in\n"
            "                           order (default " CONFIG_DEFAULT_PATH ";\n"
            "                           env RATING_CONFIG; '' for none)\n"
            "  -H, --host HOST          front end host (default: the configuration's first\n"
            "                           front end, else localhost; env RATING_HOST)\n"
            "  -P, --prog PROG          front end program number (default %#x;\n"
            "                           env RATING_PROG)\n"
            "  -r, --replica HOST:PROG  talk to this one replica directly (tests, debugging)\n"
            "  -s, --session FILE       keep the session's timestamp in FILE, so that later\n"
            "                           commands see this one's writes (env RATING_SESSION)\n"
            "  -t, --timeout MS         RPC timeout in milliseconds (default %d)\n"
            "      --uid ORIGIN:SEQ:STAMP  the update's id and stamp, as printed when an\n"
            "                           update's outcome is unknown: the same command with\n"
            "                           them is a retry, applied at most once, at one place\n"
            "                           in the order of the rating's writes (ORIGIN:SEQ\n"
            "                           alone: the stamp is chosen now)\n"
            "  -h, --help               this text\n"
            "  -V, --version            the version\n\n"
            "Exit status:\n"
            "  0  ok\n"
            "  1  not found: no such movie, user or rating; no title matches\n"
            "  2  usage or invalid input (nothing was sent), or a malformed session file\n"
            "  3  the service is unavailable: cannot reach it, no answer in time, no replica\n"
            "     could serve, a server error; or the session file could not be written\n"
            "  4  already exists: rate of a rating the user has already given (use update)\n"
            "  5  superseded: with --uid, the rating has a later write than the update\n"
            "     (the later one stands; the command without --uid writes it again)\n",
            RATING_FRONTEND, CLI_DEFAULT_TIMEOUT_MS);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "rating: %s\nTry 'rating --help' for more information.\n", msg);
    return CLI_USAGE;
}

/* The command words into cmd; none means the shell on a terminal. */
static int command(int argc, char **argv, cli_cmd_t *cmd)
{
    char err[512];
    if (argc == 0) {
        memset(cmd, 0, sizeof *cmd);
        cmd->kind = CMD_SHELL;
        return isatty(STDIN_FILENO) ? 0 : usage_error("no command given");
    }
    if (cli_parse_command(argc, argv, cmd, err, sizeof err) < 0)
        return usage_error(err);
    return 0;
}

static int open_session(cli_session_t *s, const cli_options_t *o)
{
    char err[4200];
    memset(s, 0, sizeof *s);
    s->target = o->target;
    if (!o->fixed_target && !o->has_replica && o->file.frontends.n > 1)
        s->frontends = &o->file.frontends;
    s->file = o->session_file;
    if (s->file && cli_session_load(s->file, &s->prev, err, sizeof err) < 0) {
        cli_error("%s", err);
        return CLI_USAGE;
    }
    s->uid = o->uid;
    s->stamp = o->stamp;
    s->fixed_uid = o->has_uid;
    if (!o->has_uid && cli_uid_fresh(&s->uid) < 0) {
        cli_error("cannot get random bits for an update id (getrandom failed)");
        return CLI_UNAVAILABLE;
    }
    return CLI_OK;
}

/* Flush the answer; a closed pipe (rating user 1 | head) is not an error. */
static int flush_output(int rc)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    if (errno == EPIPE)
        return rc;
    cli_error("cannot write the output");
    return rc ? rc : CLI_UNAVAILABLE;
}

int main(int argc, char **argv)
{
    static cli_options_t o; /* static: the configuration's text stays reachable */
    cli_session_t s;
    cli_cmd_t cmd;
    char err[512];
    signal(SIGPIPE, SIG_IGN); /* a server that hangs up is an RPC error, not a signal */
    if (cli_options_parse(argc, argv, &o, err, sizeof err) < 0) {
        cli_options_release(&o);
        return usage_error(err);
    }
    if (o.help) {
        usage(stdout);
        return CLI_OK;
    }
    if (o.version) {
        printf("rating (ratingd) %s\n", RATING_VERSION);
        return CLI_OK;
    }
    int rc = command(argc - o.first, argv + o.first, &cmd);
    if (rc == CLI_OK)
        rc = open_session(&s, &o);
    if (rc != CLI_OK)
        return rc;
    if (cmd.kind == CMD_SHELL)
        rc = cli_shell(&s, stdin, isatty(STDIN_FILENO));
    else
        rc = cli_run(&s, &cmd);
    int saved = cli_session_commit(&s);
    cli_disconnect(&s);
    cli_options_release(&o);
    return flush_output(rc != CLI_OK ? rc : saved);
}
