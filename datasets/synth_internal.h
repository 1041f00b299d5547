/*
 * synth_internal.h: the pieces of the generator, shared by the datasets/synth_*.c files:
 * a seeded random stream (synth_rng.c), fonts and word rendering (synth_font.c), the canvas
 * that draws words and records their boxes (synth_canvas.c), the vocabularies
 * (synth_words.c) and one image generator per kind (synth_scene.c, synth_doc.c,
 * synth_ocrbench.c, synth_page.c). Internal to datasets/.
 */
#ifndef SPARSEMM_DATASETS_SYNTH_INTERNAL_H
#define SPARSEMM_DATASETS_SYNTH_INTERNAL_H

#include <stdint.h>
#include "datasets/synth.h"

/* ---- random stream (splitmix64: tiny, fast, and the same on every platform) ---- */

struct rng {
    uint64_t state;
};

/* A well-mixed 64-bit function of (a, b): how per-image seeds are derived. */
uint64_t rng_mix(uint64_t a, uint64_t b);
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform integer in [lo, hi] (lo <= hi). */
int rng_int(struct rng *r, int lo, int hi);
/* 1 with probability p. */
int rng_chance(struct rng *r, double p);

/* ---- fonts ---- */

struct font; /* one open face */

struct fontset {
    void *library;       /* FT_Library */
    struct font **fonts; /* [n] */
    int n;
};

/* Open the fonts named in list (comma-separated; NULL: the default DejaVu set), looking in
   dir, else $SPARSEMM_FONT_DIR, else the system font folders; a name with a '/' is a path. */
int fontset_open(struct fontset *fs, const char *dir, const char *list, struct error *err);
void fontset_close(struct fontset *fs);
/* Ascent and descent (both positive) of the font at px pixels, rounded up. */
void font_metrics(struct font *f, int px, int *ascent, int *descent);

/* A word's ink: coverage [h][w], placed at (x0, y0) from the pen position on the baseline.
   Coverage below the ink threshold is already zero, and the mask is cropped to the ink. */
struct glyph_run {
    int w, h, x0, y0;
    uint8_t *a;
    int advance;         /* pen advance of the whole word */
};

/* Render UTF-8 text (one word, no layout) at px pixels. Free with glyph_run_free. */
void font_render(struct font *f, int px, const char *text, struct glyph_run *out);
void glyph_run_free(struct glyph_run *g);
/* Pen advance of one space at px pixels. */
int font_space(struct font *f, int px);

/* ---- canvas: an image, the ink drawn so far, the boxes of the words drawn ---- */

struct rgb {
    uint8_t r, g, b;
};

struct canvas {
    struct image img;
    uint8_t *ink;         /* [h][w] */
    struct ocr_box *boxes;
    int n_boxes, cap;
};

void canvas_init(struct canvas *c, int w, int h, struct rgb bg);
/* Vertical gradient over the whole canvas. */
void canvas_gradient(struct canvas *c, struct rgb top, struct rgb bottom);
/* Fill [x0, x1) x [y0, y1), clipped. */
void canvas_rect(struct canvas *c, int x0, int y0, int x1, int y1, struct rgb col);
/* Fill the ellipse inscribed in [x0, x1) x [y0, y1), clipped. */
void canvas_ellipse(struct canvas *c, int x0, int y0, int x1, int y1, struct rgb col);
/* Move the image, ink and boxes into an item (the canvas is left empty). */
void canvas_finish(struct canvas *c, struct synth_item *it);

/* A phrase: words rendered at one size in one font, laid out on one line. */
struct phrase {
    int n;
    char **words;            /* [n] */
    struct glyph_run *runs;  /* [n] */
    int *pen;                /* [n] pen x of each word from the phrase's start */
    int left, right, top, bottom; /* ink extent from (start pen, baseline), inclusive */
};

/* Split text on spaces and render it. Free with phrase_free. */
void phrase_make(struct phrase *p, struct font *f, int px, const char *text);
void phrase_free(struct phrase *p);
static inline int phrase_width(const struct phrase *p) { return p->right - p->left + 1; }
static inline int phrase_height(const struct phrase *p) { return p->bottom - p->top + 1; }
/* Make the phrase at a size in [min_px, px] whose ink fits max_w x max_h (px if it fits, else
   about the largest that does); returns the size, or -1 (nothing to free) if none fits. */
int phrase_fit(struct phrase *p, struct font *f, int px, int min_px, const char *text, int max_w, int max_h);
/* Draw with the ink's top-left corner at (x, y); appends one box per word to the canvas and
   returns the index of the first. Generators place phrases inside the canvas; ink outside
   would be clipped, and a box holds only what was drawn. */
int phrase_draw(struct canvas *c, const struct phrase *p, int x, int y, struct rgb col);

/* ---- colours ---- */

/* Enough contrast to read and to make every drawn ink pixel change the image. */
int colours_contrast(struct rgb a, struct rgb b);
struct rgb colour_random(struct rng *r);
/* A random colour that contrasts with bg. */
struct rgb colour_contrasting(struct rng *r, struct rgb bg);

/* ---- vocabularies (synth_words.c) ---- */

struct wordlist {
    const char *const *w;
    int n;
};

extern const struct wordlist words_brands, words_signs, words_common, words_titles,
    words_first_names, words_last_names, words_cities, words_items, words_months,
    words_company_suffixes, words_store_kinds;

static inline const char *pick(struct rng *r, const struct wordlist *l) { return l->w[rng_int(r, 0, l->n - 1)]; }

/* ---- generators: one image and its questions ---- */

/* What a generator gets: the options and the open fonts. */
struct synth_ctx {
    const struct synth_options *o;
    struct fontset *fonts;
};

/* Append a question whose answer is the text of boxes [box, box + n_box) (answers[0]). */
void qa_add(struct synth_item *it, const char *question, const char *answer, int box, int n_box,
            const char *category, const char *source);
/* Add answer variants after answers[0]. */
void qa_add_answer(struct synth_qa *qa, const char *answer);

/* Font size range of the options, or the default [lo, hi] scaled by min(width, height)/336. */
void font_range(const struct synth_ctx *c, int lo, int hi, int *min, int *max);
/* Shuffle the item's questions, so which ones are asked varies from image to image. */
void qa_shuffle(struct synth_item *it, struct rng *r);

/* Each fills `it` (image, ink, boxes, questions); they fail only when the image is too small
   for the requested font sizes, and then `it` may hold a partial image (synth_render frees it). */
int synth_scene(const struct synth_ctx *c, struct rng *r, struct synth_item *it, struct error *err);
/* receipt = 1: a shop receipt with OCRBench's Key Information Extraction questions. */
int synth_doc(const struct synth_ctx *c, struct rng *r, int receipt, struct synth_item *it, struct error *err);
/* index selects the category, in turn. */
int synth_ocrbench(const struct synth_ctx *c, struct rng *r, int index, struct synth_item *it, struct error *err);
int synth_page(const struct synth_ctx *c, struct rng *r, struct synth_item *it, struct error *err);

#endif
