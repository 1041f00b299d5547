/*
 * db.h: the results database as the sweep runner and the bench command see it.
 *
 * A results file is an SQLite database in WAL mode made by this program (results/schema.c). The
 * runner's loop is:
 *
 *     results_open(path, RESULTS_OPEN_CREATE, &db, &err);
 *     results_run_upsert(db, &cfg, &run_id, &err);        same configuration -> same run_id
 *     results_done_keys(db, run_id, &done, &err);          what a previous attempt finished
 *     for each sample not in done:  ... run it ...; results_sample_insert(db, run_id, &res, &err);
 *     results_close(db);
 *
 * Every insert is its own transaction committed with synchronous=FULL, so a crash, kill -9 or
 * Ctrl-C loses at most the sample being computed, and a rerun of the same command continues.
 * A configuration is identified by a hash of its canonical JSON (results_config_key); results of
 * different configurations never share a run.
 *
 * Foreign files are refused before SQLite writes anything to them: a file that is not SQLite,
 * an SQLite database of another application, a database from a newer schema, or a damaged one.
 */
#ifndef SPARSEMM_RESULTS_DB_H
#define SPARSEMM_RESULTS_DB_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "engine/util.h"

/* What the runner fills once per (model, method, budget, dataset) it sweeps. Strings are
   borrowed for the duration of the call. */
struct run_config {
    /* Identity: these fields (and only these) form the configuration key. */
    uint64_t model_hash;        /* hash_file() of the weights index (model.safetensors.index.json,
                                   or the single .safetensors file): the model's identity */
    const char *method;         /* registry name, lower case: "fullkv", "snapkv", "sparsemm", ... */
    const char *method_params;  /* JSON object of every parameter incl. defaults (window, kernel,
                                   ratio, seed, head-score file hash, ...); NULL means "{}".
                                   Canonicalised here (keys sorted), so key order never matters */
    int budget;                 /* KV tokens per KV head including the window; 0 = no budget
                                   (fullkv: record it once with 0, reports draw it as a line) */
    const char *dataset;        /* benchmark kind: "textvqa", "docvqa", "ocrbench", ... */
    uint64_t dataset_hash;      /* hash_file() of the benchmark file */
    const char *backend;        /* "cpu" or "cuda" */
    const char *options;        /* JSON object of any other setting that changes results
                                   (max new tokens, prompt override, image resolution); NULL = {} */

    /* Provenance: recorded by the first writer of the run, never part of the key, so shards on
       other machines, other paths or other thread counts join the same run. */
    const char *model_name;     /* label for reports and plots, e.g. "llava-1.5-7b" */
    const char *model_path;     /* checkpoint directory as given on the command line */
    const char *dataset_path;   /* benchmark file as given */
    int threads;                /* CPU threads of the engine */
    const char *git_rev;        /* `git describe --always --dirty` of the build, or "unknown" */
    const char *machine;        /* host name */
};

/* One finished (or failed) sample. Integers < 0 and NaN doubles mean "not measured" and are
   stored as NULL; results_sample_init sets every field to that. Strings are borrowed. */
struct sample_result {
    const char *sample_key;     /* the dataset's stable id of the item (question id), unique per run */
    const char *category;       /* OCRBench category / question type, or NULL */
    const char *prediction;     /* the answer as generated, or NULL (errors) */
    double score;               /* the dataset's metric for this item: VQA accuracy, ANLS, 0/1 */
    int64_t prompt_tokens;      /* tokens prefilled, visual tokens included */
    int64_t visual_tokens;      /* image tokens among them */
    int64_t generated_tokens;   /* tokens decoded */
    int64_t kept_tokens;        /* KV entries kept after prefill compression, summed over layers and
                                   KV heads; must equal the sum of kept_per_layer when both given */
    double prefill_ms;          /* wall time of the prefill, compression included */
    double decode_ms_per_token; /* decode wall time / generated tokens */
    int64_t kv_bytes;           /* bytes of K and V held after compression (all layers) */
    int64_t peak_rss_bytes;     /* process peak RSS so far (VmHWM: monotone over a process) */
    int64_t device_peak_bytes;  /* device allocator peak during this sample; -1 on the CPU */
    const char *error;          /* NULL for a normal sample; why it was skipped or broke
                                   otherwise. Errored samples count as done for resume */
    int n_layers;               /* entries in kept_per_layer; 0 = not recorded */
    const int64_t *kept_per_layer; /* [n_layers]: KV entries kept in each layer (sum over KV heads) */
};

