/*
 * test_results_merge.c: shards merged equal a single database; identical duplicates are fine,
 * re-timed duplicates keep the first copy, conflicting duplicates are refused with the run and
 * sample named and the target untouched; foreign sources and source == target are refused.
 */
#include <sys/stat.h>

#include "tests/test_results_util.h"
#include "results/merge.h"

static char *scratch;

static int setup(void **state) {
    (void)state;
    scratch = test_scratch_dir("results-merge");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    test_scratch_remove(scratch);
    free(scratch);
    return 0;
}

#define N_RUNS 3
#define N_SAMPLES 30
#define N_CONTEXTS 4

static struct run_config run_of(int r) {
    static const char *methods[N_RUNS] = {"sparsemm", "snapkv", "fullkv"};
    static const int budgets[N_RUNS] = {64, 64, 0};
    static const char *datasets[N_RUNS] = {"textvqa", "textvqa", "docvqa"};
    return test_config(methods[r], budgets[r], datasets[r]);
}

/* Write shard `shard` of `n_shards` (sample i goes to shard i % n_shards; n_shards = 1 is the
   whole sweep) into path. Shards create their runs in a rotated order, so run ids differ
   between files and the merge must match runs by key. */
static char *make_db(const char *name, int shard, int n_shards) {
    char *path = path_join(scratch, name);
    unlink(path);
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(path, RESULTS_OPEN_CREATE, &db, &err), &err);
    for (int k = 0; k < N_RUNS; k++) {
        int r = (k + shard) % N_RUNS;
        struct run_config c = run_of(r);
        int64_t run;
        CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
        for (int i = shard; i < N_SAMPLES; i += n_shards) {
            char key[16];
            int64_t layers[4];
            struct sample_result s = test_sample(key, sizeof key, i, r, layers);
            CHECK_OK(results_sample_insert(db, run, &s, &err), &err);
        }
    }
    for (int i = shard; i < N_CONTEXTS; i += n_shards) {
        struct bench_row b = {
            .model_name = "tiny", .model_hash = 0xaa, .method = "sparsemm", .budget = 256,
            .context_len = 2048 << i, .prefill_ms = 100 << i, .decode_ms_per_token = 30 + i,
            .decode_steps = 100, .peak_rss_bytes = 1 << 30, .device_peak_bytes = -1,
            .kv_bytes = 1 << 20, .backend = "cpu", .threads = 2, .machine = "m",
        };
        CHECK_OK(results_bench_insert(db, &b, &err), &err);
    }
    results_close(db);
    return path;
}

/* A file's bytes, for "unchanged" checks. Caller frees. */
static char *slurp(const char *path, size_t *n) {
    char *data;
    struct error err;
    CHECK_OK(read_file(path, &data, n, &err), &err);
    return data;
}

static void test_shards_equal_single(void **state) {
    (void)state;
    char *single = make_db("single.sqlite", 0, 1);
    char *shards[3];
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%d.sqlite", k);
        shards[k] = make_db(name, k, 3);
    }
    char *all = path_join(scratch, "all.sqlite");
    unlink(all);
    struct merge_stats st;
    struct error err;
    CHECK_OK(results_merge(all, (const char *const *)shards, 3, &st, &err), &err);
    assert_int_equal(st.runs_added, N_RUNS);
    assert_int_equal(st.runs_matched, 2 * N_RUNS);
    assert_int_equal(st.samples_added, N_RUNS * N_SAMPLES);
    assert_int_equal(st.samples_identical + st.samples_retimed, 0);
    assert_int_equal(st.bench_added, N_CONTEXTS);
    char *a = test_db_dump(all), *b = test_db_dump(single);
    assert_int_equal(strlen(b) > 1000, 1);
    assert_string_equal(a, b);
    free(a);

    /* Merging a shard again (and another into the same target) adds nothing: every row is an
       identical duplicate. */
    const char *again[2] = {shards[0], shards[1]};
    CHECK_OK(results_merge(all, again, 2, &st, &err), &err);
    assert_int_equal(st.samples_added, 0);
    assert_int_equal(st.runs_added, 0);
    assert_int_equal(st.samples_identical, 2 * N_RUNS * N_SAMPLES / 3);
    assert_int_equal(st.bench_identical, 3);  /* contexts 0, 3 (shard 0) and 1 (shard 1) */
    assert_int_equal(st.bench_added, 0);
    a = test_db_dump(all);
    assert_string_equal(a, b);
    free(a);
    free(b);
    for (int k = 0; k < 3; k++) free(shards[k]);
    free(single);
    free(all);
}

