/*
 * test_backend_ops.c: every backend op against a naive reference written here (plain loops,
 * double accumulation, full n x n softmax), at random shapes including odd sizes and GQA, for
 * every backend this build has (backend_available()). In the style of ggml's test-backend-ops:
 * outputs are pre-filled with NaN so an op that skips an element is caught, and errors are
 * reported per op as normalised error.
 */
#include <float.h>

#include "tests/test_util.h"
#include "engine/backend.h"
#include "engine/kv_cache.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}
static void fill(float *x, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = frand() * scale;
}

/* Host <-> backend helpers: every op's inputs are uploaded, outputs (pre-filled with NaN)
   downloaded. */
static float *up(struct backend *be, const float *h, size_t n) {
    float *d = be->ops->alloc(be, n * sizeof *d);
    be->ops->upload(be, d, h, n * sizeof *d);
    return d;
}
static float *nan_buf(struct backend *be, size_t n) {
    float *h = xmalloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++) h[i] = NAN;
    float *d = up(be, h, n);
    free(h);
    return d;
}
static float *down(struct backend *be, const float *d, size_t n) {
    float *h = xmalloc(n * sizeof *h);
    be->ops->download(be, h, d, n * sizeof *h);
    return h;
}

/* A weight of the given dtype holding values (host), prepared on be. host_store keeps the
   half-precision bytes alive. */
static void make_weight(struct backend *be, struct weight *w, enum dtype t, const float *vals, int64_t rows,
                        int64_t cols, void **host_store) {
    size_t n = (size_t)(rows * cols);
    void *h = xmalloc(n * dtype_size(t));
    for (size_t i = 0; i < n; i++) {
        if (t == DT_F32) ((float *)h)[i] = vals[i];
        else if (t == DT_F16) ((uint16_t *)h)[i] = f32_to_f16(vals[i]);
        else ((uint16_t *)h)[i] = f32_to_bf16(vals[i]);
    }
    *w = (struct weight){.name = "w", .dtype = t, .rows = rows, .cols = cols, .host = h};
    struct error err;
    if (be->ops->weight_prepare(be, w, &err)) fail_msg("%s", err.msg);
    *host_store = h;
}
/* The value a weight really holds after rounding to its dtype. */
static float rounded(enum dtype t, float v) {
    return t == DT_F32 ? v : t == DT_F16 ? f16_to_f32(f32_to_f16(v)) : bf16_to_f32(f32_to_bf16(v));
}

static void expect_close(const char *op, const float *got, const float *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        if (isnan(got[i])) fail_msg("%s: element %zu not written (NaN)", op, i);
    double e = rel_l2(got, want, n);
    if (e > tol) fail_msg("%s: relative error %g > %g", op, e, tol);
}

static void check_matmul(struct backend *be, enum dtype t, int n, int in, int out, int bias) {
    float *x = xmalloc(sizeof *x * (size_t)n * in), *w = xmalloc(sizeof *w * (size_t)out * in), *b = xmalloc(sizeof *b * out);
    fill(x, (size_t)n * in, 1);
    fill(w, (size_t)out * in, 0.5f);
    fill(b, (size_t)out, 1);
    struct weight W, B;
    void *hw, *hb;
    make_weight(be, &W, t, w, out, in, &hw);
    make_weight(be, &B, t, b, 1, out, &hb);
    float *ref = xmalloc(sizeof *ref * (size_t)n * out);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = bias ? rounded(t, b[o]) : 0;
            for (int k = 0; k < in; k++) s += (double)x[(size_t)i * in + k] * rounded(t, w[(size_t)o * in + k]);
            ref[(size_t)i * out + o] = (float)s;
        }
    float *dx = up(be, x, (size_t)n * in), *dy = nan_buf(be, (size_t)n * out);
    be->ops->matmul(be, dy, dx, &W, bias ? &B : NULL, n);
    float *got = down(be, dy, (size_t)n * out);
    char name[64];
    snprintf(name, sizeof name, "matmul %s n=%d in=%d out=%d", dtype_name(t), n, in, out);
    expect_close(name, got, ref, (size_t)n * out, 1e-5);
    be->ops->weight_release(be, &W);
    be->ops->weight_release(be, &B);
    be->ops->free(be, dx);
    be->ops->free(be, dy);
    free(x), free(w), free(b), free(ref), free(got), free(hw), free(hb);
}

