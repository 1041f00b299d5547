/*
 * cmd_bench.c: `sparsemm bench`: the paper's efficiency experiment (research/sparsemm.md §5.4).
 * For every context length and method: a synthetic text prompt input_ids = arange(n) (mod the
 * vocabulary), a warm-up forward of 123 tokens, one timed prefill, then the mean time of N
 * single-token greedy decode steps; the peak memory, weights included; and the KV bytes after
 * compression. Rows go to the results database's bench table (the efficiency figure of
 * `sparsemm plot`), a table to stdout, progress to stderr.
 *
 * Peak memory is measured, not estimated: every (context, method) runs in its own forked child
 * process that builds (or loads) the model, measures, and reports its peak resident set size
 * (VmHWM, which fork starts from the parent's small footprint) through a pipe. A fresh process
 * per measurement means no allocator state, cache or freed-but-retained heap of an earlier
 * measurement can leak into a later one, and OpenMP/OpenBLAS thread pools only ever start in
 * the child (libgomp is not fork-safe once its pool exists). With --model the weights are
 * mmap'd: they count once the measurement has read them, which every decode step does.
 *
 * KV bytes are checked against theory: the policy's capacity of every (layer, KV head),
 * clipped to the prompt as methods/policy.h policy_kept says (n for the full cache), x 2 (K and
 * V) x head_dim x the cache dtype's size must equal what the engine's cache holds after
 * prefill; a mismatch fails the measurement.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/model.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/method_setup.h"
#include "results/db.h"

#define WARMUP_TOKENS 123  /* speed_and_memory.py's warm-up forward (research/sparsemm.md §5.4) */
#define SCORE_CONCENTRATION 12 /* random head scores u^12: ~75% of the mass in 10% of the heads,
                                  near llava-v1.6.json's 80% in 11% (research/sparsemm.md §1.5) */

struct bench_opts {
    const char *model_dir, *random_spec, *heads, *label, *backend;
    enum dtype weight_dtype, kv_dtype;
    int seed, budget, steps, threads, argmax;
};

/* What one measurement sends back from its child process. */
struct bench_result {
    int ok;
    char error[sizeof(struct error)];
    double prefill_ms, decode_ms_mean, decode_ms_median;
    int64_t peak_rss_bytes, kv_bytes, kv_rows, weights_bytes;
    int n_layers;
    uint64_t model_hash;
    char params[256];  /* the method's parameters as JSON */
};

/* ------------------------------------------------------------------------------------------ */
/* Inside the child */

static struct model *bench_model(const struct bench_opts *o, struct error *err) {
    struct model_options mo = {.backend = {.name = o->backend, .n_threads = o->threads, .weights_f32 = -1}};
    if (o->model_dir) return model_load(o->model_dir, &mo, err);
    struct model_config cfg;
    if (file_exists(o->random_spec)) {
        if (model_config_load(&cfg, o->random_spec, err)) return NULL;
    } else if (model_config_named(&cfg, o->random_spec, err)) {
        return NULL;
    }
    return model_create_random(&cfg, o->weight_dtype, (uint64_t)o->seed, o->random_spec, &mo, err);
}

/* A random but fixed head-score table for random weights (there are no visual heads to find):
   u^SCORE_CONCENTRATION per head, u uniform from the seed, so a few heads hold most of the
   mass, as in the paper's files. */
static struct head_scores *random_head_scores(const struct text_config *t, uint64_t seed) {
    struct head_scores *hs = head_scores_new(t->n_layers, t->n_heads);
    const int n = t->n_layers * t->n_heads;
    double *s = xmalloc(sizeof *s * (size_t)n);
    uint64_t x = seed ^ 0x5eed5eed5eedULL;
    for (int i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(x >> 11) / 9007199254740992.0, p = 1;
        for (int k = 0; k < SCORE_CONCENTRATION; k++) p *= u;
        s[i] = p;
    }
    head_scores_add_sample(hs, s);
    free(s);
    return hs;
}

