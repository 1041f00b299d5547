/* h2o.c: H2O's heavy hitters, one-shot at prefill as KVCache-Factory runs it
   (research/baselines.md §4.2): a token's score is the attention it receives summed over all
   queries (accum_attn), with the full causal mask of KVCache-Factory's fixed version (commit
   9f9aa2e; the legacy code masked only the last w x w block, so earlier queries saw future
   keys). No pooling; GQA mean over the group as for the other methods (KVCache-Factory's
   kv_head mode, mean aggregation). Each KV head keeps its top B - w candidates plus the last w
   tokens; nothing is evicted during decoding, unlike the original H2O. */
#include "methods/policy.h"

static const struct method_param params[] = {PARAM_WINDOW};

static int capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err) {
    for (int j = 0; j < p->dims.n_kv_heads; j++) cap[j] = p->budget - p->window;
    return 0;
}

const struct method method_h2o = {
    .name = "h2o",
    .summary = "keep the top B-w tokens by attention accumulated over all prompt queries (causal), plus the window",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .stat = STAT_ACCUM,
    .capacity = capacity,
};
