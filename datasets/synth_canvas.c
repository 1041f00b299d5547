/*
 * synth_canvas.c: drawing for the generator: backgrounds, filled shapes, and phrases of words
 * whose ink is blended into the image, kept in an ink layer, and boxed. A word's box is the
 * bounding box of the ink it actually put down, so it is tight by construction.
 */
#include "datasets/synth_internal.h"

#include <stdlib.h>
#include <string.h>

void canvas_init(struct canvas *c, int w, int h, struct rgb bg) {
    memset(c, 0, sizeof *c);
    image_alloc(&c->img, w, h, bg.r, bg.g, bg.b);
    c->ink = xcalloc((size_t)w * h, 1);
}

static void put(struct canvas *c, int x, int y, struct rgb col) {
    uint8_t *p = c->img.rgb + 3 * ((size_t)y * c->img.w + x);
    p[0] = col.r, p[1] = col.g, p[2] = col.b;
}

static uint8_t lerp(int a, int b, int t, int n) { return (uint8_t)(a + (b - a) * t / (n > 1 ? n - 1 : 1)); }

void canvas_gradient(struct canvas *c, struct rgb top, struct rgb bottom) {
    for (int y = 0; y < c->img.h; y++) {
        struct rgb col = {lerp(top.r, bottom.r, y, c->img.h), lerp(top.g, bottom.g, y, c->img.h),
                          lerp(top.b, bottom.b, y, c->img.h)};
        for (int x = 0; x < c->img.w; x++) put(c, x, y, col);
    }
}

void canvas_rect(struct canvas *c, int x0, int y0, int x1, int y1, struct rgb col) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->img.w) x1 = c->img.w;
    if (y1 > c->img.h) y1 = c->img.h;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) put(c, x, y, col);
}

void canvas_ellipse(struct canvas *c, int x0, int y0, int x1, int y1, struct rgb col) {
    double cx = (x0 + x1 - 1) / 2.0, cy = (y0 + y1 - 1) / 2.0;
    double rx = (x1 - x0) / 2.0, ry = (y1 - y0) / 2.0;
    if (rx <= 0 || ry <= 0) return;
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < c->img.h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < c->img.w; x++) {
            double dx = (x - cx) / rx, dy = (y - cy) / ry;
            if (dx * dx + dy * dy <= 1.0) put(c, x, y, col);
        }
}

void canvas_finish(struct canvas *c, struct synth_item *it) {
    it->img = c->img;
    it->ink = c->ink;
    it->boxes = c->boxes;
    it->n_boxes = c->n_boxes;
    memset(c, 0, sizeof *c);
}

/* Blend one glyph run with its mask's top-left at (x, y) and append its box. */
static void draw_run(struct canvas *c, const struct glyph_run *g, int x, int y, struct rgb col, const char *text) {
    int bx0 = 1 << 30, by0 = 1 << 30, bx1 = -1, by1 = -1;
    for (int r = 0; r < g->h; r++)
        for (int k = 0; k < g->w; k++) {
            int a = g->a[r * g->w + k], px = x + k, py = y + r;
            if (!a || px < 0 || py < 0 || px >= c->img.w || py >= c->img.h) continue;
            uint8_t *p = c->img.rgb + 3 * ((size_t)py * c->img.w + px);
            p[0] = (uint8_t)((p[0] * (255 - a) + col.r * a + 127) / 255);
            p[1] = (uint8_t)((p[1] * (255 - a) + col.g * a + 127) / 255);
            p[2] = (uint8_t)((p[2] * (255 - a) + col.b * a + 127) / 255);
            uint8_t *ink = &c->ink[(size_t)py * c->img.w + px];
            if (a > *ink) *ink = (uint8_t)a;
            if (px < bx0) bx0 = px;
            if (px > bx1) bx1 = px;
            if (py < by0) by0 = py;
            if (py > by1) by1 = py;
        }
    if (c->n_boxes == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 32;
        c->boxes = xrealloc(c->boxes, (size_t)c->cap * sizeof *c->boxes);
    }
    if (bx1 < 0) bx0 = bx1 = x, by0 = by1 = y; /* nothing visible: a degenerate box at the spot */
    c->boxes[c->n_boxes++] = (struct ocr_box){xstrdup(text), bx0, by0, bx1, by1};
}

