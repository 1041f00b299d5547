/*
 * preprocess_llava_next.c: LlavaNextImageProcessor ("anyres", research/models.md 4.1-4.4) and
 * the token count the processor must emit for it.
 *
 * For an image of (H, W):
 *   1. best = the pinpoint (height, width) that keeps the most pixels, then wastes the least;
 *   2. resize (Pillow BICUBIC) to fit best keeping the aspect ratio (one side = best, the
 *      other ceil(side * scale) capped at best);
 *   3. zero-pad (black before normalisation) to best, centred with the odd pixel after;
 *   4. cut tiles of crop_size.height in row-major order;
 *   5. the overview = the original image squashed to size x size, placed first;
 *   6. each crop goes through CLIP's resize / center crop (no-ops at the usual sizes), then
 *      rescale and normalise.
 * Output: pixel_values [1 + tiles][3][crop][crop].
 */
#include "engine/preprocess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void llava_next_select_best_resolution(int h, int w, const int (*pinpoints)[2], int n, int *best_h, int *best_w) {
    /* transformers image_processing_utils.select_best_resolution, in the same float64 steps */
    long long best_eff = 0;
    double best_waste = INFINITY;
    *best_h = *best_w = 0;
    for (int i = 0; i < n; i++) {
        int ph = pinpoints[i][0], pw = pinpoints[i][1];
        double sw = (double)pw / w, sh = (double)ph / h;
        double scale = sw < sh ? sw : sh;
        long long dw = (long long)(w * scale), dh = (long long)(h * scale);
        long long eff = dw * dh < (long long)w * h ? dw * dh : (long long)w * h;
        double waste = (double)((long long)pw * ph - eff);
        if (eff > best_eff || (eff == best_eff && waste < best_waste)) {
            best_eff = eff;
            best_waste = waste;
            *best_h = ph;
            *best_w = pw;
        }
    }
}

/* Python's int(round(x, 7)) for positive x: round to 7 decimals exactly as Python does
   (correctly rounded, ties to even on the binary value: what glibc's printf does), then
   truncate. Only matters when x is within 5e-8 below an integer. */
static int py_int_round7(double x) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.7f", x);
    return (int)strtod(buf, NULL);
}

int llava_next_num_image_tokens(int h, int w, int best_h, int best_w, int tile, int grid, int *rows, int *cols) {
    /* transformers LlavaNextProcessor._get_number_of_features / _get_unpadded_features */
    int cur_h = grid * (best_h / tile), cur_w = grid * (best_w / tile);
    if ((double)w / h > (double)cur_w / cur_h) {
        int new_h = py_int_round7(h * ((double)cur_w / w));
        cur_h -= (cur_h - new_h) / 2 * 2;
    } else {
        int new_w = py_int_round7(w * ((double)cur_h / h));
        cur_w -= (cur_w - new_w) / 2 * 2;
    }
    if (rows) *rows = cur_h;
    if (cols) *cols = cur_w;
    /* unpadded rows, a newline after each, and the overview's grid x grid (the CLS token the
       processor counts is dropped again by the "default" feature strategy) */
    return cur_h * (cur_w + 1) + grid * grid;
}

/* transformers get_patch_output_size: the size that fits (best_h, best_w) keeping the aspect. */
static void patch_output_size(int h, int w, int best_h, int best_w, int *out_h, int *out_w) {
    double sw = (double)best_w / w, sh = (double)best_h / h;
    if (sw < sh) {
        int nh = (int)ceil(h * sw);
        *out_w = best_w;
        *out_h = nh < best_h ? nh : best_h;
    } else {
        int nw = (int)ceil(w * sh);
        *out_h = best_h;
        *out_w = nw < best_w ? nw : best_w;
    }
}

int preprocess_llava_next(const struct image_processor *p, const struct image *img, struct pixel_values *out,
                          struct error *err) {
    int best_h, best_w;
    llava_next_select_best_resolution(img->h, img->w, (const int(*)[2])p->pinpoints, p->n_pinpoints, &best_h,
                                      &best_w);
    if (!best_h) return error_set(err, "no image_grid_pinpoints to choose from");
    /* the tile side: crop_size.height, else size.height, else size.shortest_edge */
    int tile = p->crop_h ? p->crop_h : p->size_h ? p->size_h : p->shortest_edge;
    int ov_h = p->size_h ? p->size_h : p->shortest_edge, ov_w = p->size_w ? p->size_w : p->shortest_edge;

    int nh, nw;
    patch_output_size(img->h, img->w, best_h, best_w, &nh, &nw);
    struct image fitted, canvas;
    image_resize_bicubic(img, &fitted, nw, nh);
    static const uint8_t black[3] = {0, 0, 0};
    image_reframe(&fitted, &canvas, best_w, best_h, (best_w - nw) / 2, (best_h - nh) / 2, black);
    image_free(&fitted);

    int tiles_y = (best_h + tile - 1) / tile, tiles_x = (best_w + tile - 1) / tile;
    int n = 1 + tiles_y * tiles_x;
    struct image *crops = xcalloc((size_t)n, sizeof *crops);
    struct image overview;
    image_resize_bicubic(img, &overview, ov_w, ov_h);
    preprocess_resize_crop(p, &overview, &crops[0]);
    image_free(&overview);
    for (int i = 0; i < tiles_y; i++)
        for (int j = 0; j < tiles_x; j++) {
            /* divide_to_patches: numpy slices, so edge tiles may be smaller */
            int th = best_h - i * tile < tile ? best_h - i * tile : tile;
            int tw = best_w - j * tile < tile ? best_w - j * tile : tile;
            struct image t;
            image_reframe(&canvas, &t, tw, th, -j * tile, -i * tile, black);
            preprocess_resize_crop(p, &t, &crops[1 + i * tiles_x + j]);
            image_free(&t);
        }
    image_free(&canvas);

    int rc = 0;
    for (int i = 1; i < n && !rc; i++)
        if (crops[i].w != crops[0].w || crops[i].h != crops[0].h)
            rc = error_set(err, "crop %d is %dx%d but the overview is %dx%d (tile %d, size %dx%d): the crops "
                                "cannot be stacked",
                           i, crops[i].w, crops[i].h, crops[0].w, crops[0].h, tile, ov_w, ov_h);
    if (!rc) {
        size_t per = 3 * (size_t)crops[0].w * crops[0].h;
        out->n_crops = n;
        out->channels = 3;
        out->height = crops[0].h;
        out->width = crops[0].w;
        out->best_h = best_h;
        out->best_w = best_w;
        out->data = xmalloc(sizeof(float) * per * n);
        for (int i = 0; i < n; i++) preprocess_to_chw(p, &crops[i], out->data + per * i);
    }
    for (int i = 0; i < n; i++) image_free(&crops[i]);
    free(crops);
    return rc;
}
