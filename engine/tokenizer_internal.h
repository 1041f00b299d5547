/*
 * tokenizer_internal.h: what the tokenizer_*.c files share and nothing outside them (and the
 * tokenizer tests) should use. One stage of the Hugging Face pipeline per file:
 *   tokenizer.c           loading tokenizer.json / tokenizer_config.json, added tokens,
 *                         post-processor, the encode pipeline and the public API
 *   tokenizer_normalize.c normalizers (Prepend, Replace, NFC, Sequence)
 *   tokenizer_pretok.c    pre-tokenizers (Metaspace, the Qwen2 Split regex, ByteLevel, Sequence)
 *   tokenizer_bpe.c       the BPE model: vocabulary and merges hash tables, merge loop
 *   tokenizer_decode.c    decoders (Replace, ByteFallback, Fuse, Strip, ByteLevel, Metaspace)
 * Parsers take the JSON path of the node they read ("normalizer.normalizers[1]") so that every
 * error names the file and the field.
 */
#ifndef SPARSEMM_TOKENIZER_INTERNAL_H
#define SPARSEMM_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "engine/tokenizer.h"
#include "engine/util.h"

/* ---- small containers ------------------------------------------------------------------ */

/* Growable id list. */
struct ids {
    int32_t *v;
    int n, cap;
};
void ids_push(struct ids *a, int32_t id);

/* A piece of text on its way through the pipeline. at_start: the piece begins at offset 0 of
   the original input (what Metaspace's prepend_scheme "first" asks). Owns s. */
struct piece {
    char *s;
    size_t len;
    int at_start;
};
struct pieces {
    struct piece *v;
    int n, cap;
};
/* Appends a copy of s[0..len); empty pieces are dropped, as TK drops empty splits. */
void pieces_push(struct pieces *p, const char *s, size_t len, int at_start);
void pieces_clear(struct pieces *p); /* frees the strings, keeps the array */
void pieces_free(struct pieces *p);

/* Open-addressing hash map from byte strings to int32 values. Keys are not copied: they must
   outlive the map. Sized once for the expected count (it grows if exceeded). */
struct strmap_entry {
    const char *key;
    uint32_t len;
    int32_t value;
};
struct strmap {
    struct strmap_entry *e;
    size_t cap, n;
};
void strmap_init(struct strmap *m, size_t expected);
void strmap_put(struct strmap *m, const char *key, size_t len, int32_t value); /* replaces */
int32_t strmap_get(const struct strmap *m, const char *key, size_t len);      /* -1 if absent */
void strmap_free(struct strmap *m);

/* "<where>.<key>" / "<where>[i]" for error paths; caller frees. */
char *json_path_key(const char *where, const char *key);
char *json_path_index(const char *where, int i);

/* ---- normalizers (tokenizer_normalize.c) --------------------------------------------------- */

enum norm_kind { NORM_PREPEND, NORM_REPLACE, NORM_NFC };
struct norm_step {
    enum norm_kind kind;
    char *a; /* Prepend: the prefix; Replace: the pattern */
    char *b; /* Replace: the content */
};
struct normalizer {
    struct norm_step *steps;
    int n;
};
/* node may be NULL or JSON null (no normalizer). */
int normalizer_parse(const cJSON *node, const char *path, const char *where, struct normalizer *out,
                     struct error *err);
/* Normalize s[0..len) into a fresh string (*out_len bytes, NUL-terminated). Caller frees. */
char *normalizer_apply(const struct normalizer *n, const char *s, size_t len, size_t *out_len);
void normalizer_free(struct normalizer *n);
/* s[0..len) with every non-overlapping occurrence of pat (non-empty), left to right, replaced by
   rep; *out_len gets the new length. Caller frees. */
char *str_replace_all(const char *s, size_t len, const char *pat, const char *rep, size_t *out_len);

/* ---- pre-tokenizers (tokenizer_pretok.c) ------------------------------------------------- */

