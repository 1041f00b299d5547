/*
 * kv_policy.h: the one seam between the engine and the KV-cache methods.
 *
 * At prefill the engine runs full attention for every layer (prefill output never depends on
 * compression), and, when a policy asks, accumulates the attention statistics methods score
 * tokens with. It then asks the policy which token positions each KV head keeps, and compacts
 * exactly those rows (keys after RoPE, values) into the flattened cache. Decode appends one row
 * per KV head per step and never evicts.
 *
 * The engine knows nothing of method names or budgets; methods/ knows nothing of tensors beyond
 * these arrays. A NULL policy means full cache.
 */
#ifndef SPARSEMM_KV_POLICY_H
#define SPARSEMM_KV_POLICY_H

#include <stdint.h>
#include "engine/util.h"

/* Statistics of one layer's prefill attention, all fp32, for query heads (not KV heads). */
struct kv_layer_scores {
    int layer;
    int n_tokens;     /* prompt length n */
    int n_heads;      /* query heads H */
    int n_kv_heads;   /* KV heads; query head h uses KV head h / (H / n_kv_heads) */
    int head_dim;
    int window;       /* w: the number of last queries window_attn averages over */
    /* window_attn[h*n + t] = mean over the last w queries q of softmax_t(q.k_t/sqrt(d)) with the
       causal mask (query i sees keys <= i); defined for all t in [0, n). NULL unless asked. */
    const float *window_attn;
    /* accum_attn[h*n + t] = sum over all queries q >= t of the causal softmax P[q, t] (H2O's
       accumulated attention). NULL unless asked. */
    const float *accum_attn;
};

/* The policy's answer for one layer: per KV head, the positions to keep. The engine allocates
   idx[j] with room for n_tokens entries; the policy fills count[j] unique positions in
   [0, n_tokens). Order is free (keys carry RoPE, so order does not change attention). */
struct kv_keep {
    int n_kv_heads;
    int *count;      /* [n_kv_heads] */
    int32_t **idx;   /* [n_kv_heads][<= n_tokens] */
};

struct kv_policy {
    void *ctx;
    int window;           /* w for window_attn; 0 if not needed */
    int need_window_attn; /* engine must compute kv_layer_scores.window_attn */
    int need_accum_attn;  /* engine must compute kv_layer_scores.accum_attn */
    /* Choose what layer s->layer keeps. Return 0, or -1 with err set. */
    int (*select)(void *ctx, const struct kv_layer_scores *s, struct kv_keep *keep, struct error *err);
    /* Optional (may be NULL): per-layer mask of query heads whose query vectors are zeroed
       before attention, at prefill and decode (the "mask" ablation). Returns [n_heads] bytes,
       1 = zero this head, or NULL for none in this layer. */
    const uint8_t *(*query_mask)(void *ctx, int layer);
};

#endif
