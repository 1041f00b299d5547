/* window_score.c: see window_score.h. Arithmetic is fp32 like the official code's fp32 path:
   the group mean is a sum divided by the group size, the pool a sum divided by the kernel. */
#include "methods/window_score.h"

#include <stdlib.h>

void scores_group_mean(const float *attn, int n, int n_heads, int n_kv_heads, int n_cand, float *out) {
    const int group = n_heads / n_kv_heads;
    for (int j = 0; j < n_kv_heads; j++) {
        float *o = out + (size_t)j * n_cand;
        for (int t = 0; t < n_cand; t++) {
            float s = 0;
            for (int g = 0; g < group; g++) s += attn[(size_t)(j * group + g) * n + t];
            o[t] = s / (float)group;
        }
    }
}

void scores_avg_pool(float *rows, int n_rows, int n_cand, int kernel, float *tmp) {
    const int half = kernel / 2;
    for (int r = 0; r < n_rows; r++) {
        float *x = rows + (size_t)r * n_cand;
        for (int t = 0; t < n_cand; t++) {
            float s = 0;
            for (int u = t - half; u <= t + half; u++)
                if (u >= 0 && u < n_cand) s += x[u];
            tmp[t] = s / (float)kernel; /* padding counted: always divide by the kernel */
        }
        for (int t = 0; t < n_cand; t++) x[t] = tmp[t];
    }
}

void window_score(const float *window_attn, int n, int n_heads, int n_kv_heads, int window, int kernel, float *out,
                  float *tmp) {
    const int n_cand = n - window;
    scores_group_mean(window_attn, n, n_heads, n_kv_heads, n_cand, out);
    scores_avg_pool(out, n_kv_heads, n_cand, kernel, tmp);
}

static int by_score_desc(const void *pa, const void *pb) {
    const struct scored *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

void scores_rank(const float *score, int n_cand, int *order, struct scored *buf) {
    for (int t = 0; t < n_cand; t++) buf[t] = (struct scored){score[t], t};
    qsort(buf, (size_t)n_cand, sizeof *buf, by_score_desc);
    for (int t = 0; t < n_cand; t++) order[t] = buf[t].pos;
}

int keep_top_and_window(const int *order, int n_cand, int cap, int n, int32_t *idx) {
    int k = cap < n_cand ? cap : n_cand, c = 0;
    for (int r = 0; r < k; r++) idx[c++] = order[r];
    for (int t = n_cand; t < n; t++) idx[c++] = t;
    return c;
}
