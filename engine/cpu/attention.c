/*
 * attention.c: prefill self-attention on the CPU, tiled over blocks of queries so that no
 * n x n matrix ever exists: per (head, query block) one sgemm gives the scores of BQ queries
 * against the keys they can see, a row softmax turns them into probabilities, and a second
 * sgemm multiplies by V. Probabilities are what the KV-cache methods score tokens with, so the
 * same pass accumulates them into window_attn / accum_attn when asked (engine/kv_policy.h).
 *
 * GQA: query head h reads KV head h / (H / H_kv), as HF's repeat_kv does.
 * Each thread accumulates statistics privately and they are summed at the end, so the
 * result does not depend on which thread ran which block.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/simd.h"

#define BQ 64 /* queries per block: a thread's score rows (BQ x n floats) stay in the L3 cache */

/* Range of keys [lo, hi) that query i may see. */
static inline void key_range(const struct attn_args *a, int i, int *lo, int *hi) {
    *hi = a->causal ? i + 1 : a->n;
    *lo = a->sliding_window > 0 && i - a->sliding_window + 1 > 0 ? i - a->sliding_window + 1 : 0;
}

/* Softmax of one score row over keys [lo, hi) (relative to k0), zero elsewhere; the row holds
   keys [k0, k0 + width). */
static void softmax_row(float *row, int k0, int width, int lo, int hi) {
    float m = -INFINITY;
    for (int t = lo; t < hi; t++) m = row[t - k0] > m ? row[t - k0] : m;
    double sum = 0;
    for (int t = lo; t < hi; t++) {
        float e = expf(row[t - k0] - m);
        row[t - k0] = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    for (int t = k0; t < lo; t++) row[t - k0] = 0;
    for (int t = lo; t < hi; t++) row[t - k0] *= inv;
    for (int t = hi; t < k0 + width; t++) row[t - k0] = 0;
}

/* softmax_row with AVX2: the exp is most of the non-sgemm work of a long prefill (n^2/2 per
   head). The denominator is still summed in double. */
SIMD_FN static void softmax_row_simd(float *row, int k0, int width, int lo, int hi) {
    float *r = row + (lo - k0);
    const int len = hi - lo;
    __m256 mv = _mm256_set1_ps(-INFINITY);
    int t = 0;
    for (; t + 8 <= len; t += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(r + t));
    float m = hmax8(mv);
    for (; t < len; t++) m = r[t] > m ? r[t] : m;
    mv = _mm256_set1_ps(m);
    __m256d acc = _mm256_setzero_pd();
    for (t = 0; t + 8 <= len; t += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(r + t), mv));
        _mm256_storeu_ps(r + t, e);
        acc = add8_pd(acc, e);
    }
    double sum = hsum4d(acc);
    for (; t < len; t++) {
        float e = expf(r[t] - m);
        r[t] = e;
        sum += e;
    }
    const __m256 inv = _mm256_set1_ps((float)(1.0 / sum));
    for (t = 0; t + 8 <= len; t += 8) _mm256_storeu_ps(r + t, _mm256_mul_ps(_mm256_loadu_ps(r + t), inv));
    for (; t < len; t++) r[t] *= (float)(1.0 / sum);
    for (t = k0; t < lo; t++) row[t - k0] = 0;
    for (t = hi; t < k0 + width; t++) row[t - k0] = 0;
}

/* dst[0..n) += src[0..n) / div (the statistics' accumulation; a true division, so both
   versions round alike). */
static void accumulate(float *dst, const float *src, float div, int n) {
    for (int t = 0; t < n; t++) dst[t] += src[t] / div;
}

SIMD_FN static void accumulate_simd(float *dst, const float *src, float div, int n) {
    const __m256 dv = _mm256_set1_ps(div);
    int t = 0;
    for (; t + 8 <= n; t += 8)
        _mm256_storeu_ps(dst + t, _mm256_add_ps(_mm256_loadu_ps(dst + t), _mm256_div_ps(_mm256_loadu_ps(src + t), dv)));
    for (; t < n; t++) dst[t] += src[t] / div;
}

