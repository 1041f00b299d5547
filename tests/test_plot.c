/*
 * test_plot.c: the figures. A synthetic database shaped like the paper's sweep (three
 * datasets, FullKV + five methods at six budgets with the paper's LLaVA-NeXT-Vicuna-7B values,
 * the efficiency timings of its Figure, per-layer allocations) is drawn in PNG and PDF; the
 * files must exist with the right magic, size and PNG dimensions, and the data files must hold
 * the values from SQL. Also: head-score files (means, normalisation, malformed files), a
 * missing gnuplot (PATH emptied) and option parsing.
 *
 * Set SPARSEMM_TEST_PLOT_DIR to keep the figures there and look at them.
 */
#include <sys/stat.h>

#include "tests/test_results_util.h"
#include "plots/plot.h"

static char *scratch;

static int setup(void **state) {
    (void)state;
    scratch = test_scratch_dir("plot");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    test_scratch_remove(scratch);
    free(scratch);
    return 0;
}

/* shared/research/sparsemm.md section 5.2, LLaVA-NeXT-Vicuna-7B, budgets 64..2048 ascending;
   values marked "occl." there (hidden under other curves near FullKV) are filled near FullKV. */
static const int budgets[6] = {64, 128, 256, 512, 1024, 2048};
static const char *methods[5] = {"snapkv", "pyramidkv", "adakv", "random", "sparsemm"};
static const struct { const char *name; double full; double v[5][6]; } paper[3] = {
    {"docvqa", 0.685, {{.498, .590, .643, .675, .683, .684}, {.492, .601, .649, .671, .682, .684},
                       {.541, .606, .653, .675, .683, .685}, {.487, .581, .634, .664, .679, .682},
                       {.638, .668, .678, .681, .687, .680}}},
    {"ocrbench", 0.522, {{.341, .413, .462, .511, .520, .522}, {.312, .409, .476, .503, .524, .525},
                         {.351, .430, .484, .508, .519, .527}, {.320, .397, .458, .500, .516, .523},
                         {.478, .501, .523, .528, .520, .518}}},
    {"textvqa", 0.649, {{.563, .600, .622, .640, .647, .649}, {.550, .604, .628, .641, .648, .650},
                        {.561, .599, .620, .643, .649, .650}, {.565, .601, .624, .638, .644, .648},
                        {.631, .642, .647, .647, .651, .651}}},
};
#define N_PER_CELL 8
#define N_LAYERS 32

/* Kept entries per layer (sum over 32 heads) at budget b: SnapKV uniform, PyramidKV a linear
   ramp down, AdaKV and SparseMM shifted towards the middle layers, as in the paper's story. */
static void allocation(const char *method, int b, int64_t kept[N_LAYERS]) {
    for (int l = 0; l < N_LAYERS; l++) {
        double uniform = 32.0 * b, w;
        if (!strcmp(method, "pyramidkv")) w = 1.9 - 1.8 * l / (N_LAYERS - 1.0);
        else if (!strcmp(method, "sparsemm") || !strcmp(method, "random"))
            w = 0.1 + 0.9 * 4.5 * exp(-0.5 * (l - 14) * (l - 14) / 16.0) / (1 + (!strcmp(method, "random") ? 3.0 : 0));
        else if (!strcmp(method, "adakv")) w = 0.6 + 0.8 * exp(-0.5 * (l - 12) * (l - 12) / 64.0);
        else w = 1;
        kept[l] = (int64_t)(uniform * w);
    }
}

/* The whole synthetic sweep into path. */
static void make_paper_db(const char *path) {
    unlink(path);
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(path, RESULTS_OPEN_CREATE, &db, &err), &err);
    for (int d = 0; d < 3; d++) {
        for (int m = -1; m < 5; m++) {
            for (int bi = 0; bi < 6; bi++) {
                if (m < 0 && bi > 0) break;  /* FullKV once, budget 0 */
                struct run_config c = test_config(m < 0 ? "fullkv" : methods[m], m < 0 ? 0 : budgets[bi], paper[d].name);
                c.model_name = "llava-next-vicuna-7b";
                int64_t run;
                CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
                double v = m < 0 ? paper[d].full : paper[d].v[m][bi];
                int64_t kept[N_LAYERS];
                if (m >= 0) allocation(methods[m], budgets[bi], kept);
                for (int i = 0; i < N_PER_CELL; i++) {
                    char key[16];
                    snprintf(key, sizeof key, "q%d", i);
                    struct sample_result r;
                    results_sample_init(&r);
                    r.sample_key = key;
                    r.score = v + 0.02 * (i % 3 - 1);  /* mean over 8: v - 0.0025 */
                    r.prefill_ms = 200 + 10 * i;
                    r.decode_ms_per_token = 40 + i;
                    r.peak_rss_bytes = (int64_t)14 << 30;
                    if (m >= 0) {
                        r.n_layers = N_LAYERS;
                        r.kept_per_layer = kept;
                    }
                    CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
                }
            }
        }
    }
    /* section 5.4, Vicuna-7B: latency ms/token and peak memory GB (taken as GiB here). */
    const double lat[2][5] = {{37.4, 39.8, 44.7, 52.9, 70.9}, {38.0, 38.2, 38.3, 37.9, 37.9}};
    const double mem[2][5] = {{14.5, 15.7, 18.1, 23.0, 32.8}, {13.6, 13.8, 14.3, 15.4, 17.4}};
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < 5; k++) {
            struct bench_row b = {
                .model_name = "llava-next-vicuna-7b", .model_hash = 0xaa, .method = m ? "sparsemm" : "fullkv",
                .budget = m ? 256 : 0, .context_len = 2048 << k, .prefill_ms = 500 << k,
                .decode_ms_per_token = lat[m][k], .decode_steps = 100,
                .peak_rss_bytes = (int64_t)(mem[m][k] * 1073741824.0), .device_peak_bytes = -1,
                .kv_bytes = 1 << 20, .backend = "cpu", .threads = 2, .machine = "m",
            };
            CHECK_OK(results_bench_insert(db, &b, &err), &err);
        }
    results_close(db);
}