static void test_matmul(struct backend *be) {
    /* odd sizes; long rows for the decode dot product's unrolled loop and tails; more output
       rows than one widened tile (512) for the prefill path */
    const int shapes[][3] = {{1, 23, 63}, {3, 64, 65}, {5, 127, 129}, {64, 96, 300}, {70, 33, 17}, {1, 1, 1},
                             {1, 4100, 37}, {4, 1061, 9}, {21, 70, 1100}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 3; t++) {
            int saved = be->weights_f32;
            for (int widen = 0; widen < 2; widen++) {
                be->weights_f32 = widen;
                check_matmul(be, (enum dtype)t, shapes[s][0], shapes[s][1], shapes[s][2], (int)(s % 2));
            }
            be->weights_f32 = saved;
        }
}

static void test_norms(struct backend *be) {
    const int n = 7, dim = 45;
    float *x = xmalloc(sizeof *x * n * dim), *g = xmalloc(sizeof *g * dim), *b = xmalloc(sizeof *b * dim);
    fill(x, (size_t)n * dim, 3);
    fill(g, dim, 1);
    fill(b, dim, 1);
    struct weight G, B;
    void *hg, *hb;
    make_weight(be, &G, DT_F32, g, 1, dim, &hg);
    make_weight(be, &B, DT_F32, b, 1, dim, &hb);
    float *ref = xmalloc(sizeof *ref * n * dim);
    for (int i = 0; i < n; i++) {
        double ss = 0;
        for (int j = 0; j < dim; j++) ss += (double)x[i * dim + j] * x[i * dim + j];
        for (int j = 0; j < dim; j++) ref[i * dim + j] = (float)(g[j] * x[i * dim + j] / sqrt(ss / dim + 1e-5));
    }
    float *dx = up(be, x, (size_t)n * dim), *dy = nan_buf(be, (size_t)n * dim);
    be->ops->rmsnorm(be, dy, dx, &G, n, dim, 1e-5f);
    float *got = down(be, dy, (size_t)n * dim);
    expect_close("rmsnorm", got, ref, (size_t)n * dim, 1e-6);
    free(got);
    for (int i = 0; i < n; i++) {
        double s = 0, v = 0;
        for (int j = 0; j < dim; j++) s += x[i * dim + j];
        double mean = s / dim;
        for (int j = 0; j < dim; j++) v += (x[i * dim + j] - mean) * (x[i * dim + j] - mean);
        for (int j = 0; j < dim; j++) ref[i * dim + j] = (float)((x[i * dim + j] - mean) / sqrt(v / dim + 1e-6) * g[j] + b[j]);
    }
    be->ops->layernorm(be, dy, dx, &G, &B, n, dim, 1e-6f);
    got = down(be, dy, (size_t)n * dim);
    expect_close("layernorm", got, ref, (size_t)n * dim, 1e-6);
    /* in place */
    be->ops->layernorm(be, dx, dx, &G, &B, n, dim, 1e-6f);
    free(got);
    got = down(be, dx, (size_t)n * dim);
    expect_close("layernorm in place", got, ref, (size_t)n * dim, 1e-6);
    be->ops->weight_release(be, &G);
    be->ops->weight_release(be, &B);
    be->ops->free(be, dx);
    be->ops->free(be, dy);
    free(x), free(g), free(b), free(ref), free(got), free(hg), free(hb);
}

