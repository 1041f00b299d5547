/*
 * schema.c: the results database schema, embedded so the binary needs no file beside it.
 *
 * Layout (results/README.md has every column with its unit):
 *   meta            application name, schema version, creation time
 *   runs            one row per run configuration, keyed by a hash of that configuration
 *   samples         one row per (run, sample): prediction, score, token counts, timings, memory;
 *                   per-layer kept KV tokens ride along as a JSON array in the same row, so a
 *                   sample and its layers are written (or lost) together
 *   bench           the efficiency experiment: one row per (method, budget, context length) timing
 *   views           run_metrics (per run: counts, mean score, mean/p50/p95 latency, memory),
 *                   category_metrics, sample_layers, layer_kept, bench_metrics
 *
 * Percentiles use the nearest-rank definition: the p-th percentile of n sorted values is the
 * value at 1-based rank ceil(p*n/100), computed in integers as (p*n + 99) / 100 (SQLite has no
 * ceil() unless built with math functions).
 */
#include "results/schema.h"

#include <stdio.h>
#include <time.h>

const char results_schema_sql[] =
    "CREATE TABLE meta (\n"
    "  key   TEXT PRIMARY KEY,\n"
    "  value TEXT NOT NULL\n"
    ");\n"
    "\n"
    "CREATE TABLE runs (\n"
    "  id             INTEGER PRIMARY KEY,\n"
    "  config_key     TEXT NOT NULL UNIQUE,\n"      /* 16 hex digits: FNV-1a 64 of config_json */
    "  config_json    TEXT NOT NULL,\n"             /* the canonical configuration that was hashed */
    "  model_name     TEXT NOT NULL,\n"
    "  model_path     TEXT NOT NULL,\n"
    "  model_hash     TEXT NOT NULL,\n"
    "  method         TEXT NOT NULL,\n"
    "  method_params  TEXT NOT NULL,\n"             /* canonical JSON object */
    "  options        TEXT NOT NULL,\n"             /* canonical JSON object */
    "  budget         INTEGER NOT NULL CHECK (budget >= 0),\n"
    "  dataset        TEXT NOT NULL,\n"
    "  dataset_path   TEXT NOT NULL,\n"
    "  dataset_hash   TEXT NOT NULL,\n"
    "  backend        TEXT NOT NULL,\n"
    "  threads        INTEGER NOT NULL,\n"
    "  git_rev        TEXT NOT NULL,\n"
    "  machine        TEXT NOT NULL,\n"
    "  created        TEXT NOT NULL,\n"
    "  schema_version INTEGER NOT NULL\n"
    ");\n"
    "\n"
    "CREATE TABLE samples (\n"
    "  run_id              INTEGER NOT NULL REFERENCES runs(id),\n"
    "  sample_key          TEXT NOT NULL,\n"
    "  category            TEXT,\n"
    "  prediction          TEXT,\n"
    "  score               REAL,\n"
    "  prompt_tokens       INTEGER,\n"
    "  visual_tokens       INTEGER,\n"
    "  generated_tokens    INTEGER,\n"
    "  kept_tokens         INTEGER,\n"
    "  kept_per_layer      TEXT,\n"                 /* JSON array, index = layer */
    "  prefill_ms          REAL,\n"
    "  decode_ms_per_token REAL,\n"
    "  kv_bytes            INTEGER,\n"
    "  peak_rss_bytes      INTEGER,\n"
    "  device_peak_bytes   INTEGER,\n"
    "  error               TEXT,\n"
    "  created             TEXT NOT NULL,\n"
    "  PRIMARY KEY (run_id, sample_key)\n"
    ");\n"
    "\n"
    "CREATE TABLE bench (\n"
    "  id                  INTEGER PRIMARY KEY,\n"
    "  model_name          TEXT NOT NULL,\n"
    "  model_hash          TEXT NOT NULL,\n"
    "  method              TEXT NOT NULL,\n"
    "  method_params       TEXT NOT NULL,\n"
    "  budget              INTEGER NOT NULL CHECK (budget >= 0),\n"
    "  context_len         INTEGER NOT NULL CHECK (context_len > 0),\n"
    "  prefill_ms          REAL,\n"
    "  decode_ms_per_token REAL,\n"
    "  decode_steps        INTEGER NOT NULL,\n"
    "  peak_rss_bytes      INTEGER,\n"
    "  device_peak_bytes   INTEGER,\n"
    "  kv_bytes            INTEGER,\n"
    "  backend             TEXT NOT NULL,\n"
    "  threads             INTEGER NOT NULL,\n"
    "  git_rev             TEXT NOT NULL,\n"
    "  machine             TEXT NOT NULL,\n"
    "  created             TEXT NOT NULL\n"
    ");\n"
    "\n"
    /* Nearest-rank percentiles of the per-sample latencies of each run (see the file header). NULLs
       sort last, so the n non-NULL values hold ranks 1..n; a run without values gets NULL. */
    "CREATE VIEW run_latency_percentiles AS\n"
    "SELECT run_id,\n"
    "  MAX(CASE WHEN pr = (50 * pn + 99) / 100 THEN prefill_ms END) AS p50_prefill_ms,\n"
    "  MAX(CASE WHEN pr = (95 * pn + 99) / 100 THEN prefill_ms END) AS p95_prefill_ms,\n"
    "  MAX(CASE WHEN dr = (50 * dn + 99) / 100 THEN decode_ms_per_token END) AS p50_decode_ms,\n"
    "  MAX(CASE WHEN dr = (95 * dn + 99) / 100 THEN decode_ms_per_token END) AS p95_decode_ms\n"
    "FROM (SELECT run_id, prefill_ms, decode_ms_per_token,\n"
    "        ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY prefill_ms NULLS LAST) AS pr,\n"
    "        COUNT(prefill_ms) OVER (PARTITION BY run_id) AS pn,\n"
    "        ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY decode_ms_per_token NULLS LAST) AS dr,\n"
    "        COUNT(decode_ms_per_token) OVER (PARTITION BY run_id) AS dn\n"
    "      FROM samples WHERE error IS NULL)\n"
    "GROUP BY run_id;\n"
    "\n"
    /* One row per run, i.e. per (model, method + parameters, budget, dataset, backend, options).
       Errored samples are counted apart and left out of every mean. */
    "CREATE VIEW run_metrics AS\n"
    "SELECT r.id AS run_id, r.config_key, r.model_name, r.model_hash, r.method, r.method_params,\n"
    "  r.options, r.budget, r.dataset, r.backend,\n"
    "  COUNT(s.run_id) AS n_samples,\n"
    "  (SELECT COUNT(*) FROM samples e WHERE e.run_id = r.id AND e.error IS NOT NULL) AS n_errors,\n"
    "  AVG(s.score) AS mean_score,\n"
    "  1000.0 * AVG(s.score) AS score_1000,\n"
    "  AVG(s.prefill_ms) AS mean_prefill_ms,\n"
    "  pc.p50_prefill_ms, pc.p95_prefill_ms,\n"
    "  AVG(s.decode_ms_per_token) AS mean_decode_ms,\n"
    "  pc.p50_decode_ms, pc.p95_decode_ms,\n"
    "  AVG(s.peak_rss_bytes) AS mean_peak_rss_bytes,\n"
    "  MAX(s.peak_rss_bytes) AS max_peak_rss_bytes,\n"
    "  MAX(s.device_peak_bytes) AS max_device_peak_bytes,\n"
    "  AVG(s.kv_bytes) AS mean_kv_bytes,\n"
    "  AVG(s.kept_tokens) AS mean_kept_tokens,\n"
    "  AVG(s.prompt_tokens) AS mean_prompt_tokens\n"
    "FROM runs r\n"
    "LEFT JOIN samples s ON s.run_id = r.id AND s.error IS NULL\n"
    "LEFT JOIN run_latency_percentiles pc ON pc.run_id = r.id\n"
    "GROUP BY r.id;\n"
    "\n"
    "CREATE VIEW category_metrics AS\n"
    "SELECT run_id, category, COUNT(*) AS n_samples, AVG(score) AS mean_score\n"
    "FROM samples WHERE error IS NULL\n"
    "GROUP BY run_id, category;\n"
    "\n"
    /* The per-layer kept counts as rows, unpacked from the JSON array of each sample. */
    "CREATE VIEW sample_layers AS\n"
    "SELECT s.run_id, s.sample_key, CAST(j.key AS INTEGER) AS layer, j.value AS kept\n"
    "FROM samples s, json_each(s.kept_per_layer) j\n"
    "WHERE s.kept_per_layer IS NOT NULL;\n"
    "\n"
    "CREATE VIEW layer_kept AS\n"
    "SELECT l.run_id, l.layer, COUNT(*) AS n_samples, AVG(l.kept) AS mean_kept\n"
    "FROM sample_layers l JOIN samples s ON s.run_id = l.run_id AND s.sample_key = l.sample_key\n"
    "WHERE s.error IS NULL\n"
    "GROUP BY l.run_id, l.layer;\n"
    "\n"
    /* Repeated bench measurements of one setting are averaged; memory takes the worst. */
    "CREATE VIEW bench_metrics AS\n"
    "SELECT model_name, model_hash, method, method_params, budget, context_len, backend,\n"
    "  COUNT(*) AS n_rows,\n"
    "  AVG(prefill_ms) AS mean_prefill_ms,\n"
    "  AVG(decode_ms_per_token) AS mean_decode_ms,\n"
    "  MAX(COALESCE(device_peak_bytes, peak_rss_bytes)) AS max_peak_bytes,\n"
    "  AVG(kv_bytes) AS mean_kv_bytes\n"
    "FROM bench\n"
    "GROUP BY model_name, model_hash, method, method_params, budget, context_len, backend;\n";

int results_schema_create(sqlite3 *sql, struct error *err) {
    char created[32];
    time_t t = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    char *pragmas = sqlite3_mprintf(
        "PRAGMA application_id = %d; PRAGMA user_version = %d;"
        "INSERT INTO meta VALUES ('application', 'sparsemm'), ('schema_version', '%d'),"
        " ('created', %Q);",
        RESULTS_APPLICATION_ID, RESULTS_SCHEMA_VERSION, RESULTS_SCHEMA_VERSION, created);
    char *msg = NULL;
    int rc = sqlite3_exec(sql, "BEGIN IMMEDIATE", NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(sql, results_schema_sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(sql, pragmas, NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(sql, "COMMIT", NULL, NULL, &msg);
    sqlite3_free(pragmas);
    if (rc == SQLITE_OK) return 0;
    error_set(err, "creating the results schema: %s", msg ? msg : sqlite3_errmsg(sql));
    sqlite3_free(msg);
    sqlite3_exec(sql, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
