/*
 * attention_decode.c: one query token against the head-wise flattened KV cache (AdaKV's
 * layout, research/baselines.md §3.2): KV head j's rows are contiguous at off[j] with len[j]
 * rows, and each of its G query heads attends over exactly those rows. Heads may hold
 * different numbers of rows; that is the point of the layout.
 *
 * The head finder needs, per query head, the key its attention weights most: reported as the
 * cached row's sequence position (first maximum on ties, like torch.argmax).
 *
 * Decode attention is bound by reading the cache (a full 32K-token cache of a 7B layer is
 * 512 MB in f16), so the work is organised around reading every cached row from memory once:
 * threads take KV heads, and a KV head's rows go in blocks of ROW_BLOCK that stay in L1 while
 * each of its G query heads reads them (GQA shares the K and V traffic instead of repeating it
 * per query head). Two passes: scores q.k for every row, softmax, then the weighted sum of V.
 * Each pass has a plain loop and an AVX2 version (engine/cpu/simd.h) that reads f16/bf16 rows
 * directly.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/simd.h"

#define ROW_BLOCK 64 /* cached rows per block: 16 KB of f16 K or V at head_dim 128 */

static inline float kv_at(const void *base, enum dtype t, int64_t i) {
    return t == DT_F32 ? ((const float *)base)[i] : t == DT_F16 ? f16_to_f32(((const uint16_t *)base)[i])
                                                               : bf16_to_f32(((const uint16_t *)base)[i]);
}

/* Is cached row r of this head outside the sliding window of the query? */
static inline int masked(const struct attn_decode_args *a, int64_t row) {
    return a->sliding_window > 0 && a->pos[row] <= a->query_pos - a->sliding_window;
}

/* p[r] = q . k_r * scale for rows [r0, r1) of the head starting at row `off` (-inf when
   masked), tracking the first maximum in *m / *best. */
static void scores_plain(const struct attn_decode_args *a, const float *q, int64_t off, int r0, int r1, float scale,
                         float *p, float *m, int *best) {
    const int d = a->head_dim;
    for (int r = r0; r < r1; r++) {
        if (masked(a, off + r)) {
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
        if (p[r] > *m) *m = p[r], *best = r;
    }
}

/* 8 cached values from element i of a K or V buffer in dtype t. The kernels below call their
   row loops with t a literal, so after inlining each dtype has its own loop without a branch. */
SIMD_FN static inline __attribute__((always_inline)) __m256 load8_kv(const void *base, int64_t i, enum dtype t) {
    return t == DT_F32 ? _mm256_loadu_ps((const float *)base + i) : load8_half((const uint16_t *)base + i, t);
}

SIMD_FN static inline __attribute__((always_inline)) void
scores_rows(const struct attn_decode_args *a, const float *q, int64_t off, int r0, int r1, float scale, float *p,
            float *m, int *best, enum dtype t) {
    const int d = a->head_dim, d8 = d & ~7, es = (int)dtype_size(t);
    float mx = *m;
    int bi = *best;
    for (int r = r0; r < r1; r++) {
        if (masked(a, off + r)) {
            p[r] = -INFINITY;
            continue;
        }
        const int64_t row = (off + r) * d;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        int i = 0;
        prefetch_ahead((const char *)a->k + row * es, d * es);
        for (; i + 32 <= d8; i += 32) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8_kv(a->k, row + i, t), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load8_kv(a->k, row + i + 8, t), s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), load8_kv(a->k, row + i + 16, t), s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), load8_kv(a->k, row + i + 24, t), s3);
        }
        for (; i < d8; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8_kv(a->k, row + i, t), s0);
        float s = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
        for (; i < d; i++) s += q[i] * kv_at(a->k, t, row + i);
        p[r] = s * scale;
        if (p[r] > mx) mx = p[r], bi = r;
    }
    *m = mx;
    *best = bi;
}

SIMD_FN static void scores_simd(const struct attn_decode_args *a, const float *q, int64_t off, int r0, int r1,
                                float scale, float *p, float *m, int *best) {
    switch (a->kv_dtype) {
    case DT_F32: scores_rows(a, q, off, r0, r1, scale, p, m, best, DT_F32); break;
    case DT_F16: scores_rows(a, q, off, r0, r1, scale, p, m, best, DT_F16); break;
    case DT_BF16: scores_rows(a, q, off, r0, r1, scale, p, m, best, DT_BF16); break;
    }
}

