/*
 * test_results_report.c: `sparsemm report` tables from a small hand-made database, compared
 * with expected markdown and CSV written by hand (tests/fixtures/results/report_*.{md,csv}):
 * means, partial cells, errored samples, pooled FullKV, method order, labels of method
 * variants and of two models sharing a name.
 */
#include "tests/test_results_util.h"
#include "results/report.h"

static char *scratch;

static int setup(void **state) {
    (void)state;
    scratch = test_scratch_dir("results-report");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    test_scratch_remove(scratch);
    free(scratch);
    return 0;
}

/* One run with n samples (score[i], decode[i]; NaN = not measured) and n_errors broken ones. */
struct spec {
    uint64_t model_hash;
    const char *dataset, *method, *params, *backend;
    int budget, n, n_errors;
    double score[4], decode[4];
};

static void add_run(struct results_db *db, const struct spec *s) {
    struct run_config c = test_config(s->method, s->budget, s->dataset);
    c.model_hash = s->model_hash;
    c.method_params = s->params;
    c.backend = s->backend;
    int64_t run;
    struct error err;
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    for (int i = 0; i < s->n + s->n_errors; i++) {
        char key[16];
        snprintf(key, sizeof key, "q%d", i);
        struct sample_result r;
        results_sample_init(&r);
        r.sample_key = key;
        if (i < s->n) {
            r.score = s->score[i];
            r.decode_ms_per_token = s->decode[i];
            r.prefill_ms = 100;
            r.peak_rss_bytes = (int64_t)(i + 1) << 20;
        } else {
            r.error = "prompt longer than the context";
            r.decode_ms_per_token = 1000;  /* must not count */
        }
        CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
    }
}

#define W32 "{\"window\":32}"
#define W16 "{\"window\": 16}"

static const struct spec specs[] = {
    {0xaa, "textvqa", "fullkv", W32, "cpu", 0, 4, 0, {1, 1, 0.6, 0.4}, {10, 12, 14, NAN}},
    {0xaa, "textvqa", "snapkv", W32, "cpu", 64, 4, 0, {0.3, 0.5, 0.7, 0.5}, {5, 5, 6, 6}},
    {0xaa, "textvqa", "snapkv", W32, "cpu", 128, 2, 0, {1, 0.3}, {7, 8}},
    {0xaa, "textvqa", "sparsemm", W32, "cpu", 64, 4, 1, {1, 1, 0.6, 0}, {4, 4, 5, 5}},
    {0xaa, "ocrbench", "snapkv", W16, "cpu", 64, 4, 0, {0, 0, 1, 0}, {3, 3, 3, 3}},
    {0xaa, "ocrbench", "snapkv", W32, "cpu", 64, 4, 0, {1, 0, 1, 1}, {4, 4, 4, 4}},
    {0xaa, "ocrbench", "adakv", W32, "cuda", 64, 4, 0, {1, 0, 1, 0}, {2, 2, 2, 2}},
    {0xfedcba9876543210ULL, "textvqa", "snapkv", W32, "cpu", 64, 1, 0, {1}, {9}},
};

static struct results_db *make_db(const char *name, const struct spec *s, int n) {
    char *path = path_join(scratch, name);
    unlink(path);
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(path, RESULTS_OPEN_CREATE, &db, &err), &err);
    free(path);
    for (int i = 0; i < n; i++) add_run(db, &s[i]);
    return db;
}

/* The report as a string. Caller frees. */
static char *render(struct results_db *db, enum report_metric metric, enum report_format format) {
    struct report rep;
    struct error err;
    CHECK_OK(report_build(db, metric, &rep, &err), &err);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(report_write(&rep, format, f), 0);
    fclose(f);
    report_free(&rep);
    return text;
}

static void assert_matches_fixture(const char *text, const char *fixture) {
    char *want;
    size_t n;
    struct error err;
    CHECK_OK(read_file(fixture, &want, &n, &err), &err);
    if (strcmp(text, want)) fail_msg("report differs from %s:\n--- got ---\n%s--- want ---\n%s", fixture, text, want);
    free(want);
}

