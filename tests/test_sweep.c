/*
 * test_sweep.c: the sweep end to end on a golden checkpoint and synthetic data: the rows it
 * writes, resume after SIGKILL (same rows as an uninterrupted run), shards merged equal one run,
 * foreign databases refused, experiment files, dry runs, and figures drawn from the result.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test_util.h"
#include "datasets/synth.h"
#include "harness/sweep.h"
#include "plots/plot.h"
#include "results/db.h"
#include "results/merge.h"

#define MODEL "tests/fixtures/golden/llava_gqa"

static char tmpdir[64];
static char textvqa_spec[256], ocrbench_spec[256];

static int setup(void **state) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sparsemm-sweep-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    struct error err;
    struct synth_options o;
    synth_options_init(&o, SYNTH_TEXTVQA);
    o.n = 5;
    o.seed = 7;
    o.split = SYNTH_EVAL;
    char *dir = path_join(tmpdir, "textvqa");
    if (synth_write(&o, dir, NULL, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
    snprintf(textvqa_spec, sizeof textvqa_spec, "textvqa=%s/%s", dir, synth_annotation_name(&o));
    free(dir);
    synth_options_init(&o, SYNTH_OCRBENCH);
    o.n = 3;
    o.seed = 7;
    o.split = SYNTH_EVAL;
    dir = path_join(tmpdir, "ocrbench");
    if (synth_write(&o, dir, NULL, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
    snprintf(ocrbench_spec, sizeof ocrbench_spec, "ocrbench=%s/%s", dir, synth_annotation_name(&o));
    free(dir);
    return 0;
}

static int teardown(void **state) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* fullkv, snapkv@{48,96}, sparsemm@48 (heads from the paper's file would not fit: random
   scores via `random`), window 8, 4 new tokens, both datasets. */
static void make_plan(struct sweep_plan *p, const char *db) {
    sweep_plan_init(p);
    p->model_dir = xstrdup(MODEL);
    p->model_name = xstrdup("golden-gqa");
    p->db_path = db ? xstrdup(db) : NULL;
    p->data = xcalloc(2, sizeof *p->data);
    p->data[p->n_data++] = xstrdup(textvqa_spec);
    p->data[p->n_data++] = xstrdup(ocrbench_spec);
    const char *names[] = {"fullkv", "snapkv", "random"};
    p->methods = xcalloc(3, sizeof *p->methods);
    for (int i = 0; i < 3; i++) p->methods[p->n_methods++] = (struct sweep_method){.name = xstrdup(names[i])};
    p->budgets = xcalloc(2, sizeof *p->budgets);
    p->budgets[p->n_budgets++] = 48;
    p->budgets[p->n_budgets++] = 96;
    p->max_new_tokens = 4;
    p->threads = 1;
    p->quiet = 1;
    struct error err;
    if (sweep_plan_apply_param(p, "window=8", &err)) fail_msg("%s", err.msg);
}

/* -1 when the database cannot be read yet (a writer is still creating it). */
static int64_t try_query_int(const char *db_path, const char *sql) {
    struct results_db *db;
    struct error err;
    if (results_open(db_path, RESULTS_OPEN_READONLY, &db, &err)) return -1;
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    results_close(db);
    return v;
}

static int64_t query_int(const char *db_path, const char *sql) {
    struct results_db *db;
    struct error err;
    if (results_open(db_path, RESULTS_OPEN_READONLY, &db, &err)) fail_msg("%s", err.msg);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db->sql));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    results_close(db);
    return v;
}

/* Every recorded result (not timings), one line per sample, ordered: what "the same rows" means. */
static char *dump_results(const char *db_path) {
    struct results_db *db;
    struct error err;
    if (results_open(db_path, RESULTS_OPEN_READONLY, &db, &err)) fail_msg("%s", err.msg);
    const char *sql =
        "SELECT r.method || '@' || r.budget || ' ' || r.dataset || ' ' || s.sample_key || ' [' || "
        "ifnull(s.prediction, '') || '] ' || ifnull(s.score, 'null') || ' ' || s.prompt_tokens || ' ' || "
        "s.kept_tokens || ' ' || s.kv_bytes || ' ' || ifnull(s.error, '') FROM samples s JOIN runs r "
        "ON r.id = s.run_id ORDER BY 1";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db->sql));
    size_t cap = 1 << 16, n = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        size_t l = strlen(line);
        if (n + l + 2 > cap) out = xrealloc(out, cap = 2 * (n + l + 2));
        memcpy(out + n, line, l);
        n += l;
        out[n++] = '\n';
        out[n] = 0;
    }
    sqlite3_finalize(st);
    results_close(db);
    return out;
}

