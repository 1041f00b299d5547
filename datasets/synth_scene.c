/*
 * synth_scene.c: TextVQA-like scene images: a gradient background with a few coloured shapes,
 * and text on flat signs, in one of three layouts, each with its question templates:
 *   sign      one sign with 1-2 words        "what is written on the sign?"
 *   label     a brand above a number         "what brand is this?", "what number is shown?"
 *   two signs one word high, one word low    "what word is at the top?" / "... at the bottom?"
 * Every answer is the rendered text of the sign it asks about. Text sits inside its sign with
 * a margin, on the sign's flat colour, in a colour that contrasts with it.
 */
#include "datasets/synth_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sign's text: 1..words_max sign words (65%) or a brand. */
static char *sign_text(const struct synth_ctx *c, struct rng *r) {
    if (rng_chance(r, 0.35)) return xstrdup(pick(r, &words_brands));
    int lo = c->o->words_min > 0 ? c->o->words_min : 1, hi = c->o->words_max > 0 ? c->o->words_max : 2;
    int n = rng_int(r, lo, hi < lo ? lo : hi);
    char buf[512] = "";
    for (int i = 0; i < n; i++) {
        const char *w = pick(r, &words_signs);
        if (strlen(buf) + strlen(w) + 2 >= sizeof buf) break;
        if (i) strcat(buf, " ");
        strcat(buf, w);
    }
    return xstrdup(buf);
}

/* A number as printed on a label: an integer of 1-4 digits or a price-like decimal. */
static char *number_text(struct rng *r) {
    if (rng_chance(r, 0.3)) return xasprintf("%d.%02d", rng_int(r, 1, 99), rng_int(r, 0, 99));
    int digits = rng_int(r, 1, 4), lo = 1;
    for (int i = 1; i < digits; i++) lo *= 10;
    return xasprintf("%d", rng_int(r, digits == 1 ? 0 : lo, lo * 10 - 1));
}

static void background(struct canvas *cv, struct rng *r) {
    canvas_gradient(cv, colour_random(r), colour_random(r));
    int w = cv->img.w, h = cv->img.h;
    for (int i = rng_int(r, 1, 3); i > 0; i--) {
        int x0 = rng_int(r, -w / 4, w - 8), y0 = rng_int(r, -h / 4, h - 8);
        int x1 = x0 + rng_int(r, w / 8, w / 2), y1 = y0 + rng_int(r, h / 8, h / 2);
        if (rng_chance(r, 0.5)) canvas_rect(cv, x0, y0, x1, y1, colour_random(r));
        else canvas_ellipse(cv, x0, y0, x1, y1, colour_random(r));
    }
}

/* Lines of text on one sign, centred, the sign placed at random within [ya, yb) vertically.
   first[k] gets the first box of line k, n_words[k] its word count. */