static void test_elementwise(struct backend *be) {
    const size_t n = 1001;
    float *x = xmalloc(sizeof *x * n), *y = xmalloc(sizeof *y * n), *ref = xmalloc(sizeof *ref * n);
    fill(x, n, 4);
    fill(y, n, 4);
    const enum activation acts[] = {ACT_GELU, ACT_QUICK_GELU, ACT_SILU, ACT_GELU_TANH};
    for (int a = 0; a < 4; a++) {
        for (size_t i = 0; i < n; i++) {
            double v = x[i];
            ref[i] = (float)(acts[a] == ACT_GELU ? 0.5 * v * (1 + erf(v / sqrt(2)))
                             : acts[a] == ACT_QUICK_GELU ? v / (1 + exp(-1.702 * v))
                             : acts[a] == ACT_SILU ? v / (1 + exp(-v))
                                                   : 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
        }
        float *d = up(be, x, n);
        be->ops->activation(be, d, n, acts[a]);
        float *got = down(be, d, n);
        expect_close(activation_name(acts[a]), got, ref, n, 1e-6);
        be->ops->free(be, d);
        free(got);
    }
    for (size_t i = 0; i < n; i++) ref[i] = (float)(x[i] / (1 + exp(-(double)x[i])) * y[i]);
    float *dg = up(be, x, n), *du = up(be, y, n);
    be->ops->silu_mul(be, dg, du, n);
    float *got = down(be, dg, n);
    expect_close("silu_mul", got, ref, n, 1e-6);
    free(got);
    {   /* longer than one parallel block, with large magnitudes (exp saturation) */
        const size_t m = 10007;
        float *a = xmalloc(sizeof *a * m), *b = xmalloc(sizeof *b * m), *r = xmalloc(sizeof *r * m);
        fill(a, m, 100), fill(b, m, 1);
        for (size_t i = 0; i < m; i++) r[i] = (float)(a[i] / (1 + exp(-(double)a[i])) * b[i]);
        float *da = up(be, a, m), *db = up(be, b, m);
        be->ops->silu_mul(be, da, db, m);
        float *g = down(be, da, m);
        expect_close("silu_mul long", g, r, m, 1e-6);
        be->ops->free(be, da), be->ops->free(be, db);
        free(a), free(b), free(r), free(g);
    }
    for (size_t i = 0; i < n; i++) ref[i] = x[i] + y[i];
    be->ops->upload(be, dg, x, n * sizeof *x);
    be->ops->add(be, dg, du, n);
    got = down(be, dg, n);
    expect_close("add", got, ref, n, 1e-7);
    free(got);
    /* zero_cols: 7 rows of 143, columns 20..39 */
    be->ops->upload(be, dg, x, n * sizeof *x);
    be->ops->zero_cols(be, dg, 7, 143, 20, 20);
    got = down(be, dg, n);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 143);
        assert_true(got[i] == (c >= 20 && c < 40 ? 0.0f : x[i]));
    }
    free(got);
    be->ops->free(be, dg);
    be->ops->free(be, du);
    free(x), free(y), free(ref);
}

static void test_rope(struct backend *be) {
    const int n = 5, H = 3, d = 10, stride = 37, half = d / 2;
    const size_t len = (size_t)n * stride;
    float *x = xmalloc(sizeof *x * len), *c = xmalloc(sizeof *c * n * half), *s = xmalloc(sizeof *s * n * half);
    fill(x, len, 1);
    for (int i = 0; i < n * half; i++) c[i] = cosf(0.3f * i), s[i] = sinf(0.3f * i);
    float *ref = xmalloc(sizeof *ref * len);
    memcpy(ref, x, sizeof *x * len);
    for (int r = 0; r < n; r++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < half; i++) {
                float a = x[r * stride + h * d + i], b = x[r * stride + h * d + i + half];
                ref[r * stride + h * d + i] = a * c[r * half + i] - b * s[r * half + i];
                ref[r * stride + h * d + i + half] = b * c[r * half + i] + a * s[r * half + i];
            }
    float *dx = up(be, x, len), *dc = up(be, c, (size_t)n * half), *ds = up(be, s, (size_t)n * half);
    be->ops->rope(be, dx, n, H, d, stride, dc, ds);
    float *got = down(be, dx, len);
    expect_close("rope", got, ref, len, 1e-6);
    be->ops->free(be, dx), be->ops->free(be, dc), be->ops->free(be, ds);
    free(x), free(c), free(s), free(ref), free(got);
}

