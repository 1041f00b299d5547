/*
 * head_finder.h: the paper's visual-head search, "OCR-based targeted response analysis"
 * (research/sparsemm.md §1). For one OCR page:
 *
 *   1. greedy generation (plain argmax, no repetition penalty) of the answer to "Provide all
 *      the OCR results of this image." through the model's chat template, up to
 *      max_new_tokens or EOS;
 *   2. every generated token whose text is a substring of exactly one OCR chunk is a match;
 *   3. for a match with chunk c, every (layer, query head) whose most-attended key in the
 *      attention row that produced the token lies in c's image-token set R (box_tokens.h) gets
 *      1 / |R|.
 *
 * The per-sample sums are one sample's scores; a head's score is the mean over samples
 * (head_scores.h keeps the lists in the official file format). Only the argmax key per head and
 * step is needed, which the engine reports from its decode attention: no attention matrix is
 * ever built.
 *
 * Token text: the official LLaVA script compares the raw vocabulary piece
 * (convert_ids_to_tokens), so SentencePiece word-initial pieces, which start with "▁", never
 * match and only continuation pieces, digits and punctuation count; the official Qwen2-VL script
 * compares the decoded text of the single id (with its leading space). Both are offered.
 */
#ifndef SPARSEMM_HEAD_FINDER_H
#define SPARSEMM_HEAD_FINDER_H

#include <signal.h>

#include "engine/model.h"
#include "methods/box_tokens.h"

/* The OCR prompt of the official scripts. */
extern const char head_finder_prompt[];

enum token_text {
    TOKEN_TEXT_RAW,     /* the vocabulary piece (convert_ids_to_tokens) */
    TOKEN_TEXT_DECODED, /* tokenizer.decode([id]) */
};

/* What the paper's scripts used: raw for LLaVA and LLaVA-NeXT, decoded for Qwen2-VL. */
enum token_text token_text_official(enum model_arch arch);
const char *token_text_name(enum token_text t);
/* "raw" or "decoded"; -1 otherwise. */
int token_text_parse(const char *name, enum token_text *out);
/* A token's string as the finder compares it, or NULL for an id with no vocabulary piece (the
   padding rows of an embedding larger than the tokenizer): such a token never matches (the
   official script would stop with a TypeError on it). Caller frees. */
char *token_text_of(const struct tokenizer *tok, int32_t id, enum token_text mode);

/* An OCR chunk: its text and its box in pixels of the original image. */
struct text_region {
    const char *text;
    double x0, y0, x1, y1;
};

/* The official match rule: the index of the one region whose text contains `token` (a byte
   substring, which for UTF-8 is Python's `in`), or -1 when none or several do. The empty
   string is in every text, so it matches only when there is exactly one region. */
int match_region(const char *token, const struct text_region *regions, int n);

/* One sample's scores, fed one generated token at a time. */
struct head_tally {
    int n_layers, n_heads;
    const struct text_region *regions; /* [n_regions], the caller's */
    int n_regions;
    struct token_grid grid;
    struct token_rect *rects;          /* [n_regions] each region's image tokens */
    double *score;                     /* [n_layers * n_heads] the sums, layer-major */
    int n_tokens;                      /* tokens seen */
    int n_matched;                     /* tokens that matched one region */
    int n_hits;                        /* (matched token, head) pairs that scored */
};

/* Map every region's box onto the grid. Errors name the region. Free with head_tally_free. */
int head_tally_init(struct head_tally *t, int n_layers, int n_heads, const struct token_grid *grid,
                    const struct text_region *regions, int n_regions, struct error *err);
/* One generated token: its text (NULL: no match) and argmax [n_layers][n_heads], the sequence
   position of each query head's most-attended key in the row that produced the token. */
void head_tally_add(struct head_tally *t, const char *text, const int32_t *argmax);
void head_tally_free(struct head_tally *t);

struct head_finder_options {
    int max_new_tokens;          /* 1024 in the official scripts */
    enum token_text token_text;
    const char *template_name;   /* NULL: the model's default chat template */
    /* Optional: set (e.g. by a signal handler) to abandon the sample being generated. */
    volatile sig_atomic_t *stop;
    /* Optional: called after every generated token with the count so far. */
    void (*on_token)(void *ctx, int n_tokens);
    void *ctx;
};

/* Defaults: 1024 tokens, the model's official token text, its default template. */
void head_finder_options_init(struct head_finder_options *o, const struct model *m);

/* One sample's result. */
struct head_sample {
    double *score;     /* [n_layers * n_heads] per-head sums, layer-major */
    int32_t *tokens;   /* [n_generated] the generated ids, EOS excluded */
    int n_generated;
    int n_matched;
    int n_hits;
    char *text;        /* the generated answer, special tokens skipped */
};

/* Run one OCR page: image and its regions. Returns 0, 1 when *o->stop was set (out is then
   empty: a sample is all or nothing), -1 with err. Free out with head_sample_free. */
int head_finder_run(struct model *m, const struct image *img, const struct text_region *regions, int n_regions,
                    const struct head_finder_options *o, struct head_sample *out, struct error *err);
void head_sample_free(struct head_sample *s);

#endif
