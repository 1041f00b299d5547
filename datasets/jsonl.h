/*
 * jsonl.h: the entries of an annotation file, whatever its container: the elements of a JSON
 * array (at the top level, as OCRBench.json and synthdog-en.json, or under "data", as the
 * TextVQA and DocVQA files), or the lines of a JSONL file (one object per line, blank lines
 * ignored). Per-entry problems (a line that does not parse) are kept per entry, so a loader in
 * skip mode can record them and go on; only file-level problems fail the whole read.
 */
#ifndef SPARSEMM_DATASETS_JSONL_H
#define SPARSEMM_DATASETS_JSONL_H

#include <cjson/cJSON.h>
#include "engine/util.h"

struct json_entries {
    int n;
    cJSON **items;  /* [n] the entries; NULL where a JSONL line did not parse */
    int *lines;     /* [n] 1-based line of each JSONL entry; 0 for a JSON array */
    char **errors;  /* [n] why items[i] is NULL, else NULL */
    cJSON *root;    /* JSON: the whole document (items point into it); JSONL: NULL, items owned */
};

/* Is this path a JSONL file by its extension (.jsonl, .ndjson)? */
int path_is_jsonl(const char *path);

/* Read path as JSONL (jsonl = 1) or JSON (0). limit > 0 keeps only the first `limit` entries.
   Free with json_entries_free. */
int json_entries_load(const char *path, int jsonl, int limit, struct json_entries *out,
                      struct error *err);
void json_entries_free(struct json_entries *e);

#endif