/* Naive attention with the full n x n probability matrix. */
static void ref_attention(const struct attn_args *a, float *out, float *win, float *acc) {
    const int n = a->n, d = a->head_dim, G = a->n_heads / a->n_kv_heads, w = a->window < n ? a->window : n;
    double *p = xmalloc(sizeof *p * (size_t)n);
    for (int h = 0; h < a->n_heads; h++)
        for (int i = 0; i < n; i++) {
            int j = h / G;
            double m = -INFINITY, sum = 0;
            for (int t = 0; t < n; t++) {
                int vis = (!a->causal || t <= i) && (a->sliding_window <= 0 || t > i - a->sliding_window);
                if (!vis) {
                    p[t] = -INFINITY;
                    continue;
                }
                double s = 0;
                for (int k = 0; k < d; k++) s += (double)a->q[(size_t)i * a->q_stride + h * d + k] * a->k[(size_t)t * a->kv_stride + j * d + k];
                p[t] = s / sqrt(d);
                if (p[t] > m) m = p[t];
            }
            for (int t = 0; t < n; t++) sum += p[t] == -INFINITY ? 0 : exp(p[t] - m);
            for (int t = 0; t < n; t++) p[t] = p[t] == -INFINITY ? 0 : exp(p[t] - m) / sum;
            for (int k = 0; k < d; k++) {
                double o = 0;
                for (int t = 0; t < n; t++) o += p[t] * a->v[(size_t)t * a->kv_stride + j * d + k];
                out[(size_t)i * a->out_stride + h * d + k] = (float)o;
            }
            for (int t = 0; t < n; t++) {
                if (win && i >= n - w) win[(size_t)h * n + t] += (float)(p[t] / w);
                if (acc) acc[(size_t)h * n + t] += (float)p[t];
            }
        }
    free(p);
}

static void check_attention(struct backend *be, int n, int H, int Hk, int d, int causal, int sw, int window) {
    const int qs = H * d + 3, kvs = Hk * d + 1, os = H * d;
    float *q = xmalloc(sizeof *q * (size_t)n * qs), *k = xmalloc(sizeof *k * (size_t)n * kvs), *v = xmalloc(sizeof *v * (size_t)n * kvs);
    fill(q, (size_t)n * qs, 2), fill(k, (size_t)n * kvs, 2), fill(v, (size_t)n * kvs, 1);
    float *ref = xcalloc((size_t)n * os, sizeof *ref), *rw = xcalloc((size_t)H * n, sizeof *rw), *ra = xcalloc((size_t)H * n, sizeof *ra);
    struct attn_args a = {.q = q, .k = k, .v = v, .n = n, .n_heads = H, .n_kv_heads = Hk, .head_dim = d, .q_stride = qs,
                          .kv_stride = kvs, .out_stride = os, .causal = causal, .sliding_window = sw, .window = window};
    ref_attention(&a, ref, rw, ra);
    float *dq = up(be, q, (size_t)n * qs), *dk = up(be, k, (size_t)n * kvs), *dv = up(be, v, (size_t)n * kvs);
    float *dout = nan_buf(be, (size_t)n * os), *dw = nan_buf(be, (size_t)H * n), *da = nan_buf(be, (size_t)H * n);
    struct attn_args b = a;
    b.q = dq, b.k = dk, b.v = dv, b.out = dout, b.window_attn = dw, b.accum_attn = causal ? da : NULL;
    be->ops->attention(be, &b);
    char name[96];
    snprintf(name, sizeof name, "attention n=%d H=%d Hk=%d d=%d causal=%d sw=%d", n, H, Hk, d, causal, sw);
    float *got = down(be, dout, (size_t)n * os);
    expect_close(name, got, ref, (size_t)n * os, 1e-5);
    free(got);
    got = down(be, dw, (size_t)H * n);
    expect_close("window_attn", got, rw, (size_t)H * n, 1e-5);
    free(got);
    if (causal) {
        got = down(be, da, (size_t)H * n);
        expect_close("accum_attn", got, ra, (size_t)H * n, 1e-5);
        free(got);
    }
    float *bufs[] = {dq, dk, dv, dout, dw, da};
    for (int i = 0; i < 6; i++) be->ops->free(be, bufs[i]);
    free(q), free(k), free(v), free(ref), free(rw), free(ra);
}

