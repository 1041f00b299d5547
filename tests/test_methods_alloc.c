/*
 * test_methods_alloc.c: each method's capacity step on cases worked by hand: per (layer, KV
 * head) selected-token counts, the keep-all rules, and the per-run state of PyramidKV's
 * official first-prompt quirk.
 */
#include "tests/test_util.h"

#include "methods/policy.h"
#include "methods/sparsemm.h"

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

/* Selected tokens of every head of `layer` (all heads of these methods agree within a layer). */
static int layer_cap(struct policy *p, int layer, int n) {
    struct error err = {0};
    int cap[64];
    assert_int_equal(policy_capacity(p, layer, n, cap, &err), 0);
    for (int j = 1; j < p->dims.n_kv_heads; j++) assert_int_equal(cap[j], cap[0]);
    return cap[0];
}

static void test_snapkv_and_h2o_uniform(void **state) {
    (void)state;
    struct policy *p = make("snapkv", 64, 4, 8, 2, NULL, NULL, 0);
    for (int l = 0; l < 4; l++) assert_int_equal(layer_cap(p, l, 1000), 32);
    assert_int_equal(policy_kept(p, 0, 1000, 32), 64);
    assert_int_equal(policy_kept(p, 0, 63, 32), 63);   /* n < B: not compressed */
    assert_int_equal(policy_kept(p, 0, 64, 32), 64);   /* n == B: compressed, keeps all anyway */
    assert_false(policy_compresses(p, 0, 63));
    assert_true(policy_compresses(p, 0, 64));
    policy_free(p);
    const char *w8[] = {"window=8"};
    p = make("h2o", 40, 2, 2, 2, NULL, w8, 1);
    assert_int_equal(layer_cap(p, 1, 500), 32);
    assert_int_equal(policy_kept(p, 1, 500, 32), 40);
    policy_free(p);
}

static void test_fullkv_keeps_all(void **state) {
    (void)state;
    struct policy *p = make("fullkv", 0, 2, 4, 4, NULL, NULL, 0);
    assert_int_equal(layer_cap(p, 0, 777), 777);
    assert_int_equal(policy_kept(p, 1, 777, 5), 777);
    assert_false(p->kv.need_window_attn);
    assert_false(p->kv.need_accum_attn);
    policy_free(p);
}

/* research/baselines.md §2.1 worked examples (KVCache-Factory's w = 8, 32 layers). */
static void test_pyramid_schedule(void **state) {
    (void)state;
    const char *w8[] = {"window=8"};
    struct policy *p = make("pyramidkv", 128, 32, 32, 8, NULL, w8, 1);
    assert_int_equal(layer_cap(p, 0, 8000), 234);
    assert_int_equal(layer_cap(p, 1, 8000), 227); /* steps 7 */
    assert_int_equal(layer_cap(p, 31, 8000), 17);
    long sum = 0;
    for (int l = 0; l < 32; l++) sum += layer_cap(p, l, 8000);
    assert_int_equal(sum, 4016);               /* mean 125.5: floor(steps) leaves it above B - w */
    /* L = 241: max clipped to n - w = 233, min = 2*120 - 233 = 7 */
    assert_int_equal(layer_cap(p, 0, 241), 233);
    assert_int_equal(layer_cap(p, 31, 241), 16);
    /* 128 <= n < 2*(B-w) = 240: the uniform fallback */
    assert_int_equal(layer_cap(p, 0, 239), 120);
    assert_int_equal(layer_cap(p, 31, 239), 120);
    policy_free(p);
    p = make("pyramidkv", 2048, 32, 32, 8, NULL, w8, 1);
    assert_int_equal(layer_cap(p, 0, 3000), 2040);  /* uniform: 3000 < 4080 */
    assert_int_equal(layer_cap(p, 0, 8000), 3978);
    assert_int_equal(layer_cap(p, 31, 8000), 103);  /* steps 125 */
    policy_free(p);
    /* One layer: no slope, the base. */
    p = make("pyramidkv", 64, 1, 4, 4, NULL, NULL, 0);
    assert_int_equal(layer_cap(p, 0, 5000), 32);
    policy_free(p);
}

