/*
 * test_head_finder.c: the visual-head finder (methods/head_finder.h, its log and summary, and
 * `sparsemm heads`):
 *   - the official match rule (substring of exactly one chunk, the empty string, raw pieces with
 *     "▁", UTF-8) and a tally fed a stubbed argmax source, against hand-computed scores;
 *   - the finder's generation path (prefill without the last prompt token, which is decoded
 *     first to expose its attention row) gives each golden checkpoint's transformers greedy tokens;
 *   - three forced checkpoints (tests/fixtures/heads/, tools/golden/make_heads_fixture.py) whose
 *     attention heads are built to read the image or not, run end to end in both token-text
 *     modes: the generated ids, each token's raw and decoded string, every chunk's token
 *     positions and the per-sample head scores equal the transformers reference of the official
 *     algorithm;
 *   - the command: official JSON out, resume from the sample log (a run cut short, a torn last
 *     line, a log of other settings refused), round trip, the mask ablation reading the file;
 *   - the paper's own llava-v1.6.json loads and its summary matches research/sparsemm.md §1.5.
 */
#include "tests/test_util.h"

#include <unistd.h>

#include "datasets/dataset.h"
#include "engine/generate.h"
#include "engine/json.h"
#include "harness/commands.h"
#include "tests/golden.h"
#include "harness/method_setup.h"
#include "methods/head_finder.h"
#include "methods/head_finder_log.h"
#include "methods/head_finder_summary.h"
#include "methods/head_scores.h"

#define HEADS "tests/fixtures/heads"

/* |a - b| <= tol, with both values in the message. */
#define assert_near(a, b, tol)                                                                    \
    do {                                                                                          \
        double a_ = (a), b_ = (b);                                                                \
        if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);         \
    } while (0)

static void test_match_rule(void **state) {
    (void)state;
    const struct text_region r[] = {{"Hello world", 0, 0, 1, 1}, {"low", 0, 0, 1, 1}, {"12.5%", 0, 0, 1, 1}};
    assert_int_equal(match_region("ello", r, 3), 0);
    assert_int_equal(match_region("wor", r, 3), 0);
    assert_int_equal(match_region("%", r, 3), 2);
    assert_int_equal(match_region("lo", r, 3), -1);      /* in two chunks */
    assert_int_equal(match_region("xyz", r, 3), -1);     /* in none */
    assert_int_equal(match_region("hello", r, 3), -1);   /* case matters */
    assert_int_equal(match_region("\xe2\x96\x81wor", r, 3), -1); /* a raw word-initial piece */
    /* "" is in every text: a match only when there is one chunk */
    assert_int_equal(match_region("", r, 3), -1);
    assert_int_equal(match_region("", r + 1, 1), 0);
    assert_int_equal(match_region("", r, 0), -1);
    const struct text_region u[] = {{"Stra\xc3\x9f" "e", 0, 0, 1, 1}, {"s\xc3\xbc\xc3\x9f", 0, 0, 1, 1}};
    assert_int_equal(match_region("\xc3\x9f", u, 2), -1);     /* "ß" in both */
    assert_int_equal(match_region("\xc3\xbc", u, 2), 1);      /* "ü" */
    assert_int_equal(match_region("\xef\xbf\xbd", u, 2), -1); /* U+FFFD of a partial byte token */
}