static char *db_in_tmp(const char *name) {
    char *p = path_join(tmpdir, name);
    unlink(p);
    return p;
}

static void test_rows_written(void **state) {
    char *db = db_in_tmp("full.sqlite");
    struct sweep_plan p;
    make_plan(&p, db);
    struct error err = {{0}};
    assert_int_equal(sweep_run(&p, &err), 0);
    /* runs per dataset: fullkv once + snapkv x 2 + random x 2 = 5; samples: 5 + 3 */
    assert_int_equal(query_int(db, "SELECT count(*) FROM runs"), 10);
    assert_int_equal(query_int(db, "SELECT count(*) FROM samples"), 5 * 5 + 5 * 3);
    assert_int_equal(query_int(db, "SELECT count(*) FROM samples WHERE error IS NOT NULL"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE method='fullkv' AND budget=0"), 2);
    /* KV bytes = kept rows x 2 x head_dim (16) x 4 bytes, and compression really keeps less */
    assert_int_equal(query_int(db, "SELECT count(*) FROM samples WHERE kv_bytes != kept_tokens * 2 * 16 * 4"), 0);
    int64_t full = query_int(db, "SELECT min(kept_tokens) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.method='fullkv'");
    int64_t snap = query_int(db, "SELECT max(kept_tokens) FROM samples s JOIN runs r ON r.id = s.run_id "
                                 "WHERE r.method='snapkv' AND r.budget=48");
    assert_true(snap > 0 && snap < full);
    /* snapkv@48 keeps exactly 48 per KV head: 3 layers x 2 KV heads */
    assert_int_equal(snap, 48 * 3 * 2);
    /* a second run of the same command has nothing to do and changes nothing */
    char *before = dump_results(db);
    assert_int_equal(sweep_run(&p, &err), 0);
    char *after = dump_results(db);
    assert_string_equal(before, after);
    /* figures from the database */
    char *out = path_join(tmpdir, "plots");
    struct plot_options po = {.out_dir = out, .scripts_dir = "plots", .png = 1};
    struct plot_outputs files = {0};
    struct results_db *rdb;
    CHECK_OK(results_open(db, RESULTS_OPEN_READONLY, &rdb, &err), &err);
    CHECK_OK(plot_db(rdb, &po, &files, &err), &err);
    results_close(rdb);
    assert_true(files.n >= 1);
    for (int i = 0; i < files.n; i++) {
        FILE *f = fopen(files.paths[i], "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        assert_true(ftell(f) > 2000);
        fclose(f);
    }
    plot_outputs_free(&files);
    free(out), free(before), free(after), free(db);
    sweep_plan_free(&p);
}

/* A child sweeps and is killed with SIGKILL once some rows are committed; rerunning finishes the
   job with exactly the rows of an uninterrupted run. */
static void test_resume_after_sigkill(void **state) {
    char *ref = db_in_tmp("ref.sqlite"), *db = db_in_tmp("killed.sqlite");
    struct sweep_plan p;
    struct error err = {{0}};
    make_plan(&p, ref);
    assert_int_equal(sweep_run(&p, &err), 0);
    sweep_plan_free(&p);
    make_plan(&p, db);
    pid_t pid = fork();
    if (pid == 0) _exit(sweep_run(&p, &err) == 0 ? 0 : 1);
    for (int tries = 0; tries < 6000; tries++) {
        usleep(10000);
        if (try_query_int(db, "SELECT count(*) FROM samples") >= 7) break;
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    int64_t partial = query_int(db, "SELECT count(*) FROM samples");
    assert_true(partial >= 7 && partial < 40);
    assert_int_equal(sweep_run(&p, &err), 0);
    char *a = dump_results(ref), *b = dump_results(db);
    assert_string_equal(a, b);
    free(a), free(b), free(ref), free(db);
    sweep_plan_free(&p);
}

static void test_shards_merge(void **state) {
    char *single = db_in_tmp("single.sqlite"), *s0 = db_in_tmp("s0.sqlite"), *s1 = db_in_tmp("s1.sqlite");
    char *s2 = db_in_tmp("s2.sqlite"), *merged = db_in_tmp("merged.sqlite");
    struct sweep_plan p;
    struct error err = {{0}};
    make_plan(&p, single);
    assert_int_equal(sweep_run(&p, &err), 0);
    const char *shards[] = {s0, s1, s2};
    for (int i = 0; i < 3; i++) {
        free(p.db_path);
        p.db_path = xstrdup(shards[i]);
        p.shard_i = i;
        p.shard_n = 3;
        assert_int_equal(sweep_run(&p, &err), 0);
        assert_true(query_int(shards[i], "SELECT count(*) FROM samples") < 40);
    }
    CHECK_OK(results_merge(merged, shards, 3, NULL, &err), &err);
    char *a = dump_results(single), *b = dump_results(merged);
    assert_string_equal(a, b);
    free(a), free(b), free(single), free(s0), free(s1), free(s2), free(merged);
    sweep_plan_free(&p);
}

static void test_refuses_foreign_db(void **state) {
    char *db = db_in_tmp("foreign.txt");
    FILE *f = fopen(db, "w");
    fputs("not a database, but precious data\n", f);
    fclose(f);
    struct sweep_plan p;
    make_plan(&p, db);
    struct error err = {{0}};
    assert_int_equal(sweep_run(&p, &err), -1);
    assert_msg_contains(err.msg, "foreign.txt");
    char *text;
    CHECK_OK(read_file(db, &text, NULL, &err), &err);
    assert_string_equal(text, "not a database, but precious data\n");
    free(text), free(db);
    sweep_plan_free(&p);
}

static void test_experiment_file(void **state) {
    char *exp = path_join(tmpdir, "exp.json"), *db = db_in_tmp("exp.sqlite");
    FILE *f = fopen(exp, "w");
    fprintf(f, "{\"model\": \"%s\", \"data\": [\"%s\"], \"methods\": [\"fullkv\", {\"name\": \"snapkv\", "
               "\"params\": {\"window\": 4, \"kernel\": 3}}], \"budgets\": [40], \"db\": \"%s\", "
               "\"max_new_tokens\": 2, \"limit\": 2}", MODEL, ocrbench_spec, db);
    fclose(f);
    struct sweep_plan p;
    sweep_plan_init(&p);
    p.quiet = 1;
    struct error err = {{0}};
    CHECK_OK(sweep_plan_load_experiment(&p, exp, &err), &err);
    CHECK_OK(sweep_plan_check(&p, &err), &err);
    assert_int_equal(sweep_run(&p, &err), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM samples"), 4);
    /* the parameters are echoed into the run record */
    assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE method='snapkv' AND "
                                   "method_params LIKE '%\"kernel\":3%' AND method_params LIKE '%\"window\":4%'"), 1);
    /* a parameter no method has is an error naming it */
    assert_int_equal(sweep_plan_apply_param(&p, "ratio=0.5", &err), -1);
    assert_msg_contains(err.msg, "ratio=0.5");
    sweep_plan_free(&p);
    free(exp), free(db);
}

static void test_dry_run_writes_nothing(void **state) {
    char *db = db_in_tmp("dry.sqlite");
    struct sweep_plan p;
    make_plan(&p, db);
    p.dry_run = 1;
    struct error err = {{0}};
    assert_int_equal(sweep_run(&p, &err), 0);
    assert_int_equal(access(db, F_OK), -1);
    free(db);
    sweep_plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_written),       cmocka_unit_test(test_resume_after_sigkill),
        cmocka_unit_test(test_shards_merge),       cmocka_unit_test(test_refuses_foreign_db),
        cmocka_unit_test(test_experiment_file),    cmocka_unit_test(test_dry_run_writes_nothing),
    };
    return cmocka_run_group_tests_name("sweep", tests, setup, teardown);
}
