/*
 * mask.c: the paper's "mask" ablation (research/sparsemm.md §2.6, sparsemm_utils.py init_mask):
 * keep the full cache, but zero the query vectors of the top int(ratio * L*H) query heads by
 * visual score, ranked over the whole model. A zeroed query attends uniformly to every key, so
 * the head stops reading anything in particular. The official code does this in every forward
 * (prefill and decode); the engine does the same through query_mask. Ties keep the file's
 * layer-major order (Python's sorted is stable).
 */
#include <stdlib.h>
#include <string.h>

#include "methods/policy.h"

static const struct method_param params[] = {
    {"ratio", PARAM_REAL, 0.1, 0, 1, 0, "share of all query heads masked, highest visual scores first"},
};

/* Heads by descending score, ties by index: sorting (score, index) pairs. */
struct ranked_head {
    double score;
    int index;
};

static int by_score_desc(const void *pa, const void *pb) {
    const struct ranked_head *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* p->state: [L*H] bytes, 1 = masked. */
static int init(struct policy *p, struct error *err) {
    const int heads = p->dims.n_layers * p->dims.n_heads;
    const int n_masked = (int)(method_param(&p->params, "ratio") * heads);
    struct ranked_head *r = xmalloc((size_t)heads * sizeof *r);
    for (int i = 0; i < heads; i++) r[i] = (struct ranked_head){p->head_score[i], i};
    qsort(r, (size_t)heads, sizeof *r, by_score_desc);
    uint8_t *mask = xcalloc((size_t)heads, 1);
    for (int i = 0; i < n_masked; i++) mask[r[i].index] = 1;
    free(r);
    p->state = mask;
    return 0;
}

static const uint8_t *query_mask(struct policy *p, int layer) {
    const int H = p->dims.n_heads;
    const uint8_t *row = (const uint8_t *)p->state + (size_t)layer * H;
    for (int h = 0; h < H; h++)
        if (row[h]) return row;
    return NULL;
}

const struct method method_mask = {
    .name = "mask",
    .summary = "ablation: full cache, the query vectors of the top 10% visual heads zeroed",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .needs_head_scores = 1,
    .full_cache = 1,
    .init = init,
    .query_mask = query_mask,
};