static void test_attention(struct backend *be) {
    check_attention(be, 1, 2, 1, 8, 1, 0, 32);
    check_attention(be, 37, 4, 2, 16, 1, 0, 8);
    check_attention(be, 130, 6, 3, 12, 1, 0, 32);   /* crosses query blocks */
    check_attention(be, 129, 4, 4, 8, 0, 0, 5);     /* bidirectional (vision) */
    check_attention(be, 100, 4, 1, 8, 1, 17, 32);   /* sliding window, GQA 4:1 */
    check_attention(be, 20, 2, 2, 8, 1, 0, 64);     /* window longer than the prompt */
    check_attention(be, 261, 2, 1, 128, 1, 0, 32);  /* 7B head size, rows with vector tails */
}

/* Decode attention against a head-wise variable-length cache built with kv_cache. */
static void check_decode(struct backend *be, enum dtype kvt, int n, int H, int Hk, int d, int sw) {
    struct kv_cache c;
    kv_cache_init(&c, be, 1, Hk, d, kvt, 4);
    float *k = xmalloc(sizeof *k * (size_t)n * Hk * d), *v = xmalloc(sizeof *v * (size_t)n * Hk * d);
    fill(k, (size_t)n * Hk * d, 2), fill(v, (size_t)n * Hk * d, 1);
    /* head j keeps every (j+1)-th position, in reverse order (order must not matter) */
    struct kv_keep keep = {.n_kv_heads = Hk, .count = xcalloc((size_t)Hk, sizeof(int)), .idx = xcalloc((size_t)Hk, sizeof(int32_t *))};
    for (int j = 0; j < Hk; j++) {
        keep.idx[j] = xmalloc(sizeof(int32_t) * n);
        for (int t = n - 1; t >= 0; t--)
            if (t % (j + 1) == 0) keep.idx[j][keep.count[j]++] = t;
    }
    float *dk = up(be, k, (size_t)n * Hk * d), *dv = up(be, v, (size_t)n * Hk * d);
    kv_cache_fill(&c, 0, dk, dv, Hk * d, n, &keep);
    /* append 6 tokens at positions n.. (exceeds the reserve of 4: exercises growth) */
    float *nk = xmalloc(sizeof *nk * Hk * d), *nv = xmalloc(sizeof *nv * Hk * d);
    float *allk = xmalloc(sizeof *allk * (size_t)(n + 6) * Hk * d), *allv = xmalloc(sizeof *allv * (size_t)(n + 6) * Hk * d);
    memcpy(allk, k, sizeof *k * (size_t)n * Hk * d), memcpy(allv, v, sizeof *v * (size_t)n * Hk * d);
    for (int s = 0; s < 6; s++) {
        fill(nk, (size_t)Hk * d, 2), fill(nv, (size_t)Hk * d, 1);
        memcpy(allk + (size_t)(n + s) * Hk * d, nk, sizeof *nk * Hk * d);
        memcpy(allv + (size_t)(n + s) * Hk * d, nv, sizeof *nv * Hk * d);
        float *dnk = up(be, nk, (size_t)Hk * d), *dnv = up(be, nv, (size_t)Hk * d);
        kv_cache_append(&c, 0, dnk, dnv, n + s);
        be->ops->free(be, dnk), be->ops->free(be, dnv);
    }
    int64_t expect_rows = 0;
    for (int j = 0; j < Hk; j++) expect_rows += keep.count[j] + 6;
    assert_int_equal(kv_cache_layer_rows(&c, 0), expect_rows);
    float *q = xmalloc(sizeof *q * H * d), *ref = xmalloc(sizeof *ref * H * d);
    fill(q, (size_t)H * d, 2);
    const int qpos = n + 5, G = H / Hk;
    int32_t *ref_arg = xmalloc(sizeof *ref_arg * (size_t)H);
    double *p = xmalloc(sizeof *p * (size_t)(n + 6));
    int *rows = xmalloc(sizeof *rows * (size_t)(n + 6));
    for (int h = 0; h < H; h++) {
        int j = h / G;
        double m = -INFINITY, sum = 0;
        int nr = 0, best = -1;
        for (int t = 0; t < n + 6; t++)
            if ((t >= n || t % (j + 1) == 0) && (sw <= 0 || t > qpos - sw)) rows[nr++] = t;
        for (int r = 0; r < nr; r++) {
            double s = 0;
            for (int i = 0; i < d; i++) s += (double)q[h * d + i] * rounded(kvt, allk[(size_t)rows[r] * Hk * d + j * d + i]);
            p[r] = s / sqrt(d);
            if (p[r] > m) m = p[r], best = rows[r];
        }
        for (int r = 0; r < nr; r++) sum += exp(p[r] - m);
        for (int i = 0; i < d; i++) {
            double o = 0;
            for (int r = 0; r < nr; r++) o += exp(p[r] - m) / sum * rounded(kvt, allv[(size_t)rows[r] * Hk * d + j * d + i]);
            ref[h * d + i] = (float)o;
        }
        ref_arg[h] = best;
    }
    float *dq = up(be, q, (size_t)H * d), *dout = nan_buf(be, (size_t)H * d);
    int32_t *darg = be->ops->alloc(be, sizeof(int32_t) * H);
    const struct kv_cache_layer *L = &c.layers[0];
    struct attn_decode_args a = {.q = dq, .out = dout, .k = L->k, .v = L->v, .kv_dtype = kvt, .pos = L->pos,
                                 .off = L->off_dev, .len = L->len_dev, .n_heads = H, .n_kv_heads = Hk, .head_dim = d,
                                 .max_len = kv_cache_max_len(&c, 0), .query_pos = qpos, .sliding_window = sw,
                                 .argmax_pos = darg};
    be->ops->attention_decode(be, &a);
    float *got = down(be, dout, (size_t)H * d);
    expect_close("attention_decode", got, ref, (size_t)H * d, kvt == DT_F32 ? 1e-5 : 1e-3);
    int32_t *arg = xmalloc(sizeof *arg * (size_t)H);
    be->ops->download(be, arg, darg, sizeof(int32_t) * H);
    for (int h = 0; h < H; h++) assert_int_equal(arg[h], ref_arg[h]);
    free(arg), free(ref_arg), free(p), free(rows);
    assert_int_equal(kv_cache_bytes(&c), kv_cache_rows(&c) * 2 * d * (int64_t)dtype_size(kvt));
    be->ops->free(be, dq), be->ops->free(be, dout), be->ops->free(be, darg), be->ops->free(be, dk), be->ops->free(be, dv);
    for (int j = 0; j < Hk; j++) free(keep.idx[j]);
    free(keep.idx), free(keep.count);
    free(k), free(v), free(nk), free(nv), free(allk), free(allv), free(q), free(ref), free(got);
    kv_cache_free(&c);
}

