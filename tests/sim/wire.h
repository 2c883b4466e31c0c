/*
 * wire.h -- XDR to and from bytes in memory.  Every message the simulator
 * carries (client requests and replies, gossip, the in-process RPC of a
 * rejoin) travels as its XDR encoding, as on the network: the receiver
 * decodes its own copy, so nothing is shared between replicas and the
 * generated XDR code of rating.x is exercised on every message.
 */
#ifndef RATINGSIM_WIRE_H
#define RATINGSIM_WIRE_H

#include <stddef.h>

#include <rpc/rpc.h>

/* Encode obj: a malloc'd buffer and its length, or NULL. */
char *wire_encode(xdrproc_t proc, void *obj, size_t *len);
/* Decode into obj (zeroed first): 0, or -1 (obj is then freed). */
int wire_decode(xdrproc_t proc, const char *buf, size_t len, void *obj, size_t objsize);

#endif
