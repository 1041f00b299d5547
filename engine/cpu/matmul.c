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
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/simd.h"

#define TILE_ROWS 512 /* rows of W widened per sgemm call: 8 MB of f32 at in = 4096, so the
                         tile is still in the last-level cache when sgemm packs it */
#define FEW_ROWS 4    /* up to this many rows of x use the fused half-precision path */

void weight_row_f32(const struct weight *w, int64_t r, float *out) {
    const char *base = (const char *)w->data + (size_t)(r * w->cols) * dtype_size(w->dtype);
    dtype_to_f32(out, base, w->dtype, (size_t)w->cols);
}

/* dot(x[0..n), row of half-precision weights), eight partial sums like the vector version. */
static float dot_half(const float *x, const uint16_t *wrow, enum dtype t, int64_t n) {
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k] * (t == DT_F16 ? f16_to_f32(wrow[i + k]) : bf16_to_f32(wrow[i + k]));
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) s += x[i] * (t == DT_F16 ? f16_to_f32(wrow[i]) : bf16_to_f32(wrow[i]));
    return s;
}

/* The same with F16C + FMA, 32 weights per step in four independent sums: decode reads every
   weight once, and this keeps up with memory on one core. */
SIMD_FN static float dot_half_simd(const float *x, const uint16_t *wrow, enum dtype t, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load8_half(wrow + i, t), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(load8_half(wrow + i + 8, t), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(load8_half(wrow + i + 16, t), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(load8_half(wrow + i + 24, t), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load8_half(wrow + i, t), _mm256_loadu_ps(x + i), a0);
    float s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += x[i] * (t == DT_F16 ? f16_to_f32(wrow[i]) : bf16_to_f32(wrow[i]));
    return s;
}

static void matmul_half_few(struct backend *be, float *y, const float *x, const struct weight *w, int n) {
    const uint16_t *W = w->data;
    const int64_t in = w->cols, out = w->rows;
    const int simd = cpu_simd(be);
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < out; o++)
        for (int i = 0; i < n; i++)
            y[(int64_t)i * out + o] = simd ? dot_half_simd(x + (int64_t)i * in, W + o * in, w->dtype, in)
                                           : dot_half(x + (int64_t)i * in, W + o * in, w->dtype, in);
}

/* dst[0..n) = src widened to f32, eight at a time with F16C (bf16: shift into the top half). */
SIMD_FN static void widen_simd(float *dst, const uint16_t *src, enum dtype t, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load8_half(src + i, t));
    for (; i < n; i++) dst[i] = t == DT_F16 ? f16_to_f32(src[i]) : bf16_to_f32(src[i]);
}

static void matmul_half_tiled(struct backend *be, float *y, const float *x, const struct weight *w, int n) {
    const int64_t in = w->cols, out = w->rows;
    const int64_t tile_rows = out < TILE_ROWS ? out : TILE_ROWS;
    float *tile = cpu_scratch(be, CPU_SCRATCH_TILE, sizeof *tile * (size_t)(tile_rows * in));
    const int simd = cpu_simd(be);
    for (int64_t r0 = 0; r0 < out; r0 += TILE_ROWS) {
        int64_t rows = out - r0 < TILE_ROWS ? out - r0 : TILE_ROWS;
        const uint16_t *src = (const uint16_t *)w->data + r0 * in;
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            if (simd) widen_simd(tile + r * in, src + r * in, w->dtype, in);
            else dtype_to_f32(tile + r * in, src + r * in, w->dtype, (size_t)in);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)rows, (int)in, 1.0f, x, (int)in, tile, (int)in,
                    0.0f, y + r0, (int)out);
    }
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
        matmul_half_few(be, y, x, w, n);
    } else {
        matmul_half_tiled(be, y, x, w, n);
    }
    if (bias) {
        float *b = cpu_scratch(be, CPU_SCRATCH_VEC, sizeof *b * (size_t)out);
        weight_row_f32(bias, 0, b);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++)
            for (int64_t o = 0; o < out; o++) y[(int64_t)i * out + o] += b[o];
    }
}

void cpu_embed(struct backend *be, float *y, const struct weight *table, const int32_t *ids, int n) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) weight_row_f32(table, ids[i], y + (int64_t)i * table->cols);
}
