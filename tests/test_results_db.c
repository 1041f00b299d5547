/*
 * test_results_db.c: the results database: schema creation, configuration keys, run upsert,
 * resume sets, duplicate refusal, NULL handling, the metric views (percentiles by hand), bench
 * rows, refusal of foreign/corrupt files, and durability under SIGKILL.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/test_results_util.h"
#include "results/schema.h"

static char *scratch;

static int setup(void **state) {
    (void)state;
    scratch = test_scratch_dir("results-db");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    test_scratch_remove(scratch);
    free(scratch);
    return 0;
}

static char *scratch_path(const char *name) { return path_join(scratch, name); }

static struct results_db *open_new(const char *name) {
    char *path = scratch_path(name);
    unlink(path);
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(path, RESULTS_OPEN_CREATE, &db, &err), &err);
    free(path);
    return db;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* ---- schema ---- */

static void test_schema_created(void **state) {
    (void)state;
    struct results_db *db = open_new("schema.sqlite");
    assert_int_equal(test_query_int(db, "PRAGMA application_id"), RESULTS_APPLICATION_ID);
    assert_int_equal(test_query_int(db, "PRAGMA user_version"), RESULTS_SCHEMA_VERSION);
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                        "name IN ('meta', 'runs', 'samples', 'bench')"), 4);
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name IN "
                                        "('run_metrics', 'run_latency_percentiles', 'category_metrics',"
                                        " 'sample_layers', 'layer_kept', 'bench_metrics')"), 6);
    assert_int_equal(test_query_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     RESULTS_SCHEMA_VERSION);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    results_close(db);
    /* Reopening an existing database keeps it as it was. */
    char *path = scratch_path("schema.sqlite");
    struct error err;
    CHECK_OK(results_open(path, RESULTS_OPEN_EXISTING, &db, &err), &err);
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM meta"), 3);
    results_close(db);
    results_close(NULL);
    /* A reader cannot write, and leaves no WAL side files behind once the last user is gone. */
    CHECK_OK(results_open(path, RESULTS_OPEN_READONLY, &db, &err), &err);
    assert_int_not_equal(sqlite3_exec(db->sql, "INSERT INTO meta VALUES ('x', 'y')", NULL, NULL, NULL), SQLITE_OK);
    results_close(db);
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    assert_false(file_exists(wal));
    assert_false(file_exists(shm));
    free(wal);
    free(shm);
    free(path);
}

/* ---- configuration keys ---- */

static void test_config_key_canonical(void **state) {
    (void)state;
    struct run_config c = test_config("snapkv", 64, "textvqa");
    c.method_params = " { \"window\" : 32, \"pooling\": \"avg\", \"kernel\": 5 } ";
    char key[17], *canon;
    struct error err;
    CHECK_OK(results_config_key(&c, key, &canon, &err), &err);
    /* Written by hand from the definition in db.h; the key is FNV-1a 64 of exactly this text,
       computed independently in Python (offset 0xcbf29ce484222325, prime 0x100000001b3). */
    assert_string_equal(canon, "{\"backend\":\"cpu\",\"budget\":64,\"dataset\":\"textvqa\","
                               "\"dataset_hash\":\"00000000000000bb\",\"method\":\"snapkv\","
                               "\"method_params\":{\"kernel\":5,\"pooling\":\"avg\",\"window\":32},"
                               "\"model_hash\":\"00000000000000aa\",\"options\":{}}");
    assert_string_equal(key, "d5734c9f7ff5a8cb");
    free(canon);

    /* Provenance does not enter the key; each identity field does. */
    char k2[17];
    struct run_config d = c;
    d.machine = "elsewhere"; d.threads = 64; d.model_path = "/other"; d.git_rev = "fff"; d.model_name = "x";
    CHECK_OK(results_config_key(&d, k2, NULL, &err), &err);
    assert_string_equal(k2, key);
    struct run_config variants[7];
    for (int i = 0; i < 7; i++) variants[i] = c;
    variants[0].budget = 128;
    variants[1].method = "adakv";
    variants[2].dataset = "docvqa";
    variants[3].dataset_hash = 0xbc;
    variants[4].model_hash = 0xab;
    variants[5].backend = "cuda";
    variants[6].options = "{\"max_new_tokens\":16}";
    for (int i = 0; i < 7; i++) {
        CHECK_OK(results_config_key(&variants[i], k2, NULL, &err), &err);
        if (!strcmp(k2, key)) fail_msg("variant %d has the same key", i);
    }
    d = c;
    d.method_params = "{\"window\": 32, \"kernel\": 5, \"pooling\": \"max\"}";
    CHECK_OK(results_config_key(&d, k2, NULL, &err), &err);
    assert_string_not_equal(k2, key);
}