/* One timing of the efficiency experiment (`sparsemm bench`). Strings are borrowed. */
struct bench_row {
    const char *model_name;
    uint64_t model_hash;
    const char *method;
    const char *method_params;  /* JSON object or NULL = {} (canonicalised) */
    int budget;                 /* 0 for fullkv */
    int64_t context_len;        /* prompt tokens prefilled before decoding */
    double prefill_ms;          /* one prefill of context_len tokens */
    double decode_ms_per_token; /* mean over decode_steps single-token steps */
    int decode_steps;
    int64_t peak_rss_bytes;     /* process peak RSS, weights included */
    int64_t device_peak_bytes;  /* device allocator peak, weights included; -1 on the CPU */
    int64_t kv_bytes;           /* K and V bytes after compression */
    const char *backend;
    int threads;
    const char *git_rev;
    const char *machine;
};

struct results_db {
    sqlite3 *sql;               /* open connection; callers may run read queries on it */
    char *path;
};

enum results_open_mode {
    RESULTS_OPEN_CREATE,        /* read-write; create the file (and schema) when absent or empty */
    RESULTS_OPEN_EXISTING,      /* read-write; the file must already be a results database */
    RESULTS_OPEN_READONLY,      /* read only; the file must already be a results database */
};

/* Open or create a results database. *out is owned by the caller: results_close it. */
int results_open(const char *path, enum results_open_mode mode, struct results_db **out,
                 struct error *err);
/* Close (checkpointing the WAL) and free; NULL is a no-op. */
void results_close(struct results_db *db);

/* The configuration key (16 lower-case hex digits + NUL) and, when canonical is not NULL, the
   canonical JSON it hashes (caller frees). Fails on malformed method_params/options JSON. */
int results_config_key(const struct run_config *cfg, char key[17], char **canonical,
                       struct error *err);

/* Find the run with cfg's key or create it; *run_id gets its id. Calling it again with an equal
   configuration returns the same id and changes nothing. */
int results_run_upsert(struct results_db *db, const struct run_config *cfg, int64_t *run_id,
                       struct error *err);

/* A sorted set of sample keys. */
struct results_keys {
    char **keys;                /* [n], ascending strcmp order, each owned */
    size_t n;
};

/* The keys of every sample recorded for run_id (errored ones included). Caller frees with
   results_keys_free. */
int results_done_keys(struct results_db *db, int64_t run_id, struct results_keys *out,
                      struct error *err);
int results_keys_contains(const struct results_keys *keys, const char *key);
void results_keys_free(struct results_keys *keys);

/* Every field "not measured": integers -1, doubles NaN, pointers NULL. */
void results_sample_init(struct sample_result *res);

/* Record one sample in its own transaction. Refuses a (run, sample key) already recorded, with
   a message naming both, and leaves the database as it was. */
int results_sample_insert(struct results_db *db, int64_t run_id, const struct sample_result *res,
                          struct error *err);

/* Record one bench timing in its own transaction. */
int results_bench_insert(struct results_db *db, const struct bench_row *row, struct error *err);

/* Canonical form of a JSON object text (keys sorted recursively, no whitespace); NULL or ""
   gives "{}". `what` names the field in error messages. Caller frees. */
char *results_canonical_json(const char *json, const char *what, struct error *err);

/* Format a 64-bit hash as 16 lower-case hex digits. */
void results_hash_hex(uint64_t h, char out[17]);

#endif
