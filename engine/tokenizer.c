/*
 * tokenizer.c: loading a Hugging Face tokenizer.json (+ tokenizer_config.json) and the encode
 * pipeline of TK's Tokenizer::encode (research/models.md 6.1):
 *   1. split the raw text on added tokens with normalized=false, leftmost-longest, honouring
 *      lstrip/rstrip/single_word (TK AddedVocabulary::find_matches);
 *   2. normalize each remaining piece on its own, then split it on added tokens with
 *      normalized=true, matched against their normalized form;
 *   3. pre-tokenize each piece into words and run BPE on every word;
 *   4. add the post-processor's special tokens (TemplateProcessing) when asked.
 * Decoding maps ids to token strings (added tokens first, as TK's simple_id_to_token), drops
 * special ones when asked, and runs the decoder chain (tokenizer_decode.c).
 *
 * tokenizer_config.json gives bos_token/eos_token and chat_template. Its add_bos_token and
 * add_eos_token are ignored, as transformers 5 does whenever a tokenizer.json exists (it pops them
 * in PreTrainedTokenizerBase._from_pretrained and keeps the file's post_processor; checked on
 * 5.23 by the metaspace_always_unk fixture, whose config asks for an EOS that is not added).
 * transformers 4's LlamaTokenizerFast rebuilt "[bos] $A [eos]" from them instead; for the
 * llava-hf files (add_bos_token true, add_eos_token false, template "<s> $A") both agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"
#include "engine/tokenizer_internal.h"
#include "engine/unicode.h"

/* Largest token id accepted: far above any real vocabulary, low enough to allocate per-id arrays. */
#define MAX_TOKEN_ID 100000000

struct added_token {
    char *content;
    char *match; /* what the text is searched for: content, or its normalized form when normalized */
    size_t match_len;
    int32_t id;
    int lstrip, rstrip, single_word, normalized, special;
};

/* Added tokens of one kind (normalized or not), bucketed by the first byte of what they match. */
struct match_list {
    int *tok;        /* [n] indices into tokenizer.added, sorted by first byte */
    int n;
    int bucket[257]; /* tok[bucket[b] .. bucket[b+1]) start with byte b */
};

struct tokenizer {
    struct bpe bpe;
    struct normalizer norm;
    struct pretokenizer pretok;
    struct decoder dec;
    struct added_token *added;
    int n_added;
    struct strmap added_map; /* content -> id */
    struct match_list raw, normalized;
    int32_t n_ids;           /* 1 + largest id (vocabulary or added) */
    const char **piece;      /* [n_ids] id -> token string, NULL where no token has that id */
    unsigned char *special;  /* [n_ids] the token string is a special added token's content */
    struct ids prefix, suffix; /* post-processor ids around the text */
    int32_t bos_id, eos_id;
    char *chat_template;
};

/* ---- small containers ----------------------------------------------------------------------- */

void ids_push(struct ids *a, int32_t id) {
    if (a->n == a->cap) a->v = xrealloc(a->v, (size_t)(a->cap = a->cap ? 2 * a->cap : 64) * sizeof *a->v);
    a->v[a->n++] = id;
}

void pieces_push(struct pieces *p, const char *s, size_t len, int at_start) {
    if (len == 0) return;
    if (p->n == p->cap) p->v = xrealloc(p->v, (size_t)(p->cap = p->cap ? 2 * p->cap : 16) * sizeof *p->v);
    p->v[p->n++] = (struct piece){xstrndup(s, len), len, at_start};
}

void pieces_clear(struct pieces *p) {
    for (int i = 0; i < p->n; i++) free(p->v[i].s);
    p->n = 0;
}

void pieces_free(struct pieces *p) {
    pieces_clear(p);
    free(p->v);
    memset(p, 0, sizeof *p);
}

char *json_path_key(const char *where, const char *key) { return xasprintf("%s.%s", where, key); }

char *json_path_index(const char *where, int i) { return xasprintf("%s[%d]", where, i); }

/* ---- added tokens ------------------------------------------------------------------------------ */

