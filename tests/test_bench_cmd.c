/*
 * test_bench_cmd.c: `sparsemm bench` end to end on a small random model (the golden GQA config:
 * 3 layers, 2 KV heads of 16 dims): rows in the bench table and on stdout, KV bytes equal to
 * hand-computed capacities (f16 rows of 2 x 16 x 2 = 64 bytes), peak memory above the weights,
 * and the errors a user can make.
 */
#include "tests/test_util.h"

#include <fcntl.h>
#include <unistd.h>

#include "harness/commands.h"
#include "methods/head_scores.h"
#include "results/db.h"

#define GQA_CONFIG "tests/fixtures/golden/llava_gqa/config.json"

/* Run a command with stdout and stderr sent to a scratch file; returns what it printed. */
static char *run(int *rc, int argc, const char **argv) {
    char path[64];
    snprintf(path, sizeof path, "build/test_bench_cmd_%d.txt", (int)getpid());
    fflush(stdout);
    fflush(stderr);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644), out = dup(1), errfd = dup(2);
    assert_true(fd >= 0);
    dup2(fd, 1);
    dup2(fd, 2);
    *rc = cmd_bench(argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(errfd, 2);
    close(out);
    close(errfd);
    close(fd);
    char *text;
    size_t len;
    struct error err = {{0}};
    CHECK_OK(read_file(path, &text, &len, &err), &err);
    unlink(path);
    return text;
}

#define RUN(rc, ...)                                                                       \
    ({                                                                                     \
        const char *argv_[] = {"bench", __VA_ARGS__};                                      \
        run(rc, (int)(sizeof argv_ / sizeof argv_[0]), argv_);                             \
    })

/* Equal visual-head scores: SparseMM's allocation is then uniform, B - w per KV head
   (floor int(0.1 * 16) = 1 plus 1/6 of the pool 15 * 3 * 2 = 90). */
static void write_uniform_heads(const char *path) {
    struct head_scores *hs = head_scores_new(3, 4);
    double s[12];
    for (int i = 0; i < 12; i++) s[i] = 0.5;
    head_scores_add_sample(hs, s);
    struct error err = {{0}};
    CHECK_OK(head_scores_save(hs, path, &err), &err);
    head_scores_free(hs);
}

static void test_rows_and_kv_bytes(void **state) {
    (void)state;
    char db_path[64], heads[64];
    snprintf(db_path, sizeof db_path, "build/test_bench_%d.sqlite", (int)getpid());
    snprintf(heads, sizeof heads, "build/test_bench_heads_%d.json", (int)getpid());
    unlink(db_path);
    write_uniform_heads(heads);
    int rc;
    char *out = RUN(&rc, "--random-weights", GQA_CONFIG, "--context", "40,70", "--budget", "48", "--methods",
                    "fullkv,snapkv,sparsemm", "--heads", heads, "--steps", "3", "--db", db_path, "--name", "gqa");
    if (rc != 0) fail_msg("bench failed: %s", out);
    assert_msg_contains(out, "[6/6] done");
    assert_msg_contains(out, "context  method     budget");
    free(out);

    struct results_db *db;
    struct error err = {{0}};
    CHECK_OK(results_open(db_path, RESULTS_OPEN_READONLY, &db, &err), &err);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db->sql,
                                        "SELECT method, budget, context_len, kv_bytes, peak_rss_bytes, prefill_ms,"
                                        " decode_ms_per_token, decode_steps, model_name FROM bench ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    /* per (context, method): rows kept = 3 layers x 2 KV heads x (n, or B = 48 when n >= B) */
    const struct {
        const char *method;
        int budget, n;
        int64_t kv;
    } want[] = {{"fullkv", 0, 40, 3 * 2 * 40 * 64}, {"snapkv", 48, 40, 3 * 2 * 40 * 64},
                {"sparsemm", 48, 40, 3 * 2 * 40 * 64}, {"fullkv", 0, 70, 3 * 2 * 70 * 64},
                {"snapkv", 48, 70, 3 * 2 * 48 * 64}, {"sparsemm", 48, 70, 3 * 2 * 48 * 64}};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), want[i].method);
        assert_int_equal(sqlite3_column_int(st, 1), want[i].budget);
        assert_int_equal(sqlite3_column_int(st, 2), want[i].n);
        assert_int_equal(sqlite3_column_int64(st, 3), want[i].kv);
        /* the model alone is ~0.3 MB; a process is several MB */
        assert_true(sqlite3_column_int64(st, 4) > 4 << 20);
        assert_true(sqlite3_column_double(st, 5) > 0 && sqlite3_column_double(st, 6) > 0);
        assert_int_equal(sqlite3_column_int(st, 7), 3);
        assert_string_equal((const char *)sqlite3_column_text(st, 8), "gqa");
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    results_close(db);
    unlink(db_path);
    unlink(heads);
}

/* --json: one object per measurement with the fields scripts/bench.sh reads. */
static void test_json(void **state) {
    (void)state;
    int rc;
    char *out = RUN(&rc, "--random-weights", GQA_CONFIG, "--context", "50", "--methods", "snapkv", "--budget", "40",
                    "--steps", "2", "--json", "--kv-dtype", "f32");
    assert_int_equal(rc, 0);
    assert_msg_contains(out, "{\"method\":\"snapkv\",\"budget\":40,\"context\":50,\"layers\":3,");
    /* f32 cache: 3 x 2 x 40 rows x 2 x 16 x 4 bytes */
    assert_msg_contains(out, "\"kv_bytes\":30720,\"kv_rows\":240}");
    assert_msg_contains(out, "\"decode_steps\":2,");
    free(out);
}

static void test_errors(void **state) {
    (void)state;
    int rc;
    char *out = RUN(&rc, "--context", "100");
    assert_int_equal(rc, 2);
    assert_msg_contains(out, "exactly one of --model DIR and --random-weights CONFIG");
    free(out);
    out = RUN(&rc, "--random-weights", "llama2-7b", "--context", "1,x");
    assert_int_equal(rc, 2);
    assert_msg_contains(out, "--context '1,x' is not a list of lengths");
    free(out);
    out = RUN(&rc, "--random-weights", "llama2-7b", "--kv-dtype", "int8");
    assert_int_equal(rc, 2);
    assert_msg_contains(out, "--kv-dtype take f16, bf16 or f32");
    free(out);
    /* failures inside the measurement process come back with their message */
    out = RUN(&rc, "--random-weights", "gpt9", "--context", "10", "--methods", "fullkv", "--steps", "1");
    assert_int_equal(rc, 1);
    assert_msg_contains(out, "context 10, fullkv: 'gpt9' is not a known model shape");
    free(out);
    out = RUN(&rc, "--random-weights", GQA_CONFIG, "--context", "10", "--methods", "nokv", "--steps", "1");
    assert_int_equal(rc, 1);
    assert_msg_contains(out, "unknown method 'nokv'");
    free(out);
    out = RUN(&rc, "--random-weights", GQA_CONFIG, "--context", "60", "--methods", "sparsemm", "--heads",
              "tests/fixtures/methods/llava-v1.6.json", "--steps", "1");
    assert_int_equal(rc, 1);
    assert_msg_contains(out, "32 layers x 32 heads of scores, but the model has 3 layers x 4 query heads");
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_and_kv_bytes),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("bench_cmd", tests, NULL, NULL);
}
