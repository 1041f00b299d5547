/*
 * matmul.c: y = x . W^T (+ b), the linear layer, on the CPU.
 *
 * Many rows of x (prefill): f32 weights go straight to OpenBLAS sgemm; f16/bf16 weights are
 * widened on the fly, blocks of W into a scratch tile multiplied with sgemm, so the conversion
 * is paid once per weight element per call and amortised over the rows. A few rows (decode): a
 * fused dot product reads each weight row once, in its stored dtype, because decode is bound by
 * reading the weights from memory and widening them first would read and write them twice.
 */
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/simd.h"

#define TILE_ROWS 512 /* rows of W widened per sgemm call: 8 MB of f32 at in = 4096, so the
                         tile is still in the last-level cache when sgemm packs it */
#define FEW_ROWS 4    /* up to this many rows of x use the fused dot products */
#define SMALL_PRODUCT (1 << 20) /* multiply-adds below which the dot products beat a threaded sgemm */

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
        prefetch_ahead(wrow + i, 64);
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

/* dot(x[0..n), row of f32 weights), eight partial sums. */
static float dot_f32(const float *x, const float *wrow, int64_t n) {
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k] * wrow[i + k];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) s += x[i] * wrow[i];
    return s;
}

SIMD_FN static float dot_f32_simd(const float *x, const float *wrow, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        prefetch_ahead(wrow + i, 128);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wrow + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(wrow + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(wrow + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(wrow + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wrow + i), _mm256_loadu_ps(x + i), a0);
    float s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += x[i] * wrow[i];
    return s;
}

/* y = x . W^T for a few rows of x, or a small product: one pass over W, each weight row read
   once for all rows of x. Our own loop rather than sgemv/sgemm for f32 too, so that small
   products stay on one thread (a decode step of a small model then starts no parallel region
   at all). */
static void matmul_few(struct backend *be, float *y, const float *x, const struct weight *w, int n) {
    const int64_t in = w->cols, out = w->rows;
    const int simd = cpu_simd(be), f32 = w->dtype == DT_F32;
    /* dynamic chunks of 64 rows (512 KB of f16 at in = 4096, long enough for the prefetchers):
       a thread the OS delays does not hold the others up at the end */
#pragma omp parallel for schedule(dynamic, 64) if (out * in * n >= CPU_PAR_MIN)
    for (int64_t o = 0; o < out; o++)
        for (int i = 0; i < n; i++) {
            const float *xi = x + (int64_t)i * in;
            float v;
            if (f32) {
                const float *row = (const float *)w->data + o * in;
                v = simd ? dot_f32_simd(xi, row, in) : dot_f32(xi, row, in);
            } else {
                const uint16_t *row = (const uint16_t *)w->data + o * in;
                v = simd ? dot_half_simd(xi, row, w->dtype, in) : dot_half(xi, row, w->dtype, in);
            }
            y[(int64_t)i * out + o] = v;
        }
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
#pragma omp parallel for schedule(static) if (rows * in >= CPU_PAR_MIN)
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
    if (n <= FEW_ROWS || (int64_t)n * in * out < SMALL_PRODUCT) {
        matmul_few(be, y, x, w, n);
    } else if (w->dtype == DT_F32) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)out, (int)in, 1.0f, x, (int)in, w->data, (int)in,
                    0.0f, y, (int)out);
    } else {
        matmul_half_tiled(be, y, x, w, n);
    }
    if (bias) {
        float *b = cpu_scratch(be, CPU_SCRATCH_VEC, sizeof *b * (size_t)out);
        weight_row_f32(bias, 0, b);
#pragma omp parallel for schedule(static) if (n * out >= CPU_PAR_MIN)
        for (int i = 0; i < n; i++)
            for (int64_t o = 0; o < out; o++) y[(int64_t)i * out + o] += b[o];
    }
}

void cpu_embed(struct backend *be, float *y, const struct weight *table, const int32_t *ids, int n) {
#pragma omp parallel for schedule(static) if (n * table->cols >= CPU_PAR_MIN)
    for (int i = 0; i < n; i++) weight_row_f32(table, ids[i], y + (int64_t)i * table->cols);
}
