/*
 * db.c: opening results databases (refusing foreign or damaged ones), run configurations and
 * their keys, resume sets, and the one-transaction-per-row writers. See db.h for the contract.
 *
 * Sections: canonical JSON and configuration keys / opening and checking files / runs / samples
 * and resume / bench rows.
 */
#include "results/db.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/json.h"  // defines: json_parse
#include "results/schema.h"  // defines: results_schema_create, RESULTS_APPLICATION_ID

/* ------------------------------------------------------------------------------------------ */
/* Canonical JSON and configuration keys */

void results_hash_hex(uint64_t h, char out[17]) {
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int compare_names(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Sort every object's members by name, recursively, so two texts that differ only in key
   order or whitespace print identically. Duplicate names are refused: which one wins would
   depend on the reader. */
static int sort_members(cJSON *node, const char *what, struct error *err) {
    int n = 0;
    for (cJSON *c = node->child; c; c = c->next) n++;
    if (n == 0) return 0;
    cJSON **kids = xmalloc(sizeof *kids * (size_t)n);
    int i = 0;
    for (cJSON *c = node->child; c; c = c->next) kids[i++] = c;
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++) rc = sort_members(kids[i], what, err);
    if (rc == 0 && cJSON_IsObject(node)) {
        qsort(kids, (size_t)n, sizeof *kids, compare_names);
        for (i = 1; i < n && rc == 0; i++)
            if (!strcmp(kids[i - 1]->string, kids[i]->string))
                rc = error_set(err, "%s: duplicate key \"%s\"", what, kids[i]->string);
        for (i = 0; i < n; i++) {
            kids[i]->prev = i > 0 ? kids[i - 1] : kids[n - 1];  /* cJSON: head->prev is the tail */
            kids[i]->next = i + 1 < n ? kids[i + 1] : NULL;
        }
        node->child = kids[0];
    }
    free(kids);
    return rc;
}

static cJSON *parse_object(const char *json, const char *what, struct error *err) {
    if (!json || !*json) return cJSON_CreateObject();
    cJSON *root = json_parse(json, strlen(json), what, err);
    if (!root) return NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        error_set(err, "%s: expected a JSON object, got '%.40s'", what, json);
        return NULL;
    }
    return root;
}

static char *print_canonical(cJSON *root, const char *what, struct error *err) {
    if (sort_members(root, what, err)) return NULL;
    char *printed = cJSON_PrintUnformatted(root);
    char *out = xstrdup(printed);
    cJSON_free(printed);
    return out;
}

char *results_canonical_json(const char *json, const char *what, struct error *err) {
    cJSON *root = parse_object(json, what, err);
    if (!root) return NULL;
    char *out = print_canonical(root, what, err);
    cJSON_Delete(root);
    return out;
}

static int check_config(const struct run_config *cfg, struct error *err) {
    if (!cfg->method || !*cfg->method) return error_set(err, "run configuration: method is empty");
    if (!cfg->dataset || !*cfg->dataset) return error_set(err, "run configuration: dataset is empty");
    if (!cfg->backend || !*cfg->backend) return error_set(err, "run configuration: backend is empty");
    if (cfg->budget < 0) return error_set(err, "run configuration: budget %d < 0", cfg->budget);
    return 0;
}

int results_config_key(const struct run_config *cfg, char key[17], char **canonical,
                       struct error *err) {
    if (check_config(cfg, err)) return -1;
    cJSON *params = parse_object(cfg->method_params, "method_params", err);
    if (!params) return -1;
    cJSON *options = parse_object(cfg->options, "options", err);
    if (!options) {
        cJSON_Delete(params);
        return -1;
    }
    char model_hash[17], dataset_hash[17];
    results_hash_hex(cfg->model_hash, model_hash);
    results_hash_hex(cfg->dataset_hash, dataset_hash);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "backend", cfg->backend);
    cJSON_AddNumberToObject(root, "budget", cfg->budget);
    cJSON_AddStringToObject(root, "dataset", cfg->dataset);
    cJSON_AddStringToObject(root, "dataset_hash", dataset_hash);
    cJSON_AddStringToObject(root, "method", cfg->method);
    cJSON_AddItemToObject(root, "method_params", params);
    cJSON_AddStringToObject(root, "model_hash", model_hash);
    cJSON_AddItemToObject(root, "options", options);
    char *text = print_canonical(root, "run configuration", err);
    cJSON_Delete(root);
    if (!text) return -1;
    results_hash_hex(fnv1a64(text, strlen(text), FNV1A64_INIT), key);
    if (canonical) *canonical = text;
    else free(text);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening and checking files */