/* The method's policy for this model; NULL with *full = 1 for fullkv (no policy, as generate). */
static struct policy *bench_policy(const struct bench_opts *o, const struct model *m, const char *method, int *full,
                                   struct error *err) {
    struct method_params mp;
    *full = 0;
    if (method_params_parse(&mp, method, NULL, 0, err)) return NULL;
    if (mp.method->full_cache && !mp.method->query_mask) {
        *full = 1;
        return NULL;
    }
    if (!mp.method->needs_head_scores || o->heads || !o->random_spec)
        return policy_for_model(m, method, o->budget, NULL, 0, o->heads, err);
    const struct text_config *t = &m->cfg.text;
    struct head_scores *hs = random_head_scores(t, (uint64_t)o->seed);
    struct policy_dims dims = {t->n_layers, t->n_heads, t->n_kv_heads, t->head_dim};
    struct policy *p = policy_create(&mp, o->budget, &dims, hs, err);
    head_scores_free(hs);
    return p;
}

/* Sits between the engine and the policy to add up what theory says the cache must hold: after
   each layer's select, policy_kept of the capacity the method just chose for each KV head
   (p->cap still holds the layer's capacities right after select returns). */
struct kv_check {
    struct kv_policy kv;
    struct policy *p;
    int64_t expect_rows;
    char mismatch[256];
};

static int check_select(void *ctx, const struct kv_layer_scores *s, struct kv_keep *keep, struct error *err) {
    struct kv_check *c = ctx;
    if (c->p->kv.select(c->p->kv.ctx, s, keep, err)) return -1;
    for (int j = 0; j < keep->n_kv_heads; j++) {
        const int want = policy_kept(c->p, s->layer, s->n_tokens, c->p->cap[j]);
        if (keep->count[j] != want && !c->mismatch[0])
            snprintf(c->mismatch, sizeof c->mismatch, "layer %d KV head %d kept %d rows, its capacity gives %d",
                     s->layer, j, keep->count[j], want);
        c->expect_rows += want;
    }
    return 0;
}

