/*
 * random.c: the paper's "Random" ablation (research/sparsemm.md §2.6): SparseMM's allocation
 * with head scores drawn uniformly from [0, 1) instead of visual-head scores, so any gain of
 * sparsemm over it is the scores' doing. The official code draws them unseeded (Python's
 * random.random()); here they come from splitmix64 seeded by `seed`, one draw per query head in
 * layer-major order, u = (x >> 11) * 2^-53, so a run is reproducible (tools/ref_methods
 * implements the same generator).
 */
#include <stdint.h>
#include <stdlib.h>

#include "methods/sparsemm.h"

static const struct method_param params[] = {
    PARAM_WINDOW,
    PARAM_KERNEL,
    {"ratio", PARAM_REAL, 0.1, 0, 1, 0, "share of B-w every head gets uniformly; the rest follows the random scores"},
    {"seed", PARAM_INT, 0, 0, 4294967295.0, 0, "seed of the random head scores"},
};

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int init(struct policy *p, struct error *err) {
    const int heads = p->dims.n_layers * p->dims.n_heads;
    uint64_t state = (uint64_t)method_param(&p->params, "seed");
    double *score = xmalloc((size_t)heads * sizeof *score);
    for (int i = 0; i < heads; i++) score[i] = (double)(splitmix64(&state) >> 11) * 0x1.0p-53;
    int rc = sparsemm_init_with_scores(p, score, err);
    free(score);
    return rc;
}

const struct method method_random = {
    .name = "random",
    .summary = "ablation: sparsemm's allocation with seeded uniform random head scores",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .stat = STAT_WINDOW,
    .init = init,
    .capacity = sparsemm_capacity,
};