static void test_retimed_duplicate_keeps_first(void **state) {
    (void)state;
    char *base = make_db("base.sqlite", 0, 1);
    char *other = path_join(scratch, "retimed.sqlite");
    unlink(other);
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(other, RESULTS_OPEN_CREATE, &db, &err), &err);
    struct run_config c = run_of(1);
    int64_t run;
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    char key[16];
    int64_t layers[4];
    struct sample_result s = test_sample(key, sizeof key, 5, 1, layers);
    s.prefill_ms = 9999;  /* same answer, measured again elsewhere */
    CHECK_OK(results_sample_insert(db, run, &s, &err), &err);
    results_close(db);
    char *into = path_join(scratch, "into-retimed.sqlite");
    unlink(into);
    const char *src[2] = {base, other};
    struct merge_stats st;
    CHECK_OK(results_merge(into, src, 2, &st, &err), &err);
    assert_int_equal(st.samples_retimed, 1);
    assert_int_equal(st.samples_added, N_RUNS * N_SAMPLES);
    CHECK_OK(results_open(into, RESULTS_OPEN_READONLY, &db, &err), &err);
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM samples WHERE prefill_ms = 9999"), 0);
    results_close(db);
    free(base);
    free(other);
    free(into);
}

/* A shard that answers sample q0003 of the snapkv run differently. */
static char *make_conflicting(void) {
    char *path = path_join(scratch, "conflict.sqlite");
    unlink(path);
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(path, RESULTS_OPEN_CREATE, &db, &err), &err);
    struct run_config c = run_of(2);  /* an extra run first, so it would be added */
    int64_t run;
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    c = run_of(1);
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    char key[16];
    int64_t layers[4];
    struct sample_result s = test_sample(key, sizeof key, 3, 1, layers);
    s.prediction = "something else";
    CHECK_OK(results_sample_insert(db, run, &s, &err), &err);
    results_close(db);
    return path;
}

static void test_conflict_refused_target_unchanged(void **state) {
    (void)state;
    char *shard0 = make_db("c-shard-0.sqlite", 0, 3), *shard1 = make_db("c-shard-1.sqlite", 1, 3);
    char *bad = make_conflicting();
    struct error err;

    /* Into an existing target: refused, and the file is byte-for-byte what it was. */
    char *into = path_join(scratch, "c-into.sqlite");
    unlink(into);
    CHECK_OK(results_merge(into, (const char *const *)&shard0, 1, NULL, &err), &err);
    size_t n_before, n_after;
    char *before = slurp(into, &n_before);
    const char *src[2] = {shard1, bad};
    assert_int_equal(results_merge(into, src, 2, NULL, &err), -1);
    assert_msg_contains(err.msg, "conflict");
    assert_msg_contains(err.msg, "snapkv budget 64 on textvqa");
    assert_msg_contains(err.msg, "sample 'q0003'");
    assert_msg_contains(err.msg, "prediction is 'something else'");
    assert_msg_contains(err.msg, bad);
    char *after = slurp(into, &n_after);
    assert_int_equal(n_before, n_after);
    assert_memory_equal(before, after, n_before);
    free(before);
    free(after);

    /* Into a new target: refused, and no file is left behind. */
    char *fresh = path_join(scratch, "c-fresh.sqlite");
    unlink(fresh);
    const char *src2[3] = {shard0, shard1, bad};
    assert_int_equal(results_merge(fresh, src2, 3, NULL, &err), -1);
    assert_msg_contains(err.msg, "sample 'q0003'");
    assert_false(file_exists(fresh));
    free(fresh);
    free(into);
    free(bad);
    free(shard0);
    free(shard1);
}

static void test_refuses_bad_sources(void **state) {
    (void)state;
    char *good = make_db("b-good.sqlite", 0, 1);
    char *junk = path_join(scratch, "b-junk.sqlite");
    FILE *f = fopen(junk, "wb");
    assert_non_null(f);
    fputs("this is not a database, just a text file long enough to have a header's worth of bytes "
          "in it, and then some more text to be sure\n", f);
    fclose(f);
    char *into = path_join(scratch, "b-into.sqlite");
    unlink(into);
    struct error err;
    const char *src[2] = {good, junk};
    assert_int_equal(results_merge(into, src, 2, NULL, &err), -1);
    assert_msg_contains(err.msg, junk);
    assert_msg_contains(err.msg, "not an SQLite file");
    assert_false(file_exists(into));
    /* The target as a source. */
    const char *self[1] = {good};
    assert_int_equal(results_merge(good, self, 1, NULL, &err), -1);
    assert_msg_contains(err.msg, "both a source and the target");
    assert_int_equal(results_merge(into, src, 0, NULL, &err), -1);
    assert_msg_contains(err.msg, "no source");
    free(good);
    free(junk);
    free(into);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_equal_single),
        cmocka_unit_test(test_retimed_duplicate_keeps_first),
        cmocka_unit_test(test_conflict_refused_target_unchanged),
        cmocka_unit_test(test_refuses_bad_sources),
    };
    return cmocka_run_group_tests_name("results_merge", tests, setup, teardown);
}
