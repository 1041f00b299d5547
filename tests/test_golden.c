/*
 * test_golden.c: the C engine against transformers on the golden checkpoints
 * (tools/golden/make_models.py): identical prompt ids, pixel values within 1e-6, vision
 * features, image features and logits within relative L2 1e-4 (fp32), and 32 identical greedy
 * tokens with their logits. Covers LLaVA-1.5 (GQA, MHA, f32/bf16/f16 checkpoints, the
 * pad-to-square processor), LLaVA-NeXT (anyres with Vicuna and with Mistral's sliding window)
 * and Qwen2-VL (byte-level BPE, its vision tower, M-RoPE).
 */
#include "tests/golden.h"
#include "engine/generate.h"
#include "engine/vision.h"

static void check_model(const char *dir) {
    struct golden g;
    golden_open(&g, dir);
    struct error err = {{0}};
    struct model_options opt = {.backend = {.name = "cpu", .weights_f32 = -1}};
    struct model *m = model_load(dir, &opt, &err);
    if (!m) fail_msg("%s", err.msg);
    const int D = m->cfg.text.hidden_size, V = m->cfg.text.vocab_size;

    /* pixels */
    char *ipath = path_join(dir, json_str(g.meta, "image", "image.png"));
    struct image img;
    CHECK_OK(image_load(&img, ipath, &err), &err);
    free(ipath);
    struct pixel_values pv;
    CHECK_OK(image_processor_run(&m->improc, &img, &pv, &err), &err);
    int64_t n;
    const float *ref_px = golden_get(&g, "pixel_values", &n);
    if (m->cfg.arch == ARCH_QWEN2_VL) assert_int_equal(n, (int64_t)pv.n_rows * pv.row_len);
    else assert_int_equal(n, (int64_t)pv.n_crops * 3 * pv.height * pv.width);
    double px_err = max_abs_diff(pv.data, ref_px, (size_t)n);
    if (px_err > 1e-6) fail_msg("%s: pixel values differ by %g", dir, px_err);

    /* LLaVA-1.5: the vision tower's features before the projector */
    double e;
    if (st_find(&g.st, "vision_hidden")) {
        const float *ref_vis = golden_get(&g, "vision_hidden", &n);
        float *vis = m->be->ops->alloc(m->be, sizeof(float) * (size_t)n);
        CHECK_OK(clip_encode(m, pv.data, vis, &err), &err);
        e = rel_l2(vis, ref_vis, (size_t)n);
        if (e > 1e-4) fail_msg("%s: vision features rel err %g", dir, e);
        m->be->ops->free(m->be, vis);
    }
    pixel_values_free(&pv);

    /* image features after the projector */
    struct image_features feat;
    CHECK_OK(model_encode_image(m, &img, &feat, &err), &err);
    const float *ref_feat = golden_get(&g, "image_features", &n);
    assert_int_equal(n, (int64_t)feat.n_tokens * D);
    e = rel_l2(feat.embeds, ref_feat, (size_t)n);
    if (e > 1e-4) fail_msg("%s: image features rel err %g", dir, e);
    image_free(&img);

    /* prompt ids */
    struct prompt p;
    CHECK_OK(prompt_build(m, json_str(g.meta, "question", ""), &feat, json_str(g.meta, "template", NULL), &p, &err), &err);
    const float *ref_ids = golden_get(&g, "input_ids", &n);
    assert_int_equal(p.n, n);
    for (int i = 0; i < p.n; i++)
        if (p.ids[i] != (int32_t)ref_ids[i]) fail_msg("%s: prompt id %d is %d, transformers has %d", dir, i, p.ids[i], (int)ref_ids[i]);

    /* prefill logits, then 32 greedy steps with their logits */
    struct session s;
    session_init(&s, m, DT_F32, 40);
    float *logits = xmalloc(sizeof *logits * (size_t)V);
    CHECK_OK(session_prefill(&s, &p, &feat, NULL, logits, NULL, &err), &err);
    const float *ref_logits = golden_get(&g, "prefill_logits", &n);
    assert_int_equal(n, V);
    e = rel_l2(logits, ref_logits, (size_t)V);
    if (e > 1e-4) fail_msg("%s: prefill logits rel err %g", dir, e);
    const float *ref_tokens = golden_get(&g, "greedy_tokens", &n);
    const float *ref_steps = golden_get(&g, "step_logits", NULL);
    for (int i = 0; i < n; i++) {
        int32_t best = 0;
        for (int v = 1; v < V; v++)
            if (logits[v] > logits[best]) best = v;
        if (best != (int32_t)ref_tokens[i]) fail_msg("%s: greedy token %d is %d, transformers chose %d", dir, i, best, (int)ref_tokens[i]);
        e = rel_l2(logits, ref_steps + (size_t)i * V, (size_t)V);
        if (e > 1e-4) fail_msg("%s: step %d logits rel err %g", dir, i, e);
        CHECK_OK(session_decode(&s, best, logits, NULL, &err), &err);
    }
    assert_int_equal(s.cache.layers[0].len[0], p.n + (int)n);
    free(logits);
    session_free(&s);
    prompt_free(&p);
    image_features_free(m, &feat);
    model_free(m);
    golden_close(&g);
}

