/*
 * fuzz_handlers.c -- hostile requests to a replica, without the transport.
 *
 * The input is a sequence of up to 16 requests.  Each is one selector byte
 * and then the request's XDR arguments; the decoder consumes what it
 * reads and the next request starts after it (the first undecodable one
 * ends the input).  The selector's low bits pick a procedure of
 * RATING_REPLICA (QUERY, UPDATE, SUBMIT, GOSSIP, STATUS, SNAPSHOT, NULL);
 * for SNAPSHOT, the top bit replaces the session the input carries with
 * the one the input's own SNAP_BEGIN opened (64 random bits the fuzzer
 * could not guess), so the paging code is reached too.
 *
 * Each request goes where the server sends it: decoded with the argument
 * routine of the replica's procedure table (server/handlers.c), its
 * handler called (which calls state_query, state_update, state_gossip_in,
 * state_status or snapshot_serve), the result encoded as the server would
 * (a result that does not encode would make the server drop the
 * connection without a reply: reported), then arguments and results
 * released with xdr_free.  Every input starts from the same fresh replica
 * (fixture.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

typedef union {
    char c[1024];
    long double align;
} slot_t;

static void check_result(uint32_t proc, xdrproc_t xdr_res, void *res)
{
    u_int size = (u_int)xdr_sizeof(xdr_res, res);
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    XDR x;
    xdrmem_create(&x, buf, size, XDR_ENCODE);
    if (!xdr_res(&x, res, 0) || xdr_getpos(&x) != size) {
        fprintf(stderr, "fuzz_handlers: the result of procedure %u does not encode\n", proc);
        abort();
    }
    xdr_destroy(&x);
    free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fixture_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 24))
        return 0;
    fixture_reset();
    const struct rpc_program *p = fixture_program();
    size_t off = 0;
    for (int step = 0; step < 16 && off < size; step++) {
        uint8_t sel = data[off++];
        uint32_t proc = (sel & 0x7f) % (uint32_t)p->nprocs;
        const struct rpc_proc *pr = &p->procs[proc];
        if (!pr->fn || pr->arg_size > sizeof(slot_t) || pr->res_size > sizeof(slot_t))
            abort();
        slot_t arg, res;
        memset(&arg, 0, sizeof arg);
        memset(&res, 0, sizeof res);
        XDR x;
        xdrmem_create(&x, (char *)data + off, (u_int)(size - off), XDR_DECODE);
        bool_t ok = pr->xdr_arg(&x, &arg, 0);
        off += xdr_getpos(&x);
        xdr_destroy(&x);
        if (!ok) {
            xdr_free(pr->xdr_arg, (char *)&arg); /* the server replies GARBAGE_ARGS */
            break;
        }
        if (proc == RP_SNAPSHOT && (sel & 0x80) && fixture_snap_session)
            ((rt_snap_args *)&arg)->session = fixture_snap_session;
        struct svc_req rq;
        memset(&rq, 0, sizeof rq);
        rq.rq_prog = p->prog;
        rq.rq_vers = p->vers;
        rq.rq_proc = proc;
        if (pr->fn(&arg, &res, &rq))
            check_result(proc, pr->xdr_res, &res);
        xdr_free(pr->xdr_res, (char *)&res);
        xdr_free(pr->xdr_arg, (char *)&arg);
    }
    return 0;
}
