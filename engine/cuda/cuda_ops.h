/*
 * cuda_ops.h: the CUDA backend's kernels as C functions, one family per .cu file. This is the
 * contract between the backend object (backend_cuda.c, plain C: memory, weights, the op table)
 * and the kernels (CUDA C++, compiled by nvcc, or by g++ against the emulator in engine/cuda/emu/).
 *
 * Every pointer is device memory; every call is asynchronous on `st` and checks its launches
 * (a failure aborts with the kernel, its launch shape, file and line: cuda_api.h). Activations
 * are f32 row-major, as everywhere in the engine; weights and the KV cache keep their dtype.
 */
#ifndef SPARSEMM_CUDA_OPS_H
#define SPARSEMM_CUDA_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/cuda/cuda_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The values of enum dtype (engine/dtype.h) and enum activation (engine/model_config.h):
   backend_cuda.c asserts they agree. The kernels do not include those C headers. */
enum cuda_dtype { CUDA_F32 = 0, CUDA_F16 = 1, CUDA_BF16 = 2 };
enum cuda_act { CUDA_GELU = 0, CUDA_QUICK_GELU = 1, CUDA_SILU = 2, CUDA_GELU_TANH = 3 };

/* ---- elementwise.cu ---- */
void cuda_add(cudaStream_t st, float *y, const float *x, size_t count);
/* y[i][j] += w[w_rows == 1 ? 0 : i][j], i < n, j < dim (biases, position embeddings) */
void cuda_add_rows(cudaStream_t st, float *y, const void *w, int w_dtype, int64_t w_rows, int64_t dim, int n);
void cuda_activation(cudaStream_t st, float *x, size_t count, int act);
/* gate = silu(gate) * up */
void cuda_silu_mul(cudaStream_t st, float *gate, const float *up, size_t count);
/* x[i][col .. col+count) = 0 for i < n, rows `stride` floats apart */
void cuda_zero_cols(cudaStream_t st, float *x, int n, int stride, int col, int count);
/* dst[i] = src[i] widened to f32 */
void cuda_widen(cudaStream_t st, float *dst, const void *src, int dtype, size_t count);

/* ---- embed.cu ---- */
/* y[i] = table[ids[i]] widened, table: [rows][dim], ids: [n] (device, already range-checked) */
void cuda_embed(cudaStream_t st, float *y, const void *table, int dtype, int64_t dim, const int32_t *ids, int n);

/* ---- norm.cu ---- (y may equal x; b may be NULL) */
void cuda_rmsnorm(cudaStream_t st, float *y, const float *x, const void *w, int w_dtype, int n, int dim, float eps);
void cuda_layernorm(cudaStream_t st, float *y, const float *x, const void *w, int w_dtype, const void *b,
                    int b_dtype, int n, int dim, float eps);

/* ---- rope.cu ---- rotate-half RoPE in place, x: [n][stride], cos/sin: [n][head_dim/2] */
void cuda_rope(cudaStream_t st, float *x, int n, int n_heads, int head_dim, int stride, const float *cos,
               const float *sin);

/* ---- matmul.cu ---- y = x . W^T, x: [n][in], W: [out][in] (row-major), y: [n][out] */
#define CUDA_GEMV_MAX_ROWS 4 /* up to this many rows of x: our kernel, reading W once in its dtype */
void cuda_gemv(cudaStream_t st, float *y, const float *x, const void *w, int w_dtype, int n, int64_t in, int64_t out);
/* The cuBLAS call for row-major f32 operands with leading dimensions (in floats):
   y[i*ldy + o] = sum_k x[i*ldx + k] * w[o*ldw + k], i < n, o < out, k < in. */
void cuda_gemm_xwt(cublasHandle_t h, float *y, int ldy, const float *x, int ldx, const float *w, int ldw, int n,
                   int in, int out);
/* Half-precision W: widen row tiles of at most tile_floats elements into `tile` and GEMM each. */
void cuda_matmul_half(cublasHandle_t h, cudaStream_t st, float *y, const float *x, const void *w, int w_dtype, int n,
                      int64_t in, int64_t out, float *tile, size_t tile_floats);

/* ---- attention_prefill.cu ---- see struct attn_args (engine/backend.h) for the fields */
struct cuda_attn {
    const float *q, *k, *v; /* [n][q_stride], [n][kv_stride] */
    float *out;             /* [n][out_stride] */
    int n, n_heads, n_kv_heads, head_dim, q_stride, kv_stride, out_stride;
    int causal, sliding_window, window;
    float *window_attn, *accum_attn; /* [n_heads][n] or NULL */
    float *lse;             /* scratch [n_heads][n]: needed when a statistic is asked for */
};
void cuda_attention(cudaStream_t st, const struct cuda_attn *a);

/* ---- attention_decode.cu ---- see struct attn_decode_args (engine/backend.h) */
struct cuda_attn_decode {
    const float *q; /* [n_heads][head_dim] */
    float *out;     /* [n_heads][head_dim] */
    const void *k, *v; /* [rows][head_dim] in kv_dtype */
    int kv_dtype;
    const int32_t *pos, *off, *len;
    int n_heads, n_kv_heads, head_dim, max_len, query_pos, sliding_window;
    int32_t *argmax_pos; /* [n_heads] or NULL */
    float *partial;      /* scratch of cuda_attention_decode_scratch() floats */
};
size_t cuda_attention_decode_scratch(int n_heads, int head_dim, int max_len);
void cuda_attention_decode(cudaStream_t st, const struct cuda_attn_decode *a);

/* ---- kv_rows.cu ---- */
/* dst[i][0..row_len) (dst_dtype) = src[idx[i]][col .. col+row_len), i < count; idx: device */
void cuda_gather_rows(cudaStream_t st, void *dst, int dst_dtype, const float *src, int src_stride, int col,
                      int row_len, const int32_t *idx, int count);
void cuda_store_row(cudaStream_t st, void *dst, int dst_dtype, const float *src, int row_len);

#ifdef __cplusplus
}
#endif

#endif
