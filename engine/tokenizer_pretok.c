/*
 * tokenizer_pretok.c: the pre-tokenizers that cut a normalized piece into the words BPE runs on
 * (research/models.md 6.3, 6.4):
 *   - Metaspace (non-legacy Llama/Mistral): " " -> "▁", prepend "▁" per prepend_scheme unless
 *     the piece already starts with it, optionally split before every "▁" (TK metaspace.rs);
 *   - Split with the Qwen2 regex, behavior Isolated: each match is a word. The regex is matched
 *     by hand below with the semantics of Oniguruma, the engine TK runs it with (alternatives
 *     tried in order, greedy quantifiers with backtracking), so no regex library is needed;
 *   - ByteLevel without its own regex: every UTF-8 byte becomes one printable character
 *     (GPT-2's bytes_char table), optionally after prepending a space.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"
#include "engine/tokenizer_internal.h"
#include "engine/unicode.h"

/* The Qwen2 split pattern, exactly as it appears in Qwen2's tokenizer.json. */
static const char QWEN2_REGEX[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";

/* ---- GPT-2 byte-level alphabet ------------------------------------------------------------ */

/* Printable bytes ('!'..'~', 0xA1..0xAC, 0xAE..0xFF) stand for themselves; the other 68, in
   increasing order, map to U+0100 + n: 0x00..0x20 -> n 0..32, 0x7F..0xA0 -> 33..66, 0xAD -> 67. */
uint32_t byte_level_char(uint8_t b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    if (b <= 0x20) return 0x100u + b;
    if (b <= 0xA0) return 0x100u + 33 + (b - 0x7Fu);
    return 0x100u + 67; /* 0xAD */
}

int byte_level_byte(uint32_t cp) {
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF)) return (int)cp;
    if (cp >= 0x100 && cp <= 0x120) return (int)(cp - 0x100);
    if (cp >= 0x121 && cp <= 0x142) return (int)(cp - 0x121 + 0x7F);
    if (cp == 0x143) return 0xAD;
    return -1;
}

/* ---- the Qwen2 regex ------------------------------------------------------------------------ */

static int is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }
/* [^\s\p{L}\p{N}] */
static int is_other(uint32_t c) { return !uni_is_space(c) && !uni_is_letter(c) && !uni_is_number(c); }

/* Case-insensitive letter of the contraction alternatives: ASCII, plus U+017F LONG S, whose case
   fold is 's' (Oniguruma matches it; checked against tokenizers 0.23 on "'ſx"). */
static uint32_t fold_ascii(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';
    return c;
}

