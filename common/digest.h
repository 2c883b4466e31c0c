/*
 * digest.h -- how a row hashes.  Every digest of the data -- a replica's
 * (STATUS), a bucket's, a user's, a part's (server/merkle.h) -- is the sum
 * (mod 2^64) of these hashes over a set of rows, so it does not depend on
 * the order rows were written in and follows each write by subtracting
 * the old row's hash and adding the new one's.
 *
 * A rating's hash covers everything last-writer-wins decides by: user,
 * movie, halves, stamp and uid, and tombstones (halves 0) hash like any
 * row.  Two replicas with the same live values but other stamps, or a
 * tombstone on one side only, are not the same state: the next concurrent
 * or late write would land differently on each.  A movie's hash covers
 * its title and genres, or, for an alias (alias_of nonzero), only the id
 * it names: an alias's own title is not data (the replica that made the
 * alias may keep the old title or none).  Derived counts (a movie's
 * nratings, sum_halves) are not covered; they follow the ratings.
 *
 * Equal digests mean equal data up to a chance of 2^-64 per comparison.
 * The sum is not a cryptographic commitment: the peers that compare are
 * authenticated (common/auth.h); this finds accidents, not forgeries.
 */
#ifndef RATINGD_DIGEST_H
#define RATINGD_DIGEST_H

#include <stdint.h>

#include "record.h"

/* splitmix64 finaliser: a good 64-bit mixer. */
static inline uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static inline uint64_t hash_str(uint64_t h, const char *p)
{
    for (; *p; p++)
        h = mix64(h ^ (unsigned char)*p);
    return h;
}

/* A rating row, live (halves 1..10) or deleted (halves 0). */
static inline uint64_t rating_row_hash(uint32_t user, uint32_t movie, uint32_t halves,
                                       uint64_t stamp, const upd_id_t *uid)
{
    uint64_t h = mix64(((uint64_t)user << 32) | movie);
    h = mix64(h ^ halves);
    h = mix64(h ^ stamp);
    h = mix64(h ^ uid->origin);
    return mix64(h ^ uid->seq);
}

/* A movie row; an alias hashes by the id it names alone. */
static inline uint64_t movie_row_hash(uint32_t movie, const char *title, const char *genres,
                                      uint32_t alias_of)
{
    uint64_t h = mix64(0x6d6f766965ULL ^ movie);
    if (alias_of)
        return mix64(mix64(h ^ 0x616c696173ULL) ^ alias_of);
    /* a 0xff byte between the fields: ("ab", "c") and ("a", "bc") differ */
    return hash_str(mix64(hash_str(h, title) ^ 0xff), genres);
}

#endif
