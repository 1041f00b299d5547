/*
 * kv_rows.c: moving rows into the KV cache: the prefill compaction (gather the kept positions
 * of one KV head) and the decode append (one row), converting to the cache's dtype.
 */
#include <string.h>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/simd.h"

static void store(void *dst, enum dtype t, const float *src, int n) {
    if (t == DT_F32) {
        memcpy(dst, src, sizeof *src * (size_t)n);
    } else if (t == DT_F16) {
        uint16_t *d = dst;
        for (int i = 0; i < n; i++) d[i] = f32_to_f16(src[i]);
    } else {
        uint16_t *d = dst;
        for (int i = 0; i < n; i++) d[i] = f32_to_bf16(src[i]);
    }
}

/* store() for f16 with F16C: round to nearest even, exactly as f32_to_f16 (NaN payloads aside). */
SIMD_FN static void store_f16_simd(uint16_t *dst, const float *src, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = f32_to_f16(src[i]);
}

static void store_row(struct backend *be, void *dst, enum dtype t, const float *src, int n) {
    if (t == DT_F16 && cpu_simd(be)) store_f16_simd(dst, src, n);
    else store(dst, t, src, n);
}

void cpu_gather_rows(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int src_stride, int col,
                     int row_len, const int32_t *idx, int count) {
    const size_t es = dtype_size(dst_dtype);
#pragma omp parallel for schedule(static) if ((int64_t)count * row_len >= CPU_PAR_MIN)
    for (int i = 0; i < count; i++)
        store_row(be, (char *)dst + (size_t)i * row_len * es, dst_dtype, src + (int64_t)idx[i] * src_stride + col,
                  row_len);
}

void cpu_store_row(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int row_len) {
    store_row(be, dst, dst_dtype, src, row_len);
}