static void iso_now(char out[32]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Look at the 100-byte SQLite header of an existing file before SQLite touches it, so that a
   foreign file is refused without gaining a -wal file or a changed header. application_id and
   user_version sit at offsets 68 and 60 (sqlite.org/fileformat.html, "The Database Header"). */
static int check_header(const char *path, struct error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char h[100];
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got < sizeof h || memcmp(h, "SQLite format 3", 16) != 0)
        return error_set(err, "%s: not a sparsemm results database (not an SQLite file%s)", path,
                         got < sizeof h ? ": shorter than the 100-byte header" : "");
    uint32_t app = be32(h + 68), version = be32(h + 60);
    if (app != RESULTS_APPLICATION_ID)
        return error_set(err, "%s: not a sparsemm results database (an SQLite database with "
                         "application_id 0x%08x, expected 0x%08x)", path, app, RESULTS_APPLICATION_ID);
    if (version > RESULTS_SCHEMA_VERSION)
        return error_set(err, "%s: written by a newer sparsemm (schema %u; this build reads %d)",
                         path, version, RESULTS_SCHEMA_VERSION);
    if (version < RESULTS_SCHEMA_VERSION)
        return error_set(err, "%s: schema %u is older than this build's %d and cannot be read",
                         path, version, RESULTS_SCHEMA_VERSION);
    return 0;
}

static int db_error(struct results_db *db, struct error *err, const char *doing) {
    return error_set(err, "%s: %s: %s", db->path, doing, sqlite3_errmsg(db->sql));
}

