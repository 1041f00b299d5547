/*
 * loader.h: the contract between the generic loading loop (dataset.c) and the per-benchmark
 * entry parsers (textvqa.c, docvqa.c, ocrbench.c, synthdog.c), plus the field helpers they
 * share (entry.c). Internal to datasets/.
 *
 * A parser fills one sample from one JSON object. It sets s->key first, so that a later error
 * can be reported with the key; its messages name the field ("field 'answers' missing") and
 * the loop prefixes file, position and key. On error the loop frees the partial sample.
 * Each parser accepts the official field names and the aliases of the harnesses' exports
 * (lmms-eval parquet columns, shared/research/datasets.md §4), official name first.
 */
#ifndef SPARSEMM_DATASETS_LOADER_H
#define SPARSEMM_DATASETS_LOADER_H

#include <cjson/cJSON.h>
#include "datasets/dataset.h"

struct load_ctx {
    const char *images_root;
    int check_images;
};

typedef int (*entry_parser)(const cJSON *e, int index, const struct load_ctx *ctx,
                            struct sample *s, struct error *err);

int textvqa_parse(const cJSON *e, int index, const struct load_ctx *ctx, struct sample *s,
                  struct error *err);
int docvqa_parse(const cJSON *e, int index, const struct load_ctx *ctx, struct sample *s,
                 struct error *err);
int ocrbench_parse(const cJSON *e, int index, const struct load_ctx *ctx, struct sample *s,
                   struct error *err);
int synthdog_parse(const cJSON *e, int index, const struct load_ctx *ctx, struct sample *s,
                   struct error *err);

/* The head finder's question (sparsemm.md §1.1), the synthdog samples' prompt. */
extern const char synthdog_question[];

/* Field helpers. `names` is a NULL-terminated list of accepted names; messages use the first. */

/* The first of names present (and not null) in e, or NULL. */
const cJSON *entry_field(const cJSON *e, const char *const *names);
/* Fail unless e is an object. */
int entry_object(const cJSON *e, struct error *err);
/* An id as a string: strings as they are, integral numbers in decimal. */
int entry_key(const cJSON *e, const char *const *names, char **out, struct error *err);
/* A required string field, copied. */
int entry_string(const cJSON *e, const char *const *names, char **out, struct error *err);
/* A required non-empty list of strings; with allow_string a single string becomes a list of
   one (OCRBench's answers). */
int entry_strings(const cJSON *e, const char *const *names, int allow_string, char ***out, int *n,
                  struct error *err);
/* Resolve an image path against the images root; with check_images, fail if it is missing. */
int entry_image(const struct load_ctx *ctx, const char *rel, char **out, struct error *err);

#endif