static int draw_sign(const struct synth_ctx *c, struct rng *r, struct canvas *cv, char *const *lines, int n_lines,
                     int ya, int yb, int *first, int *n_words, struct error *err) {
    int pmin, pmax, w = cv->img.w, margin = w / 24;
    font_range(c, 24, 48, &pmin, &pmax);
    struct font *f = c->fonts->fonts[rng_int(r, 0, c->fonts->n - 1)];
    int px = rng_int(r, pmin, pmax), pad = px / 3 + 2, gap = px / 4;
    struct phrase ph[2];
    int width = 0, height = 0;
    for (int k = 0; k < n_lines; k++) {
        /* The second line (a number under a brand) is a little smaller. */
        int want = k ? px * 3 / 4 : px, least = k ? pmin * 3 / 4 : pmin;
        if (phrase_fit(&ph[k], f, want, least < 6 ? 6 : least, lines[k], w - 2 * margin - 2 * pad,
                       (yb - ya) / n_lines - 2 * pad) < 0) {
            for (int j = 0; j < k; j++) phrase_free(&ph[j]);
            return error_set(err, "synth: '%s' does not fit a %dx%d image at %d px (use a larger image or a smaller --font-min)",
                             lines[k], cv->img.w, cv->img.h, least);
        }
        if (phrase_width(&ph[k]) > width) width = phrase_width(&ph[k]);
        height += phrase_height(&ph[k]) + (k ? gap : 0);
    }
    int sw = width + 2 * pad, sh = height + 2 * pad;
    int x = rng_int(r, margin, w - margin - sw > margin ? w - margin - sw : margin);
    int y = rng_int(r, ya, yb - sh > ya ? yb - sh : ya);
    struct rgb sign = colour_random(r), ink = colour_contrasting(r, sign);
    canvas_rect(cv, x, y, x + sw, y + sh, sign);
    int ty = y + pad;
    for (int k = 0; k < n_lines; k++) {
        first[k] = phrase_draw(cv, &ph[k], x + pad + (width - phrase_width(&ph[k])) / 2, ty, ink);
        n_words[k] = ph[k].n;
        ty += phrase_height(&ph[k]) + gap;
        phrase_free(&ph[k]);
    }
    return 0;
}

static const char *const q_sign[] = {"what is written on the sign?", "what does the sign say?"};
static const char *const q_brand[] = {"what brand is this?", "what is the brand name?", "what brand name is shown?"};
static const char *const q_number[] = {"what number is shown?", "what is the number on the label?",
                                       "what number is written?"};
static const char *const q_top[] = {"what word is at the top?", "what is written at the top?"};
static const char *const q_bottom[] = {"what word is at the bottom?", "what is written at the bottom?"};

#define ASK(list) list[rng_int(r, 0, (int)(sizeof list / sizeof *list) - 1)]

int synth_scene(const struct synth_ctx *c, struct rng *r, struct synth_item *it, struct error *err) {
    struct canvas cv;
    canvas_init(&cv, c->o->width, c->o->height, (struct rgb){0, 0, 0});
    background(&cv, r);
    int h = cv.img.h, margin = cv.img.w / 24, layout = rng_int(r, 0, 2), rc = 0;
    int first[2], n[2];
    char *text[2] = {NULL, NULL};
    memset(it, 0, sizeof *it);
    if (layout == 0) {
        text[0] = sign_text(c, r);
        rc = draw_sign(c, r, &cv, text, 1, margin, h - margin, first, n, err);
        if (!rc) qa_add(it, ASK(q_sign), text[0], first[0], n[0], NULL, NULL);
    } else if (layout == 1) {
        text[0] = xstrdup(pick(r, &words_brands));
        text[1] = number_text(r);
        rc = draw_sign(c, r, &cv, text, 2, margin, h - margin, first, n, err);
        if (!rc) {
            qa_add(it, ASK(q_brand), text[0], first[0], n[0], NULL, NULL);
            qa_add(it, ASK(q_number), text[1], first[1], n[1], NULL, NULL);
        }
    } else {
        text[0] = xstrdup(pick(r, &words_signs));
        do {
            free(text[1]);
            text[1] = xstrdup(rng_chance(r, 0.5) ? pick(r, &words_signs) : pick(r, &words_brands));
        } while (!strcmp(text[0], text[1]));
        rc = draw_sign(c, r, &cv, &text[0], 1, margin, h / 2, &first[0], &n[0], err);
        if (!rc) rc = draw_sign(c, r, &cv, &text[1], 1, h / 2, h - margin, &first[1], &n[1], err);
        if (!rc) {
            qa_add(it, ASK(q_top), text[0], first[0], n[0], NULL, NULL);
            qa_add(it, ASK(q_bottom), text[1], first[1], n[1], NULL, NULL);
        }
    }
    free(text[0]);
    free(text[1]);
    canvas_finish(&cv, it);
    if (rc) return -1;
    qa_shuffle(it, r);
    return 0;
}
