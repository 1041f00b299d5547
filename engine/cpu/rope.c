/*
 * rope.c: rotate-half rotary embedding (HF's apply_rotary_pos_emb): within each head, dim i
 * pairs with dim i + head_dim/2 and both turn by angle i (research/models.md §3). The angles
 * come precomputed per row, which covers plain RoPE, Qwen2-VL's M-RoPE (angle i takes its
 * position from the t, h or w stream) and the vision tower's 2-D RoPE alike.
 */
#include "engine/cpu/cpu_ops.h"

void cpu_rope(struct backend *be, float *x, int n, int n_heads, int head_dim, int stride, const float *cos,
              const float *sin) {
    const int half = head_dim / 2;
#pragma omp parallel for schedule(static) if ((int64_t)n * stride >= CPU_PAR_MIN)
    for (int r = 0; r < n; r++) {
        const float *c = cos + (int64_t)r * half, *s = sin + (int64_t)r * half;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + (int64_t)r * stride + h * head_dim;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * c[i] - b * s[i];
                v[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}
