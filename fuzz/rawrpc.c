/*
 * rawrpc.c -- send hand-made bytes to an ONC RPC server over TCP and say
 * what came back.  For tests/e2e/t_hostile.sh; plain libc, so a test can
 * also compile it on the spot (cc -o rawrpc fuzz/rawrpc.c).
 *
 * Options (before HOST): -w MS  how long to wait for replies (2000);
 *                        -n N   stop after N replies (call and frags: 1);
 *                        -c FLAVOR[:HEX]  the calls' credential flavor
 *                               (number) and body (default 0, AUTH_NONE,
 *                               empty);
 *                        -v FLAVOR  the calls' verifier flavor (0), empty.
 *
 *   rawrpc [-w MS] HOST PORT raw HEX [close]
 *       send the bytes (hex digits; spaces ignored) as they are; `close`
 *       closes the socket right after sending (nothing is read).
 *   rawrpc [-w MS] HOST PORT call PROG VERS PROC [ARGHEX] [RPCVERS]
 *       one call record: xid 0x5241, RPC version RPCVERS (default 2), the
 *       credential and verifier of -c and -v (AUTH_NONE), then the
 *       argument bytes ARGHEX as they are (nothing checks them).
 *   rawrpc [-w MS] HOST PORT frags COUNT SIZE [PROG]
 *       COUNT fragments of SIZE bytes, the last one marked last; with PROG
 *       the record starts with a NULL call to PROG version 1 (the rest is
 *       zeros after its header), otherwise it is all zeros.
 *   rawrpc [-w MS] HOST PORT conns N HEX
 *       N connections at once, each sends HEX; counts which the server
 *       closed (or answered) within MS.
 *   rawrpc HOST PORT hold N HEX SECS
 *       N connections at once, each sends HEX, then keep them open SECS
 *       seconds (prints "holding K" when they are open).
 *
 * After raw, call and frags it reads until the server closes or MS (2000)
 * pass, printing one line per reply record:
 *   reply xid=X accepted SUCCESS <result hex>
 *   reply xid=X accepted PROG_MISMATCH low=L high=H
 *   reply xid=X accepted PROG_UNAVAIL | PROC_UNAVAIL | GARBAGE_ARGS | SYSTEM_ERR
 *   reply xid=X denied RPC_MISMATCH low=L high=H | denied AUTH_ERROR STAT
 *   (STAT: AUTH_BADCRED, AUTH_REJECTEDCRED, AUTH_BADVERF, ..., or a number)
 * and then "closed" (the server closed the connection) or "open".
 * frags first prints "sent N" (the bytes the server took before closing).
 * Exit status 0, or 2 on a usage or connection error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int wait_ms = 2000;
static long max_replies = -1; /* -n: stop reading after this many */
static uint32_t cred_flavor = 0, verf_flavor = 0; /* -c, -v: AUTH_NONE by default */
static const char *cred_hex = "";                /* -c FLAVOR:HEX: the credential's body */
static const char *host, *port;

static void die(const char *msg)
{
    fprintf(stderr, "rawrpc: %s\n", msg);
    exit(2);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        die("cannot resolve host");
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        char m[128];
        snprintf(m, sizeof m, "cannot connect: %s", strerror(errno));
        die(m);
    }
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---- bytes ------------------------------------------------------------ */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            die("out of memory");
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put32(struct buf *b, uint32_t v)
{
    v = htonl(v);
    put(b, &v, 4);
}

static void put_hex(struct buf *b, const char *hex)
{
    int hi = -1;
    for (const char *s = hex; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9') v = *s - '0';
        else if (*s >= 'a' && *s <= 'f') v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F') v = *s - 'A' + 10;
        else if (*s == ' ' || *s == '\n' || *s == '\t' || *s == ':') continue;
        else die("bad hex digit");
        if (hi < 0) {
            hi = v;
        } else {
            unsigned char c = (unsigned char)(hi << 4 | v);
            put(b, &c, 1);
            hi = -1;
        }
    }
    if (hi >= 0)
        die("odd number of hex digits");
}

static uint32_t num(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || end == s || v > 0xffffffffULL)
        die("bad number");
    return (uint32_t)v;
}

/* Send all; returns the bytes sent before the peer went away. */
static size_t send_all(int fd, const unsigned char *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, p + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return done;
}

/* ---- replies ---------------------------------------------------------- */

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static const char *auth_stat_name(uint32_t why)
{
    static const char *names[] = {"AUTH_OK",      "AUTH_BADCRED",      "AUTH_REJECTEDCRED",
                                  "AUTH_BADVERF", "AUTH_REJECTEDVERF", "AUTH_TOOWEAK",
                                  "AUTH_INVALIDRESP", "AUTH_FAILED"};
    static char num_buf[16];
    if (why < sizeof names / sizeof names[0])
        return names[why];
    snprintf(num_buf, sizeof num_buf, "%u", why);
    return num_buf;
}

