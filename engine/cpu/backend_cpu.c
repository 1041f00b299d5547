/*
 * backend_cpu.c: the CPU backend object: host memory with a byte counter (so peak backend
 * memory is measured, not estimated), weight preparation, and the op table.
 *
 * Weights: by default they stay where the checkpoint's mmap put them, in their stored dtype,
 * and matmul widens tiles on the fly. With weights_f32 (auto-enabled for models small enough
 * that doubling their size does not matter) each f16/bf16 weight is widened once at load so
 * prefill runs straight through sgemm.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu_ops.h"

/* Each allocation carries its size in a header so free can keep the counter exact. Scratch
   buffers are the ops' temporaries, kept between calls so a decode step allocates nothing;
   they are plain heap memory, not counted as backend allocations. */
struct cpu_state {
    int64_t live, peak;
    int simd;
    void *scratch[CPU_SCRATCH_SLOTS];
    size_t scratch_bytes[CPU_SCRATCH_SLOTS];
};

#define HDR 64 /* keeps returned pointers 64-byte aligned */

static void *cpu_alloc(struct backend *be, size_t bytes) {
    struct cpu_state *s = be->impl;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes + HDR) != 0 || !p) {
        fprintf(stderr, "sparsemm: out of memory allocating %zu bytes on the cpu backend\n", bytes);
        abort();
    }
    memset(p, 0, bytes + HDR);
    *(size_t *)p = bytes;
    int64_t live;
#pragma omp atomic capture
    live = s->live += (int64_t)bytes;
    if (live > s->peak) s->peak = live;
    return (char *)p + HDR;
}

static void cpu_free(struct backend *be, void *p) {
    if (!p) return;
    struct cpu_state *s = be->impl;
    char *base = (char *)p - HDR;
#pragma omp atomic
    s->live -= (int64_t) * (size_t *)base;
    free(base);
}

static void cpu_upload(struct backend *be, void *dst, const void *src, size_t bytes) { memcpy(dst, src, bytes); }
static void cpu_download(struct backend *be, void *dst, const void *src, size_t bytes) { memcpy(dst, src, bytes); }
static void cpu_synchronize(struct backend *be) {}
static void cpu_copy(struct backend *be, float *dst, const float *src, size_t n) { memcpy(dst, src, n * sizeof *dst); }
static int64_t cpu_peak_bytes(struct backend *be) { return ((struct cpu_state *)be->impl)->peak; }

int cpu_simd(const struct backend *be) { return ((const struct cpu_state *)be->impl)->simd; }

void *cpu_scratch(struct backend *be, enum cpu_scratch_slot slot, size_t bytes) {
    struct cpu_state *s = be->impl;
    if (bytes > s->scratch_bytes[slot]) {
        free(s->scratch[slot]);
        s->scratch[slot] = NULL;
        if (posix_memalign(&s->scratch[slot], 64, bytes) != 0) {
            fprintf(stderr, "sparsemm: out of memory allocating %zu bytes of cpu scratch\n", bytes);
            abort();
        }
        s->scratch_bytes[slot] = bytes;
    }
    return s->scratch[slot];
}

/* The vector kernels need AVX2, FMA and F16C; SPARSEMM_CPU_SIMD=0 forces the plain loops (the
   tests run both). */
static int detect_simd(void) {
    const char *env = getenv("SPARSEMM_CPU_SIMD");
    if (env && !strcmp(env, "0")) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

static int cpu_weight_prepare(struct backend *be, struct weight *w, struct error *err) {
    if (w->dtype == DT_F32 || !be->weights_f32) {
        w->data = (void *)w->host;
        w->owned = 0;
        return 0;
    }
    size_t n = (size_t)(w->rows * w->cols);
    float *f = cpu_alloc(be, n * sizeof *f);
    const uint16_t *src = w->host;
    const int bf = w->dtype == DT_BF16;
#pragma omp parallel for schedule(static) if (n >= CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) f[i] = bf ? bf16_to_f32(src[i]) : f16_to_f32(src[i]);
    w->data = f;
    w->dtype = DT_F32;
    w->owned = 1;
    return 0;
}

static void cpu_weight_release(struct backend *be, struct weight *w) {
    if (w->owned) cpu_free(be, w->data);
    w->data = NULL;
    w->owned = 0;
}

static void cpu_destroy(struct backend *be) {
    struct cpu_state *s = be->impl;
    for (int i = 0; i < CPU_SCRATCH_SLOTS; i++) free(s->scratch[i]);
    free(be->impl);
    free(be);
}

static const struct backend_ops cpu_ops = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_upload,
    .download = cpu_download,
    .synchronize = cpu_synchronize,
    .weight_prepare = cpu_weight_prepare,
    .weight_release = cpu_weight_release,
    .matmul = cpu_matmul,
    .embed = cpu_embed,
    .rmsnorm = cpu_rmsnorm,
    .layernorm = cpu_layernorm,
    .add = cpu_add,
    .add_weight = cpu_add_weight,
    .activation = cpu_activation,
    .silu_mul = cpu_silu_mul,
    .rope = cpu_rope,
    .attention = cpu_attention,
    .attention_decode = cpu_attention_decode,
    .gather_rows = cpu_gather_rows,
    .store_row = cpu_store_row,
    .zero_cols = cpu_zero_cols,
    .copy = cpu_copy,
    .peak_bytes = cpu_peak_bytes,
};

struct backend *backend_cpu_create(const struct backend_options *opt, struct error *err) {
    struct backend *be = xcalloc(1, sizeof *be);
    be->ops = &cpu_ops;
    struct cpu_state *st = xcalloc(1, sizeof *st);
    st->simd = detect_simd();
    be->impl = st;
    be->n_threads = opt && opt->n_threads > 0 ? opt->n_threads : omp_get_max_threads();
    be->weights_f32 = opt ? opt->weights_f32 : -1;
    omp_set_num_threads(be->n_threads);
    return be;
}