/* A 2-layer, 2-head model; grid of 2 rows x 3 columns at positions 10..15, 10 px per cell. */
static void test_tally_stubbed_argmax(void **state) {
    (void)state;
    struct image_features f = {.orig_w = 30, .orig_h = 20, .grid_h = 2, .grid_w = 3, .n_tokens = 6};
    struct token_grid g;
    struct error err = {{0}};
    CHECK_OK(token_grid_init(&g, ARCH_LLAVA, &f, 10, &err), &err);
    const struct text_region r[] = {
        {"abc", 0, 0, 15, 5},   /* row 0, columns 0-1: positions 10, 11 (|R| = 2) */
        {"xyz", 0, 0, 29, 19},  /* everything: 10..15 (|R| = 6) */
        {"ab", 20, 10, 29, 19}, /* row 1, column 2: position 15 (|R| = 1) */
    };
    struct head_tally t;
    CHECK_OK(head_tally_init(&t, 2, 2, &g, r, 3, &err), &err);
    /* argmax [layer][head] */
    const int32_t a1[] = {10, 12, 11, 3}, a2[] = {15, 15, 15, 15}, a3[] = {15, 16, 9, 12}, a4[] = {10, 10, 10, 10},
                  a5[] = {11, 11, 11, 11}, a6[] = {13, 10, 14, 15};
    head_tally_add(&t, "bc", a1); /* "abc" only: (0,0) and (1,0) hit, +1/2 */
    head_tally_add(&t, "ab", a2); /* "abc" and "ab": no match */
    head_tally_add(&t, "y", a3);  /* "xyz": (0,0) and (1,1) hit, +1/6 */
    head_tally_add(&t, "", a4);   /* every chunk: no match */
    head_tally_add(&t, "b", a5);  /* "abc" and "ab": no match */
    head_tally_add(&t, "z", a6);  /* "xyz": all four hit, +1/6 */
    head_tally_add(&t, NULL, a4); /* no piece: no match */
    const double want[] = {1.0 / 2 + 1.0 / 6 + 1.0 / 6, 1.0 / 6, 1.0 / 2 + 1.0 / 6, 1.0 / 6 + 1.0 / 6};
    for (int i = 0; i < 4; i++) assert_near(t.score[i], want[i], 1e-15);
    assert_int_equal(t.n_tokens, 7);
    assert_int_equal(t.n_matched, 3);
    assert_int_equal(t.n_hits, 8);
    head_tally_free(&t);
    head_tally_free(NULL);
    /* a bad box names its chunk */
    const struct text_region bad[] = {{"ok", 0, 0, 1, 1}, {"broken", 0, 0, INFINITY, 1}};
    assert_int_equal(head_tally_init(&t, 2, 2, &g, bad, 2, &err), -1);
    assert_msg_contains(err.msg, "OCR chunk 1");
    assert_msg_contains(err.msg, "broken");
}

static void test_token_text_names(void **state) {
    (void)state;
    enum token_text t;
    assert_int_equal(token_text_parse("raw", &t), 0);
    assert_int_equal(t, TOKEN_TEXT_RAW);
    assert_int_equal(token_text_parse("decoded", &t), 0);
    assert_int_equal(t, TOKEN_TEXT_DECODED);
    assert_int_equal(token_text_parse("piece", &t), -1);
    assert_string_equal(token_text_name(TOKEN_TEXT_RAW), "raw");
    assert_string_equal(token_text_name(TOKEN_TEXT_DECODED), "decoded");
    /* the paper's scripts: convert_ids_to_tokens for LLaVA(-NeXT), decode for Qwen2-VL */
    assert_int_equal(token_text_official(ARCH_LLAVA), TOKEN_TEXT_RAW);
    assert_int_equal(token_text_official(ARCH_LLAVA_NEXT), TOKEN_TEXT_RAW);
    assert_int_equal(token_text_official(ARCH_QWEN2_VL), TOKEN_TEXT_DECODED);
}

/* generate() with want_argmax: the same 32 greedy tokens as transformers on every golden
   checkpoint (tools/golden/make_models.py; EOS not special there, so none here either). */
