/*
 * preprocess_qwen2vl.c: Qwen2VLImageProcessor (slow), research/models.md 5.3:
 *   smart_resize to multiples of patch_size * merge_size within [min_pixels, max_pixels],
 *   Pillow BICUBIC, rescale, normalise, then cut patch_size^2 patches into rows.
 * Rows come in merge-window order (block row, block column, then the merge x merge patches
 * inside the block, row-major), and each row is [channel][temporal][py][px] with the one
 * still frame repeated temporal_patch_size times (transformers patchify: reshape, transpose
 * (1, 4, 2, 5, 0, 3, 6), broadcast over the temporal axis).
 * Output: n_rows = grid_h * grid_w rows of row_len = 3 * T * P * P floats; grid_t = 1.
 */
#include "engine/preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int qwen2vl_smart_resize(int h, int w, int factor, int min_pixels, int max_pixels, int *out_h, int *out_w) {
    if (h <= 0 || w <= 0 || factor <= 0) return -1;
    int big = h > w ? h : w, small = h > w ? w : h;
    if ((double)big / small > 200) return -1;
    /* Python round() is round-half-even: nearbyint in the default rounding mode */
    long long h_bar = (long long)nearbyint((double)h / factor) * factor;
    long long w_bar = (long long)nearbyint((double)w / factor) * factor;
    if (h_bar * w_bar > max_pixels) {
        double beta = sqrt((double)((long long)h * w) / max_pixels);
        h_bar = (long long)floor(h / beta / factor) * factor;
        w_bar = (long long)floor(w / beta / factor) * factor;
        if (h_bar < factor) h_bar = factor;
        if (w_bar < factor) w_bar = factor;
    } else if (h_bar * w_bar < min_pixels) {
        double beta = sqrt((double)min_pixels / ((long long)h * w));
        h_bar = (long long)ceil(h * beta / factor) * factor;
        w_bar = (long long)ceil(w * beta / factor) * factor;
    }
    *out_h = (int)h_bar;
    *out_w = (int)w_bar;
    return 0;
}

/* chw: [3][H][W] -> rows: [gh * gw][3][T][P][P] in merge-window order. */
static void patchify(const float *chw, int H, int W, int P, int M, int T, float *rows) {
    int gh = H / P, gw = W / P;
    size_t plane = (size_t)H * W, row_len = (size_t)3 * T * P * P;
    float *r = rows;
    for (int bh = 0; bh < gh / M; bh++)
        for (int bw = 0; bw < gw / M; bw++)
            for (int mh = 0; mh < M; mh++)
                for (int mw = 0; mw < M; mw++, r += row_len) {
                    int y0 = (bh * M + mh) * P, x0 = (bw * M + mw) * P;
                    for (int c = 0; c < 3; c++)
                        for (int t = 0; t < T; t++)
                            for (int py = 0; py < P; py++)
                                memcpy(r + (((size_t)c * T + t) * P + py) * P,
                                       chw + c * plane + (size_t)(y0 + py) * W + x0, sizeof(float) * P);
                }
}

int preprocess_qwen2vl(const struct image_processor *p, const struct image *img, struct pixel_values *out,
                       struct error *err) {
    int P = p->patch_size, M = p->merge_size, T = p->temporal_patch_size;
    struct image resized;
    if (p->do_resize) {
        int h, w;
        if (qwen2vl_smart_resize(img->h, img->w, P * M, p->min_pixels, p->max_pixels, &h, &w))
            return error_set(err, "aspect ratio above 200, which Qwen2-VL's smart_resize refuses");
        image_resize_bicubic(img, &resized, w, h);
    } else {
        image_copy(img, &resized);
    }
    int H = resized.h, W = resized.w;
    if (H % (P * M) || W % (P * M)) {
        image_free(&resized);
        return error_set(err, "the %dx%d image is not a multiple of patch_size * merge_size = %d (do_resize is off)",
                         W, H, P * M);
    }
    float *chw = xmalloc(sizeof(float) * 3 * (size_t)H * W);
    preprocess_to_chw(p, &resized, chw);
    image_free(&resized);
    out->grid_t = 1;
    out->grid_h = H / P;
    out->grid_w = W / P;
    out->resized_h = out->height = H;
    out->resized_w = out->width = W;
    out->channels = 3;
    out->n_crops = 0;
    out->n_rows = out->grid_h * out->grid_w;
    out->row_len = 3 * T * P * P;
    out->data = xmalloc(sizeof(float) * (size_t)out->n_rows * out->row_len);
    patchify(chw, H, W, P, M, T, out->data);
    free(chw);
    return 0;
}
