/*
 * dataset.c: loading a benchmark file into samples (the loop shared by every benchmark),
 * lookup by key, and per-sample scoring. The entry parsers live in one file per benchmark.
 *
 * Broken entries are reported as "FILE[:LINE]: entry I (KEYNAME KEY): what is wrong"; in skip
 * mode they are collected instead, so a sweep can record them and score the rest. Keys must be
 * unique (results are stored per key): a repeated key is a broken entry.
 */
#define _GNU_SOURCE /* qsort_r */
#include "datasets/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "datasets/jsonl.h"
#include "datasets/loader.h"
#include "datasets/score.h"

static const entry_parser parsers[BENCH_COUNT] = {
    [BENCH_TEXTVQA] = textvqa_parse,
    [BENCH_DOCVQA] = docvqa_parse,
    [BENCH_OCRBENCH] = ocrbench_parse,
    [BENCH_SYNTHDOG] = synthdog_parse,
};

static void free_strings(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void sample_free(struct sample *s) {
    free(s->key);
    free(s->image);
    free(s->question);
    free(s->prompt);
    free_strings(s->answers, s->n_answers);
    free_strings(s->categories, s->n_categories);
    free(s->source);
    for (int i = 0; i < s->n_boxes; i++) free(s->boxes[i].text);
    free(s->boxes);
    memset(s, 0, sizeof *s);
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "FILE[:LINE]: entry I (KEYNAME KEY)" */
static char *entry_where(const struct dataset *ds, const struct json_entries *en, int i, const char *key) {
    char line[32] = "";
    if (en->lines[i]) snprintf(line, sizeof line, ":%d", en->lines[i]);
    if (key) return xasprintf("%s%s: entry %d (%s %s)", ds->path, line, i, ds->bench->key_name, key);
    return xasprintf("%s%s: entry %d", ds->path, line, i);
}

static void add_broken(struct dataset *ds, int index, const char *key, const char *msg) {
    ds->broken = xrealloc(ds->broken, (size_t)(ds->n_broken + 1) * sizeof *ds->broken);
    ds->broken[ds->n_broken++] = (struct broken_entry){index, key ? xstrdup(key) : NULL, xstrdup(msg)};
}

static int cmp_key(const void *a, const void *b, void *arg) {
    const struct sample *s = arg;
    int c = strcmp(s[*(const int *)a].key, s[*(const int *)b].key);
    return c ? c : *(const int *)a - *(const int *)b;
}

/* Sort the key index. Equal keys sort by position, so in a run of equal keys the first is the
   original and the others are broken (file_index: [n] each sample's position in the file). */
static int index_keys(struct dataset *ds, const int *file_index, int skip, struct error *err) {
    ds->by_key = xmalloc((size_t)(ds->n ? ds->n : 1) * sizeof *ds->by_key);
    for (int i = 0; i < ds->n; i++) ds->by_key[i] = i;
    qsort_r(ds->by_key, (size_t)ds->n, sizeof *ds->by_key, cmp_key, ds->samples);
    unsigned char *dup = xcalloc((size_t)ds->n + 1, 1);
    int n_dup = 0;
    for (int r = 1, run = 0; r < ds->n; r++) { /* run: first rank of the current key */
        int a = ds->by_key[run], b = ds->by_key[r];
        if (strcmp(ds->samples[a].key, ds->samples[b].key)) {
            run = r;
            continue;
        }
        char *msg = xasprintf("%s: entry %d (%s %s): duplicate key (also entry %d)", ds->path,
                              file_index[b], ds->bench->key_name, ds->samples[b].key, file_index[a]);
        if (!skip) {
            error_set(err, "%s", msg);
            free(msg);
            free(dup);
            return -1;
        }
        add_broken(ds, file_index[b], ds->samples[b].key, msg);
        free(msg);
        dup[b] = 1;
        n_dup++;
    }
    if (n_dup) { /* drop the repeats, keep file order */
        int o = 0;
        for (int i = 0; i < ds->n; i++) {
            if (dup[i]) sample_free(&ds->samples[i]);
            else ds->samples[o++] = ds->samples[i];
        }
        ds->n = o;
        for (int i = 0; i < ds->n; i++) ds->by_key[i] = i;
        qsort_r(ds->by_key, (size_t)ds->n, sizeof *ds->by_key, cmp_key, ds->samples);
    }
    free(dup);
    return 0;
}

/* Parse every entry into ds->samples; file_index gets each sample's position. */
static int load_entries(struct dataset *ds, const struct json_entries *en, const struct load_ctx *ctx,
                        int skip, int *file_index, struct error *err) {
    entry_parser parse = parsers[ds->bench->kind];
    for (int i = 0; i < en->n; i++) {
        struct sample s = {0};
        struct error e;
        int rc = en->items[i] ? parse(en->items[i], i, ctx, &s, &e) : error_set(&e, "%s", en->errors[i]);
        if (rc == 0) {
            file_index[ds->n] = i;
            ds->samples[ds->n++] = s;
            continue;
        }
        char *where = entry_where(ds, en, i, s.key);
        char *msg = en->items[i] ? xasprintf("%s: %s", where, e.msg) : xasprintf("%s (entry %d)", e.msg, i);
        free(where);
        if (skip) add_broken(ds, i, s.key, msg);
        else error_set(err, "%s", msg);
        free(msg);
        sample_free(&s);
        if (!skip) return -1;
    }
    return 0;
}

int dataset_load(const struct dataset_spec *spec, struct dataset *out, struct error *err) {
    memset(out, 0, sizeof *out);
    if (!spec->bench || !spec->path) return error_set(err, "dataset spec without a benchmark or a file");
    struct json_entries en;
    int jsonl = spec->jsonl >= 0 ? spec->jsonl : path_is_jsonl(spec->path);
    if (json_entries_load(spec->path, jsonl, spec->limit, &en, err)) return -1;
    out->bench = spec->bench;
    out->path = xstrdup(spec->path);
    out->images_root = spec->images ? xstrdup(spec->images) : path_dirname(spec->path);
    out->variant = spec->variant;
    out->max_new_tokens = spec->max_new_tokens > 0 ? spec->max_new_tokens : spec->bench->max_new_tokens;
    int rc = 0;
    if (spec->check_images && !is_dir(out->images_root))
        rc = error_set(err, "%s: images folder '%s' does not exist", spec->path, out->images_root);
    int *file_index = xmalloc((size_t)(en.n ? en.n : 1) * sizeof *file_index);
    out->samples = xcalloc((size_t)(en.n ? en.n : 1), sizeof *out->samples);
    struct load_ctx ctx = {out->images_root, spec->check_images};
    if (!rc) rc = load_entries(out, &en, &ctx, spec->skip_broken, file_index, err);
    if (!rc) rc = index_keys(out, file_index, spec->skip_broken, err);
    free(file_index);
    json_entries_free(&en);
    if (rc) dataset_free(out);
    return rc;
}

void dataset_free(struct dataset *ds) {
    if (!ds) return;
    for (int i = 0; i < ds->n; i++) sample_free(&ds->samples[i]);
    free(ds->samples);
    for (int i = 0; i < ds->n_broken; i++) {
        free(ds->broken[i].key);
        free(ds->broken[i].msg);
    }
    free(ds->broken);
    free(ds->by_key);
    free(ds->path);
    free(ds->images_root);
    memset(ds, 0, sizeof *ds);
}

int dataset_find(const struct dataset *ds, const char *key) {
    int lo = 0, hi = ds->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, i = ds->by_key[mid];
        int c = strcmp(ds->samples[i].key, key);
        if (c == 0) return i;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

double dataset_score(const struct dataset *ds, int i, const char *prediction) {
    const struct sample *s = &ds->samples[i];
    if (!prediction) return NAN;
    switch (ds->bench->metric) {
    case METRIC_VQA_ACCURACY:
        return vqa_accuracy(prediction, s->answers, s->n_answers);
    case METRIC_ANLS:
        return anls(prediction, s->answers, s->n_answers, ds->variant == VARIANT_LMMS_EVAL);
    case METRIC_OCRBENCH:
        return ocrbench_hit(prediction, s->answers, s->n_answers, s->source && !strcmp(s->source, "HME100k"));
    case METRIC_NONE:
        break;
    }
    return NAN;
}
