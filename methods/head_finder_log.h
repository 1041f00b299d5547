/*
 * head_finder_log.h: the head finder's resume file. Samples are independent, so each finished
 * one is appended as one JSON line and synced to disk at once; a re-run of the same command reads
 * the file back and computes only what is missing. A run killed while writing leaves at most an
 * unterminated last line, which is dropped (and cut off the file) on the next open.
 *
 *   {"sparsemm_heads_log": 1, "config": {...}}      first line: what the scores depend on
 *   {"key": "17", "generated": 412, "matched": 96, "hits": 1204, "scores": [L*H sums]}
 *
 * A log written under another configuration (any field of config differs) is refused with the
 * field named, never mixed with this run's samples.
 */
#ifndef SPARSEMM_HEAD_FINDER_LOG_H
#define SPARSEMM_HEAD_FINDER_LOG_H

#include <stdio.h>

#include "engine/json.h"
#include "methods/head_finder.h"

#define HEAD_LOG_VERSION 1

struct head_log_entry {
    char *key;
    double *score;     /* [n_layers * n_heads] */
    int n_generated, n_matched, n_hits;
};

struct head_log {
    char *path;
    FILE *f;           /* open for appending */
    int n_layers, n_heads;
    struct head_log_entry *entries; /* [n], file order, one per key */
    int n, cap;
};

/* Open (creating it with config as its header) or reopen a log. config: an object of scalar
   fields. Errors name the file and line, or the config field that differs. On failure the log
   is empty and closed. Close with head_log_close. */
int head_log_open(struct head_log *log, const char *path, const cJSON *config, int n_layers, int n_heads,
                  struct error *err);
/* The entry for a sample key, or NULL. */
const struct head_log_entry *head_log_find(const struct head_log *log, const char *key);
/* Append one finished sample (and keep it in log->entries). */
int head_log_append(struct head_log *log, const char *key, const struct head_sample *s, struct error *err);
void head_log_close(struct head_log *log);

#endif
