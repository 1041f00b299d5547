/*
 * textvqa.c: TextVQA entries (shared/research/datasets.md §1.2, §1.4, §4).
 *
 * Official TextVQA_0.5.1_val.json: {"data": [{question, question_id, image_id, answers[10],
 * set_name, ...}]}, images at <root>/train_images/<image_id>.jpg (validation images live in
 * train_images/; test ones in test_images/). A JSONL export may instead give the image path
 * directly in "image" (relative to the root), and "qid" for question_id.
 * LLaVA's layout keeps the images flat in one folder: when <root>/train_images/<id>.jpg does
 * not exist but <root>/<id>.jpg does, that one is used, so images= may name either folder.
 *
 * The prompt is lmms-eval's: question.capitalize() (which lower-cases the rest of the
 * question!) followed by "\nAnswer the question using a single word or phrase."
 */
#include "datasets/loader.h"

#include <stdlib.h>
#include <string.h>
#include "datasets/pystr.h"

static const char *const KEY[] = {"question_id", "qid", NULL};
static const char *const QUESTION[] = {"question", NULL};
static const char *const ANSWERS[] = {"answers", NULL};
static const char *const IMAGE[] = {"image", NULL};
static const char *const IMAGE_ID[] = {"image_id", NULL};

/* The image of an entry that names only its image_id. */
static int image_from_id(const cJSON *e, const struct load_ctx *ctx, char **out, struct error *err) {
    char *id;
    if (entry_string(e, IMAGE_ID, &id, err)) return error_wrap(err, "no 'image' path either");
    const char *set = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "set_name"));
    char *rel = xasprintf("%s/%s.jpg", set && !strcmp(set, "test") ? "test_images" : "train_images", id);
    char *path = path_join(ctx->images_root, rel);
    int rc = 0;
    if (ctx->check_images && !file_exists(path)) {
        char *flat = xasprintf("%s.jpg", id);
        char *flat_path = path_join(ctx->images_root, flat);
        if (file_exists(flat_path)) {
            free(path);
            path = flat_path;
            flat_path = NULL;
        } else {
            rc = error_set(err, "image '%s' not found (looked for %s and %s; set the folder with :images=DIR)",
                           rel, path, flat_path);
        }
        free(flat_path);
        free(flat);
    }
    if (rc) free(path);
    else *out = path;
    free(rel);
    free(id);
    return rc;
}

int textvqa_parse(const cJSON *e, int index, const struct load_ctx *ctx, struct sample *s,
                  struct error *err) {
    (void)index;
    if (entry_object(e, err) || entry_key(e, KEY, &s->key, err) ||
        entry_string(e, QUESTION, &s->question, err) ||
        entry_strings(e, ANSWERS, 0, &s->answers, &s->n_answers, err))
        return -1;
    if (s->n_answers != 10)
        return error_set(err, "field 'answers' has %d entries; TextVQA accuracy needs the 10 human answers",
                         s->n_answers);
    const char *image = cJSON_GetStringValue(entry_field(e, IMAGE));
    if (image ? entry_image(ctx, image, &s->image, err) : image_from_id(e, ctx, &s->image, err)) return -1;
    char *cap = pystr_capitalize(s->question);
    s->prompt = xasprintf("%s%s", cap, benchmark_get(BENCH_TEXTVQA)->prompt_suffix);
    free(cap);
    return 0;
}
