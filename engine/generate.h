/*
 * generate.h: greedy generation on a session: prefill, then argmax decoding until EOS or
 * max_new_tokens, with the timings and cache sizes every run records. A per-token hook sees
 * each generated token with, per layer and query head, the position of the key that head
 * attended to most when producing it (what the visual-head finder counts).
 */
#ifndef SPARSEMM_GENERATE_H
#define SPARSEMM_GENERATE_H

#include "engine/model.h"

struct gen_options {
    int max_new_tokens;
    int32_t eos_id;             /* -1: the tokenizer's / config's EOS */
    float repetition_penalty;   /* 1 = off; HF's rule for ids already in the sequence */
    const struct kv_policy *policy;
    /* Called after each generated token (before EOS handling); argmax is [n_layers][n_heads]
       when want_argmax, else NULL. Return non-zero to stop generating. */
    int (*on_token)(void *ctx, int step, int32_t token, const int32_t *argmax);
    void *hook_ctx;
    int want_argmax;
};

struct gen_result {
    int32_t *tokens;            /* generated ids, EOS excluded */
    int n_tokens;
    char *text;                 /* decoded, special tokens skipped, not stripped */
    int n_prompt, n_image_tokens;
    double prefill_ms;
    double decode_ms;           /* total over decode steps */
    int n_decode_steps;
    int64_t kv_rows, kv_bytes;  /* after prefill compression */
    int64_t *layer_rows;        /* [n_layers] after prefill */
};

int generate(struct session *s, const struct prompt *p, const struct image_features *feat,
             const struct gen_options *opt, struct gen_result *out, struct error *err);
void gen_result_free(struct gen_result *r);

#endif
