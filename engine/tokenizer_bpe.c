/*
 * tokenizer_bpe.c: the BPE model of tokenizer.json (TK models/bpe; research/models.md 6.2).
 *
 * Loading builds two hash tables so that a 150k-entry vocabulary loads in linear time: string ->
 * id for the vocabulary, and (left id, right id) -> (rank, merged id) for the merges, where the
 * rank is the merge's index in the list. Encoding a word splits it into characters (with
 * byte_fallback "<0xXX>" tokens or the unk token for characters outside the vocabulary), then
 * repeatedly applies the lowest-rank merge, leftmost first, through a priority queue ordered by
 * (rank, position) that skips stale entries, which is what TK's Word::merge_all does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"
#include "engine/tokenizer_internal.h"
#include "engine/unicode.h"

/* Longest continuing_subword_prefix / end_of_word_suffix accepted (real ones are "##", "</w>"). */
#define MAX_AFFIX 32

/* ---- string map -------------------------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

void strmap_init(struct strmap *m, size_t expected) {
    size_t cap = 16;
    while (cap < 2 * expected + 2) cap *= 2; /* load factor <= 1/2 */
    m->e = xcalloc(cap, sizeof *m->e);
    m->cap = cap;
    m->n = 0;
}

static void strmap_grow(struct strmap *m) {
    struct strmap old = *m;
    strmap_init(m, old.cap); /* doubles the capacity */
    for (size_t i = 0; i < old.cap; i++)
        if (old.e[i].key) strmap_put(m, old.e[i].key, old.e[i].len, old.e[i].value);
    free(old.e);
}

