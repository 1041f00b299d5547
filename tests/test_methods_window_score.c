/*
 * test_methods_window_score.c: the shared observation-window scoring (methods/window_score.c)
 * and the attention-statistics reference (methods/attn_reference.c) on cases worked by hand.
 */
#include "tests/test_util.h"

#include "methods/attn_reference.h"
#include "methods/window_score.h"

/* Two query heads share one KV head: the group mean is taken per position, candidates only. */
static void test_group_mean(void **state) {
    (void)state;
    /* n = 5, candidates 0..2 (w = 2); heads 0,1 -> KV 0, heads 2,3 -> KV 1 */
    const float attn[4 * 5] = {
        0.5f, 0.25f, 0.0f, 9, 9,
        0.0f, 0.25f, 0.5f, 9, 9,
        1.0f, 0.0f, 0.0f, 9, 9,
        0.5f, 0.5f, 0.0f, 9, 9,
    };
    float out[2 * 3];
    scores_group_mean(attn, 5, 4, 2, 3, out);
    const float want[6] = {0.25f, 0.25f, 0.25f, 0.75f, 0.25f, 0.0f};
    for (int i = 0; i < 6; i++) assert_true(out[i] == want[i]);
}

/* avg_pool1d(kernel 3, padding 1, count_include_pad=True): edges divide by 3, not by 2. */
static void test_avg_pool_counts_padding(void **state) {
    (void)state;
    float x[5] = {3, 6, 0, 0, 9}, tmp[5];
    scores_avg_pool(x, 1, 5, 3, tmp);
    const float want[5] = {3, 3, 2, 3, 3}; /* (0+3+6)/3, (3+6+0)/3, (6+0+0)/3, (0+0+9)/3, (0+9+0)/3 */
    for (int i = 0; i < 5; i++) assert_true(fabsf(x[i] - want[i]) < 1e-6f);
    /* Kernel 5 on a row of 3: every output sees the whole row, divided by 5. */
    float y[3] = {5, 10, 20};
    scores_avg_pool(y, 1, 3, 5, tmp);
    for (int i = 0; i < 3; i++) assert_true(fabsf(y[i] - 7) < 1e-6f);
    /* Kernel 1 is the identity. */
    float z[3] = {1, 2, 3};
    scores_avg_pool(z, 1, 3, 1, tmp);
    assert_true(z[0] == 1 && z[1] == 2 && z[2] == 3);
}

/* Ranking is by score, ties toward the lower position; the choice adds the window. */
static void test_rank_and_keep(void **state) {
    (void)state;
    const float s[6] = {0.1f, 0.3f, 0.1f, 0.3f, 0.0f, 0.2f};
    int order[6];
    struct scored buf[6];
    scores_rank(s, 6, order, buf);
    const int want[6] = {1, 3, 5, 0, 2, 4};
    for (int i = 0; i < 6; i++) assert_int_equal(order[i], want[i]);
    int32_t idx[16];
    /* n = 9: candidates 0..5, window 6..8 */
    assert_int_equal(keep_top_and_window(order, 6, 3, 9, idx), 6);
    const int32_t kept[6] = {1, 3, 5, 6, 7, 8};
    for (int i = 0; i < 6; i++) assert_int_equal(idx[i], kept[i]);
    /* A cap above the candidates keeps every token once. */
    assert_int_equal(keep_top_and_window(order, 6, 100, 9, idx), 9);
    /* Cap 0 keeps the window only. */
    assert_int_equal(keep_top_and_window(order, 6, 0, 9, idx), 3);
    assert_int_equal(idx[0], 6);
}

