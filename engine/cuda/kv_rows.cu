/*
 * kv_rows.cu: moving rows into the KV cache in the cache's dtype: the prefill compaction
 * (gather the positions one KV head keeps into its contiguous segment of the flattened cache)
 * and the decode append (one row into the room kv_cache preallocated per head, so a step never
 * copies the cache).
 *
 * Launch: grid count (one block per row), block up to 128 threads striding over the row.
 */
#include "engine/cuda/common.cuh"

/* idx == NULL: row i of the output comes from row i of src (the append). */
template <typename T>
static __global__ void gather_rows_kernel(T *dst, const float *src, int src_stride, int col, int row_len,
                                          const int32_t *idx) {
    const size_t r = idx ? (size_t)idx[blockIdx.x] : blockIdx.x;
    const float *s = src + r * (size_t)src_stride + col;
    T *d = dst + (size_t)blockIdx.x * (size_t)row_len;
    for (int j = threadIdx.x; j < row_len; j += blockDim.x) store_f32(d + j, s[j]);
}

static void gather(cudaStream_t st, void *dst, int dtype, const float *src, int src_stride, int col, int row_len,
                   const int32_t *idx, int count) {
    if (count <= 0) return;
    const unsigned int threads = block_threads((size_t)row_len, 128);
    if (dtype == CUDA_F16)
        LAUNCH(gather_rows_kernel<f16_t>, count, threads, 0, st, ((f16_t *)dst, src, src_stride, col, row_len, idx));
    else if (dtype == CUDA_BF16)
        LAUNCH(gather_rows_kernel<bf16_t>, count, threads, 0, st, ((bf16_t *)dst, src, src_stride, col, row_len, idx));
    else
        LAUNCH(gather_rows_kernel<float>, count, threads, 0, st, ((float *)dst, src, src_stride, col, row_len, idx));
}

extern "C" void cuda_gather_rows(cudaStream_t st, void *dst, int dst_dtype, const float *src, int src_stride, int col,
                                 int row_len, const int32_t *idx, int count) {
    gather(st, dst, dst_dtype, src, src_stride, col, row_len, idx, count);
}

extern "C" void cuda_store_row(cudaStream_t st, void *dst, int dst_dtype, const float *src, int row_len) {
    gather(st, dst, dst_dtype, src, row_len, 0, row_len, NULL, 1);
}
