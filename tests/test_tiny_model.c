/*
 * test_tiny_model.c: the shipped embedded model (models/tiny-llava, issue 5) through the whole
 * harness: `sparsemm synth` redraws the evaluation samples of the parity fixture, `sparsemm
 * sweep` answers them under the full cache, and then
 *   - every greedy answer equals transformers' (tests/fixtures/tiny_model/parity.json, written by
 *     tools/train_tiny/make_parity_fixture.py from the same model and the same images);
 *   - each benchmark's mean score on those samples lies in the band committed below, so a model
 *     or engine change that loses the model's reading ability fails here.
 * The synthetic images are not committed: the generator is deterministic, and the options are
 * read from scripts/synth-options.sh exactly as the fixture script and the demo read them.
 */
#include <cjson/cJSON.h>
#include <unistd.h>

#include "tests/test_util.h"
#include "datasets/dataset.h"
#include "datasets/synth.h"
#include "harness/commands.h"
#include "results/db.h"

#define MODEL "models/tiny-llava"
#define FIXTURE "tests/fixtures/tiny_model/parity.json"

/* The mean score of the fixture's samples per benchmark, as measured with the shipped model
   (transformers and C agree on every answer, so this is one number): the band is that number
   +- one sample's worth of score (1/17, 1/17, 1/16), a guard against silent changes rather than
   a re-measurement of the model card's 500-sample accuracies (that is the next test's job).
   Measured with the shipped model (models/tiny-llava/README.md): 0.471, 0.822 (ANLS), 0.500.
   So few samples are noisy draws (the model scores 0.658 and 512/1000 on the demo's 500
   questions each, where these 17 and 16 give 0.471 and 0.500), but a decoder that stops reading
   fails any band. Retraining the model means regenerating the fixture and moving these bands. */
struct band {
    const char *kind;
    double lo, hi;
};
static const struct band bands[] = {
    {"textvqa", 0.411, 0.530},
    {"docvqa", 0.762, 0.882},
    {"ocrbench", 0.437, 0.563},
};
#define N_KINDS 3

static char tmpdir[64];
static cJSON *fixture;

static int kind_index(const char *kind) {
    for (int k = 0; k < N_KINDS; k++)
        if (!strcmp(bands[k].kind, kind)) return k;
    return -1;
}

/* The kind's `sparsemm synth` options from scripts/synth-options.sh, split on spaces into argv
   (they are plain flags and numbers). Returns the count added. */
static int synth_options(const char *kind, char *buf, size_t cap, const char **argv, int max) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "bash -c '. scripts/synth-options.sh; synth_opts %s'", kind);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    size_t len = fread(buf, 1, cap - 1, f);
    buf[len] = 0;
    if (pclose(f) != 0 || len == 0) return -1;
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, " \n", &save); tok && n < max; tok = strtok_r(NULL, " \n", &save))
        argv[n++] = tok;
    return n;
}

/* The annotation file `sparsemm synth --split eval` writes for this kind. */
static const char *annotation_name(const char *kind) {
    struct synth_options o;
    enum synth_kind sk;
    if (synth_kind_parse(kind, &sk)) fail_msg("unknown kind %s", kind);
    synth_options_init(&o, sk);
    o.split = SYNTH_EVAL;
    return synth_annotation_name(&o);
}

/* How many samples of this kind the fixture holds, and their answer length. */
static int fixture_count(const char *kind, int *max_new) {
    int n = 0;
    cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(fixture, "samples")) {
        if (strcmp(cJSON_GetObjectItem(s, "kind")->valuestring, kind)) continue;
        *max_new = cJSON_GetObjectItem(s, "max_new_tokens")->valueint;
        n++;
    }
    return n;
}

/* Draws the first n evaluation samples of this kind (the demo's stream) into DIR/kind. */
static int synth_kind(const char *dir, const char *kind, int n) {
    char opts[256], count[16], out[160];
    const char *argv[40] = {"synth", "--kind", kind, "--n", count, "--seed", "0", "--split", "eval", "--quiet"};
    int argc = 10;
    snprintf(count, sizeof count, "%d", n);
    snprintf(out, sizeof out, "%s/%s", dir, kind);
    int k = synth_options(kind, opts, sizeof opts, argv + argc, 26);
    if (k < 0) return fprintf(stderr, "cannot read scripts/synth-options.sh for %s\n", kind), -1;
    argc += k;
    argv[argc++] = "--out";
    argv[argc++] = out;
    return cmd_synth(argc, (char **)argv);
}