void strmap_put(struct strmap *m, const char *key, size_t len, int32_t value) {
    if (2 * (m->n + 1) > m->cap) strmap_grow(m);
    size_t i = hash_bytes(key, len) & (m->cap - 1);
    while (m->e[i].key) {
        if (m->e[i].len == len && memcmp(m->e[i].key, key, len) == 0) {
            m->e[i].value = value;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->e[i] = (struct strmap_entry){key, (uint32_t)len, value};
    m->n++;
}

int32_t strmap_get(const struct strmap *m, const char *key, size_t len) {
    if (!m->cap) return -1;
    size_t i = hash_bytes(key, len) & (m->cap - 1);
    while (m->e[i].key) {
        if (m->e[i].len == len && memcmp(m->e[i].key, key, len) == 0) return m->e[i].value;
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

void strmap_free(struct strmap *m) {
    free(m->e);
    memset(m, 0, sizeof *m);
}

/* ---- merge map ------------------------------------------------------------------------------ */

/* Pair keys are stored +1 so that 0 can mark an empty slot. */
static uint64_t pair_key(int32_t a, int32_t b) { return (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1; }

static size_t pair_slot(uint64_t key, size_t cap) {
    uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 17) & (cap - 1);
}

static void merges_put(struct bpe *m, int32_t a, int32_t b, uint32_t rank, int32_t new_id) {
    uint64_t key = pair_key(a, b);
    size_t i = pair_slot(key, m->merges_cap);
    while (m->merges[i].pair && m->merges[i].pair != key) i = (i + 1) & (m->merges_cap - 1);
    /* A pair listed twice keeps its last rank, as TK's HashMap collect does. */
    m->merges[i] = (struct merge_entry){key, rank, new_id};
}

static const struct merge_entry *merges_get(const struct bpe *m, int32_t a, int32_t b) {
    if (!m->merges_cap) return NULL;
    uint64_t key = pair_key(a, b);
    size_t i = pair_slot(key, m->merges_cap);
    while (m->merges[i].pair) {
        if (m->merges[i].pair == key) return &m->merges[i];
        i = (i + 1) & (m->merges_cap - 1);
    }
    return NULL;
}

/* ---- loading ------------------------------------------------------------------------------- */

static int load_vocab(const cJSON *vocab, const char *path, struct bpe *m, struct error *err) {
    if (!cJSON_IsObject(vocab)) return error_set(err, "%s: field 'model.vocab' missing or not an object", path);
    size_t count = 0, bytes = 0;
    int32_t max_id = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 1e8 || e->valuedouble != (int32_t)e->valuedouble)
            return error_set(err, "%s: model.vocab[\"%s\"]: id is not a non-negative integer", path, e->string);
        if ((int32_t)e->valuedouble > max_id) max_id = (int32_t)e->valuedouble;
        bytes += strlen(e->string) + 1;
        count++;
    }
    if (count == 0) return error_set(err, "%s: model.vocab is empty", path);
    m->n_ids = max_id + 1;
    m->piece = xcalloc((size_t)m->n_ids, sizeof *m->piece);
    m->len = xcalloc((size_t)m->n_ids, sizeof *m->len);
    m->arena = xmalloc(bytes);
    strmap_init(&m->map, count);
    char *p = m->arena;
    cJSON_ArrayForEach(e, vocab) {
        size_t n = strlen(e->string);
        memcpy(p, e->string, n + 1);
        int32_t id = (int32_t)e->valuedouble;
        m->piece[id] = p;
        m->len[id] = (uint32_t)n;
        strmap_put(&m->map, p, n, id);
        p += n + 1;
    }
    return 0;
}

/* One merge as (left, right) strings: "a b" (exactly one space) or ["a", "b"]. */
static int merge_parts(const cJSON *e, const char *path, int i, const char **a, size_t *na, const char **b,
                       size_t *nb, struct error *err) {
    if (cJSON_IsString(e)) {
        const char *s = e->valuestring, *sp = strchr(s, ' ');
        if (!sp || strchr(sp + 1, ' '))
            return error_set(err, "%s: model.merges[%d] \"%s\" is not two tokens separated by one space", path, i, s);
        *a = s, *na = (size_t)(sp - s), *b = sp + 1, *nb = strlen(sp + 1);
        return 0;
    }
    if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
        cJSON_IsString(e->child->next)) {
        *a = e->child->valuestring, *na = strlen(*a);
        *b = e->child->next->valuestring, *nb = strlen(*b);
        return 0;
    }
    return error_set(err, "%s: model.merges[%d] is neither \"a b\" nor [\"a\", \"b\"]", path, i);
}

static int load_merges(const cJSON *merges, const char *path, struct bpe *m, struct error *err) {
    if (!cJSON_IsArray(merges)) return error_set(err, "%s: field 'model.merges' missing or not an array", path);
    size_t count = (size_t)cJSON_GetArraySize(merges), cap = 16;
    while (cap < 2 * count + 2) cap *= 2;
    m->merges = xcalloc(cap, sizeof *m->merges);
    m->merges_cap = cap;
    size_t prefix_len = m->prefix ? strlen(m->prefix) : 0;
    char *buf = NULL;
    size_t buf_cap = 0;
    int i = 0, rank = 0, rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, merges) {
        const char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        if (cJSON_IsString(e) && strncmp(e->valuestring, "#version", 8) == 0) {
            i++;
            continue;
        }
        if ((rc = merge_parts(e, path, i, &a, &na, &b, &nb, err))) break;
        int32_t ia = strmap_get(&m->map, a, na), ib = strmap_get(&m->map, b, nb);
        if (ia < 0 || ib < 0) {
            rc = error_set(err, "%s: model.merges[%d]: token \"%.*s\" is not in model.vocab", path, i,
                           (int)(ia < 0 ? na : nb), ia < 0 ? a : b);
            break;
        }
        /* The merged token drops the right part's continuing-subword prefix. */
        size_t skip = nb >= prefix_len ? prefix_len : 0, n = na + nb - skip;
        if (n + 1 > buf_cap) buf = xrealloc(buf, buf_cap = 2 * n + 16);
        memcpy(buf, a, na);
        memcpy(buf + na, b + skip, nb - skip);
        int32_t id = strmap_get(&m->map, buf, n);
        if (id < 0) {
            rc = error_set(err, "%s: model.merges[%d]: merged token \"%.*s\" is not in model.vocab", path, i, (int)n, buf);
            break;
        }
        merges_put(m, ia, ib, (uint32_t)rank++, id);
        i++;
    }
    free(buf);
    return rc;
}

