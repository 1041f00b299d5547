/*
 * synthdog.c: the head finder's OCR pages (sparsemm.md §1.1): the JSON list SparseMM's
 * preprocessing writes, [{id, image_name, 2_coord: [{chunk, coord: [[x0, y0], [x1, y1]]}]}],
 * coordinates in pixels of the original image. image_name is a path, resolved against the
 * images root when relative.
 *
 * The prompt is the head finder's fixed question; the sample's one answer is the page's text,
 * the chunks joined by spaces in file order, so a model's OCR output can be compared with it.
 */
#include "datasets/loader.h"

#include <stdlib.h>
#include <string.h>

const char synthdog_question[] = "Provide all the OCR results of this image.";

static const char *const KEY[] = {"id", NULL};
static const char *const IMAGE[] = {"image_name", "image", NULL};
static const char *const COORDS[] = {"2_coord", NULL};

/* coord: [[x0, y0], [x1, y1]] */
static int parse_coord(const cJSON *coord, struct ocr_box *b) {
    double v[4];
    if (!cJSON_IsArray(coord) || cJSON_GetArraySize(coord) != 2) return -1;
    for (int p = 0; p < 2; p++) {
        const cJSON *pt = cJSON_GetArrayItem(coord, p);
        if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) != 2) return -1;
        for (int c = 0; c < 2; c++) {
            const cJSON *x = cJSON_GetArrayItem(pt, c);
            if (!cJSON_IsNumber(x)) return -1;
            v[2 * p + c] = x->valuedouble;
        }
    }
    b->x0 = v[0], b->y0 = v[1], b->x1 = v[2], b->y1 = v[3];
    return 0;
}

static int parse_boxes(const cJSON *list, struct sample *s, struct error *err) {
    if (!cJSON_IsArray(list)) return error_set(err, "field '2_coord' is not a list");
    s->boxes = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *s->boxes);
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        struct ocr_box *b = &s->boxes[s->n_boxes];
        const char *chunk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "chunk"));
        if (!chunk) return error_set(err, "field '2_coord': item %d has no string 'chunk'", s->n_boxes);
        if (parse_coord(cJSON_GetObjectItemCaseSensitive(item, "coord"), b))
            return error_set(err, "field '2_coord': item %d: 'coord' is not [[x0, y0], [x1, y1]]", s->n_boxes);
        b->text = xstrdup(chunk);
        s->n_boxes++;
    }
    return 0;
}

int synthdog_parse(const cJSON *e, int index, const struct load_ctx *ctx, struct sample *s,
                   struct error *err) {
    (void)index;
    char *image = NULL;
    if (entry_object(e, err) || entry_key(e, KEY, &s->key, err) || entry_string(e, IMAGE, &image, err))
        return -1;
    int rc = entry_image(ctx, image, &s->image, err);
    free(image);
    if (rc) return -1;
    const cJSON *coords = entry_field(e, COORDS);
    if (!coords) return error_set(err, "field '2_coord' missing");
    if (parse_boxes(coords, s, err)) return -1;
    size_t len = 1;
    for (int i = 0; i < s->n_boxes; i++) len += strlen(s->boxes[i].text) + 1;
    char *text = xcalloc(len, 1);
    for (int i = 0; i < s->n_boxes; i++) {
        if (i) strcat(text, " ");
        strcat(text, s->boxes[i].text);
    }
    s->answers = xmalloc(sizeof *s->answers);
    s->answers[0] = text;
    s->n_answers = 1;
    s->question = xstrdup(synthdog_question);
    s->prompt = xstrdup(synthdog_question);
    return 0;
}
