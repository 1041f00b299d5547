/*
 * synth_ocrbench.c: OCRBench-like items, in five of its ten categories (the ones synthetic
 * text can stand for), taken in turn by image number:
 *   Regular Text Recognition     one large word            "what is written in the image?"
 *   Digit String Recognition     a 3-8 digit string        "what is the number in the image?"
 *   Scene Text-centric VQA       a scene (synth_scene.c)   its TextVQA-style questions
 *   Doc-oriented VQA             a page (synth_doc.c)      its DocVQA-style questions
 *   Key Information Extraction   a receipt (synth_doc.c)   SROIE/FUNSD-style questions
 * The recognition questions and the KIE suffix are OCRBench's own wording
 * (tests/fixtures/datasets/OCRBench.json). Each category has its own dataset_name.
 */
#include "datasets/synth_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct category {
    const char *type, *source;
};

static const struct category categories[] = {
    {"Regular Text Recognition", "SynthWords"},   {"Digit String Recognition", "SynthDigits"},
    {"Scene Text-centric VQA", "SynthScene"},     {"Doc-oriented VQA", "SynthDocs"},
    {"Key Information Extraction", "SynthReceipts"},
};

#define N_CATEGORIES (int)(sizeof categories / sizeof *categories)

/* A word in one of three casings, or a digit string. Caller frees. */
static char *recognition_text(struct rng *r, int digits) {
    if (digits) {
        int n = rng_int(r, 3, 8);
        char *s = xmalloc((size_t)n + 1);
        for (int i = 0; i < n; i++) s[i] = (char)('0' + rng_int(r, i == 0 ? 1 : 0, 9));
        s[n] = 0;
        return s;
    }
    int list = rng_int(r, 0, 2);
    char *w = xstrdup(pick(r, list == 0 ? &words_signs : list == 1 ? &words_brands : &words_common));
    int casing = rng_int(r, 0, 2); /* as listed, upper, lower */
    for (char *p = w; *p; p++) {
        if (casing == 1 && *p >= 'a' && *p <= 'z') *p -= 32;
        if (casing == 2 && *p >= 'A' && *p <= 'Z') *p += 32;
    }
    return w;
}

/* One large word or number on a plain or gradient background, placed at random. */
static int recognition(const struct synth_ctx *c, struct rng *r, int digits, struct synth_item *it, struct error *err) {
    int w = c->o->width, h = c->o->height, margin = w / 16, pmin, pmax;
    font_range(c, 40, 80, &pmin, &pmax);
    char *text = recognition_text(r, digits);
    struct font *f = c->fonts->fonts[rng_int(r, 0, c->fonts->n - 1)];
    struct phrase ph;
    if (phrase_fit(&ph, f, rng_int(r, pmin, pmax), pmin, text, w - 2 * margin, h - 2 * margin) < 0) {
        error_set(err, "synth: '%s' does not fit a %dx%d image at %d px", text, w, h, pmin);
        free(text);
        return -1;
    }
    struct rgb bg = colour_random(r), ink = colour_contrasting(r, bg);
    struct canvas cv;
    canvas_init(&cv, w, h, bg);
    if (rng_chance(r, 0.5)) {
        /* A gradient toward a second colour, when the text still contrasts with both ends. */
        struct rgb other = colour_random(r);
        struct rgb end = {(uint8_t)((bg.r * 3 + other.r) / 4), (uint8_t)((bg.g * 3 + other.g) / 4),
                          (uint8_t)((bg.b * 3 + other.b) / 4)};
        if (colours_contrast(ink, end)) canvas_gradient(&cv, bg, end);
    }
    int x = rng_int(r, margin, w - margin - phrase_width(&ph)), y = rng_int(r, margin, h - margin - phrase_height(&ph));
    int box = phrase_draw(&cv, &ph, x, y, ink);
    qa_add(it, digits ? "what is the number in the image?" : "what is written in the image?", text, box, ph.n, NULL, NULL);
    phrase_free(&ph);
    free(text);
    canvas_finish(&cv, it);
    return 0;
}

int synth_ocrbench(const struct synth_ctx *c, struct rng *r, int index, struct synth_item *it, struct error *err) {
    memset(it, 0, sizeof *it);
    int k = index % N_CATEGORIES, rc;
    if (k <= 1) rc = recognition(c, r, k == 1, it, err);
    else if (k == 2) rc = synth_scene(c, r, it, err);
    else rc = synth_doc(c, r, k == 4, it, err);
    for (int i = 0; i < it->n_qas; i++) {
        it->qas[i].category = categories[k].type;
        it->qas[i].source = categories[k].source;
    }
    return rc;
}
