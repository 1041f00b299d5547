/*
 * attn_reference.h: the prefill attention statistics of engine/kv_policy.h computed plainly from
 * Q and K, as the definition everyone tests against: the engine's fused attention kernels (CPU
 * and CUDA) must reproduce these, and the methods' tests feed them to the policies.
 *
 * Layouts are the engine's (token-major, heads side by side; engine/backend.h attn_args):
 *   q: [n][n_heads * head_dim]      query head h at columns h*head_dim, after RoPE
 *   k: [n][n_kv_heads * head_dim]   KV head j at columns j*head_dim, after RoPE
 * Query head h reads KV head h / (n_heads / n_kv_heads). Logits are q.k / sqrt(head_dim);
 * query i sees keys 0..i (causal). Accumulation is in double, outputs fp32. Costs O(n^2 d) per
 * head: for tests and small models, not for production.
 */
#ifndef SPARSEMM_ATTN_REFERENCE_H
#define SPARSEMM_ATTN_REFERENCE_H

/* window_attn: [n_heads][n]: entry (h, t) = mean over the last w = min(window, n) queries i of
   softmax_t(q_i . k_t / sqrt(d)) under the causal mask (so zero for t > i). Keys before the
   window are visible to every window query; inside the window the mask is causal, exactly the
   SnapKV/SparseMM observation window (research/baselines.md §1.1 steps 2-5, mean vote). */
void window_attn_from_qk(const float *q, const float *k, int n, int n_heads, int n_kv_heads, int head_dim,
                         int window, float *window_attn);

/* accum_attn: [n_heads][n]: entry (h, t) = sum over all queries i >= t of the causal softmax
   P[i][t] (H2O's accumulated attention, with the full causal mask of KVCache-Factory's fixed
   H2O, research/baselines.md §4.2). */
void accum_attn_from_qk(const float *q, const float *k, int n, int n_heads, int n_kv_heads, int head_dim,
                        float *accum_attn);

#endif
