/*
 * test_cuda_ops.c: the CUDA backend's tile and chunk edges, against the CPU backend (the
 * reference; tests/test_backend_ops.c checks it against naive loops). test_backend_ops covers
 * every op at odd sizes; these cases cross the CUDA kernels' own boundaries:
 *   - decode attention over caches longer than one split-K chunk (256 rows: 255, 256, 257, 600
 *     rows, heads of different lengths, so some chunks are empty for some heads), GQA groups of
 *     1 to 8, f32/f16/bf16 caches, with the per-head argmax; and an argmax tie (a key repeated),
 *     which must resolve to the first row as torch.argmax does;
 *   - prefill attention at the query/key tile edges (n = 15, 16, 17, 31, 32, 33) and head dims
 *     80 and 256 (the latter needs the shared-memory opt-in), with both statistics;
 *   - the decode matmul at its 4-row limit and the prefill path just past it, with rows that do
 *     and do not allow 16-byte vector loads.
 * Skipped when the build has no CUDA backend or the machine no GPU.
 */
#include "tests/test_util.h"
#include "engine/backend.h"
#include "engine/kv_cache.h"

static uint64_t rng = 0x853c49e6748fea9bULL;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

struct pair {
    struct backend *cpu, *gpu;
};

static struct pair open_pair(void) {
    const char *p = strstr(backend_available(), "cuda");
    if (!p) {
        print_message("no CUDA backend in this build: skipped\n");
        skip();
    }
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(p, " "), p);
    struct error err = {{0}};
    struct backend_options o = {.name = name, .weights_f32 = 0}, c = {.name = "cpu", .weights_f32 = 0};
    struct pair pr = {backend_create(&c, &err), backend_create(&o, &err)};
    if (!pr.gpu) {
        print_message("%s: skipped\n", err.msg);
        backend_free(pr.cpu);
        skip();
    }
    return pr;
}

static void close_pair(struct pair *p) {
    backend_free(p->cpu);
    backend_free(p->gpu);
}

static float *up(struct backend *be, const float *h, size_t n) {
    float *d = be->ops->alloc(be, sizeof *d * n);
    be->ops->upload(be, d, h, sizeof *d * n);
    return d;
}
static float *down(struct backend *be, const float *d, size_t n) {
    float *h = xmalloc(sizeof *h * n);
    be->ops->download(be, h, d, sizeof *h * n);
    return h;
}

static void expect_close(const char *what, const float *got, const float *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        if (isnan(got[i])) fail_msg("%s: element %zu not written", what, i);
    double e = rel_l2(got, want, n);
    if (e > tol) fail_msg("%s: relative error %g > %g", what, e, tol);
}

/* Decode against a cache where KV head j keeps the positions t with t % (j + 1) == 0 of an
   n-token prompt (so heads differ in length), on one backend; returns out and argmax (host). */
static void decode_on(struct backend *be, const float *k, const float *v, const float *q, int n, int H, int Hk, int d,
                      enum dtype kvt, int sw, float *out, int32_t *arg) {
    struct kv_cache c;
    kv_cache_init(&c, be, 1, Hk, d, kvt, 2);
    struct kv_keep keep = {.n_kv_heads = Hk, .count = xcalloc((size_t)Hk, sizeof(int)),
                           .idx = xcalloc((size_t)Hk, sizeof(int32_t *))};
    for (int j = 0; j < Hk; j++) {
        keep.idx[j] = xmalloc(sizeof(int32_t) * (size_t)n);
        for (int t = 0; t < n; t++)
            if (t % (j + 1) == 0) keep.idx[j][keep.count[j]++] = t;
    }
    float *dk = up(be, k, (size_t)n * Hk * d), *dv = up(be, v, (size_t)n * Hk * d);
    kv_cache_fill(&c, 0, dk, dv, Hk * d, n, &keep);
    float *dq = up(be, q, (size_t)H * d), *dout = be->ops->alloc(be, sizeof(float) * (size_t)H * d);
    int32_t *darg = be->ops->alloc(be, sizeof(int32_t) * (size_t)H);
    const struct kv_cache_layer *L = &c.layers[0];
    struct attn_decode_args a = {.q = dq, .out = dout, .k = L->k, .v = L->v, .kv_dtype = kvt, .pos = L->pos,
                                 .off = L->off_dev, .len = L->len_dev, .n_heads = H, .n_kv_heads = Hk, .head_dim = d,
                                 .max_len = kv_cache_max_len(&c, 0), .query_pos = n, .sliding_window = sw,
                                 .argmax_pos = darg};
    be->ops->attention_decode(be, &a);
    be->ops->download(be, out, dout, sizeof(float) * (size_t)H * d);
    be->ops->download(be, arg, darg, sizeof(int32_t) * (size_t)H);
    be->ops->free(be, dk), be->ops->free(be, dv), be->ops->free(be, dq), be->ops->free(be, dout), be->ops->free(be, darg);
    for (int j = 0; j < Hk; j++) free(keep.idx[j]);
    free(keep.idx), free(keep.count);
    kv_cache_free(&c);
}