static void test_argmax_generation_is_greedy(void **state) {
    (void)state;
    const char *names[] = {"llava_gqa", "llava_mha_bf16", "llava_pad_f16", "llava_next_vicuna", "llava_next_mistral",
                           "qwen2vl"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct error err = {{0}};
        char *dir = xasprintf("tests/fixtures/golden/%s", names[i]), *image = path_join(dir, "image.png");
        struct golden g;
        golden_open(&g, dir);
        int64_t n_want;
        const float *want = golden_get(&g, "greedy_tokens", &n_want);
        struct model_options mo = {.backend = {.name = "cpu", .n_threads = 1, .weights_f32 = -1}};
        struct model *m = model_load(dir, &mo, &err);
        if (!m) fail_msg("%s", err.msg);
        struct image img;
        struct image_features f;
        struct prompt p;
        CHECK_OK(image_load(&img, image, &err), &err);
        CHECK_OK(model_encode_image(m, &img, &f, &err), &err);
        CHECK_OK(prompt_build(m, json_str(g.meta, "question", ""), &f, json_str(g.meta, "template", NULL), &p, &err),
                 &err);
        struct session s;
        session_init(&s, m, DT_F32, (int)n_want + 1);
        struct gen_options go = {.max_new_tokens = (int)n_want, .eos_id = m->cfg.text.vocab_size,
                                 .repetition_penalty = 1.0f, .want_argmax = 1};
        struct gen_result r;
        CHECK_OK(generate(&s, &p, &f, &go, &r, &err), &err);
        assert_int_equal(r.n_tokens, n_want);
        for (int k = 0; k < r.n_tokens; k++)
            if (r.tokens[k] != (int32_t)want[k]) fail_msg("%s: token %d is %d, transformers %d", names[i], k, r.tokens[k], (int)want[k]);
        gen_result_free(&r);
        session_free(&s);
        prompt_free(&p);
        image_features_free(m, &f);
        image_free(&img);
        model_free(m);
        golden_close(&g);
        free(image);
        free(dir);
    }
}

/* --- the forced checkpoints against the transformers reference ------------------------------ */

static cJSON *expected_runs(void) {
    struct error err = {{0}};
    cJSON *e = json_load_file(HEADS "/expected.json", &err);
    if (!e) fail_msg("%s (regenerate: python3 tools/golden/make_heads_fixture.py)", err.msg);
    if (json_int(e, "version", 0) != 1) fail_msg("expected.json: other version; re-run tools/golden/make_heads_fixture.py");
    return e;
}

static struct model *load_model(const char *name) {
    struct error err = {{0}};
    struct model_options mo = {.backend = {.name = "cpu", .n_threads = 1, .weights_f32 = -1}};
    char *dir = xasprintf(HEADS "/%s", name);
    struct model *m = model_load(dir, &mo, &err);
    if (!m) fail_msg("%s", err.msg);
    free(dir);
    return m;
}

static void load_data(const char *file, struct dataset *ds) {
    struct error err = {{0}};
    char *path = xasprintf(HEADS "/%s", file);
    struct dataset_spec spec;
    dataset_spec_init(&spec, BENCH_SYNTHDOG, path);
    CHECK_OK(dataset_load(&spec, ds, &err), &err);
    dataset_spec_free(&spec);
    free(path);
}

static struct text_region *regions_of(const struct sample *s) {
    struct text_region *r = xcalloc((size_t)s->n_boxes, sizeof *r);
    for (int i = 0; i < s->n_boxes; i++)
        r[i] = (struct text_region){s->boxes[i].text, s->boxes[i].x0, s->boxes[i].y0, s->boxes[i].x1, s->boxes[i].y1};
    return r;
}

/* Each chunk's token positions from the engine's layout equal the reference's. */
static void check_regions(struct model *m, const struct sample *s, const struct image *img, const char *template_name,
                          const cJSON *want) {
    struct error err = {{0}};
    struct image_features f;
    struct prompt p;
    struct token_grid g;
    CHECK_OK(model_encode_image(m, img, &f, &err), &err);
    CHECK_OK(prompt_build(m, head_finder_prompt, &f, template_name, &p, &err), &err);
    CHECK_OK(token_grid_init(&g, m->cfg.arch, &f, p.image_start, &err), &err);
    assert_int_equal(cJSON_GetArraySize(want), s->n_boxes);
    for (int i = 0; i < s->n_boxes; i++) {
        const struct ocr_box *b = &s->boxes[i];
        struct token_rect r;
        CHECK_OK(box_token_rect(&g, b->x0, b->y0, b->x1, b->y1, &r, &err), &err);
        const cJSON *w = cJSON_GetArrayItem(want, i);
        const int n = token_rect_count(&r);
        if (n != cJSON_GetArraySize(w)) fail_msg("%s chunk %d: %d tokens, reference %d", s->key, i, n, cJSON_GetArraySize(w));
        int32_t *pos = xmalloc(sizeof *pos * (size_t)(n + 1));
        token_rect_positions(&g, &r, pos);
        for (int k = 0; k < n; k++) assert_int_equal(pos[k], cJSON_GetArrayItem(w, k)->valueint);
        free(pos);
    }
    prompt_free(&p);
    image_features_free(m, &f);
}

