/*
 * test_cuda_golden.c: whole models on the CUDA backend against the CPU backend and against
 * transformers, on the golden checkpoints (tests/fixtures/golden, tools/golden/make_models.py).
 *
 * The CUDA backend is whichever this build has: "cuda" on a GPU (make test-cuda), or the same
 * code on the host emulator, "cuda-emu" (make test). Without either the tests are skipped.
 *
 * Per checkpoint, with the CUDA backend keeping weights in their stored dtype (the path a 7B
 * model takes; f16/bf16 checkpoints go through the half-precision GEMM and gemv kernels) and
 * the CPU backend as the reference:
 *   - image features (vision tower + projector, or Qwen2-VL's merger) within 1e-4 relative of
 *     the CPU's and of transformers';
 *   - prefill logits, then the golden greedy steps decoded in lockstep on both backends (all 32
 *     on a GPU, the first EMU_STEPS on the emulator):
 *     logits within 1e-4 of the CPU's and of transformers', the same argmax token, and the same
 *     per-head argmax key positions (the head finder's statistic);
 *   - an f16 KV cache: CPU and CUDA agree after the round trip through the cache's dtype.
 * And end to end through the methods layer (which runs on the host from the window_attn /
 * accum_attn the backend returns): for each method with a budget that compresses, generate()
 * on both backends keeps exactly the same rows per layer and KV head and produces the same tokens.
 */
#include "tests/golden.h"
#include "engine/generate.h"
#include "methods/policy.h"

#define TOL 1e-4
/* Decode steps compared on the emulator: every step runs the same kernels, and emulating the
   golden run's 32 steps on seven checkpoints would make `make test` slow. A GPU does all 32. */
#define EMU_STEPS 8

/* The CUDA backend this build has ("cuda" or "cuda-emu"), or NULL. */
static const char *cuda_name(void) {
    static char name[32];
    const char *all = backend_available(), *p = strstr(all, "cuda");
    if (!p) return NULL;
    snprintf(name, sizeof name, "%.*s", (int)strcspn(p, " "), p);
    return name;
}

/* Load dir on the CUDA backend, or skip the test when the build or the machine has none. */
static struct model *load_cuda(const char *dir, int weights_f32) {
    const char *name = cuda_name();
    if (!name) {
        print_message("no CUDA backend in this build: skipped\n");
        skip();
    }
    struct error err = {{0}};
    struct model_options opt = {.backend = {.name = name, .weights_f32 = weights_f32}};
    struct model *m = model_load(dir, &opt, &err);
    if (!m) {
        if (strstr(err.msg, "no usable CUDA device")) {
            print_message("%s\n", err.msg);
            skip();
        }
        fail_msg("%s", err.msg);
    }
    return m;
}

static struct model *load_cpu(const char *dir) {
    struct error err = {{0}};
    struct model_options opt = {.backend = {.name = "cpu", .weights_f32 = -1}};
    struct model *m = model_load(dir, &opt, &err);
    if (!m) fail_msg("%s", err.msg);
    return m;
}

/* Backend memory of m as a fresh host array. */
static float *to_host(struct model *m, const float *dev, size_t n) {
    float *h = xmalloc(sizeof *h * n);
    m->be->ops->download(m->be, h, dev, sizeof *h * n);
    return h;
}

