/*
 * test_methods_registry.c: one conformance test over the whole method registry (kvpress's idea):
 * for every method, on random attention from random Q/K in several shapes,
 *   - a budget above the prompt is the identity: every head keeps every token;
 *   - a compressed head keeps exactly min(cap, n - w) + w tokens, the window among them;
 *   - kept positions are valid and unique;
 * plus the registry's own invariants (unique names, defaults inside their ranges, flags
 * consistent with the statistic the engine is asked for).
 */
#include "tests/test_util.h"

#include "methods/attn_reference.h"
#include "methods/policy.h"

static uint64_t rng_state = 88172645463325252ull;

static float uniform(void) { /* xorshift64, [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * 0x1.0p-23) - 1.0f;
}

static void test_registry_invariants(void **state) {
    (void)state;
    assert_int_equal(method_count(), 9);
    const char *required[] = {"fullkv", "snapkv", "pyramidkv", "adakv", "sparsemm", "random", "mask", "streamingllm", "h2o"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        assert_non_null(method_find(required[i]));
        assert_non_null(strstr(method_names(), required[i]));
    }
    assert_null(method_find("nope"));
    assert_null(method_at(method_count()));
    for (int i = 0; i < method_count(); i++) {
        const struct method *m = method_at(i);
        assert_true(strlen(m->summary) > 10);
        for (int k = 0; k < i; k++) assert_string_not_equal(m->name, method_at(k)->name);
        assert_true(m->n_params <= METHOD_MAX_PARAMS);
        for (int a = 0; a < m->n_params; a++) {
            const struct method_param *mp = &m->params[a];
            assert_true(mp->min <= mp->def && mp->def <= mp->max);
            assert_true(strlen(mp->help) > 10);
            if (mp->odd) assert_true(fmod(mp->def, 2) == 1);
            for (int b = 0; b < a; b++) assert_string_not_equal(mp->name, m->params[b].name);
        }
        assert_true(m->full_cache || m->capacity);
        if (m->stat == STAT_WINDOW) assert_true(method_param_index(m, "kernel") >= 0 && method_param_index(m, "window") >= 0);
    }
}

struct shape {
    int L, H, Hkv, n, d;
};

/* Every method, every budget, every layer of one random prompt. */
static void check_shape(const struct shape *sh) {
    const int n = sh->n;
    float *q = xmalloc((size_t)n * sh->H * sh->d * sizeof *q), *k = xmalloc((size_t)n * sh->Hkv * sh->d * sizeof *k);
    float *wa = xmalloc((size_t)sh->H * n * sizeof *wa), *acc = xmalloc((size_t)sh->H * n * sizeof *acc);
    int *count = xmalloc(sh->Hkv * sizeof *count);
    int32_t **idx = xmalloc(sh->Hkv * sizeof *idx);
    for (int j = 0; j < sh->Hkv; j++) idx[j] = xmalloc((size_t)n * sizeof **idx);
    char *seen = xmalloc((size_t)n);
    struct head_scores *hs = head_scores_new(sh->L, sh->H);
    double *score = xmalloc((size_t)sh->L * sh->H * sizeof *score);
    for (int i = 0; i < sh->L * sh->H; i++) score[i] = uniform() + 1;
    head_scores_add_sample(hs, score);
    const int budgets[] = {33, 40, 48, n - 1, n, n + 1, n + 7, 4096};
    for (int mi = 0; mi < method_count(); mi++) {
        const struct method *m = method_at(mi);
        for (size_t bi = 0; bi < sizeof budgets / sizeof budgets[0]; bi++) {
            const int B = budgets[bi];
            struct error err = {0};
            struct method_params mp;
            method_params_default(&mp, m);
            struct policy_dims dims = {sh->L, sh->H, sh->Hkv, sh->d};
            struct policy *p = policy_create(&mp, B, &dims, hs, &err);
            if (!p) fail_msg("%s B=%d: %s", m->name, B, err.msg);
            for (int l = 0; l < sh->L; l++) {
                for (size_t i = 0; i < (size_t)n * sh->H * sh->d; i++) q[i] = 3 * uniform();
                for (size_t i = 0; i < (size_t)n * sh->Hkv * sh->d; i++) k[i] = 3 * uniform();
                if (p->kv.need_window_attn) window_attn_from_qk(q, k, n, sh->H, sh->Hkv, sh->d, p->kv.window, wa);
                if (p->kv.need_accum_attn) accum_attn_from_qk(q, k, n, sh->H, sh->Hkv, sh->d, acc);
                struct kv_layer_scores s = {l, n, sh->H, sh->Hkv, sh->d, p->kv.window,
                                            p->kv.need_window_attn ? wa : NULL, p->kv.need_accum_attn ? acc : NULL};
                struct kv_keep keep = {sh->Hkv, count, idx};
                if (p->kv.select(p->kv.ctx, &s, &keep, &err)) fail_msg("%s B=%d layer %d: %s", m->name, B, l, err.msg);
                const int compressed = policy_compresses(p, l, n);
                if (B > n || m->full_cache) assert_false(compressed); /* identity */
                for (int j = 0; j < sh->Hkv; j++) {
                    const int want = compressed ? policy_kept(p, l, n, p->cap[j]) : n;
                    if (count[j] != want)
                        fail_msg("%s B=%d n=%d layer %d head %d: kept %d, capacity says %d", m->name, B, n, l, j,
                                 count[j], want);
                    memset(seen, 0, (size_t)n);
                    for (int i = 0; i < count[j]; i++) {
                        if (idx[j][i] < 0 || idx[j][i] >= n || seen[idx[j][i]]++)
                            fail_msg("%s B=%d layer %d head %d: position %d invalid or repeated", m->name, B, l, j,
                                     idx[j][i]);
                    }
                    const int window = compressed ? p->window : n;
                    for (int t = n - window; t < n; t++)
                        if (!seen[t]) fail_msg("%s B=%d layer %d head %d: window position %d dropped", m->name, B, l, j, t);
                }
            }
            policy_free(p);
        }
    }
    for (int j = 0; j < sh->Hkv; j++) free(idx[j]);
    free(idx);
    free(count);
    free(q);
    free(k);
    free(wa);
    free(acc);
    free(seen);
    free(score);
    head_scores_free(hs);
}

static void test_conformance(void **state) {
    (void)state;
    const struct shape shapes[] = {
        {2, 4, 2, 70, 8},  /* GQA */
        {3, 3, 3, 41, 4},  /* MHA, odd sizes */
        {1, 6, 2, 97, 4},  /* one layer, groups of 3 */
        {2, 2, 1, 160, 8}, /* caps far below the prompt */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_shape(&shapes[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_invariants),
        cmocka_unit_test(test_conformance),
    };
    return cmocka_run_group_tests_name("methods_registry", tests, NULL, NULL);
}