static void check_decode(struct pair *p, int n, int H, int Hk, int d, enum dtype kvt, int sw, int tie) {
    float *k = xmalloc(sizeof *k * (size_t)n * Hk * d), *v = xmalloc(sizeof *v * (size_t)n * Hk * d);
    float *q = xmalloc(sizeof *q * (size_t)H * d);
    for (size_t i = 0; i < (size_t)n * Hk * d; i++) k[i] = 2 * frand(), v[i] = frand();
    for (int i = 0; i < H * d; i++) q[i] = 2 * frand();
    if (tie) /* KV head 0: position 0 repeats at 300, both far above the rest */
        for (int i = 0; i < d; i++) k[i] = k[(size_t)300 * Hk * d + i] = q[i] > 0 ? 3.0f : -3.0f;
    float *o1 = xmalloc(sizeof *o1 * (size_t)H * d), *o2 = xmalloc(sizeof *o2 * (size_t)H * d);
    int32_t *a1 = xmalloc(sizeof *a1 * (size_t)H), *a2 = xmalloc(sizeof *a2 * (size_t)H);
    decode_on(p->cpu, k, v, q, n, H, Hk, d, kvt, sw, o1, a1);
    decode_on(p->gpu, k, v, q, n, H, Hk, d, kvt, sw, o2, a2);
    char what[96];
    snprintf(what, sizeof what, "decode n=%d H=%d Hk=%d d=%d %s sw=%d", n, H, Hk, d, dtype_name(kvt), sw);
    expect_close(what, o2, o1, (size_t)H * d, kvt == DT_F32 ? 1e-5 : 1e-4);
    for (int h = 0; h < H; h++)
        if (a1[h] != a2[h]) fail_msg("%s: head %d argmax at %d, cpu %d", what, h, a2[h], a1[h]);
    if (tie) assert_int_equal(a2[0], 0);
    free(k), free(v), free(q), free(o1), free(o2), free(a1), free(a2);
}

static void test_decode_chunks(void **state) {
    struct pair p = open_pair();
    check_decode(&p, 255, 2, 1, 16, DT_F32, 0, 0);
    check_decode(&p, 256, 4, 2, 16, DT_F32, 0, 0);
    check_decode(&p, 257, 4, 4, 8, DT_F16, 0, 0);
    check_decode(&p, 600, 8, 1, 16, DT_F32, 0, 0);  /* G = 8: three chunks */
    check_decode(&p, 600, 6, 3, 8, DT_BF16, 0, 0);  /* heads of 600, 300, 200 rows */
    check_decode(&p, 600, 4, 2, 12, DT_F32, 100, 0); /* sliding window: early chunks all masked */
    check_decode(&p, 600, 2, 2, 16, DT_F32, 0, 1);   /* a tie across chunks: the first row wins */
    close_pair(&p);
}

