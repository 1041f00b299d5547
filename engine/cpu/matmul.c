/*
 * matmul.c: y = x . W^T (+ b), the linear layer, on the CPU.
 *
 * f32 weights go straight to OpenBLAS sgemm (sgemv for one row). f16/bf16 weights are widened
 * on the fly: for many rows of x, blocks of W are widened into a scratch tile and multiplied
 * with sgemm, so the conversion is paid once per weight element per call and amortised over
 * the rows; for a few rows (decode), a fused dot product reads the half-precision weights
 * directly, because decode is bound by reading the weights from memory and widening them
 * first would read and write them twice.
 */
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu_ops.h"

#define TILE_ROWS 256 /* rows of W widened per sgemm call */
#define FEW_ROWS 4    /* up to this many rows of x use the fused half-precision path */

void weight_row_f32(const struct weight *w, int64_t r, float *out) {
    const char *base = (const char *)w->data + (size_t)(r * w->cols) * dtype_size(w->dtype);
    dtype_to_f32(out, base, w->dtype, (size_t)w->cols);
}

/* 8 half-precision values widened to f32 (F16C when compiled for it). */
static inline void load8_f32(const uint16_t *src, enum dtype t, float *dst) {
#if defined(__F16C__) && defined(__AVX2__)
    __m128i h = _mm_loadu_si128((const __m128i *)src);
    __m256 f = t == DT_F16 ? _mm256_cvtph_ps(h)
                           : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    _mm256_storeu_ps(dst, f);
#else
    for (int i = 0; i < 8; i++) dst[i] = t == DT_F16 ? f16_to_f32(src[i]) : bf16_to_f32(src[i]);
#endif
}

/* dot(x[0..n), row of half-precision weights) */
static float dot_half(const float *x, const uint16_t *wrow, enum dtype t, int64_t n) {
    float acc[8] = {0}, tmp[8];
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        load8_f32(wrow + i, t, tmp);
        for (int k = 0; k < 8; k++) acc[k] += x[i + k] * tmp[k];
    }
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) s += x[i] * (t == DT_F16 ? f16_to_f32(wrow[i]) : bf16_to_f32(wrow[i]));
    return s;
}

static void matmul_half_few(float *y, const float *x, const struct weight *w, int n) {
    const uint16_t *W = w->data;
    const int64_t in = w->cols, out = w->rows;
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < out; o++)
        for (int i = 0; i < n; i++) y[(int64_t)i * out + o] = dot_half(x + (int64_t)i * in, W + o * in, w->dtype, in);
}

static void matmul_half_tiled(float *y, const float *x, const struct weight *w, int n) {
    const int64_t in = w->cols, out = w->rows;
    float *tile = malloc(sizeof *tile * (size_t)(TILE_ROWS * in));
    if (!tile) abort();
    for (int64_t r0 = 0; r0 < out; r0 += TILE_ROWS) {
        int64_t rows = out - r0 < TILE_ROWS ? out - r0 : TILE_ROWS;
        const uint16_t *src = (const uint16_t *)w->data + r0 * in;
        const int bf = w->dtype == DT_BF16;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < rows * in; i++) tile[i] = bf ? bf16_to_f32(src[i]) : f16_to_f32(src[i]);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)rows, (int)in, 1.0f, x, (int)in, tile, (int)in,
                    0.0f, y + r0, (int)out);
    }
    free(tile);
}

void cpu_matmul(struct backend *be, float *y, const float *x, const struct weight *w, const struct weight *bias, int n) {
    const int64_t in = w->cols, out = w->rows;
    if (w->dtype == DT_F32) {
        if (n == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)out, (int)in, 1.0f, w->data, (int)in, x, 1, 0.0f, y, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)out, (int)in, 1.0f, x, (int)in, w->data,
                        (int)in, 0.0f, y, (int)out);
    } else if (n <= FEW_ROWS) {
        matmul_half_few(y, x, w, n);
    } else {
        matmul_half_tiled(y, x, w, n);
    }
    if (bias) {
        float *b = malloc(sizeof *b * (size_t)out);
        if (!b) abort();
        weight_row_f32(bias, 0, b);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++)
            for (int64_t o = 0; o < out; o++) y[(int64_t)i * out + o] += b[o];
        free(b);
    }
}

void cpu_embed(struct backend *be, float *y, const struct weight *table, const int32_t *ids, int n) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) weight_row_f32(table, ids[i], y + (int64_t)i * table->cols);
}
