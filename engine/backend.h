/*
 * backend.h: the small interface every compute backend implements (in the spirit of
 * ggml-backend): memory, weights, and the handful of ops the models are built from.
 *
 * The model code (engine/vision_*.c, engine/decoder.c) is written once against these ops and
 * never #ifdefs on a backend. Pointers passed to ops are backend memory (host memory for cpu,
 * device memory for cuda) unless a comment says "host". Activations are f32, row-major;
 * weights stay in their stored dtype unless the backend chooses to widen them once at load.
 *
 * Ownership: backend_create returns a backend the caller frees with backend_free; buffers from
 * alloc are freed with free; a prepared weight is released with weight_release.
 */
#ifndef SPARSEMM_BACKEND_H
#define SPARSEMM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "engine/dtype.h"
#include "engine/model_config.h"
#include "engine/util.h"

/* A parameter tensor as the ops see it: a matrix [rows][cols] (a vector has rows = 1). */
struct weight {
    const char *name;
    enum dtype dtype;      /* dtype of `data` */
    int64_t rows, cols;
    const void *host;      /* the checkpoint bytes (mmap), stored dtype */
    void *data;            /* backend copy or pointer the ops read; set by weight_prepare */
    int owned;             /* data was allocated by the backend */
};

/* Causal or bidirectional self-attention over n tokens, with optional statistics for the
   KV-cache methods (engine/kv_policy.h defines them). Row strides are in floats. */
struct attn_args {
    const float *q;        /* [n][q_stride], head h at columns h*head_dim */
    const float *k, *v;    /* [n][kv_stride], KV head j at columns j*head_dim */
    float *out;            /* [n][out_stride] */
    int n, n_heads, n_kv_heads, head_dim;
    int q_stride, kv_stride, out_stride;
    int causal;
    int sliding_window;    /* > 0: query i sees keys in (i - sliding_window, i] */
    int window;            /* w for window_attn */
    float *window_attn;    /* [n_heads][n] or NULL: mean over the last w queries of P[q][t] */
    float *accum_attn;     /* [n_heads][n] or NULL: sum over all queries of P[q][t] */
};

/* One new query per head against a head-wise variable-length cache (the flattened layout):
   KV head j's rows are k[off[j] .. off[j]+len[j]) with their sequence positions in pos. */
struct attn_decode_args {
    const float *q;        /* [n_heads*head_dim] */
    float *out;            /* [n_heads*head_dim] */
    const void *k, *v;     /* [rows][head_dim] in kv_dtype */
    enum dtype kv_dtype;
    const int32_t *pos;    /* [rows] sequence position of each cached row */
    const int32_t *off, *len; /* [n_kv_heads], backend memory */
    int n_heads, n_kv_heads, head_dim;
    int max_len;           /* max over len[] (sizing hint) */
    int query_pos;         /* position of the query (for the sliding window) */
    int sliding_window;    /* > 0: keys with pos <= query_pos - sliding_window are skipped */
    int32_t *argmax_pos;   /* [n_heads] or NULL: position of each head's largest attention weight */
};

struct backend;

struct backend_ops {
    const char *name;
    void (*destroy)(struct backend *be);

    void *(*alloc)(struct backend *be, size_t bytes);  /* zero-filled */
    void (*free)(struct backend *be, void *p);
    void (*upload)(struct backend *be, void *dst, const void *host_src, size_t bytes);
    void (*download)(struct backend *be, void *host_dst, const void *src, size_t bytes);
    void (*synchronize)(struct backend *be);

    /* Make w->data usable by the ops (upload, or widen to f32 once when the backend's policy
       says so). Returns 0 or -1 with err. */
    int (*weight_prepare)(struct backend *be, struct weight *w, struct error *err);
    void (*weight_release)(struct backend *be, struct weight *w);

    /* y[n][w.rows] = x[n][w.cols] . W^T (+ bias[w.rows] if bias) */
    void (*matmul)(struct backend *be, float *y, const float *x, const struct weight *w,
                   const struct weight *bias, int n);
    /* y[i] = table[ids[i]] for i < n; ids is host memory. */
    void (*embed)(struct backend *be, float *y, const struct weight *table, const int32_t *ids, int n);
    /* y[i] = x[i] / sqrt(mean(x[i]^2) + eps) * w, rows of dim. y may equal x. */
    void (*rmsnorm)(struct backend *be, float *y, const float *x, const struct weight *w, int n, int dim, float eps);
    /* y[i] = (x[i] - mean) / sqrt(var + eps) * w + b. y may equal x. */
    void (*layernorm)(struct backend *be, float *y, const float *x, const struct weight *w,
                      const struct weight *b, int n, int dim, float eps);
    /* y[i] += x[i] for i < count */
    void (*add)(struct backend *be, float *y, const float *x, size_t count);
    /* y[i][j] += w[j] for each of n rows of dim = w.cols (position embeddings: w.rows = n) */
    void (*add_weight)(struct backend *be, float *y, const struct weight *w, int n);
    /* x = act(x) in place */
    void (*activation)(struct backend *be, float *x, size_t count, enum activation act);
    /* gate = silu(gate) * up */
    void (*silu_mul)(struct backend *be, float *gate, const float *up, size_t count);
    /* Rotate-half RoPE in place on n rows of n_heads heads: pairs (i, i + head_dim/2) turn by
       the angle whose cos/sin are cos[r][i], sin[r][i] (r = row, i < head_dim/2). */
    void (*rope)(struct backend *be, float *x, int n, int n_heads, int head_dim, int stride,
                 const float *cos, const float *sin);
    void (*attention)(struct backend *be, const struct attn_args *a);
    void (*attention_decode)(struct backend *be, const struct attn_decode_args *a);
    /* dst[i][0..row_len) = src[idx[i]][col .. col+row_len) for i < count; idx is host memory.
       dst is in dst_dtype (the cache's), src is f32. */
    void (*gather_rows)(struct backend *be, void *dst, enum dtype dst_dtype, const float *src,
                        int src_stride, int col, int row_len, const int32_t *idx, int count);
    /* dst[0..row_len) in dst_dtype = src[0..row_len) (one cache row append) */
    void (*store_row)(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int row_len);
    /* Set columns [col, col+count) of n rows to zero (the query-mask ablation). */
    void (*zero_cols)(struct backend *be, float *x, int n, int stride, int col, int count);
    void (*copy)(struct backend *be, float *dst, const float *src, size_t count);
    /* Peak bytes this backend has had allocated at once (its own allocator), or -1. */
    int64_t (*peak_bytes)(struct backend *be);
};

struct backend {
    const struct backend_ops *ops;
    int n_threads;
    int weights_f32;       /* cpu: widen f16/bf16 weights to f32 once at prepare */
    void *impl;
};

struct backend_options {
    const char *name;      /* "cpu" (default) or "cuda" */
    int n_threads;         /* 0 = all cores */
    int weights_f32;       /* -1 auto, 0 keep stored dtype, 1 widen to f32 */
};

/* Create a backend by name; errors say which backends this build has. */
struct backend *backend_create(const struct backend_options *opt, struct error *err);
void backend_free(struct backend *be);
/* Names of the backends compiled into this build, space separated. */
const char *backend_available(void);

struct backend *backend_cpu_create(const struct backend_options *opt, struct error *err);

#endif
