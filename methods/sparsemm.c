/*
 * sparsemm.c: SparseMM (research/sparsemm.md §2): a budget allocation over all layers and heads
 * at once, from offline visual-head scores: every KV head gets the uniform floor int(0.1*base),
 * and the rest of the whole model's pool goes to heads in proportion to their visual scores, so
 * a visual head can select thousands of tokens while most select the floor. The average over
 * heads stays the SnapKV budget B. Tokens within a head are chosen like SnapKV's.
 *
 * Arithmetic follows sparsemm_utils.py class SparseMM: scores normalised in float64 by Python's
 * left-to-right sum, group sums, then round(S * pool + min) as two float64 operations and
 * torch.round (half to even). With the shipped llava-v1.6.json and B = 64 this gives min 3,
 * max 766 (head 14-24) and a total of 32752 against 32768 (research/sparsemm.md §2.7).
 * A head whose cap exceeds the prompt keeps all of it; the surplus is not redistributed.
 */
#include "methods/sparsemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct method_param params[] = {
    PARAM_WINDOW,
    PARAM_KERNEL,
    {"ratio", PARAM_REAL, 0.1, 0, 1, 0, "share of B-w every head gets uniformly; the rest follows the head scores"},
};

/* a*b then + c as two roundings, like torch's two tensor ops: the volatile keeps the compiler
   from fusing them into one FMA (gcc does by default on FMA hardware). */
static double mul_then_add(double a, double b, double c) {
    volatile double prod = a * b;
    return prod + c;
}

int sparsemm_allocation(const double *score, int n_layers, int n_heads, int n_kv_heads, int base, double ratio,
                        int *cap, struct error *err) {
    const int group = n_heads / n_kv_heads;
    double total = 0;
    for (int i = 0; i < n_layers * n_heads; i++) total += score[i];
    if (!(total > 0) || !isfinite(total))
        return error_set(err, "head scores sum to %g: they cannot be normalised into an allocation", total);
    const int min_cache = (int)(base * ratio);
    const double pool = (double)(base - min_cache) * n_layers * n_kv_heads;
    for (int l = 0; l < n_layers; l++)
        for (int j = 0; j < n_kv_heads; j++) {
            double s = 0;
            for (int g = 0; g < group; g++) s += score[l * n_heads + j * group + g] / total;
            cap[l * n_kv_heads + j] = (int)rint(mul_then_add(s, pool, min_cache));
        }
    return 0;
}

int sparsemm_init_with_scores(struct policy *p, const double *score, struct error *err) {
    const struct policy_dims *d = &p->dims;
    int *cap = xmalloc((size_t)d->n_layers * d->n_kv_heads * sizeof *cap);
    if (sparsemm_allocation(score, d->n_layers, d->n_heads, d->n_kv_heads, p->budget - p->window,
                            method_param(&p->params, "ratio"), cap, err)) {
        free(cap);
        return -1;
    }
    p->state = cap;
    return 0;
}

int sparsemm_capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err) {
    const int *table = p->state;
    memcpy(cap, table + (size_t)layer * p->dims.n_kv_heads, (size_t)p->dims.n_kv_heads * sizeof *cap);
    return 0;
}

static int init(struct policy *p, struct error *err) { return sparsemm_init_with_scores(p, p->head_score, err); }

const struct method method_sparsemm = {
    .name = "sparsemm",
    .summary = "global allocation: 10% of B-w per head uniformly, the rest of the model's pool by visual-head score",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .needs_head_scores = 1,
    .stat = STAT_WINDOW,
    .init = init,
    .capacity = sparsemm_capacity,
};
