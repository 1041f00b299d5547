/*
 * rope.cu: rotate-half rotary embedding in place (HF's apply_rotary_pos_emb; research/models.md
 * §3): within each head, dim i pairs with i + head_dim/2 and both turn by angle i of the row.
 * The angles arrive as per-row cos/sin tables (engine/rope_table.h), which covers plain RoPE,
 * Qwen2-VL's M-RoPE and its vision 2-D RoPE with one kernel, as on the CPU.
 *
 * Launch: grid n (one block per row), block up to 256 threads striding over the
 * n_heads * head_dim/2 pairs of the row; each pair is read and written by one thread.
 */
#include "engine/cuda/common.cuh"

static __global__ void rope_kernel(float *x, int n_heads, int head_dim, int stride, const float *cos, const float *sin) {
    const int half = head_dim / 2, r = blockIdx.x;
    const float *c = cos + (size_t)r * half, *s = sin + (size_t)r * half;
    for (int p = threadIdx.x; p < n_heads * half; p += blockDim.x) {
        const int h = p / half, i = p % half;
        float *v = x + (size_t)r * stride + (size_t)h * head_dim;
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = b * c[i] + a * s[i];
    }
}

extern "C" void cuda_rope(cudaStream_t st, float *x, int n, int n_heads, int head_dim, int stride, const float *cos,
                          const float *sin) {
    if (n > 0)
        LAUNCH(rope_kernel, n, block_threads((size_t)n_heads * (head_dim / 2), 256), 0, st,
               (x, n_heads, head_dim, stride, cos, sin));
}
