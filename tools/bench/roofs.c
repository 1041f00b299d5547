/*
 * roofs.c: the machine's limits next to the engine, measured side by side in one process, for
 * scripts/bench.sh (issue 10's targets). Developer tool, not part of the product: it links
 * build/libsparsemm.a and calls OpenBLAS directly for the sgemm roof.
 *
 *   matmul    a layer's prefill matrix work (q, k, v, o over n rows; gate, up, down over the
 *             decoder's MLP chunks) through the engine's matmul on half-precision weights, vs
 *             cblas_sgemm alone on the same shapes with f32 weights (the roof).
 *   stream    one decode step of a model far larger than the caches, at a short context, vs
 *             the time to read every byte that step must read (all weights but the embedding
 *             table) once, with a vectorised read loop over those very buffers; a copy loop
 *             gives the copy bandwidth for reference.
 *   overhead  prefill with SnapKV's window scoring (statistics in the attention pass + scoring
 *             + selection + compaction) vs prefill without a policy; decode steps with the head
 *             finder's per-head argmax vs without. Runs alternate so drift hits both sides.
 *
 * Build and run (scripts/bench.sh does this):
 *     make build/libsparsemm.a
 *     cc -O2 -march=x86-64-v3 -fopenmp -I. -I/usr/include/x86_64-linux-gnu/openblas-openmp \
 *        tools/bench/roofs.c build/libsparsemm.a -o build/roofs -lopenblas -lcjson -lsqlite3 ... -lm
 *     build/roofs --shape llama2-7b:layers=4 --threads 2
 *
 * Output: human-readable lines, then one "RATIO <name> <value> <target> <PASS|FAIL>" line per
 * target.
 */
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model.h"
#include "harness/method_setup.h"

#define MLP_ROWS 256 /* decoder.c's MLP_CHUNK: prefill MLP rows per matmul call */

struct opts {
    const char *shape;
    int threads, prefill_n, decode_ctx, steps, reps;
};

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Timings are summarised by their minimum (the run least disturbed by other processes on a
   shared machine; every side of a ratio the same way) and reported with their median. */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double best(const double *v, int n) {
    double b = v[0];
    for (int i = 1; i < n; i++) b = v[i] < b ? v[i] : b;
    return b;
}

static void ratio_line(const char *name, double value, double target, int higher_is_better) {
    int pass = higher_is_better ? value >= target : value <= target;
    printf("RATIO %-28s %8.3f  target %s %.3f  %s\n", name, value, higher_is_better ? ">=" : "<=", target,
           pass ? "PASS" : "FAIL");
}

/* ------------------------------------------------------------------------------------------ */
/* matmul vs sgemm */

struct mm_shape {
    const char *name;
    int rows, in, out, calls;  /* calls: how many times the layer does it at this row count */
};

/* One layer's prefill matrix work for n tokens as decoder.c issues it. */
static int layer_shapes(const struct text_config *t, int n, struct mm_shape *s) {
    const int D = t->hidden_size, Hq = t->n_heads * t->head_dim, Hk = t->n_kv_heads * t->head_dim;
    const int Im = t->intermediate_size, chunks = n / MLP_ROWS, rest = n % MLP_ROWS;
    int k = 0;
    s[k++] = (struct mm_shape){"q_proj", n, D, Hq, 1};
    s[k++] = (struct mm_shape){"k_proj", n, D, Hk, 1};
    s[k++] = (struct mm_shape){"v_proj", n, D, Hk, 1};
    s[k++] = (struct mm_shape){"o_proj", n, Hq, D, 1};
    if (chunks) {
        s[k++] = (struct mm_shape){"gate_proj", MLP_ROWS, D, Im, chunks};
        s[k++] = (struct mm_shape){"up_proj", MLP_ROWS, D, Im, chunks};
        s[k++] = (struct mm_shape){"down_proj", MLP_ROWS, Im, D, chunks};
    }
    if (rest) {
        s[k++] = (struct mm_shape){"gate_proj (rest)", rest, D, Im, 1};
        s[k++] = (struct mm_shape){"up_proj (rest)", rest, D, Im, 1};
        s[k++] = (struct mm_shape){"down_proj (rest)", rest, Im, D, 1};
    }
    return k;
}

static void fill_small(float *x, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.05f;
    }
}