static void check_run(const cJSON *run) {
    struct error err = {{0}};
    const char *name = json_str(run, "model", ""), *mode = json_str(run, "token_text", "");
    const char *template_name = json_str(run, "template", NULL);
    struct model *m = load_model(name);
    struct dataset ds = {0};
    load_data(json_str(run, "data", ""), &ds);
    struct head_finder_options o;
    head_finder_options_init(&o, m);
    o.max_new_tokens = 24;
    o.template_name = template_name;
    CHECK_OK(token_text_parse(mode, &o.token_text), &err);
    const int n = m->cfg.text.n_layers * m->cfg.text.n_heads;
    assert_int_equal(n, json_int(run, "n_layers", 0) * json_int(run, "n_heads", 0));
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(run, "samples");
    assert_int_equal(cJSON_GetArraySize(samples), ds.n);
    for (int i = 0; i < ds.n; i++) {
        const struct sample *s = &ds.samples[i];
        const cJSON *want = cJSON_GetArrayItem(samples, i);
        assert_string_equal(json_str(want, "id", ""), s->key);
        struct image img;
        CHECK_OK(image_load(&img, s->image, &err), &err);
        check_regions(m, s, &img, template_name, cJSON_GetObjectItemCaseSensitive(want, "regions"));
        struct text_region *r = regions_of(s);
        struct head_sample hs;
        CHECK_OK(head_finder_run(m, &img, r, s->n_boxes, &o, &hs, &err), &err);
        const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(want, "tokens");
        const cJSON *texts = cJSON_GetObjectItemCaseSensitive(want, "texts");
        assert_int_equal(hs.n_generated, cJSON_GetArraySize(tokens));
        for (int k = 0; k < hs.n_generated; k++) {
            if (hs.tokens[k] != cJSON_GetArrayItem(tokens, k)->valueint)
                fail_msg("%s/%s %s: token %d is %d, transformers %d", name, mode, s->key, k, hs.tokens[k],
                         cJSON_GetArrayItem(tokens, k)->valueint);
            char *t = token_text_of(m->tok, hs.tokens[k], o.token_text);
            const cJSON *wt = cJSON_GetArrayItem(texts, k);
            if (cJSON_IsNull(wt)) assert_null(t);
            else assert_string_equal(t, wt->valuestring);
            free(t);
        }
        assert_int_equal(hs.n_matched, json_int(want, "matched", -1));
        assert_int_equal(hs.n_hits, json_int(want, "hits", -1));
        const cJSON *scores = cJSON_GetObjectItemCaseSensitive(want, "scores");
        assert_int_equal(cJSON_GetArraySize(scores), n);
        for (int h = 0; h < n; h++) {
            double w = cJSON_GetArrayItem(scores, h)->valuedouble;
            if (fabs(hs.score[h] - w) > 1e-12)
                fail_msg("%s/%s %s: head %d-%d scores %.17g, reference %.17g", name, mode, s->key,
                         h / m->cfg.text.n_heads, h % m->cfg.text.n_heads, hs.score[h], w);
        }
        head_sample_free(&hs);
        free(r);
        image_free(&img);
    }
    dataset_free(&ds);
    model_free(m);
}

/* Every (model, token-text) run of the reference. The forcing must show: head 0 (reads the
   image) scores somewhere, head 1 (reads text) never. */
static void test_forced_checkpoints(void **state) {
    (void)state;
    cJSON *e = expected_runs();
    const cJSON *run;
    int runs = 0, head0 = 0, head1 = 0;
    cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(e, "runs")) {
        check_run(run);
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(run, "samples")) {
            const cJSON *sc = cJSON_GetObjectItemCaseSensitive(s, "scores");
            for (int l = 0; l < json_int(run, "n_layers", 0); l++) {
                head0 += cJSON_GetArrayItem(sc, l * json_int(run, "n_heads", 0))->valuedouble > 0;
                head1 += cJSON_GetArrayItem(sc, l * json_int(run, "n_heads", 0) + 1)->valuedouble > 0;
            }
        }
        runs++;
    }
    assert_int_equal(runs, 6);
    assert_true(head0 > 0);
    assert_int_equal(head1, 0);
    cJSON_Delete(e);
}

