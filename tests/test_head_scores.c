/*
 * test_head_scores.c: the official visual-head score files (methods/head_scores.c): the paper's
 * llava-v1.6.json loads, means follow numpy, files round-trip, bad files fail with messages
 * that name the key, and SparseMM's worked allocation numbers come out of the shipped file
 * (research/sparsemm.md §2.7).
 */
#include "tests/test_util.h"

#include <unistd.h>

#include "methods/policy.h"

#define LLAVA "tests/fixtures/methods/llava-v1.6.json"

/* A scratch file under build/ holding `text`; returns its path (static buffer). */
static const char *scratch_file(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "build/test_head_scores_%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_load_official_file(void **state) {
    (void)state;
    struct error err = {0};
    struct head_scores *hs;
    CHECK_OK(head_scores_load(LLAVA, &hs, &err), &err);
    assert_int_equal(hs->n_layers, 32);
    assert_int_equal(hs->n_heads, 32);
    assert_int_equal(hs->n_samples, 2); /* the shipped file's oddity: 2 scores per head */
    double mean[32 * 32];
    head_scores_means(hs, mean);
    /* "0-0": [0.0, 0.0006077544977698808], "0-1": [0.0, 4.539432754840755e-05] */
    assert_true(mean[0] == 0.0006077544977698808 / 2);
    assert_true(mean[1] == 4.539432754840755e-05 / 2);
    /* The top head is 14-24 (research/sparsemm.md §1.5). */
    int best = 0;
    for (int i = 1; i < 32 * 32; i++)
        if (mean[i] > mean[best]) best = i;
    assert_int_equal(best, 14 * 32 + 24);
    head_scores_free(hs);
}

/* The head score is np.mean of its list, which sums pairwise: for this list numpy's mean and a
   left-to-right sum differ in the last bits, and the loader must give numpy's. */
static void test_mean_is_numpy_pairwise(void **state) {
    (void)state;
    struct head_scores *hs = head_scores_new(1, 1);
    for (int i = 0; i < 1000; i++) {
        double v = 0.1 * (i % 7) + 1e-3 * i + 1.0 / (i + 3);
        head_scores_add_sample(hs, &v);
    }
    double mean;
    head_scores_means(hs, &mean);
    assert_true(mean == 0x1.9c418823435abp-1);   /* np.mean(v) */
    assert_true(mean != 0x1.9c418823435a5p-1);   /* the naive sum / 1000 */
    head_scores_free(hs);
}

static void test_save_load_roundtrip(void **state) {
    (void)state;
    struct error err = {0};
    struct head_scores *hs = head_scores_new(2, 3);
    double a[6] = {0, 1, 2.5, 0.1, 1e-300, 7}, b[6] = {1, 1, 1, 0.2, 3, 0};
    head_scores_add_sample(hs, a);
    head_scores_add_sample(hs, b);
    const char *path = scratch_file("");
    CHECK_OK(head_scores_save(hs, path, &err), &err);
    char *text;
    size_t len;
    CHECK_OK(read_file(path, &text, &len, &err), &err);
    /* Layer-major keys, lists per head. */
    assert_non_null(strstr(text, "{\"0-0\":[0,1],\"0-1\":[1,1],\"0-2\":[2.5,1],\"1-0\":[0.1,0.2]"));
    free(text);
    struct head_scores *back;
    CHECK_OK(head_scores_load(path, &back, &err), &err);
    assert_int_equal(back->n_layers, 2);
    assert_int_equal(back->n_heads, 3);
    assert_int_equal(back->n_samples, 2);
    double m1[6], m2[6];
    head_scores_means(hs, m1);
    head_scores_means(back, m2);
    for (int i = 0; i < 6; i++) assert_true(m1[i] == m2[i]);
    head_scores_free(back);
    head_scores_free(hs);
    unlink(path);
}

static void expect_load_error(const char *text, const char *needle) {
    struct error err = {0};
    struct head_scores *hs = (struct head_scores *)1;
    const char *path = scratch_file(text);
    assert_int_equal(head_scores_load(path, &hs, &err), -1);
    assert_null(hs);
    assert_msg_contains(err.msg, needle);
    assert_msg_contains(err.msg, path);
    unlink(path);
}