/* Seconds for `calls` products of one shape: through the engine (half weights) or sgemm (f32). */
static double time_shape(struct backend *be, const struct mm_shape *s, enum dtype wt, int use_sgemm, int reps) {
    const size_t nw = (size_t)s->in * s->out;
    float *x = xmalloc(sizeof *x * (size_t)s->rows * s->in), *y = xmalloc(sizeof *y * (size_t)s->rows * s->out);
    float *wf = xmalloc(sizeof *wf * nw);
    fill_small(x, (size_t)s->rows * s->in, 1);
    fill_small(wf, nw, 2);
    uint16_t *wh = xmalloc(sizeof *wh * nw);
    for (size_t i = 0; i < nw; i++) wh[i] = wt == DT_BF16 ? f32_to_bf16(wf[i]) : f32_to_f16(wf[i]);
    struct weight w = {.name = s->name, .dtype = wt, .rows = s->out, .cols = s->in, .host = wh, .data = wh};
    double *t = xmalloc(sizeof *t * (size_t)reps);
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        double t0 = now_ms();
        for (int c = 0; c < s->calls; c++) {
            if (use_sgemm)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->rows, s->out, s->in, 1.0f, x, s->in, wf, s->in,
                            0.0f, y, s->out);
            else
                be->ops->matmul(be, y, x, &w, NULL, s->rows);
        }
        if (r >= 0) t[r] = (now_ms() - t0) / 1000;
    }
    double best = t[0];
    for (int r = 1; r < reps; r++) best = t[r] < best ? t[r] : best;
    free(x), free(y), free(wf), free(wh), free(t);
    return best;
}

