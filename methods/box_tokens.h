/*
 * box_tokens.h: which image tokens of a prompt a pixel box covers, per architecture: the head
 * finder's link between an OCR chunk and the keys its answer tokens should attend to
 * (research/sparsemm.md §1.2).
 *
 * Every architecture reduces to one rectangular grid of token cells laid out row-major in the
 * sequence, with a fixed number of pixels per cell:
 *
 *   LLaVA-1.5   the fixed patch grid (e.g. 24 x 24) starting at the first image token; pixels per
 *               cell = original size // cells, the rule the official script uses for LLaVA-NeXT
 *               (the paper ran no LLaVA-1.5 head search; this is our extension of its rule).
 *   LLaVA-NeXT  the unpadded high-res grid after the base image's tokens (skipped), each row
 *               followed by one image_newline token that is never flagged; pixels per cell =
 *               original size // cells.
 *   Qwen2-VL    the 2x2-merged grid; the box is first scaled by resized / original size, and
 *               pixels per cell = resized size // cells (normally 28).
 *
 * A box ((x0, y0), (x1, y1)) covers columns floor(x0 / px_w) .. floor(x1 / px_w) and rows
 * floor(y0 / px_h) .. floor(y1 / px_h), both inclusive, taken as the Python slice
 * [start : end + 1] of the official code: clipped at the grid's edge, and a negative start counts
 * from the end, as Python's slicing does. Floors are Python's float floor division.
 */
#ifndef SPARSEMM_BOX_TOKENS_H
#define SPARSEMM_BOX_TOKENS_H

#include "engine/model.h"

struct token_grid {
    int first;       /* sequence index of cell (0, 0) */
    int rows, cols;  /* token cells */
    int row_stride;  /* sequence indices from one row to the next: cols, or cols + 1 with a newline column */
    int px_w, px_h;  /* pixels per cell (floor division), in the scaled box's pixels */
    double sx, sy;   /* box scale: resized / original (Qwen2-VL), else 1 */
};

/* A box's cells: rows [r0, r1) x columns [c0, c1); empty when r0 >= r1 or c0 >= c1. */
struct token_rect {
    int r0, r1, c0, c1;
};

/* The grid of an encoded image in a prompt whose first image token is at image_start. Fails
   (naming both sizes) when the image has fewer pixels than cells along a side: the official
   rule would divide by zero. */
int token_grid_init(struct token_grid *g, enum model_arch arch, const struct image_features *f, int image_start,
                    struct error *err);

/* The cells a box (pixels of the original image) covers. Fails on a non-finite coordinate. */
int box_token_rect(const struct token_grid *g, double x0, double y0, double x1, double y1, struct token_rect *out,
                   struct error *err);

/* Number of cells (|R|, the head finder's denominator). */
int token_rect_count(const struct token_rect *r);

/* Whether sequence position pos is one of the rectangle's tokens. */
int token_rect_contains(const struct token_grid *g, const struct token_rect *r, int32_t pos);

/* The rectangle's sequence positions in ascending order: out [token_rect_count(r)]. Returns the
   count. */
int token_rect_positions(const struct token_grid *g, const struct token_rect *r, int32_t *out);

#endif