/* The whole scoring for one layer: GQA mean, then pooling over candidates only. */
static void test_window_score(void **state) {
    (void)state;
    /* H = 2 -> H_kv = 1, n = 6, w = 2, kernel 3: candidates 0..3 */
    const float wa[2 * 6] = {
        0.2f, 0.0f, 0.4f, 0.2f, 5, 5,
        0.0f, 0.2f, 0.0f, 0.2f, 5, 5,
    };
    float out[4], tmp[4];
    window_score(wa, 6, 2, 1, 2, 3, out, tmp);
    /* group mean {0.1, 0.1, 0.2, 0.2}; pooled {0.2/3, 0.4/3, 0.5/3, 0.4/3}: the window's own
       large values never leak into the candidates. */
    const float want[4] = {0.2f / 3, 0.4f / 3, 0.5f / 3, 0.4f / 3};
    for (int i = 0; i < 4; i++) assert_true(fabsf(out[i] - want[i]) < 1e-6f);
}

/* window_attn and accum_attn from Q/K on a case small enough to do by hand: head_dim 1,
   q = k = 0 gives uniform causal rows, so row i puts 1/(i+1) on each key 0..i. */
static void test_attention_reference_uniform(void **state) {
    (void)state;
    const int n = 4;
    float q[4] = {0}, k[4] = {0}, wa[4], acc[4];
    window_attn_from_qk(q, k, n, 1, 1, 1, 2, wa);
    /* queries 2 and 3: rows {1/3,1/3,1/3,0} and {1/4,...}; mean */
    const float want_w[4] = {(1.f / 3 + 1.f / 4) / 2, (1.f / 3 + 1.f / 4) / 2, (1.f / 3 + 1.f / 4) / 2, 1.f / 8};
    for (int t = 0; t < n; t++) assert_true(fabsf(wa[t] - want_w[t]) < 1e-7f);
    accum_attn_from_qk(q, k, n, 1, 1, 1, acc);
    /* key t collects 1/(i+1) from every query i >= t */
    const float want_a[4] = {1 + 1.f / 2 + 1.f / 3 + 1.f / 4, 1.f / 2 + 1.f / 3 + 1.f / 4, 1.f / 3 + 1.f / 4, 1.f / 4};
    for (int t = 0; t < n; t++) assert_true(fabsf(acc[t] - want_a[t]) < 1e-6f);
    /* A window longer than the prompt averages over every query. */
    window_attn_from_qk(q, k, n, 1, 1, 1, 10, wa);
    for (int t = 0; t < n; t++) assert_true(fabsf(wa[t] - want_a[t] / 4) < 1e-7f);
}

/* GQA in the reference: query head h reads KV head h / (H / H_kv). With head_dim 1, a large key
   at one position makes the head whose query is positive look there. */
static void test_attention_reference_gqa(void **state) {
    (void)state;
    const int n = 3, H = 2, Hkv = 2;
    /* q: [n][H], k: [n][Hkv]; head 0 query +10 reads KV 0 (big at t=0); head 1 reads KV 1 (big at t=1) */
    const float q[3 * 2] = {10, 10, 10, 10, 10, 10};
    const float k[3 * 2] = {1, 0, 0, 1, 0, 0};
    float wa[2 * 3];
    window_attn_from_qk(q, k, n, H, Hkv, 1, 1, wa);
    /* last query only: head 0 softmax(10, 0, 0), head 1 softmax(0, 10, 0) */
    const double e = exp(10.0), z = e + 2;
    assert_true(fabs(wa[0] - e / z) < 1e-6 && fabs(wa[1] - 1 / z) < 1e-6);
    assert_true(fabs(wa[3 + 1] - e / z) < 1e-6 && fabs(wa[3 + 0] - 1 / z) < 1e-6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_mean),
        cmocka_unit_test(test_avg_pool_counts_padding),
        cmocka_unit_test(test_rank_and_keep),
        cmocka_unit_test(test_window_score),
        cmocka_unit_test(test_attention_reference_uniform),
        cmocka_unit_test(test_attention_reference_gqa),
    };
    return cmocka_run_group_tests_name("methods_window_score", tests, NULL, NULL);
}
