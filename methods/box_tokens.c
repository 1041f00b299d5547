/*
 * box_tokens.c: see box_tokens.h. The arithmetic follows visual_head/llava_visual_head.py
 * find_image_idx and visual_head/qwen_visual_head.py find_image_idx_qwen (research/sparsemm.md
 * §1.2) step by step, including Python's float floor division and slice clipping, so a box gives
 * the same token set as in the official scripts.
 */
#include "methods/box_tokens.h"

#include <math.h>

/* Python's float a // b (CPython float_divmod): the floor of the exact quotient, which
   floor(a / b) can miss when a / b rounds up to an integer. b > 0 here. */
static double py_floordiv(double a, double b) {
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0 && (mod < 0) != (b < 0)) div -= 1.0;
    if (div == 0) return copysign(0.0, a / b);
    double f = floor(div);
    if (div - f > 0.5) f += 1.0;
    return f;
}

/* int(v) for an integral v, limited to a range where every slice index behaves alike. */
static long to_index(double v) {
    const double lim = 1e9;
    return (long)(v < -lim ? -lim : v > lim ? lim : v);
}

/* A Python slice bound (step 1) over n items: negative counts from the end, then clipped. */
static int slice_bound(long i, int n) {
    if (i < 0) {
        i += n;
        return i < 0 ? 0 : (int)i;
    }
    return i > n ? n : (int)i;
}

int token_grid_init(struct token_grid *g, enum model_arch arch, const struct image_features *f, int image_start,
                    struct error *err) {
    *g = (struct token_grid){.first = image_start, .rows = f->grid_h, .cols = f->grid_w, .row_stride = f->grid_w,
                             .sx = 1, .sy = 1};
    if (image_start < 0 || f->grid_h <= 0 || f->grid_w <= 0)
        return error_set(err, "no image grid in the prompt (image at %d, grid %dx%d)", image_start, f->grid_h,
                         f->grid_w);
    int w = f->orig_w, h = f->orig_h;
    if (arch == ARCH_LLAVA_NEXT) {
        g->first += f->base_tokens; /* the base image is skipped (the official offset adds 576) */
        if (f->has_newline) g->row_stride++;
    } else if (arch == ARCH_QWEN2_VL) {
        if (f->orig_w <= 0 || f->orig_h <= 0)
            return error_set(err, "image of %dx%d pixels", f->orig_w, f->orig_h);
        w = f->resized_w;
        h = f->resized_h;
        g->sx = (double)f->resized_w / f->orig_w;
        g->sy = (double)f->resized_h / f->orig_h;
    }
    g->px_w = w / f->grid_w;
    g->px_h = h / f->grid_h;
    if (g->px_w <= 0 || g->px_h <= 0)
        return error_set(err, "image of %dx%d pixels is smaller than its %d x %d token grid (columns x rows): the "
                              "official box rule (pixels per cell = size // cells) has no cell size",
                         w, h, f->grid_w, f->grid_h);
    return 0;
}

int box_token_rect(const struct token_grid *g, double x0, double y0, double x1, double y1, struct token_rect *out,
                   struct error *err) {
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
        return error_set(err, "box ((%g, %g), (%g, %g)) has a non-finite coordinate", x0, y0, x1, y1);
    /* scaled box // pixels per cell, end inclusive: the slice [start : end + 1] */
    long c0 = to_index(py_floordiv(x0 * g->sx, g->px_w)), c1 = to_index(py_floordiv(x1 * g->sx, g->px_w) + 1);
    long r0 = to_index(py_floordiv(y0 * g->sy, g->px_h)), r1 = to_index(py_floordiv(y1 * g->sy, g->px_h) + 1);
    *out = (struct token_rect){.r0 = slice_bound(r0, g->rows), .r1 = slice_bound(r1, g->rows),
                               .c0 = slice_bound(c0, g->cols), .c1 = slice_bound(c1, g->cols)};
    return 0;
}

int token_rect_count(const struct token_rect *r) {
    if (r->r0 >= r->r1 || r->c0 >= r->c1) return 0;
    return (r->r1 - r->r0) * (r->c1 - r->c0);
}

int token_rect_contains(const struct token_grid *g, const struct token_rect *r, int32_t pos) {
    int32_t i = pos - g->first;
    if (i < 0) return 0;
    int row = i / g->row_stride, col = i % g->row_stride;
    return row >= r->r0 && row < r->r1 && col >= r->c0 && col < r->c1;
}

int token_rect_positions(const struct token_grid *g, const struct token_rect *r, int32_t *out) {
    int n = 0;
    for (int row = r->r0; row < r->r1; row++)
        for (int col = r->c0; col < r->c1; col++) out[n++] = g->first + row * g->row_stride + col;
    return n;
}
