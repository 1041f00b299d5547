/*
 * tokenizer_normalize.c: the normalizers of tokenizer.json that our models use
 * (research/models.md 6.3, 6.4): Prepend (legacy Llama: "▁" before every non-empty piece),
 * Replace with a literal pattern (legacy Llama: " " -> "▁"), NFC (Qwen2), and Sequence of them.
 * The pipeline runs the normalizer on each piece between added tokens separately, which is why
 * legacy Llama puts a "▁" after every special token.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"
#include "engine/tokenizer_internal.h"
#include "engine/unicode.h"

static void push_step(struct normalizer *n, struct norm_step s) {
    n->steps = xrealloc(n->steps, (size_t)(n->n + 1) * sizeof *n->steps);
    n->steps[n->n++] = s;
}

/* A literal pattern {"String": "..."}; {"Regex": ...} is not supported. */
static int literal_pattern(const cJSON *node, const char *path, const char *where, const char **out,
                           struct error *err) {
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(node, "pattern");
    const cJSON *lit = cJSON_GetObjectItemCaseSensitive(pat, "String");
    if (cJSON_IsString(lit) && lit->valuestring[0]) {
        *out = lit->valuestring;
        return 0;
    }
    if (cJSON_GetObjectItemCaseSensitive(pat, "Regex"))
        return error_set(err, "%s: %s.pattern: Regex patterns are not supported (only String)", path, where);
    return error_set(err, "%s: %s.pattern: expected {\"String\": \"<non-empty>\"}", path, where);
}

int normalizer_parse(const cJSON *node, const char *path, const char *where, struct normalizer *out,
                     struct error *err) {
    if (!node || cJSON_IsNull(node)) return 0;
    const char *type = json_str(node, "type", NULL);
    if (!cJSON_IsObject(node) || !type) return error_set(err, "%s: %s: expected an object with a \"type\"", path, where);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "normalizers"), *e;
        if (!cJSON_IsArray(list)) return error_set(err, "%s: %s.normalizers missing or not an array", path, where);
        char *key = json_path_key(where, "normalizers");
        int i = 0, rc = 0;
        cJSON_ArrayForEach(e, list) {
            char *sub = json_path_index(key, i++);
            rc = normalizer_parse(e, path, sub, out, err);
            free(sub);
            if (rc) break;
        }
        free(key);
        return rc;
    }
    if (strcmp(type, "Prepend") == 0) {
        const char *s = json_str(node, "prepend", NULL);
        if (!s) return error_set(err, "%s: %s.prepend missing or not a string", path, where);
        push_step(out, (struct norm_step){NORM_PREPEND, xstrdup(s), NULL});
        return 0;
    }
    if (strcmp(type, "Replace") == 0) {
        const char *pat = NULL, *content = json_str(node, "content", NULL);
        if (literal_pattern(node, path, where, &pat, err)) return -1;
        if (!content) return error_set(err, "%s: %s.content missing or not a string", path, where);
        push_step(out, (struct norm_step){NORM_REPLACE, xstrdup(pat), xstrdup(content)});
        return 0;
    }
    if (strcmp(type, "NFC") == 0) {
        push_step(out, (struct norm_step){NORM_NFC, NULL, NULL});
        return 0;
    }
    return error_set(err, "%s: %s.type \"%s\" is not supported (normalizers: Sequence, Prepend, Replace, NFC)",
                     path, where, type);
}

char *str_replace_all(const char *s, size_t len, const char *pat, const char *rep, size_t *out_len) {
    size_t np = strlen(pat), nr = strlen(rep), count = 0;
    for (const char *p = s; (p = memmem(p, len - (size_t)(p - s), pat, np)); p += np) count++;
    size_t n = len + count * nr - count * np;
    char *out = xmalloc(n + 1), *o = out;
    const char *p = s, *q;
    while ((q = memmem(p, len - (size_t)(p - s), pat, np))) {
        memcpy(o, p, (size_t)(q - p)), o += q - p;
        memcpy(o, rep, nr), o += nr;
        p = q + np;
    }
    memcpy(o, p, len - (size_t)(p - s)), o += len - (size_t)(p - s);
    *o = 0;
    *out_len = n;
    return out;
}

char *normalizer_apply(const struct normalizer *n, const char *s, size_t len, size_t *out_len) {
    char *cur = xstrndup(s, len);
    size_t cur_len = len;
    for (int i = 0; i < n->n; i++) {
        const struct norm_step *st = &n->steps[i];
        char *next = NULL;
        size_t next_len = 0;
        switch (st->kind) {
        case NORM_PREPEND:
            if (cur_len == 0) continue; /* TK prepend.rs: only non-empty pieces */
            next = xasprintf("%s%s", st->a, cur);
            next_len = strlen(st->a) + cur_len;
            break;
        case NORM_REPLACE:
            next = str_replace_all(cur, cur_len, st->a, st->b, &next_len);
            break;
        case NORM_NFC:
            next = uni_nfc(cur);
            next_len = strlen(next);
            break;
        }
        free(cur);
        cur = next;
        cur_len = next_len;
    }
    *out_len = cur_len;
    return cur;
}

void normalizer_free(struct normalizer *n) {
    if (!n) return;
    for (int i = 0; i < n->n; i++) {
        free(n->steps[i].a);
        free(n->steps[i].b);
    }
    free(n->steps);
    memset(n, 0, sizeof *n);
}