/* Optional string field; max_len bounds it (0: no bound). */
static int opt_string(const cJSON *model, const char *key, const char *path, size_t max_len, char **out,
                      struct error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) return error_set(err, "%s: field 'model.%s' is not a string", path, key);
    if (max_len && strlen(v->valuestring) > max_len)
        return error_set(err, "%s: model.%s is longer than %zu bytes (not supported)", path, key, max_len);
    *out = xstrdup(v->valuestring);
    return 0;
}

int bpe_load(const cJSON *model, const char *path, struct bpe *m, struct error *err) {
    memset(m, 0, sizeof *m);
    m->unk_id = -1;
    if (!cJSON_IsObject(model)) return error_set(err, "%s: field 'model' missing or not an object", path);
    const char *type = json_str(model, "type", "BPE");
    if (strcmp(type, "BPE") != 0)
        return error_set(err, "%s: model.type \"%s\" is not supported (only BPE)", path, type);
    double dropout = json_num(model, "dropout", 0.0);
    if (dropout != 0.0) return error_set(err, "%s: model.dropout %g is not supported (only null)", path, dropout);
    m->fuse_unk = json_bool(model, "fuse_unk", 0);
    m->byte_fallback = json_bool(model, "byte_fallback", 0);
    m->ignore_merges = json_bool(model, "ignore_merges", 0);
    char *unk = NULL;
    int rc = opt_string(model, "continuing_subword_prefix", path, MAX_AFFIX, &m->prefix, err);
    if (!rc) rc = opt_string(model, "end_of_word_suffix", path, MAX_AFFIX, &m->suffix, err);
    if (!rc) rc = opt_string(model, "unk_token", path, 0, &unk, err);
    if (!rc) rc = load_vocab(cJSON_GetObjectItemCaseSensitive(model, "vocab"), path, m, err);
    if (!rc) rc = load_merges(cJSON_GetObjectItemCaseSensitive(model, "merges"), path, m, err);
    if (!rc && unk) {
        m->unk_id = strmap_get(&m->map, unk, strlen(unk));
        if (m->unk_id < 0) rc = error_set(err, "%s: model.unk_token \"%s\" is not in model.vocab", path, unk);
    }
    for (int b = 0; b < 256 && !rc; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        m->byte_id[b] = strmap_get(&m->map, name, 6);
    }
    free(unk);
    if (rc) bpe_free(m);
    return rc;
}

void bpe_free(struct bpe *m) {
    if (!m) return;
    free(m->piece);
    free(m->len);
    free(m->arena);
    strmap_free(&m->map);
    free(m->merges);
    free(m->prefix);
    free(m->suffix);
    memset(m, 0, sizeof *m);
}

/* ---- encoding ------------------------------------------------------------------------------ */

/* A symbol of the word being merged: a doubly linked list over the array; len 0 = merged away. */
struct sym {
    int32_t id;
    int prev, next;
    uint32_t len;
};

struct cand {
    uint32_t rank;
    int pos;
    int32_t new_id;
};

struct heap {
    struct cand *v;
    int n, cap;
};

