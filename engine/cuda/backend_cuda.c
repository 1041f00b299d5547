/*
 * backend_cuda.c: the CUDA backend object behind struct backend_ops (engine/backend.h): device
 * memory, weights, and the op table over the kernels in engine/cuda/ (cuda_ops.h).
 *
 * Built two ways from the same source: `make CUDA=1` against the CUDA toolkit, registered as
 * "cuda"; plain `make` against the host emulator of engine/cuda/emu/, registered as "cuda-emu",
 * so every test that runs on the CPU backend also runs this backend's real code.
 *
 * Memory: our own allocator over cudaMalloc keeps every live allocation's size (device memory
 * cannot carry a header the host reads), so peak_bytes is measured, like the CPU backend's;
 * running out reports cudaMemGetInfo's view next to ours. Weights are uploaded once in their
 * stored dtype (or widened to f32 on the device when the model is small, weights_f32).
 * Scratch buffers (token ids, row indices, widened weight tiles, attention statistics, decode
 * partials) grow on demand and are reused; they count towards the peak.
 *
 * Ordering: everything runs on one stream. upload() uses cudaMemcpyAsync from pageable host
 * memory, which returns once the source is staged, so callers may reuse their buffer at once;
 * download() waits for the stream. Host-side index arrays (embed's ids, gather_rows' idx) are
 * copied into a device scratch the same way, in stream order with the kernel that reads them.
 *
 * Timing: with SPARSEMM_CUDA_PROFILE=1 in the environment every op is bracketed by CUDA events
 * (which serialises host and device), and backend_free prints per-op totals to stderr.
 *
 * Errors: a failing CUDA or cuBLAS call aborts, naming the call and shapes (cuda_api.h);
 * running out of device memory while loading weights is an error the caller gets back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend.h"
#include "engine/cuda/cuda_ops.h"

#ifdef SPARSEMM_CUDA_EMU
#define BACKEND_NAME "cuda-emu"
#else
#define BACKEND_NAME "cuda"
#endif

_Static_assert(DT_F32 == (int)CUDA_F32 && DT_F16 == (int)CUDA_F16 && DT_BF16 == (int)CUDA_BF16,
               "cuda_ops.h's dtype codes are engine/dtype.h's");
_Static_assert(ACT_GELU == (int)CUDA_GELU && ACT_QUICK_GELU == (int)CUDA_QUICK_GELU && ACT_SILU == (int)CUDA_SILU &&
                   ACT_GELU_TANH == (int)CUDA_GELU_TANH,
               "cuda_ops.h's activation codes are engine/model_config.h's");

#define TILE_FLOATS ((size_t)8 << 20) /* widened weight tile for prefill GEMMs: 32 MiB */

/* ---------------------------------------------------------------------------------------------
   Live allocations: pointer -> bytes, open addressing with linear probing, capacity a power of
   two at most half full. */

struct alloc_map {
    void **keys;
    size_t *bytes;
    size_t cap, count;
};

static size_t map_home(const struct alloc_map *m, const void *p) {
    return (size_t)(((uintptr_t)p >> 8) * 0x9e3779b97f4a7c15ull >> 20) & (m->cap - 1);
}

static void map_insert(struct alloc_map *m, void *p, size_t bytes);

static void map_grow(struct alloc_map *m) {
    struct alloc_map old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->bytes = xcalloc(m->cap, sizeof *m->bytes);
    m->count = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i]) map_insert(m, old.keys[i], old.bytes[i]);
    free(old.keys);
    free(old.bytes);
}

static void map_insert(struct alloc_map *m, void *p, size_t bytes) {
    if ((m->count + 1) * 2 > m->cap) map_grow(m);
    size_t i = map_home(m, p);
    while (m->keys[i]) i = (i + 1) & (m->cap - 1);
    m->keys[i] = p;
    m->bytes[i] = bytes;
    m->count++;
}

