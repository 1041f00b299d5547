/*
 * norm.c: RMSNorm (Llama/Qwen2 decoders) and LayerNorm (CLIP, Qwen2-VL vision) on rows.
 * Statistics are accumulated in double: transformers computes them in f32 with a tree
 * reduction, and a double sum is the closest a straight loop gets to that.
 */
#include <math.h>
#include <stdlib.h>

#include "engine/cpu/cpu_ops.h"

/* A norm's weight vector as f32 (it may be stored f16/bf16). Caller frees. */
static float *weight_vec(const struct weight *w) {
    if (!w) return NULL;
    float *v = malloc(sizeof *v * (size_t)w->cols);
    if (!v) abort();
    weight_row_f32(w, 0, v);
    return v;
}

void cpu_rmsnorm(struct backend *be, float *y, const float *x, const struct weight *w, int n, int dim, float eps) {
    float *g = weight_vec(w);
#pragma omp parallel for schedule(static) if ((int64_t)n * dim >= CPU_PAR_MIN)
    for (int i = 0; i < n; i++) {
        const float *xi = x + (int64_t)i * dim;
        float *yi = y + (int64_t)i * dim;
        double ss = 0;
        for (int j = 0; j < dim; j++) ss += (double)xi[j] * xi[j];
        /* HF: x * rsqrt(mean(x^2) + eps), then * weight, all f32 */
        float inv = 1.0f / sqrtf((float)(ss / dim) + eps);
        for (int j = 0; j < dim; j++) yi[j] = g[j] * (xi[j] * inv);
    }
    free(g);
}

void cpu_layernorm(struct backend *be, float *y, const float *x, const struct weight *w, const struct weight *b,
                   int n, int dim, float eps) {
    float *g = weight_vec(w), *beta = weight_vec(b);
#pragma omp parallel for schedule(static) if ((int64_t)n * dim >= CPU_PAR_MIN)
    for (int i = 0; i < n; i++) {
        const float *xi = x + (int64_t)i * dim;
        float *yi = y + (int64_t)i * dim;
        double s = 0, ss = 0;
        for (int j = 0; j < dim; j++) s += xi[j];
        double mean = s / dim;
        for (int j = 0; j < dim; j++) ss += (xi[j] - mean) * (xi[j] - mean);
        float inv = (float)(1.0 / sqrt(ss / dim + eps));
        float m = (float)mean;
        for (int j = 0; j < dim; j++) yi[j] = (xi[j] - m) * inv * g[j] + (beta ? beta[j] : 0.0f);
    }
    free(g);
    free(beta);
}
