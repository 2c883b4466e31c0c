/*
 * prng.h -- the simulator's one source of randomness: splitmix64 (Steele,
 * Lea, Flood 2014), small, fast and the same on every machine.  A schedule
 * draws everything from one generator seeded with its seed, so a seed
 * replays exactly; nothing in the simulator calls rand() or reads a clock.
 */
#ifndef RATINGSIM_PRNG_H
#define RATINGSIM_PRNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct prng {
    uint64_t s;
} prng_t;

void prng_seed(prng_t *p, uint64_t seed);
uint64_t prng_next(prng_t *p);
/* Uniform in [0, n) (0 when n is 0). */
uint64_t prng_below(prng_t *p, uint64_t n);
/* Uniform in [lo, hi]. */
uint64_t prng_range(prng_t *p, uint64_t lo, uint64_t hi);
/* True with probability x (0..1). */
bool prng_chance(prng_t *p, double x);
/* Uniform in [0, 1). */
double prng_unit(prng_t *p);

#endif
