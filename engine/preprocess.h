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

/* Read preprocessor_config.json; unknown processor types are an error naming the type. */
int image_processor_load(struct image_processor *p, const char *path, struct error *err);
/* Run the processor on one decoded image. */
int image_processor_run(const struct image_processor *p, const struct image *img,
                        struct pixel_values *out, struct error *err);
void pixel_values_free(struct pixel_values *pv);

/* Pieces exposed for the model side and the head finder (research/models.md §4, §5.3). */
void llava_next_select_best_resolution(int h, int w, const int (*pinpoints)[2], int n, int *best_h, int *best_w);
/* Number of image tokens LLaVA-NeXT emits for an image of (h, w) with the given best
   resolution, tile size and patch grid (e.g. 336 and 24): cur_h*(cur_w+1) + grid*grid. Also
   returns the unpadded feature grid (rows, cols). */
int llava_next_num_image_tokens(int h, int w, int best_h, int best_w, int tile, int grid, int *rows, int *cols);
int qwen2vl_smart_resize(int h, int w, int factor, int min_pixels, int max_pixels, int *out_h, int *out_w);

#endif