void phrase_make(struct phrase *p, struct font *f, int px, const char *text) {
    memset(p, 0, sizeof *p);
    char *copy = xstrdup(text);
    int cap = 1;
    for (const char *s = text; *s; s++) cap += *s == ' ';
    p->words = xcalloc((size_t)cap, sizeof *p->words);
    p->runs = xcalloc((size_t)cap, sizeof *p->runs);
    p->pen = xcalloc((size_t)cap, sizeof *p->pen);
    int pen = 0, space = font_space(f, px);
    p->left = p->top = 1 << 30;
    p->right = p->bottom = -(1 << 30);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        struct glyph_run *g = &p->runs[p->n];
        font_render(f, px, w, g);
        p->words[p->n] = xstrdup(w);
        p->pen[p->n] = pen;
        if (g->w) {
            if (pen + g->x0 < p->left) p->left = pen + g->x0;
            if (pen + g->x0 + g->w - 1 > p->right) p->right = pen + g->x0 + g->w - 1;
            if (g->y0 < p->top) p->top = g->y0;
            if (g->y0 + g->h - 1 > p->bottom) p->bottom = g->y0 + g->h - 1;
        }
        pen += g->advance + space;
        p->n++;
    }
    if (p->right < p->left) p->left = p->right = p->top = p->bottom = 0;
    free(copy);
}

void phrase_free(struct phrase *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        free(p->words[i]);
        glyph_run_free(&p->runs[i]);
    }
    free(p->words);
    free(p->runs);
    free(p->pen);
    memset(p, 0, sizeof *p);
}

int phrase_draw(struct canvas *c, const struct phrase *p, int x, int y, struct rgb col) {
    int first = c->n_boxes;
    int ox = x - p->left, base = y - p->top; /* pen start and baseline */
    for (int i = 0; i < p->n; i++)
        draw_run(c, &p->runs[i], ox + p->pen[i] + p->runs[i].x0, base + p->runs[i].y0, col, p->words[i]);
    return first;
}

/* Relative luminance difference (ITU-R BT.601 weights) and the largest channel difference. */
int colours_contrast(struct rgb a, struct rgb b) {
    int ya = 299 * a.r + 587 * a.g + 114 * a.b, yb = 299 * b.r + 587 * b.g + 114 * b.b;
    int dy = abs(ya - yb) / 1000;
    int dc = abs(a.r - b.r);
    if (abs(a.g - b.g) > dc) dc = abs(a.g - b.g);
    if (abs(a.b - b.b) > dc) dc = abs(a.b - b.b);
    return dy >= 100 && dc >= 128;
}

struct rgb colour_random(struct rng *r) {
    return (struct rgb){(uint8_t)rng_int(r, 0, 255), (uint8_t)rng_int(r, 0, 255), (uint8_t)rng_int(r, 0, 255)};
}

struct rgb colour_contrasting(struct rng *r, struct rgb bg) {
    for (int tries = 0; tries < 64; tries++) {
        struct rgb c = colour_random(r);
        if (colours_contrast(c, bg)) return c;
    }
    int y = (299 * bg.r + 587 * bg.g + 114 * bg.b) / 1000;
    return y > 127 ? (struct rgb){0, 0, 0} : (struct rgb){255, 255, 255};
}

int phrase_fit(struct phrase *p, struct font *f, int px, int min_px, const char *text, int max_w, int max_h) {
    while (px >= min_px) {
        phrase_make(p, f, px, text);
        int w = phrase_width(p), h = phrase_height(p);
        if (w <= max_w && h <= max_h) return px;
        phrase_free(p);
        /* Ink scales about linearly with the size: jump close to the answer, then step. */
        int next = px - 1;
        if (w > max_w && px * max_w / w < next) next = px * max_w / w;
        if (h > max_h && px * max_h / h < next) next = px * max_h / h;
        px = next;
    }
    return -1;
}
