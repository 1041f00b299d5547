/*
 * image_features.c: model_encode_image: one decoded image -> the embeddings that replace the
 * image tokens of the prompt, per architecture.
 *
 *   LLaVA-1.5   one crop -> CLIP -> projector: 576 tokens for 336 px / 14 px patches.
 *   LLaVA-NeXT  overview + tiles, each through CLIP and the projector; the tiles are stitched
 *               into one canvas, unpadded to the image's aspect ratio, and every canvas row ends
 *               with image_newline; the overview's tokens come first, without newlines
 *               (research/models.md §4.3).
 *   Qwen2-VL    patch rows through the Qwen2-VL tower and its 2x2 merger (§5.4).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/vision.h"

static int encode_llava(struct model *m, const struct pixel_values *pv, struct image_features *out, struct error *err) {
    struct backend *be = m->be;
    const int nf = clip_n_features(m), Dv = m->cfg.vision.hidden_size, D = m->cfg.text.hidden_size;
    const size_t crop = (size_t)3 * pv->height * pv->width;
    float *vis = be->ops->alloc(be, sizeof(float) * (size_t)nf * Dv);
    float *all = be->ops->alloc(be, sizeof(float) * (size_t)pv->n_crops * nf * D);
    for (int c = 0; c < pv->n_crops; c++) {
        if (clip_encode(m, pv->data + crop * (size_t)c, vis, err)) {
            be->ops->free(be, vis);
            be->ops->free(be, all);
            return -1;
        }
        projector_run(m, vis, nf, all + (size_t)c * nf * D);
    }
    be->ops->free(be, vis);
    out->orig_w = pv->orig_w;
    out->orig_h = pv->orig_h;
    if (m->cfg.arch == ARCH_LLAVA) {
        out->embeds = all;
        out->n_tokens = nf;
        out->grid_h = out->grid_w = m->cfg.vision.image_size / m->cfg.vision.patch_size;
        return 0;
    }
    /* LLaVA-NeXT packing */
    const int g = m->cfg.vision.image_size / m->cfg.vision.patch_size, tile = m->cfg.vision.image_size;
    const int nph = pv->best_h / tile, npw = pv->best_w / tile;
    if (pv->n_crops != 1 + nph * npw || nf != g * g) {
        be->ops->free(be, all);
        return error_set(err, "LLaVA-NeXT: %d crops for a %dx%d grid of %d-px tiles (expected %d)", pv->n_crops, nph,
                         npw, tile, 1 + nph * npw);
    }
    int rows, cols;
    llava_next_num_image_tokens(pv->orig_h, pv->orig_w, pv->best_h, pv->best_w, tile, g, &rows, &cols);
    const int pad_r = (nph * g - rows) / 2, pad_c = (npw * g - cols) / 2;
    out->n_tokens = g * g + rows * (cols + 1);
    out->embeds = be->ops->alloc(be, sizeof(float) * (size_t)out->n_tokens * D);
    be->ops->copy(be, out->embeds, all, (size_t)g * g * D);
    float *dst = out->embeds + (size_t)g * g * D;
    for (int R = 0; R < rows; R++) {
        int cr = R + pad_r, ti = cr / g, y = cr % g;
        for (int C = 0; C < cols; C++) {
            int cc = C + pad_c, tj = cc / g, x = cc % g;
            const float *src = all + ((size_t)(1 + ti * npw + tj) * nf + (size_t)y * g + x) * D;
            be->ops->copy(be, dst, src, (size_t)D);
            dst += D;
        }
        be->ops->add_weight(be, dst, &m->proj.image_newline, 1); /* dst is still zero: alloc zero-fills */
        dst += D;
    }
    be->ops->free(be, all);
    out->grid_h = rows;
    out->grid_w = cols;
    out->base_tokens = g * g;
    out->has_newline = 1;
    return 0;
}

int model_encode_image(struct model *m, const struct image *img, struct image_features *out, struct error *err) {
    memset(out, 0, sizeof *out);
    struct pixel_values pv;
    if (image_processor_run(&m->improc, img, &pv, err)) return -1;
    int rc;
    if (m->cfg.arch == ARCH_QWEN2_VL) {
        const int merge = m->cfg.vision.spatial_merge_size;
        out->n_tokens = pv.n_rows / (merge * merge);
        out->embeds = m->be->ops->alloc(m->be, sizeof(float) * (size_t)out->n_tokens * m->cfg.text.hidden_size);
        out->orig_w = pv.orig_w;
        out->orig_h = pv.orig_h;
        out->grid_h = pv.grid_h / merge;
        out->grid_w = pv.grid_w / merge;
        out->resized_w = pv.resized_w;
        out->resized_h = pv.resized_h;
        rc = qwen2vl_encode(m, &pv, out->embeds, err);
    } else {
        rc = encode_llava(m, &pv, out, err);
    }
    pixel_values_free(&pv);
    if (rc) image_features_free(m, out);
    return rc;
}

void image_features_free(struct model *m, struct image_features *f) {
    if (!f) return;
    if (f->embeds) m->be->ops->free(m->be, f->embeds);
    memset(f, 0, sizeof *f);
}
