/*
 * cluster.h -- who the replicas are: replica k is (host, program number).
 * Peers are always found through the rpcbind of their host, never by port.
 */
#ifndef RATINGD_CLUSTER_H
#define RATINGD_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "vts.h"

#define CLUSTER_HOST_MAX 256

typedef struct endpoint {
    char host[CLUSTER_HOST_MAX];
    uint32_t prog;
} endpoint_t;

typedef struct cluster {
    uint32_t n;
    endpoint_t rep[VTS_MAX];
} cluster_t;

/* Default replica program numbers: RATING_REPLICA + k. */
void cluster_default(cluster_t *c, const char *host, uint32_t base_prog, uint32_t n);
/* Parse "host:prog,host:prog,..." (prog decimal or 0x-hex; replica k is
 * the k-th entry).  Returns 0, or -1 with a message in err. */
int cluster_parse(cluster_t *c, const char *spec, char *err, size_t errlen);

#endif