/* A stop request abandons the sample: nothing half-counted comes back. */
static void test_stop(void **state) {
    (void)state;
    struct error err = {{0}};
    struct model *m = load_model("llava");
    struct dataset ds = {0};
    load_data("llava.synthdog.json", &ds);
    struct image img;
    CHECK_OK(image_load(&img, ds.samples[0].image, &err), &err);
    struct text_region *r = regions_of(&ds.samples[0]);
    volatile sig_atomic_t stop = 1;
    struct head_finder_options o;
    head_finder_options_init(&o, m);
    assert_int_equal(o.max_new_tokens, 1024);
    o.max_new_tokens = 8;
    o.stop = &stop;
    struct head_sample hs;
    assert_int_equal(head_finder_run(m, &img, r, ds.samples[0].n_boxes, &o, &hs, &err), 1);
    assert_null(hs.score);
    assert_null(hs.tokens);
    head_sample_free(&hs);
    free(r);
    image_free(&img);
    dataset_free(&ds);
    model_free(m);
}

/* --- the command ------------------------------------------------------------------------------ */

static int run_cmd(command_fn fn, const char **args, int n) {
    char **argv = xmalloc(sizeof *argv * (size_t)(n + 1));
    for (int i = 0; i < n; i++) argv[i] = (char *)args[i];
    argv[n] = NULL;
    fflush(stdout);
    int rc = fn(n, argv);
    free(argv);
    return rc;
}

static int heads_cmd(const char *data, const char *out, const char *token_text) {
    const char *args[] = {"heads", "--model", HEADS "/llava", "--data", data, "--out", out, "--max-new-tokens", "24",
                          "--quiet", "--top", "3", "--token-text", token_text};
    return run_cmd(cmd_heads, args, sizeof args / sizeof args[0]);
}

static int count_lines(const char *path) {
    char *data;
    size_t len;
    struct error err = {{0}};
    CHECK_OK(read_file(path, &data, &len, &err), &err);
    int n = 0;
    for (size_t i = 0; i < len; i++) n += data[i] == '\n';
    free(data);
    return n;
}

/* The llava raw run of the reference, as [sample][head]. */
static double *reference_scores(int *n_samples, int *n_heads_total) {
    cJSON *e = expected_runs();
    const cJSON *run;
    double *out = NULL;
    cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(e, "runs")) {
        if (strcmp(json_str(run, "model", ""), "llava") || strcmp(json_str(run, "token_text", ""), "raw")) continue;
        const cJSON *samples = cJSON_GetObjectItemCaseSensitive(run, "samples");
        *n_samples = cJSON_GetArraySize(samples);
        *n_heads_total = json_int(run, "n_layers", 0) * json_int(run, "n_heads", 0);
        out = xmalloc(sizeof *out * (size_t)(*n_samples * *n_heads_total));
        for (int s = 0; s < *n_samples; s++)
            for (int h = 0; h < *n_heads_total; h++)
                out[s * *n_heads_total + h] =
                    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(samples, s), "scores"), h)
                        ->valuedouble;
    }
    cJSON_Delete(e);
    if (!out) fail_msg("expected.json has no llava/raw run");
    return out;
}

static void check_file(const char *path, int want_samples) {
    struct error err = {{0}};
    int ns, nh;
    double *ref = reference_scores(&ns, &nh);
    struct head_scores *hs;
    CHECK_OK(head_scores_load(path, &hs, &err), &err);
    assert_int_equal(hs->n_layers * hs->n_heads, nh);
    assert_int_equal(hs->n_samples, want_samples);
    for (int h = 0; h < nh; h++)
        for (int s = 0; s < want_samples; s++)
            assert_near(hs->samples[(size_t)h * hs->stride + s], ref[s * nh + h], 1e-12);
    head_scores_free(hs);
    free(ref);
}