/* freeze_first=1: the official code computes the schedule at the first prompt and reuses it;
   a short first prompt leaves a clipped, even inverted, schedule for the whole run. */
static void test_pyramid_freeze_first_quirk(void **state) {
    (void)state;
    const char *frozen[] = {"window=8", "freeze_first=1"};
    struct policy *p = make("pyramidkv", 128, 32, 32, 8, NULL, frozen, 2);
    /* First prompt n = 241: clipped schedule 233 .. 16, no uniform fallback. */
    assert_int_equal(layer_cap(p, 0, 241), 233);
    /* A later prompt of 8000 reuses it (per prompt it would be 234 .. 17). */
    assert_int_equal(layer_cap(p, 0, 8000), 233);
    assert_int_equal(layer_cap(p, 31, 8000), 16);
    /* Each layer compresses once the prompt reaches its own cap + w, not B. */
    assert_true(policy_compresses(p, 31, 24));
    assert_false(policy_compresses(p, 31, 23));
    assert_false(policy_compresses(p, 0, 240));
    policy_free(p);

    /* A first prompt shorter than B (n = 100): max = 92, min = 240 - 92 = 148,
       steps = (92 - 148) // 31 = -2 (floor): caps grow with depth, 92 .. 154. */
    p = make("pyramidkv", 128, 32, 32, 8, NULL, frozen, 2);
    assert_true(policy_compresses(p, 0, 100));       /* 100 >= 92 + 8 */
    assert_int_equal(layer_cap(p, 0, 5000), 92);
    assert_int_equal(layer_cap(p, 31, 5000), 154);
    policy_free(p);

    /* Without the flag the same sequence is recomputed per prompt. */
    const char *w8[] = {"window=8"};
    p = make("pyramidkv", 128, 32, 32, 8, NULL, w8, 1);
    assert_int_equal(layer_cap(p, 0, 241), 233);
    assert_int_equal(layer_cap(p, 0, 8000), 234);
    assert_false(policy_compresses(p, 0, 100));
    policy_free(p);
}

/* Hand-worked: L = 2, H = 2, H_kv = 1 (one group of 2), B = 42, w = 32 -> base 10, ratio 0.1:
   min = 1, pool = 9 * 2 * 1 = 18. Scores {3, 0, 1, 0} -> S = {0.75, 0.25}:
   cap = round(13.5 + 1) = 14 and round(4.5 + 1) = 6 (both ties, to even), sum 20 = L*H_kv*base. */
static void test_sparsemm_allocation_by_hand(void **state) {
    (void)state;
    struct error err = {0};
    const double scores[4] = {3, 0, 1, 0};
    int cap[2];
    CHECK_OK(sparsemm_allocation(scores, 2, 2, 1, 10, 0.1, cap, &err), &err);
    assert_int_equal(cap[0], 14);
    assert_int_equal(cap[1], 6);
    /* GQA: H = 4, H_kv = 2 -> groups {0,1} {2,3}; one layer, base 10 -> min 1, pool 18:
       S = {0.1 + 0.2, 0.3 + 0.4} -> round(5.4 + 1) = 6, round(12.6 + 1) = 14. */
    const double g[4] = {1, 2, 3, 4};
    CHECK_OK(sparsemm_allocation(g, 1, 4, 2, 10, 0.1, cap, &err), &err);
    assert_int_equal(cap[0], 6);
    assert_int_equal(cap[1], 14);
    /* ratio 1: everything uniform, min = base, no pool */
    CHECK_OK(sparsemm_allocation(g, 1, 4, 2, 10, 1.0, cap, &err), &err);
    assert_int_equal(cap[0], 10);
    assert_int_equal(cap[1], 10);
    /* all-zero scores cannot be normalised */
    const double zero[4] = {0};
    assert_int_equal(sparsemm_allocation(zero, 1, 4, 2, 10, 0.1, cap, &err), -1);
    assert_msg_contains(err.msg, "sum to 0");
}