static void test_config_key_errors(void **state) {
    (void)state;
    struct run_config c = test_config("snapkv", 64, "textvqa");
    char key[17];
    struct error err;
    c.method_params = "{\"window\": 32,";
    assert_int_equal(results_config_key(&c, key, NULL, &err), -1);
    assert_msg_contains(err.msg, "method_params");
    c.method_params = "[1, 2]";
    assert_int_equal(results_config_key(&c, key, NULL, &err), -1);
    assert_msg_contains(err.msg, "expected a JSON object");
    c.method_params = "{\"a\": 1, \"a\": 2}";
    assert_int_equal(results_config_key(&c, key, NULL, &err), -1);
    assert_msg_contains(err.msg, "duplicate key \"a\"");
    c = test_config("", 64, "textvqa");
    assert_int_equal(results_config_key(&c, key, NULL, &err), -1);
    assert_msg_contains(err.msg, "method");
    c = test_config("snapkv", -1, "textvqa");
    assert_int_equal(results_config_key(&c, key, NULL, &err), -1);
    assert_msg_contains(err.msg, "budget");
}

/* ---- runs, resume, duplicates ---- */

static void test_run_upsert_idempotent(void **state) {
    (void)state;
    struct results_db *db = open_new("upsert.sqlite");
    struct error err;
    struct run_config c = test_config("sparsemm", 64, "textvqa");
    int64_t a, b, other;
    CHECK_OK(results_run_upsert(db, &c, &a, &err), &err);
    CHECK_OK(results_run_upsert(db, &c, &b, &err), &err);
    assert_int_equal(a, b);
    c.machine = "node17";  /* another shard's machine: same run */
    CHECK_OK(results_run_upsert(db, &c, &b, &err), &err);
    assert_int_equal(a, b);
    c.budget = 128;
    CHECK_OK(results_run_upsert(db, &c, &other, &err), &err);
    assert_true(other != a);
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM runs"), 2);
    /* The first writer's provenance stays. */
    char *q = xasprintf("SELECT count(*) FROM runs WHERE id = %lld AND machine = 'testhost'", (long long)a);
    assert_int_equal(test_query_int(db, q), 1);
    free(q);
    results_close(db);
}

static void test_resume_and_duplicates(void **state) {
    (void)state;
    struct results_db *db = open_new("resume.sqlite");
    struct error err;
    struct run_config c = test_config("snapkv", 64, "textvqa");
    int64_t run, run2;
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    c.budget = 256;
    CHECK_OK(results_run_upsert(db, &c, &run2, &err), &err);
    const char *keys[] = {"q10", "q2", "q1", "Q9"};
    for (int i = 0; i < 4; i++) {
        struct sample_result r;
        results_sample_init(&r);
        r.sample_key = keys[i];
        r.score = 1;
        CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
    }
    struct results_keys done;
    CHECK_OK(results_done_keys(db, run, &done, &err), &err);
    assert_int_equal(done.n, 4);
    const char *sorted[] = {"Q9", "q1", "q10", "q2"};  /* byte order */
    for (int i = 0; i < 4; i++) assert_string_equal(done.keys[i], sorted[i]);
    assert_true(results_keys_contains(&done, "q10"));
    assert_true(results_keys_contains(&done, "Q9"));
    assert_false(results_keys_contains(&done, "q3"));
    results_keys_free(&done);
    CHECK_OK(results_done_keys(db, run2, &done, &err), &err);  /* other run: nothing done */
    assert_int_equal(done.n, 0);
    assert_false(results_keys_contains(&done, "q1"));
    results_keys_free(&done);
    assert_int_equal(results_done_keys(db, 999, &done, &err), -1);
    assert_msg_contains(err.msg, "no run with id 999");

    /* A duplicate is refused with a message naming run and sample; the first row stays. */
    struct sample_result r;
    results_sample_init(&r);
    r.sample_key = "q2";
    r.score = 0;
    r.prediction = "different";
    assert_int_equal(results_sample_insert(db, run, &r, &err), -1);
    assert_msg_contains(err.msg, "sample 'q2'");
    assert_msg_contains(err.msg, "already recorded");
    char *sql = xasprintf("SELECT count(*) FROM samples WHERE run_id = %lld AND sample_key = 'q2' AND score = 1 "
                          "AND prediction IS NULL", (long long)run);
    assert_int_equal(test_query_int(db, sql), 1);
    free(sql);
    /* The same key in another run is fine; an unknown run is refused. */
    CHECK_OK(results_sample_insert(db, run2, &r, &err), &err);
    assert_int_equal(results_sample_insert(db, 999, &r, &err), -1);
    assert_msg_contains(err.msg, "no such run");
    r.sample_key = "";
    assert_int_equal(results_sample_insert(db, run, &r, &err), -1);
    assert_msg_contains(err.msg, "empty key");
    results_close(db);
}

