/*
 * kv_cache.h: the head-wise flattened KV cache of DESIGN.md (AdaKV's layout,
 * research/baselines.md §3.2). Per layer, one K buffer and one V buffer hold every KV head's
 * rows contiguously: head j owns rows [off[j], off[j] + cap[j]) of which the first len[j] are
 * filled. Heads may hold different numbers of tokens; the full cache is the case where every
 * head holds all of them.
 *
 * Keys are stored after RoPE, so kept rows need no re-rotation and their order inside a head
 * does not matter. Each row also records its sequence position (for the sliding window and the
 * head finder). Capacity per head is the kept count plus a decode reserve, so a decode append
 * writes one row in place instead of copying the cache (the official code re-allocates every
 * step).
 */
#ifndef SPARSEMM_KV_CACHE_H
#define SPARSEMM_KV_CACHE_H

#include "engine/backend.h"
#include "engine/kv_policy.h"

struct kv_cache_layer {
    void *k, *v;          /* backend [rows_alloc][head_dim] in kv_cache.dtype */
    int32_t *pos;         /* backend [rows_alloc] sequence positions */
    int32_t *off_dev, *len_dev; /* backend copies of off/len for the decode op */
    int32_t *off, *len, *cap;   /* host [n_kv_heads] */
    int64_t rows_alloc;
};

struct kv_cache {
    struct backend *be;
    int n_layers, n_kv_heads, head_dim;
    enum dtype dtype;
    int reserve;          /* decode rows reserved per head at fill time */
    struct kv_cache_layer *layers;
};

void kv_cache_init(struct kv_cache *c, struct backend *be, int n_layers, int n_kv_heads, int head_dim,
                   enum dtype dtype, int reserve);
void kv_cache_free(struct kv_cache *c);
/* Drop all layers' contents (keep the object for the next prompt). */
void kv_cache_reset(struct kv_cache *c);

/* Fill a layer after prefill: head j keeps rows keep->idx[j][0..count[j]) of k/v
   (backend [n_tokens][kv_stride], KV head j at columns j*head_dim); NULL keep = all n_tokens. */
void kv_cache_fill(struct kv_cache *c, int layer, const float *k, const float *v, int kv_stride, int n_tokens,
                   const struct kv_keep *keep);
/* Append one token's K and V (backend [n_kv_heads*head_dim]) at sequence position pos to every
   head of the layer. Grows the layer when a head is full. */
void kv_cache_append(struct kv_cache *c, int layer, const float *k, const float *v, int32_t pos);

/* Rows held by a layer (sum over heads) and by the whole cache. */
int64_t kv_cache_layer_rows(const struct kv_cache *c, int layer);
int64_t kv_cache_rows(const struct kv_cache *c);
/* Bytes of K and V held: rows x 2 x head_dim x dtype size. */
int64_t kv_cache_bytes(const struct kv_cache *c);
int kv_cache_max_len(const struct kv_cache *c, int layer);

#endif
