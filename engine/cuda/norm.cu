/*
 * norm.cu: RMSNorm (Llama/Qwen2 decoders) and LayerNorm (CLIP, Qwen2-VL vision) over rows,
 * as engine/cpu/norm.c: y = x / sqrt(mean(x^2) + eps) * w, and (x - mean) / sqrt(var + eps)
 * * w + b with the variance taken around the mean (two passes, not E[x^2] - mean^2, which
 * cancels badly for large means). Sums are f32 tree reductions (the CPU uses double; the
 * difference is ~1e-7 relative, inside the cross-backend tolerance of 1e-6).
 *
 * Launch: grid n (one block per row), block a multiple of 32 up to 1024 threads striding over
 * the row, 32 floats of static shared memory for block_sum. In place (y == x) is safe: each
 * element is read and written by the same thread, and all reads of the sum pass happen before
 * the barrier inside block_sum.
 */
#include "engine/cuda/common.cuh"

static __global__ void rmsnorm_kernel(float *y, const float *x, const void *w, int w_dtype, int dim, float eps) {
    __shared__ float scratch[WARP_SIZE];
    const float *xr = x + (size_t)blockIdx.x * (size_t)dim;
    float *yr = y + (size_t)blockIdx.x * (size_t)dim;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < dim; j += blockDim.x) ss += xr[j] * xr[j];
    ss = block_sum(ss, scratch);
    const float inv = 1.0f / sqrtf(ss / (float)dim + eps);
    for (int j = threadIdx.x; j < dim; j += blockDim.x) yr[j] = load_any(w, w_dtype, (size_t)j) * (xr[j] * inv);
}

static __global__ void layernorm_kernel(float *y, const float *x, const void *w, int w_dtype, const void *b,
                                        int b_dtype, int dim, float eps) {
    __shared__ float scratch[WARP_SIZE];
    const float *xr = x + (size_t)blockIdx.x * (size_t)dim;
    float *yr = y + (size_t)blockIdx.x * (size_t)dim;
    float s = 0.0f;
    for (int j = threadIdx.x; j < dim; j += blockDim.x) s += xr[j];
    const float mean = block_sum(s, scratch) / (float)dim;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < dim; j += blockDim.x) ss += (xr[j] - mean) * (xr[j] - mean);
    const float inv = 1.0f / sqrtf(block_sum(ss, scratch) / (float)dim + eps);
    for (int j = threadIdx.x; j < dim; j += blockDim.x)
        yr[j] = (xr[j] - mean) * inv * load_any(w, w_dtype, (size_t)j) + (b ? load_any(b, b_dtype, (size_t)j) : 0.0f);
}

extern "C" void cuda_rmsnorm(cudaStream_t st, float *y, const float *x, const void *w, int w_dtype, int n, int dim,
                             float eps) {
    if (n > 0) LAUNCH(rmsnorm_kernel, n, block_threads((size_t)dim, 1024), 0, st, (y, x, w, w_dtype, dim, eps));
}

extern "C" void cuda_layernorm(cudaStream_t st, float *y, const float *x, const void *w, int w_dtype, const void *b,
                               int b_dtype, int n, int dim, float eps) {
    if (n > 0)
        LAUNCH(layernorm_kernel, n, block_threads((size_t)dim, 1024), 0, st, (y, x, w, w_dtype, b, b_dtype, dim, eps));
}
