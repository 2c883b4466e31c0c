/* wire.c -- XDR through memory buffers (see wire.h). */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

char *wire_encode(xdrproc_t proc, void *obj, size_t *len)
{
    u_long size = xdr_sizeof(proc, obj);
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return NULL;
    XDR x;
    xdrmem_create(&x, buf, (u_int)size, XDR_ENCODE);
    bool_t ok = proc(&x, obj, 0);
    *len = xdr_getpos(&x);
    xdr_destroy(&x);
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

int wire_decode(xdrproc_t proc, const char *buf, size_t len, void *obj, size_t objsize)
{
    memset(obj, 0, objsize);
    XDR x;
    xdrmem_create(&x, (char *)buf, (u_int)len, XDR_DECODE);
    bool_t ok = proc(&x, obj, 0);
    xdr_destroy(&x);
    if (!ok) {
        xdr_free(proc, obj);
        memset(obj, 0, objsize);
        return -1;
    }
    return 0;
}