/* Is k cyclically in (i, j]? */
static int cyclic_between(size_t i, size_t k, size_t j) { return i <= j ? i < k && k <= j : i < k || k <= j; }

/* Remove p; its size in *bytes. -1 if p is not there. Deletion shifts later entries of the
   probe run back, so lookups never need tombstones. */
static int map_remove(struct alloc_map *m, const void *p, size_t *bytes) {
    if (!m->cap) return -1;
    size_t i = map_home(m, p);
    while (m->keys[i] != p) {
        if (!m->keys[i]) return -1;
        i = (i + 1) & (m->cap - 1);
    }
    *bytes = m->bytes[i];
    m->keys[i] = NULL;
    m->count--;
    for (size_t j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
        if (cyclic_between(i, map_home(m, m->keys[j]), j)) continue;
        m->keys[i] = m->keys[j];
        m->bytes[i] = m->bytes[j];
        m->keys[j] = NULL;
        i = j;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
   State */

struct scratch {
    void *p;
    size_t bytes;
};

enum prof_op { P_MATMUL, P_EMBED, P_NORM, P_ELEMENTWISE, P_ROPE, P_ATTENTION, P_DECODE, P_KV_ROWS, P_COPY, P_COUNT };
static const char *const prof_names[P_COUNT] = {"matmul", "embed", "norm", "elementwise", "rope",
                                                "attention", "attention_decode", "kv_rows", "copy"};

struct cuda_state {
    cudaStream_t st;
    cublasHandle_t blas;
    struct alloc_map map;
    int64_t live, peak;
    struct scratch ids, tile, lse, partial;
    char device[320]; /* name and compute capability */
    int profile;
    cudaEvent_t ev_start, ev_stop;
    double prof_ms[P_COUNT];
    long prof_calls[P_COUNT];
};

static struct cuda_state *S(struct backend *be) { return be->impl; }

/* ---------------------------------------------------------------------------------------------
   Memory */

/* Zero-filled device memory, or NULL when the device is full. */
static void *try_alloc(struct cuda_state *s, size_t bytes) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError(); /* not sticky: clear it */
        return NULL;
    }
    CUDA_CHECK(e, "%zu bytes", bytes);
    CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, s->st), "%zu bytes at %p", bytes, p);
    map_insert(&s->map, p, bytes);
    s->live += (int64_t)bytes;
    if (s->live > s->peak) s->peak = s->live;
    return p;
}

static void memory_report(struct cuda_state *s, char *buf, size_t len) {
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) cudaGetLastError();
    snprintf(buf, len, "%s has %zu of %zu bytes free; this backend holds %lld bytes, peak %lld", s->device, free_b,
             total_b, (long long)s->live, (long long)s->peak);
}

static void *cu_alloc(struct backend *be, size_t bytes) {
    void *p = try_alloc(S(be), bytes);
    if (!p) {
        char why[512];
        memory_report(S(be), why, sizeof why);
        fprintf(stderr, "sparsemm %s: out of device memory allocating %zu bytes (%s)\n", BACKEND_NAME, bytes, why);
        abort();
    }
    return p;
}

static void cu_free(struct backend *be, void *p) {
    if (!p) return;
    struct cuda_state *s = S(be);
    size_t bytes;
    if (map_remove(&s->map, p, &bytes)) {
        fprintf(stderr, "sparsemm %s: free of %p, which this backend did not allocate (or freed twice)\n", BACKEND_NAME, p);
        abort();
    }
    s->live -= (int64_t)bytes;
    CUDA_CHECK(cudaFree(p), "%zu bytes at %p", bytes, p);
}

/* A scratch buffer of at least `bytes`; its contents do not survive growth. */
static void *scratch(struct backend *be, struct scratch *sc, size_t bytes) {
    if (sc->bytes < bytes) {
        cu_free(be, sc->p);
        sc->p = cu_alloc(be, bytes);
        sc->bytes = bytes;
    }
    return sc->p;
}

