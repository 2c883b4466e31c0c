/*
 * fuzz_rpc_record.c -- hostile bytes on a connection to a replica: the
 * server's own connection loop (common/rpcsrv.c) reads them.
 *
 * rpcsrv.c keeps its connection handling static (read_record, the call
 * header checks, argument decoding, dispatch, send_reply) and has no hook
 * for tests, so this harness includes the file itself and runs its real
 * connection thread, connection_main(), on one end of a socketpair, with
 * the real replica procedure table (server/handlers.c) over the fuzz
 * fixture's replica (fixture.h).  The input is the byte stream a client
 * sends: record marks, fragments, call headers, arguments -- several
 * calls in one stream are served in order.  The harness writes it, half-
 * closes, and reads every reply until the server closes its end; the
 * replies must be well-formed records holding RPC replies.  A server that
 * never closes is a hang (libFuzzer's -timeout reports it).
 *
 * Nothing is changed in rpcsrv.c: the state it needs (srv.prog, srv.stop)
 * is set here as rpc_listen() and rpc_serve() would set it.
 */
#include "../common/rpcsrv.c"

#include <fcntl.h>
#include <signal.h>

#include "fixture.h"

static volatile int never_stop;

struct sink {
    unsigned char *buf;
    size_t len, cap;
};

static void sink_add(struct sink *s, const void *p, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        while (cap < s->len + n)
            cap *= 2;
        unsigned char *nb = realloc(s->buf, cap);
        if (!nb)
            abort();
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void bad_reply(const char *why, size_t at)
{
    fprintf(stderr, "fuzz_rpc_record: malformed reply stream at byte %zu: %s\n", at, why);
    abort();
}

/* Accept the results of any procedure without looking at them. */
static bool_t skip_results(XDR *x, void *p)
{
    (void)x;
    (void)p;
    return TRUE;
}

/* The server sends each reply as one record of one fragment. */
static void check_replies(const unsigned char *b, size_t len)
{
    size_t off = 0;
    while (off < len) {
        uint32_t mark;
        if (len - off < 4)
            bad_reply("a partial record mark", off);
        memcpy(&mark, b + off, 4);
        mark = ntohl(mark);
        size_t n = mark & 0x7fffffffU;
        if (!(mark & 0x80000000U))
            bad_reply("a reply in more than one fragment", off);
        if (len - off - 4 < n)
            bad_reply("a truncated reply", off);
        struct rpc_msg r;
        memset(&r, 0, sizeof r);
        r.acpted_rply.ar_results.proc = RPC_XDR(skip_results);
        XDR x;
        xdrmem_create(&x, (char *)b + off + 4, (u_int)n, XDR_DECODE);
        if (!xdr_replymsg(&x, &r) || r.rm_direction != REPLY)
            bad_reply("not an RPC reply", off);
        xdr_destroy(&x);
        off += 4 + n;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    fixture_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 24))
        return 0;
    fixture_reset();
    srv.prog = fixture_program();
    srv.stop = &never_stop;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    pthread_mutex_lock(&srv.mu); /* as start_connection() does */
    srv.nconns++;
    pthread_mutex_unlock(&srv.mu);
    pthread_t t;
    if (pthread_create(&t, NULL, connection_main, (void *)(intptr_t)sv[1]) != 0)
        abort();

    struct sink replies = {NULL, 0, 0};
    size_t sent = 0;
    bool writing = true;
    if (size == 0) {
        shutdown(sv[0], SHUT_WR);
        writing = false;
    }
    for (;;) {
        struct pollfd pfd = {.fd = sv[0], .events = POLLIN | (writing ? POLLOUT : 0)};
        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        if (writing && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = send(sv[0], data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                writing = false; /* the server closed: it read enough */
            if (sent == size) {
                shutdown(sv[0], SHUT_WR);
                writing = false;
            }
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            unsigned char buf[65536];
            ssize_t n = read(sv[0], buf, sizeof buf);
            if (n > 0)
                sink_add(&replies, buf, (size_t)n);
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                break; /* the server closed the connection */
        }
    }
    pthread_join(t, NULL);
    close(sv[0]);
    if (srv.nconns != 0)
        abort();
    check_replies(replies.buf, replies.len);
    free(replies.buf);
    return 0;
}