static int parse_added_tokens(struct tokenizer *t, const cJSON *list, const char *path, struct error *err) {
    if (!list || cJSON_IsNull(list)) return 0;
    if (!cJSON_IsArray(list)) return error_set(err, "%s: field 'added_tokens' is not an array", path);
    t->added = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *t->added);
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, list) {
        char where[64];
        snprintf(where, sizeof where, "added_tokens[%d]", i++);
        long long id;
        const char *content;
        if (json_req_int(e, "id", where, &id, err) || json_req_str(e, "content", where, &content, err))
            return error_wrap(err, "%s", path);
        if (id < 0 || id > MAX_TOKEN_ID) return error_set(err, "%s: %s.id %lld out of range", path, where, id);
        if (!content[0]) continue; /* TK ignores empty added tokens */
        struct added_token *a = &t->added[t->n_added++];
        a->content = xstrdup(content);
        a->id = (int32_t)id;
        a->lstrip = json_bool(e, "lstrip", 0);
        a->rstrip = json_bool(e, "rstrip", 0);
        a->single_word = json_bool(e, "single_word", 0);
        a->special = json_bool(e, "special", 0);
        a->normalized = json_bool(e, "normalized", !a->special);
    }
    return 0;
}

/* What each added token is searched for: normalized tokens are matched in normalized text, so
   against their own normalized form (TK refresh_added_tokens). */
static void prepare_matches(struct tokenizer *t) {
    for (int i = 0; i < t->n_added; i++) {
        struct added_token *a = &t->added[i];
        size_t n = strlen(a->content);
        a->match = a->normalized ? normalizer_apply(&t->norm, a->content, n, &n) : xstrdup(a->content);
        a->match_len = n;
    }
    struct match_list *lists[2] = {&t->raw, &t->normalized};
    for (int k = 0; k < 2; k++) {
        struct match_list *l = lists[k];
        l->tok = xmalloc(((size_t)t->n_added + 1) * sizeof *l->tok);
        int count[256] = {0};
        for (int i = 0; i < t->n_added; i++)
            if (t->added[i].normalized == k && t->added[i].match_len) count[(unsigned char)t->added[i].match[0]]++;
        l->bucket[0] = 0;
        for (int b = 0; b < 256; b++) l->bucket[b + 1] = l->bucket[b] + count[b];
        int fill[256];
        memcpy(fill, l->bucket, sizeof fill);
        for (int i = 0; i < t->n_added; i++)
            if (t->added[i].normalized == k && t->added[i].match_len)
                l->tok[fill[(unsigned char)t->added[i].match[0]]++] = i;
        l->n = l->bucket[256];
    }
}

/* A stretch of text: an added token (id >= 0) or plain text (id -1). */
struct segment {
    size_t start, end;
    int32_t id;
};
struct segments {
    struct segment *v;
    int n, cap;
};

static void seg_push(struct segments *s, size_t start, size_t end, int32_t id) {
    if (s->n == s->cap) s->v = xrealloc(s->v, (size_t)(s->cap = s->cap ? 2 * s->cap : 16) * sizeof *s->v);
    s->v[s->n++] = (struct segment){start, end, id};
}

static int last_char_is_word(const char *s, size_t end) {
    if (end == 0) return 0;
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    uint32_t cp;
    utf8_decode(s + i, end - i, &cp);
    return uni_is_word(cp);
}

static int first_char_is_word(const char *s, size_t start, size_t len) {
    if (start >= len) return 0;
    uint32_t cp;
    utf8_decode(s + start, len - start, &cp);
    return uni_is_word(cp);
}

/* Start of the whitespace run that ends at `end` (Rust regex \s*$ on s[..end]). */
static size_t space_run_before(const char *s, size_t end) {
    while (end > 0) {
        size_t i = end - 1;
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
        uint32_t cp;
        utf8_decode(s + i, end - i, &cp);
        if (!uni_is_space(cp)) break;
        end = i;
    }
    return end;
}

/* End of the whitespace run that starts at `start` (Rust regex ^\s* on s[start..]). */
static size_t space_run_after(const char *s, size_t start, size_t len) {
    while (start < len) {
        uint32_t cp;
        int k = utf8_decode(s + start, len - start, &cp);
        if (!uni_is_space(cp)) break;
        start += (size_t)k;
    }
    return start;
}

/* TK find_matches: leftmost-longest, non-overlapping matches (a match rejected by single_word still
   consumes its span, as in the Aho-Corasick iterator), then lstrip/rstrip widen the token's span
   over adjacent whitespace. Text between tokens becomes id -1 segments. */