static void test_markdown_score(void **state) {
    (void)state;
    struct results_db *db = make_db("report.sqlite", specs, sizeof specs / sizeof specs[0]);
    char *text = render(db, REPORT_SCORE, REPORT_MARKDOWN);
    assert_matches_fixture(text, "tests/fixtures/results/report_score.md");
    free(text);
    results_close(db);
}

static void test_csv_decode(void **state) {
    (void)state;
    struct results_db *db = make_db("report-csv.sqlite", specs, sizeof specs / sizeof specs[0]);
    char *text = render(db, REPORT_DECODE, REPORT_CSV);
    assert_matches_fixture(text, "tests/fixtures/results/report_decode.csv");
    free(text);
    results_close(db);
}

/* FullKV recorded at two budgets is one pooled row; memory is the max peak in MiB; a table of
   FullKV alone has a single "all" column; an empty database has no tables. */
static void test_fullkv_pooled_and_memory(void **state) {
    (void)state;
    const struct spec s[] = {
        {0xaa, "docvqa", "fullkv", W32, "cpu", 64, 2, 0, {1, 0}, {1, 1}},
        {0xaa, "docvqa", "fullkv", W32, "cpu", 128, 3, 0, {1, 1, 1}, {1, 1, 1}},
        {0xaa, "docvqa", "pyramidkv", W32, "cpu", 128, 3, 0, {0, 0, 1}, {1, 1, 1}},
        {0xaa, "textvqa", "fullkv", W32, "cpu", 0, 1, 0, {1}, {1}},
    };
    struct results_db *db = make_db("pooled.sqlite", s, 4);
    char *text = render(db, REPORT_SCORE, REPORT_MARKDOWN);
    assert_string_equal(text,
        "## tiny / docvqa: mean score (n = 5 per cell unless noted)\n\n"
        "| method | 128 |\n|:---|---:|\n"
        "| FullKV | 0.800 |\n"
        "| PyramidKV | 0.333 (n=3) |\n"
        "\n## tiny / textvqa: mean score (n = 1 per cell unless noted)\n\n"
        "| method | all |\n|:---|---:|\n"
        "| FullKV | 1.000 |\n");
    free(text);
    /* peak_rss_bytes of sample i is (i+1) MiB: the max of pooled FullKV is 3 MiB. */
    text = render(db, REPORT_MEMORY, REPORT_MARKDOWN);
    assert_non_null(strstr(text, "| FullKV | 3.0 |"));
    assert_non_null(strstr(text, "peak memory (MiB, max over samples)"));
    free(text);
    results_close(db);

    db = make_db("empty.sqlite", s, 0);
    text = render(db, REPORT_SCORE, REPORT_MARKDOWN);
    assert_string_equal(text, "");
    free(text);
    results_close(db);
}

static void test_metric_names(void **state) {
    (void)state;
    enum report_metric m;
    struct error err;
    const char *names[] = {"score", "prefill", "decode", "memory"};
    for (int i = 0; i < 4; i++) {
        CHECK_OK(report_metric_parse(names[i], &m, &err), &err);
        assert_string_equal(report_metric_name(m), names[i]);
    }
    assert_int_equal(report_metric_parse("accuracy", &m, &err), -1);
    assert_msg_contains(err.msg, "unknown metric 'accuracy'");
    assert_string_equal(report_method_label("sparsemm"), "SparseMM");
    assert_string_equal(report_method_label("h2o"), "h2o");
    assert_true(report_method_rank("fullkv") < report_method_rank("snapkv"));
    assert_true(report_method_rank("random") < report_method_rank("sparsemm"));
    assert_true(report_method_rank("sparsemm") < report_method_rank("h2o"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown_score),
        cmocka_unit_test(test_csv_decode),
        cmocka_unit_test(test_fullkv_pooled_and_memory),
        cmocka_unit_test(test_metric_names),
    };
    return cmocka_run_group_tests_name("results_report", tests, setup, teardown);
}