static void test_sample_fields(void **state) {
    (void)state;
    struct results_db *db = open_new("fields.sqlite");
    struct error err;
    struct run_config c = test_config("sparsemm", 64, "ocrbench");
    int64_t run;
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    /* Not measured -> NULL. */
    struct sample_result r;
    results_sample_init(&r);
    r.sample_key = "broken";
    r.error = "image file missing";
    CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM samples WHERE sample_key = 'broken' AND "
                                        "score IS NULL AND prompt_tokens IS NULL AND prefill_ms IS NULL AND "
                                        "device_peak_bytes IS NULL AND kept_per_layer IS NULL AND "
                                        "error = 'image file missing'"), 1);
    /* Per-layer counts: stored, unpacked by the view, total derived when not given. */
    int64_t layers[3] = {10, 20, 30};
    results_sample_init(&r);
    r.sample_key = "ok";
    r.score = 1;
    r.n_layers = 3;
    r.kept_per_layer = layers;
    CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
    assert_int_equal(test_query_int(db, "SELECT kept_tokens FROM samples WHERE sample_key = 'ok'"), 60);
    assert_int_equal(test_query_int(db, "SELECT kept FROM sample_layers WHERE sample_key = 'ok' AND layer = 2"), 30);
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM sample_layers"), 3);
    /* A total that disagrees with the layers is refused. */
    r.sample_key = "bad";
    r.kept_tokens = 61;
    assert_int_equal(results_sample_insert(db, run, &r, &err), -1);
    assert_msg_contains(err.msg, "kept_tokens 61 differs from the sum over layers 60");
    layers[1] = -5;
    r.kept_tokens = -1;
    assert_int_equal(results_sample_insert(db, run, &r, &err), -1);
    assert_msg_contains(err.msg, "kept_per_layer[1]");
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM samples"), 2);
    results_close(db);
}

/* ---- views ---- */