static void test_command_resume(void **state) {
    (void)state;
    char dir[] = "/tmp/test_head_finder_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *out = xasprintf("%s/heads.json", dir), *log = xasprintf("%s.samples.jsonl", out);
    const char *data = "synthdog=" HEADS "/llava.synthdog.json";
    char *first = xasprintf("%s:limit=1", data);
    /* a run that stops after one page (what a kill leaves: the log, no output) */
    assert_int_equal(heads_cmd(first, out, "raw"), 0);
    assert_int_equal(count_lines(log), 2); /* header + 1 sample */
    check_file(out, 1);
    unlink(out);
    /* a torn last line, as a kill in mid-write leaves it */
    FILE *f = fopen(log, "a");
    fputs("{\"key\": \"page_b\", \"generated\": 2", f);
    fclose(f);
    /* the full run continues: only the missing page is computed */
    assert_int_equal(heads_cmd(data, out, "raw"), 0);
    assert_int_equal(count_lines(log), 3);
    check_file(out, 2);
    /* nothing left to do: nothing appended, same file */
    assert_int_equal(heads_cmd(data, out, "raw"), 0);
    assert_int_equal(count_lines(log), 3);
    check_file(out, 2);
    /* other settings never mix with this log */
    assert_int_equal(heads_cmd(data, out, "decoded"), 1);
    assert_int_equal(count_lines(log), 3);
    /* not synthdog data */
    char *wrong = xasprintf("textvqa=%s", HEADS "/llava.synthdog.json");
    assert_int_equal(heads_cmd(wrong, out, "raw"), 2);
    free(wrong);

    /* round trip through the official format */
    struct error err = {{0}};
    struct head_scores *a, *b;
    char *again = xasprintf("%s/again.json", dir);
    CHECK_OK(head_scores_load(out, &a, &err), &err);
    CHECK_OK(head_scores_save(a, again, &err), &err);
    CHECK_OK(head_scores_load(again, &b, &err), &err);
    assert_int_equal(a->n_samples, b->n_samples);
    for (int i = 0; i < a->n_layers * a->n_heads; i++)
        for (int s = 0; s < a->n_samples; s++)
            assert_true(a->samples[(size_t)i * a->stride + s] == b->samples[(size_t)i * b->stride + s]);

    /* the mask ablation reads the file: its masked heads are the file's best (ratio 0.25: 2 of 8) */
    struct model *m = load_model("llava");
    struct policy *p = policy_for_model(m, "mask", 64, (const char *[]){"ratio=0.25"}, 1, out, &err);
    if (!p) fail_msg("%s", err.msg);
    double *means = xmalloc(sizeof *means * 8);
    head_scores_means(a, means);
    struct head_summary sum;
    head_summary_compute(means, a->n_layers, a->n_heads, &sum);
    int masked = 0;
    for (int l = 0; l < a->n_layers; l++) {
        const uint8_t *mask = p->kv.query_mask(p->kv.ctx, l);
        for (int h = 0; h < a->n_heads; h++)
            if (mask && mask[h]) {
                masked++;
                int idx = l * a->n_heads + h;
                assert_true(idx == sum.order[0] || idx == sum.order[1]);
            }
    }
    assert_int_equal(masked, 2);
    head_summary_free(&sum);
    free(means);
    policy_free(p);
    model_free(m);
    const char *gen[] = {"generate", "--model", HEADS "/llava", "--image", HEADS "/images/page_a.png", "--prompt",
                         "Provide all the OCR results of this image.", "--max-new-tokens", "4", "--method", "mask",
                         "--budget", "64", "--param", "ratio=0.25", "--heads", out, "--json"};
    assert_int_equal(run_cmd(cmd_generate, gen, sizeof gen / sizeof gen[0]), 0);

    head_scores_free(a);
    head_scores_free(b);
    unlink(again);
    unlink(out);
    unlink(log);
    rmdir(dir);
    free(again);
    free(first);
    free(out);
    free(log);
}

