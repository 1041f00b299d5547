/*
 * test_methods_ref.c: every method's selections against the independent Python reference
 * (tools/ref_methods/ref_methods.py; fixtures in tests/fixtures/methods/ref_*).
 *
 * Per case the fixture holds random fp32 Q/K for a few layers. The test computes window_attn
 * and accum_attn from them with methods/attn_reference.c (checked here against the script's
 * float64 values), feeds them to the C policy of each recorded run (method, budget, parameters)
 * and requires the kept positions of every (layer, KV head) to equal the reference's as sets,
 * and the mask ablation's masked heads to match.
 */
#include "tests/test_util.h"

#include <cjson/cJSON.h>

#include "engine/json.h"
#include "methods/attn_reference.h"
#include "methods/policy.h"

#define DIR "tests/fixtures/methods/"
#define REGEN "regenerate with: python3 tools/ref_methods/ref_methods.py"

struct ref_case {
    const char *name;
    int L, H, Hkv, n, d, w;
    float *q, *k;        /* [L][n][H*d], [L][n][Hkv*d] */
    float *wa, *acc;     /* [L][H][n] window_attn (w) and accum_attn, float64 reference rounded */
    struct head_scores *scores;
};

static cJSON *load_doc(void) {
    struct error err = {0};
    cJSON *doc = json_load_file(DIR "ref_methods.json", &err);
    if (!doc) fail_msg("%s (%s)", err.msg, REGEN);
    if (strcmp(json_str(doc, "magic", ""), "sparsemm-ref-methods") || json_int(doc, "version", 0) != 1)
        fail_msg("ref_methods.json: wrong magic or version; %s", REGEN);
    return doc;
}

static float *read_floats(FILE *f, size_t count, const char *what) {
    float *p = xmalloc(count * sizeof *p);
    if (fread(p, sizeof *p, count, f) != count) fail_msg("%s: truncated; %s", what, REGEN);
    return p;
}

static void load_case(const cJSON *c, struct ref_case *rc) {
    rc->name = json_str(c, "name", "?");
    rc->L = json_int(c, "layers", 0);
    rc->H = json_int(c, "heads", 0);
    rc->Hkv = json_int(c, "kv_heads", 0);
    rc->n = json_int(c, "n", 0);
    rc->d = json_int(c, "head_dim", 0);
    char path[256];
    snprintf(path, sizeof path, DIR "%s", json_str(c, "file", ""));
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s: missing; %s", path, REGEN);
    char magic[8];
    int32_t hdr[7];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "SMMMETH1", 8) || fread(hdr, 4, 7, f) != 7 || hdr[0] != 1)
        fail_msg("%s: wrong magic or version; %s", path, REGEN);
    if (hdr[1] != rc->L || hdr[2] != rc->H || hdr[3] != rc->Hkv || hdr[4] != rc->n || hdr[5] != rc->d)
        fail_msg("%s: header disagrees with ref_methods.json; %s", path, REGEN);
    rc->w = hdr[6];
    const size_t L = rc->L, n = rc->n;
    rc->q = read_floats(f, L * n * rc->H * rc->d, path);
    rc->k = read_floats(f, L * n * rc->Hkv * rc->d, path);
    rc->wa = read_floats(f, L * rc->H * n, path);
    rc->acc = read_floats(f, L * rc->H * n, path);
    fclose(f);
    const cJSON *hs = cJSON_GetObjectItem(c, "head_scores");
    assert_int_equal(cJSON_GetArraySize(hs), rc->L * rc->H);
    double *s = xmalloc((size_t)rc->L * rc->H * sizeof *s);
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, hs) s[i++] = v->valuedouble;
    rc->scores = head_scores_new(rc->L, rc->H);
    head_scores_add_sample(rc->scores, s);
    free(s);
}

static void free_case(struct ref_case *rc) {
    free(rc->q);
    free(rc->k);
    free(rc->wa);
    free(rc->acc);
    head_scores_free(rc->scores);
}

