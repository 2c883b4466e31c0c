/*
 * rpcclnt.h -- the front end's connections to replicas: ONC RPC calls over
 * one TCP connection, as a CLIENT, so the rpcgen stubs (rp_query_1, ...)
 * and clnt_destroy work on it unchanged.
 *
 * Why not libtirpc's clnt_vc: every call there blocks and restores all
 * signals (two sigprocmask system calls), takes a process-wide mutex twice,
 * and polls before it reads; on a query that is three of the front end's
 * seven system calls and its only global lock.  Here a call is one send()
 * and, usually, one recv(): the call is encoded with xdrmem into a buffer of
 * the connection's, the reply is read whole and decoded in place, and the
 * receive timeout (SO_RCVTIMEO) is the call timeout.
 *
 * One thread at a time per handle (the front end's pools lend each handle
 * to one request).  After any failure the connection's state is unknown:
 * destroy the handle (route_return(..., broken) does).
 */
#ifndef RATINGD_RPCCLNT_H
#define RATINGD_RPCCLNT_H

#include <stddef.h>
#include <stdint.h>

#include <rpc/rpc.h>

/* Find prog/vers through host's rpcbind (rpc_lookup: no libtirpc cache) and
 * connect, within timeout_ms; calls time out after timeout_ms too.  NULL
 * and a message in err when the program cannot be reached. */
CLIENT *rpcclnt_connect(const char *host, uint32_t prog, uint32_t vers, int timeout_ms,
                        char *err, size_t errlen);

#endif
