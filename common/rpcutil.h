/*
 * rpcutil.h -- the ONC RPC plumbing every ratingd program shares.
 *
 * Servers (rpcsrv.c): rpcgen's -m skeleton puts the dispatchers of both
 * programs of rating.x into one file, so each server describes its
 * procedures in a table instead, and one server loop decodes, calls and
 * replies for all of them: a bad argument gets GARBAGE_ARGS, an unknown
 * procedure PROC_UNAVAIL, a wrong version PROG_MISMATCH, and arguments and
 * results are always freed.  Each connection has its own thread.
 *
 * rpc_listen() binds a TCP socket to the configured address (loopback by
 * default) and registers it with the local rpcbind under the given program
 * number.  rpc_unlisten() removes the registration.
 *
 * Clients (rpcutil.c): rpc_connect() finds a program through its host's
 * rpcbind.
 */
#ifndef RATINGD_RPCUTIL_H
#define RATINGD_RPCUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rpc/rpc.h>

typedef bool_t (*rpc_handler)(void *arg, void *res, struct svc_req *rq);

struct rpc_proc {
    xdrproc_t xdr_arg;
    size_t arg_size;
    xdrproc_t xdr_res;
    size_t res_size;
    rpc_handler fn;     /* NULL: the procedure is not offered */
};

/* xdr_void and the generated routines have different prototypes than
 * xdrproc_t; the detour through a generic function pointer says the cast
 * is meant (and keeps -Wcast-function-type quiet). */
#define RPC_XDR(f) ((xdrproc_t)(void (*)(void))(f))
/* One row of a procedure table: argument type, result type, handler. */
#define RPC_PROC(xa, ta, xr, tr, fn) {RPC_XDR(xa), sizeof(ta), RPC_XDR(xr), sizeof(tr), fn}

struct rpc_program {
    const char *name;   /* for log lines */
    uint32_t prog;
    uint32_t vers;
    const struct rpc_proc *procs;
    size_t nprocs;
    bool concurrent;    /* handlers are thread-safe: run calls at once */
};

/* Largest RPC record a server accepts (a full gossip message fits). */
#define RPC_MAX_RECORD (8 * 1024 * 1024)

/* Bind addr:port (port 0: any) and register prog/vers with rpcbind.  A
 * registration nobody answers (rpc_served_locally) is a crashed
 * predecessor's and is replaced; one a live server answers is not: -2,
 * with "program P version V is already served at ADDR" in err (the
 * caller says by whom and exits 2).  Returns 0, or -1 with a message. */
int rpc_listen(const struct rpc_program *p, const char *addr, int port, char *err, size_t errlen);
/* Remove the rpcbind registration made by rpc_listen. */
void rpc_unlisten(void);
/* Serve until *stop becomes nonzero, then wait (at most 5 s) for calls in
 * progress to finish.  tick(arg), if given, runs in the accepting thread
 * at least every timeout_ms. */
void rpc_serve(volatile int *stop, int timeout_ms, void (*tick)(void *), void *arg);

/* Connect to prog/vers on host through host's rpcbind, TCP, with a call
 * timeout.  Returns NULL and a message in err. */
CLIENT *rpc_connect(const char *host, uint32_t prog, uint32_t vers, int timeout_ms, char *err,
                    size_t errlen);
/* Ask host's rpcbind where prog/vers listens on netid ("tcp" or "tcp6"),
 * without libtirpc's rpcbind address cache (see rpcutil.c).  Returns 0 with
 * *nconf (free with freenetconfigent) and *addr (free addr->buf and addr),
 * or -1 with rpc_createerr set. */
int rpc_lookup(const char *host, const char *netid, uint32_t prog, uint32_t vers, int timeout_ms,
               struct netconfig **nconf, struct netbuf **addr);
/* How long rpc_served_locally waits for a server's answer. */
#define RPC_PROBE_MS 1000
/* Is prog/vers registered with this host's rpcbind (tcp or tcp6) at an
 * address where a server answers a NULL call within RPC_PROBE_MS?  1, with
 * the address in where ("127.0.0.1 port 40001"); 0 when it is not
 * registered, rpcbind does not answer, or nobody answers at the address (a
 * registration left by a process that died: its port refuses, or another
 * program answers there). */
int rpc_served_locally(uint32_t prog, uint32_t vers, char *where, size_t wherelen);
/* Parse a program number: decimal or 0x-hex.  Returns 0 or -1. */
int rpc_parse_prog(const char *s, uint32_t *prog);

#endif
