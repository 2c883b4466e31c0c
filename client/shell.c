/* shell.c -- interactive mode: a menu with prompts, or typed commands. */
#include "shell.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "conn.h"
#include "report.h"
#include "session.h"

#define MAX_WORDS 16
#define ANSWER_MAX 1024

typedef struct shell {
    cli_session_t *s;
    FILE *in;
    bool prompts;
    bool quit;
} shell_t;

/* ---- words ------------------------------------------------------------ */

int cli_split(char *line, char **words, int max, const char **err)
{
    char *r = line, *w = line;
    int n = 0;
    for (;;) {
        while (isspace((unsigned char)*r))
            r++;
        if (!*r)
            return n;
        if (n == max) {
            *err = "too many words";
            return -1;
        }
        words[n++] = w;
        char quote = 0;
        while (*r && (quote || !isspace((unsigned char)*r))) {
            if (quote && *r == quote)
                quote = 0, r++;
            else if (!quote && (*r == '"' || *r == '\''))
                quote = *r++;
            else if (*r == '\\' && quote != '\'' && r[1])
                r++, *w++ = *r++;
            else
                *w++ = *r++;
        }
        if (quote) {
            *err = "a quote is not closed";
            return -1;
        }
        if (*r)
            r++;
        *w++ = '\0';
    }
}

/* ---- text for a person ------------------------------------------------- */

static const char menu_text[] =
    "  1  retrieve a movie, by id or by title\n"
    "  2  a user's rating of a movie, or all of the user's ratings\n"
    "  3  submit a rating, or a new movie with its first rating\n"
    "  4  update or delete a rating\n"
    "  5  status of the replicas\n"
    "  0  exit\n";

static const char commands_text[] =
    "Or type a command:\n"
    "  movie ID | search TEXT | get USER MOVIE | user USER\n"
    "  rate USER MOVIE RATING | update USER MOVIE RATING | delete USER MOVIE\n"
    "  add-movie USER RATING \"TITLE\" [\"GENRES\"] | status | help | quit\n"
    "Ratings are 0.5 to 5.0 in steps of 0.5.\n";

static void show_help(void)
{
    printf("%s%s", menu_text, commands_text);
}

static void banner(const cli_session_t *s)
{
    char name[CLUSTER_HOST_MAX + 64];
    printf("rating shell: talking to %s.\n"
           "Your session sees its own writes until you leave it.\n\n",
           cli_target_name(&s->target, name, sizeof name));
    show_help();
}

/* ---- running a command --------------------------------------------------- */

static void run_words(shell_t *sh, int argc, char **argv)
{
    cli_cmd_t cmd;
    char err[512];
    if (cli_parse_command(argc, argv, &cmd, err, sizeof err) < 0) {
        cli_error("%s (help lists the commands)", err);
        return;
    }
    if (cmd.kind == CMD_SHELL) {
        cli_error("this is the shell already");
        return;
    }
    cli_run(sh->s, &cmd);
    cli_session_commit(sh->s);
    fflush(stdout);
}

