/*
 * conn.h -- the client's RPC calls.  The session connects on first use to
 * the front end (FE_* procedures) or, with --replica, to one replica (RP_*
 * procedures with the same argument and result types), found through the
 * rpcbind of its host.  A failure is reported on stderr, naming what could
 * not be reached and why, and the connection is dropped so that the next
 * call (in the shell) connects again.
 *
 * Each call clears the result first; the caller xdr_frees it afterwards,
 * whether the call worked or not.
 */
#ifndef RATINGD_CLI_CONN_H
#define RATINGD_CLI_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/* "the front end at localhost program 0x2f5a7000" */
char *cli_target_name(const cli_target_t *t, char *buf, size_t len);
/* Connect unless connected.  false: reported. */
bool cli_connect(cli_session_t *s);
void cli_disconnect(cli_session_t *s);

/* true: an answer arrived (its status may still be an error). */
bool cli_call_query(cli_session_t *s, rt_query_args *a, rt_query_res *r);
bool cli_call_update(cli_session_t *s, bool submit, rt_update_args *a, rt_update_res *r);
/* Every replica through the front end, or the one replica: a list of one. */
bool cli_call_status(cli_session_t *s, rt_status_list *list);

#endif
