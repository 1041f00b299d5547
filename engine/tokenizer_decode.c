/*
 * tokenizer_decode.c: decoder chains of tokenizer.json, turning token strings back into text
 * (TK decoders/; research/models.md 6.3, 6.4). Each step maps a list of strings to a list of
 * strings, as TK's decode_chain does, and the result is their concatenation:
 *   Replace(pattern, content)  literal replacement in every token ("▁" -> " ")
 *   ByteFallback               runs of "<0xXX>" tokens become their bytes when those are valid
 *                              UTF-8, else one U+FFFD per byte
 *   Fuse                       all tokens into one
 *   Strip(content, start, stop) up to start/stop copies of content off each token's ends
 *   ByteLevel                  GPT-2 chars back to bytes, then UTF-8 with U+FFFD replacement
 *   Metaspace                  "▁" -> " ", dropped in the first token unless prepend_scheme never
 * Tokens are kept with their lengths (never NUL-scanned): byte-level output may hold any byte.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"
#include "engine/tokenizer_internal.h"
#include "engine/unicode.h"

static const char REPLACEMENT_UTF8[] = "\xEF\xBF\xBD";

/* Token strings in flight; unlike struct pieces, empty strings are kept (they still separate
   byte runs and count as token 0 for Metaspace). */
struct strlist {
    char **s;
    size_t *len;
    int n, cap;
};

static void list_push(struct strlist *l, char *s, size_t len) { /* takes ownership of s */
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->s = xrealloc(l->s, (size_t)l->cap * sizeof *l->s);
        l->len = xrealloc(l->len, (size_t)l->cap * sizeof *l->len);
    }
    l->s[l->n] = s;
    l->len[l->n++] = len;
}

static void list_free(struct strlist *l) {
    for (int i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    free(l->len);
    memset(l, 0, sizeof *l);
}

/* ---- parsing --------------------------------------------------------------------------------- */

static void push_step(struct decoder *d, struct dec_step s) {
    d->steps = xrealloc(d->steps, (size_t)(d->n + 1) * sizeof *d->steps);
    d->steps[d->n++] = s;
}

/* A field holding exactly one character. */
static int one_char(const cJSON *node, const char *key, const char *path, const char *where, uint32_t *out,
                    struct error *err) {
    const char *s = json_str(node, key, NULL);
    if (!s || !s[0] || (size_t)utf8_decode(s, strlen(s), out) != strlen(s))
        return error_set(err, "%s: %s.%s must be a single character", path, where, key);
    return 0;
}

static int parse_step(const cJSON *node, const char *type, const char *path, const char *where, struct decoder *d,
                      struct error *err) {
    struct dec_step st = {0};
    if (strcmp(type, "Replace") == 0) {
        const cJSON *lit = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "pattern"), "String");
        const char *content = json_str(node, "content", NULL);
        if (!cJSON_IsString(lit) || !lit->valuestring[0])
            return error_set(err, "%s: %s.pattern: only {\"String\": \"<non-empty>\"} is supported", path, where);
        if (!content) return error_set(err, "%s: %s.content missing or not a string", path, where);
        st = (struct dec_step){.kind = DEC_REPLACE, .a = xstrdup(lit->valuestring), .b = xstrdup(content)};
    } else if (strcmp(type, "ByteFallback") == 0) {
        st.kind = DEC_BYTE_FALLBACK;
    } else if (strcmp(type, "Fuse") == 0) {
        st.kind = DEC_FUSE;
    } else if (strcmp(type, "Strip") == 0) {
        st.kind = DEC_STRIP;
        if (one_char(node, "content", path, where, &st.ch, err)) return -1;
        st.start = json_int(node, "start", 0);
        st.stop = json_int(node, "stop", 0);
        if (st.start < 0 || st.stop < 0) return error_set(err, "%s: %s: start/stop must be >= 0", path, where);
    } else if (strcmp(type, "ByteLevel") == 0) {
        st.kind = DEC_BYTELEVEL;
    } else if (strcmp(type, "Metaspace") == 0) {
        st.kind = DEC_METASPACE;
        if (one_char(node, "replacement", path, where, &st.ch, err)) return -1;
        const char *scheme = json_str(node, "prepend_scheme", "always");
        if (strcmp(scheme, "always") == 0) st.prepend = PREPEND_ALWAYS;
        else if (strcmp(scheme, "first") == 0) st.prepend = PREPEND_FIRST;
        else if (strcmp(scheme, "never") == 0) st.prepend = PREPEND_NEVER;
        else return error_set(err, "%s: %s.prepend_scheme \"%s\" is not first/always/never", path, where, scheme);
        if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(node, "add_prefix_space"))) st.prepend = PREPEND_NEVER;
    } else {
        return error_set(err, "%s: %s.type \"%s\" is not supported (decoders: Sequence, Replace, ByteFallback, "
                         "Fuse, Strip, ByteLevel, Metaspace)", path, where, type);
    }
    push_step(d, st);
    return 0;
}

