/*
 * merkle.h -- the digest tree of anti-entropy repair, as pure data: no
 * I/O, no locks (server/store_repair.c keeps it for a store,
 * server/repair.c walks it with a peer).
 *
 * The rows of a replica -- every rating (tombstones too) and every movie
 * -- are grouped by their *owner*: a rating by its user, a movie by the
 * pseudo-user 0 (user ids are positive).  An owner's digest is the sum of
 * its rows' hashes (server/digest.h).  Owners fall into MERKLE_BUCKETS
 * buckets by a hash of the owner id; a bucket's digest is the sum of its
 * owners', and above the buckets sit MERKLE_LEVELS levels of a tree with
 * MERKLE_FANOUT children a node, up to one root: the sum of everything,
 * which is the replica's digest.  Node i of level l covers buckets
 * i * F^(L-l) .. (i+1) * F^(L-l) - 1.
 *
 * Below the owners the tree is made on demand from the rows: an owner's
 * rows split into nparts parts (a power of two) by a hash of the movie
 * id, so two replicas that split one owner alike can compare parts
 * without a row's worth of bytes each.
 *
 * merkle_t holds every level (4369 digests, 35 KB) and is updated with
 * each change, so the root and any node cost nothing to read.
 * merkle_delta_t collects, during one transaction, what changed per
 * owner, so that the per-owner digests are written once per owner at
 * commit, and undone from the tree on rollback.
 */
#ifndef RATINGD_MERKLE_H
#define RATINGD_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERKLE_FANOUT 16    /* RT_REPAIR_FANOUT in rating.x */
#define MERKLE_LEVELS 3     /* RT_REPAIR_LEVELS: the buckets are level 3 */
#define MERKLE_BUCKETS (MERKLE_FANOUT * MERKLE_FANOUT * MERKLE_FANOUT)
#define MERKLE_NODES (1 + MERKLE_FANOUT + MERKLE_FANOUT * MERKLE_FANOUT + MERKLE_BUCKETS)
#define MERKLE_MAX_PARTS 1024 /* RT_MAX_REPAIR_PARTS */
#define MERKLE_MOVIES 0u    /* the owner of the movie rows */

typedef struct merkle {
    uint64_t node[MERKLE_NODES]; /* level by level, the root first */
} merkle_t;

/* The bucket of an owner, and the part of a movie's row when its owner's
 * rows are split into nparts (a power of two <= MERKLE_MAX_PARTS). */
uint32_t merkle_bucket(uint32_t owner);
uint32_t merkle_part(uint32_t movie, uint32_t nparts);
/* How many parts to split an owner with `rows` rows into: about 2 *
 * sqrt(rows), a power of two, so that finding one differing row costs
 * about as many digests as rows; 1 (no split: send the rows) for a few. */
uint32_t merkle_nparts(uint64_t rows);
bool merkle_nparts_ok(uint32_t nparts);

void merkle_clear(merkle_t *t);
/* Add delta (mod 2^64; subtract h by adding -h) to a bucket and every
 * node above it. */
void merkle_add(merkle_t *t, uint32_t bucket, uint64_t delta);
uint64_t merkle_root(const merkle_t *t);
/* Nodes in a level (1, 16, 256, 4096), 0 for a level past the buckets. */
uint32_t merkle_level_size(uint32_t level);
/* The MERKLE_FANOUT children of node `index` of `level` (< MERKLE_LEVELS).
 * Returns 0, or -1 if there is no such node. */
int merkle_children(const merkle_t *t, uint32_t level, uint32_t index,
                    uint64_t out[MERKLE_FANOUT]);
/* The buckets that node `index` of `level` covers: first and count. */
void merkle_span(uint32_t level, uint32_t index, uint32_t *first, uint32_t *count);

/* ---- comparing -------------------------------------------------------- */

/* Indices i < n where a[i] != b[i], into out (room for n); the count. */
size_t merkle_diff(const uint64_t *a, const uint64_t *b, size_t n, uint32_t *out);

typedef struct merkle_owner {
    uint32_t bucket;
    uint32_t owner;
    uint32_t rows;
    uint64_t digest;
} merkle_owner_t;

typedef struct merkle_owner_diff {
    uint32_t owner;
    uint32_t mine;         /* rows here */
    uint32_t theirs;       /* rows at the peer */
} merkle_owner_diff_t;

/* Two lists of owners in (bucket, owner) order: the owners whose digests
 * differ or that only one list has, into out (room for nm + nt). */
size_t merkle_owners_diff(const merkle_owner_t *mine, size_t nm, const merkle_owner_t *theirs,
                          size_t nt, merkle_owner_diff_t *out);

/* ---- one transaction's changes per owner ------------------------------ */

typedef struct merkle_change {
    uint32_t owner;
    bool used;
    int64_t rows;          /* rows added less rows removed */
    uint64_t digest;       /* hashes added less hashes removed (mod 2^64) */
} merkle_change_t;

typedef struct merkle_delta {
    merkle_change_t *slot; /* open addressing by owner */
    size_t cap;            /* a power of two, or 0 */
    size_t used;
} merkle_delta_t;

/* Record a change of one owner.  Returns 0, or -1 out of memory (nothing
 * recorded). */
int merkle_delta_add(merkle_delta_t *d, uint32_t owner, int64_t rows, uint64_t digest);
/* Call fn for every owner that changed (in no particular order); stops at
 * and returns fn's first nonzero result. */
int merkle_delta_each(const merkle_delta_t *d, int (*fn)(void *arg, const merkle_change_t *c),
                      void *arg);
/* Take every change back out of t (a rollback). */
void merkle_delta_undo(const merkle_delta_t *d, merkle_t *t);
void merkle_delta_clear(merkle_delta_t *d);
void merkle_delta_free(merkle_delta_t *d);

#endif
