/*
 * repair.h -- anti-entropy repair (RP_REPAIR), both halves: a replica
 * compares the digest tree of its rows with a peer's and both merge the
 * rows that differ by last writer wins (docs/algorithm.md, "Anti-entropy
 * repair"; the tree: server/merkle.h; the rows: store_repair.c).
 *
 * A round, run by the caller against one peer:
 *   ROOT   the peer's root digest; equal roots end the round (one small
 *          call and reply: the cost of a round when nothing differs);
 *   NODES  children of the nodes that differ, level by level down to the
 *          4096 buckets;
 *   USERS  the owners (users, and 0 for the movies) of differing buckets,
 *          with their row counts and digests;
 *   PARTS  the digests of the parts of differing owners that have more
 *          than a few rows (merkle_nparts);
 *   KEYS   the hash of each of the caller's rows in differing parts; the
 *          peer answers with its rows there that the caller lacks or holds
 *          otherwise, which the caller merges, and names the caller's rows
 *          it lacks or holds otherwise;
 *   PUSH   those of the caller's rows (but where the peer's row wins), which
 *          the peer merges.
 * So whole rows travel only for the keys that differ, each once, from the
 * side whose row wins (or both ways for a movie, whose rule the callee
 * applies).  The movies go first, so that ratings of a movie one side
 * lacked find it.
 * Every call carries the caller's value timestamp and the peer answers
 * only at the same one; the caller reads and merges its own side only at
 * that timestamp too.  Any other answer ends the round early; a later
 * round starts again from the root.  Each step holds the state lock only
 * for its own reads or one merge transaction, never across a call.
 *
 * Threading: repair_serve runs in any server thread; repair_round in the
 * gossip thread.  Both take the state lock through state_repair_at.
 */
#ifndef RATINGD_REPAIR_H
#define RATINGD_REPAIR_H

#include <stdint.h>

#include <rpc/rpc.h>

#include "rating.h"
#include "state.h"

/* The callee: answer a.  Fills res (heap memory that xdr_free releases). */
void repair_serve(state_t *s, const rt_repair_args *a, rt_repair_res *res);

/* How the caller reaches the peer: send args (the caller signs and frees
 * them), fill res (the caller frees it with xdr_free).  0, or -1 when
 * there is no valid answer. */
typedef int (*repair_call_fn)(void *ctx, rt_repair_args *args, rt_repair_res *res);

struct repair_stats {
    uint64_t calls;        /* RP_REPAIR calls made */
    uint64_t bytes;        /* XDR bytes of those calls and their replies */
    uint64_t owners;       /* owners whose digests differed */
    uint64_t parts;        /* parts whose rows were compared */
    uint64_t keys;         /* row hashes sent (KEYS) */
    uint64_t sent;         /* rows sent to the peer (PUSH) */
    uint64_t taken;        /* rows the peer sent that we merged */
    uint64_t ms;           /* duration of the round */
};

enum repair_outcome {
    REPAIR_FAILED = -1,    /* no answer, or a storage error */
    REPAIR_EQUAL = 0,      /* the roots are equal: nothing to repair */
    REPAIR_DONE = 1,       /* rows were exchanged */
    REPAIR_MOVED = 2       /* the value timestamps differ (or changed): not now */
};

/* One round with peer k.  stats may be NULL. */
enum repair_outcome repair_round(state_t *s, uint32_t k, repair_call_fn call, void *ctx,
                                 struct repair_stats *stats);

/* One round over RPC with peer k through clnt, signed with the shared key
 * (common/auth.h, label AUTH_REPAIR); logs what it repaired. */
enum repair_outcome repair_with_peer(state_t *s, uint32_t k, CLIENT *clnt);

#endif