static size_t letters_from(const uint32_t *cps, size_t n, size_t i) {
    while (i < n && uni_is_letter(cps[i])) i++;
    return i;
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d) at i; returns the end or 0. */
static size_t match_contraction(const uint32_t *cps, size_t n, size_t i) {
    if (cps[i] != '\'' || i + 1 >= n) return 0;
    uint32_t a = fold_ascii(cps[i + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 >= n) return 0;
    uint32_t b = fold_ascii(cps[i + 2]);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
}

size_t qwen2_regex_match(const uint32_t *cps, size_t n, size_t i) {
    uint32_t c = cps[i];
    size_t end = match_contraction(cps, n, i);
    if (end) return end;
    /* [^\r\n\p{L}\p{N}]?\p{L}+ : the optional char is taken only if letters follow it. */
    if (!uni_is_letter(c) && !uni_is_number(c) && !is_crlf(c) && i + 1 < n && uni_is_letter(cps[i + 1]))
        return letters_from(cps, n, i + 1);
    if (uni_is_letter(c)) return letters_from(cps, n, i);
    /* \p{N} : one digit at a time. */
    if (uni_is_number(c)) return i + 1;
    /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
    size_t j = (c == ' ' && i + 1 < n && is_other(cps[i + 1])) ? i + 1 : i;
    if (is_other(cps[j])) {
        while (j < n && is_other(cps[j])) j++;
        while (j < n && is_crlf(cps[j])) j++;
        return j;
    }
    /* The rest start with whitespace (everything else matched above). */
    size_t ws_end = i, last_crlf = 0;
    int has_crlf = 0;
    while (ws_end < n && uni_is_space(cps[ws_end])) {
        if (is_crlf(cps[ws_end])) last_crlf = ws_end, has_crlf = 1;
        ws_end++;
    }
    if (ws_end == i) return i + 1; /* unreachable: every character matches an alternative */
    /* \s*[\r\n]+ : greedy \s* backs off to the last CR/LF of the run. */
    if (has_crlf) return last_crlf + 1;
    /* \s+(?!\S) : the whole run at the end of the text, else all of it but its last char. */
    if (ws_end == n) return ws_end;
    if (ws_end - 1 > i) return ws_end - 1;
    /* \s+ */
    return ws_end;
}

/* ---- parsing --------------------------------------------------------------------------------- */

static void push_step(struct pretokenizer *p, struct pretok_step s) {
    p->steps = xrealloc(p->steps, (size_t)(p->n + 1) * sizeof *p->steps);
    p->steps[p->n++] = s;
}

static int parse_prepend_scheme(const char *s, enum prepend_scheme *out) {
    if (strcmp(s, "always") == 0) *out = PREPEND_ALWAYS;
    else if (strcmp(s, "first") == 0) *out = PREPEND_FIRST;
    else if (strcmp(s, "never") == 0) *out = PREPEND_NEVER;
    else return -1;
    return 0;
}

/* Metaspace fields as TK's deserializer reads them: prepend_scheme defaults to "always", split to
   true; add_prefix_space false (older files) means "never" and contradicts any other scheme. */
static int parse_metaspace(const cJSON *node, const char *path, const char *where, struct pretok_step *st,
                           struct error *err) {
    const char *rep = json_str(node, "replacement", NULL);
    uint32_t cp;
    if (!rep || !rep[0] || (size_t)utf8_decode(rep, strlen(rep), &cp) != strlen(rep))
        return error_set(err, "%s: %s.replacement must be a single character", path, where);
    strcpy(st->replacement, rep);
    const char *scheme = json_str(node, "prepend_scheme", "always");
    if (parse_prepend_scheme(scheme, &st->prepend))
        return error_set(err, "%s: %s.prepend_scheme \"%s\" is not first/always/never", path, where, scheme);
    const cJSON *aps = cJSON_GetObjectItemCaseSensitive(node, "add_prefix_space");
    if (cJSON_IsFalse(aps)) {
        if (st->prepend != PREPEND_NEVER && cJSON_GetObjectItemCaseSensitive(node, "prepend_scheme"))
            return error_set(err, "%s: %s: add_prefix_space false contradicts prepend_scheme \"%s\"", path, where,
                             scheme);
        st->prepend = PREPEND_NEVER;
    }
    st->split = json_bool(node, "split", 1);
    return 0;
}

int pretokenizer_parse(const cJSON *node, const char *path, const char *where, struct pretokenizer *out,
                       struct error *err) {
    if (!node || cJSON_IsNull(node)) return 0;
    const char *type = json_str(node, "type", NULL);
    if (!cJSON_IsObject(node) || !type) return error_set(err, "%s: %s: expected an object with a \"type\"", path, where);
    struct pretok_step st = {0};
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "pretokenizers"), *e;
        if (!cJSON_IsArray(list)) return error_set(err, "%s: %s.pretokenizers missing or not an array", path, where);
        char *key = json_path_key(where, "pretokenizers");
        int i = 0, rc = 0;
        cJSON_ArrayForEach(e, list) {
            char *sub = json_path_index(key, i++);
            rc = pretokenizer_parse(e, path, sub, out, err);
            free(sub);
            if (rc) break;
        }
        free(key);
        return rc;
    }
    if (strcmp(type, "Metaspace") == 0) {
        st.kind = PRETOK_METASPACE;
        if (parse_metaspace(node, path, where, &st, err)) return -1;
    } else if (strcmp(type, "Split") == 0) {
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "pattern"), "Regex");
        if (!cJSON_IsString(re) || strcmp(re->valuestring, QWEN2_REGEX) != 0)
            return error_set(err, "%s: %s.pattern: only the Qwen2 split regex is supported", path, where);
        const char *behavior = json_str(node, "behavior", "");
        if (strcmp(behavior, "Isolated") != 0 || json_bool(node, "invert", 0))
            return error_set(err, "%s: %s: only behavior \"Isolated\" without invert is supported (got \"%s\")", path,
                             where, behavior);
        st.kind = PRETOK_QWEN2_SPLIT;
    } else if (strcmp(type, "ByteLevel") == 0) {
        if (json_bool(node, "use_regex", 1))
            return error_set(err, "%s: %s.use_regex true (the GPT-2 split) is not supported", path, where);
        st.kind = PRETOK_BYTELEVEL;
        st.add_prefix_space = json_bool(node, "add_prefix_space", 1);
    } else {
        return error_set(err, "%s: %s.type \"%s\" is not supported (pre-tokenizers: Sequence, Metaspace, "
                         "Split with the Qwen2 regex, ByteLevel)", path, where, type);
    }
    push_step(out, st);
    return 0;
}

