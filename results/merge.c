/*
 * merge.c: see merge.h. Rows are copied column by column through sqlite3_value, so the copy is
 * exact (types included) and the column lists below are the only place that knows the tables.
 * Each source is opened read-only through results_open, so a foreign or damaged shard is
 * refused like anywhere else.
 */
#include "results/merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results/db.h"  // defines: results_open, struct results_db

/* Every column but the id; config_key first (the lookup key). */
static const char *const run_cols[] = {
    "config_key", "config_json", "model_name", "model_path", "model_hash", "method",
    "method_params", "options", "budget", "dataset", "dataset_path", "dataset_hash", "backend",
    "threads", "git_rev", "machine", "created", "schema_version",
};
/* Positions in run_cols of what a message names. */
enum { RUN_KEY = 0, RUN_JSON = 1, RUN_MODEL_NAME = 2, RUN_METHOD = 5, RUN_BUDGET = 8, RUN_DATASET = 9 };
/* run_id and sample_key first; then the results that must agree; then the measurements. */
static const char *const sample_cols[] = {
    "run_id", "sample_key",
    "category", "prediction", "score", "prompt_tokens", "visual_tokens", "generated_tokens",
    "kept_tokens", "kept_per_layer", "kv_bytes", "error",
    "prefill_ms", "decode_ms_per_token", "peak_rss_bytes", "device_peak_bytes", "created",
};
enum { SAMPLE_RESULT_FIRST = 2, SAMPLE_MEASURE_FIRST = 12, SAMPLE_CREATED = 16 };
static const char *const bench_cols[] = {
    "model_name", "model_hash", "method", "method_params", "budget", "context_len", "prefill_ms",
    "decode_ms_per_token", "decode_steps", "peak_rss_bytes", "device_peak_bytes", "kv_bytes",
    "backend", "threads", "git_rev", "machine", "created",
};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

enum col_list {
    COL_NAMES,      /* "a, b, c" */
    COL_PARAMS,     /* "?1, ?2, ?3" */
    COL_MATCH,      /* "a IS ?1 AND b IS ?2" (IS: NULL matches NULL) */
};

/* A column list as SQL text. Caller frees. */
static char *join_cols(const char *const *cols, int n, enum col_list style) {
    size_t cap = 64;
    for (int i = 0; i < n; i++) cap += strlen(cols[i]) + 16;
    char *s = xmalloc(cap);
    size_t len = 0;
    s[0] = 0;
    for (int i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : style == COL_MATCH ? " AND " : ", ";
        if (style == COL_NAMES) len += (size_t)snprintf(s + len, cap - len, "%s%s", sep, cols[i]);
        else if (style == COL_PARAMS) len += (size_t)snprintf(s + len, cap - len, "%s?%d", sep, i + 1);
        else len += (size_t)snprintf(s + len, cap - len, "%s%s IS ?%d", sep, cols[i], i + 1);
    }
    return s;
}

static sqlite3_stmt *prepare(struct results_db *db, const char *sql, struct error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
        error_set(err, "%s: %s: %s", db->path, sql, sqlite3_errmsg(db->sql));
        return NULL;
    }
    return st;
}

static sqlite3_stmt *prepare_select(struct results_db *db, const char *table,
                                    const char *const *cols, int n, const char *tail,
                                    struct error *err) {
    char *list = join_cols(cols, n, COL_NAMES);
    char *sql = xasprintf("SELECT %s FROM %s %s", list, table, tail);
    sqlite3_stmt *st = prepare(db, sql, err);
    free(list);
    free(sql);
    return st;
}

static sqlite3_stmt *prepare_insert(struct results_db *db, const char *table,
                                    const char *const *cols, int n, struct error *err) {
    char *list = join_cols(cols, n, COL_NAMES), *params = join_cols(cols, n, COL_PARAMS);
    char *sql = xasprintf("INSERT INTO %s (%s) VALUES (%s)", table, list, params);
    sqlite3_stmt *st = prepare(db, sql, err);
    free(list);
    free(params);
    free(sql);
    return st;
}