/* Where figures go: a kept folder when SPARSEMM_TEST_PLOT_DIR is set, else scratch. */
static char *figure_dir(const char *name) {
    const char *keep = getenv("SPARSEMM_TEST_PLOT_DIR");
    return keep && *keep ? xstrdup(keep) : path_join(scratch, name);
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A real PNG (magic, IHDR) of the given width (0 = any) and at least min_bytes; returns height. */
static uint32_t check_png(const char *path, uint32_t width, size_t min_bytes) {
    char *data;
    size_t n;
    struct error err;
    CHECK_OK(read_file(path, &data, &n, &err), &err);
    if (n < min_bytes) fail_msg("%s: %zu bytes, expected at least %zu", path, n, min_bytes);
    assert_memory_equal(data, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(data + 12, "IHDR", 4);
    uint32_t w = be32((unsigned char *)data + 16), h = be32((unsigned char *)data + 20);
    if (width && w != width) fail_msg("%s: width %u, expected %u", path, w, width);
    free(data);
    return h;
}

static void check_pdf(const char *path, size_t min_bytes) {
    char *data;
    size_t n;
    struct error err;
    CHECK_OK(read_file(path, &data, &n, &err), &err);
    if (n < min_bytes) fail_msg("%s: %zu bytes, expected at least %zu", path, n, min_bytes);
    assert_memory_equal(data, "%PDF-", 5);
    free(data);
}

static int has_output(const struct plot_outputs *out, const char *suffix) {
    size_t ls = strlen(suffix);
    for (int i = 0; i < out->n; i++) {
        size_t lp = strlen(out->paths[i]);
        if (lp >= ls && !strcmp(out->paths[i] + lp - ls, suffix)) return 1;
    }
    return 0;
}

static void test_figures_from_db(void **state) {
    (void)state;
    char *db_path = path_join(scratch, "paper.sqlite");
    make_paper_db(db_path);
    char *out_dir = figure_dir("figures");
    struct plot_options o = {.out_dir = out_dir, .scripts_dir = "plots", .png = 1, .pdf = 1,
                             .metric = REPORT_SCORE, .keep_data = 1};
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(db_path, RESULTS_OPEN_READONLY, &db, &err), &err);
    struct plot_outputs out = {0};
    CHECK_OK(plot_db(db, &o, &out, &err), &err);
    results_close(db);
    assert_int_equal(out.n, 6);
    const char *names[3] = {"main_score", "efficiency", "alloc"};
    /* Widths follow the layout: 420 px per panel column (plots/figure.c). */
    const uint32_t widths[3] = {3 * 420, 2 * 420, 3 * 420};
    for (int i = 0; i < 3; i++) {
        char *png = xasprintf("%s/%s.png", out_dir, names[i]), *pdf = xasprintf("%s/%s.pdf", out_dir, names[i]);
        assert_true(has_output(&out, strrchr(png, '/')));
        check_png(png, widths[i], 20000);
        check_pdf(pdf, 5000);
        free(png);
        free(pdf);
    }
    /* The data went through SQL: DocVQA (panel 0) holds SparseMM at 64 with mean 0.638 - 0.0025
       over 8 samples, and FullKV's dashed line at 0.685 - 0.0025 from 64/1.4 to 2048*1.4. */
    char *dat_path = xasprintf("%s/data/main_score_0.dat", out_dir), *dat;
    size_t n;
    CHECK_OK(read_file(dat_path, &dat, &n, &err), &err);
    assert_non_null(strstr(dat, "# FullKV: budget value n\n45.71428571 0.6825 8\n2867.2 0.6825 8\n"));
    assert_non_null(strstr(dat, "# SparseMM: budget value n\n64 0.6355 8\n128 0.6655 8\n"));
    free(dat);
    free(dat_path);
    dat_path = xasprintf("%s/data/efficiency_0.dat", out_dir);
    CHECK_OK(read_file(dat_path, &dat, &n, &err), &err);
    assert_non_null(strstr(dat, "# SparseMM (B=256)\n2048 38 13.6"));
    assert_non_null(strstr(dat, "32768 70.9 32.8"));
    free(dat);
    free(dat_path);
    plot_outputs_free(&out);
    free(out_dir);
    free(db_path);
}

static void test_heads_file(void **state) {
    (void)state;
    double *s;
    int nl, nh;
    struct error err;
    CHECK_OK(plot_head_scores_load("tests/fixtures/results/heads_small.json", &s, &nl, &nh, &err), &err);
    assert_int_equal(nl, 2);
    assert_int_equal(nh, 3);
    const double want[6] = {0, 1, 1, 4, 0.5, 3};  /* means of the lists, by hand */
    for (int i = 0; i < 6; i++) assert_true(s[i] == want[i]);
    free(s);

    char *out_dir = figure_dir("heads");
    struct plot_options o = {.out_dir = out_dir, .scripts_dir = "plots", .png = 1, .pdf = 1, .keep_data = 1};
    struct plot_outputs out = {0};
    CHECK_OK(plot_heads("tests/fixtures/results/heads_small.json", &o, &out, &err), &err);
    assert_int_equal(out.n, 2);
    char *png = path_join(out_dir, "heads.png");
    check_png(png, 560, 5000);
    char *matrix_path = path_join(out_dir, "data/heads.dat"), *matrix;
    size_t n;
    CHECK_OK(read_file(matrix_path, &matrix, &n, &err), &err);
    assert_string_equal(matrix, "0 0.25 0.25\n1 0.125 0.75\n");  /* divided by the max, 4 */
    free(matrix);
    free(matrix_path);
    free(png);
    plot_outputs_free(&out);
    free(out_dir);
}

static void expect_heads_error(const char *json, const char *sub) {
    char *path = path_join(scratch, "bad-heads.json");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
    double *s;
    int nl, nh;
    struct error err;
    assert_int_equal(plot_head_scores_load(path, &s, &nl, &nh, &err), -1);
    assert_msg_contains(err.msg, path);
    assert_msg_contains(err.msg, sub);
    free(path);
}

static void test_heads_malformed(void **state) {
    (void)state;
    expect_heads_error("{\"0-0\": [1], \"0-1\": [2], \"1-1\": [3]}", "no score for head '1-0'");
    expect_heads_error("{\"0-0\": [1], \"layer0\": [2]}", "key 'layer0' is not");
    expect_heads_error("{\"0-0\": [1], \"0-0\": [2]}", "head '0-0' appears twice");
    expect_heads_error("{\"0-0\": [\"x\"]}", "head '0-0': expected a non-empty list");
    expect_heads_error("{\"0-0\": []}", "expected a non-empty list");
    expect_heads_error("[1, 2]", "expected a JSON object");
    expect_heads_error("{\"0-0\": [1]", "malformed JSON");
    expect_heads_error("{\"0-99999\": [1]}", "is not");
}

static void test_missing_gnuplot(void **state) {
    (void)state;
    char *db_path = path_join(scratch, "tiny.sqlite");
    unlink(db_path);
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(db_path, RESULTS_OPEN_CREATE, &db, &err), &err);
    char *saved = xstrdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "", 1);
    char *out_dir = path_join(scratch, "nognuplot");
    struct plot_options o = {.out_dir = out_dir, .scripts_dir = "plots", .png = 1};
    struct plot_outputs out = {0};
    int rc = plot_db(db, &o, &out, &err);
    int rc_heads = plot_heads("tests/fixtures/results/heads_small.json", &o, &out, &err);
    setenv("PATH", saved, 1);
    assert_int_equal(rc, -1);
    assert_int_equal(rc_heads, -1);
    assert_msg_contains(err.msg, "gnuplot not found in PATH");
    assert_msg_contains(err.msg, "apt-get install gnuplot");
    assert_int_equal(out.n, 0);
    assert_false(file_exists(out_dir));
    /* Scripts that are not there. */
    o.scripts_dir = "no/such/dir";
    assert_int_equal(plot_db(db, &o, &out, &err), -1);
    assert_msg_contains(err.msg, "no gnuplot scripts in no/such/dir");
    /* An empty database draws nothing and is not an error. */
    o.scripts_dir = "plots";
    CHECK_OK(plot_db(db, &o, &out, &err), &err);
    assert_int_equal(out.n, 0);
    results_close(db);
    free(out_dir);
    free(saved);
    free(db_path);
}

static void test_formats(void **state) {
    (void)state;
    struct plot_options o = {0};
    struct error err;
    CHECK_OK(plot_formats_parse("png,pdf", &o, &err), &err);
    assert_true(o.png && o.pdf && !o.svg);
    CHECK_OK(plot_formats_parse("svg", &o, &err), &err);
    assert_true(!o.png && !o.pdf && o.svg);
    assert_int_equal(plot_formats_parse("png,jpeg", &o, &err), -1);
    assert_msg_contains(err.msg, "unknown plot format 'jpeg'");
    assert_int_equal(plot_formats_parse("", &o, &err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures_from_db),
        cmocka_unit_test(test_heads_file),
        cmocka_unit_test(test_heads_malformed),
        cmocka_unit_test(test_missing_gnuplot),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests_name("plot", tests, setup, teardown);
}