void pretokenizer_free(struct pretokenizer *p) {
    if (!p) return;
    free(p->steps);
    memset(p, 0, sizeof *p);
}

/* ---- applying -------------------------------------------------------------------------------- */

static void metaspace(const struct pretok_step *st, const struct piece *in, struct pieces *out) {
    size_t rl = strlen(st->replacement), len;
    char *buf = xmalloc(in->len * rl + rl + 1), *o = buf;
    int starts = in->len >= rl && memcmp(in->s, st->replacement, rl) == 0;
    if (in->len && in->s[0] == ' ') starts = 1; /* the space is about to become the replacement */
    int prepend = !starts && (st->prepend == PREPEND_ALWAYS || (st->prepend == PREPEND_FIRST && in->at_start));
    if (prepend) memcpy(o, st->replacement, rl), o += rl;
    for (size_t i = 0; i < in->len; i++) {
        if (in->s[i] == ' ') memcpy(o, st->replacement, rl), o += rl;
        else *o++ = in->s[i];
    }
    len = (size_t)(o - buf);
    if (!st->split) {
        pieces_push(out, buf, len, in->at_start);
    } else {
        /* MergedWithNext: every replacement char starts a new word. */
        size_t start = 0;
        for (size_t i = 1; i + rl <= len; i++) { /* a lead byte never matches mid-character */
            if (memcmp(buf + i, st->replacement, rl) == 0) {
                pieces_push(out, buf + start, i - start, in->at_start && start == 0);
                start = i;
            }
        }
        pieces_push(out, buf + start, len - start, in->at_start && start == 0);
    }
    free(buf);
}

/* Words are cut at the byte offsets of the matched code points, so ill-formed UTF-8 (one U+FFFD
   for several bytes) passes through byte for byte. */
static void qwen2_split(const struct piece *in, struct pieces *out) {
    uint32_t *cps = xmalloc((in->len + 1) * sizeof *cps);
    size_t *off = xmalloc((in->len + 1) * sizeof *off); /* [n + 1] byte offset of each code point */
    size_t n = 0;
    for (size_t b = 0; b < in->len; n++) {
        off[n] = b;
        b += (size_t)utf8_decode(in->s + b, in->len - b, &cps[n]);
    }
    off[n] = in->len;
    for (size_t i = 0; i < n;) {
        size_t end = qwen2_regex_match(cps, n, i);
        pieces_push(out, in->s + off[i], off[end] - off[i], in->at_start && i == 0);
        i = end;
    }
    free(cps);
    free(off);
}

static void byte_level(const struct pretok_step *st, const struct piece *in, struct pieces *out) {
    int add_space = st->add_prefix_space && !(in->len && in->s[0] == ' ');
    char *buf = xmalloc(2 * (in->len + 1) + 1), *o = buf; /* every mapped char is 1 or 2 bytes */
    if (add_space) o += utf8_encode(byte_level_char(' '), o);
    for (size_t i = 0; i < in->len; i++) o += utf8_encode(byte_level_char((uint8_t)in->s[i]), o);
    pieces_push(out, buf, (size_t)(o - buf), in->at_start);
    free(buf);
}

void pretokenizer_apply(const struct pretokenizer *p, const struct piece *in, struct pieces *out) {
    struct pieces cur = {0}, next = {0};
    pieces_push(&cur, in->s, in->len, in->at_start);
    for (int s = 0; s < p->n; s++) {
        for (int i = 0; i < cur.n; i++) {
            const struct piece *pc = &cur.v[i];
            switch (p->steps[s].kind) {
            case PRETOK_METASPACE: metaspace(&p->steps[s], pc, &next); break;
            case PRETOK_QWEN2_SPLIT: qwen2_split(pc, &next); break;
            case PRETOK_BYTELEVEL: byte_level(&p->steps[s], pc, &next); break;
            }
        }
        struct pieces t = cur;
        cur = next;
        next = t;
        pieces_clear(&next);
    }
    for (int i = 0; i < cur.n; i++) pieces_push(out, cur.v[i].s, cur.v[i].len, cur.v[i].at_start);
    pieces_free(&cur);
    pieces_free(&next);
}
