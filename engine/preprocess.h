/*
 * preprocess.h: the Hugging Face image processors of the supported models, read from
 * preprocessor_config.json and reproduced exactly (the "slow" PIL-based processors):
 *   CLIPImageProcessor      resize shortest edge (int(size*long/short)), center crop, rescale,
 *                           normalise                                  (LLaVA-1.5)
 *   LlavaImageProcessor     the same with do_pad: pad to a square of the mean colour first
 *   LlavaNextImageProcessor anyres: best pinpoint, resize for patching, zero-pad, 336 tiles,
 *                           overview image first                       (LLaVA-NeXT)
 *   Qwen2VLImageProcessor   smart_resize (factor 28, min/max pixels), 14-px patches, temporal 2,
 *                           rows in 2x2 merge-window order             (Qwen2-VL)
 * Rescale is done in double then cast to f32, normalise in f32, like transformers.
 */
#ifndef SPARSEMM_PREPROCESS_H
#define SPARSEMM_PREPROCESS_H

#include "engine/image.h"

enum image_processor_kind { IMGPROC_CLIP, IMGPROC_LLAVA_NEXT, IMGPROC_QWEN2_VL };

struct image_processor {
    enum image_processor_kind kind;
    int do_resize, do_center_crop, do_rescale, do_normalize, do_pad, do_convert_rgb;
    int shortest_edge;            /* size.shortest_edge (CLIP, LLaVA-NeXT) */
    int crop_h, crop_w;           /* crop_size */
    double rescale_factor;        /* 1/255 */
    float mean[3], std[3];
    int n_pinpoints;              /* LLaVA-NeXT image_grid_pinpoints, each (height, width) */
    int pinpoints[32][2];
    int min_pixels, max_pixels;   /* Qwen2-VL */
    int patch_size, merge_size, temporal_patch_size;
    int size_h, size_w;           /* size {"height", "width"}: resize to exactly this (0 = unset;
                                     then shortest_edge applies) */
    uint8_t pad_rgb[3];           /* do_pad fill: int(255 * mean) per channel, as HF computes it */
    char type[64];                /* the image processor class named in the file (for messages) */
};

/* Output of one image. For CLIP: n_crops = 1. For LLaVA-NeXT: n_crops = 1 + tiles, crop 0 is
   the overview. For Qwen2-VL: data holds n_rows x row_len patch rows (row_len = 3*T*P*P). */
struct pixel_values {
    int n_crops, channels, height, width; /* CLIP / LLaVA-NeXT: data is [n_crops][3][height][width] */
    int orig_w, orig_h;                   /* the decoded image's size */
    int best_h, best_w;                   /* LLaVA-NeXT: the chosen pinpoint (height, width) */
    int grid_t, grid_h, grid_w;           /* Qwen2-VL: image_grid_thw in 14-px patches */
    int resized_h, resized_w;             /* Qwen2-VL: smart_resize output */
    int n_rows, row_len;                  /* Qwen2-VL: patch rows */
    float *data;                          /* owned */
};

/* Read preprocessor_config.json; unknown processor types are an error naming the type.
   The kind comes from image_processor_type (a "Fast" or "Pil" suffix is accepted: the
   configuration means the same; the pixels are always the slow processor's), else
   feature_extractor_type, else processor_class. Missing keys take the defaults of the
   transformers class. do_pad means pad-to-square before resizing and is honoured only for
   LlavaImageProcessor (for the others it pads batches, a no-op for one image). Only
   resample = 3 (BICUBIC) is supported; anything else is an error. */
int image_processor_load(struct image_processor *p, const char *path, struct error *err);
/* Run the processor on one decoded image. out is filled on success (free with
   pixel_values_free); for Qwen2-VL, n_crops is 0 and channels/height/width give the resized
   image the patch rows were cut from. */
int image_processor_run(const struct image_processor *p, const struct image *img,
                        struct pixel_values *out, struct error *err);
void pixel_values_free(struct pixel_values *pv);

/* Pieces exposed for the model side and the head finder (research/models.md §4, §5.3). */
void llava_next_select_best_resolution(int h, int w, const int (*pinpoints)[2], int n, int *best_h, int *best_w);
/* Number of image tokens LLaVA-NeXT emits for an image of (h, w) with the given best
   resolution, tile size and patch grid (e.g. 336 and 24): cur_h*(cur_w+1) + grid*grid. Also
   returns the unpadded feature grid (rows, cols). */
int llava_next_num_image_tokens(int h, int w, int best_h, int best_w, int tile, int grid, int *rows, int *cols);
/* Qwen2-VL's smart_resize (research/models.md 5.3, with the max(factor, ...) guard of current
   transformers). Returns -1 when the aspect ratio exceeds 200 or a side is not positive, as
   transformers raises. */
int qwen2vl_smart_resize(int h, int w, int factor, int min_pixels, int max_pixels, int *out_h, int *out_w);

/* The per-kind pipelines image_processor_run dispatches to (engine/preprocess_clip.c,
   engine/preprocess_llava_next.c, engine/preprocess_qwen2vl.c). */
int preprocess_clip(const struct image_processor *p, const struct image *img, struct pixel_values *out,
                    struct error *err);
int preprocess_llava_next(const struct image_processor *p, const struct image *img, struct pixel_values *out,
                          struct error *err);
int preprocess_qwen2vl(const struct image_processor *p, const struct image *img, struct pixel_values *out,
                       struct error *err);

/* Steps shared by the pipelines (engine/preprocess.c, engine/preprocess_clip.c). */
/* CLIP's geometric steps on 8-bit pixels: resize (to size_h x size_w, or the shortest edge to
   shortest_edge with the long edge int(shortest_edge * long / short)) then center crop to
   crop_h x crop_w (zero-padded when the image is smaller), each when enabled. out is
   allocated. */
void preprocess_resize_crop(const struct image_processor *p, const struct image *img, struct image *out);
/* Rescale (u8 * rescale_factor in double, then f32) and normalise ((x - mean) / std in f32),
   each when enabled, into channel-first floats. out: [3][img->h][img->w]. */
void preprocess_to_chw(const struct image_processor *p, const struct image *img, float *out);

#endif