static void cu_upload(struct backend *be, void *dst, const void *src, size_t bytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, S(be)->st), "%zu bytes to %p", bytes, dst);
}

static void cu_download(struct backend *be, void *dst, const void *src, size_t bytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, S(be)->st), "%zu bytes from %p", bytes, src);
    CUDA_CHECK(cudaStreamSynchronize(S(be)->st), "after a download of %zu bytes", bytes);
}

static void cu_synchronize(struct backend *be) { CUDA_CHECK(cudaStreamSynchronize(S(be)->st), "%s", "synchronize"); }

static int64_t cu_peak_bytes(struct backend *be) { return S(be)->peak; }

/* A host int32 array in device scratch, for a kernel queued after it. */
static int32_t *upload_ids(struct backend *be, const int32_t *ids, int n) {
    int32_t *d = scratch(be, &S(be)->ids, sizeof *ids * (size_t)(n > 0 ? n : 1));
    cu_upload(be, d, ids, sizeof *ids * (size_t)n);
    return d;
}

/* ---------------------------------------------------------------------------------------------
   Weights */

static int cu_weight_prepare(struct backend *be, struct weight *w, struct error *err) {
    struct cuda_state *s = S(be);
    const size_t n = (size_t)(w->rows * w->cols), bytes = n * dtype_size(w->dtype);
    const int widen = be->weights_f32 > 0 && w->dtype != DT_F32;
    void *dev = try_alloc(s, widen ? n * sizeof(float) : bytes);
    void *tmp = widen && dev ? try_alloc(s, bytes) : NULL;
    if (!dev || (widen && !tmp)) {
        cu_free(be, dev);
        char why[512];
        memory_report(s, why, sizeof why);
        return error_set(err, "%s: out of device memory for %s [%lld x %lld] %s (%zu bytes): %s", BACKEND_NAME,
                         w->name ? w->name : "a weight", (long long)w->rows, (long long)w->cols, dtype_name(w->dtype),
                         widen ? n * sizeof(float) : bytes, why);
    }
    if (widen) {
        cu_upload(be, tmp, w->host, bytes);
        cuda_widen(s->st, dev, tmp, w->dtype, n);
        cu_free(be, tmp);
        w->dtype = DT_F32;
    } else {
        cu_upload(be, dev, w->host, bytes);
    }
    w->data = dev;
    w->owned = 1;
    return 0;
}

static void cu_weight_release(struct backend *be, struct weight *w) {
    if (w->owned) cu_free(be, w->data);
    w->data = NULL;
    w->owned = 0;
}

/* ---------------------------------------------------------------------------------------------
   Profiling */

static void prof_begin(struct cuda_state *s) {
    if (s->profile) CUDA_CHECK(cudaEventRecord(s->ev_start, s->st), "%s", "profile start");
}

static void prof_end(struct cuda_state *s, enum prof_op op) {
    if (!s->profile) return;
    float ms = 0;
    CUDA_CHECK(cudaEventRecord(s->ev_stop, s->st), "%s", prof_names[op]);
    CUDA_CHECK(cudaEventSynchronize(s->ev_stop), "%s", prof_names[op]);
    CUDA_CHECK(cudaEventElapsedTime(&ms, s->ev_start, s->ev_stop), "%s", prof_names[op]);
    s->prof_ms[op] += ms;
    s->prof_calls[op]++;
}

static void prof_print(const struct cuda_state *s) {
    fprintf(stderr, "sparsemm %s profile (%s), CUDA event time per op:\n", BACKEND_NAME, s->device);
    fprintf(stderr, "  %-18s %10s %12s %12s\n", "op", "calls", "total ms", "mean us");
    for (int i = 0; i < P_COUNT; i++)
        if (s->prof_calls[i])
            fprintf(stderr, "  %-18s %10ld %12.3f %12.2f\n", prof_names[i], s->prof_calls[i], s->prof_ms[i],
                    1e3 * s->prof_ms[i] / (double)s->prof_calls[i]);
    fprintf(stderr, "  peak device memory held: %lld bytes\n", (long long)s->peak);
}