static void test_log_refuses_other_settings(void **state) {
    (void)state;
    char path[] = "/tmp/test_head_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    struct error err = {{0}};
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "token_text", "raw");
    cJSON_AddNumberToObject(c, "max_new_tokens", 1024);
    struct head_log log;
    CHECK_OK(head_log_open(&log, path, c, 1, 2, &err), &err);
    double score[2] = {0.1, 1.0 / 3};
    struct head_sample s = {.score = score, .n_generated = 5, .n_matched = 2, .n_hits = 1};
    CHECK_OK(head_log_append(&log, "k1", &s, &err), &err);
    head_log_close(&log);
    CHECK_OK(head_log_open(&log, path, c, 1, 2, &err), &err);
    const struct head_log_entry *e = head_log_find(&log, "k1");
    assert_non_null(e);
    assert_true(e->score[1] == 1.0 / 3); /* bit for bit */
    assert_int_equal(e->n_generated, 5);
    assert_null(head_log_find(&log, "k2"));
    head_log_close(&log);
    cJSON_ReplaceItemInObject(c, "token_text", cJSON_CreateString("decoded"));
    assert_int_equal(head_log_open(&log, path, c, 1, 2, &err), -1);
    assert_msg_contains(err.msg, path);
    assert_msg_contains(err.msg, "token_text = \"raw\"");
    assert_msg_contains(err.msg, "\"decoded\"");
    /* a malformed complete line is an error that names it */
    cJSON_ReplaceItemInObject(c, "token_text", cJSON_CreateString("raw"));
    FILE *f = fopen(path, "a");
    fputs("{\"key\": \"k3\", \"generated\": 1, \"matched\": 0, \"hits\": 0, \"scores\": [1]}\n", f);
    fclose(f);
    assert_int_equal(head_log_open(&log, path, c, 1, 2, &err), -1);
    assert_msg_contains(err.msg, "line 3");
    cJSON_Delete(c);
    head_log_close(NULL);
    unlink(path);
}

/* The paper's file (two numbers per head, research/sparsemm.md §1.5): its effective distribution
   tops at head 14-24 with 2.57 %, 21 heads above 1 %, 62 above 0.5 %, 43 heads hold 50 % and 113
   hold 80 %, and layer 14 carries the most mass (11 %). */
static void test_paper_file(void **state) {
    (void)state;
    struct error err = {{0}};
    struct head_scores *hs;
    CHECK_OK(head_scores_load("tests/fixtures/methods/llava-v1.6.json", &hs, &err), &err);
    assert_int_equal(hs->n_layers, 32);
    assert_int_equal(hs->n_heads, 32);
    assert_int_equal(hs->n_samples, 2);
    double *means = xmalloc(sizeof *means * 1024);
    head_scores_means(hs, means);
    struct head_summary s;
    head_summary_compute(means, 32, 32, &s);
    assert_int_equal(s.order[0], 14 * 32 + 24);
    assert_near(s.share[s.order[0]], 0.0257, 0.00005);
    int above1 = 0, above05 = 0, top_layer = 0;
    for (int i = 0; i < 1024; i++) {
        above1 += s.share[i] > 0.01;
        above05 += s.share[i] > 0.005;
    }
    for (int l = 1; l < 32; l++)
        if (s.layer_share[l] > s.layer_share[top_layer]) top_layer = l;
    assert_int_equal(above1, 21);
    assert_int_equal(above05, 62);
    assert_int_equal(top_layer, 14);
    assert_near(s.layer_share[14], 0.11, 0.005);
    assert_int_equal(s.top5_n, 51);   /* int(0.05 * 1024) */
    assert_int_equal(s.top10_n, 102);
    assert_true(s.top5_share > 0.5);  /* 51 heads > the 43 that hold 50 % */
    assert_true(s.top10_share < 0.8); /* 102 heads < the 113 that hold 80 % */
    double top43 = 0, top42 = 0;
    for (int k = 0; k < 43; k++) top43 += s.share[s.order[k]];
    top42 = top43 - s.share[s.order[42]];
    assert_true(top43 >= 0.5 && top42 < 0.5);
    head_summary_free(&s);
    head_summary_free(NULL);
    free(means);
    head_scores_free(hs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_rule),
        cmocka_unit_test(test_tally_stubbed_argmax),
        cmocka_unit_test(test_token_text_names),
        cmocka_unit_test(test_argmax_generation_is_greedy),
        cmocka_unit_test(test_forced_checkpoints),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_command_resume),
        cmocka_unit_test(test_log_refuses_other_settings),
        cmocka_unit_test(test_paper_file),
    };
    return cmocka_run_group_tests_name("head_finder", tests, NULL, NULL);
}
