/*
 * adakv.c: Ada-SnapKV's head-wise allocation (research/baselines.md §3.1, as the SparseMM
 * harness configures it: floor 0.2, normalize on, skip 0). Per layer, at prefill:
 *
 *   F = int(base * floor)                     the safeguard every head gets (truncation)
 *   sort each head's pooled scores; with normalize, scale head j's by
 *       rho_j = (sum of its top-base scores) / (sum of all its scores)
 *   take the layer's global top H_kv*base of all heads' (scaled) scores; c_j = how many are head j's
 *   cap_j = round_half_even(float32(c_j) * float32(1 - floor) + F)
 *
 * The cap formula is float32 because the official code multiplies an integer tensor by a Python
 * float (torch promotes to float32) and torch.round rounds half to even. Scores and rho are
 * double here (fp32 or fp16 in the official code); rankings only differ at exact near-ties.
 * Layers below `skip` use the uniform base. Global ties go to the lower head, then the higher
 * score rank.
 */
#include <math.h>
#include <stdlib.h>

#include "methods/policy.h"

static const struct method_param params[] = {
    PARAM_WINDOW,
    PARAM_KERNEL,
    {"floor", PARAM_REAL, 0.2, 0, 1, 0, "share of B-w every head keeps whatever its scores (AdaKV's alpha)"},
    {"normalize", PARAM_BOOL, 1, 0, 1, 0,
     "scale each head's scores by the share of its attention mass its top B-w tokens hold"},
    {"skip", PARAM_INT, 0, 0, 1 << 20, 0, "the first `skip` layers use the uniform SnapKV budget"},
};

static int safeguard_cap(int count, double floor_ratio, int floor_cap) {
    const float keep = (float)(1.0 - floor_ratio);
    /* Each double operation below is exact; the float conversions are torch's two float32
       roundings, and nothing can be fused into an FMA. */
    const float prod = (float)((double)count * keep);
    const float sum = (float)((double)prod + floor_cap);
    return (int)rintf(sum);
}

/* c_j: how many of the layer's global top-k scaled scores belong to head j. The heads' lists are
   sorted, so the global top k is a k-way merge of their prefixes. rho: [H_kv], count: [H_kv]. */
static void global_top_counts(struct policy *p, const int *order, const double *rho, int k, int *count) {
    const int Hkv = p->dims.n_kv_heads, n_cand = p->n_cand;
    for (int j = 0; j < Hkv; j++) count[j] = 0;
    for (int taken = 0; taken < k; taken++) {
        int best = -1;
        double best_v = 0;
        for (int j = 0; j < Hkv; j++) {
            if (count[j] >= n_cand) continue;
            const int t = order[(size_t)j * n_cand + count[j]];
            const double v = p->score[(size_t)j * n_cand + t] * rho[j];
            if (best < 0 || v > best_v) {
                best = j;
                best_v = v;
            }
        }
        count[best]++;
    }
}

static int capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err) {
    const int Hkv = p->dims.n_kv_heads, base = p->budget - p->window, n_cand = p->n_cand;
    const double floor_ratio = method_param(&p->params, "floor");
    const int floor_cap = (int)(base * floor_ratio);
    if (layer < (int)method_param(&p->params, "skip")) {
        for (int j = 0; j < Hkv; j++) cap[j] = base;
        return 0;
    }
    if (!p->has_scores) {
        for (int j = 0; j < Hkv; j++) cap[j] = floor_cap;
        return 1;
    }
    const int *order = policy_order(p);
    double *rho = xmalloc((size_t)Hkv * sizeof *rho);
    int *count = xmalloc((size_t)Hkv * sizeof *count);
    for (int j = 0; j < Hkv; j++) {
        rho[j] = 1;
        if (!method_param(&p->params, "normalize")) continue;
        const float *s = p->score + (size_t)j * n_cand;
        double top = 0, all = 0;
        for (int r = 0; r < n_cand; r++) {
            all += s[order[(size_t)j * n_cand + r]];
            if (r < base) top += s[order[(size_t)j * n_cand + r]];
        }
        rho[j] = all > 0 ? top / all : 0;
    }
    /* A compressed prompt has n_cand >= base; the min only guards the merge. */
    global_top_counts(p, order, rho, Hkv * (base < n_cand ? base : n_cand), count);
    for (int j = 0; j < Hkv; j++) cap[j] = safeguard_cap(count[j], floor_ratio, floor_cap);
    free(rho);
    free(count);
    return 0;
}

const struct method method_adakv = {
    .name = "adakv",
    .summary = "per layer, the heads share H_kv*(B-w) selected tokens by their scores, each with a 20% floor",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .stat = STAT_WINDOW,
    .capacity = capacity,
};