static void find_added(const struct tokenizer *t, const struct match_list *l, const char *s, size_t len,
                       struct segments *out) {
    size_t start_offset = 0, pos = 0;
    while (l->n && pos < len) {
        unsigned char b = (unsigned char)s[pos];
        int best = -1;
        for (int k = l->bucket[b]; k < l->bucket[b + 1]; k++) {
            const struct added_token *a = &t->added[l->tok[k]];
            if (a->match_len <= len - pos && memcmp(s + pos, a->match, a->match_len) == 0 &&
                (best < 0 || a->match_len > t->added[best].match_len))
                best = l->tok[k];
        }
        if (best < 0) {
            pos++;
            continue;
        }
        const struct added_token *a = &t->added[best];
        size_t start = pos, stop = pos + a->match_len;
        pos = stop;
        if (a->single_word && (last_char_is_word(s, start) || first_char_is_word(s, stop, len))) continue;
        if (a->lstrip) {
            size_t ns = space_run_before(s, start);
            start = ns > start_offset ? ns : start_offset;
        }
        if (a->rstrip) stop = space_run_after(s, stop, len);
        if (start_offset < start) seg_push(out, start_offset, start, -1);
        seg_push(out, start, stop, a->id);
        start_offset = stop;
    }
    if (start_offset < len) seg_push(out, start_offset, len, -1);
}

/* ---- post-processor and tokenizer_config.json -------------------------------------------------- */

/* {"SpecialToken": {"id": "<s>"}} -> the ids listed for it in special_tokens. */
static int template_special(const cJSON *item, const cJSON *specials, const char *path, const char *where,
                            struct ids *out, struct error *err) {
    const char *name = json_str(cJSON_GetObjectItemCaseSensitive(item, "SpecialToken"), "id", NULL);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(specials, name ? name : ""),
                                                      "ids"), *e;
    if (!name || !cJSON_IsArray(ids))
        return error_set(err, "%s: %s: special token \"%s\" has no ids in special_tokens", path, where,
                         name ? name : "?");
    cJSON_ArrayForEach(e, ids) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0) return error_set(err, "%s: %s: bad id", path, where);
        ids_push(out, (int32_t)e->valuedouble);
    }
    return 0;
}

static int parse_template(struct tokenizer *t, const cJSON *node, const char *path, const char *where,
                          struct error *err) {
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(node, "single"), *item;
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(node, "special_tokens");
    if (!cJSON_IsArray(single)) return error_set(err, "%s: %s.single missing or not an array", path, where);
    int seen_a = 0, i = 0;
    cJSON_ArrayForEach(item, single) {
        char *sub = xasprintf("%s.single[%d]", where, i++);
        int rc = 0;
        if (cJSON_GetObjectItemCaseSensitive(item, "SpecialToken")) {
            rc = template_special(item, specials, path, sub, seen_a ? &t->suffix : &t->prefix, err);
        } else if (cJSON_GetObjectItemCaseSensitive(item, "Sequence")) {
            const char *id = json_str(cJSON_GetObjectItemCaseSensitive(item, "Sequence"), "id", "");
            if (strcmp(id, "A") != 0 || seen_a) rc = error_set(err, "%s: %s: only one $A is supported", path, sub);
            seen_a = 1;
        } else {
            rc = error_set(err, "%s: %s: expected SpecialToken or Sequence", path, sub);
        }
        free(sub);
        if (rc) return rc;
    }
    if (!seen_a) return error_set(err, "%s: %s.single has no $A", path, where);
    return 0;
}

static int parse_post_processor(struct tokenizer *t, const cJSON *node, const char *path, const char *where,
                                struct error *err) {
    if (!node || cJSON_IsNull(node)) return 0;
    const char *type = json_str(node, "type", NULL);
    if (!cJSON_IsObject(node) || !type) return error_set(err, "%s: %s: expected an object with a \"type\"", path, where);
    if (strcmp(type, "TemplateProcessing") == 0) return parse_template(t, node, path, where, err);
    if (strcmp(type, "ByteLevel") == 0) return 0; /* only adjusts offsets: no ids */
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "processors"), *e;
        if (!cJSON_IsArray(list)) return error_set(err, "%s: %s.processors missing or not an array", path, where);
        int i = 0;
        cJSON_ArrayForEach(e, list) {
            char *sub = xasprintf("%s.processors[%d]", where, i++);
            int rc = parse_post_processor(t, e, path, sub, err);
            free(sub);
            if (rc) return rc;
        }
        return 0;
    }
    return error_set(err, "%s: %s.type \"%s\" is not supported (post-processors: TemplateProcessing, ByteLevel, "
                     "Sequence)", path, where, type);
}

/* bos_token / eos_token: a string, {"content": ...}, or null/absent (-1). */
static int config_token(const struct tokenizer *t, const cJSON *cfg, const char *key, const char *path,
                        int32_t *out, struct error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    *out = -1;
    if (!v || cJSON_IsNull(v)) return 0;
    const char *s = cJSON_IsString(v) ? v->valuestring : json_str(v, "content", NULL);
    if (!s) return error_set(err, "%s: field '%s' is neither a string nor {\"content\": ...}", path, key);
    *out = tokenizer_piece_to_id(t, s);
    if (*out < 0) return error_set(err, "%s: %s \"%s\" is not in the vocabulary", path, key, s);
    return 0;
}