static void test_decode(struct backend *be) {
    check_decode(be, DT_F32, 50, 4, 2, 16, 0);
    check_decode(be, DT_F32, 50, 6, 3, 8, 0);
    check_decode(be, DT_F16, 50, 8, 4, 16, 0);
    check_decode(be, DT_BF16, 50, 2, 1, 8, 0);
    check_decode(be, DT_F32, 50, 4, 1, 8, 13); /* sliding window */
    /* caches longer than one row block (64), a 7B head size, GQA groups sharing a block, and a
       head size that is not a multiple of the vector width */
    check_decode(be, DT_F16, 300, 8, 2, 128, 0);
    check_decode(be, DT_F32, 200, 4, 4, 128, 0);
    check_decode(be, DT_BF16, 150, 6, 2, 20, 0);
    check_decode(be, DT_F16, 130, 4, 2, 72, 41); /* sliding window across blocks */
}

/* KV rows stored as f16 must be exactly f32_to_f16 (torch's .half()), whichever kernel ran:
   ordinary values, ties, subnormals, overflow to inf. */
static void test_store_f16(struct backend *be) {
    const int n = 37;
    float src[37];
    for (int i = 0; i < n; i++) src[i] = frand() * 70000.0f * (i % 3 == 0 ? 1e-9f : i % 3 == 1 ? 1.0f : 1e-4f);
    src[0] = 65519.0f, src[1] = -65520.0f, src[2] = 1.00048828125f; /* max, rounds to inf, a tie */
    float *d = up(be, src, (size_t)n);
    uint16_t *dst = be->ops->alloc(be, sizeof *dst * (size_t)n), got[37];
    be->ops->store_row(be, dst, DT_F16, d, n);
    be->ops->download(be, got, dst, sizeof got);
    for (int i = 0; i < n; i++)
        if (got[i] != f32_to_f16(src[i])) fail_msg("store_row f16 element %d: %#x, want %#x", i, got[i], f32_to_f16(src[i]));
    be->ops->free(be, d);
    be->ops->free(be, dst);
}

