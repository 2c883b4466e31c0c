/*
 * auth.h -- replica-to-replica calls authenticated with a shared key.
 *
 * Every replica of a cluster reads the same key file (--key-file).  GOSSIP,
 * SNAPSHOT and REPAIR requests and their replies carry in their `mac` field
 *
 *   call:  HMAC-SHA256(key, LABEL 0x00 'C' || XDR(message with an empty mac))
 *   reply: HMAC-SHA256(key, LABEL 0x00 'R' || the call's 32-byte MAC ||
 *                           XDR(reply with an empty mac))
 *
 * LABEL names the procedure ("RP_GOSSIP", "RP_SNAPSHOT", "RP_REPAIR"), so that a signed
 * message of one kind cannot pass for another whose encoding happens to be
 * the same bytes (a SNAPSHOT call can encode like a GOSSIP call); the call's
 * MAC in a reply's makes the reply an answer to that call and no other (a
 * recorded reply cannot be played back to a later call).  The receiver
 * recomputes the MAC before it looks at anything else; a message without a
 * valid one is refused.  Without a key file nothing is signed or checked
 * (a replica says so at start).  docs/security.md.
 */
#ifndef RATINGD_AUTH_H
#define RATINGD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <rpc/rpc.h>

#define AUTH_MAC_LEN 32
#define AUTH_KEY_MIN 16

/* Labels: one per authenticated procedure. */
#define AUTH_GOSSIP "RP_GOSSIP"
#define AUTH_SNAPSHOT "RP_SNAPSHOT"
#define AUTH_REPAIR "RP_REPAIR"

/* Load the key (16 to 256 bytes; a trailing newline is not part of it). */
int auth_load_key(const char *path, char *err, size_t errlen);
bool auth_enabled(void);
void auth_forget_key(void);

/* Sign a call in place: *mac_val gets a new 32-byte MAC (freed with msg by
 * xdr_free).  Nothing is done when no key is loaded.  Returns 0 or -1. */
int auth_sign_call(const char *label, xdrproc_t proc, void *msg, u_int *mac_len, char **mac_val);
/* True when no key is loaded, or the call carries the right MAC.  msg is
 * left as it was. */
bool auth_verify_call(const char *label, xdrproc_t proc, void *msg, u_int *mac_len,
                      char **mac_val);

/* The same for a reply to a call whose MAC is call_mac (call_len bytes, as
 * the call carried it).  A reply to an unsigned call cannot be signed
 * (-1) and never verifies. */
int auth_sign_reply(const char *label, u_int call_len, const char *call_mac, xdrproc_t proc,
                    void *msg, u_int *mac_len, char **mac_val);
bool auth_verify_reply(const char *label, u_int call_len, const char *call_mac, xdrproc_t proc,
                       void *msg, u_int *mac_len, char **mac_val);

#endif
