/*
 * synth_rng.c: the generator's random stream, splitmix64 (Steele, Lea and Flood, "Fast
 * splittable pseudorandom number generators", 2014): one 64-bit state, identical output on
 * every platform and libc, so a seed names the same data set everywhere.
 */
#include "datasets/synth_internal.h"

static uint64_t finalise(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rng_mix(uint64_t a, uint64_t b) { return finalise(finalise(a) + 0x9e3779b97f4a7c15ULL * (b + 1)); }

void rng_seed(struct rng *r, uint64_t seed) { r->state = seed; }

uint64_t rng_next(struct rng *r) {
    r->state += 0x9e3779b97f4a7c15ULL;
    return finalise(r->state);
}

int rng_int(struct rng *r, int lo, int hi) {
    uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
    return lo + (int)(rng_next(r) % span);
}

int rng_chance(struct rng *r, double p) { return (double)(rng_next(r) >> 11) * 0x1.0p-53 < p; }
