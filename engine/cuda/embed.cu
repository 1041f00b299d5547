/*
 * embed.cu: token embedding lookup, y[i] = table[ids[i]] widened to f32. The ids were copied to
 * the device by the backend, which checked them against the table first.
 *
 * Launch: grid n (one block per token), block up to 256 threads striding over the row.
 */
#include "engine/cuda/common.cuh"

template <typename T>
static __global__ void embed_kernel(float *y, const T *table, int64_t dim, const int32_t *ids) {
    const T *row = table + (size_t)ids[blockIdx.x] * (size_t)dim;
    float *out = y + (size_t)blockIdx.x * (size_t)dim;
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) out[j] = to_f32(row[j]);
}

extern "C" void cuda_embed(cudaStream_t st, float *y, const void *table, int dtype, int64_t dim, const int32_t *ids,
                           int n) {
    if (n <= 0) return;
    const unsigned int threads = block_threads((size_t)dim, 256);
    if (dtype == CUDA_F16)
        LAUNCH(embed_kernel<f16_t>, n, threads, 0, st, (y, (const f16_t *)table, dim, ids));
    else if (dtype == CUDA_BF16)
        LAUNCH(embed_kernel<bf16_t>, n, threads, 0, st, (y, (const bf16_t *)table, dim, ids));
    else
        LAUNCH(embed_kernel<float>, n, threads, 0, st, (y, (const float *)table, dim, ids));
}