static void test_run_metrics_view(void **state) {
    (void)state;
    struct results_db *db = open_new("views.sqlite");
    struct error err;
    struct run_config c = test_config("snapkv", 64, "ocrbench");
    int64_t run, empty;
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    c.budget = 128;
    CHECK_OK(results_run_upsert(db, &c, &empty, &err), &err);
    /* 20 samples, prefill 1..20 ms inserted in a scrambled order, decode 2*i; scores 0/1 with
       13 ones; one errored sample with a huge prefill that must not count; one sample without
       timings. By hand: mean score 13/20 = 0.65 (x1000 = 650); nearest rank p50 = value at
       rank ceil(0.5*20) = 10 -> 10 ms; p95 = rank ceil(0.95*20) = 19 -> 19 ms; the decode
       times (2x) give p50 20, p95 38. */
    int order[20] = {7, 3, 19, 1, 12, 5, 20, 9, 14, 2, 17, 11, 6, 16, 4, 13, 8, 18, 10, 15};
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof key, "s%d", order[i]);
        struct sample_result r;
        results_sample_init(&r);
        r.sample_key = key;
        r.score = order[i] <= 13 ? 1 : 0;
        r.prefill_ms = order[i];
        r.decode_ms_per_token = 2.0 * order[i];
        r.peak_rss_bytes = 1000 * order[i];
        r.kv_bytes = 100;
        CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
    }
    struct sample_result r;
    results_sample_init(&r);
    r.sample_key = "err";
    r.prefill_ms = 1e6;
    r.error = "out of memory";
    CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
    sqlite3_stmt *st;
    const char *sql = "SELECT n_samples, n_errors, mean_score, score_1000, mean_prefill_ms, p50_prefill_ms,"
                      " p95_prefill_ms, p50_decode_ms, p95_decode_ms, max_peak_rss_bytes, mean_kv_bytes"
                      " FROM run_metrics WHERE run_id = ?1";
    assert_int_equal(sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, run);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 20);
    assert_int_equal(sqlite3_column_int(st, 1), 1);
    assert_true(fabs(sqlite3_column_double(st, 2) - 0.65) < 1e-12);
    assert_true(fabs(sqlite3_column_double(st, 3) - 650) < 1e-9);
    assert_true(fabs(sqlite3_column_double(st, 4) - 10.5) < 1e-12);
    assert_true(sqlite3_column_double(st, 5) == 10);
    assert_true(sqlite3_column_double(st, 6) == 19);
    assert_true(sqlite3_column_double(st, 7) == 20);
    assert_true(sqlite3_column_double(st, 8) == 38);
    assert_int_equal(sqlite3_column_int64(st, 9), 20000);
    assert_true(sqlite3_column_double(st, 10) == 100);
    sqlite3_reset(st);
    /* A run without samples: zero count, NULL metrics. */
    sqlite3_bind_int64(st, 1, empty);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    assert_int_equal(sqlite3_column_type(st, 2), SQLITE_NULL);
    assert_int_equal(sqlite3_column_type(st, 5), SQLITE_NULL);
    sqlite3_finalize(st);

    /* Odd small counts: n = 1 -> both percentiles are the value; n = 3 -> p50 rank 2, p95 rank 3.
       A sample without a prefill time leaves the ranks of the others alone. */
    c.budget = 256;
    int64_t small;
    CHECK_OK(results_run_upsert(db, &c, &small, &err), &err);
    double vals[4] = {30, 10, 20, NAN};
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf(key, sizeof key, "t%d", i);
        results_sample_init(&r);
        r.sample_key = key;
        r.prefill_ms = vals[i];
        CHECK_OK(results_sample_insert(db, small, &r, &err), &err);
    }
    char *q = xasprintf("SELECT p50_prefill_ms * 1000 + p95_prefill_ms FROM run_metrics WHERE run_id = %lld",
                        (long long)small);
    assert_int_equal(test_query_int(db, q), 20 * 1000 + 30);
    free(q);
    results_close(db);
}

static void test_bench_rows(void **state) {
    (void)state;
    struct results_db *db = open_new("bench.sqlite");
    struct error err;
    struct bench_row b = {
        .model_name = "llama-4l", .model_hash = 7, .method = "sparsemm", .method_params = NULL,
        .budget = 256, .context_len = 2048, .prefill_ms = 900, .decode_ms_per_token = 40,
        .decode_steps = 100, .peak_rss_bytes = 3 << 20, .device_peak_bytes = -1,
        .kv_bytes = 1 << 20, .backend = "cpu", .threads = 2, .git_rev = NULL, .machine = "m",
    };
    CHECK_OK(results_bench_insert(db, &b, &err), &err);
    b.decode_ms_per_token = 44;
    b.peak_rss_bytes = 4 << 20;
    CHECK_OK(results_bench_insert(db, &b, &err), &err);
    b.context_len = 0;
    assert_int_equal(results_bench_insert(db, &b, &err), -1);
    assert_msg_contains(err.msg, "context 0");
    assert_int_equal(test_query_int(db, "SELECT n_rows FROM bench_metrics"), 2);
    assert_int_equal(test_query_int(db, "SELECT mean_decode_ms FROM bench_metrics"), 42);
    assert_int_equal(test_query_int(db, "SELECT max_peak_bytes FROM bench_metrics"), 4 << 20);
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM bench WHERE method_params = '{}' AND "
                                        "git_rev = 'unknown' AND device_peak_bytes IS NULL"), 2);
    results_close(db);
}

/* ---- foreign and damaged files ---- */

static void expect_refused(const char *path, enum results_open_mode mode, const char *sub) {
    struct results_db *db = NULL;
    struct error err;
    assert_int_equal(results_open(path, mode, &db, &err), -1);
    assert_null(db);
    assert_msg_contains(err.msg, path);
    assert_msg_contains(err.msg, sub);
}

