/*
 * vision_clip.c: the CLIP ViT vision tower of LLaVA (research/models.md §2.3-§2.4) and the
 * LLaVA projector.
 *
 *   patches (conv stride = kernel, as a matmul over [c][ky][kx] rows) -> prepend CLS ->
 *   + position embeddings -> pre_layrnorm -> n_run pre-LN encoder layers
 *   (h += out(MHA(LN1 h)); h += fc2(act(fc1(LN2 h))), bidirectional attention) ->
 *   drop CLS ("default" strategy) -> projector linear_2(gelu(linear_1 x)).
 *
 * Only the layers up to vision_feature_layer run (-2: all but the last), and post_layernorm
 * is never applied: LLaVA reads hidden_states[-2], not the pooled output.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/vision.h"

/* im2col: pixels [3][S][S] -> rows [(S/P)^2][3*P*P], patch (py, px) row-major, each row in
   [c][ky][kx] order to match the conv weight viewed as [D][3*P*P]. */
static void patchify(const float *pixels, int S, int P, float *rows) {
    const int g = S / P, rl = 3 * P * P;
    for (int py = 0; py < g; py++)
        for (int px = 0; px < g; px++) {
            float *r = rows + (int64_t)(py * g + px) * rl;
            for (int c = 0; c < 3; c++)
                for (int ky = 0; ky < P; ky++)
                    memcpy(r + (c * P + ky) * P, pixels + ((int64_t)c * S + py * P + ky) * S + px * P, sizeof *r * P);
        }
}

int clip_encode(struct model *m, const float *pixels, float *out, struct error *err) {
    struct backend *be = m->be;
    const struct backend_ops *ops = be->ops;
    const struct vision_config *v = &m->cfg.vision;
    const struct clip_weights *w = &m->clip;
    const int S = v->image_size, P = v->patch_size, D = v->hidden_size, I = v->intermediate_size;
    const int np = (S / P) * (S / P), n = np + 1, H = v->n_heads, hd = D / H;
    const size_t fsz = sizeof(float);

    float *rows_host = xmalloc(fsz * (size_t)np * 3 * P * P);
    patchify(pixels, S, P, rows_host);
    float *rows = ops->alloc(be, fsz * (size_t)np * 3 * P * P);
    ops->upload(be, rows, rows_host, fsz * (size_t)np * 3 * P * P);
    free(rows_host);

    float *h = ops->alloc(be, fsz * (size_t)n * D), *r = ops->alloc(be, fsz * (size_t)n * D);
    float *q = ops->alloc(be, fsz * (size_t)n * D), *k = ops->alloc(be, fsz * (size_t)n * D);
    float *vv = ops->alloc(be, fsz * (size_t)n * D), *att = ops->alloc(be, fsz * (size_t)n * D);
    float *f = ops->alloc(be, fsz * (size_t)n * I);

    /* row 0 = CLS, rows 1..np = patch embeddings; then + position embeddings 0..np */
    ops->matmul(be, h + D, rows, &w->patch_embed, NULL, np);
    ops->add_weight(be, h, &w->class_embed, 1);
    ops->add_weight(be, h, &w->pos_embed, n);
    ops->layernorm(be, h, h, &w->pre_ln_w, &w->pre_ln_b, n, D, v->layer_norm_eps);

    for (int l = 0; l < w->n_run; l++) {
        const struct clip_layer_weights *L = &w->layers[l];
        ops->layernorm(be, r, h, &L->ln1_w, &L->ln1_b, n, D, v->layer_norm_eps);
        ops->matmul(be, q, r, &L->q_w, &L->q_b, n);
        ops->matmul(be, k, r, &L->k_w, &L->k_b, n);
        ops->matmul(be, vv, r, &L->v_w, &L->v_b, n);
        struct attn_args a = {.q = q, .k = k, .v = vv, .out = att, .n = n, .n_heads = H, .n_kv_heads = H,
                              .head_dim = hd, .q_stride = D, .kv_stride = D, .out_stride = D, .causal = 0};
        ops->attention(be, &a);
        ops->matmul(be, r, att, &L->o_w, &L->o_b, n);
        ops->add(be, h, r, (size_t)n * D);
        ops->layernorm(be, r, h, &L->ln2_w, &L->ln2_b, n, D, v->layer_norm_eps);
        ops->matmul(be, f, r, &L->fc1_w, &L->fc1_b, n);
        ops->activation(be, f, (size_t)n * I, v->hidden_act);
        ops->matmul(be, r, f, &L->fc2_w, &L->fc2_b, n);
        ops->add(be, h, r, (size_t)n * D);
    }
    const int skip = m->cfg.select_strategy_full ? 0 : 1;
    ops->copy(be, out, h + (size_t)skip * D, (size_t)(n - skip) * D);
    ops->free(be, rows);
    ops->free(be, h);
    ops->free(be, r);
    ops->free(be, q);
    ops->free(be, k);
    ops->free(be, vv);
    ops->free(be, att);
    ops->free(be, f);
    return 0;
}

int clip_n_features(const struct model *m) {
    const struct vision_config *v = &m->cfg.vision;
    int np = (v->image_size / v->patch_size) * (v->image_size / v->patch_size);
    return m->cfg.select_strategy_full ? np + 1 : np;
}

void projector_run(struct model *m, const float *x, int n, float *out) {
    struct backend *be = m->be;
    const struct projector_weights *p = &m->proj;
    const int D = m->cfg.text.hidden_size;
    float *mid = be->ops->alloc(be, sizeof(float) * (size_t)n * D);
    be->ops->matmul(be, mid, x, &p->l1_w, m->cfg.projector_bias ? &p->l1_b : NULL, n);
    be->ops->activation(be, mid, (size_t)n * D, m->cfg.projector_act);
    be->ops->matmul(be, out, mid, &p->l2_w, m->cfg.projector_bias ? &p->l2_b : NULL, n);
    be->ops->free(be, mid);
}