static const float *layer_q(const struct ref_case *rc, int l) { return rc->q + (size_t)l * rc->n * rc->H * rc->d; }
static const float *layer_k(const struct ref_case *rc, int l) { return rc->k + (size_t)l * rc->n * rc->Hkv * rc->d; }

/* The C statistics equal the script's float64 ones up to fp32 rounding. */
static void test_attention_statistics(void **state) {
    (void)state;
    cJSON *doc = load_doc();
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        struct ref_case rc;
        load_case(c, &rc);
        const size_t per_layer = (size_t)rc.H * rc.n;
        float *wa = xmalloc(per_layer * sizeof *wa), *acc = xmalloc(per_layer * sizeof *acc);
        for (int l = 0; l < rc.L; l++) {
            window_attn_from_qk(layer_q(&rc, l), layer_k(&rc, l), rc.n, rc.H, rc.Hkv, rc.d, rc.w, wa);
            accum_attn_from_qk(layer_q(&rc, l), layer_k(&rc, l), rc.n, rc.H, rc.Hkv, rc.d, acc);
            double ew = rel_l2(wa, rc.wa + l * per_layer, per_layer);
            double ea = rel_l2(acc, rc.acc + l * per_layer, per_layer);
            if (ew > 1e-6 || ea > 1e-6)
                fail_msg("case %s layer %d: window_attn rel err %g, accum_attn rel err %g", rc.name, l, ew, ea);
        }
        free(wa);
        free(acc);
        free_case(&rc);
    }
    cJSON_Delete(doc);
}

static int hex_bit(const char *hex, int t) {
    char c = hex[t / 4];
    int v = c <= '9' ? c - '0' : c - 'a' + 10;
    return (v >> (t % 4)) & 1;
}

/* Kept positions of one head equal the expected bitmap as a set, each position once. */
static void compare_head(const char *run, int layer, int j, const int32_t *idx, int count, const char *hex, int n) {
    if ((int)strlen(hex) != (n + 3) / 4) fail_msg("%s: layer %d head %d: bitmap length; %s", run, layer, j, REGEN);
    char *seen = xcalloc((size_t)n, 1);
    for (int i = 0; i < count; i++) {
        if (idx[i] < 0 || idx[i] >= n) fail_msg("%s: layer %d head %d: position %d out of range", run, layer, j, idx[i]);
        if (seen[idx[i]]++) fail_msg("%s: layer %d head %d: position %d kept twice", run, layer, j, idx[i]);
    }
    for (int t = 0; t < n; t++)
        if (seen[t] != hex_bit(hex, t))
            fail_msg("%s: layer %d KV head %d: position %d %s by C but not by the reference", run, layer, j, t,
                     seen[t] ? "kept" : "dropped");
    free(seen);
}

