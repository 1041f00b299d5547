/*
 * image.h: decoded 8-bit RGB images, JPEG (libjpeg-turbo) and PNG (libpng) in and out, and
 * Pillow's BICUBIC resize reproduced bit for bit (fixed-point, two passes in Pillow's order,
 * antialiasing support when downscaling), because every HF image processor we follow resizes
 * through Pillow and the golden tests compare pixels to 1e-6.
 *
 * Conversion to RGB follows PIL's Image.convert("RGB") for the modes these decoders produce:
 * grayscale replicated, alpha dropped (no compositing), palette expanded, 16-bit reduced to 8
 * (the high byte; 16-bit grayscale clamps to 255 instead, as Pillow's I;16 conversion does).
 * (transformers 5's convert_to_rgb composites transparent images onto white instead;
 * transformers 4 (research/models.md 2.6) calls convert("RGB") as we do.)
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

/* The order of the two passes changed in Pillow 13.0 (vertical first when the height shrinks by
   more than twice as many pixels as the width); results differ by one level in some pixels.
   image_resize_bicubic follows the current Pillow; HORIZONTAL_FIRST reproduces Pillow <= 12,
   which older reference runs (e.g. the paper's lmms-eval environment) used. */
enum image_resize_passes { IMAGE_PASSES_PILLOW, IMAGE_PASSES_HORIZONTAL_FIRST };
void image_resize_bicubic_passes(const struct image *src, struct image *dst, int w, int h,
                                 enum image_resize_passes passes);

/* The decoders image_load_mem dispatches to by magic bytes (engine/image_jpeg.c,
   engine/image_png.c). img is filled on success and untouched on failure; what names the
   source in messages. */
int image_decode_jpeg(struct image *img, const void *data, size_t len, const char *what, struct error *err);
int image_decode_png(struct image *img, const void *data, size_t len, const char *what, struct error *err);

/* JPEG with the settings of PIL's Image.save(path, "JPEG", quality=q): libjpeg defaults
   (4:2:0 chroma subsampling, islow DCT, JFIF header, standard Huffman tables) and
   jpeg_set_quality(q, force_baseline). quality is 1..100. */
int image_save_jpeg(const struct image *img, const char *path, int quality, struct error *err);
/* The same into memory: *out is malloc'ed, caller frees. Decoding it back gives the pixels of
   a PIL JPEG round trip (lmms-eval re-encodes Qwen2-VL inputs at q85, research/models.md 5.3). */
int image_encode_jpeg(const struct image *img, int quality, uint8_t **out, size_t *out_len, struct error *err);

/* Allocate dst as a plain copy of src. */
void image_copy(const struct image *src, struct image *dst);
/* dst = a w x h canvas of colour fill[3] with src pasted so that its top-left pixel lands at
   (x, y) (either may be negative); the parts of src outside the canvas are dropped. Crops,
   pads and pad-to-square are all this one operation. */
void image_reframe(const struct image *src, struct image *dst, int w, int h, int x, int y, const uint8_t fill[3]);

/* Pixel limit of the decoders, PIL's decompression-bomb error threshold (2 * 89478485): a
   larger image is refused rather than allocated. */
#define IMAGE_MAX_PIXELS 178956970LL

#endif
