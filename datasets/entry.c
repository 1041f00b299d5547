/* entry.c: field helpers for the entry parsers; see loader.h. */
#include "datasets/loader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const cJSON *entry_field(const cJSON *e, const char *const *names) {
    for (int i = 0; names[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, names[i]);
        if (v && !cJSON_IsNull(v)) return v;
    }
    return NULL;
}

int entry_object(const cJSON *e, struct error *err) {
    return cJSON_IsObject(e) ? 0 : error_set(err, "entry is not a JSON object");
}

int entry_key(const cJSON *e, const char *const *names, char **out, struct error *err) {
    const cJSON *v = entry_field(e, names);
    if (!v) return error_set(err, "field '%s' missing", names[0]);
    if (cJSON_IsString(v) && v->valuestring[0]) {
        *out = xstrdup(v->valuestring);
        return 0;
    }
    double d = v->valuedouble;
    if (cJSON_IsNumber(v) && d == floor(d) && fabs(d) < 9e15) {
        *out = xasprintf("%lld", (long long)d);
        return 0;
    }
    return error_set(err, "field '%s' is not an integer or a non-empty string", names[0]);
}

int entry_string(const cJSON *e, const char *const *names, char **out, struct error *err) {
    const cJSON *v = entry_field(e, names);
    if (!v) return error_set(err, "field '%s' missing", names[0]);
    if (!cJSON_IsString(v)) return error_set(err, "field '%s' is not a string", names[0]);
    *out = xstrdup(v->valuestring);
    return 0;
}

int entry_strings(const cJSON *e, const char *const *names, int allow_string, char ***out, int *n,
                  struct error *err) {
    const cJSON *v = entry_field(e, names);
    if (!v) return error_set(err, "field '%s' missing", names[0]);
    if (allow_string && cJSON_IsString(v)) {
        *out = xmalloc(sizeof **out);
        (*out)[0] = xstrdup(v->valuestring);
        *n = 1;
        return 0;
    }
    int count = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (count < 0)
        return error_set(err, "field '%s' is not a list%s", names[0], allow_string ? " or a string" : "");
    if (count == 0) return error_set(err, "field '%s' is an empty list", names[0]);
    const cJSON *item;
    int i = 0;
    cJSON_ArrayForEach(item, v) {
        if (!cJSON_IsString(item))
            return error_set(err, "field '%s': item %d is not a string", names[0], i);
        i++;
    }
    *out = xmalloc((size_t)count * sizeof **out);
    i = 0;
    cJSON_ArrayForEach(item, v) (*out)[i++] = xstrdup(item->valuestring);
    *n = count;
    return 0;
}

int entry_image(const struct load_ctx *ctx, const char *rel, char **out, struct error *err) {
    if (!rel[0]) return error_set(err, "empty image path");
    char *path = path_join(ctx->images_root, rel);
    if (ctx->check_images && !file_exists(path)) {
        error_set(err, "image '%s' not found (looked for %s; set the folder with :images=DIR)", rel, path);
        free(path);
        return -1;
    }
    *out = path;
    return 0;
}