static void run_one(const struct ref_case *rc, const cJSON *run, int *n_mask_checked) {
    const char *method = json_str(run, "method", "?");
    const cJSON *params = cJSON_GetObjectItem(run, "params"), *v;
    const char *settings[METHOD_MAX_PARAMS];
    int n_settings = 0;
    cJSON_ArrayForEach(v, params) settings[n_settings++] = v->valuestring;
    char name[256];
    char *joined = cJSON_PrintUnformatted(params);
    snprintf(name, sizeof name, "case %s %s B=%d %s", rc->name, method, json_int(run, "budget", 0), joined);
    cJSON_free(joined);

    struct error err = {0};
    struct method_params mp;
    if (method_params_parse(&mp, method, settings, n_settings, &err)) fail_msg("%s: %s", name, err.msg);
    struct policy_dims dims = {rc->L, rc->H, rc->Hkv, rc->d};
    struct policy *p = policy_create(&mp, json_int(run, "budget", 0), &dims, rc->scores, &err);
    if (!p) fail_msg("%s: %s", name, err.msg);

    const int n = rc->n;
    float *wa = xmalloc((size_t)rc->H * n * sizeof *wa), *acc = xmalloc((size_t)rc->H * n * sizeof *acc);
    int *count = xmalloc((size_t)rc->Hkv * sizeof *count);
    int32_t **idx = xmalloc((size_t)rc->Hkv * sizeof *idx);
    for (int j = 0; j < rc->Hkv; j++) idx[j] = xmalloc((size_t)n * sizeof **idx);
    const cJSON *kept = cJSON_GetObjectItem(run, "kept"), *qmask = cJSON_GetObjectItem(run, "query_mask");
    for (int l = 0; l < rc->L; l++) {
        if (p->kv.need_window_attn)
            window_attn_from_qk(layer_q(rc, l), layer_k(rc, l), n, rc->H, rc->Hkv, rc->d, p->kv.window, wa);
        if (p->kv.need_accum_attn) accum_attn_from_qk(layer_q(rc, l), layer_k(rc, l), n, rc->H, rc->Hkv, rc->d, acc);
        struct kv_layer_scores s = {l, n, rc->H, rc->Hkv, rc->d, p->kv.window, p->kv.need_window_attn ? wa : NULL,
                                    p->kv.need_accum_attn ? acc : NULL};
        struct kv_keep keep = {rc->Hkv, count, idx};
        if (p->kv.select(p->kv.ctx, &s, &keep, &err)) fail_msg("%s: layer %d: %s", name, l, err.msg);
        const cJSON *row = cJSON_GetArrayItem(kept, l);
        for (int j = 0; j < rc->Hkv; j++)
            compare_head(name, l, j, idx[j], count[j], cJSON_GetArrayItem(row, j)->valuestring, n);
        if (qmask) {
            const uint8_t *m = p->kv.query_mask ? p->kv.query_mask(p->kv.ctx, l) : NULL;
            const cJSON *mrow = cJSON_GetArrayItem(qmask, l);
            for (int h = 0; h < rc->H; h++) {
                int want = cJSON_GetArrayItem(mrow, h)->valueint;
                if ((m ? m[h] : 0) != want) fail_msg("%s: layer %d head %d: query mask %d, want %d", name, l, h, m ? m[h] : 0, want);
                *n_mask_checked += want;
            }
        }
    }
    for (int j = 0; j < rc->Hkv; j++) free(idx[j]);
    free(idx);
    free(count);
    free(wa);
    free(acc);
    policy_free(p);
}

static void test_selections_equal_reference(void **state) {
    (void)state;
    cJSON *doc = load_doc();
    struct ref_case cases[8];
    int n_cases = 0, n_runs = 0, n_masked = 0;
    const cJSON *c, *run;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) load_case(c, &cases[n_cases++]);
    char methods_seen[16] = {0};
    cJSON_ArrayForEach(run, cJSON_GetObjectItem(doc, "runs")) {
        const char *case_name = json_str(run, "case", "");
        struct ref_case *rc = NULL;
        for (int i = 0; i < n_cases; i++)
            if (!strcmp(cases[i].name, case_name)) rc = &cases[i];
        if (!rc) fail_msg("run for unknown case '%s'; %s", case_name, REGEN);
        run_one(rc, run, &n_masked);
        for (int i = 0; i < method_count(); i++)
            if (!strcmp(method_at(i)->name, json_str(run, "method", ""))) methods_seen[i] = 1;
        n_runs++;
    }
    /* The fixture must exercise every registered method, the mask included. */
    for (int i = 0; i < method_count(); i++)
        if (!methods_seen[i]) fail_msg("method %s has no reference runs; %s", method_at(i)->name, REGEN);
    assert_true(n_runs >= 100);
    assert_true(n_masked > 0);
    for (int i = 0; i < n_cases; i++) free_case(&cases[i]);
    cJSON_Delete(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_statistics),
        cmocka_unit_test(test_selections_equal_reference),
    };
    return cmocka_run_group_tests_name("methods_ref", tests, NULL, NULL);
}