static int cand_less(const struct cand *a, const struct cand *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(struct heap *h, struct cand c) {
    if (h->n == h->cap) h->v = xrealloc(h->v, (size_t)(h->cap = h->cap ? 2 * h->cap : 16) * sizeof *h->v);
    int i = h->n++;
    while (i > 0 && cand_less(&c, &h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = c;
}

static struct cand heap_pop(struct heap *h) {
    struct cand top = h->v[0], last = h->v[--h->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && cand_less(&h->v[c + 1], &h->v[c])) c++;
        if (!cand_less(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

static void add_sym(struct sym **syms, int *n, int *cap, int32_t id, uint32_t len) {
    if (*n == *cap) *syms = xrealloc(*syms, (size_t)(*cap = *cap ? 2 * *cap : 32) * sizeof **syms);
    (*syms)[*n] = (struct sym){id, *n - 1, *n + 1, len};
    (*n)++;
}

static void push_pair(const struct bpe *m, const struct sym *syms, int pos, struct heap *h) {
    const struct merge_entry *e = merges_get(m, syms[pos].id, syms[syms[pos].next].id);
    if (e) heap_push(h, (struct cand){e->rank, pos, e->new_id});
}

/* Characters to symbols (TK BPE::merge_word). A character outside the vocabulary becomes its
   "<0xXX>" byte tokens when byte_fallback has all of them, else the unk token, consecutive unks
   fused when fuse_unk; with neither it is dropped. A pending unk is written only when the next
   known character (or the end) comes, so byte tokens can precede it, exactly as in TK. */
static int word_to_syms(const struct bpe *m, const char *w, size_t len, struct sym **syms, int *cap) {
    int n = 0;
    int32_t unk = -1;
    uint32_t unk_len = 0;
    size_t np = m->prefix ? strlen(m->prefix) : 0, ns = m->suffix ? strlen(m->suffix) : 0;
    char key[2 * MAX_AFFIX + 8]; /* prefix + one character + suffix */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t cl = (size_t)utf8_decode(w + i, len - i, &cp);
        int first = i == 0, last = i + cl == len;
        size_t k = 0;
        if (!first && np) memcpy(key, m->prefix, np), k = np;
        memcpy(key + k, w + i, cl), k += cl;
        if (last && ns) memcpy(key + k, m->suffix, ns), k += ns;
        int32_t id = strmap_get(&m->map, key, k);
        if (id >= 0) {
            if (unk >= 0) add_sym(syms, &n, cap, unk, unk_len), unk = -1;
            add_sym(syms, &n, cap, id, (uint32_t)cl);
        } else {
            int all_bytes = m->byte_fallback;
            for (size_t j = 0; j < k && all_bytes; j++) all_bytes = m->byte_id[(unsigned char)key[j]] >= 0;
            if (all_bytes) {
                for (size_t j = 0; j < k; j++) add_sym(syms, &n, cap, m->byte_id[(unsigned char)key[j]], 1);
            } else if (m->unk_id >= 0) {
                if (unk >= 0 && m->fuse_unk) {
                    unk_len += (uint32_t)cl;
                } else {
                    if (unk >= 0) add_sym(syms, &n, cap, unk, unk_len);
                    unk = m->unk_id, unk_len = (uint32_t)cl;
                }
            }
        }
        i += cl;
    }
    if (unk >= 0) add_sym(syms, &n, cap, unk, unk_len);
    return n;
}

void bpe_encode_word(const struct bpe *m, const char *w, size_t len, struct ids *out) {
    if (len == 0) return;
    if (m->ignore_merges) {
        int32_t id = strmap_get(&m->map, w, len);
        if (id >= 0) {
            ids_push(out, id);
            return;
        }
    }
    struct sym *syms = NULL;
    int cap = 0, n = word_to_syms(m, w, len, &syms, &cap);
    if (n > 0) syms[n - 1].next = -1;
    struct heap h = {0};
    for (int i = 0; i + 1 < n; i++) push_pair(m, syms, i, &h);
    while (h.n) {
        struct cand c = heap_pop(&h);
        struct sym *s = &syms[c.pos];
        if (s->len == 0 || s->next < 0) continue;
        const struct merge_entry *e = merges_get(m, s->id, syms[s->next].id);
        if (!e || e->new_id != c.new_id) continue; /* stale: the pair changed since it was queued */
        struct sym *r = &syms[s->next];
        s->id = c.new_id;
        s->len += r->len;
        s->next = r->next;
        r->len = 0;
        if (s->next >= 0) syms[s->next].prev = c.pos;
        if (s->prev >= 0) push_pair(m, syms, s->prev, &h);
        if (s->next >= 0) push_pair(m, syms, c.pos, &h);
    }
    for (int i = 0; i < n; i++)
        if (syms[i].len) ids_push(out, syms[i].id);
    free(syms);
    free(h.v);
}
