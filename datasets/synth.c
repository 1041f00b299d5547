/*
 * synth.c: the generator's driver: options, per-image seeding, the question helpers the
 * generators share, and synth_write, which renders images in turn and writes each kind's
 * official layout (see synth.h). Image j is seeded with rng_mix(rng_mix(seed, kind, split), j)
 * only, so it never depends on --n or on the images before it.
 */
#include "datasets/synth_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "engine/json.h"
#include "engine/unicode.h"

struct synth {
    struct synth_options o;
    struct fontset fonts;
};

static const char *const kind_names[SYNTH_KINDS] = {"textvqa", "docvqa", "ocrbench", "synthdog"};

void synth_options_init(struct synth_options *o, enum synth_kind kind) {
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->split = SYNTH_TRAIN;
    o->n = 100;
    o->width = o->height = 336;
    o->per_image = 1;
    o->jpeg_quality = 95;
}

int synth_kind_parse(const char *name, enum synth_kind *kind) {
    for (int k = 0; k < SYNTH_KINDS; k++)
        if (!strcmp(name, kind_names[k])) {
            *kind = (enum synth_kind)k;
            return 0;
        }
    return -1;
}

void font_range(const struct synth_ctx *c, int lo, int hi, int *min, int *max) {
    int side = c->o->width < c->o->height ? c->o->width : c->o->height;
    *min = c->o->font_min > 0 ? c->o->font_min : lo * side / 336;
    *max = c->o->font_max > 0 ? c->o->font_max : hi * side / 336;
    if (*min < 6) *min = 6;
    if (*max < *min) *max = *min;
}

void qa_add(struct synth_item *it, const char *question, const char *answer, int box, int n_box,
            const char *category, const char *source) {
    it->qas = xrealloc(it->qas, (size_t)(it->n_qas + 1) * sizeof *it->qas);
    struct synth_qa *qa = &it->qas[it->n_qas++];
    *qa = (struct synth_qa){xstrdup(question), NULL, 0, category, source, box, n_box};
    qa_add_answer(qa, answer);
}

void qa_add_answer(struct synth_qa *qa, const char *answer) {
    qa->answers = xrealloc(qa->answers, (size_t)(qa->n_answers + 1) * sizeof *qa->answers);
    qa->answers[qa->n_answers++] = xstrdup(answer);
}

void qa_shuffle(struct synth_item *it, struct rng *r) {
    for (int i = it->n_qas - 1; i > 0; i--) {
        int j = rng_int(r, 0, i);
        struct synth_qa t = it->qas[i];
        it->qas[i] = it->qas[j], it->qas[j] = t;
    }
}

int synth_open(const struct synth_options *o, struct synth **out, struct error *err) {
    *out = NULL;
    if ((unsigned)o->kind >= SYNTH_KINDS) return error_set(err, "synth: unknown kind");
    if (o->width < 32 || o->height < 32 || o->width > 8192 || o->height > 8192)
        return error_set(err, "synth: image size %dx%d is outside 32..8192", o->width, o->height);
    if (o->n < 0) return error_set(err, "synth: --n must be >= 0");
    if (o->per_image < 1) return error_set(err, "synth: --per-image must be >= 1");
    if (o->font_min < 0 || o->font_max < 0 || (o->font_max && o->font_min > o->font_max))
        return error_set(err, "synth: font sizes %d..%d are not a range", o->font_min, o->font_max);
    if (o->words_min < 0 || o->words_max < 0 || o->lines_min < 0 || o->lines_max < 0)
        return error_set(err, "synth: word and line counts must not be negative (0: the default)");
    if (o->jpeg_quality < 1 || o->jpeg_quality > 100) return error_set(err, "synth: JPEG quality must be 1..100");
    struct synth *g = xcalloc(1, sizeof *g);
    g->o = *o;
    if (fontset_open(&g->fonts, o->font_dir, o->fonts, err)) {
        free(g);
        return error_wrap(err, "synth");
    }
    *out = g;
    return 0;
}

void synth_close(struct synth *g) {
    if (!g) return;
    fontset_close(&g->fonts);
    free(g);
}

