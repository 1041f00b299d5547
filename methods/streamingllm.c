/* streamingllm.c: StreamingLLM's attention sinks plus a recent window, applied once at prefill
   as KVCache-Factory and the AdaKV repository do (research/baselines.md §4.1): the first `sinks`
   tokens and the last B - sinks tokens, B in total per head. Keys keep their original positions
   (no re-rotation inside the cache, unlike the official StreamingLLM). In policy terms the
   recent part is the window and the sinks are the selected tokens, chosen by position. */
#include "methods/policy.h"

static const struct method_param params[] = {
    {"sinks", PARAM_INT, 4, 0, 1 << 20, 0, "attention-sink tokens kept from the start of the prompt"},
};

static int init(struct policy *p, struct error *err) {
    const int sinks = (int)method_param(&p->params, "sinks");
    if (p->budget <= sinks)
        return error_set(err, "budget %d: streamingllm needs a budget above its %d sink tokens", p->budget, sinks);
    p->window = p->budget - sinks;
    return 0;
}

static int capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err) {
    for (int j = 0; j < p->dims.n_kv_heads; j++) cap[j] = (int)method_param(&p->params, "sinks");
    return 0;
}

static void choose(struct policy *p, int n_tokens, const int *cap, struct kv_keep *keep) {
    for (int j = 0; j < keep->n_kv_heads; j++) {
        int c = 0;
        for (int t = 0; t < cap[j] && t < p->n_cand; t++) keep->idx[j][c++] = t;
        for (int t = p->n_cand; t < n_tokens; t++) keep->idx[j][c++] = t;
        keep->count[j] = c;
    }
}

const struct method method_streamingllm = {
    .name = "streamingllm",
    .summary = "keep the first `sinks` tokens and the most recent B-sinks tokens (attention sinks)",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .stat = STAT_NONE,
    .init = init,
    .capacity = capacity,
    .choose = choose,
};