static void test_embed_gather(struct backend *be) {
    const int V = 11, D = 9;
    float *tab = xmalloc(sizeof *tab * V * D);
    fill(tab, (size_t)V * D, 1);
    for (int t = 0; t < 3; t++) {
        struct weight W;
        void *hw;
        make_weight(be, &W, (enum dtype)t, tab, V, D, &hw);
        int32_t ids[4] = {3, 0, 10, 3};
        float *dy = nan_buf(be, 4 * D);
        be->ops->embed(be, dy, &W, ids, 4);
        float *got = down(be, dy, 4 * D), ref[36];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < D; j++) ref[i * D + j] = rounded((enum dtype)t, tab[ids[i] * D + j]);
        expect_close("embed", got, ref, 4 * D, 0);
        /* add_weight: broadcast one row, and per-row (position embeddings) */
        be->ops->add_weight(be, dy, &W, 4);
        free(got);
        got = down(be, dy, 4 * D);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < D; j++) ref[i * D + j] += rounded((enum dtype)t, tab[i * D + j]);
        expect_close("add_weight", got, ref, 4 * D, 1e-7);
        be->ops->weight_release(be, &W);
        be->ops->free(be, dy);
        free(got), free(hw);
    }
    free(tab);
}

/* Every backend; the CPU one twice: with its vector kernels (where the CPU has them) and with
   SPARSEMM_CPU_SIMD=0, the plain loops. */
static void run_all(void (*fn)(struct backend *)) {
    char names[64];
    snprintf(names, sizeof names, "%s", backend_available());
    for (char *tok = strtok(names, " "); tok; tok = strtok(NULL, " "))
        for (int plain = 0; plain < (strcmp(tok, "cpu") ? 1 : 2); plain++) {
            struct error err;
            struct backend_options o = {.name = tok, .weights_f32 = 0};
            if (plain) setenv("SPARSEMM_CPU_SIMD", "0", 1);
            struct backend *be = backend_create(&o, &err);
            unsetenv("SPARSEMM_CPU_SIMD");
            if (!be) {
                print_message("backend %s skipped: %s\n", tok, err.msg);
                continue;
            }
            fn(be);
            backend_free(be);
        }
}

static void t_matmul(void **s) { run_all(test_matmul); }
static void t_norms(void **s) { run_all(test_norms); }
static void t_elementwise(void **s) { run_all(test_elementwise); }
static void t_rope(void **s) { run_all(test_rope); }
static void t_attention(void **s) { run_all(test_attention); }
static void t_decode(void **s) { run_all(test_decode); }
static void t_embed(void **s) { run_all(test_embed_gather); }
static void t_store_f16(void **s) { run_all(test_store_f16); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_matmul),    cmocka_unit_test(t_norms),  cmocka_unit_test(t_elementwise),
        cmocka_unit_test(t_rope),      cmocka_unit_test(t_attention), cmocka_unit_test(t_decode),
        cmocka_unit_test(t_embed),     cmocka_unit_test(t_store_f16),
    };
    return cmocka_run_group_tests_name("backend_ops", tests, NULL, NULL);
}
