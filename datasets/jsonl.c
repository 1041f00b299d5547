/* jsonl.c: see jsonl.h. */
#include "datasets/jsonl.h"

#include <stdlib.h>
#include <string.h>
#include "engine/json.h"

int path_is_jsonl(const char *path) {
    size_t n = strlen(path);
    return (n >= 6 && !strcmp(path + n - 6, ".jsonl")) || (n >= 7 && !strcmp(path + n - 7, ".ndjson"));
}

static void push(struct json_entries *e, int *cap, cJSON *item, int line, char *error) {
    if (e->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        e->items = xrealloc(e->items, (size_t)*cap * sizeof *e->items);
        e->lines = xrealloc(e->lines, (size_t)*cap * sizeof *e->lines);
        e->errors = xrealloc(e->errors, (size_t)*cap * sizeof *e->errors);
    }
    e->items[e->n] = item;
    e->lines[e->n] = line;
    e->errors[e->n] = error;
    e->n++;
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

static int load_jsonl(const char *path, int limit, struct json_entries *out, struct error *err) {
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err)) return -1;
    int cap = 0, line = 0;
    for (size_t pos = 0; pos < len && (limit <= 0 || out->n < limit);) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        line++;
        if (!blank(text + pos, end - pos)) {
            const char *stop = NULL;
            cJSON *item = cJSON_ParseWithLengthOpts(text + pos, end - pos, &stop, 0);
            char *msg = NULL;
            if (!item) {
                size_t col = stop && stop >= text + pos ? (size_t)(stop - (text + pos)) + 1 : 1;
                msg = xasprintf("%s:%d:%zu: malformed JSON line", path, line, col);
            }
            push(out, &cap, item, line, msg);
        }
        pos = end + 1;
    }
    free(text);
    return 0;
}

static int load_json(const char *path, int limit, struct json_entries *out, struct error *err) {
    cJSON *root = json_load_file(path, err);
    if (!root) return -1;
    cJSON *array = root;
    if (cJSON_IsObject(root)) array = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(array)) {
        cJSON_Delete(root);
        return error_set(err, "%s: expected a JSON array of entries or an object with a 'data' array", path);
    }
    out->root = root;
    int cap = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (limit > 0 && out->n >= limit) break;
        push(out, &cap, (cJSON *)item, 0, NULL);
    }
    return 0;
}

int json_entries_load(const char *path, int jsonl, int limit, struct json_entries *out,
                      struct error *err) {
    memset(out, 0, sizeof *out);
    int rc = jsonl ? load_jsonl(path, limit, out, err) : load_json(path, limit, out, err);
    if (rc) json_entries_free(out);
    return rc;
}

void json_entries_free(struct json_entries *e) {
    if (!e) return;
    for (int i = 0; i < e->n; i++) {
        if (!e->root) cJSON_Delete(e->items[i]);
        free(e->errors[i]);
    }
    cJSON_Delete(e->root);
    free(e->items);
    free(e->lines);
    free(e->errors);
    memset(e, 0, sizeof *e);
}
