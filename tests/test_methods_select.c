/*
 * test_methods_select.c: the token choice of each method through the engine's interface
 * (kv_policy.select), on attention statistics written by hand: GQA grouping, ties, pooling with
 * counted padding, prompts shorter than the budget, capacities above the prompt, AdaKV's
 * normalisation and rounding, StreamingLLM, H2O, the mask ablation, and the errors the engine
 * gets back for inconsistent statistics. Kept positions are compared as sets.
 */
#include "tests/test_util.h"

#include "methods/policy.h"

#define MAXN 64
#define MAXKV 4

struct kept {
    int count[MAXKV];
    int32_t idx_mem[MAXKV][MAXN];
    int32_t *idx[MAXKV];
};

static struct policy *make(const char *method, int budget, int L, int H, int Hkv, const struct head_scores *hs,
                           const char *const *settings, int n) {
    struct error err = {0};
    struct method_params mp;
    CHECK_OK(method_params_parse(&mp, method, settings, n, &err), &err);
    struct policy_dims d = {L, H, Hkv, 8};
    struct policy *p = policy_create(&mp, budget, &d, hs, &err);
    if (!p) fail_msg("%s: %s", method, err.msg);
    return p;
}

/* Run select for one layer; wa/acc: [H][n] or NULL. Returns select's status. */
static int run_select(struct policy *p, int layer, int n, const float *wa, const float *acc, struct kept *k,
                      struct error *err) {
    for (int j = 0; j < MAXKV; j++) k->idx[j] = k->idx_mem[j];
    struct kv_layer_scores s = {layer, n, p->dims.n_heads, p->dims.n_kv_heads, 8, p->kv.window, wa, acc};
    struct kv_keep keep = {p->dims.n_kv_heads, k->count, k->idx};
    return p->kv.select(p->kv.ctx, &s, &keep, err);
}

/* Head j kept exactly the positions in want[0..n_want) (any order, each once). */
static void assert_kept(const struct kept *k, int j, const int *want, int n_want) {
    if (k->count[j] != n_want) fail_msg("head %d kept %d positions, want %d", j, k->count[j], n_want);
    for (int a = 0; a < n_want; a++) {
        int found = 0;
        for (int b = 0; b < n_want; b++) found += k->idx[j][b] == want[a];
        if (found != 1) fail_msg("head %d: position %d kept %d times, want once", j, want[a], found);
    }
}

static void select_ok(struct policy *p, int layer, int n, const float *wa, const float *acc, struct kept *k) {
    struct error err = {0};
    CHECK_OK(run_select(p, layer, n, wa, acc, k, &err), &err);
}

/* GQA: query heads {0,1} share KV head 0 and {2,3} KV head 1 (consecutive, as repeat_kv).
   n = 10, w = 2, kernel 1, B = 5: each KV head keeps its top 3 candidates of 0..7 plus 8, 9. */
static void test_snapkv_gqa(void **state) {
    (void)state;
    const char *set[] = {"window=2", "kernel=1"};
    struct policy *p = make("snapkv", 5, 1, 4, 2, NULL, set, 2);
    const float wa[4 * 10] = {
        0.9f, 0.1f, 0.1f, 0.1f, 0.8f, 0.1f, 0.1f, 0.0f, 1, 1,
        0.1f, 0.1f, 0.1f, 0.1f, 0.0f, 0.1f, 0.1f, 0.7f, 1, 1,
        0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.6f, 0.6f, 1, 1,
        0.0f, 0.6f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1, 1,
    };
    /* KV 0 mean {0.5, 0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.35}; KV 1 mean {0, 0.3, 0, 0, 0, 0, 0.3, 0.3} */
    struct kept k;
    select_ok(p, 0, 10, wa, NULL, &k);
    assert_kept(&k, 0, (int[]){0, 4, 7, 8, 9}, 5);
    assert_kept(&k, 1, (int[]){1, 6, 7, 8, 9}, 5);
    policy_free(p);
}