static int parse_node(const cJSON *node, const char *path, const char *where, struct decoder *d, struct error *err) {
    const char *type = json_str(node, "type", NULL);
    if (!cJSON_IsObject(node) || !type) return error_set(err, "%s: %s: expected an object with a \"type\"", path, where);
    if (strcmp(type, "Sequence") != 0) return parse_step(node, type, path, where, d, err);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "decoders"), *e;
    if (!cJSON_IsArray(list)) return error_set(err, "%s: %s.decoders missing or not an array", path, where);
    char *key = json_path_key(where, "decoders");
    int i = 0, rc = 0;
    cJSON_ArrayForEach(e, list) {
        char *sub = json_path_index(key, i++);
        rc = parse_node(e, path, sub, d, err);
        free(sub);
        if (rc) break;
    }
    free(key);
    return rc;
}

int decoder_parse(const cJSON *node, const char *path, const char *where, struct decoder *out, struct error *err) {
    memset(out, 0, sizeof *out);
    if (!node || cJSON_IsNull(node)) return 0;
    out->present = 1;
    int rc = parse_node(node, path, where, out, err);
    if (rc) decoder_free(out);
    return rc;
}

void decoder_free(struct decoder *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        free(d->steps[i].a);
        free(d->steps[i].b);
    }
    free(d->steps);
    memset(d, 0, sizeof *d);
}

/* ---- steps ------------------------------------------------------------------------------------- */

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "<0xXX>": exactly 6 bytes; XX parsed like Rust's u8::from_str_radix(_, 16), which also takes a
   leading '+' ("<0x+A>" is 10). Returns the byte or -1. */
static int byte_token(const char *s, size_t len) {
    if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int hi = hex_digit(s[3]), lo = hex_digit(s[4]);
    if (s[3] == '+' && lo >= 0) return lo;
    return hi >= 0 && lo >= 0 ? hi * 16 + lo : -1;
}

/* Strictly valid UTF-8 (what Rust's String::from_utf8 accepts). */
static int utf8_valid(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (cp == 0xFFFD && !(k == 3 && memcmp(s + i, REPLACEMENT_UTF8, 3) == 0)) return 0;
        i += (size_t)k;
    }
    return 1;
}

static void flush_bytes(struct strlist *out, char *bytes, size_t *nb) {
    if (!*nb) return;
    if (utf8_valid(bytes, *nb)) {
        list_push(out, xstrndup(bytes, *nb), *nb);
    } else {
        for (size_t i = 0; i < *nb; i++) list_push(out, xstrdup(REPLACEMENT_UTF8), 3);
    }
    *nb = 0;
}

static void byte_fallback(struct strlist *in, struct strlist *out) {
    char *bytes = xmalloc((size_t)in->n + 1);
    size_t nb = 0;
    for (int i = 0; i < in->n; i++) {
        int b = byte_token(in->s[i], in->len[i]);
        if (b >= 0) {
            bytes[nb++] = (char)b;
            free(in->s[i]);
        } else {
            flush_bytes(out, bytes, &nb);
            list_push(out, in->s[i], in->len[i]);
        }
        in->s[i] = NULL;
    }
    flush_bytes(out, bytes, &nb);
    free(bytes);
}

static void fuse(struct strlist *in, struct strlist *out) {
    size_t total = 0;
    for (int i = 0; i < in->n; i++) total += in->len[i];
    char *s = xmalloc(total + 1), *o = s;
    for (int i = 0; i < in->n; i++) memcpy(o, in->s[i], in->len[i]), o += in->len[i];
    *o = 0;
    list_push(out, s, total);
}

