/* cluster.c -- parse the list of replicas. */
#include "cluster.h"

#include <stdio.h>
#include <string.h>

#include "rpcutil.h"

void cluster_default(cluster_t *c, const char *host, uint32_t base_prog, uint32_t n)
{
    memset(c, 0, sizeof *c);
    c->n = n > VTS_MAX ? VTS_MAX : n;
    for (uint32_t k = 0; k < c->n; k++) {
        snprintf(c->rep[k].host, sizeof c->rep[k].host, "%s", host);
        c->rep[k].prog = base_prog + k;
    }
}

int cluster_parse(cluster_t *c, const char *spec, char *err, size_t errlen)
{
    char buf[VTS_MAX * (CLUSTER_HOST_MAX + 16)];
    memset(c, 0, sizeof *c);
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, errlen, "replica list is too long");
        return -1;
    }
    strcpy(buf, spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(item, ':');
        if (c->n >= VTS_MAX) {
            snprintf(err, errlen, "at most %d replicas", VTS_MAX);
            return -1;
        }
        if (!colon || colon == item || (size_t)(colon - item) >= CLUSTER_HOST_MAX) {
            snprintf(err, errlen, "replica '%s' is not host:program", item);
            return -1;
        }
        *colon = '\0';
        endpoint_t *e = &c->rep[c->n];
        if (rpc_parse_prog(colon + 1, &e->prog) < 0) {
            snprintf(err, errlen, "replica '%s': bad program number '%s'", item, colon + 1);
            return -1;
        }
        snprintf(e->host, sizeof e->host, "%s", item);
        c->n++;
    }
    if (c->n == 0) {
        snprintf(err, errlen, "no replicas given");
        return -1;
    }
    return 0;
}