/* Equal scores: the lower positions win (a deterministic choice of torch.topk's unspecified one). */
static void test_ties_keep_lower_positions(void **state) {
    (void)state;
    const char *set[] = {"window=2", "kernel=1"};
    struct policy *p = make("snapkv", 5, 1, 1, 1, NULL, set, 2);
    float wa[10];
    for (int t = 0; t < 10; t++) wa[t] = 0.1f;
    struct kept k;
    select_ok(p, 0, 10, wa, NULL, &k);
    assert_kept(&k, 0, (int[]){0, 1, 2, 8, 9}, 5);
    policy_free(p);
}

/* The pooling counts its zero padding: candidates {0, .3, 0, 0, .5} pool (kernel 3) to
   {.1, .1, .1, .5/3, .5/3}, so the top 1 is position 3. Dividing edges by the real count would
   give position 4 (.25). */
static void test_pooling_counts_padding(void **state) {
    (void)state;
    const char *set[] = {"window=2", "kernel=3"};
    struct policy *p = make("snapkv", 3, 1, 1, 1, NULL, set, 2);
    const float wa[7] = {0, 0.3f, 0, 0, 0.5f, 1, 1};
    struct kept k;
    select_ok(p, 0, 7, wa, NULL, &k);
    assert_kept(&k, 0, (int[]){3, 5, 6}, 3);
    policy_free(p);
}

/* n < B keeps every token. At n == B the selection runs and, except for AdaKV, still keeps
   everything (its safeguard rounding can drop a token: caps round(0.8 * 3) = 2 here, as in the
   official code, whose no-compression test is base > n - w). */
static void test_short_prompts_keep_all(void **state) {
    (void)state;
    const char *set[] = {"window=2", "kernel=1"};
    const char *methods[] = {"snapkv", "pyramidkv", "adakv", "h2o", "streamingllm"};
    float stat[2 * 5];
    for (int i = 0; i < 10; i++) stat[i] = 0.1f * (float)(i % 5);
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        int n_set = !strcmp(methods[m], "h2o") ? 1 : !strcmp(methods[m], "streamingllm") ? 0 : 2;
        struct policy *p = make(methods[m], 5, 2, 2, 2, NULL, set, n_set);
        struct kept k;
        const int last = strcmp(methods[m], "adakv") ? 5 : 4;
        for (int n = 1; n <= last; n++) {
            select_ok(p, 1, n, stat, stat, &k);
            int all[5] = {0, 1, 2, 3, 4};
            assert_kept(&k, 0, all, n);
            assert_kept(&k, 1, all, n);
        }
        policy_free(p);
    }
}

/* SparseMM with L = 2, H = 2, H_kv = 1, B = 42, w = 32, scores {3,0,1,0}: caps 14 and 6
   (test_methods_alloc). With n = 44 there are 12 candidates: layer 0's cap of 14 keeps all 44,
   layer 1 keeps its top 6 plus the window. */
static void test_sparsemm_cap_above_prompt(void **state) {
    (void)state;
    struct head_scores *hs = head_scores_new(2, 2);
    head_scores_add_sample(hs, (double[]){3, 0, 1, 0});
    const char *set[] = {"kernel=1"};
    struct policy *p = make("sparsemm", 42, 2, 2, 1, hs, set, 1);
    head_scores_free(hs);
    enum { N = 44 };
    float wa[2 * N];
    for (int h = 0; h < 2; h++)
        for (int t = 0; t < N; t++) wa[h * N + t] = (float)(t + 1) / 1000; /* later candidates score higher */
    struct kept k;
    int want[N];
    select_ok(p, 0, N, wa, NULL, &k);
    for (int t = 0; t < N; t++) want[t] = t;
    assert_kept(&k, 0, want, N);
    select_ok(p, 1, N, wa, NULL, &k);
    for (int t = 0; t < 38; t++) want[t] = 6 + t; /* candidates 6..11, window 12..43 */
    assert_kept(&k, 0, want, 38);
    policy_free(p);
}

/* AdaKV, H = H_kv = 2, n = 12, w = 2, kernel 1, B = 6: base 4, global top 8.
   floor 0.5 (F = 2), no normalisation: head 0 {.9,.8,.7,.6,.5,.01...}, head 1 {.85,.75,.65,.001...}
   -> counts 5 and 3 -> caps round(2.5 + 2) = 4 and round(1.5 + 2) = 4 (both halves to even). */