static const uint8_t *check_query_mask(void *ctx, int layer) {
    struct kv_check *c = ctx;
    return c->p->kv.query_mask(c->p->kv.ctx, layer);
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int64_t weights_bytes(const struct model *m) {
    int64_t b = 0;
    for (int i = 0; i < m->n_prepared; i++) {
        const struct weight *w = m->prepared[i];
        b += w->rows * w->cols * (int64_t)dtype_size(w->dtype);
    }
    return b;
}

/* Warm-up, timed prefill of n tokens, timed decode steps. */
static int run_prompt(const struct bench_opts *o, struct model *m, struct policy *pol, int n,
                      struct bench_result *r, struct error *err) {
    const struct text_config *t = &m->cfg.text;
    struct kv_check chk = {.p = pol};
    const struct kv_policy *kvp = NULL;
    if (pol) {
        chk.kv = pol->kv;
        chk.kv.ctx = &chk;
        chk.kv.select = check_select;
        chk.kv.query_mask = pol->kv.query_mask ? check_query_mask : NULL;
        kvp = &chk.kv;
    }
    const int n_ids = n > WARMUP_TOKENS ? n : WARMUP_TOKENS;
    int32_t *ids = xmalloc(sizeof *ids * (size_t)n_ids);
    for (int i = 0; i < n_ids; i++) ids[i] = i % t->vocab_size;
    float *logits = xmalloc(sizeof *logits * (size_t)t->vocab_size);
    double *step_ms = xmalloc(sizeof *step_ms * (size_t)(o->steps > 0 ? o->steps : 1));
    int32_t *arg = o->argmax ? xmalloc(sizeof *arg * (size_t)t->n_layers * t->n_heads) : NULL;
    struct session s;
    session_init(&s, m, o->kv_dtype, o->steps + 1);
    struct prompt warm = {.ids = ids, .n = WARMUP_TOKENS, .image_start = -1};
    struct prompt p = {.ids = ids, .n = n, .image_start = -1};
    struct prefill_stats st = {0};
    int rc = session_prefill(&s, &warm, NULL, kvp, logits, NULL, err);
    if (!rc) {
        chk.expect_rows = 0;
        double t0 = now_ms();
        rc = session_prefill(&s, &p, NULL, kvp, logits, &st, err);
        r->prefill_ms = now_ms() - t0;
    }
    if (!rc) {
        const int64_t rows = pol ? chk.expect_rows : (int64_t)t->n_layers * t->n_kv_heads * n;
        const int64_t expect = rows * 2 * t->head_dim * (int64_t)dtype_size(o->kv_dtype);
        r->kv_bytes = st.kv_bytes;
        r->kv_rows = st.kv_rows;
        if (chk.mismatch[0]) rc = error_set(err, "KV check: %s", chk.mismatch);
        else if (st.kv_bytes != expect)
            rc = error_set(err, "KV check: the cache holds %lld bytes, the capacities give %lld rows = %lld bytes",
                           (long long)st.kv_bytes, (long long)rows, (long long)expect);
    }
    int32_t tok = argmax(logits, t->vocab_size);
    for (int i = 0; i < o->steps && !rc; i++) {
        double t0 = now_ms();
        rc = session_decode(&s, tok, logits, arg, err);
        step_ms[i] = now_ms() - t0;
        tok = argmax(logits, t->vocab_size);
    }
    if (!rc && o->steps > 0) {
        double sum = 0;
        for (int i = 0; i < o->steps; i++) sum += step_ms[i];
        r->decode_ms_mean = sum / o->steps;
        qsort(step_ms, (size_t)o->steps, sizeof *step_ms, cmp_double);
        r->decode_ms_median = step_ms[o->steps / 2];
    }
    session_free(&s);
    free(ids), free(logits), free(step_ms), free(arg);
    return rc;
}

static void measure(const struct bench_opts *o, const char *method, int n, struct bench_result *r) {
    struct error err = {{0}};
    struct model *m = bench_model(o, &err);
    int full = 0;
    struct policy *pol = m ? bench_policy(o, m, method, &full, &err) : NULL;
    if (m && (pol || full)) {
        r->n_layers = m->cfg.text.n_layers;
        r->weights_bytes = weights_bytes(m);
        r->model_hash = m->weights_hash;
        if (pol) {
            char *j = method_params_json(&pol->params);
            snprintf(r->params, sizeof r->params, "%s", j);
            free(j);
        } else {
            snprintf(r->params, sizeof r->params, "{}");
        }
        r->ok = run_prompt(o, m, pol, n, r, &err) == 0;
    }
    r->peak_rss_bytes = peak_rss_bytes();
    if (!r->ok) snprintf(r->error, sizeof r->error, "%s", err.msg);
    policy_free(pol);
    model_free(m);
}

/* ------------------------------------------------------------------------------------------ */
/* The parent: one child per measurement */

static int measure_in_child(const struct bench_opts *o, const char *method, int n, struct bench_result *r) {
    memset(r, 0, sizeof *r);
    int fd[2];
    if (pipe(fd)) {
        snprintf(r->error, sizeof r->error, "pipe failed");
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        snprintf(r->error, sizeof r->error, "fork failed");
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        struct bench_result res = {0};
        measure(o, method, n, &res);
        ssize_t w = write(fd[1], &res, sizeof res);
        _exit(w == (ssize_t)sizeof res ? 0 : 1);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof *r) {
        ssize_t k = read(fd[0], (char *)r + got, sizeof *r - got);
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) continue;
    if (got != sizeof *r) {
        memset(r, 0, sizeof *r);
        if (WIFSIGNALED(status))
            snprintf(r->error, sizeof r->error, "the measurement process died of signal %d%s", WTERMSIG(status),
                     WTERMSIG(status) == SIGKILL ? " (out of memory?)" : "");
        else
            snprintf(r->error, sizeof r->error, "the measurement process exited with status %d", WEXITSTATUS(status));
        return -1;
    }
    return r->ok ? 0 : -1;
}

static int parse_dtype(const char *s, enum dtype *out) {
    if (!strcmp(s, "f32")) *out = DT_F32;
    else if (!strcmp(s, "f16")) *out = DT_F16;
    else if (!strcmp(s, "bf16")) *out = DT_BF16;
    else return -1;
    return 0;
}

static void print_row(const struct bench_opts *o, const char *method, int n, const struct bench_result *r, int json) {
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "method", method);
        cJSON_AddNumberToObject(j, "budget", strcmp(method, "fullkv") ? o->budget : 0);
        cJSON_AddNumberToObject(j, "context", n);
        cJSON_AddNumberToObject(j, "layers", r->n_layers);
        cJSON_AddNumberToObject(j, "prefill_ms", r->prefill_ms);
        cJSON_AddNumberToObject(j, "decode_ms_per_token", r->decode_ms_mean);
        cJSON_AddNumberToObject(j, "decode_ms_median", r->decode_ms_median);
        cJSON_AddNumberToObject(j, "decode_steps", o->steps);
        cJSON_AddNumberToObject(j, "peak_rss_bytes", (double)r->peak_rss_bytes);
        cJSON_AddNumberToObject(j, "weights_bytes", (double)r->weights_bytes);
        cJSON_AddNumberToObject(j, "kv_bytes", (double)r->kv_bytes);
        cJSON_AddNumberToObject(j, "kv_rows", (double)r->kv_rows);
        char *s = cJSON_PrintUnformatted(j);
        printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(j);
    } else {
        printf("%8d  %-10s %6d  %11.1f  %11.2f  %11.2f  %10.3f  %10.1f\n", n, method,
               strcmp(method, "fullkv") ? o->budget : 0, r->prefill_ms, r->decode_ms_mean, r->decode_ms_median,
               r->peak_rss_bytes / 1073741824.0, r->kv_bytes / 1048576.0);
    }
    fflush(stdout);
}