static int load_config(struct tokenizer *t, const char *json_path, struct error *err) {
    char *dir = path_dirname(json_path), *path = path_join(dir, "tokenizer_config.json");
    free(dir);
    int rc = 0;
    if (!file_exists(path)) {
        /* Without a config the template tells: what precedes $A is BOS, what follows is EOS. */
        t->bos_id = t->prefix.n ? t->prefix.v[0] : -1;
        t->eos_id = t->suffix.n ? t->suffix.v[t->suffix.n - 1] : -1;
        free(path);
        return 0;
    }
    cJSON *cfg = json_load_file(path, err);
    if (!cfg) rc = -1;
    if (!rc) rc = config_token(t, cfg, "bos_token", path, &t->bos_id, err);
    if (!rc) rc = config_token(t, cfg, "eos_token", path, &t->eos_id, err);
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template"), *e;
    if (!rc && cJSON_IsString(tpl)) t->chat_template = xstrdup(tpl->valuestring);
    if (!rc && cJSON_IsArray(tpl)) { /* [{"name": "default", "template": ...}, ...] */
        cJSON_ArrayForEach(e, tpl) {
            if (strcmp(json_str(e, "name", ""), "default") == 0 && json_str(e, "template", NULL))
                t->chat_template = xstrdup(json_str(e, "template", NULL));
        }
    }
    cJSON_Delete(cfg);
    free(path);
    return rc;
}

/* ---- loading ------------------------------------------------------------------------------------ */

static void build_id_tables(struct tokenizer *t) {
    t->n_ids = t->bpe.n_ids;
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].id >= t->n_ids) t->n_ids = t->added[i].id + 1;
    t->piece = xcalloc((size_t)t->n_ids, sizeof *t->piece);
    t->special = xcalloc((size_t)t->n_ids, 1);
    for (int32_t id = 0; id < t->bpe.n_ids; id++) t->piece[id] = t->bpe.piece[id];
    struct strmap specials;
    strmap_init(&specials, (size_t)t->n_added);
    strmap_init(&t->added_map, (size_t)t->n_added);
    for (int i = 0; i < t->n_added; i++) {
        const struct added_token *a = &t->added[i];
        /* TK's simple_id_to_token: the normalized form for normalized tokens. */
        t->piece[a->id] = a->normalized ? a->match : a->content;
        strmap_put(&t->added_map, a->content, strlen(a->content), a->id);
        if (a->special) strmap_put(&specials, a->content, strlen(a->content), a->id);
    }
    /* TK decides "special" by the token's string, whatever id it came from. */
    for (int32_t id = 0; id < t->n_ids; id++)
        if (t->piece[id] && strmap_get(&specials, t->piece[id], strlen(t->piece[id])) >= 0) t->special[id] = 1;
    strmap_free(&specials);
}

struct tokenizer *tokenizer_load(const char *path, struct error *err) {
    cJSON *root = json_load_file(path, err);
    if (!root) return NULL;
    struct tokenizer *t = xcalloc(1, sizeof *t);
    t->bos_id = t->eos_id = -1;
    int rc = cJSON_IsObject(root) ? 0 : error_set(err, "%s: top level is not an object", path);
    if (!rc) rc = bpe_load(cJSON_GetObjectItemCaseSensitive(root, "model"), path, &t->bpe, err);
    if (!rc) rc = normalizer_parse(cJSON_GetObjectItemCaseSensitive(root, "normalizer"), path, "normalizer", &t->norm, err);
    if (!rc)
        rc = pretokenizer_parse(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), path, "pre_tokenizer",
                                &t->pretok, err);
    if (!rc) rc = decoder_parse(cJSON_GetObjectItemCaseSensitive(root, "decoder"), path, "decoder", &t->dec, err);
    if (!rc) rc = parse_added_tokens(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), path, err);
    if (!rc)
        rc = parse_post_processor(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), path, "post_processor",
                                  err);
    cJSON_Delete(root);
    if (!rc) {
        prepare_matches(t);
        build_id_tables(t);
        rc = load_config(t, path, err);
    }
    if (rc) {
        tokenizer_free(t);
        return NULL;
    }
    return t;
}