static void test_adakv_counts_and_rounding(void **state) {
    (void)state;
    const char *set[] = {"window=2", "kernel=1", "floor=0.5", "normalize=0"};
    struct policy *p = make("adakv", 6, 1, 2, 2, NULL, set, 4);
    float wa[2 * 12] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 1, 1,
                        0.85f, 0.75f, 0.65f, 0.001f, 0.001f, 0.001f, 0.001f, 0.001f, 0.001f, 0.001f, 1, 1};
    struct kept k;
    select_ok(p, 0, 12, wa, NULL, &k);
    assert_int_equal(p->cap[0], 4);
    assert_int_equal(p->cap[1], 4);
    assert_kept(&k, 0, (int[]){0, 1, 2, 3, 10, 11}, 6);
    assert_kept(&k, 1, (int[]){0, 1, 2, 3, 10, 11}, 6); /* the 4th is the lowest of tied .001s */
    policy_free(p);
}

/* Normalisation changes the split: head 0 is flat (all .2, rho = 4/10), head 1 concentrated
   ({.15 x4, .1 x2, 0 x4}, rho = .6/.8). floor 0.2 with base 4 gives F = int(0.8) = 0.
   Without: head 0 takes all 8 -> caps round(6.4) = 6, round(0) = 0.
   With: scaled {.08 x10} vs {.1125 x4, .075 x2}: counts 4 and 4 -> caps round(3.2) = 3 each. */
static void test_adakv_normalize(void **state) {
    (void)state;
    float wa[2 * 12] = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 1, 1,
                        0.15f, 0.15f, 0.15f, 0.15f, 0.1f, 0.1f, 0, 0, 0, 0, 1, 1};
    const char *off[] = {"window=2", "kernel=1", "normalize=0"}, *on[] = {"window=2", "kernel=1"};
    struct policy *p = make("adakv", 6, 1, 2, 2, NULL, off, 3);
    struct kept k;
    select_ok(p, 0, 12, wa, NULL, &k);
    assert_int_equal(p->cap[0], 6);
    assert_int_equal(p->cap[1], 0);
    assert_kept(&k, 1, (int[]){10, 11}, 2);
    policy_free(p);
    p = make("adakv", 6, 1, 2, 2, NULL, on, 2);
    select_ok(p, 0, 12, wa, NULL, &k);
    assert_int_equal(p->cap[0], 3);
    assert_int_equal(p->cap[1], 3);
    assert_kept(&k, 0, (int[]){0, 1, 2, 10, 11}, 5);
    assert_kept(&k, 1, (int[]){0, 1, 2, 10, 11}, 5);
    policy_free(p);
}

static void test_streamingllm_positions(void **state) {
    (void)state;
    struct policy *p = make("streamingllm", 8, 1, 2, 1, NULL, NULL, 0);
    struct kept k;
    select_ok(p, 0, 20, NULL, NULL, &k);
    assert_kept(&k, 0, (int[]){0, 1, 2, 3, 16, 17, 18, 19}, 8);
    policy_free(p);
    const char *none[] = {"sinks=0"};
    p = make("streamingllm", 8, 1, 2, 1, NULL, none, 1);
    select_ok(p, 0, 20, NULL, NULL, &k);
    assert_kept(&k, 0, (int[]){12, 13, 14, 15, 16, 17, 18, 19}, 8);
    policy_free(p);
}

/* H2O: accumulated attention, group mean, no pooling. H = 2 -> H_kv = 1, n = 8, w = 2, B = 5:
   means {3, 1, 1, 3, 1, 2} over candidates 0..5 -> top 3 = 0, 3, 5. */
static void test_h2o(void **state) {
    (void)state;
    const char *set[] = {"window=2"};
    struct policy *p = make("h2o", 5, 1, 2, 1, NULL, set, 1);
    assert_true(p->kv.need_accum_attn);
    assert_false(p->kv.need_window_attn);
    const float acc[2 * 8] = {5, 1, 1, 4, 1, 3, 0, 0, 1, 1, 1, 2, 1, 1, 0, 0};
    struct kept k;
    select_ok(p, 0, 8, NULL, acc, &k);
    assert_kept(&k, 0, (int[]){0, 3, 5, 6, 7}, 5);
    policy_free(p);
}

