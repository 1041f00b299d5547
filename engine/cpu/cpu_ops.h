/*
 * cpu_ops.h: the CPU backend's ops, one family per file (matmul.c, norm.c, elementwise.c,
 * rope.c, attention.c, attention_decode.c, kv_rows.c). This is the reference every other
 * backend is tested against: plain loops over flat arrays, OpenBLAS for the matrix products,
 * OpenMP across rows and heads.
 */
#ifndef SPARSEMM_CPU_OPS_H
#define SPARSEMM_CPU_OPS_H

#include "engine/backend.h"

void cpu_matmul(struct backend *be, float *y, const float *x, const struct weight *w, const struct weight *bias, int n);
void cpu_embed(struct backend *be, float *y, const struct weight *table, const int32_t *ids, int n);
void cpu_rmsnorm(struct backend *be, float *y, const float *x, const struct weight *w, int n, int dim, float eps);
void cpu_layernorm(struct backend *be, float *y, const float *x, const struct weight *w, const struct weight *b,
                   int n, int dim, float eps);
void cpu_add(struct backend *be, float *y, const float *x, size_t count);
void cpu_add_weight(struct backend *be, float *y, const struct weight *w, int n);
void cpu_activation(struct backend *be, float *x, size_t count, enum activation act);
void cpu_silu_mul(struct backend *be, float *gate, const float *up, size_t count);
void cpu_rope(struct backend *be, float *x, int n, int n_heads, int head_dim, int stride, const float *cos,
              const float *sin);
void cpu_attention(struct backend *be, const struct attn_args *a);
void cpu_attention_decode(struct backend *be, const struct attn_decode_args *a);
void cpu_gather_rows(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int src_stride,
                     int col, int row_len, const int32_t *idx, int count);
void cpu_store_row(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int row_len);
void cpu_zero_cols(struct backend *be, float *x, int n, int stride, int col, int count);

/* Work (elements touched) below which an op runs on one thread: starting a parallel region
   costs microseconds, and far more when another process holds a core, which a decode step of a
   small model would pay on every one of its ~100 ops. */
#define CPU_PAR_MIN (1 << 17)

/* Row r of a weight as f32 into out[w.cols] (any stored dtype). */
void weight_row_f32(const struct weight *w, int64_t r, float *out);

/* Whether the vector kernels (engine/cpu/simd.h) run: the CPU has AVX2, FMA and F16C and the
   environment does not say SPARSEMM_CPU_SIMD=0. */
int cpu_simd(const struct backend *be);

/* The ops' reusable temporaries, one per purpose so nested uses never collide. */
enum cpu_scratch_slot {
    CPU_SCRATCH_TILE,     /* matmul: a block of widened weight rows */
    CPU_SCRATCH_VEC,      /* a bias or norm weight widened to f32 */
    CPU_SCRATCH_PROBS,    /* attention: per-thread score / probability rows */
    CPU_SCRATCH_STATS,    /* prefill attention: per-thread window / accumulated statistics */
    CPU_SCRATCH_SLOTS
};
/* At least `bytes` of 64-byte aligned memory owned by the backend, contents undefined, valid
   until the next request for the same slot or backend_free. Call outside parallel regions. */
void *cpu_scratch(struct backend *be, enum cpu_scratch_slot slot, size_t bytes);

#endif