enum pretok_kind { PRETOK_METASPACE, PRETOK_QWEN2_SPLIT, PRETOK_BYTELEVEL };
enum prepend_scheme { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };
struct pretok_step {
    enum pretok_kind kind;
    char replacement[5]; /* Metaspace: UTF-8 of the replacement char, NUL-terminated */
    enum prepend_scheme prepend;
    int split;            /* Metaspace: split before each replacement char */
    int add_prefix_space; /* ByteLevel */
};
struct pretokenizer {
    struct pretok_step *steps;
    int n;
};
int pretokenizer_parse(const cJSON *node, const char *path, const char *where, struct pretokenizer *out,
                       struct error *err);
/* Split one normalized piece into words, appended to out. */
void pretokenizer_apply(const struct pretokenizer *p, const struct piece *in, struct pieces *out);
void pretokenizer_free(struct pretokenizer *p);
/* The Qwen2 split regex, matched at cps[i] (i < n): the end of the match (> i). */
size_t qwen2_regex_match(const uint32_t *cps, size_t n, size_t i);
/* GPT-2 byte <-> char tables (TK bytes_char): byte b maps to code point byte_level_char(b). */
uint32_t byte_level_char(uint8_t b);
int byte_level_byte(uint32_t cp); /* the byte, or -1 when cp is not in the table */

/* ---- BPE model (tokenizer_bpe.c) --------------------------------------------------------- */

struct merge_entry {
    uint64_t pair; /* (left id << 32) | right id; 0 marks an empty slot (pair 0,0 is stored +1) */
    uint32_t rank;
    int32_t new_id;
};
struct bpe {
    char **piece;     /* [n_ids] id -> vocabulary string, NULL for ids the vocabulary skips */
    uint32_t *len;    /* [n_ids] byte lengths */
    int32_t n_ids;    /* 1 + largest id */
    char *arena;      /* storage of all pieces */
    struct strmap map; /* string -> id */
    struct merge_entry *merges;
    size_t merges_cap;
    int32_t unk_id;   /* -1: no unk token */
    int fuse_unk, byte_fallback, ignore_merges;
    char *prefix, *suffix; /* continuing_subword_prefix, end_of_word_suffix (NULL when absent) */
    int32_t byte_id[256];  /* id of "<0xXX>" or -1, for byte_fallback */
};
int bpe_load(const cJSON *model, const char *path, struct bpe *out, struct error *err);
/* Tokenize one word, appending ids. */
void bpe_encode_word(const struct bpe *m, const char *w, size_t len, struct ids *out);
void bpe_free(struct bpe *m);

/* ---- decoders (tokenizer_decode.c) ------------------------------------------------------- */

enum dec_kind { DEC_REPLACE, DEC_BYTE_FALLBACK, DEC_FUSE, DEC_STRIP, DEC_BYTELEVEL, DEC_METASPACE };
struct dec_step {
    enum dec_kind kind;
    char *a, *b;          /* Replace: pattern, content */
    uint32_t ch;          /* Strip: content; Metaspace: replacement */
    int start, stop;      /* Strip */
    enum prepend_scheme prepend; /* Metaspace */
};
struct decoder {
    struct dec_step *steps;
    int n;
    int present; /* 0: no decoder in the file, tokens are joined with " " */
};
int decoder_parse(const cJSON *node, const char *path, const char *where, struct decoder *out,
                  struct error *err);
/* Run the chain over n token strings and concatenate. Caller frees. */
char *decoder_run(const struct decoder *d, const char *const *tokens, int n);
void decoder_free(struct decoder *d);

/* ---- test hooks (tokenizer.c) ------------------------------------------------------------ */

/* The words BPE sees for text (added tokens split out and dropped, normalizer and pre-tokenizer
   applied), like HF's pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)). */
void tokenizer_words(const struct tokenizer *t, const char *text, struct pieces *out);

#endif