/* Mask: the top int(ratio * L*H) heads by score, ties in layer-major order; full cache. */
static void test_mask_heads(void **state) {
    (void)state;
    struct head_scores *hs = head_scores_new(2, 4);
    head_scores_add_sample(hs, (double[]){0.5, 0.9, 0.5, 0.1, 0.5, 0.2, 0.9, 0.0});
    const char *half[] = {"ratio=0.5"};
    struct policy *p = make("mask", 0, 2, 4, 2, hs, half, 1);
    assert_non_null(p->kv.query_mask);
    /* ranked: 0.9 (1), 0.9 (6), 0.5 (0), 0.5 (2) | 0.5 (4) ...: int(0.5 * 8) = 4 masked */
    const uint8_t *m0 = p->kv.query_mask(p->kv.ctx, 0), *m1 = p->kv.query_mask(p->kv.ctx, 1);
    assert_non_null(m0);
    assert_non_null(m1);
    assert_memory_equal(m0, ((uint8_t[]){1, 1, 1, 0}), 4);
    assert_memory_equal(m1, ((uint8_t[]){0, 0, 1, 0}), 4);
    struct kept k;
    select_ok(p, 1, 9, NULL, NULL, &k);
    assert_kept(&k, 1, (int[]){0, 1, 2, 3, 4, 5, 6, 7, 8}, 9);
    policy_free(p);
    /* The default 10% of 8 heads is int(0.8) = 0: nothing masked. */
    p = make("mask", 0, 2, 4, 2, hs, NULL, 0);
    assert_null(p->kv.query_mask(p->kv.ctx, 0));
    assert_null(p->kv.query_mask(p->kv.ctx, 1));
    policy_free(p);
    head_scores_free(hs);
}

static void expect_select_error(struct policy *p, int layer, int n, int n_heads, int window, const float *wa,
                                const char *needle) {
    struct error err = {0};
    struct kept k;
    for (int j = 0; j < MAXKV; j++) k.idx[j] = k.idx_mem[j];
    struct kv_layer_scores s = {layer, n, n_heads, p->dims.n_kv_heads, 8, window, wa, NULL};
    struct kv_keep keep = {p->dims.n_kv_heads, k.count, k.idx};
    assert_int_equal(p->kv.select(p->kv.ctx, &s, &keep, &err), -1);
    assert_msg_contains(err.msg, needle);
}

static void test_select_errors(void **state) {
    (void)state;
    const char *set[] = {"window=2", "kernel=1"};
    struct policy *p = make("snapkv", 5, 2, 2, 1, NULL, set, 2);
    float wa[2 * 10] = {0};
    expect_select_error(p, 2, 10, 2, 2, wa, "layer 2 out of range");
    expect_select_error(p, 0, 10, 4, 2, wa, "the policy was built for 2 / 1");
    expect_select_error(p, 0, 10, 2, 3, wa, "the method's window is 2");
    expect_select_error(p, 0, 10, 2, 2, NULL, "needs window_attn");
    wa[13] = NAN;
    expect_select_error(p, 1, 10, 2, 2, wa, "window_attn[head 1][position 3] is not finite");
    policy_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapkv_gqa),
        cmocka_unit_test(test_ties_keep_lower_positions),
        cmocka_unit_test(test_pooling_counts_padding),
        cmocka_unit_test(test_short_prompts_keep_all),
        cmocka_unit_test(test_sparsemm_cap_above_prompt),
        cmocka_unit_test(test_adakv_counts_and_rounding),
        cmocka_unit_test(test_adakv_normalize),
        cmocka_unit_test(test_streamingllm_positions),
        cmocka_unit_test(test_h2o),
        cmocka_unit_test(test_mask_heads),
        cmocka_unit_test(test_select_errors),
    };
    return cmocka_run_group_tests_name("methods_select", tests, NULL, NULL);
}