/* ---------------------------------------------------------------------------------------------
   Ops */

static void cu_matmul(struct backend *be, float *y, const float *x, const struct weight *w, const struct weight *bias,
                      int n) {
    struct cuda_state *s = S(be);
    const int64_t in = w->cols, out = w->rows;
    prof_begin(s);
    if (n <= CUDA_GEMV_MAX_ROWS) {
        cuda_gemv(s->st, y, x, w->data, w->dtype, n, in, out);
    } else if (w->dtype == DT_F32) {
        cuda_gemm_xwt(s->blas, y, (int)out, x, (int)in, w->data, (int)in, n, (int)in, (int)out);
    } else {
        size_t tile = (size_t)(out * in);
        if (tile > TILE_FLOATS) tile = TILE_FLOATS / (size_t)in > 0 ? TILE_FLOATS / (size_t)in * (size_t)in : (size_t)in;
        float *t = scratch(be, &s->tile, tile * sizeof(float));
        cuda_matmul_half(s->blas, s->st, y, x, w->data, w->dtype, n, in, out, t, tile);
    }
    if (bias) cuda_add_rows(s->st, y, bias->data, bias->dtype, 1, out, n);
    prof_end(s, P_MATMUL);
}

static void cu_embed(struct backend *be, float *y, const struct weight *table, const int32_t *ids, int n) {
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= table->rows) {
            fprintf(stderr, "sparsemm %s: embed: id %d at %d outside the table's %lld rows\n", BACKEND_NAME, ids[i], i,
                    (long long)table->rows);
            abort();
        }
    prof_begin(S(be));
    cuda_embed(S(be)->st, y, table->data, table->dtype, table->cols, upload_ids(be, ids, n), n);
    prof_end(S(be), P_EMBED);
}

static void cu_rmsnorm(struct backend *be, float *y, const float *x, const struct weight *w, int n, int dim, float eps) {
    prof_begin(S(be));
    cuda_rmsnorm(S(be)->st, y, x, w->data, w->dtype, n, dim, eps);
    prof_end(S(be), P_NORM);
}

static void cu_layernorm(struct backend *be, float *y, const float *x, const struct weight *w, const struct weight *b,
                         int n, int dim, float eps) {
    prof_begin(S(be));
    cuda_layernorm(S(be)->st, y, x, w->data, w->dtype, b ? b->data : NULL, b ? b->dtype : DT_F32, n, dim, eps);
    prof_end(S(be), P_NORM);
}

static void cu_add(struct backend *be, float *y, const float *x, size_t count) {
    prof_begin(S(be));
    cuda_add(S(be)->st, y, x, count);
    prof_end(S(be), P_ELEMENTWISE);
}

static void cu_add_weight(struct backend *be, float *y, const struct weight *w, int n) {
    if (w->rows > 1 && w->rows < n) {
        fprintf(stderr, "sparsemm %s: add_weight of %s: %d rows but the weight has %lld\n", BACKEND_NAME, w->name, n,
                (long long)w->rows);
        abort();
    }
    prof_begin(S(be));
    cuda_add_rows(S(be)->st, y, w->data, w->dtype, w->rows, w->cols, n);
    prof_end(S(be), P_ELEMENTWISE);
}

static void cu_activation(struct backend *be, float *x, size_t count, enum activation act) {
    prof_begin(S(be));
    cuda_activation(S(be)->st, x, count, act);
    prof_end(S(be), P_ELEMENTWISE);
}

static void cu_silu_mul(struct backend *be, float *gate, const float *up, size_t count) {
    prof_begin(S(be));
    cuda_silu_mul(S(be)->st, gate, up, count);
    prof_end(S(be), P_ELEMENTWISE);
}

