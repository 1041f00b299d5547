/*
 * docvqa.c: DocVQA entries (shared/research/datasets.md §2.1, §2.3, §4).
 *
 * Official val_v1.0.json: {"data": [{questionId, question, image: "documents/x.png", answers,
 * question_types (only in the *_withQT files), ...}]}, image paths relative to the split's
 * folder. The lmms-lab parquet export has questionId as a string; both forms load.
 * question_types become the sample's categories (a question may have several).
 *
 * The prompt is lmms-eval's: the question as is + "\nAnswer the question using a single word
 * or phrase."
 */
#include "datasets/loader.h"

#include <stdlib.h>

static const char *const KEY[] = {"questionId", "qid", NULL};
static const char *const QUESTION[] = {"question", NULL};
static const char *const ANSWERS[] = {"answers", NULL};
static const char *const IMAGE[] = {"image", NULL};
static const char *const TYPES[] = {"question_types", NULL};

int docvqa_parse(const cJSON *e, int index, const struct load_ctx *ctx, struct sample *s,
                 struct error *err) {
    (void)index;
    char *image = NULL;
    if (entry_object(e, err) || entry_key(e, KEY, &s->key, err) ||
        entry_string(e, QUESTION, &s->question, err) ||
        entry_strings(e, ANSWERS, 0, &s->answers, &s->n_answers, err) ||
        entry_string(e, IMAGE, &image, err))
        return -1;
    int rc = entry_image(ctx, image, &s->image, err);
    free(image);
    if (rc) return -1;
    if (entry_field(e, TYPES) && entry_strings(e, TYPES, 0, &s->categories, &s->n_categories, err))
        return -1;
    s->prompt = xasprintf("%s%s", s->question, benchmark_get(BENCH_DOCVQA)->prompt_suffix);
    return 0;
}
