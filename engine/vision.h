/*
 * vision.h: the vision towers and projectors behind model_encode_image (engine-internal).
 */
#ifndef SPARSEMM_VISION_H
#define SPARSEMM_VISION_H

#include "engine/model.h"

/* CLIP tower on one crop: pixels host [3][S][S] -> out backend [clip_n_features][vision hidden]. */
int clip_encode(struct model *m, const float *pixels, float *out, struct error *err);
int clip_n_features(const struct model *m);
/* LLaVA projector: x backend [n][vision hidden] -> out backend [n][text hidden]. */
void projector_run(struct model *m, const float *x, int n, float *out);

/* Qwen2-VL tower + merger: patch rows host [n_rows][row_len] in 2x2 window order with the
   grid (t, h, w) -> out backend [n_rows/4][text hidden]. */
int qwen2vl_encode(struct model *m, const struct pixel_values *pv, float *out, struct error *err);

#endif
