/*
 * preprocess_clip.c: CLIPImageProcessor (LLaVA-1.5) and LlavaImageProcessor, the slow
 * (PIL) versions, research/models.md 2.6:
 *   [pad to a square of int(255 * mean), image centred]  LlavaImageProcessor with do_pad only
 *   resize the shortest edge to size.shortest_edge (long edge int(size * long / short)) or to
 *     size {height, width}, Pillow BICUBIC
 *   center crop crop_size: top = (H - h) // 2, left = (W - w) // 2; zero-padded when smaller
 *   rescale, normalise, channel-first
 * Output: pixel_values [1][3][crop_h][crop_w] (without the crop: the resized size).
 */
#include "engine/preprocess.h"

#include <stdlib.h>

/* transformers get_resize_output_image_size(default_to_square=False): (height, width). */
static void shortest_edge_size(int h, int w, int size, int *out_h, int *out_w) {
    int short_side = w <= h ? w : h, long_side = w <= h ? h : w;
    /* int(size * long / short): an exact integer product, one correctly rounded division,
       truncation */
    int new_long = (int)((double)((long long)size * long_side) / short_side);
    *out_h = w <= h ? new_long : size;
    *out_w = w <= h ? size : new_long;
}

/* transformers center_crop: the crop window starts at (orig - crop) // 2 when the image is big
   enough along an axis; otherwise the image is first centred on a zero canvas at
   ceil((crop - orig) / 2). Both cases are one offset of the image inside the output. */
static int crop_offset(int orig, int crop) {
    return orig >= crop ? -((orig - crop) / 2) : (crop - orig + 1) / 2;
}

void preprocess_resize_crop(const struct image_processor *p, const struct image *img, struct image *out) {
    struct image resized;
    if (p->do_resize) {
        int h = p->size_h, w = p->size_w;
        if (!h) shortest_edge_size(img->h, img->w, p->shortest_edge, &h, &w);
        image_resize_bicubic(img, &resized, w, h);
    } else {
        image_copy(img, &resized);
    }
    if (!p->do_center_crop || (resized.w == p->crop_w && resized.h == p->crop_h)) {
        *out = resized;
        return;
    }
    static const uint8_t black[3] = {0, 0, 0};
    image_reframe(&resized, out, p->crop_w, p->crop_h, crop_offset(resized.w, p->crop_w),
                  crop_offset(resized.h, p->crop_h), black);
    image_free(&resized);
}

int preprocess_clip(const struct image_processor *p, const struct image *img, struct pixel_values *out,
                    struct error *err) {
    struct image square, final;
    const struct image *src = img;
    if (p->do_pad && img->w != img->h) {
        /* LlavaImageProcessor.pad_to_square: offset (max - min) // 2 on the short axis */
        int side = img->w > img->h ? img->w : img->h;
        image_reframe(img, &square, side, side, (side - img->w) / 2, (side - img->h) / 2, p->pad_rgb);
        src = &square;
    }
    preprocess_resize_crop(p, src, &final);
    if (src == &square) image_free(&square);
    out->n_crops = 1;
    out->channels = 3;
    out->height = final.h;
    out->width = final.w;
    out->data = xmalloc(sizeof(float) * 3 * (size_t)final.w * final.h);
    preprocess_to_chw(p, &final, out->data);
    image_free(&final);
    return 0;
}
