/* kv_cache.c: see kv_cache.h. */
#include "engine/kv_cache.h"

#include <stdlib.h>
#include <string.h>

void kv_cache_init(struct kv_cache *c, struct backend *be, int n_layers, int n_kv_heads, int head_dim,
                   enum dtype dtype, int reserve) {
    memset(c, 0, sizeof *c);
    c->be = be;
    c->n_layers = n_layers;
    c->n_kv_heads = n_kv_heads;
    c->head_dim = head_dim;
    c->dtype = dtype;
    c->reserve = reserve > 0 ? reserve : 1;
    c->layers = xcalloc((size_t)n_layers, sizeof *c->layers);
    for (int l = 0; l < n_layers; l++) {
        struct kv_cache_layer *L = &c->layers[l];
        L->off = xcalloc((size_t)n_kv_heads, sizeof *L->off);
        L->len = xcalloc((size_t)n_kv_heads, sizeof *L->len);
        L->cap = xcalloc((size_t)n_kv_heads, sizeof *L->cap);
        L->off_dev = be->ops->alloc(be, sizeof(int32_t) * (size_t)n_kv_heads);
        L->len_dev = be->ops->alloc(be, sizeof(int32_t) * (size_t)n_kv_heads);
    }
}

static void layer_release(struct backend *be, struct kv_cache_layer *L) {
    be->ops->free(be, L->k);
    be->ops->free(be, L->v);
    be->ops->free(be, L->pos);
    L->k = L->v = NULL;
    L->pos = NULL;
    L->rows_alloc = 0;
}

void kv_cache_reset(struct kv_cache *c) {
    for (int l = 0; l < c->n_layers; l++) {
        struct kv_cache_layer *L = &c->layers[l];
        layer_release(c->be, L);
        memset(L->len, 0, sizeof *L->len * (size_t)c->n_kv_heads);
        memset(L->cap, 0, sizeof *L->cap * (size_t)c->n_kv_heads);
        memset(L->off, 0, sizeof *L->off * (size_t)c->n_kv_heads);
    }
}

void kv_cache_free(struct kv_cache *c) {
    if (!c || !c->layers) return;
    for (int l = 0; l < c->n_layers; l++) {
        struct kv_cache_layer *L = &c->layers[l];
        layer_release(c->be, L);
        c->be->ops->free(c->be, L->off_dev);
        c->be->ops->free(c->be, L->len_dev);
        free(L->off);
        free(L->len);
        free(L->cap);
    }
    free(c->layers);
    memset(c, 0, sizeof *c);
}

static void sync_meta(struct kv_cache *c, struct kv_cache_layer *L) {
    struct backend *be = c->be;
    be->ops->upload(be, L->off_dev, L->off, sizeof(int32_t) * (size_t)c->n_kv_heads);
    be->ops->upload(be, L->len_dev, L->len, sizeof(int32_t) * (size_t)c->n_kv_heads);
}

/* Allocate a layer's buffers for the given per-head capacities (host cap[] already set). */
static void layer_alloc(struct kv_cache *c, struct kv_cache_layer *L) {
    struct backend *be = c->be;
    int64_t rows = 0;
    for (int j = 0; j < c->n_kv_heads; j++) {
        L->off[j] = (int32_t)rows;
        rows += L->cap[j];
    }
    size_t row_bytes = (size_t)c->head_dim * dtype_size(c->dtype);
    L->k = be->ops->alloc(be, row_bytes * (size_t)rows);
    L->v = be->ops->alloc(be, row_bytes * (size_t)rows);
    L->pos = be->ops->alloc(be, sizeof(int32_t) * (size_t)rows);
    L->rows_alloc = rows;
}

void kv_cache_fill(struct kv_cache *c, int layer, const float *k, const float *v, int kv_stride, int n_tokens,
                   const struct kv_keep *keep) {
    struct backend *be = c->be;
    struct kv_cache_layer *L = &c->layers[layer];
    layer_release(be, L);
    for (int j = 0; j < c->n_kv_heads; j++) {
        L->len[j] = keep ? keep->count[j] : n_tokens;
        L->cap[j] = L->len[j] + c->reserve;
    }
    layer_alloc(c, L);
    int32_t *all = NULL;
    if (!keep) {
        all = xmalloc(sizeof *all * (size_t)(n_tokens ? n_tokens : 1));
        for (int t = 0; t < n_tokens; t++) all[t] = t;
    }
    size_t row_bytes = (size_t)c->head_dim * dtype_size(c->dtype);
    for (int j = 0; j < c->n_kv_heads; j++) {
        const int32_t *idx = keep ? keep->idx[j] : all;
        int cnt = L->len[j];
        char *kd = (char *)L->k + row_bytes * (size_t)L->off[j], *vd = (char *)L->v + row_bytes * (size_t)L->off[j];
        be->ops->gather_rows(be, kd, c->dtype, k, kv_stride, j * c->head_dim, c->head_dim, idx, cnt);
        be->ops->gather_rows(be, vd, c->dtype, v, kv_stride, j * c->head_dim, c->head_dim, idx, cnt);
        be->ops->upload(be, L->pos + L->off[j], idx, sizeof(int32_t) * (size_t)cnt);
    }
    free(all);
    sync_meta(c, L);
}

