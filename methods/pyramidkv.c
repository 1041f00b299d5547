/*
 * pyramidkv.c: PyramidKV's layer schedule (research/baselines.md §2.1, KVCache-Factory
 * pyramidkv_utils.py): lower layers select more tokens, deeper layers fewer, linearly, with
 * the same B - w per layer on average. Integer arithmetic exactly as the reference code:
 *
 *   base = B - w;  min = base // beta;  max = 2*base - min
 *   if max >= n - w:  max = n - w;  min = 2*base - max      (prompt too short for the full pyramid)
 *   steps = (max - min) // (L - 1);  cap[layer] = max - layer*steps     (// is floor division)
 *
 * Per prompt (the default, KVCache-Factory's rules): no compression when n < B; the uniform
 * SnapKV budget base in every layer when n < 2*base (the maintainers' fallback that avoids
 * mismatched sizes in shallow layers); the pyramid otherwise.
 *
 * freeze_first=1 reproduces the official SparseMM/AdaKV code instead (sparsemm_utils.py
 * SnapKVCluster with pyram_mode): the schedule is computed once, at the first prompt of the run,
 * and reused for every later prompt (its pyram_init flag); there is no uniform fallback; and a
 * layer leaves a prompt uncompressed when it is shorter than that layer's own cap + w. A short
 * first prompt therefore fixes a clipped schedule for the whole run: the quirk this flag exists
 * to reproduce.
 *
 * With a single layer the schedule has no slope: every head selects base tokens.
 */
#include <stdlib.h>

#include "methods/policy.h"

static const struct method_param params[] = {
    PARAM_WINDOW,
    PARAM_KERNEL,
    {"beta", PARAM_INT, 20, 1, 1 << 20, 0, "pyramid steepness: the deepest layer selects about (B-w)/beta tokens"},
    {"freeze_first", PARAM_BOOL, 0, 0, 1, 0,
     "1 = reproduce the official SparseMM/AdaKV code: the schedule is computed once from the run's first "
     "prompt and reused for every later prompt (no uniform fallback); 0 = recompute it per prompt "
     "(KVCache-Factory rules)"},
};

/* Per-run state: the prompt length the schedule was frozen at (freeze_first only). */
struct pyramid_state {
    int frozen;
    int n_frozen;
};

static int floor_div(int a, int b) {
    int q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The pyramid's selected tokens for `layer` and an n-token prompt. */
static int schedule(const struct policy *p, int layer, int n_tokens) {
    const int base = p->budget - p->window, beta = (int)method_param(&p->params, "beta");
    if (p->dims.n_layers == 1) return base;
    int lo = base / beta, hi = 2 * base - lo;
    if (hi >= n_tokens - p->window) {
        hi = n_tokens - p->window;
        lo = 2 * base - hi;
    }
    const int steps = floor_div(hi - lo, p->dims.n_layers - 1);
    return hi - layer * steps;
}

static int frozen(const struct policy *p) { return method_param(&p->params, "freeze_first") != 0; }

/* The prompt length the frozen schedule uses: the first one this run has seen. */
static int frozen_length(struct policy *p, int n_tokens) {
    struct pyramid_state *st = p->state;
    if (!st->frozen) {
        st->frozen = 1;
        st->n_frozen = n_tokens;
    }
    return st->n_frozen;
}

static int init(struct policy *p, struct error *err) {
    p->state = xcalloc(1, sizeof(struct pyramid_state));
    return 0;
}

static int compresses(struct policy *p, int layer, int n_tokens) {
    if (!frozen(p)) return n_tokens >= p->budget;
    return n_tokens >= schedule(p, layer, frozen_length(p, n_tokens)) + p->window;
}

static int capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err) {
    const int base = p->budget - p->window;
    int c;
    if (frozen(p))
        c = schedule(p, layer, frozen_length(p, n_tokens));
    else
        c = n_tokens < 2 * base ? base : schedule(p, layer, n_tokens);
    for (int j = 0; j < p->dims.n_kv_heads; j++) cap[j] = c;
    return 0;
}

const struct method method_pyramidkv = {
    .name = "pyramidkv",
    .summary = "per-layer linear schedule (beta 20): lower layers keep more, deeper fewer, B-w on average",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .stat = STAT_WINDOW,
    .init = init,
    .compresses = compresses,
    .capacity = capacity,
};
