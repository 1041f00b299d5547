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

#define BQ 64 /* queries per block */

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

/* One (head, query block): scores, softmax, statistics, P.V. */
static void attend_block(const struct attn_args *a, int h, int i0, int bq, float *S, float *win, float *acc) {
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
        softmax_row(row, k0, width, lo, hi);
        if (win && i >= n - w)
            for (int t = lo; t < hi; t++) win[(int64_t)h * n + t] += row[t - k0] / (float)w;
        if (acc)
            for (int t = lo; t < hi; t++) acc[(int64_t)h * n + t] += row[t - k0];
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bq, d, width, 1.0f, S, width,
                a->v + (int64_t)k0 * a->kv_stride + j * d, a->kv_stride, 0.0f, a->out + (int64_t)i0 * a->out_stride + h * d,
                a->out_stride);
}

void cpu_attention(struct backend *be, const struct attn_args *a) {
    const int n = a->n, H = a->n_heads, nblk = (n + BQ - 1) / BQ;
    const int nt = omp_get_max_threads();
    const size_t stat = (size_t)H * n;
    float *win_t = a->window_attn ? calloc(stat * nt, sizeof(float)) : NULL;
    float *acc_t = a->accum_attn ? calloc(stat * nt, sizeof(float)) : NULL;
    if ((a->window_attn && !win_t) || (a->accum_attn && !acc_t)) abort();
#pragma omp parallel
    {
        const int tid = omp_get_thread_num();
        float *S = malloc(sizeof *S * (size_t)BQ * n);
        if (!S) abort();
#pragma omp for schedule(dynamic) collapse(2)
        for (int h = 0; h < H; h++)
            for (int b = 0; b < nblk; b++) {
                int i0 = b * BQ, bq = n - i0 < BQ ? n - i0 : BQ;
                attend_block(a, h, i0, bq, S, win_t ? win_t + stat * tid : NULL, acc_t ? acc_t + stat * tid : NULL);
            }
        free(S);
    }
    float *outs[2] = {a->window_attn, a->accum_attn}, *parts[2] = {win_t, acc_t};
    for (int s = 0; s < 2; s++) {
        if (!outs[s]) continue;
#pragma omp parallel for schedule(static)
        for (size_t e = 0; e < stat; e++) {
            float v = 0;
            for (int t = 0; t < nt; t++) v += parts[s][stat * t + e];
            outs[s][e] = v;
        }
    }
    free(win_t);
    free(acc_t);
}