static void matmul_roof(struct backend *be, const struct text_config *t, const struct opts *o) {
    struct mm_shape s[16];
    int k = layer_shapes(t, o->prefill_n, s);
    double t_ours = 0, t_blas = 0, flops = 0;
    printf("\n== prefill matrix work of one layer, n = %d tokens (best of %d) ==\n", o->prefill_n, o->reps);
    printf("%-18s %6s %6s %6s %5s  %10s %10s %7s\n", "product", "rows", "in", "out", "calls", "sgemm GF/s",
           "ours GF/s", "ratio");
    for (int i = 0; i < k; i++) {
        double f = 2.0 * s[i].rows * s[i].in * s[i].out * s[i].calls;
        double a = time_shape(be, &s[i], DT_F16, 1, o->reps), b = time_shape(be, &s[i], DT_F16, 0, o->reps);
        printf("%-18s %6d %6d %6d %5d  %10.1f %10.1f %7.3f\n", s[i].name, s[i].rows, s[i].in, s[i].out, s[i].calls,
               f / a / 1e9, f / b / 1e9, a / b);
        t_blas += a, t_ours += b, flops += f;
    }
    printf("%-18s %34s  %10.1f %10.1f %7.3f\n", "layer total", "", flops / t_blas / 1e9, flops / t_ours / 1e9,
           t_blas / t_ours);
    ratio_line("prefill_matmul_vs_sgemm", t_blas / t_ours, 0.75, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* decode vs streaming the weights */

/* Read every byte of the buffers once (AVX2 loads, OpenMP over blocks); returns a checksum so
   the reads cannot be optimised away. */
static float read_all(const struct weight *const *w, int n) {
    float total = 0;
    for (int i = 0; i < n; i++) {
        const char *p = w[i]->data;
        const size_t bytes = (size_t)(w[i]->rows * w[i]->cols) * dtype_size(w[i]->dtype), blocks = bytes / 256;
        float part = 0;
#pragma omp parallel for schedule(static) reduction(+ : part)
        for (size_t b = 0; b < blocks; b++) {
            const __m256 *v = (const __m256 *)(p + b * 256);
            __m256 s0 = _mm256_loadu_ps((const float *)&v[0]), s1 = _mm256_loadu_ps((const float *)&v[1]);
            for (int k = 2; k < 8; k += 2) {
                s0 = _mm256_or_ps(s0, _mm256_loadu_ps((const float *)&v[k]));
                s1 = _mm256_or_ps(s1, _mm256_loadu_ps((const float *)&v[k + 1]));
            }
            float tmp[8];
            _mm256_storeu_ps(tmp, _mm256_or_ps(s0, s1));
            part += tmp[0] == 0 ? 0.0f : 1.0f;
        }
        total += part;
    }
    return total;
}

static double copy_bandwidth(size_t bytes, int reps) {
    char *a = xmalloc(bytes), *b = xmalloc(bytes);
    memset(a, 1, bytes);
    memset(b, 2, bytes);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
#pragma omp parallel for schedule(static)
        for (size_t blk = 0; blk < bytes / 65536; blk++) memcpy(b + blk * 65536, a + blk * 65536, 65536);
        double t = (now_ms() - t0) / 1000;
        best = t < best ? t : best;
    }
    free(a), free(b);
    return 2.0 * bytes / best / 1e9; /* bytes read + bytes written */
}

static int32_t argmax(const float *x, int n) {
    int32_t b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

static int stream_roof(struct model *m, const struct opts *o) {
    const struct text_config *t = &m->cfg.text;
    const struct weight **w = xmalloc(sizeof *w * (size_t)m->n_prepared);
    int nw = 0;
    double bytes = 0;
    for (int i = 0; i < m->n_prepared; i++)
        if (m->prepared[i] != &m->dec.embed) { /* decode reads one row of the embedding table */
            w[nw++] = m->prepared[i];
            bytes += (double)(m->prepared[i]->rows * m->prepared[i]->cols) * dtype_size(m->prepared[i]->dtype);
        }
    double *ts = xmalloc(sizeof *ts * (size_t)o->reps * 2), chk = 0;
    for (int r = 0; r < o->reps * 2; r++) {
        double t0 = now_ms();
        chk += read_all(w, nw);
        ts[r] = now_ms() - t0;
    }
    double stream_ms = best(ts, o->reps * 2), stream_med = median(ts, o->reps * 2);
    printf("\n== decode vs streaming the weights once (%.2f GB read per step; checksum %g) ==\n", bytes / 1e9, chk);
    printf("read loop over the weights     %8.2f ms   %6.1f GB/s (best of %d; median %.2f ms)\n", stream_ms,
           bytes / stream_ms / 1e6, o->reps * 2, stream_med);
    printf("copy loop, 1 GiB               %8s      %6.1f GB/s (read + write)\n", "", copy_bandwidth((size_t)1 << 30, 3));

    struct session s;
    struct error err;
    session_init(&s, m, DT_F16, o->steps + 1);
    int32_t *ids = xmalloc(sizeof *ids * (size_t)o->decode_ctx);
    for (int i = 0; i < o->decode_ctx; i++) ids[i] = i % t->vocab_size;
    struct prompt p = {.ids = ids, .n = o->decode_ctx, .image_start = -1};
    float *logits = xmalloc(sizeof *logits * (size_t)t->vocab_size);
    double *st = xmalloc(sizeof *st * (size_t)o->steps);
    int rc = session_prefill(&s, &p, NULL, NULL, logits, NULL, &err);
    int32_t tok = argmax(logits, t->vocab_size);
    for (int i = 0; i < o->steps && !rc; i++) {
        double t0 = now_ms();
        rc = session_decode(&s, tok, logits, NULL, &err);
        st[i] = now_ms() - t0;
        tok = argmax(logits, t->vocab_size);
    }
    if (rc) {
        fprintf(stderr, "roofs: %s\n", err.msg);
    } else {
        double dec = best(st, o->steps), dec_med = median(st, o->steps);
        printf("decode step, context %-5d      %8.2f ms   %6.1f GB/s effective (best of %d; median %.2f ms)\n",
               o->decode_ctx, dec, bytes / dec / 1e6, o->steps, dec_med);
        ratio_line("decode_vs_weight_stream", dec / stream_ms, 1.5, 0);
    }
    session_free(&s);
    free(w), free(ts), free(ids), free(logits), free(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* window scoring and head finder overheads */

static int overheads(struct model *m, const struct opts *o) {
    const struct text_config *t = &m->cfg.text;
    struct error err;
    struct policy *pol = policy_for_model(m, "snapkv", 256, NULL, 0, NULL, &err);
    if (!pol) {
        fprintf(stderr, "roofs: %s\n", err.msg);
        return -1;
    }
    const int n = o->prefill_n;
    int32_t *ids = xmalloc(sizeof *ids * (size_t)n);
    for (int i = 0; i < n; i++) ids[i] = i % t->vocab_size;
    struct prompt p = {.ids = ids, .n = n, .image_start = -1};
    float *logits = xmalloc(sizeof *logits * (size_t)t->vocab_size);
    int32_t *arg = xmalloc(sizeof *arg * (size_t)t->n_layers * t->n_heads);
    double *plain = xmalloc(sizeof *plain * (size_t)o->reps), *scored = xmalloc(sizeof *scored * (size_t)o->reps);
    struct session s;
    session_init(&s, m, DT_F16, 2 * o->steps + 2);
    int rc = 0;
    for (int r = 0; r < o->reps && !rc; r++) {
        double t0 = now_ms();
        rc = session_prefill(&s, &p, NULL, NULL, logits, NULL, &err);
        plain[r] = now_ms() - t0;
        t0 = now_ms();
        if (!rc) rc = session_prefill(&s, &p, NULL, &pol->kv, logits, NULL, &err);
        scored[r] = now_ms() - t0;
    }
    double *d0 = xmalloc(sizeof *d0 * (size_t)o->steps), *d1 = xmalloc(sizeof *d1 * (size_t)o->steps);
    int32_t tok = argmax(logits, t->vocab_size);
    for (int i = 0; i < o->steps && !rc; i++) {
        double t0 = now_ms();
        rc = session_decode(&s, tok, logits, NULL, &err);
        d0[i] = now_ms() - t0;
        t0 = now_ms();
        if (!rc) rc = session_decode(&s, tok, logits, arg, &err);
        d1[i] = now_ms() - t0;
    }
    if (rc) {
        fprintf(stderr, "roofs: %s\n", err.msg);
    } else {
        double a = best(plain, o->reps), b = best(scored, o->reps), c = best(d0, o->steps), d = best(d1, o->steps);
        printf("\n== overheads (prefill n = %d, best of %d; decode best of %d; alternating runs) ==\n", n, o->reps,
               o->steps);
        printf("prefill, no policy               %10.1f ms\n", a);
        printf("prefill, snapkv window scoring   %10.1f ms   %+6.2f%%\n", b, 100 * (b / a - 1));
        printf("decode step                      %10.2f ms\n", c);
        printf("decode step + head finder argmax %10.2f ms   %+6.2f%%\n", d, 100 * (d / c - 1));
        ratio_line("window_scoring_overhead", b / a - 1, 0.05, 0);
        ratio_line("head_finder_overhead", d / c - 1, 0.05, 0);
    }
    session_free(&s);
    policy_free(pol);
    free(ids), free(logits), free(arg), free(plain), free(scored), free(d0), free(d1);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */

static void usage(void) {
    printf("usage: roofs [--shape NAME[:layers=N]] [--threads N] [--prefill N] [--decode-context N] [--steps N]\n"
           "             [--reps N] [--only matmul|stream|overhead]\n");
}

int main(int argc, char **argv) {
    struct opts o = {.shape = "llama2-7b:layers=4", .threads = 0, .prefill_n = 2048, .decode_ctx = 16, .steps = 20,
                     .reps = 3};
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            usage();
            return 0;
        }
        if (!v) {
            usage();
            return 2;
        }
        if (!strcmp(a, "--shape")) o.shape = v;
        else if (!strcmp(a, "--threads")) o.threads = atoi(v);
        else if (!strcmp(a, "--prefill")) o.prefill_n = atoi(v);
        else if (!strcmp(a, "--decode-context")) o.decode_ctx = atoi(v);
        else if (!strcmp(a, "--steps")) o.steps = atoi(v);
        else if (!strcmp(a, "--reps")) o.reps = atoi(v);
        else if (!strcmp(a, "--only")) only = v;
        else {
            usage();
            return 2;
        }
        i++;
    }
    if (o.prefill_n < 1 || o.decode_ctx < 1 || o.steps < 1 || o.reps < 1) {
        usage();
        return 2;
    }
    struct error err;
    struct model_config cfg;
    if (model_config_named(&cfg, o.shape, &err)) {
        fprintf(stderr, "roofs: %s\n", err.msg);
        return 2;
    }
    struct model_options mo = {.backend = {.name = "cpu", .n_threads = o.threads, .weights_f32 = 0}};
    struct model *m = model_create_random(&cfg, DT_F16, 0, o.shape, &mo, &err);
    if (!m) {
        fprintf(stderr, "roofs: %s\n", err.msg);
        return 1;
    }
    printf("roofs: %s, f16 weights, %d threads, OpenBLAS kernels for %s\n", o.shape, m->be->n_threads,
           openblas_get_corename());
    int rc = 0;
    if (!only || !strcmp(only, "matmul")) matmul_roof(m->be, &cfg.text, &o);
    if (!only || !strcmp(only, "stream")) rc |= stream_roof(m, &o);
    if (!only || !strcmp(only, "overhead")) rc |= overheads(m, &o);
    model_free(m);
    return rc ? 1 : 0;
}