static void check_attention(struct pair *p, int n, int H, int Hk, int d, int sw) {
    const int qs = H * d, kvs = Hk * d;
    float *q = xmalloc(sizeof *q * (size_t)n * qs), *k = xmalloc(sizeof *k * (size_t)n * kvs), *v = xmalloc(sizeof *v * (size_t)n * kvs);
    for (size_t i = 0; i < (size_t)n * qs; i++) q[i] = 2 * frand();
    for (size_t i = 0; i < (size_t)n * kvs; i++) k[i] = 2 * frand(), v[i] = frand();
    float *res[2][3];
    struct backend *bes[2] = {p->cpu, p->gpu};
    for (int b = 0; b < 2; b++) {
        struct backend *be = bes[b];
        float *dq = up(be, q, (size_t)n * qs), *dk = up(be, k, (size_t)n * kvs), *dv = up(be, v, (size_t)n * kvs);
        float *dout = be->ops->alloc(be, sizeof(float) * (size_t)n * qs);
        float *dw = be->ops->alloc(be, sizeof(float) * (size_t)H * n), *da = be->ops->alloc(be, sizeof(float) * (size_t)H * n);
        struct attn_args a = {.q = dq, .k = dk, .v = dv, .out = dout, .n = n, .n_heads = H, .n_kv_heads = Hk,
                              .head_dim = d, .q_stride = qs, .kv_stride = kvs, .out_stride = qs, .causal = 1,
                              .sliding_window = sw, .window = 8, .window_attn = dw, .accum_attn = da};
        be->ops->attention(be, &a);
        res[b][0] = down(be, dout, (size_t)n * qs);
        res[b][1] = down(be, dw, (size_t)H * n);
        res[b][2] = down(be, da, (size_t)H * n);
        float *bufs[] = {dq, dk, dv, dout, dw, da};
        for (int i = 0; i < 6; i++) be->ops->free(be, bufs[i]);
    }
    char what[96];
    snprintf(what, sizeof what, "attention n=%d H=%d Hk=%d d=%d sw=%d", n, H, Hk, d, sw);
    expect_close(what, res[1][0], res[0][0], (size_t)n * qs, 1e-5);
    expect_close("window_attn", res[1][1], res[0][1], (size_t)H * n, 1e-5);
    expect_close("accum_attn", res[1][2], res[0][2], (size_t)H * n, 1e-5);
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 3; i++) free(res[b][i]);
    free(q), free(k), free(v);
}

static void test_attention_tiles(void **state) {
    struct pair p = open_pair();
    const int ns[] = {15, 16, 17, 31, 32, 33};
    for (int i = 0; i < 6; i++) check_attention(&p, ns[i], 2, 1, 8, 0);
    check_attention(&p, 40, 2, 2, 80, 0);  /* Qwen2-VL's vision head size */
    check_attention(&p, 20, 2, 1, 256, 0); /* > 48 KiB of shared memory */
    check_attention(&p, 70, 4, 2, 16, 33); /* sliding window spanning tiles */
    close_pair(&p);
}

static void check_matmul(struct pair *p, enum dtype t, int n, int in, int out) {
    float *x = xmalloc(sizeof *x * (size_t)n * in);
    void *wh = xmalloc(dtype_size(t) * (size_t)out * in);
    for (int i = 0; i < n * in; i++) x[i] = frand();
    for (int i = 0; i < out * in; i++) {
        float f = frand();
        if (t == DT_F32) ((float *)wh)[i] = f;
        else ((uint16_t *)wh)[i] = t == DT_F16 ? f32_to_f16(f) : f32_to_bf16(f);
    }
    float *y[2];
    struct backend *bes[2] = {p->cpu, p->gpu};
    for (int b = 0; b < 2; b++) {
        struct backend *be = bes[b];
        struct weight w = {.name = "w", .dtype = t, .rows = out, .cols = in, .host = wh};
        struct error err;
        if (be->ops->weight_prepare(be, &w, &err)) fail_msg("%s", err.msg);
        float *dx = up(be, x, (size_t)n * in), *dy = be->ops->alloc(be, sizeof(float) * (size_t)n * out);
        be->ops->matmul(be, dy, dx, &w, NULL, n);
        y[b] = down(be, dy, (size_t)n * out);
        be->ops->free(be, dx), be->ops->free(be, dy);
        be->ops->weight_release(be, &w);
    }
    char what[96];
    snprintf(what, sizeof what, "matmul %s n=%d in=%d out=%d", dtype_name(t), n, in, out);
    expect_close(what, y[1], y[0], (size_t)n * out, 1e-5);
    free(x), free(wh), free(y[0]), free(y[1]);
}

static void test_matmul_edges(void **state) {
    struct pair p = open_pair();
    for (int t = 0; t < 3; t++)
        for (int n = 3; n <= 6; n++) {
            check_matmul(&p, (enum dtype)t, n, 64, 37);  /* vector loads */
            check_matmul(&p, (enum dtype)t, n, 300, 9);  /* in % 8 != 0 for f32... */
            check_matmul(&p, (enum dtype)t, n, 1000, 5); /* ...and 1000 % 8 == 0 again, longer rows */
        }
    close_pair(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_chunks),
        cmocka_unit_test(test_attention_tiles),
        cmocka_unit_test(test_matmul_edges),
    };
    return cmocka_run_group_tests_name("cuda_ops", tests, NULL, NULL);
}
