/* rpcutil.c -- the client half of rpcutil.h: connecting, program numbers.
 * The server half is rpcsrv.c. */
#include "rpcutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

CLIENT *rpc_connect(const char *host, uint32_t prog, uint32_t vers, int timeout_ms, char *err,
                    size_t errlen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    CLIENT *c = clnt_create_timed(host, prog, vers, "tcp", &tv);
    if (!c) {
        snprintf(err, errlen, "%s", clnt_spcreateerror(host));
        size_t len = strlen(err);
        while (len && (err[len - 1] == '\n' || err[len - 1] == ' '))
            err[--len] = '\0';
        return NULL;
    }
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    return c;
}

int rpc_parse_prog(const char *s, uint32_t *prog)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || end == s || *end || v == 0 || v > 0xffffffffUL)
        return -1;
    *prog = (uint32_t)v;
    return 0;
}
