/*
 * test_methods_params.c: `--method NAME --param k=v` parsing and validation (errors name the
 * parameter, the method and the range), the canonical JSON / string forms stored in run records,
 * and policy_create's checks of budget, shape and head scores.
 */
#include "tests/test_util.h"

#include "methods/policy.h"

static void expect_parse_error(const char *method, const char *setting, const char *needle) {
    struct error err = {0};
    struct method_params p;
    const char *s[] = {setting};
    assert_int_equal(method_params_parse(&p, method, s, setting ? 1 : 0, &err), -1);
    assert_msg_contains(err.msg, needle);
}

static void test_defaults_and_settings(void **state) {
    (void)state;
    struct error err = {0};
    struct method_params p;
    CHECK_OK(method_params_parse(&p, "adakv", NULL, 0, &err), &err);
    assert_true(method_param(&p, "window") == 32);
    assert_true(method_param(&p, "kernel") == 5);
    assert_true(method_param(&p, "floor") == 0.2);
    assert_true(method_param(&p, "normalize") == 1);
    const char *s[] = {"floor=0.35", "normalize=off", "kernel=7", "floor=0.25"};
    CHECK_OK(method_params_parse(&p, "adakv", s, 4, &err), &err);
    assert_true(method_param(&p, "floor") == 0.25); /* the later setting wins */
    assert_true(method_param(&p, "normalize") == 0);
    assert_true(method_param(&p, "kernel") == 7);
    CHECK_OK(method_params_set(&p, "normalize=TRUE", &err), &err);
    assert_true(method_param(&p, "normalize") == 1);
    CHECK_OK(method_params_set(&p, "window=1e2", &err), &err);
    assert_true(method_param(&p, "window") == 100);
}

static void test_errors_name_the_parameter(void **state) {
    (void)state;
    expect_parse_error("snapkvv", NULL, "unknown method 'snapkvv' (methods: fullkv, snapkv, pyramidkv");
    expect_parse_error("snapkv", "windw=3", "method snapkv has no parameter 'windw' (parameters: window, kernel)");
    expect_parse_error("fullkv", "window=3", "(parameters: none)");
    expect_parse_error("snapkv", "window", "expected name=value");
    expect_parse_error("snapkv", "=3", "expected name=value");
    expect_parse_error("snapkv", "window=", "parameter 'window' of method snapkv: '' is not valid");
    expect_parse_error("snapkv", "window=3.5", "'3.5' is not valid (int in [1, 8192], default 32)");
    expect_parse_error("snapkv", "window=0", "parameter 'window' of method snapkv: 0 is out of range");
    expect_parse_error("snapkv", "kernel=4", "4 is out of range (odd int in [1, 63], default 5)");
    expect_parse_error("adakv", "floor=1.5", "parameter 'floor' of method adakv: 1.5 is out of range (real in [0, 1]");
    expect_parse_error("adakv", "floor=nan", "'nan' is not valid");
    expect_parse_error("adakv", "normalize=2", "'2' is not valid (0 or 1");
    expect_parse_error("random", "seed=-1", "out of range");
}

static void test_serialisation(void **state) {
    (void)state;
    struct error err = {0};
    struct method_params p;
    const char *s[] = {"ratio=0.3"};
    CHECK_OK(method_params_parse(&p, "sparsemm", s, 1, &err), &err);
    char *json = method_params_json(&p), *str = method_params_string(&p);
    assert_string_equal(json, "{\"window\":32,\"kernel\":5,\"ratio\":0.3}");
    assert_string_equal(str, "window=32,kernel=5,ratio=0.3");
    free(json);
    free(str);
    CHECK_OK(method_params_parse(&p, "fullkv", NULL, 0, &err), &err);
    json = method_params_json(&p);
    str = method_params_string(&p);
    assert_string_equal(json, "{}");
    assert_string_equal(str, "");
    free(json);
    free(str);
    /* The string form parses back to the same values. */
    CHECK_OK(method_params_parse(&p, "pyramidkv", (const char *[]){"beta=7", "freeze_first=1"}, 2, &err), &err);
    str = method_params_string(&p);
    assert_string_equal(str, "window=32,kernel=5,beta=7,freeze_first=1");
    free(str);
}

static void test_policy_config_json(void **state) {
    (void)state;
    struct error err = {0};
    struct method_params p;
    CHECK_OK(method_params_parse(&p, "snapkv", (const char *[]){"window=16"}, 1, &err), &err);
    struct policy_dims d = {2, 4, 2, 8};
    struct policy *pol = policy_create(&p, 64, &d, NULL, &err);
    assert_non_null(pol);
    char *json = policy_config_json(pol);
    assert_string_equal(json, "{\"method\":\"snapkv\",\"budget\":64,\"params\":{\"window\":16,\"kernel\":5}}");
    free(json);
    policy_free(pol);
    policy_free(NULL);
}

static void expect_create_error(const char *method, int budget, struct policy_dims d, const struct head_scores *hs,
                                const char *needle) {
    struct error err = {0};
    struct method_params p;
    CHECK_OK(method_params_parse(&p, method, NULL, 0, &err), &err);
    assert_null(policy_create(&p, budget, &d, hs, &err));
    assert_msg_contains(err.msg, needle);
}

static void test_policy_create_checks(void **state) {
    (void)state;
    struct policy_dims ok = {2, 4, 2, 8};
    expect_create_error("snapkv", 32, ok, NULL, "budget 32: method snapkv needs a budget above its window of 32");
    expect_create_error("snapkv", -1, ok, NULL, "budget -1");
    expect_create_error("streamingllm", 4, ok, NULL, "budget 4: streamingllm needs a budget above its 4 sink");
    expect_create_error("sparsemm", 64, ok, NULL, "method sparsemm needs visual-head scores");
    expect_create_error("mask", 0, ok, NULL, "method mask needs visual-head scores");
    expect_create_error("snapkv", 64, (struct policy_dims){2, 6, 4, 8}, NULL, "6 query heads are not a multiple of 4");
    expect_create_error("snapkv", 64, (struct policy_dims){0, 4, 4, 8}, NULL, "must be positive");
    struct head_scores *zero = head_scores_new(2, 4);
    head_scores_add_sample(zero, (double[8]){0});
    expect_create_error("sparsemm", 64, ok, zero, "cannot be normalised");
    head_scores_free(zero);
    /* Full-cache methods take any budget, and the engine is asked for no statistic. */
    struct error err = {0};
    struct method_params p;
    CHECK_OK(method_params_parse(&p, "fullkv", NULL, 0, &err), &err);
    struct policy *pol = policy_create(&p, 0, &ok, NULL, &err);
    assert_non_null(pol);
    assert_false(pol->kv.need_window_attn || pol->kv.need_accum_attn);
    assert_null(pol->kv.query_mask);
    policy_free(pol);
    /* A window method asks for window_attn with its own window. */
    CHECK_OK(method_params_parse(&p, "pyramidkv", (const char *[]){"window=24"}, 1, &err), &err);
    pol = policy_create(&p, 64, &ok, NULL, &err);
    assert_true(pol->kv.need_window_attn);
    assert_int_equal(pol->kv.window, 24);
    policy_free(pol);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_settings),
        cmocka_unit_test(test_errors_name_the_parameter),
        cmocka_unit_test(test_serialisation),
        cmocka_unit_test(test_policy_config_json),
        cmocka_unit_test(test_policy_create_checks),
    };
    return cmocka_run_group_tests_name("methods_params", tests, NULL, NULL);
}