/* Re-lay a layer with room for `reserve` more rows per head, keeping its contents. Rare: only
   when decoding runs past the reserve given at fill time. */
static void layer_grow(struct kv_cache *c, struct kv_cache_layer *L) {
    struct backend *be = c->be;
    size_t row_bytes = (size_t)c->head_dim * dtype_size(c->dtype);
    struct kv_cache_layer old = *L;
    int32_t *old_off = xmalloc(sizeof *old_off * (size_t)c->n_kv_heads);
    memcpy(old_off, L->off, sizeof *old_off * (size_t)c->n_kv_heads);
    for (int j = 0; j < c->n_kv_heads; j++) L->cap[j] = L->len[j] + c->reserve;
    layer_alloc(c, L);
    for (int j = 0; j < c->n_kv_heads; j++) {
        size_t n = (size_t)L->len[j];
        char *tmp = xmalloc(row_bytes * (n ? n : 1));
        be->ops->download(be, tmp, (char *)old.k + row_bytes * (size_t)old_off[j], row_bytes * n);
        be->ops->upload(be, (char *)L->k + row_bytes * (size_t)L->off[j], tmp, row_bytes * n);
        be->ops->download(be, tmp, (char *)old.v + row_bytes * (size_t)old_off[j], row_bytes * n);
        be->ops->upload(be, (char *)L->v + row_bytes * (size_t)L->off[j], tmp, row_bytes * n);
        be->ops->download(be, tmp, old.pos + old_off[j], sizeof(int32_t) * n);
        be->ops->upload(be, L->pos + L->off[j], tmp, sizeof(int32_t) * n);
        free(tmp);
    }
    be->ops->free(be, old.k);
    be->ops->free(be, old.v);
    be->ops->free(be, old.pos);
    free(old_off);
}

void kv_cache_append(struct kv_cache *c, int layer, const float *k, const float *v, int32_t pos) {
    struct backend *be = c->be;
    struct kv_cache_layer *L = &c->layers[layer];
    int full = 0;
    for (int j = 0; j < c->n_kv_heads; j++) full |= L->len[j] >= L->cap[j];
    if (full) layer_grow(c, L);
    size_t row_bytes = (size_t)c->head_dim * dtype_size(c->dtype);
    for (int j = 0; j < c->n_kv_heads; j++) {
        int64_t row = L->off[j] + L->len[j];
        be->ops->store_row(be, (char *)L->k + row_bytes * (size_t)row, c->dtype, k + j * c->head_dim, c->head_dim);
        be->ops->store_row(be, (char *)L->v + row_bytes * (size_t)row, c->dtype, v + j * c->head_dim, c->head_dim);
        be->ops->upload(be, L->pos + row, &pos, sizeof pos);
        L->len[j]++;
    }
    sync_meta(c, L);
}

int64_t kv_cache_layer_rows(const struct kv_cache *c, int layer) {
    int64_t n = 0;
    for (int j = 0; j < c->n_kv_heads; j++) n += c->layers[layer].len[j];
    return n;
}

int64_t kv_cache_rows(const struct kv_cache *c) {
    int64_t n = 0;
    for (int l = 0; l < c->n_layers; l++) n += kv_cache_layer_rows(c, l);
    return n;
}

int64_t kv_cache_bytes(const struct kv_cache *c) {
    return kv_cache_rows(c) * 2 * c->head_dim * (int64_t)dtype_size(c->dtype);
}

int kv_cache_max_len(const struct kv_cache *c, int layer) {
    int m = 0;
    for (int j = 0; j < c->n_kv_heads; j++) m = c->layers[layer].len[j] > m ? c->layers[layer].len[j] : m;
    return m;
}