int synth_render(struct synth *g, int index, struct synth_item *out, struct error *err) {
    struct rng r;
    rng_seed(&r, rng_mix(rng_mix(g->o.seed, (uint64_t)g->o.kind * 2 + g->o.split), (uint64_t)index));
    struct synth_ctx c = {&g->o, &g->fonts};
    int rc = 0;
    switch (g->o.kind) {
    case SYNTH_TEXTVQA: rc = synth_scene(&c, &r, out, err); break;
    case SYNTH_DOCVQA: rc = synth_doc(&c, &r, 0, out, err); break;
    case SYNTH_OCRBENCH: rc = synth_ocrbench(&c, &r, index, out, err); break;
    default: rc = synth_page(&c, &r, out, err); break;
    }
    if (rc) synth_item_free(out);
    return rc;
}

void synth_item_free(struct synth_item *it) {
    if (!it) return;
    image_free(&it->img);
    free(it->ink);
    for (int i = 0; i < it->n_boxes; i++) free(it->boxes[i].text);
    free(it->boxes);
    for (int i = 0; i < it->n_qas; i++) {
        free(it->qas[i].question);
        for (int k = 0; k < it->qas[i].n_answers; k++) free(it->qas[i].answers[k]);
        free(it->qas[i].answers);
    }
    free(it->qas);
    memset(it, 0, sizeof *it);
}

/* ---- writing the official layouts ---- */

const char *synth_annotation_name(const struct synth_options *o) {
    int eval = o->split == SYNTH_EVAL;
    switch (o->kind) {
    case SYNTH_TEXTVQA: return eval ? "TextVQA_0.5.1_val.json" : "TextVQA_0.5.1_train.json";
    case SYNTH_DOCVQA: return eval ? "val_v1.0.json" : "train_v1.0.json";
    case SYNTH_OCRBENCH: return "OCRBench.json";
    default: return "synthdog-en.json";
    }
}

/* What synth_write accumulates while it renders. */
struct writer {
    const struct synth_options *o;
    const char *out;
    cJSON *entries;      /* the annotation file's entries, in order */
    cJSON *boxes;        /* ocr_boxes.json entries (not for synthdog) */
    int questions;
    int source_count[8]; /* OCRBench: next id per dataset_name, by first-seen order */
    const char *sources[8];
};

/* mkdir -p for the folder part of out/rel. */
static int make_dirs(const char *out, const char *rel, struct error *err) {
    char *path = path_join(out, rel);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0755) && errno != EEXIST) {
            error_set(err, "%s: cannot create folder: %s", path, strerror(errno));
            free(path);
            return -1;
        }
        *p = '/';
    }
    free(path);
    return 0;
}

static cJSON *coords_json(const struct synth_item *it) {
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; i < it->n_boxes; i++) {
        const struct ocr_box *b = &it->boxes[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "chunk", b->text);
        int v[4] = {(int)b->x0, (int)b->y0, (int)b->x1, (int)b->y1};
        cJSON *coord = cJSON_AddArrayToObject(e, "coord");
        cJSON_AddItemToArray(coord, cJSON_CreateIntArray(v, 2));
        cJSON_AddItemToArray(coord, cJSON_CreateIntArray(v + 2, 2));
        cJSON_AddItemToArray(list, e);
    }
    return list;
}

static cJSON *strings_json(char *const *s, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(s[i]));
    return a;
}

/* TextVQA's 10 human answers for rendered text t: t itself and case/punctuation variants the
   EvalAI normalisation folds into one (lower case, a final period, a leading article), so a
   correct reading scores 1. */
static cJSON *ten_answers(const char *t) {
    char *l = py_lower(t);
    char *dot = xasprintf("%s.", l), *the = xasprintf("the %s", l);
    const char *v[10] = {l, l, t, l, dot, t, l, the, l, t};
    cJSON *a = cJSON_CreateStringArray(v, 10);
    free(l);
    free(dot);
    free(the);
    return a;
}

/* ["what", "is", ...]: the question's lower-cased words without '?' (TextVQA question_tokens). */
static cJSON *question_tokens(const char *q) {
    char *copy = py_lower(q);
    cJSON *a = cJSON_CreateArray();
    for (char *save = NULL, *w = strtok_r(copy, " ?", &save); w; w = strtok_r(NULL, " ?", &save))
        cJSON_AddItemToArray(a, cJSON_CreateString(w));
    free(copy);
    return a;
}