static int step_done(struct results_db *db, sqlite3_stmt *st, const char *doing, struct error *err) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return 0;
    return error_set(err, "%s: %s: %s", db->path, doing, sqlite3_errmsg(db->sql));
}

/* Same type and same bytes (integers and reals compared exactly, as stored). */
static int values_equal(sqlite3_value *a, sqlite3_value *b) {
    int t = sqlite3_value_type(a);
    if (t != sqlite3_value_type(b)) return 0;
    switch (t) {
    case SQLITE_NULL: return 1;
    case SQLITE_INTEGER: return sqlite3_value_int64(a) == sqlite3_value_int64(b);
    case SQLITE_FLOAT: return sqlite3_value_double(a) == sqlite3_value_double(b);
    default: {
        int n = sqlite3_value_bytes(a);
        return n == sqlite3_value_bytes(b) && memcmp(sqlite3_value_blob(a), sqlite3_value_blob(b), (size_t)n) == 0;
    }
    }
}

/* A value for a message: quoted text (shortened), a number, or NULL. Caller frees. */
static char *describe_value(sqlite3_value *v) {
    switch (sqlite3_value_type(v)) {
    case SQLITE_NULL: return xstrdup("NULL");
    case SQLITE_INTEGER: return xasprintf("%lld", (long long)sqlite3_value_int64(v));
    case SQLITE_FLOAT: return xasprintf("%.17g", sqlite3_value_double(v));
    default: return xasprintf("'%.60s'", (const char *)sqlite3_value_text(v));
    }
}

/* Source run id -> target run id. Source ids arrive in ascending order (ORDER BY id). */
struct run_map {
    int64_t *src, *dst;
    const char **label;   /* "method budget B on dataset (model M, key K)", owned */
    int n, cap;
};

static void run_map_free(struct run_map *m) {
    for (int i = 0; i < m->n; i++) free((char *)m->label[i]);
    free(m->src);
    free(m->dst);
    free(m->label);
}

static int run_map_find(const struct run_map *m, int64_t src) {
    int lo = 0, hi = m->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (m->src[mid] == src) return mid;
        if (m->src[mid] < src) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Match or add every run of the source; fills map. */
static int merge_runs(struct results_db *dst, struct results_db *src, struct run_map *map,
                      struct merge_stats *stats, struct error *err) {
    int rc = -1;
    sqlite3_stmt *sel = NULL, *find = NULL, *ins = NULL;
    /* The source id rides as an extra last column so the row can be mapped. */
    const int n = COUNT(run_cols);
    char *list = join_cols(run_cols, n, COL_NAMES);
    char *sql = xasprintf("SELECT %s, id FROM runs ORDER BY id", list);
    sel = prepare(src, sql, err);
    free(list);
    free(sql);
    if (!sel) goto done;
    find = prepare(dst, "SELECT id, config_json FROM runs WHERE config_key = ?1", err);
    ins = find ? prepare_insert(dst, "runs", run_cols, n, err) : NULL;
    if (!ins) goto done;
    int step;
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        sqlite3_bind_value(find, 1, sqlite3_column_value(sel, RUN_KEY));
        int64_t id;
        if (sqlite3_step(find) == SQLITE_ROW) {
            id = sqlite3_column_int64(find, 0);
            const char *have = (const char *)sqlite3_column_text(find, 1);
            const char *want = (const char *)sqlite3_column_text(sel, RUN_JSON);
            if (strcmp(have, want) != 0) {
                error_set(err, "%s: run key %s names two configurations (%s here, %s in the target)",
                          src->path, (const char *)sqlite3_column_text(sel, RUN_KEY), want, have);
                sqlite3_reset(find);
                goto done;
            }
            stats->runs_matched++;
        } else {
            for (int i = 0; i < n; i++) sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i));
            if (step_done(dst, ins, "adding a run", err)) {
                sqlite3_reset(find);
                goto done;
            }
            id = sqlite3_last_insert_rowid(dst->sql);
            stats->runs_added++;
        }
        sqlite3_reset(find);
        if (map->n == map->cap) {
            map->cap = map->cap ? 2 * map->cap : 16;
            map->src = xrealloc(map->src, sizeof *map->src * (size_t)map->cap);
            map->dst = xrealloc(map->dst, sizeof *map->dst * (size_t)map->cap);
            map->label = xrealloc(map->label, sizeof *map->label * (size_t)map->cap);
        }
        map->src[map->n] = sqlite3_column_int64(sel, n);
        map->dst[map->n] = id;
        map->label[map->n] = xasprintf("%s budget %d on %s (model %s, key %s)",
                                       (const char *)sqlite3_column_text(sel, RUN_METHOD),
                                       sqlite3_column_int(sel, RUN_BUDGET),
                                       (const char *)sqlite3_column_text(sel, RUN_DATASET),
                                       (const char *)sqlite3_column_text(sel, RUN_MODEL_NAME),
                                       (const char *)sqlite3_column_text(sel, RUN_KEY));
        map->n++;
    }
    if (step != SQLITE_DONE) {
        error_set(err, "%s: reading runs: %s", src->path, sqlite3_errmsg(src->sql));
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(sel);
    sqlite3_finalize(find);
    sqlite3_finalize(ins);
    return rc;
}