static void test_sparsemm_policy_caps_and_no_compression(void **state) {
    (void)state;
    struct head_scores *hs = head_scores_new(2, 2);
    const double s[4] = {3, 0, 1, 0};
    head_scores_add_sample(hs, s);
    struct policy *p = make("sparsemm", 42, 2, 2, 1, hs, NULL, 0);
    head_scores_free(hs); /* the policy keeps its own copy */
    struct error err = {0};
    int cap[1];
    CHECK_OK(policy_capacity(p, 0, 1000, cap, &err), &err);
    assert_int_equal(cap[0], 14);
    CHECK_OK(policy_capacity(p, 1, 1000, cap, &err), &err);
    assert_int_equal(cap[0], 6);
    /* cap above the prompt's candidates keeps everything; the surplus is not redistributed */
    assert_int_equal(policy_kept(p, 0, 44, 14), 44);
    assert_int_equal(policy_kept(p, 1, 44, 6), 38);
    assert_int_equal(policy_kept(p, 1, 41, 6), 41); /* n < B */
    policy_free(p);
}

static void test_random_is_seeded(void **state) {
    (void)state;
    const char *s1[] = {"seed=1"}, *s2[] = {"seed=2"};
    struct policy *a = make("random", 64, 4, 8, 8, NULL, s1, 1), *b = make("random", 64, 4, 8, 8, NULL, s1, 1),
                  *c = make("random", 64, 4, 8, 8, NULL, s2, 1);
    struct error err = {0};
    int ca[8], cb[8], cc[8], differ = 0;
    long sum = 0;
    for (int l = 0; l < 4; l++) {
        CHECK_OK(policy_capacity(a, l, 1000, ca, &err), &err);
        CHECK_OK(policy_capacity(b, l, 1000, cb, &err), &err);
        CHECK_OK(policy_capacity(c, l, 1000, cc, &err), &err);
        for (int j = 0; j < 8; j++) {
            assert_int_equal(ca[j], cb[j]);
            assert_true(ca[j] >= 3); /* floor(0.1 * 32) */
            differ += ca[j] != cc[j];
            sum += ca[j];
        }
    }
    assert_true(differ > 0);
    assert_true(labs(sum - 4 * 8 * 32) <= 16); /* total ~ L*H_kv*base, up to rounding */
    policy_free(a);
    policy_free(b);
    policy_free(c);
}

static void test_streamingllm(void **state) {
    (void)state;
    struct policy *p = make("streamingllm", 8, 2, 2, 2, NULL, NULL, 0);
    assert_int_equal(p->window, 4);          /* recent = B - sinks */
    assert_int_equal(layer_cap(p, 0, 20), 4);
    assert_int_equal(policy_kept(p, 0, 20, 4), 8);
    assert_int_equal(policy_kept(p, 0, 7, 4), 7);
    assert_false(p->kv.need_window_attn);
    policy_free(p);
}

/* AdaKV without scores (the allocation command): only the floor is known. */
static void test_adakv_floor_without_scores(void **state) {
    (void)state;
    struct error err = {0};
    struct policy *p = make("adakv", 128, 2, 4, 4, NULL, NULL, 0);
    int cap[4];
    assert_int_equal(policy_capacity(p, 0, 1000, cap, &err), 1);
    assert_int_equal(cap[0], 19);  /* int(96 * 0.2) = 19 */
    policy_free(p);
    const char *skip[] = {"skip=1"};
    p = make("adakv", 128, 2, 4, 4, NULL, skip, 1);
    assert_int_equal(policy_capacity(p, 0, 1000, cap, &err), 0);
    assert_int_equal(cap[3], 96);  /* skipped layers are uniform */
    assert_int_equal(policy_capacity(p, 1, 1000, cap, &err), 1);
    policy_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapkv_and_h2o_uniform),
        cmocka_unit_test(test_fullkv_keeps_all),
        cmocka_unit_test(test_pyramid_schedule),
        cmocka_unit_test(test_pyramid_freeze_first_quirk),
        cmocka_unit_test(test_sparsemm_allocation_by_hand),
        cmocka_unit_test(test_sparsemm_policy_caps_and_no_compression),
        cmocka_unit_test(test_random_is_seeded),
        cmocka_unit_test(test_streamingllm),
        cmocka_unit_test(test_adakv_floor_without_scores),
    };
    return cmocka_run_group_tests_name("methods_alloc", tests, NULL, NULL);
}