/* One (head, query block): scores, softmax, statistics, P.V. */
static void attend_block(const struct attn_args *a, int h, int i0, int bq, int simd, float *S, float *win, float *acc) {
    const int d = a->head_dim, j = h / (a->n_heads / a->n_kv_heads), n = a->n;
    int k0, k1, lo, hi;
    key_range(a, i0, &k0, &hi);
    key_range(a, i0 + bq - 1, &lo, &k1);
    const int width = k1 - k0;
    const float scale = 1.0f / sqrtf((float)d);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bq, width, d, scale, a->q + (int64_t)i0 * a->q_stride + h * d,
                a->q_stride, a->k + (int64_t)k0 * a->kv_stride + j * d, a->kv_stride, 0.0f, S, width);
    const int w = a->window < n ? a->window : n;
    for (int r = 0; r < bq; r++) {
        int i = i0 + r;
        float *row = S + (int64_t)r * width;
        key_range(a, i, &lo, &hi);
        if (simd) softmax_row_simd(row, k0, width, lo, hi);
        else softmax_row(row, k0, width, lo, hi);
        void (*add)(float *, const float *, float, int) = simd ? accumulate_simd : accumulate;
        if (win && i >= n - w) add(win + (int64_t)h * n + lo, row + (lo - k0), (float)w, hi - lo);
        if (acc) add(acc + (int64_t)h * n + lo, row + (lo - k0), 1.0f, hi - lo);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bq, d, width, 1.0f, S, width,
                a->v + (int64_t)k0 * a->kv_stride + j * d, a->kv_stride, 0.0f, a->out + (int64_t)i0 * a->out_stride + h * d,
                a->out_stride);
}

void cpu_attention(struct backend *be, const struct attn_args *a) {
    const int n = a->n, H = a->n_heads, nblk = (n + BQ - 1) / BQ;
    const int nt = omp_get_max_threads(), simd = cpu_simd(be);
    const size_t stat = (size_t)H * n, n_stats = (a->window_attn != NULL) + (a->accum_attn != NULL);
    float *per_thread = n_stats ? cpu_scratch(be, CPU_SCRATCH_STATS, sizeof(float) * stat * nt * n_stats) : NULL;
    if (per_thread) memset(per_thread, 0, sizeof(float) * stat * nt * n_stats);
    float *win_t = a->window_attn ? per_thread : NULL;
    float *acc_t = a->accum_attn ? per_thread + (a->window_attn ? stat * nt : 0) : NULL;
    float *S_all = cpu_scratch(be, CPU_SCRATCH_PROBS, sizeof(float) * (size_t)BQ * n * nt);
#pragma omp parallel if ((int64_t)H * n * n * a->head_dim >= CPU_PAR_MIN)
    {
        const int tid = omp_get_thread_num();
        float *S = S_all + (size_t)BQ * n * tid;
#pragma omp for schedule(dynamic) collapse(2)
        for (int h = 0; h < H; h++)
            for (int b = 0; b < nblk; b++) {
                int i0 = b * BQ, bq = n - i0 < BQ ? n - i0 : BQ;
                attend_block(a, h, i0, bq, simd, S, win_t ? win_t + stat * tid : NULL,
                             acc_t ? acc_t + stat * tid : NULL);
            }
    }
    float *outs[2] = {a->window_attn, a->accum_attn}, *parts[2] = {win_t, acc_t};
    for (int s = 0; s < 2; s++) {
        if (!outs[s]) continue;
#pragma omp parallel for schedule(static) if (stat >= CPU_PAR_MIN)
        for (size_t e = 0; e < stat; e++) {
            float v = 0;
            for (int t = 0; t < nt; t++) v += parts[s][stat * t + e];
            outs[s][e] = v;
        }
    }
}