static void describe(const unsigned char *p, size_t n)
{
    static const char *accept[] = {"SUCCESS", "PROG_UNAVAIL", "PROG_MISMATCH", "PROC_UNAVAIL",
                                   "GARBAGE_ARGS", "SYSTEM_ERR"};
    if (n < 12 || get32(p + 4) != 1) {
        printf("junk (%zu bytes)\n", n);
        return;
    }
    uint32_t xid = get32(p), stat = get32(p + 8);
    if (stat == 1) { /* MSG_DENIED */
        uint32_t why = n >= 16 ? get32(p + 12) : 99;
        if (why == 0 && n >= 24)
            printf("reply xid=%#x denied RPC_MISMATCH low=%u high=%u\n", xid, get32(p + 16),
                   get32(p + 20));
        else if (why == 1 && n >= 20)
            printf("reply xid=%#x denied AUTH_ERROR %s\n", xid, auth_stat_name(get32(p + 16)));
        else
            printf("reply xid=%#x denied junk (%zu bytes)\n", xid, n);
        return;
    }
    if (stat != 0 || n < 20) {
        printf("junk (%zu bytes)\n", n);
        return;
    }
    uint32_t vlen = get32(p + 16); /* verifier: flavor, length, body */
    size_t off = 20 + ((vlen + 3) & ~3u);
    if (vlen > 400 || off + 4 > n) {
        printf("junk (%zu bytes)\n", n);
        return;
    }
    uint32_t as = get32(p + off);
    off += 4;
    printf("reply xid=%#x accepted %s", xid, as < 6 ? accept[as] : "?");
    if (as == 2 && off + 8 <= n)
        printf(" low=%u high=%u", get32(p + off), get32(p + off + 4));
    if (as == 0) {
        putchar(' ');
        for (size_t i = off; i < n; i++)
            printf("%02x", p[i]);
    }
    putchar('\n');
}

/* Read reply records until the server closes or wait_ms pass. */
static void read_replies(int fd)
{
    struct buf in = {0};
    long long deadline = now_ms() + wait_ms;
    bool closed = false;
    long got = 0;
    while (max_replies < 0 || got < max_replies) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0)
            break;
        unsigned char tmp[65536];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0) {
            closed = true;
            break;
        }
        put(&in, tmp, (size_t)n);
        /* print every complete record */
        size_t off = 0;
        while (in.len - off >= 4) {
            uint32_t mark = get32(in.p + off);
            size_t len = mark & 0x7fffffffU;
            if (in.len - off - 4 < len)
                break;
            describe(in.p + off + 4, len);
            off += 4 + len;
            got++;
        }
        memmove(in.p, in.p + off, in.len - off);
        in.len -= off;
    }
    if (in.len)
        printf("partial (%zu bytes)\n", in.len);
    printf("%s\n", closed ? "closed" : "open");
    free(in.p);
}

/* ---- modes ------------------------------------------------------------ */

static void call_header(struct buf *b, uint32_t rpcvers, uint32_t prog, uint32_t vers,
                        uint32_t proc)
{
    put32(b, 0x5241);
    put32(b, 0); /* CALL */
    put32(b, rpcvers);
    put32(b, prog);
    put32(b, vers);
    put32(b, proc);
    struct buf cred = {0};
    put_hex(&cred, cred_hex);
    put32(b, cred_flavor);
    put32(b, (uint32_t)cred.len);
    if (cred.len)
        put(b, cred.p, cred.len);
    static const unsigned char pad[3];
    if (cred.len % 4)
        put(b, pad, 4 - cred.len % 4);
    free(cred.p);
    put32(b, verf_flavor);
    put32(b, 0);
}

static int mode_raw(int argc, char **argv)
{
    if (argc < 1 || argc > 2 || (argc == 2 && strcmp(argv[1], "close") != 0))
        die("usage: raw HEX [close]");
    struct buf b = {0};
    put_hex(&b, argv[0]);
    int fd = dial();
    send_all(fd, b.p, b.len);
    free(b.p);
    if (argc == 2) {
        close(fd);
        printf("sent %zu\n", b.len);
        return 0;
    }
    read_replies(fd);
    close(fd);
    return 0;
}

static int mode_call(int argc, char **argv)
{
    if (argc < 3 || argc > 5)
        die("usage: call PROG VERS PROC [ARGHEX] [RPCVERS]");
    struct buf body = {0}, rec = {0};
    call_header(&body, argc > 4 ? num(argv[4]) : 2, num(argv[0]), num(argv[1]), num(argv[2]));
    if (argc > 3)
        put_hex(&body, argv[3]);
    put32(&rec, 0x80000000U | (uint32_t)body.len);
    put(&rec, body.p, body.len);
    free(body.p);
    int fd = dial();
    send_all(fd, rec.p, rec.len);
    free(rec.p);
    if (max_replies < 0)
        max_replies = 1;
    read_replies(fd);
    close(fd);
    return 0;
}

