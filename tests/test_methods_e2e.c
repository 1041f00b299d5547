/*
 * test_methods_e2e.c: every method through the real engine on the golden LLaVA-1.5 checkpoint
 * (tests/fixtures/golden/llava_gqa: 3 layers, 4 query heads, 2 KV heads, head_dim 16; an image
 * prompt of about 100 tokens):
 *   - with a budget above the prompt every method generates exactly the fullkv tokens and keeps
 *     the full cache;
 *   - with a small budget the cache the engine reports holds exactly what the policy chose:
 *     rows = sum of kept counts, bytes = rows x 2 x head_dim x dtype size, and the counts are
 *     the capacities (min(cap, n - w) + w);
 *   - the mask ablation reaches the engine's query path (ratio 0 changes nothing).
 * A spy wraps each policy to see what the engine asked and got.
 */
#include "tests/test_util.h"

#include "engine/dtype.h"
#include "engine/generate.h"
#include "engine/json.h"
#include "methods/policy.h"

#define DIR "tests/fixtures/golden/llava_gqa"
#define NEW_TOKENS 8

struct spy {
    struct policy *inner;
    struct kv_policy kv;
    int64_t kept;          /* sum of kept counts over layers and heads */
    int kept_as_capacity;  /* every compressed head kept min(cap, n - w) + w */
    int mask_calls;
};

static int spy_select(void *ctx, const struct kv_layer_scores *s, struct kv_keep *keep, struct error *err) {
    struct spy *sp = ctx;
    if (sp->inner->kv.select(sp->inner->kv.ctx, s, keep, err)) return -1;
    const int compressed = policy_compresses(sp->inner, s->layer, s->n_tokens);
    for (int j = 0; j < keep->n_kv_heads; j++) {
        sp->kept += keep->count[j];
        int want = compressed ? policy_kept(sp->inner, s->layer, s->n_tokens, sp->inner->cap[j]) : s->n_tokens;
        if (keep->count[j] != want) sp->kept_as_capacity = 0;
    }
    return 0;
}

static const uint8_t *spy_mask(void *ctx, int layer) {
    struct spy *sp = ctx;
    sp->mask_calls++;
    return sp->inner->kv.query_mask(sp->inner->kv.ctx, layer);
}

static void spy_wrap(struct spy *sp, struct policy *p) {
    memset(sp, 0, sizeof *sp);
    sp->inner = p;
    sp->kv = p->kv;
    sp->kv.ctx = sp;
    sp->kv.select = spy_select;
    sp->kv.query_mask = p->kv.query_mask ? spy_mask : NULL;
    sp->kept_as_capacity = 1;
}

struct fixture {
    struct model *m;
    struct image_features feat;
    struct prompt p;
    struct head_scores *hs;
};

static struct fixture fx;

static int setup(void **state) {
    struct error err = {{0}};
    fx.m = model_load(DIR, NULL, &err);
    if (!fx.m) fail_msg("%s", err.msg);
    struct image img;
    CHECK_OK(image_load(&img, DIR "/image.png", &err), &err);
    CHECK_OK(model_encode_image(fx.m, &img, &fx.feat, &err), &err);
    image_free(&img);
    cJSON *meta = json_load_file(DIR "/golden.json", &err);
    if (!meta) fail_msg("%s", err.msg);
    CHECK_OK(prompt_build(fx.m, json_str(meta, "question", ""), &fx.feat, json_str(meta, "template", NULL), &fx.p, &err),
             &err);
    cJSON_Delete(meta);
    const struct text_config *t = &fx.m->cfg.text;
    fx.hs = head_scores_new(t->n_layers, t->n_heads);
    double score[64];
    for (int i = 0; i < t->n_layers * t->n_heads; i++) score[i] = (double)((i * 7) % 5) + 0.5;
    head_scores_add_sample(fx.hs, score);
    return 0;
}

static int teardown(void **state) {
    head_scores_free(fx.hs);
    prompt_free(&fx.p);
    image_features_free(fx.m, &fx.feat);
    model_free(fx.m);
    return 0;
}

/* Generate with a policy (NULL = none) in a fresh session; r is the caller's to free. */
static void run(const struct kv_policy *policy, enum dtype kv_dtype, struct gen_result *r) {
    struct error err = {{0}};
    struct session s;
    session_init(&s, fx.m, kv_dtype, NEW_TOKENS + 1);
    struct gen_options go = {.max_new_tokens = NEW_TOKENS, .eos_id = -1, .repetition_penalty = 1.0f, .policy = policy};
    memset(r, 0, sizeof *r);
    if (generate(&s, &fx.p, &fx.feat, &go, r, &err)) fail_msg("%s", err.msg);
    session_free(&s);
}

