/*
 * test_results_util.h: helpers shared by the results and plot tests: a scratch directory per
 * test binary, a run configuration to vary, synthetic sample rows, and a dump of a database's
 * content that ignores row ids and timestamps (what "the same results" means for merge).
 */
#ifndef SPARSEMM_TEST_RESULTS_UTIL_H
#define SPARSEMM_TEST_RESULTS_UTIL_H

#include <unistd.h>
#include "tests/test_util.h"
#include "results/db.h"

/* A fresh directory under $TMPDIR (or /tmp); the test removes what it made inside. Caller frees. */
static inline char *test_scratch_dir(const char *name) {
    const char *tmp = getenv("TMPDIR");
    char *tmpl = xasprintf("%s/sparsemm-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(tmpl)) fail_msg("mkdtemp %s failed", tmpl);
    return tmpl;
}

/* rm -rf of a scratch directory made by test_scratch_dir (one level of plain files and dirs). */
static inline void test_scratch_remove(const char *dir) {
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
    free(cmd);
}

/* A configuration with fixed identity fields; tests change one field at a time. */
static inline struct run_config test_config(const char *method, int budget, const char *dataset) {
    struct run_config c = {
        .model_hash = 0xaa, .method = method, .method_params = "{\"window\":32}",
        .budget = budget, .dataset = dataset, .dataset_hash = 0xbb, .backend = "cpu",
        .options = NULL, .model_name = "tiny", .model_path = "models/tiny",
        .dataset_path = "data/x.json", .threads = 2, .git_rev = "abc123", .machine = "testhost",
    };
    return c;
}

/* A deterministic synthetic sample i: score, timings and per-layer counts derived from i and
   the run's salt so different runs get different rows. layers: [4], caller-owned. */
static inline struct sample_result test_sample(char *key, size_t key_size, int i, int salt,
                                               int64_t layers[4]) {
    struct sample_result r;
    results_sample_init(&r);
    snprintf(key, key_size, "q%04d", i);
    r.sample_key = key;
    r.prediction = (i + salt) % 3 ? "yes" : "no";
    r.score = ((i + salt) % 4) / 4.0;
    r.prompt_tokens = 600 + i;
    r.visual_tokens = 576;
    r.generated_tokens = 3;
    for (int l = 0; l < 4; l++) layers[l] = 64 * (l + 1) + salt;
    r.n_layers = 4;
    r.kept_per_layer = layers;
    r.prefill_ms = 100.0 + i;
    r.decode_ms_per_token = 10.0 + 0.5 * i;
    r.kv_bytes = 4096 * (salt + 1);
    r.peak_rss_bytes = (int64_t)1 << 28;
    r.category = i % 2 ? "Scene Text-centric VQA" : NULL;
    return r;
}

/* All sample and bench rows as sorted text lines, without ids or timestamps.
   Caller frees. */
static inline char *test_db_dump(const char *path) {
    struct results_db *db;
    struct error err;
    if (results_open(path, RESULTS_OPEN_READONLY, &db, &err)) fail_msg("%s", err.msg);
    const char *sql =
        "SELECT r.config_key || '|' || r.config_json || '|' || r.model_name || '|' || r.method || '|' ||"
        " r.budget || '|' || s.sample_key || '|' || quote(s.category) || '|' || quote(s.prediction) || '|' ||"
        " quote(s.score) || '|' || quote(s.prompt_tokens) || '|' || quote(s.kept_tokens) || '|' ||"
        " quote(s.kept_per_layer) || '|' || quote(s.prefill_ms) || '|' || quote(s.decode_ms_per_token) ||"
        " '|' || quote(s.kv_bytes) || '|' || quote(s.error)"
        " FROM samples s JOIN runs r ON r.id = s.run_id"
        " UNION ALL SELECT 'bench|' || model_name || '|' || model_hash || '|' || method || '|' ||"
        " method_params || '|' || budget || '|' || context_len || '|' || quote(prefill_ms) || '|' ||"
        " quote(decode_ms_per_token) || '|' || quote(peak_rss_bytes) || '|' || quote(kv_bytes) FROM bench"
        " ORDER BY 1";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db->sql));
    size_t cap = 1 << 12, n = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *row = (const char *)sqlite3_column_text(st, 0);
        size_t len = strlen(row);
        while (n + len + 2 > cap) out = xrealloc(out, cap *= 2);
        memcpy(out + n, row, len);
        n += len;
        out[n++] = '\n';
        out[n] = 0;
    }
    sqlite3_finalize(st);
    results_close(db);
    return out;
}

/* One integer from a query on an open database. */
static inline int64_t test_query_int(struct results_db *db, const char *sql) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db->sql));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

#endif
