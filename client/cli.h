/*
 * cli.h -- the shared types of the command-line client `rating`: the exit
 * codes, one parsed command, where requests go, and a session (the vector
 * timestamp `prev` of what it has seen, the id of its next update, and the
 * connection).
 *
 * Every global symbol of client/ starts with cli_: unit tests link the
 * client, the front end and the replica together.
 */
#ifndef RATINGD_CLI_H
#define RATINGD_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <rpc/rpc.h>

#include "cluster.h"
#include "record.h"
#include "vts.h"

/* Exit codes (rating --help lists them). */
enum {
    CLI_OK = 0,
    CLI_NOT_FOUND = 1,   /* unknown movie, user or rating; no title matches */
    CLI_USAGE = 2,       /* bad option, command or argument; nothing was sent */
    CLI_UNAVAILABLE = 3, /* cannot reach the service, or it could not serve */
    CLI_EXISTS = 4,      /* rate: the user has rated that movie already */
    CLI_STALE = 5        /* the rating has a later write than this update (--uid) */
};

typedef enum cli_kind {
    CMD_MOVIE,
    CMD_SEARCH,
    CMD_GET,
    CMD_USER,
    CMD_RATE,
    CMD_UPDATE,
    CMD_DELETE,
    CMD_ADD_MOVIE,
    CMD_STATUS,
    CMD_SHELL
} cli_kind;

/* A command with its arguments checked: ids are valid, a rating is in
 * half-stars, an update passed op_check. */
typedef struct cli_cmd {
    cli_kind kind;
    uint32_t user;                    /* CMD_GET, CMD_USER */
    uint32_t movie;                   /* CMD_MOVIE, CMD_GET */
    char pattern[RT_MAX_TITLE + 1];   /* CMD_SEARCH */
    op_t op;                          /* CMD_RATE, CMD_UPDATE, CMD_DELETE, CMD_ADD_MOVIE */
    int watch_ms;                     /* CMD_STATUS --watch: refresh interval (0: once) */
} cli_cmd_t;

/* Where requests go: the front end (FE_*), or one replica (RP_*). */
typedef struct cli_target {
    char host[CLUSTER_HOST_MAX];
    uint32_t prog;
    bool replica;
    int timeout_ms;
} cli_target_t;

typedef struct cli_session {
    cli_target_t target;
    const cluster_t *frontends; /* the configuration's front ends to fail over to, or NULL */
    uint32_t fe_index;          /* the one target is */
    const char *file;      /* --session FILE, or NULL */
    bool shell;            /* interactive mode: a repeated command is a retry */
    CLIENT *clnt;          /* connected on first use; NULL again after an RPC failure */
    vts_t prev;            /* what this session has seen: sent with every request */
    bool seen_reply;       /* prev took in a reply (the session file needs saving) */
    upd_id_t uid;          /* the id of the next update ... */
    uint64_t stamp;        /* ... and its stamp (0: not chosen yet) */
    bool fixed_uid;        /* --uid: the id (and stamp) are the user's */
    uint64_t stamp_last;   /* the greatest stamp used or told of (rating.x) */
    op_t last_op;          /* the last update sent ... */
    bool last_unknown;     /* ... and no answer came: a repeat reuses its id */
} cli_session_t;

#endif