static struct policy *make(const char *method, int budget, const char *const *settings, int n) {
    struct error err = {{0}};
    struct method_params mp;
    CHECK_OK(method_params_parse(&mp, method, settings, n, &err), &err);
    const struct text_config *t = &fx.m->cfg.text;
    struct policy_dims d = {t->n_layers, t->n_heads, t->n_kv_heads, t->head_dim};
    struct policy *p = policy_create(&mp, budget, &d, fx.hs, &err);
    if (!p) fail_msg("%s: %s", method, err.msg);
    return p;
}

static void test_budget_above_prompt_is_fullkv(void **state) {
    const struct text_config *t = &fx.m->cfg.text;
    const int n = fx.p.n;
    assert_true(n > 64); /* the image alone is 64 tokens */
    struct gen_result ref;
    run(NULL, DT_F32, &ref);
    assert_int_equal(ref.n_tokens, NEW_TOKENS);
    for (int i = 0; i < method_count(); i++) {
        const struct method *m = method_at(i);
        if (!strcmp(m->name, "mask")) continue; /* changes attention by design: test_mask */
        const int budgets[] = {n + 1, 4 * n};
        for (int b = 0; b < 2; b++) {
            struct policy *p = make(m->name, budgets[b], NULL, 0);
            struct spy sp;
            spy_wrap(&sp, p);
            struct gen_result r;
            run(&sp.kv, DT_F32, &r);
            if (r.n_tokens != ref.n_tokens || memcmp(r.tokens, ref.tokens, sizeof *r.tokens * (size_t)r.n_tokens))
                fail_msg("%s with B = %d > n = %d: tokens differ from fullkv", m->name, budgets[b], n);
            assert_int_equal(r.kv_rows, (int64_t)t->n_layers * t->n_kv_heads * n);
            assert_int_equal(sp.kept, r.kv_rows);
            gen_result_free(&r);
            policy_free(p);
        }
    }
    gen_result_free(&ref);
}

static void test_compressed_cache_matches_capacities(void **state) {
    const struct text_config *t = &fx.m->cfg.text;
    const int n = fx.p.n;
    const enum dtype dtypes[] = {DT_F32, DT_F16};
    for (int i = 0; i < method_count(); i++) {
        const struct method *m = method_at(i);
        for (int d = 0; d < 2; d++) {
            struct policy *p = make(m->name, 48, NULL, 0);
            struct spy sp;
            spy_wrap(&sp, p);
            struct gen_result r;
            run(&sp.kv, dtypes[d], &r);
            const int64_t full = (int64_t)t->n_layers * t->n_kv_heads * n;
            assert_int_equal(r.kv_rows, sp.kept);
            assert_int_equal(r.kv_bytes, sp.kept * 2 * t->head_dim * (int64_t)dtype_size(dtypes[d]));
            if (m->full_cache) assert_int_equal(r.kv_rows, full);
            else assert_true(r.kv_rows < full);
            if (!sp.kept_as_capacity) fail_msg("%s: a head's kept count differs from its capacity", m->name);
            assert_int_equal(r.n_tokens, NEW_TOKENS); /* decoding runs on the compressed cache */
            gen_result_free(&r);
            policy_free(p);
        }
    }
}

static void test_mask(void **state) {
    struct gen_result ref, r;
    run(NULL, DT_F32, &ref);
    /* ratio 0: no head masked, the engine asks every layer and gets NULL: fullkv's tokens */
    struct policy *p = make("mask", 0, (const char *[]){"ratio=0"}, 1);
    struct spy sp;
    spy_wrap(&sp, p);
    run(&sp.kv, DT_F32, &r);
    assert_int_equal(r.n_tokens, ref.n_tokens);
    assert_memory_equal(r.tokens, ref.tokens, sizeof *r.tokens * (size_t)r.n_tokens);
    gen_result_free(&r);
    policy_free(p);
    /* half the heads masked: asked at prefill and at every decode step, full cache kept */
    p = make("mask", 0, (const char *[]){"ratio=0.5"}, 1);
    spy_wrap(&sp, p);
    run(&sp.kv, DT_F32, &r);
    const struct text_config *t = &fx.m->cfg.text;
    assert_true(sp.mask_calls >= t->n_layers * NEW_TOKENS);
    assert_int_equal(r.kv_rows, (int64_t)t->n_layers * t->n_kv_heads * fx.p.n);
    gen_result_free(&r);
    policy_free(p);
    gen_result_free(&ref);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_above_prompt_is_fullkv),
        cmocka_unit_test(test_compressed_cache_matches_capacities),
        cmocka_unit_test(test_mask),
    };
    return cmocka_run_group_tests_name("methods_e2e", tests, setup, teardown);
}