static void test_bad_files(void **state) {
    (void)state;
    expect_load_error("[1,2]", "expected a JSON object");
    expect_load_error("{}", "no head scores");
    expect_load_error("{\"0-0\":[1],\"0-x\":[1]}", "key '0-x'");
    expect_load_error("{\"0-0\":[1],\"0-1\":1}", "key '0-1': expected a list");
    expect_load_error("{\"0-0\":[1],\"0-1\":[]}", "key '0-1' has no scores");
    expect_load_error("{\"0-0\":[1,2],\"0-1\":[1]}", "key '0-1' has 1 scores but key '0-0' has 2");
    expect_load_error("{\"0-0\":[1],\"0-1\":[-0.5]}", "key '0-1' sample 0");
    expect_load_error("{\"0-0\":[1],\"0-1\":[\"a\"]}", "key '0-1' sample 0");
    expect_load_error("{\"0-0\":[1],\"1-1\":[1]}", "2 keys, but layers 0-1 x heads 0-1 make 4 heads");
    expect_load_error("{\"0-0\":[1],\"0-1\":[1],\"1-0\":[1],\"0-1\":[2]}", "head '0-1' appears twice");
    expect_load_error("{\"0-0\":[1], ", "malformed JSON");
}

static void test_shape_mismatch_names_both(void **state) {
    (void)state;
    struct error err = {0};
    struct head_scores *hs;
    CHECK_OK(head_scores_load(LLAVA, &hs, &err), &err);
    CHECK_OK(head_scores_check_shape(hs, LLAVA, 32, 32, &err), &err);
    assert_int_equal(head_scores_check_shape(hs, LLAVA, 28, 28, &err), -1);
    assert_msg_contains(err.msg, "32 layers x 32 heads of scores");
    assert_msg_contains(err.msg, "28 layers x 28 query heads");
    assert_msg_contains(err.msg, LLAVA);
    /* policy_create refuses the mismatch too. */
    struct method_params mp;
    CHECK_OK(method_params_parse(&mp, "sparsemm", NULL, 0, &err), &err);
    struct policy_dims qwen = {28, 28, 4, 128};
    assert_null(policy_create(&mp, 64, &qwen, hs, &err));
    assert_msg_contains(err.msg, "28 layers x 28 query heads");
    head_scores_free(hs);
}

/* research/sparsemm.md §2.7, from the shipped file: L = H = H_kv = 32, w = 32, ratio 0.1. */
static void test_sparsemm_worked_numbers(void **state) {
    (void)state;
    struct error err = {0};
    struct head_scores *hs;
    CHECK_OK(head_scores_load(LLAVA, &hs, &err), &err);
    const struct { int budget, min, max; long sum; } want[] = {
        {64, 3, 766, 32752}, {128, 9, 2298, -1}, {256, 22, 5337, -1},
        {512, 48, -1, -1},   {1024, 99, -1, -1}, {2048, 201, -1, -1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct method_params mp;
        CHECK_OK(method_params_parse(&mp, "sparsemm", NULL, 0, &err), &err);
        struct policy_dims d = {32, 32, 32, 128};
        struct policy *p = policy_create(&mp, want[i].budget, &d, hs, &err);
        assert_non_null(p);
        int cap[32], mn = 1 << 30, mx = -1, argmax = -1;
        long sum = 0;
        for (int l = 0; l < 32; l++) {
            assert_int_equal(policy_capacity(p, l, 1 << 20, cap, &err), 0);
            for (int j = 0; j < 32; j++) {
                sum += cap[j];
                if (cap[j] < mn) mn = cap[j];
                if (cap[j] > mx) { mx = cap[j]; argmax = l * 32 + j; }
            }
        }
        assert_int_equal(mn, want[i].min);
        if (want[i].max >= 0) assert_int_equal(mx, want[i].max);
        if (want[i].sum >= 0) assert_int_equal(sum, want[i].sum);
        assert_int_equal(argmax, 14 * 32 + 24);
        /* The target the sum approximates: L * H_kv * (B - w). */
        assert_true(labs(sum - 32L * 32 * (want[i].budget - 32)) < 32L * 32);
        policy_free(p);
    }
    head_scores_free(hs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_official_file),
        cmocka_unit_test(test_mean_is_numpy_pairwise),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_shape_mismatch_names_both),
        cmocka_unit_test(test_sparsemm_worked_numbers),
    };
    return cmocka_run_group_tests_name("head_scores", tests, NULL, NULL);
}