static void cu_zero_cols(struct backend *be, float *x, int n, int stride, int col, int count) {
    prof_begin(S(be));
    cuda_zero_cols(S(be)->st, x, n, stride, col, count);
    prof_end(S(be), P_ELEMENTWISE);
}

static void cu_rope(struct backend *be, float *x, int n, int n_heads, int head_dim, int stride, const float *cos,
                    const float *sin) {
    prof_begin(S(be));
    cuda_rope(S(be)->st, x, n, n_heads, head_dim, stride, cos, sin);
    prof_end(S(be), P_ROPE);
}

static void cu_attention(struct backend *be, const struct attn_args *a) {
    struct cuda_state *s = S(be);
    const int stats = a->window_attn || a->accum_attn;
    struct cuda_attn c = {.q = a->q, .k = a->k, .v = a->v, .out = a->out, .n = a->n, .n_heads = a->n_heads,
                          .n_kv_heads = a->n_kv_heads, .head_dim = a->head_dim, .q_stride = a->q_stride,
                          .kv_stride = a->kv_stride, .out_stride = a->out_stride, .causal = a->causal,
                          .sliding_window = a->sliding_window, .window = a->window, .window_attn = a->window_attn,
                          .accum_attn = a->accum_attn,
                          .lse = stats ? scratch(be, &s->lse, sizeof(float) * (size_t)a->n_heads * (size_t)a->n) : NULL};
    prof_begin(s);
    cuda_attention(s->st, &c);
    prof_end(s, P_ATTENTION);
}

static void cu_attention_decode(struct backend *be, const struct attn_decode_args *a) {
    struct cuda_state *s = S(be);
    const size_t floats = cuda_attention_decode_scratch(a->n_heads, a->head_dim, a->max_len);
    struct cuda_attn_decode c = {.q = a->q, .out = a->out, .k = a->k, .v = a->v, .kv_dtype = a->kv_dtype,
                                 .pos = a->pos, .off = a->off, .len = a->len, .n_heads = a->n_heads,
                                 .n_kv_heads = a->n_kv_heads, .head_dim = a->head_dim, .max_len = a->max_len,
                                 .query_pos = a->query_pos, .sliding_window = a->sliding_window,
                                 .argmax_pos = a->argmax_pos,
                                 .partial = scratch(be, &s->partial, sizeof(float) * floats)};
    prof_begin(s);
    cuda_attention_decode(s->st, &c);
    prof_end(s, P_DECODE);
}

static void cu_gather_rows(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int src_stride,
                           int col, int row_len, const int32_t *idx, int count) {
    if (count <= 0) return;
    prof_begin(S(be));
    cuda_gather_rows(S(be)->st, dst, dst_dtype, src, src_stride, col, row_len, upload_ids(be, idx, count), count);
    prof_end(S(be), P_KV_ROWS);
}

static void cu_store_row(struct backend *be, void *dst, enum dtype dst_dtype, const float *src, int row_len) {
    prof_begin(S(be));
    cuda_store_row(S(be)->st, dst, dst_dtype, src, row_len);
    prof_end(S(be), P_KV_ROWS);
}

static void cu_copy(struct backend *be, float *dst, const float *src, size_t count) {
    prof_begin(S(be));
    CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof *dst, cudaMemcpyDeviceToDevice, S(be)->st), "%zu floats",
               count);
    prof_end(S(be), P_COPY);
}

/* ---------------------------------------------------------------------------------------------
   The backend */