static void strip(const struct dec_step *st, struct strlist *in, struct strlist *out) {
    for (int t = 0; t < in->n; t++) {
        size_t n;
        uint32_t *cps = utf8_to_cps(in->s[t], in->len[t], &n);
        size_t a = 0, b = n;
        while (a < n && a < (size_t)st->start && cps[a] == st->ch) a++;
        while (b > a && n - b < (size_t)st->stop && cps[b - 1] == st->ch) b--;
        char *s = cps_to_utf8(cps + a, b - a);
        list_push(out, s, strlen(s));
        free(cps);
    }
}

static void replace(const struct dec_step *st, struct strlist *in, struct strlist *out) {
    for (int t = 0; t < in->n; t++) {
        size_t n;
        char *s = str_replace_all(in->s[t], in->len[t], st->a, st->b, &n);
        list_push(out, s, n);
    }
}

/* Chars back to bytes per token (a token holding a char outside the table is kept as its own
   UTF-8), then one lossy UTF-8 decode over everything, like Rust's from_utf8_lossy. */
static void byte_level(struct strlist *in, struct strlist *out) {
    size_t total = 0;
    for (int t = 0; t < in->n; t++) total += in->len[t];
    char *bytes = xmalloc(total + 1);
    size_t nb = 0;
    for (int t = 0; t < in->n; t++) {
        size_t start = nb, i = 0;
        int ok = 1;
        while (i < in->len[t] && ok) {
            uint32_t cp;
            i += (size_t)utf8_decode(in->s[t] + i, in->len[t] - i, &cp);
            int b = byte_level_byte(cp);
            if (b < 0) ok = 0;
            else bytes[nb++] = (char)b;
        }
        if (!ok) {
            nb = start;
            memcpy(bytes + nb, in->s[t], in->len[t]);
            nb += in->len[t];
        }
    }
    size_t n;
    uint32_t *cps = utf8_to_cps(bytes, nb, &n); /* maximal-subpart U+FFFD, as from_utf8_lossy */
    char *s = cps_to_utf8(cps, n);
    list_push(out, s, strlen(s));
    free(cps);
    free(bytes);
}

static void metaspace(const struct dec_step *st, struct strlist *in, struct strlist *out) {
    for (int t = 0; t < in->n; t++) {
        size_t n, k = 0;
        uint32_t *cps = utf8_to_cps(in->s[t], in->len[t], &n);
        for (size_t i = 0; i < n; i++) {
            if (cps[i] != st->ch) cps[k++] = cps[i];
            else if (t != 0 || st->prepend == PREPEND_NEVER) cps[k++] = ' ';
        }
        char *s = cps_to_utf8(cps, k);
        list_push(out, s, strlen(s));
        free(cps);
    }
}

char *decoder_run(const struct decoder *d, const char *const *tokens, int n) {
    struct strlist cur = {0};
    if (!d->present) { /* TK joins with " " when the file has no decoder */
        size_t total = 1;
        for (int i = 0; i < n; i++) total += strlen(tokens[i]) + 1;
        char *s = xmalloc(total), *o = s;
        for (int i = 0; i < n; i++) {
            if (i) *o++ = ' ';
            size_t l = strlen(tokens[i]);
            memcpy(o, tokens[i], l), o += l;
        }
        *o = 0;
        return s;
    }
    for (int i = 0; i < n; i++) list_push(&cur, xstrdup(tokens[i]), strlen(tokens[i]));
    for (int s = 0; s < d->n; s++) {
        struct strlist next = {0};
        const struct dec_step *st = &d->steps[s];
        switch (st->kind) {
        case DEC_REPLACE: replace(st, &cur, &next); break;
        case DEC_BYTE_FALLBACK: byte_fallback(&cur, &next); break;
        case DEC_FUSE: fuse(&cur, &next); break;
        case DEC_STRIP: strip(st, &cur, &next); break;
        case DEC_BYTELEVEL: byte_level(&cur, &next); break;
        case DEC_METASPACE: metaspace(st, &cur, &next); break;
        }
        list_free(&cur);
        cur = next;
    }
    struct strlist joined = {0};
    fuse(&cur, &joined);
    char *out = joined.s[0];
    joined.s[0] = NULL;
    list_free(&joined);
    list_free(&cur);
    return out;
}