static int exec(struct results_db *db, const char *sql, struct error *err) {
    char *msg = NULL;
    if (sqlite3_exec(db->sql, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    error_set(err, "%s: %s: %s", db->path, sql, msg ? msg : sqlite3_errmsg(db->sql));
    sqlite3_free(msg);
    return -1;
}

/* One integer from a query without parameters; -1 on error. */
static int64_t query_int(struct results_db *db, const char *sql) {
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A new database is built complete (schema, application_id) under a temporary name and only
   then linked into place, so a process killed at any moment leaves either no file or a whole
   database, never a half-made one that the next open would refuse as foreign. link() does not
   overwrite: of two processes creating the same file at once, the second finds the first's and
   drops its own. An existing empty file (e.g. made by touch) is replaced. */
static int create_atomically(const char *path, int replace_empty, struct error *err) {
    char *tmp = xasprintf("%s.creating-%ld", path, (long)getpid());
    unlink(tmp);
    sqlite3 *sql = NULL;
    int rc = sqlite3_open_v2(tmp, &sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK ? 0 : -1;
    if (rc) error_set(err, "%s: cannot create: %s", path, sql ? sqlite3_errmsg(sql) : "out of memory");
    if (!rc && results_schema_create(sql, err)) rc = error_wrap(err, "%s", path);
    sqlite3_close(sql);
    if (!rc) {
        if (replace_empty) {
            if (rename(tmp, path) != 0) rc = error_set(err, "%s: cannot create: %s", path, strerror(errno));
        } else if (link(tmp, path) != 0 && errno != EEXIST) {
            rc = error_set(err, "%s: cannot create: %s", path, strerror(errno));
        }
    }
    unlink(tmp);
    free(tmp);
    return rc;
}

/* After SQLite opened it: intact (quick_check reads every page, so a truncated or overwritten
   file fails here), and the schema is ours (the meta table agrees with the header). */
static int verify(struct results_db *db, struct error *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s: damaged database: %s", db->path, sqlite3_errmsg(db->sql));
    int rc = sqlite3_step(st);
    const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int ok = res && !strcmp(res, "ok");
    if (!ok) error_set(err, "%s: damaged database (quick_check: %s)", db->path,
                       res ? res : sqlite3_errmsg(db->sql));
    sqlite3_finalize(st);
    if (!ok) return -1;
    int64_t app = query_int(db, "PRAGMA application_id");
    int64_t version = query_int(db, "PRAGMA user_version");
    if (app != RESULTS_APPLICATION_ID || version != RESULTS_SCHEMA_VERSION)
        return error_set(err, "%s: not a sparsemm results database (application_id 0x%08llx, "
                         "user_version %lld)", db->path, (long long)app, (long long)version);
    int64_t meta = query_int(db, "SELECT count(*) FROM meta WHERE key = 'application' AND value = 'sparsemm'");
    if (meta != 1) return error_set(err, "%s: damaged database: the meta table does not name sparsemm", db->path);
    return 0;
}

int results_open(const char *path, enum results_open_mode mode, struct results_db **out,
                 struct error *err) {
    *out = NULL;
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) return error_set(err, "%s: not a regular file", path);
    int fresh = !exists || st.st_size == 0;
    if (fresh && mode != RESULTS_OPEN_CREATE)
        return error_set(err, "%s: no such results database", path);
    if (fresh) {
        if (create_atomically(path, st.st_size == 0 && exists, err)) return -1;
        fresh = 0;
    }
    if (check_header(path, err)) return -1;

    struct results_db *db = xcalloc(1, sizeof *db);
    db->path = xstrdup(path);
    /* Readers open read-write too and forbid writes with query_only: a truly read-only
       connection to a WAL database leaves -wal and -shm files behind when it closes, while the
       last read-write connection checkpoints and removes them. SQLite still falls back to read
       only when the OS write-protects the file. */
    int flags = SQLITE_OPEN_READWRITE | (mode == RESULTS_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db->sql, flags, NULL) != SQLITE_OK) {
        db_error(db, err, "cannot open");
        results_close(db);
        return -1;
    }
    /* A reader waits for a writer's commit instead of failing; a sample takes far longer. */
    sqlite3_busy_timeout(db->sql, 10000);
    int rc = verify(db, err);
    /* WAL: readers (report, plot) never block the sweep. synchronous=FULL: a commit is on disk
       before the insert returns, so a finished sample survives even a power cut. */
    if (rc == 0 && mode != RESULTS_OPEN_READONLY)
        rc = exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", err);
    if (rc == 0) rc = exec(db, "PRAGMA foreign_keys = ON", err);
    if (rc == 0 && mode == RESULTS_OPEN_READONLY) rc = exec(db, "PRAGMA query_only = ON", err);
    if (rc) {
        results_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void results_close(struct results_db *db) {
    if (!db) return;
    sqlite3_close(db->sql);
    free(db->path);
    free(db);
}

/* ------------------------------------------------------------------------------------------ */
/* Runs */

static const char *or_default(const char *s, const char *def) { return s && *s ? s : def; }

static int insert_run(struct results_db *db, const struct run_config *cfg, const char *key,
                      const char *canonical, int64_t *run_id, struct error *err) {
    char *params = results_canonical_json(cfg->method_params, "method_params", err);
    char *options = params ? results_canonical_json(cfg->options, "options", err) : NULL;
    if (!options) {
        free(params);
        return -1;
    }
    char model_hash[17], dataset_hash[17], created[32], host[256] = "unknown";
    results_hash_hex(cfg->model_hash, model_hash);
    results_hash_hex(cfg->dataset_hash, dataset_hash);
    iso_now(created);
    if (!cfg->machine || !*cfg->machine) {
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
    }
    char *name = cfg->model_name && *cfg->model_name ? xstrdup(cfg->model_name)
                                                     : xasprintf("model-%.8s", model_hash);
    const char *sql =
        "INSERT INTO runs (config_key, config_json, model_name, model_path, model_hash, method,"
        " method_params, options, budget, dataset, dataset_path, dataset_hash, backend, threads,"
        " git_rev, machine, created, schema_version)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        const char *text[] = {key, canonical, name, or_default(cfg->model_path, ""), model_hash,
                              cfg->method, params, options};
        for (int i = 0; i < 8; i++) sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 9, cfg->budget);
        sqlite3_bind_text(st, 10, cfg->dataset, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 11, or_default(cfg->dataset_path, ""), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 12, dataset_hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 13, cfg->backend, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 14, cfg->threads);
        sqlite3_bind_text(st, 15, or_default(cfg->git_rev, "unknown"), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 16, or_default(cfg->machine, host), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 17, created, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 18, RESULTS_SCHEMA_VERSION);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    free(name);
    free(params);
    free(options);
    if (rc != SQLITE_DONE) return db_error(db, err, "recording a run");
    *run_id = sqlite3_last_insert_rowid(db->sql);
    return 0;
}

int results_run_upsert(struct results_db *db, const struct run_config *cfg, int64_t *run_id,
                       struct error *err) {
    char key[17], *canonical = NULL;
    if (results_config_key(cfg, key, &canonical, err)) return -1;
    if (exec(db, "BEGIN IMMEDIATE", err)) {
        free(canonical);
        return -1;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT id, config_json FROM runs WHERE config_key = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = db_error(db, err, "looking up a run");
    } else {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *run_id = sqlite3_column_int64(st, 0);
            /* Equal keys with different texts would be a 64-bit hash collision: refuse rather
               than mix two configurations. */
            rc = strcmp((const char *)sqlite3_column_text(st, 1), canonical) == 0 ? 0
               : error_set(err, "%s: run %lld has key %s but another configuration (%s)", db->path,
                           (long long)*run_id, key, (const char *)sqlite3_column_text(st, 1));
        } else if (step == SQLITE_DONE) {
            rc = insert_run(db, cfg, key, canonical, run_id, err);
        } else {
            rc = db_error(db, err, "looking up a run");
        }
        sqlite3_finalize(st);
    }
    free(canonical);
    if (rc) {
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return exec(db, "COMMIT", err);
}

/* ------------------------------------------------------------------------------------------ */
/* Samples and resume */

static int run_exists(struct results_db *db, int64_t run_id, struct error *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, "SELECT 1 FROM runs WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        return db_error(db, err, "looking up a run");
    sqlite3_bind_int64(st, 1, run_id);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found ? 0 : error_set(err, "%s: no run with id %lld", db->path, (long long)run_id);
}

int results_done_keys(struct results_db *db, int64_t run_id, struct results_keys *out,
                      struct error *err) {
    out->keys = NULL;
    out->n = 0;
    if (run_exists(db, run_id, err)) return -1;
    sqlite3_stmt *st;
    /* BINARY collation compares bytes like strcmp, so the rows arrive in bsearch order. */
    if (sqlite3_prepare_v2(db->sql, "SELECT sample_key FROM samples WHERE run_id = ?1 ORDER BY sample_key",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(db, err, "reading finished samples");
    sqlite3_bind_int64(st, 1, run_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) out->keys = xrealloc(out->keys, sizeof *out->keys * (cap = cap ? 2 * cap : 64));
        out->keys[out->n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        results_keys_free(out);
        return db_error(db, err, "reading finished samples");
    }
    return 0;
}

static int compare_key(const void *a, const void *b) {
    return strcmp(a, *(char *const *)b);
}

int results_keys_contains(const struct results_keys *keys, const char *key) {
    return keys->n && bsearch(key, keys->keys, keys->n, sizeof *keys->keys, compare_key) != NULL;
}

void results_keys_free(struct results_keys *keys) {
    if (!keys) return;
    for (size_t i = 0; i < keys->n; i++) free(keys->keys[i]);
    free(keys->keys);
    keys->keys = NULL;
    keys->n = 0;
}

void results_sample_init(struct sample_result *res) {
    memset(res, 0, sizeof *res);
    res->score = res->prefill_ms = res->decode_ms_per_token = NAN;
    res->prompt_tokens = res->visual_tokens = res->generated_tokens = res->kept_tokens = -1;
    res->kv_bytes = res->peak_rss_bytes = res->device_peak_bytes = -1;
}

static void bind_count(sqlite3_stmt *st, int i, int64_t v) {
    if (v < 0) sqlite3_bind_null(st, i);
    else sqlite3_bind_int64(st, i, v);
}

static void bind_real(sqlite3_stmt *st, int i, double v) {
    if (isnan(v)) sqlite3_bind_null(st, i);
    else sqlite3_bind_double(st, i, v);
}

/* kept_per_layer as a JSON array "[k0,k1,...]" into *out (NULL when absent; caller frees), and
   the total into *kept when the caller left kept_tokens unset. */
static int layers_json(const struct sample_result *res, const char *where, char **out,
                       int64_t *kept, struct error *err) {
    *out = NULL;
    *kept = res->kept_tokens;
    if (res->n_layers <= 0 || !res->kept_per_layer) return 0;
    size_t cap = 2 + (size_t)res->n_layers * 21, n = 0;
    char *s = xmalloc(cap);
    int64_t sum = 0;
    s[n++] = '[';
    for (int l = 0; l < res->n_layers; l++) {
        int64_t k = res->kept_per_layer[l];
        if (k < 0) {
            free(s);
            return error_set(err, "%s: kept_per_layer[%d] = %lld < 0", where, l, (long long)k);
        }
        sum += k;
        n += (size_t)snprintf(s + n, cap - n, "%s%lld", l ? "," : "", (long long)k);
    }
    s[n++] = ']';
    s[n] = 0;
    if (res->kept_tokens >= 0 && res->kept_tokens != sum) {
        free(s);
        return error_set(err, "%s: kept_tokens %lld differs from the sum over layers %lld", where,
                         (long long)res->kept_tokens, (long long)sum);
    }
    *out = s;
    *kept = sum;
    return 0;
}

int results_sample_insert(struct results_db *db, int64_t run_id, const struct sample_result *res,
                          struct error *err) {
    if (!res->sample_key || !*res->sample_key)
        return error_set(err, "%s: run %lld: sample with an empty key", db->path, (long long)run_id);
    char where[256];
    snprintf(where, sizeof where, "%s: run %lld sample '%s'", db->path, (long long)run_id, res->sample_key);
    char *layers;
    int64_t kept;
    if (layers_json(res, where, &layers, &kept, err)) return -1;
    char created[32];
    iso_now(created);
    const char *sql =
        "INSERT INTO samples (run_id, sample_key, category, prediction, score, prompt_tokens,"
        " visual_tokens, generated_tokens, kept_tokens, kept_per_layer, prefill_ms,"
        " decode_ms_per_token, kv_bytes, peak_rss_bytes, device_peak_bytes, error, created)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        free(layers);
        return db_error(db, err, "recording a sample");
    }
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, res->sample_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, res->category, -1, SQLITE_STATIC);      /* NULL binds NULL */
    sqlite3_bind_text(st, 4, res->prediction, -1, SQLITE_STATIC);
    bind_real(st, 5, res->score);
    bind_count(st, 6, res->prompt_tokens);
    bind_count(st, 7, res->visual_tokens);
    bind_count(st, 8, res->generated_tokens);
    bind_count(st, 9, kept);
    sqlite3_bind_text(st, 10, layers, -1, SQLITE_STATIC);
    bind_real(st, 11, res->prefill_ms);
    bind_real(st, 12, res->decode_ms_per_token);
    bind_count(st, 13, res->kv_bytes);
    bind_count(st, 14, res->peak_rss_bytes);
    bind_count(st, 15, res->device_peak_bytes);
    sqlite3_bind_text(st, 16, res->error, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 17, created, -1, SQLITE_STATIC);
    /* One statement in autocommit mode is one transaction: the row, layers included, is either
       committed whole or absent. */
    rc = sqlite3_step(st);
    int ext = sqlite3_extended_errcode(db->sql);
    sqlite3_finalize(st);
    free(layers);
    if (rc == SQLITE_DONE) return 0;
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return error_set(err, "%s: already recorded (a sample is never written twice)", where);
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return error_set(err, "%s: no such run", where);
    return db_error(db, err, "recording a sample");
}

/* ------------------------------------------------------------------------------------------ */
/* Bench rows */

int results_bench_insert(struct results_db *db, const struct bench_row *row, struct error *err) {
    if (!row->method || !*row->method || !row->backend || !*row->backend)
        return error_set(err, "%s: bench row without method or backend", db->path);
    if (row->context_len <= 0 || row->budget < 0)
        return error_set(err, "%s: bench row %s: context %lld, budget %d out of range", db->path,
                         row->method, (long long)row->context_len, row->budget);
    char *params = results_canonical_json(row->method_params, "method_params", err);
    if (!params) return -1;
    char model_hash[17], created[32], host[256] = "unknown";
    results_hash_hex(row->model_hash, model_hash);
    iso_now(created);
    if (!row->machine || !*row->machine) {
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
    }
    char *name = row->model_name && *row->model_name ? xstrdup(row->model_name)
                                                     : xasprintf("model-%.8s", model_hash);
    const char *sql =
        "INSERT INTO bench (model_name, model_hash, method, method_params, budget, context_len,"
        " prefill_ms, decode_ms_per_token, decode_steps, peak_rss_bytes, device_peak_bytes,"
        " kv_bytes, backend, threads, git_rev, machine, created)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, model_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, row->method, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, params, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, row->budget);
        sqlite3_bind_int64(st, 6, row->context_len);
        bind_real(st, 7, row->prefill_ms);
        bind_real(st, 8, row->decode_ms_per_token);
        sqlite3_bind_int(st, 9, row->decode_steps);
        bind_count(st, 10, row->peak_rss_bytes);
        bind_count(st, 11, row->device_peak_bytes);
        bind_count(st, 12, row->kv_bytes);
        sqlite3_bind_text(st, 13, row->backend, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 14, row->threads);
        sqlite3_bind_text(st, 15, or_default(row->git_rev, "unknown"), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 16, or_default(row->machine, host), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 17, created, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    free(name);
    free(params);
    return rc == SQLITE_DONE ? 0 : db_error(db, err, "recording a bench row");
}