/* The sample row `sel` (source) against the row `have` already in the target: 0 if they may
   coexist (counted in stats), -1 with a conflict message otherwise. */
static int compare_sample(struct results_db *dst, struct results_db *src, sqlite3_stmt *sel,
                          sqlite3_stmt *have, const char *run_label, struct merge_stats *stats,
                          struct error *err) {
    for (int i = SAMPLE_RESULT_FIRST; i < SAMPLE_MEASURE_FIRST; i++) {
        sqlite3_value *a = sqlite3_column_value(sel, i), *b = sqlite3_column_value(have, i);
        if (values_equal(a, b)) continue;
        char *va = describe_value(a), *vb = describe_value(b);
        error_set(err, "conflict: run %s, sample '%s': %s is %s in %s but %s in %s (or a source "
                  "merged before it); nothing was merged", run_label,
                  (const char *)sqlite3_column_text(sel, 1), sample_cols[i], va, src->path, vb, dst->path);
        free(va);
        free(vb);
        return -1;
    }
    int same = 1;
    for (int i = SAMPLE_MEASURE_FIRST; i < SAMPLE_CREATED; i++)
        same = same && values_equal(sqlite3_column_value(sel, i), sqlite3_column_value(have, i));
    if (same) stats->samples_identical++;
    else stats->samples_retimed++;
    return 0;
}

static int merge_samples(struct results_db *dst, struct results_db *src, const struct run_map *map,
                         struct merge_stats *stats, struct error *err) {
    int rc = -1;
    const int n = COUNT(sample_cols);
    sqlite3_stmt *sel = prepare_select(src, "samples", sample_cols, n, "ORDER BY run_id, sample_key", err);
    sqlite3_stmt *have = sel ? prepare_select(dst, "samples", sample_cols, n,
                                              "WHERE run_id = ?1 AND sample_key = ?2", err) : NULL;
    sqlite3_stmt *ins = have ? prepare_insert(dst, "samples", sample_cols, n, err) : NULL;
    if (!ins) goto done;
    int step;
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        int m = run_map_find(map, sqlite3_column_int64(sel, 0));
        if (m < 0) {
            error_set(err, "%s: sample '%s' belongs to no run", src->path, (const char *)sqlite3_column_text(sel, 1));
            goto done;
        }
        sqlite3_bind_int64(have, 1, map->dst[m]);
        sqlite3_bind_value(have, 2, sqlite3_column_value(sel, 1));
        if (sqlite3_step(have) == SQLITE_ROW) {
            int c = compare_sample(dst, src, sel, have, map->label[m], stats, err);
            sqlite3_reset(have);
            if (c) goto done;
            continue;
        }
        sqlite3_reset(have);
        sqlite3_bind_int64(ins, 1, map->dst[m]);
        for (int i = 1; i < n; i++) sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i));
        if (step_done(dst, ins, "adding a sample", err)) goto done;
        stats->samples_added++;
    }
    if (step != SQLITE_DONE) {
        error_set(err, "%s: reading samples: %s", src->path, sqlite3_errmsg(src->sql));
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(sel);
    sqlite3_finalize(have);
    sqlite3_finalize(ins);
    return rc;
}

