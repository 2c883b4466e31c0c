/*
 * session.h -- what a session carries from one request to the next: the
 * vector timestamp `prev` (kept in a file with --session, so one-shot
 * commands read their own writes too) and the ids of its updates.
 *
 * The session file holds one line, "[a,b,c]".  A missing or empty file is
 * an empty prev; anything else that is not such a line is an error, never
 * silently an empty prev.  It is replaced atomically (temporary file + rename).
 */
#ifndef RATINGD_CLI_SESSION_H
#define RATINGD_CLI_SESSION_H

#include <stddef.h>

#include "cli.h"

/* Read prev from path.  Returns 0 (a missing or empty file: empty prev), or -1
 * with a message in err. */
int cli_session_load(const char *path, vts_t *prev, char *err, size_t errlen);
/* Write prev, merged with what path holds now (another invocation may
 * have saved meanwhile), to path atomically.  Returns 0 or -1 and err. */
int cli_session_save(const char *path, const vts_t *prev, char *err, size_t errlen);

/* Save s->prev to s->file if it took in a reply since the last save.
 * Returns CLI_OK, or CLI_UNAVAILABLE after reporting. */
int cli_session_commit(cli_session_t *s);

/* Parse --uid "ORIGIN:SEQ:STAMP" (as say_unknown prints it) or
 * "ORIGIN:SEQ" (*stamp = 0: chosen when sent), decimal numbers, ORIGIN and
 * STAMP not 0.  0 or -1.  Only the three-part form repeats an update
 * safely at any replica (rating.x: the stamp belongs to the update). */
int cli_uid_parse(const char *s, upd_id_t *uid, uint64_t *stamp);
/* A fresh id: 64 random bits (never 0) from getrandom(), seq 1.  0 or -1. */
int cli_uid_fresh(upd_id_t *uid);

/* The id and stamp for the next update of op: a repeat of an update that
 * got no answer reuses that update's (so the service applies it once, at
 * one place in the order of its rating); anything else takes the next
 * sequence number and a new stamp.  *repeat says which. */
upd_id_t cli_session_next_uid(cli_session_t *s, const op_t *op, bool *repeat);
/* Record the outcome of the update just sent: answered or not. */
void cli_session_sent(cli_session_t *s, const op_t *op, bool answered);
/* RT_STALE for an update no replica can have applied: a new id whose
 * stamp is after `later`, the later write's. */
void cli_session_restamp(cli_session_t *s, uint64_t later);

#endif