static void textvqa_entry(struct writer *w, const struct synth_item *it, const struct synth_qa *qa, const char *image_id) {
    const char *set = w->o->split == SYNTH_EVAL ? "val" : "train";
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "question", qa->question);
    cJSON_AddStringToObject(e, "image_id", image_id);
    cJSON_AddItemToObject(e, "image_classes", cJSON_CreateStringArray((const char *[]){"Sign"}, 1));
    cJSON_AddStringToObject(e, "flickr_original_url", "");
    cJSON_AddStringToObject(e, "flickr_300k_url", "");
    cJSON_AddNumberToObject(e, "image_width", it->img.w);
    cJSON_AddNumberToObject(e, "image_height", it->img.h);
    cJSON_AddItemToObject(e, "answers", ten_answers(qa->answers[0]));
    cJSON_AddItemToObject(e, "question_tokens", question_tokens(qa->question));
    cJSON_AddNumberToObject(e, "question_id", w->questions);
    cJSON_AddStringToObject(e, "set_name", set);
    cJSON *ocr = cJSON_AddArrayToObject(e, "ocr_tokens");
    for (int i = 0; i < it->n_boxes; i++) cJSON_AddItemToArray(ocr, cJSON_CreateString(it->boxes[i].text));
    cJSON_AddItemToArray(w->entries, e);
}

static void docvqa_entry(struct writer *w, int index, const struct synth_qa *qa, const char *doc_id, const char *rel) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "questionId", w->questions);
    cJSON_AddStringToObject(e, "question", qa->question);
    if (qa->category) cJSON_AddItemToObject(e, "question_types", cJSON_CreateStringArray(&qa->category, 1));
    cJSON_AddStringToObject(e, "image", rel);
    cJSON_AddNumberToObject(e, "docId", index);
    cJSON_AddStringToObject(e, "ucsf_document_id", doc_id);
    cJSON_AddStringToObject(e, "ucsf_document_page_no", "1");
    cJSON_AddItemToObject(e, "answers", strings_json(qa->answers, qa->n_answers));
    cJSON_AddStringToObject(e, "data_split", w->o->split == SYNTH_EVAL ? "val" : "train");
    cJSON_AddItemToArray(w->entries, e);
}

/* OCRBench ids count per dataset_name, as in the official file. */
static int source_id(struct writer *w, const char *source) {
    int i = 0;
    while (i < 8 && w->sources[i] && strcmp(w->sources[i], source)) i++;
    if (i == 8) i = 7;
    w->sources[i] = source;
    return w->source_count[i]++;
}

static void ocrbench_entry(struct writer *w, const struct synth_qa *qa, const char *rel) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "dataset_name", qa->source);
    cJSON_AddNumberToObject(e, "id", source_id(w, qa->source));
    cJSON_AddStringToObject(e, "image_path", rel);
    cJSON_AddStringToObject(e, "question", qa->question);
    /* Recognition answers are single strings, the VQA ones lists, as in OCRBench.json. */
    if (strstr(qa->category, "Recognition")) cJSON_AddStringToObject(e, "answers", qa->answers[0]);
    else cJSON_AddItemToObject(e, "answers", strings_json(qa->answers, qa->n_answers));
    cJSON_AddStringToObject(e, "type", qa->category);
    cJSON_AddItemToArray(w->entries, e);
}

static cJSON *boxes_entry(int index, const char *rel, const struct synth_item *it) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "id", index);
    cJSON_AddStringToObject(e, "image_name", rel);
    cJSON_AddItemToObject(e, "2_coord", coords_json(it));
    return e;
}

/* Image file of image `index`, relative to the output folder (caller frees); *id gets the
   TextVQA image_id / DocVQA document id where the layout names files by id. */
static char *image_rel(const struct writer *w, int index, const struct synth_item *it, char **id) {
    uint64_t h = rng_mix(rng_mix(w->o->seed, (uint64_t)w->o->kind * 2 + w->o->split), (uint64_t)index + (1ULL << 40));
    switch (w->o->kind) {
    case SYNTH_TEXTVQA:
        *id = xasprintf("%016llx", (unsigned long long)h);
        return xasprintf("train_images/%s.jpg", *id);
    case SYNTH_DOCVQA:
        *id = xasprintf("syn%05llx", (unsigned long long)(h & 0xfffff));
        return xasprintf("documents/%s_%d.png", *id, index);
    case SYNTH_OCRBENCH:
        *id = NULL;
        return xasprintf("%s/%d.png", it->qas[0].source, index);
    default:
        *id = NULL;
        return xasprintf("images/%d.jpg", index);
    }
}