static int merge_bench(struct results_db *dst, struct results_db *src, struct merge_stats *stats,
                       struct error *err) {
    int rc = -1;
    const int n = COUNT(bench_cols);
    char *cond = join_cols(bench_cols, n, COL_MATCH);
    char *sql = xasprintf("SELECT 1 FROM bench WHERE %s", cond);
    sqlite3_stmt *sel = prepare_select(src, "bench", bench_cols, n, "ORDER BY id", err);
    sqlite3_stmt *have = sel ? prepare(dst, sql, err) : NULL;
    sqlite3_stmt *ins = have ? prepare_insert(dst, "bench", bench_cols, n, err) : NULL;
    free(cond);
    free(sql);
    if (!ins) goto done;
    int step;
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) sqlite3_bind_value(have, i + 1, sqlite3_column_value(sel, i));
        int found = sqlite3_step(have) == SQLITE_ROW;
        sqlite3_reset(have);
        if (found) {
            stats->bench_identical++;
            continue;
        }
        for (int i = 0; i < n; i++) sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i));
        if (step_done(dst, ins, "adding a bench row", err)) goto done;
        stats->bench_added++;
    }
    if (step != SQLITE_DONE) {
        error_set(err, "%s: reading bench rows: %s", src->path, sqlite3_errmsg(src->sql));
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(sel);
    sqlite3_finalize(have);
    sqlite3_finalize(ins);
    return rc;
}

static int merge_source(struct results_db *dst, const char *path, struct merge_stats *stats,
                        struct error *err) {
    struct results_db *src;
    if (results_open(path, RESULTS_OPEN_READONLY, &src, err)) return -1;
    struct run_map map = {0};
    int rc = merge_runs(dst, src, &map, stats, err);
    if (rc == 0) rc = merge_samples(dst, src, &map, stats, err);
    if (rc == 0) rc = merge_bench(dst, src, stats, err);
    run_map_free(&map);
    results_close(src);
    return rc;
}

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Remove a target this merge created (the database and SQLite's side files). */
static void remove_created(const char *path) {
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        char *p = xasprintf("%s%s", path, suffix[i]);
        unlink(p);
        free(p);
    }
}

int results_merge(const char *into, const char *const *sources, int n_sources,
                  struct merge_stats *stats, struct error *err) {
    struct merge_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (n_sources < 1) return error_set(err, "merge: no source databases given");
    for (int i = 0; i < n_sources; i++)
        if (same_file(sources[i], into))
            return error_set(err, "merge: %s is both a source and the target", sources[i]);
    struct stat st;
    int existed = stat(into, &st) == 0 && st.st_size > 0;
    struct results_db *dst;
    if (results_open(into, RESULTS_OPEN_CREATE, &dst, err)) return -1;
    char *msg = NULL;
    int rc = sqlite3_exec(dst->sql, "BEGIN IMMEDIATE", NULL, NULL, &msg) == SQLITE_OK ? 0
           : error_set(err, "%s: cannot start the merge: %s", into, msg);
    sqlite3_free(msg);
    for (int i = 0; i < n_sources && rc == 0; i++) rc = merge_source(dst, sources[i], stats, err);
    if (rc == 0 && sqlite3_exec(dst->sql, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        rc = error_set(err, "%s: committing the merge: %s", into, msg);
        sqlite3_free(msg);
    }
    if (rc) sqlite3_exec(dst->sql, "ROLLBACK", NULL, NULL, NULL);
    results_close(dst);
    if (rc && !existed) remove_created(into);
    return rc;
}
