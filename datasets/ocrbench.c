/*
 * ocrbench.c: OCRBench v1 entries (shared/research/datasets.md §3.1, §3.3, §4).
 *
 * Official OCRBench.json: a JSON array of {dataset_name, id, image_path, question, answers,
 * type}; `answers` is a string (851 items) or a list (149). `id` is NOT unique (857 distinct
 * values in 1000 items), so the sample key is the position in the file. The lmms-lab parquet
 * export names the fields dataset, question_type, answer and image; those load too.
 * dataset_name is kept as the sample's source (the HME100k rule keys on it) and type is its
 * category.
 *
 * The prompt is lmms-eval's: question.strip(), nothing added.
 */
#include "datasets/loader.h"

#include <stdlib.h>
#include "datasets/pystr.h"

static const char *const SOURCE[] = {"dataset_name", "dataset", NULL};
static const char *const TYPE[] = {"type", "question_type", "category", NULL};
static const char *const IMAGE[] = {"image_path", "image", NULL};
static const char *const QUESTION[] = {"question", NULL};
static const char *const ANSWERS[] = {"answers", "answer", NULL};

int ocrbench_parse(const cJSON *e, int index, const struct load_ctx *ctx, struct sample *s,
                   struct error *err) {
    s->key = xasprintf("%d", index);
    char *image = NULL;
    s->categories = xcalloc(1, sizeof *s->categories);
    if (entry_object(e, err) || entry_string(e, SOURCE, &s->source, err) ||
        entry_string(e, TYPE, &s->categories[0], err))
        return -1;
    s->n_categories = 1;
    if (entry_string(e, QUESTION, &s->question, err) ||
        entry_strings(e, ANSWERS, 1, &s->answers, &s->n_answers, err) ||
        entry_string(e, IMAGE, &image, err))
        return -1;
    int rc = entry_image(ctx, image, &s->image, err);
    free(image);
    if (rc) return -1;
    s->prompt = pystr_strip(s->question);
    return 0;
}