/* Save image `index`, add its entries and boxes. */
static int write_item(struct writer *w, int index, const struct synth_item *it, struct error *err) {
    char *id = NULL;
    char *rel = image_rel(w, index, it, &id);
    char *path = path_join(w->out, rel);
    int rc = make_dirs(w->out, rel, err);
    int jpeg = w->o->kind == SYNTH_TEXTVQA || w->o->kind == SYNTH_SYNTHDOG;
    if (!rc) rc = jpeg ? image_save_jpeg(&it->img, path, w->o->jpeg_quality, err) : image_save_png(&it->img, path, err);
    if (!rc && w->o->kind == SYNTH_SYNTHDOG) {
        cJSON_AddItemToArray(w->entries, boxes_entry(index, rel, it));
        w->questions++;
    } else if (!rc) {
        cJSON_AddItemToArray(w->boxes, boxes_entry(index, rel, it));
        for (int q = 0; q < it->n_qas && q < w->o->per_image && w->questions < w->o->n; q++) {
            const struct synth_qa *qa = &it->qas[q];
            if (w->o->kind == SYNTH_TEXTVQA) textvqa_entry(w, it, qa, id);
            else if (w->o->kind == SYNTH_DOCVQA) docvqa_entry(w, index, qa, id, rel);
            else ocrbench_entry(w, qa, rel);
            w->questions++;
        }
    }
    free(path);
    free(rel);
    free(id);
    return rc;
}

static int write_jsonl(const char *path, const cJSON *entries, struct error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return error_set(err, "%s: cannot write: %s", path, strerror(errno));
    const cJSON *e;
    cJSON_ArrayForEach(e, entries) {
        char *line = cJSON_PrintUnformatted(e);
        fprintf(f, "%s\n", line);
        cJSON_free(line);
    }
    return fclose(f) == 0 ? 0 : error_set(err, "%s: write failed", path);
}

/* The annotation file, its JSONL twin and the boxes file. */
static int write_files(struct writer *w, struct error *err) {
    const struct synth_options *o = w->o;
    cJSON *root = w->entries;
    int wrapped = o->kind == SYNTH_TEXTVQA || o->kind == SYNTH_DOCVQA;
    if (wrapped) { /* TextVQA and DocVQA keep their entries under "data" */
        root = cJSON_CreateObject();
        int eval = o->split == SYNTH_EVAL;
        cJSON_AddStringToObject(root, "dataset_name", o->kind == SYNTH_TEXTVQA ? "textvqa" : "docvqa");
        cJSON_AddStringToObject(root, o->kind == SYNTH_TEXTVQA ? "dataset_type" : "dataset_split", eval ? "val" : "train");
        cJSON_AddStringToObject(root, "dataset_version", o->kind == SYNTH_TEXTVQA ? "0.5.1" : "1.0");
        cJSON_AddItemReferenceToObject(root, "data", w->entries);
    }
    char *ann = path_join(w->out, synth_annotation_name(o));
    char *jsonl_name = xasprintf("%s%s.jsonl", kind_names[o->kind],
                                 wrapped ? (o->split == SYNTH_EVAL ? "_val" : "_train") : "");
    char *jsonl = path_join(w->out, jsonl_name);
    int rc = json_save_file(root, ann, 0, err);
    if (!rc) rc = write_jsonl(jsonl, w->entries, err);
    if (!rc && o->kind != SYNTH_SYNTHDOG) {
        char *boxes = path_join(w->out, "ocr_boxes.json");
        rc = json_save_file(w->boxes, boxes, 0, err);
        free(boxes);
    }
    if (wrapped) cJSON_Delete(root);
    free(ann);
    free(jsonl_name);
    free(jsonl);
    return rc;
}

int synth_write(const struct synth_options *o, const char *out_dir,
                void (*progress)(int images, int questions, void *arg), void *arg, struct error *err) {
    struct synth *g;
    if (make_dirs(out_dir, "x", err) || synth_open(o, &g, err)) return -1;
    struct writer w = {o, out_dir, cJSON_CreateArray(), cJSON_CreateArray(), 0, {0}, {0}};
    int rc = 0, images = 0;
    while (!rc && w.questions < o->n) {
        struct synth_item it;
        rc = synth_render(g, images, &it, err);
        if (!rc) {
            rc = write_item(&w, images, &it, err);
            synth_item_free(&it);
        }
        images++;
        if (progress) progress(images, w.questions, arg);
    }
    if (!rc) rc = write_files(&w, err);
    cJSON_Delete(w.entries);
    cJSON_Delete(w.boxes);
    synth_close(g);
    return rc;
}