/* p[r] = exp(p[r] - m) for r < len; returns the sum (in double). Masked rows (-inf) give 0. */
static double softmax_exp_plain(float *p, int len, float m) {
    double sum = 0;
    for (int r = 0; r < len; r++) {
        float e = p[r] == -INFINITY ? 0.0f : expf(p[r] - m);
        p[r] = e;
        sum += e;
    }
    return sum;
}

SIMD_FN static double softmax_exp_simd(float *p, int len, float m) {
    const __m256 mv = _mm256_set1_ps(m);
    __m256d acc = _mm256_setzero_pd();
    int r = 0;
    for (; r + 8 <= len; r += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(p + r), mv));
        _mm256_storeu_ps(p + r, e);
        acc = add8_pd(acc, e);
    }
    double sum = hsum4d(acc);
    for (; r < len; r++) {
        float e = p[r] == -INFINITY ? 0.0f : expf(p[r] - m);
        p[r] = e;
        sum += e;
    }
    return sum;
}

/* out[0..d) += sum over rows [r0, r1) of (p[r] * inv) * v_r. */
static void weighted_sum_plain(const struct attn_decode_args *a, int64_t off, int r0, int r1, const float *p, float inv,
                               float *out) {
    const int d = a->head_dim;
    for (int r = r0; r < r1; r++) {
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
}

/* out[c0 .. c0 + 64) += sum over rows of w_r * v_r[c0 .. c0 + 64): eight accumulators that stay
   in registers for the whole block of rows. */
SIMD_FN static inline __attribute__((always_inline)) void
weighted_chunk64(const struct attn_decode_args *a, int64_t off, int r0, int r1, const float *p, float inv, float *out,
                 int c0, enum dtype t) {
    const int d = a->head_dim, es = (int)dtype_size(t);
    __m256 a0 = _mm256_loadu_ps(out + c0), a1 = _mm256_loadu_ps(out + c0 + 8), a2 = _mm256_loadu_ps(out + c0 + 16),
           a3 = _mm256_loadu_ps(out + c0 + 24), a4 = _mm256_loadu_ps(out + c0 + 32),
           a5 = _mm256_loadu_ps(out + c0 + 40), a6 = _mm256_loadu_ps(out + c0 + 48),
           a7 = _mm256_loadu_ps(out + c0 + 56);
    for (int r = r0; r < r1; r++) {
        const __m256 w = _mm256_set1_ps(p[r] * inv);
        const int64_t row = (off + r) * d + c0;
        if (c0 == 0) prefetch_ahead((const char *)a->v + row * es, d * es);
        a0 = _mm256_fmadd_ps(w, load8_kv(a->v, row, t), a0);
        a1 = _mm256_fmadd_ps(w, load8_kv(a->v, row + 8, t), a1);
        a2 = _mm256_fmadd_ps(w, load8_kv(a->v, row + 16, t), a2);
        a3 = _mm256_fmadd_ps(w, load8_kv(a->v, row + 24, t), a3);
        a4 = _mm256_fmadd_ps(w, load8_kv(a->v, row + 32, t), a4);
        a5 = _mm256_fmadd_ps(w, load8_kv(a->v, row + 40, t), a5);
        a6 = _mm256_fmadd_ps(w, load8_kv(a->v, row + 48, t), a6);
        a7 = _mm256_fmadd_ps(w, load8_kv(a->v, row + 56, t), a7);
    }
    _mm256_storeu_ps(out + c0, a0), _mm256_storeu_ps(out + c0 + 8, a1), _mm256_storeu_ps(out + c0 + 16, a2);
    _mm256_storeu_ps(out + c0 + 24, a3), _mm256_storeu_ps(out + c0 + 32, a4), _mm256_storeu_ps(out + c0 + 40, a5);
    _mm256_storeu_ps(out + c0 + 48, a6), _mm256_storeu_ps(out + c0 + 56, a7);
}

/* The same for dims [c0, c0 + 8*nv), nv < 8 (head sizes that are not a multiple of 64), and a
   plain loop for the last head_dim % 8 dims. */
SIMD_FN static inline __attribute__((always_inline)) void
weighted_rows(const struct attn_decode_args *a, int64_t off, int r0, int r1, const float *p, float inv, float *out,
              enum dtype t) {
    const int d = a->head_dim, d8 = d & ~7, es = (int)dtype_size(t);
    int c0 = 0;
    for (; c0 + 64 <= d8; c0 += 64) weighted_chunk64(a, off, r0, r1, p, inv, out, c0, t);
    if (c0 < d8)
        for (int r = r0; r < r1; r++) {
            const __m256 w = _mm256_set1_ps(p[r] * inv);
            const int64_t row = (off + r) * d;
            if (c0 == 0) prefetch_ahead((const char *)a->v + row * es, d * es);
            for (int c = c0; c < d8; c += 8)
                _mm256_storeu_ps(out + c, _mm256_fmadd_ps(w, load8_kv(a->v, row + c, t), _mm256_loadu_ps(out + c)));
        }
    for (int r = r0; r < r1 && d8 < d; r++) {
        const float w = p[r] * inv;
        for (int i = d8; i < d; i++) out[i] += w * kv_at(a->v, t, (off + r) * d + i);
    }
}

SIMD_FN static void weighted_sum_simd(const struct attn_decode_args *a, int64_t off, int r0, int r1, const float *p,
                                      float inv, float *out) {
    switch (a->kv_dtype) {
    case DT_F32: weighted_rows(a, off, r0, r1, p, inv, out, DT_F32); break;
    case DT_F16: weighted_rows(a, off, r0, r1, p, inv, out, DT_F16); break;
    case DT_BF16: weighted_rows(a, off, r0, r1, p, inv, out, DT_BF16); break;
    }
}

/* All G query heads of KV head j, block by block so each block of rows is read from memory
   once for the whole group. p: scratch [G][max_len]; m, best: scratch [G]. */
static void attend_kv_head(const struct attn_decode_args *a, int j, int simd, float *p, float *m, int *best) {
    const int d = a->head_dim, G = a->n_heads / a->n_kv_heads, len = a->len[j], stride = a->max_len;
    const int64_t off = a->off[j];
    const float scale = 1.0f / sqrtf((float)d);
    for (int g = 0; g < G; g++) m[g] = -INFINITY, best[g] = -1; /* best: first row of the largest score */
    for (int r0 = 0; r0 < len; r0 += ROW_BLOCK) {
        const int r1 = len - r0 < ROW_BLOCK ? len : r0 + ROW_BLOCK;
        for (int g = 0; g < G; g++) {
            const float *q = a->q + (int64_t)(j * G + g) * d;
            if (simd) scores_simd(a, q, off, r0, r1, scale, p + (int64_t)g * stride, &m[g], &best[g]);
            else scores_plain(a, q, off, r0, r1, scale, p + (int64_t)g * stride, &m[g], &best[g]);
        }
    }
    for (int g = 0; g < G; g++) {
        float *pg = p + (int64_t)g * stride, *out = a->out + (int64_t)(j * G + g) * d;
        const double sum = simd ? softmax_exp_simd(pg, len, m[g]) : softmax_exp_plain(pg, len, m[g]);
        m[g] = (float)(1.0 / sum); /* m now holds the normaliser */
        for (int i = 0; i < d; i++) out[i] = 0;
    }
    for (int r0 = 0; r0 < len; r0 += ROW_BLOCK) {
        const int r1 = len - r0 < ROW_BLOCK ? len : r0 + ROW_BLOCK;
        for (int g = 0; g < G; g++) {
            float *out = a->out + (int64_t)(j * G + g) * d;
            if (simd) weighted_sum_simd(a, off, r0, r1, p + (int64_t)g * stride, m[g], out);
            else weighted_sum_plain(a, off, r0, r1, p + (int64_t)g * stride, m[g], out);
        }
    }
    if (a->argmax_pos)
        for (int g = 0; g < G; g++) a->argmax_pos[j * G + g] = best[g] >= 0 ? a->pos[off + best[g]] : -1;
}

void cpu_attention_decode(struct backend *be, const struct attn_decode_args *a) {
    const int G = a->n_heads / a->n_kv_heads, nt = omp_get_max_threads(), simd = cpu_simd(be);
    const size_t probs = (size_t)G * (a->max_len > 0 ? a->max_len : 1), per_thread = probs + 2 * (size_t)G;
    float *scratch = cpu_scratch(be, CPU_SCRATCH_PROBS, sizeof(float) * per_thread * (size_t)nt);
    int64_t rows = 0;
    for (int j = 0; j < a->n_kv_heads; j++) rows += a->len[j];
#pragma omp parallel for schedule(dynamic) if (rows * G * a->head_dim >= CPU_PAR_MIN)
    for (int j = 0; j < a->n_kv_heads; j++) {
        float *mine = scratch + per_thread * (size_t)omp_get_thread_num();
        attend_kv_head(a, j, simd, mine, mine + probs, (int *)(mine + probs + G));
    }
}
