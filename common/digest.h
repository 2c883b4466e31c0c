/*
 * digest.h -- how the data digest hashes a row.  The digest of a replica
 * is the sum (mod 2^64) of these hashes over its live ratings and its
 * movies, so it does not depend on the order rows were written in and can
 * be kept up to date row by row (store_value.c); two replicas with equal digests
 * hold the same data.
 */
#ifndef RATINGD_DIGEST_H
#define RATINGD_DIGEST_H

#include <stdint.h>

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

static inline uint64_t rating_hash(uint32_t user, uint32_t movie, uint32_t halves)
{
    return mix64(mix64(((uint64_t)user << 32) | movie) ^ halves);
}

static inline uint64_t movie_hash(uint32_t movie, const char *title, const char *genres)
{
    return hash_str(hash_str(mix64(0x6d6f766965ULL ^ movie), title), genres);
}

#endif
