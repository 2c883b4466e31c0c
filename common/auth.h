/*
 * auth.h -- replica-to-replica calls authenticated with a shared key.
 *
 * Every replica of a cluster reads the same key file (--key-file).  A
 * GOSSIP or SNAPSHOT request, and a GOSSIP reply, carries in its `mac`
 * field HMAC-SHA256(key, XDR encoding of the message with an empty mac).
 * The receiver recomputes it before it looks at anything else; a message
 * without a valid one is refused.  Without a key file nothing is signed
 * or checked (a replica says so at start).
 */
#ifndef RATINGD_AUTH_H
#define RATINGD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <rpc/rpc.h>

#define AUTH_MAC_LEN 32
#define AUTH_KEY_MIN 16

/* Load the key (at least 16 bytes; a trailing newline is not part of it). */
int auth_load_key(const char *path, char *err, size_t errlen);
bool auth_enabled(void);
void auth_forget_key(void);

/* Sign msg in place: *mac_val gets a new 32-byte MAC (freed with msg by
 * xdr_free).  Nothing is done when no key is loaded.  Returns 0 or -1. */
int auth_sign(xdrproc_t proc, void *msg, u_int *mac_len, char **mac_val);
/* True when no key is loaded, or msg carries the right MAC. */
bool auth_verify(xdrproc_t proc, void *msg, u_int *mac_len, char **mac_val);

#endif
