/* json.c: see json.h. */
#include "engine/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *json_parse(const char *text, size_t len, const char *what, struct error *err) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root) return root;
    /* cJSON reports the byte where parsing stopped; turn it into line:column for humans. */
    size_t off = end && end >= text ? (size_t)(end - text) : 0;
    if (off > len) off = len;
    int line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') { line++; col = 1; } else col++;
    }
    if (len == 0) {
        error_set(err, "%s: empty file, expected JSON", what);
        return NULL;
    }
    error_set(err, "%s:%d:%d: malformed JSON near '%.20s'", what, line, col, text + off);
    return NULL;
}

cJSON *json_load_file(const char *path, struct error *err) {
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err)) return NULL;
    cJSON *root = json_parse(text, len, path, err);
    free(text);
    return root;
}

static const cJSON *field(const cJSON *obj, const char *key) {
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return (v && !cJSON_IsNull(v)) ? v : NULL;
}

double json_num(const cJSON *obj, const char *key, double def) {
    const cJSON *v = field(obj, key);
    return v && cJSON_IsNumber(v) ? v->valuedouble : def;
}

int json_int(const cJSON *obj, const char *key, int def) {
    const cJSON *v = field(obj, key);
    return v && cJSON_IsNumber(v) ? (int)v->valuedouble : def;
}

int json_bool(const cJSON *obj, const char *key, int def) {
    const cJSON *v = field(obj, key);
    if (!v) return def;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    if (cJSON_IsNumber(v)) return v->valuedouble != 0;
    return def;
}

const char *json_str(const cJSON *obj, const char *key, const char *def) {
    const cJSON *v = field(obj, key);
    return v && cJSON_IsString(v) ? v->valuestring : def;
}

int json_req_int(const cJSON *obj, const char *key, const char *where, long long *out, struct error *err) {
    const cJSON *v = field(obj, key);
    if (!v) return error_set(err, "%s: field '%s' missing", where, key);
    if (!cJSON_IsNumber(v)) return error_set(err, "%s: field '%s' is not a number", where, key);
    *out = (long long)v->valuedouble;
    return 0;
}

int json_req_num(const cJSON *obj, const char *key, const char *where, double *out, struct error *err) {
    const cJSON *v = field(obj, key);
    if (!v) return error_set(err, "%s: field '%s' missing", where, key);
    if (!cJSON_IsNumber(v)) return error_set(err, "%s: field '%s' is not a number", where, key);
    *out = v->valuedouble;
    return 0;
}

int json_req_str(const cJSON *obj, const char *key, const char *where, const char **out, struct error *err) {
    const cJSON *v = field(obj, key);
    if (!v) return error_set(err, "%s: field '%s' missing", where, key);
    if (!cJSON_IsString(v)) return error_set(err, "%s: field '%s' is not a string", where, key);
    *out = v->valuestring;
    return 0;
}

int json_save_file(const cJSON *root, const char *path, int pretty, struct error *err) {
    char *text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    if (!text) return error_set(err, "%s: cannot serialise JSON", path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        cJSON_free(text);
        return error_set(err, "%s: cannot write", path);
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n && fputc('\n', f) != EOF;
    ok = (fclose(f) == 0) && ok;
    cJSON_free(text);
    return ok ? 0 : error_set(err, "%s: write failed", path);
}
