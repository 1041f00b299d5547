/*
 * attention_decode.c: one query token against the head-wise flattened KV cache (AdaKV's
 * layout, research/baselines.md §3.2): KV head j's rows are contiguous at off[j] with len[j]
 * rows, and each of its G query heads attends over exactly those rows. Heads may hold
 * different numbers of rows; that is the point of the layout.
 *
 * The head finder needs, per query head, the key its attention weights most: reported as the
 * cached row's sequence position (first maximum on ties, like torch.argmax).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "engine/cpu/cpu_ops.h"

static inline float kv_at(const void *base, enum dtype t, int64_t i) {
    return t == DT_F32 ? ((const float *)base)[i] : t == DT_F16 ? f16_to_f32(((const uint16_t *)base)[i])
                                                               : bf16_to_f32(((const uint16_t *)base)[i]);
}

void cpu_attention_decode(struct backend *be, const struct attn_decode_args *a) {
    const int d = a->head_dim, G = a->n_heads / a->n_kv_heads;
    const float scale = 1.0f / sqrtf((float)d);
#pragma omp parallel
    {
        float *p = malloc(sizeof *p * (size_t)(a->max_len > 0 ? a->max_len : 1));
        if (!p) abort();
#pragma omp for schedule(dynamic)
        for (int h = 0; h < a->n_heads; h++) {
            const int j = h / G, len = a->len[j];
            const int64_t off = a->off[j];
            const float *q = a->q + (int64_t)h * d;
            float m = -INFINITY;
            int best = -1; /* first row with the largest score = largest weight */
            for (int r = 0; r < len; r++) {
                int32_t pos = a->pos[off + r];
                if (a->sliding_window > 0 && pos <= a->query_pos - a->sliding_window) {
                    p[r] = -INFINITY;
                    continue;
                }
                const int64_t row = (off + r) * d;
                float s = 0;
                if (a->kv_dtype == DT_F32) {
                    const float *k = (const float *)a->k + row;
                    for (int i = 0; i < d; i++) s += q[i] * k[i];
                } else {
                    for (int i = 0; i < d; i++) s += q[i] * kv_at(a->k, a->kv_dtype, row + i);
                }
                p[r] = s * scale;
                if (p[r] > m) {
                    m = p[r];
                    best = r;
                }
            }
            double sum = 0;
            for (int r = 0; r < len; r++) {
                float e = p[r] == -INFINITY ? 0.0f : expf(p[r] - m);
                p[r] = e;
                sum += e;
            }
            float inv = (float)(1.0 / sum), *out = a->out + (int64_t)h * d;
            for (int i = 0; i < d; i++) out[i] = 0;
            for (int r = 0; r < len; r++) {
                const float w = p[r] * inv;
                if (w == 0) continue;
                const int64_t row = (off + r) * d;
                if (a->kv_dtype == DT_F32) {
                    const float *v = (const float *)a->v + row;
                    for (int i = 0; i < d; i++) out[i] += w * v[i];
                } else {
                    for (int i = 0; i < d; i++) out[i] += w * kv_at(a->v, a->kv_dtype, row + i);
                }
            }
            if (a->argmax_pos) a->argmax_pos[h] = best >= 0 ? a->pos[off + best] : -1;
        }
        free(p);
    }
}