static int setup(void **state) {
    struct error err = {0};
    char *text;
    if (read_file(FIXTURE, &text, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
    fixture = cJSON_Parse(text);
    free(text);
    if (!fixture) return fprintf(stderr, "%s: not JSON\n", FIXTURE), -1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sparsemm-tiny-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    for (int k = 0; k < N_KINDS; k++) {
        int max_new = 0, n = fixture_count(bands[k].kind, &max_new);
        if (n == 0 || synth_kind(tmpdir, bands[k].kind, n)) return -1;
    }
    return 0;
}

static int teardown(void **state) {
    cJSON_Delete(fixture);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_model_loads_from_clone(void **state) {
    /* What a clean clone holds: the llava-hf files, fp16 weights, the head scores sparsemm needs. */
    const char *files[] = {"config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json",
                           "visual_heads.json", "README.md"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, MODEL "/%s", files[i]);
        if (access(path, R_OK)) fail_msg("%s is missing", path);
    }
}

/* The prediction and score the sweep stored for (dataset, key). */
static int lookup(struct results_db *db, const char *kind, const char *key, char **pred, double *score) {
    sqlite3_stmt *st;
    const char *sql = "SELECT s.prediction, s.score FROM samples s JOIN runs r ON r.id = s.run_id "
                      "WHERE r.method = 'fullkv' AND r.dataset = ?1 AND s.sample_key = ?2";
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db->sql));
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        *pred = xstrdup(p ? p : "");
        *score = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    return found;
}

/* `sparsemm sweep` of the shipped model under the full cache, one --data spec per benchmark. */
static int sweep_full_cache(const char *db_path, char specs[N_KINDS][256]) {
    const char *argv[32] = {"sweep", "--model", MODEL, "--methods", "fullkv", "--budgets", "64", "--db", db_path,
                            "--threads", "2", "--quiet"};
    int argc = 12;
    for (int k = 0; k < N_KINDS; k++) {
        argv[argc++] = "--data";
        argv[argc++] = specs[k];
    }
    return cmd_sweep(argc, (char **)argv);
}

static void test_answers_equal_transformers_and_accuracy_in_band(void **state) {
    char db_path[128], specs[N_KINDS][256];
    snprintf(db_path, sizeof db_path, "%s/tiny.sqlite", tmpdir);
    for (int k = 0; k < N_KINDS; k++) {
        int max_new = 0;
        fixture_count(bands[k].kind, &max_new);
        snprintf(specs[k], sizeof specs[k], "%s=%s/%s/%s:max_new_tokens=%d", bands[k].kind, tmpdir, bands[k].kind,
                 annotation_name(bands[k].kind), max_new);
    }
    assert_int_equal(sweep_full_cache(db_path, specs), 0);

    struct dataset ds[N_KINDS];
    struct error err = {0};
    for (int k = 0; k < N_KINDS; k++) {
        struct dataset_spec spec;
        CHECK_OK(dataset_spec_parse(specs[k], &spec, &err), &err);
        CHECK_OK(dataset_load(&spec, &ds[k], &err), &err);
        dataset_spec_free(&spec);
    }
    struct results_db *db;
    CHECK_OK(results_open(db_path, RESULTS_OPEN_READONLY, &db, &err), &err);

    double sum[N_KINDS] = {0}, expect[N_KINDS] = {0};
    int count[N_KINDS] = {0}, mismatches = 0;
    cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(fixture, "samples")) {
        const char *kind = cJSON_GetObjectItem(s, "kind")->valuestring;
        int k = kind_index(kind), i = cJSON_GetObjectItem(s, "index")->valueint;
        const char *want = cJSON_GetObjectItem(s, "text")->valuestring;
        assert_true(k >= 0 && i >= 0 && i < ds[k].n);
        char *pred = NULL;
        double score = 0;
        if (!lookup(db, kind, ds[k].samples[i].key, &pred, &score))
            fail_msg("%s sample %s: no row in the sweep's database", kind, ds[k].samples[i].key);
        if (strcmp(pred, want)) {
            print_message("%s #%d (%s): C \"%s\" != transformers \"%s\"\n", kind, i, ds[k].samples[i].key, pred, want);
            mismatches++;
        }
        sum[k] += score;
        expect[k] += dataset_score(&ds[k], i, want);
        count[k]++;
        free(pred);
    }
    results_close(db);
    assert_int_equal(mismatches, 0);
    for (int k = 0; k < N_KINDS; k++) {
        double mean = sum[k] / count[k];
        print_message("%s: %d samples, mean score %.3f (band %.3f..%.3f)\n", bands[k].kind, count[k], mean, bands[k].lo,
                      bands[k].hi);
        assert_true(fabs(mean - expect[k] / count[k]) < 1e-9);
        if (mean < bands[k].lo || mean > bands[k].hi)
            fail_msg("%s: mean score %.3f outside the committed band %.3f..%.3f", bands[k].kind, mean, bands[k].lo,
                     bands[k].hi);
        dataset_free(&ds[k]);
    }
}