static void test_refuses_foreign(void **state) {
    (void)state;
    /* Random bytes. */
    char *path = scratch_path("random.bin");
    unsigned char junk[8192];
    srand(42);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)rand();
    write_bytes(path, junk, sizeof junk);
    expect_refused(path, RESULTS_OPEN_CREATE, "not an SQLite file");
    free(path);

    /* A tiny text file: shorter than an SQLite header. */
    path = scratch_path("short.txt");
    write_bytes(path, "hello\n", 6);
    expect_refused(path, RESULTS_OPEN_READONLY, "shorter than the 100-byte header");
    free(path);

    /* Another application's SQLite database; it must stay byte-for-byte untouched. */
    path = scratch_path("other.sqlite");
    sqlite3 *o;
    assert_int_equal(sqlite3_open(path, &o), SQLITE_OK);
    assert_int_equal(sqlite3_exec(o, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(o);
    char *before, *after;
    size_t nb, na;
    struct error err;
    CHECK_OK(read_file(path, &before, &nb, &err), &err);
    expect_refused(path, RESULTS_OPEN_CREATE, "application_id 0x00000000");
    CHECK_OK(read_file(path, &after, &na, &err), &err);
    assert_int_equal(na, nb);
    assert_memory_equal(before, after, nb);
    char *wal = xasprintf("%s-wal", path);
    assert_false(file_exists(wal));
    free(wal);
    free(before);
    free(after);
    free(path);

    /* Another application with its own id. */
    path = scratch_path("otherapp.sqlite");
    assert_int_equal(sqlite3_open(path, &o), SQLITE_OK);
    assert_int_equal(sqlite3_exec(o, "PRAGMA application_id = 1234; CREATE TABLE t (x);", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(o);
    expect_refused(path, RESULTS_OPEN_EXISTING, "application_id 0x000004d2");
    free(path);

    /* Ours, but from a future schema. */
    struct results_db *db = open_new("future.sqlite");
    assert_int_equal(sqlite3_exec(db->sql, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    results_close(db);
    path = scratch_path("future.sqlite");
    expect_refused(path, RESULTS_OPEN_CREATE, "newer sparsemm (schema 99");
    free(path);

    /* Missing files are created only when asked. */
    path = scratch_path("missing.sqlite");
    expect_refused(path, RESULTS_OPEN_READONLY, "no such results database");
    expect_refused(path, RESULTS_OPEN_EXISTING, "no such results database");
    assert_false(file_exists(path));
    free(path);
}

static void test_refuses_truncated(void **state) {
    (void)state;
    /* A database with enough rows to span many pages, cut in half. */
    struct results_db *db = open_new("full.sqlite");
    struct error err;
    struct run_config c = test_config("snapkv", 64, "textvqa");
    int64_t run;
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    assert_int_equal(sqlite3_exec(db->sql, "PRAGMA synchronous = OFF", NULL, NULL, NULL), SQLITE_OK);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < 200; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%03d", i);
        struct sample_result r;
        results_sample_init(&r);
        r.sample_key = key;
        r.prediction = big;
        CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
    }
    results_close(db);  /* checkpoints: everything is in the main file */
    char *path = scratch_path("full.sqlite"), *data;
    size_t n;
    CHECK_OK(read_file(path, &data, &n, &err), &err);
    assert_true(n > 200 * 2000);
    char *cut = scratch_path("truncated.sqlite");
    write_bytes(cut, data, n / 2);
    expect_refused(cut, RESULTS_OPEN_READONLY, "damaged database");
    expect_refused(cut, RESULTS_OPEN_CREATE, "damaged database");
    /* Cut inside the header. */
    write_bytes(cut, data, 50);
    expect_refused(cut, RESULTS_OPEN_CREATE, "not an SQLite file");
    /* Garbage over a page in the middle (a damaged b-tree page). */
    memset(data + 8 * 4096, 0xA5, 4096);
    write_bytes(cut, data, n);
    expect_refused(cut, RESULTS_OPEN_READONLY, "damaged database");
    free(data);
    free(cut);
    free(path);
}

/* ---- durability ---- */

/* Child process body: open, find the run, insert samples first..last-1 with layers; then either
   SIGKILL itself (die_at_end) or exit. Never returns. */
static void child_insert(const char *path, int first, int last, int die_at_end) {
    struct results_db *db;
    struct error err;
    if (results_open(path, RESULTS_OPEN_CREATE, &db, &err)) _exit(10);
    struct run_config c = test_config("sparsemm", 64, "textvqa");
    int64_t run;
    if (results_run_upsert(db, &c, &run, &err)) _exit(11);
    for (int i = first; i < last; i++) {
        char key[16];
        int64_t layers[4];
        struct sample_result r = test_sample(key, sizeof key, i, 0, layers);
        if (results_sample_insert(db, run, &r, &err)) _exit(12);
    }
    if (die_at_end) raise(SIGKILL);
    results_close(db);
    _exit(0);
}

/* The samples of the (at most one) run are exactly q0000..q(n-1), each whole; returns n. */
static int check_prefix(const char *path) {
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(path, RESULTS_OPEN_EXISTING, &db, &err), &err);
    assert_true(test_query_int(db, "SELECT count(*) FROM runs") <= 1);
    int n = (int)test_query_int(db, "SELECT count(*) FROM samples");
    assert_int_equal(test_query_int(db, "SELECT count(*) FROM samples WHERE json_array_length(kept_per_layer) = 4"
                                        " AND kept_tokens = 64 + 128 + 192 + 256"), n);
    char *q = xasprintf("SELECT count(*) FROM samples WHERE sample_key >= 'q0000' AND sample_key <= 'q%04d'", n - 1);
    assert_int_equal(test_query_int(db, q), n);
    free(q);
    results_close(db);
    return n;
}

static void test_sigkill_between_samples(void **state) {
    (void)state;
    char *path = scratch_path("killed.sqlite");
    unlink(path);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) child_insert(path, 0, 7, 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* The WAL was never checkpointed by a clean close; the database is still whole. */
    assert_int_equal(check_prefix(path), 7);

    /* Resume: the rerun sees 7 done and adds the rest; nothing duplicated. */
    struct results_db *db;
    struct error err;
    CHECK_OK(results_open(path, RESULTS_OPEN_EXISTING, &db, &err), &err);
    struct run_config c = test_config("sparsemm", 64, "textvqa");
    int64_t run;
    CHECK_OK(results_run_upsert(db, &c, &run, &err), &err);
    struct results_keys done;
    CHECK_OK(results_done_keys(db, run, &done, &err), &err);
    assert_int_equal(done.n, 7);
    for (int i = 0; i < 12; i++) {
        char key[16];
        int64_t layers[4];
        struct sample_result r = test_sample(key, sizeof key, i, 0, layers);
        if (results_keys_contains(&done, key)) continue;
        CHECK_OK(results_sample_insert(db, run, &r, &err), &err);
    }
    results_keys_free(&done);
    results_close(db);
    assert_int_equal(check_prefix(path), 12);
    free(path);
}

/* A writer killed at arbitrary moments, mid-transaction included: after each kill the database
   opens, holds a prefix of whole samples, and the next attempt resumes after it. */
static void test_sigkill_anytime(void **state) {
    (void)state;
    char *path = scratch_path("anytime.sqlite");
    unlink(path);
    int have = 0, total = 100000, round;
    /* At least 4 kills, and more (with longer lives) until some samples got through. */
    for (round = 0; round < 4 || (have == 0 && round < 20); round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) child_insert(path, have, total, 0);
        struct timespec ts = {0, (20 + 15 * round) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status)) fail_msg("writer exited with %d before the kill", WEXITSTATUS(status));
        struct stat st;
        if (stat(path, &st) != 0 || st.st_size == 0) continue;  /* killed before the schema */
        int n = check_prefix(path);
        assert_true(n >= have);
        have = n;
    }
    assert_true(have > 0);
    free(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_created),
        cmocka_unit_test(test_config_key_canonical),
        cmocka_unit_test(test_config_key_errors),
        cmocka_unit_test(test_run_upsert_idempotent),
        cmocka_unit_test(test_resume_and_duplicates),
        cmocka_unit_test(test_sample_fields),
        cmocka_unit_test(test_run_metrics_view),
        cmocka_unit_test(test_bench_rows),
        cmocka_unit_test(test_refuses_foreign),
        cmocka_unit_test(test_refuses_truncated),
        cmocka_unit_test(test_sigkill_between_samples),
        cmocka_unit_test(test_sigkill_anytime),
    };
    return cmocka_run_group_tests_name("results_db", tests, setup, teardown);
}