/* Ask for one line; false at end of input (which ends the shell). */
static bool ask(shell_t *sh, const char *prompt, char *buf, size_t len)
{
    if (sh->prompts) {
        printf("%s", prompt);
        fflush(stdout);
    }
    if (!fgets(buf, (int)len, sh->in)) {
        sh->quit = true;
        return false;
    }
    size_t n = strlen(buf);
    if (n == len - 1 && buf[n - 1] != '\n') {
        int c;
        while ((c = fgetc(sh->in)) != EOF && c != '\n')
            ; /* the rest of an over-long line: the answer fails its checks */
    }
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    char *p = buf;
    while (isspace((unsigned char)*p))
        p++;
    memmove(buf, p, strlen(p) + 1);
    return true;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* ---- the menu -------------------------------------------------------------- */

typedef char answer_t[ANSWER_MAX];

static void menu_retrieve(shell_t *sh)
{
    answer_t a;
    if (!ask(sh, "Movie id or title: ", a, sizeof a))
        return;
    char *argv[] = {all_digits(a) ? "movie" : "search", a};
    run_words(sh, 2, argv);
}

static void menu_ratings(shell_t *sh)
{
    answer_t user, movie;
    if (!ask(sh, "User id: ", user, sizeof user) ||
        !ask(sh, "Movie id (Enter for all of the user's ratings): ", movie, sizeof movie))
        return;
    char *get[] = {"get", user, movie}, *all[] = {"user", user};
    if (*movie)
        run_words(sh, 3, get);
    else
        run_words(sh, 2, all);
}

static void menu_new_movie(shell_t *sh, char *user)
{
    answer_t title, genres, rating;
    if (!ask(sh, "Title, e.g. My Film (2026): ", title, sizeof title) ||
        !ask(sh, "Genres separated by |, e.g. Comedy|Drama (Enter for none): ", genres,
             sizeof genres) ||
        !ask(sh, "Your rating (0.5 to 5.0): ", rating, sizeof rating))
        return;
    char *argv[] = {"add-movie", user, rating, title, genres};
    run_words(sh, *genres ? 5 : 4, argv);
}

static void menu_submit(shell_t *sh)
{
    answer_t user, movie, rating;
    if (!ask(sh, "User id: ", user, sizeof user) ||
        !ask(sh, "Movie id (Enter to add a new movie): ", movie, sizeof movie))
        return;
    if (!*movie) {
        menu_new_movie(sh, user);
        return;
    }
    if (!ask(sh, "Rating (0.5 to 5.0): ", rating, sizeof rating))
        return;
    char *argv[] = {"rate", user, movie, rating};
    run_words(sh, 4, argv);
}

static void menu_change(shell_t *sh)
{
    answer_t user, movie, rating;
    if (!ask(sh, "User id: ", user, sizeof user) || !ask(sh, "Movie id: ", movie, sizeof movie) ||
        !ask(sh, "New rating (0.5 to 5.0), or 'delete': ", rating, sizeof rating))
        return;
    char *upd[] = {"update", user, movie, rating}, *del[] = {"delete", user, movie};
    if (strcmp(rating, "delete") == 0 || strcmp(rating, "d") == 0)
        run_words(sh, 3, del);
    else
        run_words(sh, 4, upd);
}

static void menu(shell_t *sh, int choice)
{
    char *status[] = {"status"};
    switch (choice) {
    case 0: sh->quit = true; break;
    case 1: menu_retrieve(sh); break;
    case 2: menu_ratings(sh); break;
    case 3: menu_submit(sh); break;
    case 4: menu_change(sh); break;
    case 5: run_words(sh, 1, status); break;
    default: cli_error("choose 0 to 5 from the menu (help shows it)"); break;
    }
}

/* ---- the loop ----------------------------------------------------------------- */

static void one_line(shell_t *sh, char *line)
{
    char *words[MAX_WORDS];
    const char *err = NULL;
    int n = cli_split(line, words, MAX_WORDS, &err);
    if (n < 0) {
        cli_error("%s", err);
        return;
    }
    if (n == 0 || words[0][0] == '#')
        return;
    if (n == 1 && all_digits(words[0]))
        menu(sh, strlen(words[0]) == 1 ? words[0][0] - '0' : -1);
    else if (n == 1 && (!strcmp(words[0], "quit") || !strcmp(words[0], "exit") ||
                        !strcmp(words[0], "q")))
        sh->quit = true;
    else if (n == 1 && (!strcmp(words[0], "help") || !strcmp(words[0], "?") ||
                        !strcmp(words[0], "menu")))
        show_help();
    else
        run_words(sh, n, words);
}

int cli_shell(cli_session_t *s, FILE *in, bool prompts)
{
    shell_t sh = {.s = s, .in = in, .prompts = prompts};
    char *line = NULL;
    size_t cap = 0;
    s->shell = true;
    if (prompts)
        banner(s);
    while (!sh.quit) {
        if (prompts) {
            printf("rating> ");
            fflush(stdout);
        }
        if (getline(&line, &cap, in) < 0)
            break;
        one_line(&sh, line);
    }
    if (prompts && !sh.quit)
        putchar('\n'); /* after ^D, leave the terminal on a new line */
    free(line);
    return CLI_OK;
}