/* Issue 5's targets, measured as the model card measures them: the full cache on the demo's 500
   evaluation questions per benchmark (--split eval --seed 0, what evaluate.sh and `make demo`
   draw; the benchmarks' answer lengths 16 / 32 / 32). Each mean must lie within three answers'
   worth (0.006) of the model card's number, and at or above the target. Unlike the 50-sample
   parity check this is the measurement itself, not a noisy sample of it: it costs ~45 s of the
   suite on 2 cores, the price of a test that fails when the shipped model stops meeting them. */
struct target {
    const char *kind;
    int max_new_tokens;
    double card, target;
};
static const struct target targets[] = {
    {"textvqa", 16, 0.658, 0.6},  /* VQA accuracy */
    {"docvqa", 32, 0.772, 0.5},   /* ANLS */
    {"ocrbench", 32, 0.512, 0.5}, /* 512 of 1000, scaled */
};
#define DEMO_QUESTIONS 500
#define CARD_TOLERANCE 0.006

/* The full-cache run's mean score and scored-sample count, from the results schema's run_metrics
   view (results/schema.c; errored samples are left out of the mean and the count). */
static double mean_score(struct results_db *db, const char *kind, int *n) {
    sqlite3_stmt *st;
    const char *sql = "SELECT n_samples, mean_score FROM run_metrics WHERE method = 'fullkv' AND dataset = ?1";
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db->sql));
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *n = sqlite3_column_int(st, 0);
    double mean = sqlite3_column_double(st, 1);
    sqlite3_finalize(st);
    return mean;
}

static void test_demo_draw_meets_issue_targets(void **state) {
    char dir[96], db_path[128], specs[N_KINDS][256];
    snprintf(dir, sizeof dir, "%s/demo", tmpdir);
    snprintf(db_path, sizeof db_path, "%s/demo.sqlite", tmpdir);
    for (int k = 0; k < N_KINDS; k++) {
        const char *kind = targets[k].kind;
        assert_int_equal(synth_kind(dir, kind, DEMO_QUESTIONS), 0);
        snprintf(specs[k], sizeof specs[k], "%s=%s/%s/%s:max_new_tokens=%d", kind, dir, kind, annotation_name(kind),
                 targets[k].max_new_tokens);
    }
    assert_int_equal(sweep_full_cache(db_path, specs), 0);

    struct results_db *db;
    struct error err = {0};
    CHECK_OK(results_open(db_path, RESULTS_OPEN_READONLY, &db, &err), &err);
    for (int k = 0; k < N_KINDS; k++) {
        int n = 0;
        double mean = mean_score(db, targets[k].kind, &n);
        print_message("%s: %d questions, full cache %.3f (model card %.3f, target %.1f)\n", targets[k].kind, n, mean,
                      targets[k].card, targets[k].target);
        assert_int_equal(n, DEMO_QUESTIONS);
        if (fabs(mean - targets[k].card) > CARD_TOLERANCE)
            fail_msg("%s: %.3f is not the model card's %.3f", targets[k].kind, mean, targets[k].card);
        if (mean < targets[k].target)
            fail_msg("%s: %.3f is under issue 5's target %.1f", targets[k].kind, mean, targets[k].target);
    }
    results_close(db);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_loads_from_clone),
        cmocka_unit_test(test_answers_equal_transformers_and_accuracy_in_band),
        cmocka_unit_test(test_demo_draw_meets_issue_targets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