static int record(struct results_db *db, const struct bench_opts *o, const char *method, int n,
                  const struct bench_result *r, struct error *err) {
    const char *name = o->label ? o->label : o->model_dir ? o->model_dir : o->random_spec;
    struct bench_row row = {.model_name = name, .model_hash = r->model_hash, .method = method,
                            .method_params = r->params, .budget = strcmp(method, "fullkv") ? o->budget : 0,
                            .context_len = n, .prefill_ms = r->prefill_ms, .decode_ms_per_token = r->decode_ms_mean,
                            .decode_steps = o->steps, .peak_rss_bytes = r->peak_rss_bytes, .device_peak_bytes = -1,
                            .kv_bytes = r->kv_bytes, .backend = o->backend, .threads = o->threads};
    return results_bench_insert(db, &row, err);
}

static void split_names(const char *csv, char ***out, int *n) {
    *out = NULL;
    *n = 0;
    char *copy = xstrdup(csv), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        *out = xrealloc(*out, sizeof **out * (size_t)(*n + 1));
        (*out)[(*n)++] = xstrdup(tok);
    }
    free(copy);
}

int cmd_bench(int argc, char **argv) {
    struct bench_opts o = {.backend = "cpu", .budget = 256, .steps = 100};
    const char *contexts = "2048,4096,8192,16384,32768", *methods = "fullkv,snapkv,pyramidkv,adakv,sparsemm";
    const char *db_path = NULL, *dtype = "f16", *kv_dtype = "f16";
    int repeat = 1, json = 0;
    struct arg_spec specs[] = {
        {"model", ARG_STR, &o.model_dir, "DIR", "Hugging Face model directory to time"},
        {"random-weights", ARG_STR, &o.random_spec, "CONFIG",
         "instead of --model: seeded random weights built in memory, for a config.json path or a named shape "
         "(llama2-7b, mistral-7b, qwen2-7b), e.g. llama2-7b:layers=4"},
        {"dtype", ARG_STR, &dtype, "T", "random weights' dtype: f16 (default), bf16, f32"},
        {"seed", ARG_INT, &o.seed, "N", "seed of the random weights and random head scores (default 0)"},
        {"context", ARG_STR, &contexts, "LIST", "prompt lengths in tokens (default 2048,4096,8192,16384,32768)"},
        {"budget", ARG_INT, &o.budget, "B", "KV tokens per KV head, window included (default 256)"},
        {"methods", ARG_STR, &methods, "LIST", "methods (default fullkv,snapkv,pyramidkv,adakv,sparsemm)"},
        {"heads", ARG_STR, &o.heads, "FILE",
         "visual-head scores for sparsemm/mask (default: the model's; random weights: a seeded random table)"},
        {"steps", ARG_INT, &o.steps, "N", "timed single-token decode steps (default 100)"},
        {"repeat", ARG_INT, &repeat, "N", "measure every setting N times (default 1; the database averages)"},
        {"kv-dtype", ARG_STR, &kv_dtype, "T", "KV cache element type: f16 (default, as the paper), bf16, f32"},
        {"threads", ARG_INT, &o.threads, "N", "CPU threads (default: all cores)"},
        {"backend", ARG_STR, &o.backend, "NAME", "cpu (default) or cuda"},
        {"argmax", ARG_FLAG, &o.argmax, NULL, "decode steps also report each head's argmax key (the head finder)"},
        {"name", ARG_STR, &o.label, "LABEL", "model name in the database and plots (default: --model or CONFIG)"},
        {"db", ARG_STR, &db_path, "FILE", "results database to add the bench rows to"},
        {"json", ARG_FLAG, &json, NULL, "one JSON object per measurement on stdout instead of the table"},
    };
    int rc = args_parse("bench", "(--model DIR | --random-weights CONFIG) [options]", specs,
                        sizeof specs / sizeof specs[0], argc, argv, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (!o.model_dir == !o.random_spec) {
        fprintf(stderr, "sparsemm bench: give exactly one of --model DIR and --random-weights CONFIG\n");
        return 2;
    }
    if (parse_dtype(dtype, &o.weight_dtype) || parse_dtype(kv_dtype, &o.kv_dtype)) {
        fprintf(stderr, "sparsemm bench: --dtype and --kv-dtype take f16, bf16 or f32\n");
        return 2;
    }
    int *ctx = NULL, n_ctx = 0;
    if (split_csv_ints(contexts, &ctx, &n_ctx) || n_ctx == 0) {
        fprintf(stderr, "sparsemm bench: --context '%s' is not a list of lengths\n", contexts);
        free(ctx);
        return 2;
    }
    for (int i = 0; i < n_ctx; i++)
        if (ctx[i] < 1) {
            fprintf(stderr, "sparsemm bench: --context %d: lengths must be positive\n", ctx[i]);
            free(ctx);
            return 2;
        }
    if (o.steps < 1 || repeat < 1 || o.budget < 1 || o.threads < 0) {
        fprintf(stderr, "sparsemm bench: --steps, --repeat and --budget must be positive\n");
        free(ctx);
        return 2;
    }
    char **meth;
    int n_meth;
    split_names(methods, &meth, &n_meth);
    struct error err = {{0}};
    struct results_db *db = NULL;
    if (db_path && results_open(db_path, RESULTS_OPEN_CREATE, &db, &err)) {
        fprintf(stderr, "sparsemm bench: %s\n", err.msg);
        rc = 1;
    }
    if (!rc && !json)
        printf("%8s  %-10s %6s  %11s  %11s  %11s  %10s  %10s\n", "context", "method", "budget", "prefill ms",
               "decode ms", "median ms", "peak GiB", "KV MiB");
    const int total = n_ctx * n_meth * repeat;
    int done = 0;
    const double t_start = now_ms();
    for (int c = 0; c < n_ctx && !rc; c++)
        for (int k = 0; k < n_meth && !rc; k++)
            for (int rep = 0; rep < repeat && !rc; rep++) {
                struct bench_result r;
                fprintf(stderr, "[%d/%d] context %d, %s ...\n", done + 1, total, ctx[c], meth[k]);
                if (measure_in_child(&o, meth[k], ctx[c], &r)) {
                    fprintf(stderr, "sparsemm bench: context %d, %s: %s\n", ctx[c], meth[k], r.error);
                    rc = 1;
                    break;
                }
                print_row(&o, meth[k], ctx[c], &r, json);
                if (db && record(db, &o, meth[k], ctx[c], &r, &err)) {
                    fprintf(stderr, "sparsemm bench: %s\n", err.msg);
                    rc = 1;
                }
                done++;
                const double el = (now_ms() - t_start) / 1000;
                fprintf(stderr, "[%d/%d] done in %.0f s, elapsed %.0f s, ETA %.0f s (assuming equal cost)\n", done,
                        total, r.prefill_ms / 1000 + r.decode_ms_mean * o.steps / 1000, el,
                        el / done * (total - done));
            }
    results_close(db);
    for (int i = 0; i < n_meth; i++) free(meth[i]);
    free(meth);
    free(ctx);
    return rc;
}