static void expect_close(const char *what, const char *dir, int step, const float *got, const float *want, size_t n) {
    double e = rel_l2(got, want, n);
    if (!(e <= TOL)) fail_msg("%s: %s (step %d): relative error %g > %g", dir, what, step, e, TOL);
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

struct side {
    struct model *m;
    struct image_features feat;
    struct prompt p;
    struct session s;
    float *logits;
    int32_t *arg;
};

static void side_open(struct side *sd, struct model *m, const struct golden *g, const char *dir, enum dtype kv) {
    struct error err = {{0}};
    sd->m = m;
    char *ipath = path_join(dir, json_str(g->meta, "image", "image.png"));
    struct image img;
    CHECK_OK(image_load(&img, ipath, &err), &err);
    free(ipath);
    CHECK_OK(model_encode_image(m, &img, &sd->feat, &err), &err);
    image_free(&img);
    CHECK_OK(prompt_build(m, json_str(g->meta, "question", ""), &sd->feat, json_str(g->meta, "template", NULL), &sd->p,
                          &err),
             &err);
    session_init(&sd->s, m, kv, 40);
    sd->logits = xmalloc(sizeof(float) * (size_t)m->cfg.text.vocab_size);
    sd->arg = xmalloc(sizeof(int32_t) * (size_t)m->cfg.text.n_layers * m->cfg.text.n_heads);
}

static void side_close(struct side *sd) {
    free(sd->logits);
    free(sd->arg);
    session_free(&sd->s);
    prompt_free(&sd->p);
    image_features_free(sd->m, &sd->feat);
    model_free(sd->m);
}

/* CPU and CUDA in lockstep over the golden prompt and greedy tokens. with_golden: also compare
   with transformers' numbers (f32 cache only: the golden run has no cache rounding). */
static void check_model(const char *dir, enum dtype kv, int with_golden) {
    struct golden g;
    golden_open(&g, dir);
    struct error err = {{0}};
    struct side gpu, cpu;
    side_open(&gpu, load_cuda(dir, 0), &g, dir, kv);
    side_open(&cpu, load_cpu(dir), &g, dir, kv);
    const int V = cpu.m->cfg.text.vocab_size, D = cpu.m->cfg.text.hidden_size;
    const int LH = cpu.m->cfg.text.n_layers * cpu.m->cfg.text.n_heads;

    assert_int_equal(gpu.feat.n_tokens, cpu.feat.n_tokens);
    const size_t nf = (size_t)gpu.feat.n_tokens * D;
    float *feat = to_host(gpu.m, gpu.feat.embeds, nf);
    expect_close("image features vs cpu", dir, -1, feat, cpu.feat.embeds, nf);
    if (with_golden) expect_close("image features vs transformers", dir, -1, feat, golden_get(&g, "image_features", NULL), nf);
    free(feat);
    assert_int_equal(gpu.p.n, cpu.p.n);
    assert_memory_equal(gpu.p.ids, cpu.p.ids, sizeof *gpu.p.ids * (size_t)gpu.p.n);

    CHECK_OK(session_prefill(&gpu.s, &gpu.p, &gpu.feat, NULL, gpu.logits, NULL, &err), &err);
    CHECK_OK(session_prefill(&cpu.s, &cpu.p, &cpu.feat, NULL, cpu.logits, NULL, &err), &err);
    expect_close("prefill logits vs cpu", dir, -1, gpu.logits, cpu.logits, (size_t)V);
    if (with_golden) expect_close("prefill logits vs transformers", dir, -1, gpu.logits, golden_get(&g, "prefill_logits", NULL), (size_t)V);

    int64_t n;
    const float *tokens = golden_get(&g, "greedy_tokens", &n);
    if (strstr(gpu.m->be->ops->name, "-emu") && n > EMU_STEPS) n = EMU_STEPS;
    const float *steps = golden_get(&g, "step_logits", NULL);
    for (int i = 0; i < n; i++) {
        const int32_t tok = (int32_t)tokens[i];
        if (with_golden) {
            if (argmax(gpu.logits, V) != tok)
                fail_msg("%s: greedy token %d is %d, transformers chose %d", dir, i, argmax(gpu.logits, V), tok);
            expect_close("step logits vs transformers", dir, i, gpu.logits, steps + (size_t)i * V, (size_t)V);
        }
        CHECK_OK(session_decode(&gpu.s, tok, gpu.logits, gpu.arg, &err), &err);
        CHECK_OK(session_decode(&cpu.s, tok, cpu.logits, cpu.arg, &err), &err);
        expect_close("step logits vs cpu", dir, i, gpu.logits, cpu.logits, (size_t)V);
        for (int h = 0; h < LH; h++)
            if (gpu.arg[h] != cpu.arg[h])
                fail_msg("%s: step %d, layer %d head %d: argmax key at position %d on %s, %d on the cpu", dir, i,
                         h / cpu.m->cfg.text.n_heads, h % cpu.m->cfg.text.n_heads, gpu.arg[h], gpu.m->be->ops->name,
                         cpu.arg[h]);
    }
    assert_true(gpu.m->be->ops->peak_bytes(gpu.m->be) > 0);
    side_close(&gpu);
    side_close(&cpu);
    golden_close(&g);
}

static void test_llava_gqa(void **state) { check_model("tests/fixtures/golden/llava_gqa", DT_F32, 1); }
static void test_llava_mha_bf16(void **state) { check_model("tests/fixtures/golden/llava_mha_bf16", DT_F32, 1); }
static void test_llava_pad_f16(void **state) { check_model("tests/fixtures/golden/llava_pad_f16", DT_F32, 1); }
static void test_llava_next_vicuna(void **state) { check_model("tests/fixtures/golden/llava_next_vicuna", DT_F32, 1); }
static void test_llava_next_mistral(void **state) { check_model("tests/fixtures/golden/llava_next_mistral", DT_F32, 1); }
static void test_qwen2vl(void **state) { check_model("tests/fixtures/golden/qwen2vl", DT_F32, 1); }
static void test_f16_cache(void **state) { check_model("tests/fixtures/golden/llava_gqa", DT_F16, 0); }

/* ---------------------------------------------------------------------------------------------
   Methods end to end: the policy sees each backend's statistics and must choose the same rows. */

#define METHODS_DIR "tests/fixtures/golden/llava_gqa"
#define NEW_TOKENS 6
#define MAX_KEPT 4096

/* Every layer's kept rows, in the order the policy gave them. */
struct spy {
    struct kv_policy *inner;
    struct kv_policy kv;
    int32_t kept[MAX_KEPT];
    int n_kept;
};

static int spy_select(void *ctx, const struct kv_layer_scores *s, struct kv_keep *keep, struct error *err) {
    struct spy *sp = ctx;
    if (sp->inner->select(sp->inner->ctx, s, keep, err)) return -1;
    for (int j = 0; j < keep->n_kv_heads; j++) {
        if (sp->n_kept < MAX_KEPT) sp->kept[sp->n_kept++] = -1 - keep->count[j]; /* a separator with the count */
        for (int i = 0; i < keep->count[j] && sp->n_kept < MAX_KEPT; i++) sp->kept[sp->n_kept++] = keep->idx[j][i];
    }
    return 0;
}

static const uint8_t *spy_mask(void *ctx, int layer) {
    struct spy *sp = ctx;
    return sp->inner->query_mask(sp->inner->ctx, layer);
}

static void run_method(struct model *m, const char *method, int budget, struct spy *sp, struct gen_result *r) {
    struct error err = {{0}};
    cJSON *meta = json_load_file(METHODS_DIR "/golden.json", &err);
    if (!meta) fail_msg("%s", err.msg);
    struct image img;
    CHECK_OK(image_load(&img, METHODS_DIR "/image.png", &err), &err);
    struct image_features feat;
    CHECK_OK(model_encode_image(m, &img, &feat, &err), &err);
    struct prompt p;
    CHECK_OK(prompt_build(m, json_str(meta, "question", ""), &feat, json_str(meta, "template", NULL), &p, &err), &err);
    const struct text_config *t = &m->cfg.text;
    struct head_scores *hs = head_scores_new(t->n_layers, t->n_heads);
    double score[64];
    for (int i = 0; i < t->n_layers * t->n_heads; i++) score[i] = (double)((i * 7) % 5) + 0.5;
    head_scores_add_sample(hs, score);
    struct method_params mp;
    CHECK_OK(method_params_parse(&mp, method, NULL, 0, &err), &err);
    struct policy_dims d = {t->n_layers, t->n_heads, t->n_kv_heads, t->head_dim};
    struct policy *pol = policy_create(&mp, budget, &d, hs, &err);
    if (!pol) fail_msg("%s: %s", method, err.msg);
    memset(sp, 0, sizeof *sp);
    sp->inner = &pol->kv;
    sp->kv = pol->kv;
    sp->kv.ctx = sp;
    sp->kv.select = spy_select;
    sp->kv.query_mask = pol->kv.query_mask ? spy_mask : NULL;
    struct session s;
    session_init(&s, m, DT_F32, NEW_TOKENS + 1);
    struct gen_options go = {.max_new_tokens = NEW_TOKENS, .eos_id = -1, .repetition_penalty = 1.0f, .policy = &sp->kv};
    memset(r, 0, sizeof *r);
    CHECK_OK(generate(&s, &p, &feat, &go, r, &err), &err);
    session_free(&s);
    policy_free(pol);
    head_scores_free(hs);
    prompt_free(&p);
    image_features_free(m, &feat);
    image_free(&img);
    cJSON_Delete(meta);
}

static void test_methods_agree(void **state) {
    struct model *gm = load_cuda(METHODS_DIR, -1), *cm = load_cpu(METHODS_DIR);
    const int budget = 48; /* the prompt has about 100 tokens: every method compresses */
    int compared = 0;
    for (int i = 0; i < method_count(); i++) {
        const char *name = method_at(i)->name;
        struct spy *a = xcalloc(1, sizeof *a), *b = xcalloc(1, sizeof *b);
        struct gen_result ra, rb;
        run_method(gm, name, budget, a, &ra);
        run_method(cm, name, budget, b, &rb);
        assert_true(a->n_kept < MAX_KEPT);
        if (a->n_kept != b->n_kept || memcmp(a->kept, b->kept, sizeof *a->kept * (size_t)a->n_kept))
            fail_msg("%s (B = %d): %s and cpu keep different rows", name, budget, gm->be->ops->name);
        if (ra.n_tokens != rb.n_tokens || memcmp(ra.tokens, rb.tokens, sizeof *ra.tokens * (size_t)ra.n_tokens))
            fail_msg("%s (B = %d): %s and cpu generate different tokens", name, budget, gm->be->ops->name);
        assert_int_equal(ra.kv_rows, rb.kv_rows);
        compared += ra.kv_rows < (int64_t)ra.n_prompt * gm->cfg.text.n_layers * gm->cfg.text.n_kv_heads;
        gen_result_free(&ra);
        gen_result_free(&rb);
        free(a);
        free(b);
    }
    assert_true(compared >= 5); /* the budget really compressed for the five required methods at least */
    model_free(gm);
    model_free(cm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llava_gqa),          cmocka_unit_test(test_llava_mha_bf16),
        cmocka_unit_test(test_llava_pad_f16),      cmocka_unit_test(test_llava_next_vicuna),
        cmocka_unit_test(test_llava_next_mistral), cmocka_unit_test(test_qwen2vl),
        cmocka_unit_test(test_f16_cache),          cmocka_unit_test(test_methods_agree),
    };
    return cmocka_run_group_tests_name("cuda_golden", tests, NULL, NULL);
}
