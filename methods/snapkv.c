/* snapkv.c: SnapKV (research/baselines.md §1): every KV head of every layer selects the same
   B - w tokens, the top ones by observation-window attention, and keeps the window. */
#include "methods/policy.h"

static const struct method_param params[] = {PARAM_WINDOW, PARAM_KERNEL};

static int capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err) {
    for (int j = 0; j < p->dims.n_kv_heads; j++) cap[j] = p->budget - p->window;
    return 0;
}

const struct method method_snapkv = {
    .name = "snapkv",
    .summary = "every KV head keeps its top B-w tokens by observation-window attention, plus the window",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .stat = STAT_WINDOW,
    .capacity = capacity,
};