static int mode_frags(int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        die("usage: frags COUNT SIZE [PROG]");
    uint32_t count = num(argv[0]), size = num(argv[1]);
    if (count == 0 || size > 0x7fffffffU)
        die("bad fragment count or size");
    unsigned char *frag = calloc(1, size ? size : 1);
    if (!frag)
        die("out of memory");
    if (argc == 3) {
        struct buf h = {0};
        call_header(&h, 2, num(argv[2]), 1, 0);
        if (h.len > size)
            die("fragments too small for a call header");
        memcpy(frag, h.p, h.len);
        free(h.p);
    }
    int fd = dial();
    size_t sent = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t mark = htonl(size | (i == count - 1 ? 0x80000000U : 0));
        size_t n = send_all(fd, (unsigned char *)&mark, 4);
        sent += n;
        if (n < 4)
            break;
        n = send_all(fd, frag, size);
        sent += n;
        if (n < size)
            break;
        if (i == 0 && argc == 3)
            memset(frag, 0, size); /* the header is in the first fragment only */
    }
    printf("sent %zu\n", sent);
    if (max_replies < 0 && argc == 3)
        max_replies = 1;
    read_replies(fd);
    close(fd);
    free(frag);
    return 0;
}

static int *open_many(uint32_t n, const struct buf *b)
{
    int *fds = calloc(n ? n : 1, sizeof *fds);
    if (!fds)
        die("out of memory");
    for (uint32_t i = 0; i < n; i++) {
        fds[i] = dial();
        send_all(fds[i], b->p, b->len);
    }
    return fds;
}

static int mode_conns(int argc, char **argv)
{
    if (argc != 2)
        die("usage: conns N HEX");
    uint32_t n = num(argv[0]);
    struct buf b = {0};
    put_hex(&b, argv[1]);
    int *fds = open_many(n, &b);
    free(b.p);
    uint32_t closed = 0, answered = 0;
    long long deadline = now_ms() + wait_ms;
    for (uint32_t i = 0; i < n; i++) {
        for (;;) {
            long long left = deadline - now_ms();
            struct pollfd pfd = {.fd = fds[i], .events = POLLIN};
            if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
                break;
            unsigned char tmp[4096];
            ssize_t r = read(fds[i], tmp, sizeof tmp);
            if (r <= 0) {
                closed++;
                break;
            }
            answered++;
        }
        close(fds[i]);
    }
    printf("%u closed, %u open, %u replies\n", closed, n - closed, answered);
    free(fds);
    return 0;
}

static int mode_hold(int argc, char **argv)
{
    if (argc != 3)
        die("usage: hold N HEX SECS");
    uint32_t n = num(argv[0]), secs = num(argv[2]);
    struct buf b = {0};
    put_hex(&b, argv[1]);
    int *fds = open_many(n, &b);
    free(b.p);
    printf("holding %u\n", n);
    fflush(stdout);
    sleep(secs);
    for (uint32_t i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    int i = 1;
    while (argc > i + 1 && argv[i][0] == '-') {
        if (strcmp(argv[i], "-w") == 0)
            wait_ms = (int)num(argv[i + 1]);
        else if (strcmp(argv[i], "-n") == 0)
            max_replies = num(argv[i + 1]);
        else if (strcmp(argv[i], "-c") == 0) {
            char *colon = strchr(argv[i + 1], ':');
            if (colon) {
                *colon = '\0';
                cred_hex = colon + 1;
            }
            cred_flavor = num(argv[i + 1]);
        } else if (strcmp(argv[i], "-v") == 0)
            verf_flavor = num(argv[i + 1]);
        else
            die("unknown option");
        i += 2;
    }
    if (argc - i < 3)
        die("usage: rawrpc [-w MS] [-n N] [-c FLAVOR[:HEX]] [-v FLAVOR] HOST PORT "
            "raw|call|frags|conns|hold ...");
    host = argv[i];
    port = argv[i + 1];
    const char *mode = argv[i + 2];
    argc -= i + 3;
    argv += i + 3;
    if (strcmp(mode, "raw") == 0) return mode_raw(argc, argv);
    if (strcmp(mode, "call") == 0) return mode_call(argc, argv);
    if (strcmp(mode, "frags") == 0) return mode_frags(argc, argv);
    if (strcmp(mode, "conns") == 0) return mode_conns(argc, argv);
    if (strcmp(mode, "hold") == 0) return mode_hold(argc, argv);
    die("unknown mode");
}
