/*
 * kv_rows.c: moving rows into the KV cache: the prefill compaction (gather the kept positions
 * of one KV head) and the decode append (one row), converting to the cache's dtype.
 */
#include <string.h>

#include "engine/cpu/cpu_ops.h"

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

void cpu_gather_rows(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int src_stride, int col,
                     int row_len, const int32_t *idx, int count) {
    const size_t es = dtype_size(dst_dtype);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < count; i++)
        store((char *)dst + (size_t)i * row_len * es, dst_dtype, src + (int64_t)idx[i] * src_stride + col, row_len);
}

void cpu_store_row(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int row_len) {
    store(dst, dst_dtype, src, row_len);
}
