/* prng.c -- splitmix64 (see prng.h). */
#include "prng.h"

void prng_seed(prng_t *p, uint64_t seed) { p->s = seed ^ 0x6a09e667f3bcc909ULL; }

uint64_t prng_next(prng_t *p)
{
    uint64_t z = (p->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Multiply-shift (Lemire): the small bias does not matter here. */
uint64_t prng_below(prng_t *p, uint64_t n)
{
    return n ? (uint64_t)(((unsigned __int128)prng_next(p) * n) >> 64) : 0;
}

uint64_t prng_range(prng_t *p, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + prng_below(p, hi - lo + 1);
}

double prng_unit(prng_t *p) { return (double)(prng_next(p) >> 11) / (double)(1ULL << 53); }

bool prng_chance(prng_t *p, double x) { return prng_unit(p) < x; }
