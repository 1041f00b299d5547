/*
 * elementwise.cu: residual adds, broadcast adds of a weight row (biases, position embeddings),
 * activations (research/models.md §0.9: "gelu" is the exact erf form, quick_gelu is
 * x*sigmoid(1.702x), silu is x*sigmoid(x)), the SwiGLU product, column zeroing (the query-mask
 * ablation) and widening half-precision weights to f32. Same formulas as engine/cpu/elementwise.c.
 *
 * Launch shape, every kernel here: block THREADS, grid ceil(count / THREADS) capped at
 * MAX_BLOCKS, and a grid-stride loop (element i, i + gridDim.x * blockDim.x, ...), so any count
 * fits one launch and each element is touched by exactly one thread.
 */
#include "engine/cuda/common.cuh"

#define THREADS 256
#define MAX_BLOCKS 4096 /* several waves on the largest GPUs; more blocks only add scheduling */

static unsigned int grid_for(size_t count) {
    unsigned int b = ceil_div(count, THREADS);
    return b > MAX_BLOCKS ? MAX_BLOCKS : b;
}

#define GRID_STRIDE(i, count) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (count); i += (size_t)gridDim.x * blockDim.x)

static __global__ void add_kernel(float *y, const float *x, size_t count) {
    GRID_STRIDE(i, count) y[i] += x[i];
}

static __global__ void add_rows_kernel(float *y, const void *w, int dtype, int64_t w_rows, int64_t dim, size_t count) {
    GRID_STRIDE(i, count) {
        const size_t r = i / (size_t)dim, j = i % (size_t)dim;
        y[i] += load_any(w, dtype, (w_rows == 1 ? 0 : r) * (size_t)dim + j);
    }
}

static __device__ __forceinline__ float act1(float x, int act) {
    switch (act) {
    case CUDA_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case CUDA_QUICK_GELU: return x / (1.0f + expf(-1.702f * x));
    case CUDA_SILU: return x / (1.0f + expf(-x));
    case CUDA_GELU_TANH: return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    }
    return x;
}

static __global__ void activation_kernel(float *x, size_t count, int act) {
    GRID_STRIDE(i, count) x[i] = act1(x[i], act);
}

static __global__ void silu_mul_kernel(float *gate, const float *up, size_t count) {
    GRID_STRIDE(i, count) {
        const float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

static __global__ void zero_cols_kernel(float *x, int stride, int col, int width, size_t count) {
    GRID_STRIDE(i, count) x[(i / (size_t)width) * (size_t)stride + (size_t)col + i % (size_t)width] = 0.0f;
}

template <typename T> static __global__ void widen_kernel(float *dst, const T *src, size_t count) {
    GRID_STRIDE(i, count) dst[i] = to_f32(src[i]);
}

extern "C" void cuda_add(cudaStream_t st, float *y, const float *x, size_t count) {
    if (count) LAUNCH(add_kernel, grid_for(count), THREADS, 0, st, (y, x, count));
}

extern "C" void cuda_add_rows(cudaStream_t st, float *y, const void *w, int w_dtype, int64_t w_rows, int64_t dim, int n) {
    const size_t count = (size_t)n * (size_t)dim;
    if (count) LAUNCH(add_rows_kernel, grid_for(count), THREADS, 0, st, (y, w, w_dtype, w_rows, dim, count));
}

extern "C" void cuda_activation(cudaStream_t st, float *x, size_t count, int act) {
    if (count) LAUNCH(activation_kernel, grid_for(count), THREADS, 0, st, (x, count, act));
}

extern "C" void cuda_silu_mul(cudaStream_t st, float *gate, const float *up, size_t count) {
    if (count) LAUNCH(silu_mul_kernel, grid_for(count), THREADS, 0, st, (gate, up, count));
}

extern "C" void cuda_zero_cols(cudaStream_t st, float *x, int n, int stride, int col, int count) {
    const size_t total = (size_t)n * (size_t)count;
    if (total) LAUNCH(zero_cols_kernel, grid_for(total), THREADS, 0, st, (x, stride, col, count, total));
}

extern "C" void cuda_widen(cudaStream_t st, float *dst, const void *src, int dtype, size_t count) {
    if (!count) return;
    if (dtype == CUDA_F16)
        LAUNCH(widen_kernel<f16_t>, grid_for(count), THREADS, 0, st, (dst, (const f16_t *)src, count));
    else if (dtype == CUDA_BF16)
        LAUNCH(widen_kernel<bf16_t>, grid_for(count), THREADS, 0, st, (dst, (const bf16_t *)src, count));
    else
        LAUNCH(widen_kernel<float>, grid_for(count), THREADS, 0, st, (dst, (const float *)src, count));
}
