/*
 * synth_page.c: synthdog-like OCR pages for the head finder: lines of common words on a plain
 * paper background, one font and size per page, every word boxed. The one question is the
 * head finder's "Provide all the OCR results of this image." and its answer is the page's
 * text in reading order (the words joined by spaces).
 *
 * The background is a single flat colour on purpose: every pixel that differs from it is ink
 * of some word, which is what lets the tests check the boxes against the image itself.
 */
#include "datasets/synth_internal.h"

#include <stdlib.h>
#include <string.h>
#include "datasets/loader.h"

/* A line of n random common words, the first capitalised. Caller frees. */
static char *line_text(struct rng *r, int n) {
    char buf[1024] = "";
    for (int i = 0; i < n; i++) {
        const char *w = pick(r, &words_common);
        if (strlen(buf) + strlen(w) + 2 >= sizeof buf) break;
        size_t at = strlen(buf);
        if (i) strcat(buf, " "), at++;
        strcat(buf, w);
        if (i == 0 && buf[at] >= 'a' && buf[at] <= 'z') buf[at] -= 32;
    }
    return xstrdup(buf);
}

int synth_page(const struct synth_ctx *c, struct rng *r, struct synth_item *it, struct error *err) {
    memset(it, 0, sizeof *it);
    const struct synth_options *o = c->o;
    int pmin, pmax, asc, desc;
    font_range(c, 16, 28, &pmin, &pmax);
    struct font *f = c->fonts->fonts[rng_int(r, 0, c->fonts->n - 1)];
    int px = rng_int(r, pmin, pmax), margin = o->width / 20;
    font_metrics(f, px, &asc, &desc);
    int pitch = asc + desc + px / 4;
    int lmin = o->lines_min > 0 ? o->lines_min : 4, lmax = o->lines_max > 0 ? o->lines_max : 9;
    int wmin = o->words_min > 0 ? o->words_min : 2, wmax = o->words_max > 0 ? o->words_max : 5;
    int lines = rng_int(r, lmin, lmax < lmin ? lmin : lmax);
    int room = (o->height - 2 * margin - asc - desc) / pitch + 1; /* lines that fit */
    if (room < 1) return error_set(err, "synth: no text line fits a %dx%d image at %d px", o->width, o->height, px);
    if (lines > room) lines = room;
    /* Light paper, dark ink: every channel differs by at least 125, so even the faintest drawn
       coverage (16/255) moves each ink pixel by several levels. */
    struct rgb paper = {(uint8_t)rng_int(r, 215, 255), (uint8_t)rng_int(r, 215, 255), (uint8_t)rng_int(r, 205, 255)};
    struct rgb ink = {(uint8_t)rng_int(r, 0, 80), (uint8_t)rng_int(r, 0, 80), (uint8_t)rng_int(r, 0, 80)};
    struct canvas cv;
    canvas_init(&cv, o->width, o->height, paper);
    for (int k = 0; k < lines; k++) {
        int n = rng_int(r, wmin, wmax < wmin ? wmin : wmax);
        char *text = line_text(r, n);
        struct phrase ph;
        phrase_make(&ph, f, px, text);
        /* Drop words from the end until the line fits the width. */
        while (phrase_width(&ph) > o->width - 2 * margin && n > 1) {
            phrase_free(&ph);
            char *cut = strrchr(text, ' ');
            *cut = 0;
            n--;
            phrase_make(&ph, f, px, text);
        }
        int base = margin + asc + k * pitch;
        if (phrase_width(&ph) <= o->width - 2 * margin)
            phrase_draw(&cv, &ph, margin + rng_int(r, 0, (o->width - 2 * margin - phrase_width(&ph)) / 4), base + ph.top, ink);
        phrase_free(&ph);
        free(text);
    }
    canvas_finish(&cv, it);
    size_t len = 1;
    for (int i = 0; i < it->n_boxes; i++) len += strlen(it->boxes[i].text) + 1;
    char *all = xcalloc(len, 1);
    for (int i = 0; i < it->n_boxes; i++) {
        if (i) strcat(all, " ");
        strcat(all, it->boxes[i].text);
    }
    qa_add(it, synthdog_question, all, 0, it->n_boxes, NULL, NULL);
    free(all);
    return 0;
}