static void test_llava_gqa_f32(void **state) { check_model("tests/fixtures/golden/llava_gqa"); }
static void test_llava_mha_bf16(void **state) { check_model("tests/fixtures/golden/llava_mha_bf16"); }
static void test_llava_pad_f16(void **state) { check_model("tests/fixtures/golden/llava_pad_f16"); }
static void test_llava_next_vicuna(void **state) { check_model("tests/fixtures/golden/llava_next_vicuna"); }
static void test_llava_next_mistral(void **state) { check_model("tests/fixtures/golden/llava_next_mistral"); }
static void test_qwen2vl(void **state) { check_model("tests/fixtures/golden/qwen2vl"); }

/* The same checkpoint with its weights kept in half precision (the path large models take):
   greedy tokens must not change. */
static void test_llava_bf16_unwidened(void **state) {
    const char *dir = "tests/fixtures/golden/llava_mha_bf16";
    struct golden g;
    golden_open(&g, dir);
    struct error err = {{0}};
    struct model_options opt = {.backend = {.name = "cpu", .weights_f32 = 0}};
    struct model *m = model_load(dir, &opt, &err);
    if (!m) fail_msg("%s", err.msg);
    assert_int_equal(m->dec.layers[0].q.dtype, DT_BF16);
    struct image img;
    char *ipath = path_join(dir, "image.png");
    CHECK_OK(image_load(&img, ipath, &err), &err);
    free(ipath);
    struct image_features feat;
    CHECK_OK(model_encode_image(m, &img, &feat, &err), &err);
    struct prompt p;
    CHECK_OK(prompt_build(m, json_str(g.meta, "question", ""), &feat, "vicuna", &p, &err), &err);
    struct session s;
    session_init(&s, m, DT_F32, 8);
    const int V = m->cfg.text.vocab_size;
    float *logits = xmalloc(sizeof *logits * (size_t)V);
    CHECK_OK(session_prefill(&s, &p, &feat, NULL, logits, NULL, &err), &err);
    double e = rel_l2(logits, golden_get(&g, "prefill_logits", NULL), (size_t)V);
    if (e > 1e-4) fail_msg("unwidened bf16 prefill logits rel err %g", e);
    free(logits);
    session_free(&s);
    prompt_free(&p);
    image_features_free(m, &feat);
    image_free(&img);
    model_free(m);
    golden_close(&g);
}

/* generate() end to end: same greedy tokens until the first EOS, text decodes. */
static void test_generate_api(void **state) {
    const char *dir = "tests/fixtures/golden/llava_gqa";
    struct golden g;
    golden_open(&g, dir);
    struct error err = {{0}};
    struct model *m = model_load(dir, NULL, &err);
    if (!m) fail_msg("%s", err.msg);
    struct image img;
    CHECK_OK(image_load(&img, "tests/fixtures/golden/llava_gqa/image.png", &err), &err);
    struct image_features feat;
    CHECK_OK(model_encode_image(m, &img, &feat, &err), &err);
    struct prompt p;
    CHECK_OK(prompt_build(m, json_str(g.meta, "question", ""), &feat, NULL, &p, &err), &err);
    struct session s;
    session_init(&s, m, DT_F32, 16);
    struct gen_options go = {.max_new_tokens = 32, .eos_id = 2, .repetition_penalty = 1.0f};
    struct gen_result r;
    CHECK_OK(generate(&s, &p, &feat, &go, &r, &err), &err);
    int64_t n;
    const float *ref = golden_get(&g, "greedy_tokens", &n);
    int expect = 0;
    while (expect < n && (int32_t)ref[expect] != 2) expect++;
    assert_int_equal(r.n_tokens, expect);
    for (int i = 0; i < r.n_tokens; i++) assert_int_equal(r.tokens[i], (int32_t)ref[i]);
    assert_non_null(r.text);
    assert_int_equal(r.n_prompt, p.n);
    assert_true(r.kv_bytes == (int64_t)p.n * m->cfg.text.n_layers * m->cfg.text.n_kv_heads * 2 * m->cfg.text.head_dim * 4);
    gen_result_free(&r);
    session_free(&s);
    prompt_free(&p);
    image_features_free(m, &feat);
    image_free(&img);
    model_free(m);
    golden_close(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llava_gqa_f32),     cmocka_unit_test(test_llava_mha_bf16),
        cmocka_unit_test(test_llava_pad_f16),     cmocka_unit_test(test_llava_bf16_unwidened),
        cmocka_unit_test(test_llava_next_vicuna), cmocka_unit_test(test_llava_next_mistral),
        cmocka_unit_test(test_qwen2vl),
        cmocka_unit_test(test_generate_api),
    };
    return cmocka_run_group_tests_name("golden", tests, NULL, NULL);
}
