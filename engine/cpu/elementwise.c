/*
 * elementwise.c: residual adds, broadcast adds of a weight (biases, position embeddings),
 * activations (research/models.md §0.9: "gelu" is the exact erf form, quick_gelu is
 * x*sigmoid(1.702x), silu is x*sigmoid(x)), the SwiGLU product, and column zeroing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/simd.h"

void cpu_add(struct backend *be, float *y, const float *x, size_t count) {
#pragma omp parallel for schedule(static) if (count >= CPU_PAR_MIN)
    for (size_t i = 0; i < count; i++) y[i] += x[i];
}

void cpu_add_weight(struct backend *be, float *y, const struct weight *w, int n) {
    const int64_t dim = w->cols;
    float *row = malloc(sizeof *row * (size_t)dim);
    if (!row) abort();
    if (w->rows == 1) weight_row_f32(w, 0, row);
    for (int i = 0; i < n; i++) {
        if (w->rows > 1) weight_row_f32(w, i, row);
        float *yi = y + (int64_t)i * dim;
        for (int64_t j = 0; j < dim; j++) yi[j] += row[j];
    }
    free(row);
}

static inline float act1(float x, enum activation act) {
    switch (act) {
    case ACT_GELU: return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2));
    case ACT_QUICK_GELU: return x / (1.0f + expf(-1.702f * x));
    case ACT_SILU: return x / (1.0f + expf(-x));
    case ACT_GELU_TANH: {
        const float c = 0.7978845608028654f; /* sqrt(2/pi) */
        return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
    }
    }
    return x;
}

void cpu_activation(struct backend *be, float *x, size_t count, enum activation act) {
#pragma omp parallel for schedule(static) if (count >= CPU_PAR_MIN)
    for (size_t i = 0; i < count; i++) x[i] = act1(x[i], act);
}

/* gate[i] = silu(gate[i]) * up[i] for i in [lo, hi) with AVX2 (a long prefill computes n x MLP
   of them per layer). */
SIMD_FN static void silu_mul_simd(float *gate, const float *up, size_t lo, size_t hi) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    size_t i = lo;
    for (; i + 8 <= hi; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 den = _mm256_add_ps(one, exp8(_mm256_sub_ps(zero, g)));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, den), _mm256_loadu_ps(up + i)));
    }
    for (; i < hi; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void cpu_silu_mul(struct backend *be, float *gate, const float *up, size_t count) {
    if (cpu_simd(be)) {
        const size_t block = 4096;
#pragma omp parallel for schedule(static) if (count >= CPU_PAR_MIN)
        for (size_t b = 0; b < count; b += block) silu_mul_simd(gate, up, b, b + block < count ? b + block : count);
        return;
    }
#pragma omp parallel for schedule(static) if (count >= CPU_PAR_MIN)
    for (size_t i = 0; i < count; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void cpu_zero_cols(struct backend *be, float *x, int n, int stride, int col, int count) {
    for (int i = 0; i < n; i++) memset(x + (int64_t)i * stride + col, 0, sizeof *x * (size_t)count);
}