void tokenizer_free(struct tokenizer *t) {
    if (!t) return;
    bpe_free(&t->bpe);
    normalizer_free(&t->norm);
    pretokenizer_free(&t->pretok);
    decoder_free(&t->dec);
    for (int i = 0; i < t->n_added; i++) {
        free(t->added[i].content);
        free(t->added[i].match);
    }
    free(t->added);
    strmap_free(&t->added_map);
    free(t->raw.tok);
    free(t->normalized.tok);
    free(t->piece);
    free(t->special);
    free(t->prefix.v);
    free(t->suffix.v);
    free(t->chat_template);
    free(t);
}

/* ---- encoding ------------------------------------------------------------------------------------ */

/* Steps 1-2 of the pipeline: calls emit(ctx, id, NULL) for an added token and
   emit(ctx, -1, piece) for each normalized text piece, in order. */
typedef void (*emit_fn)(const struct tokenizer *t, void *ctx, int32_t id, const struct piece *p);

static void split_and_normalize(const struct tokenizer *t, const char *text, emit_fn emit, void *ctx) {
    size_t len = strlen(text);
    struct segments raw = {0};
    find_added(t, &t->raw, text, len, &raw);
    for (int i = 0; i < raw.n; i++) {
        const struct segment *s = &raw.v[i];
        if (s->id >= 0) {
            emit(t, ctx, s->id, NULL);
            continue;
        }
        size_t nlen;
        char *norm = normalizer_apply(&t->norm, text + s->start, s->end - s->start, &nlen);
        struct segments sub = {0};
        find_added(t, &t->normalized, norm, nlen, &sub);
        for (int j = 0; j < sub.n; j++) {
            const struct segment *ss = &sub.v[j];
            struct piece p = {norm + ss->start, ss->end - ss->start, s->start == 0 && ss->start == 0};
            if (ss->id >= 0) emit(t, ctx, ss->id, NULL);
            else if (p.len) emit(t, ctx, -1, &p);
        }
        free(sub.v);
        free(norm);
    }
    free(raw.v);
}

static void emit_ids(const struct tokenizer *t, void *ctx, int32_t id, const struct piece *p) {
    struct ids *out = ctx;
    if (id >= 0) {
        ids_push(out, id);
        return;
    }
    struct pieces words = {0};
    pretokenizer_apply(&t->pretok, p, &words);
    for (int i = 0; i < words.n; i++) bpe_encode_word(&t->bpe, words.v[i].s, words.v[i].len, out);
    pieces_free(&words);
}

static void emit_words(const struct tokenizer *t, void *ctx, int32_t id, const struct piece *p) {
    if (id < 0) pretokenizer_apply(&t->pretok, p, ctx);
}

void tokenizer_words(const struct tokenizer *t, const char *text, struct pieces *out) {
    split_and_normalize(t, text, emit_words, out);
}

int tokenizer_encode(const struct tokenizer *t, const char *text, int add_special, int32_t **ids) {
    struct ids out = {0};
    if (add_special)
        for (int i = 0; i < t->prefix.n; i++) ids_push(&out, t->prefix.v[i]);
    split_and_normalize(t, text, emit_ids, &out);
    if (add_special)
        for (int i = 0; i < t->suffix.n; i++) ids_push(&out, t->suffix.v[i]);
    if (!out.v) out.v = xmalloc(sizeof *out.v); /* callers may free even when there are no ids */
    *ids = out.v;
    return out.n;
}

/* ---- decoding and lookups --------------------------------------------------------------------- */

char *tokenizer_decode(const struct tokenizer *t, const int32_t *ids, int n, int skip_special) {
    const char **toks = xmalloc(((size_t)n + 1) * sizeof *toks);
    int k = 0;
    for (int i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_ids || !t->piece[id]) continue; /* unknown ids are skipped, as in TK */
        if (skip_special && t->special[id]) continue;
        toks[k++] = t->piece[id];
    }
    char *s = decoder_run(&t->dec, toks, k);
    free(toks);
    return s;
}

const char *tokenizer_id_to_piece(const struct tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_ids ? t->piece[id] : NULL;
}

int32_t tokenizer_piece_to_id(const struct tokenizer *t, const char *piece) {
    size_t n = strlen(piece);
    int32_t id = strmap_get(&t->added_map, piece, n);
    return id >= 0 ? id : strmap_get(&t->bpe.map, piece, n);
}

int tokenizer_vocab_size(const struct tokenizer *t) { return t->n_ids; }

int tokenizer_is_special(const struct tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_ids && t->special[id];
}

int32_t tokenizer_bos_id(const struct tokenizer *t) { return t->bos_id; }

int32_t tokenizer_eos_id(const struct tokenizer *t) { return t->eos_id; }

const char *tokenizer_chat_template(const struct tokenizer *t) { return t->chat_template; }
