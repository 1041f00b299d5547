/* predictions.c: see predictions.h. */
#include "datasets/predictions.h"

#include <stdlib.h>
#include <string.h>
#include "datasets/jsonl.h"
#include "datasets/loader.h"

static const char *const KEYS[] = {"key", "question_id", "questionId", "qid", "idx", "index", NULL};
static const char *const TEXTS[] = {"prediction", "answer", "pred", "predict", "text", "response", NULL};

/* Match one parsed line to its sample and store its text. */
static int take(const cJSON *line, const char *where, const struct dataset *ds, struct predictions *out,
                struct error *err) {
    char *key = NULL;
    if (!cJSON_IsObject(line)) return error_set(err, "%s: not a JSON object", where);
    if (!entry_field(line, KEYS))
        return error_set(err, "%s: no key field (key, question_id, questionId, qid, idx or index)", where);
    if (entry_key(line, KEYS, &key, err)) return error_wrap(err, "%s", where);
    const cJSON *text = entry_field(line, TEXTS);
    int rc = 0;
    int i = dataset_find(ds, key);
    if (!text || !cJSON_IsString(text))
        rc = error_set(err, "%s: no string prediction field (prediction, answer, pred, predict, text or response)", where);
    else if (i < 0)
        out->n_unknown++;
    else if (out->text[i])
        rc = error_set(err, "%s: a second prediction for %s %s", where, ds->bench->key_name, key);
    else
        out->text[i] = xstrdup(text->valuestring);
    free(key);
    return rc;
}

int predictions_load(const char *path, const struct dataset *ds, struct predictions *out,
                     struct error *err) {
    memset(out, 0, sizeof *out);
    struct json_entries en;
    if (json_entries_load(path, 1, 0, &en, err)) return -1;
    out->n = ds->n;
    out->text = xcalloc((size_t)ds->n + 1, sizeof *out->text);
    int rc = 0;
    for (int l = 0; l < en.n && !rc; l++) {
        if (!en.items[l]) {
            rc = error_set(err, "%s", en.errors[l]);
            break;
        }
        char *where = xasprintf("%s:%d", path, en.lines[l]);
        rc = take(en.items[l], where, ds, out, err);
        free(where);
    }
    json_entries_free(&en);
    if (rc) predictions_free(out);
    return rc;
}

void predictions_free(struct predictions *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) free(p->text[i]);
    free(p->text);
    memset(p, 0, sizeof *p);
}