static void cu_destroy(struct backend *be) {
    struct cuda_state *s = S(be);
    if (s->profile) prof_print(s);
    struct scratch *sc[] = {&s->ids, &s->tile, &s->lse, &s->partial};
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) cu_free(be, sc[i]->p);
    for (size_t i = 0; i < s->map.cap; i++) /* whatever the caller leaked */
        if (s->map.keys[i]) CUDA_CHECK(cudaFree(s->map.keys[i]), "%zu bytes at destroy", s->map.bytes[i]);
    if (s->profile) {
        cudaEventDestroy(s->ev_start);
        cudaEventDestroy(s->ev_stop);
    }
    cublasDestroy(s->blas);
    cudaStreamDestroy(s->st);
    free(s->map.keys);
    free(s->map.bytes);
    free(s);
    free(be);
}

static const struct backend_ops cuda_ops = {
    .name = BACKEND_NAME,
    .destroy = cu_destroy,
    .alloc = cu_alloc,
    .free = cu_free,
    .upload = cu_upload,
    .download = cu_download,
    .synchronize = cu_synchronize,
    .weight_prepare = cu_weight_prepare,
    .weight_release = cu_weight_release,
    .matmul = cu_matmul,
    .embed = cu_embed,
    .rmsnorm = cu_rmsnorm,
    .layernorm = cu_layernorm,
    .add = cu_add,
    .add_weight = cu_add_weight,
    .activation = cu_activation,
    .silu_mul = cu_silu_mul,
    .rope = cu_rope,
    .attention = cu_attention,
    .attention_decode = cu_attention_decode,
    .gather_rows = cu_gather_rows,
    .store_row = cu_store_row,
    .zero_cols = cu_zero_cols,
    .copy = cu_copy,
    .peak_bytes = cu_peak_bytes,
};

/* Device 0 of those CUDA_VISIBLE_DEVICES leaves visible. Without a usable device (no driver:
   cudaErrorInsufficientDriver, leaving the count untouched; research/aesthetics.md §8.2) this
   returns NULL with the reason, so callers and tests can skip. */
struct backend *backend_cuda_create(const struct backend_options *opt, struct error *err) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count < 1) {
        cudaGetLastError();
        error_set(err, "%s: no usable CUDA device (%s)", BACKEND_NAME,
                  e != cudaSuccess ? cudaGetErrorString(e) : "the driver reports none");
        return NULL;
    }
    struct cudaDeviceProp prop;
    if ((e = cudaSetDevice(0)) != cudaSuccess || (e = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess) {
        cudaGetLastError();
        error_set(err, "%s: cannot use device 0 (%s)", BACKEND_NAME, cudaGetErrorString(e));
        return NULL;
    }
    struct cuda_state *s = xcalloc(1, sizeof *s);
    snprintf(s->device, sizeof s->device, "%s, sm_%d%d", prop.name, prop.major, prop.minor);
    cublasStatus_t bs = CUBLAS_STATUS_SUCCESS;
    if ((e = cudaStreamCreate(&s->st)) != cudaSuccess || (bs = cublasCreate(&s->blas)) != CUBLAS_STATUS_SUCCESS ||
        (bs = cublasSetStream(s->blas, s->st)) != CUBLAS_STATUS_SUCCESS) {
        error_set(err, "%s: cannot set up %s (%s)", BACKEND_NAME, s->device,
                  e != cudaSuccess ? cudaGetErrorString(e) : cublasGetStatusString(bs));
        if (s->blas) cublasDestroy(s->blas);
        if (s->st) cudaStreamDestroy(s->st);
        free(s);
        return NULL;
    }
    const char *prof = getenv("SPARSEMM_CUDA_PROFILE");
    s->profile = prof && *prof && strcmp(prof, "0") != 0;
    if (s->profile) {
        CUDA_CHECK(cudaEventCreate(&s->ev_start), "%s", "profile");
        CUDA_CHECK(cudaEventCreate(&s->ev_stop), "%s", "profile");
    }
    struct backend *be = xcalloc(1, sizeof *be);
    be->ops = &cuda_ops;
    be->impl = s;
    be->n_threads = 1;
    be->weights_f32 = opt ? opt->weights_f32 : -1;
    return be;
}
