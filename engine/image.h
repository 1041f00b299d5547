/*
 * image.h: decoded 8-bit RGB images, JPEG (libjpeg-turbo) and PNG (libpng) in, PNG out, and
 * Pillow's BICUBIC resize reproduced bit for bit (fixed-point, two passes, horizontal first,
 * antialiasing support when downscaling), because every HF image processor we follow resizes
 * through Pillow and the golden tests compare pixels to 1e-6.
 *
 * Conversion to RGB follows PIL's Image.convert("RGB") for the modes these decoders produce:
 * grayscale replicated, alpha dropped (no compositing), palette expanded, 16-bit reduced to 8.
 */
#ifndef SPARSEMM_IMAGE_H
#define SPARSEMM_IMAGE_H

#include <stdint.h>
#include "engine/util.h"

struct image {
    int w, h;
    uint8_t *rgb; /* [h][w][3], row-major, owned */
};

/* Decode a JPEG or PNG (detected by magic bytes, not extension). Errors name the file. */
int image_load(struct image *img, const char *path, struct error *err);
/* Decode from memory (what = name for messages). */
int image_load_mem(struct image *img, const void *data, size_t len, const char *what, struct error *err);
int image_save_png(const struct image *img, const char *path, struct error *err);
/* Allocate a w x h image filled with one colour. */
void image_alloc(struct image *img, int w, int h, uint8_t r, uint8_t g, uint8_t b);
void image_free(struct image *img);

/* Pillow Image.resize((w, h), Image.BICUBIC). dst is allocated; returns a plain copy if the
   size is unchanged (as PIL does). */
void image_resize_bicubic(const struct image *src, struct image *dst, int w, int h);

#endif
