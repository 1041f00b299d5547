/* attn_reference.c: see attn_reference.h. One causal softmax row at a time, in double. */
#include "methods/attn_reference.h"

#include <math.h>
#include <stdlib.h>

#include "engine/util.h"

/* p[0..i] = softmax over keys 0..i of query i of head h (double). p: [>= i + 1]. */
static void causal_row(const float *q, const float *k, int n_heads, int n_kv_heads, int head_dim, int h, int i,
                       double *p) {
    const int j = h / (n_heads / n_kv_heads);
    const float *qi = q + ((size_t)i * n_heads + h) * head_dim;
    const double scale = 1.0 / sqrt((double)head_dim);
    double m = -INFINITY;
    for (int t = 0; t <= i; t++) {
        const float *kt = k + ((size_t)t * n_kv_heads + j) * head_dim;
        double dot = 0;
        for (int c = 0; c < head_dim; c++) dot += (double)qi[c] * kt[c];
        p[t] = dot * scale;
        if (p[t] > m) m = p[t];
    }
    double sum = 0;
    for (int t = 0; t <= i; t++) {
        p[t] = exp(p[t] - m);
        sum += p[t];
    }
    for (int t = 0; t <= i; t++) p[t] /= sum;
}

void window_attn_from_qk(const float *q, const float *k, int n, int n_heads, int n_kv_heads, int head_dim,
                         int window, float *window_attn) {
    const int w = window < n ? window : n;
    double *p = xmalloc((size_t)n * sizeof *p), *acc = xmalloc((size_t)n * sizeof *acc);
    for (int h = 0; h < n_heads; h++) {
        for (int t = 0; t < n; t++) acc[t] = 0;
        for (int i = n - w; i < n; i++) {
            causal_row(q, k, n_heads, n_kv_heads, head_dim, h, i, p);
            for (int t = 0; t <= i; t++) acc[t] += p[t];
        }
        for (int t = 0; t < n; t++) window_attn[(size_t)h * n + t] = w > 0 ? (float)(acc[t] / w) : 0.0f;
    }
    free(p);
    free(acc);
}

void accum_attn_from_qk(const float *q, const float *k, int n, int n_heads, int n_kv_heads, int head_dim,
                        float *accum_attn) {
    double *p = xmalloc((size_t)n * sizeof *p), *acc = xmalloc((size_t)n * sizeof *acc);
    for (int h = 0; h < n_heads; h++) {
        for (int t = 0; t < n; t++) acc[t] = 0;
        for (int i = 0; i < n; i++) {
            causal_row(q, k, n_heads, n_kv_heads, head_dim, h, i, p);
            for (int t = 0; t <= i; t++) acc[t] += p[t];
        }
        for (int t = 0; t < n; t++) accum_attn[(size_t)h * n + t] = (float)acc[t];
    }
    free(p);
    free(acc);
}
