/*
 * vision_qwen2vl.c: the Qwen2-VL vision tower and patch merger (research/models.md §5.4).
 *
 *   patch rows [N][3*T*P*P] . Wpatch^T (the Conv3d with kernel = stride is exactly this matmul)
 *   -> depth x (x += proj(Attn(LN1 x)); x += fc2(quick_gelu(fc1(LN2 x))))
 *   -> merger: LN each row, view 4 consecutive rows (one 2x2 window) as one, Linear, GELU, Linear.
 *
 * Attention is bidirectional over the whole image (one image = one cu_seqlens block) with 2-D
 * RoPE: each patch's row and column, listed in the same 2x2-window order as the patch rows.
 */
#include <stdlib.h>

#include "engine/rope_table.h"
#include "engine/vision.h"

/* Patch row i's (row, column) in the gh x gw grid, for rows in window order
   (block row, block column, then the merge x merge cells inside the block). */
static void window_order_positions(int gh, int gw, int merge, int32_t *hpos, int32_t *wpos) {
    int i = 0;
    for (int br = 0; br < gh / merge; br++)
        for (int bc = 0; bc < gw / merge; bc++)
            for (int mh = 0; mh < merge; mh++)
                for (int mw = 0; mw < merge; mw++, i++) {
                    hpos[i] = br * merge + mh;
                    wpos[i] = bc * merge + mw;
                }
}

int qwen2vl_encode(struct model *m, const struct pixel_values *pv, float *out, struct error *err) {
    struct backend *be = m->be;
    const struct backend_ops *ops = be->ops;
    const struct vision_config *v = &m->cfg.vision;
    const struct qwen2vl_vision_weights *w = &m->qvis;
    const int E = v->hidden_size, I = v->intermediate_size, H = v->n_heads, hd = E / H, merge = v->spatial_merge_size;
    const int N = pv->n_rows, rl = pv->row_len;
    if (rl != (int)w->patch_embed.cols)
        return error_set(err, "Qwen2-VL: patch rows of %d values, the patch embedding expects %lld", rl,
                         (long long)w->patch_embed.cols);
    if (N != pv->grid_t * pv->grid_h * pv->grid_w || pv->grid_t != 1 || N % (merge * merge))
        return error_set(err, "Qwen2-VL: %d patch rows for grid (%d, %d, %d); one still image expected", N, pv->grid_t,
                         pv->grid_h, pv->grid_w);
    const size_t f = sizeof(float);
    float *rows = ops->alloc(be, f * (size_t)N * rl);
    ops->upload(be, rows, pv->data, f * (size_t)N * rl);
    float *x = ops->alloc(be, f * (size_t)N * E), *r = ops->alloc(be, f * (size_t)N * E);
    float *qkv = ops->alloc(be, f * (size_t)N * 3 * E), *att = ops->alloc(be, f * (size_t)N * E);
    float *mlp = ops->alloc(be, f * (size_t)N * I);

    int32_t *hpos = xmalloc(sizeof *hpos * (size_t)N), *wpos = xmalloc(sizeof *wpos * (size_t)N);
    window_order_positions(pv->grid_h, pv->grid_w, merge, hpos, wpos);
    float *c = xmalloc(f * (size_t)N * hd / 2), *s = xmalloc(f * (size_t)N * hd / 2);
    vision_rope_angles(c, s, hpos, wpos, N, hd, 10000.0);
    float *cos_d = ops->alloc(be, f * (size_t)N * hd / 2), *sin_d = ops->alloc(be, f * (size_t)N * hd / 2);
    ops->upload(be, cos_d, c, f * (size_t)N * hd / 2);
    ops->upload(be, sin_d, s, f * (size_t)N * hd / 2);
    free(hpos);
    free(wpos);
    free(c);
    free(s);

    ops->matmul(be, x, rows, &w->patch_embed, NULL, N);
    for (int l = 0; l < v->n_layers; l++) {
        const struct qwen2vl_vision_layer_weights *L = &w->layers[l];
        ops->layernorm(be, r, x, &L->ln1_w, &L->ln1_b, N, E, v->layer_norm_eps);
        ops->matmul(be, qkv, r, &L->qkv_w, &L->qkv_b, N);
        ops->rope(be, qkv, N, H, hd, 3 * E, cos_d, sin_d);
        ops->rope(be, qkv + E, N, H, hd, 3 * E, cos_d, sin_d);
        struct attn_args a = {.q = qkv, .k = qkv + E, .v = qkv + 2 * E, .out = att, .n = N, .n_heads = H,
                              .n_kv_heads = H, .head_dim = hd, .q_stride = 3 * E, .kv_stride = 3 * E, .out_stride = E};
        ops->attention(be, &a);
        ops->matmul(be, r, att, &L->proj_w, &L->proj_b, N);
        ops->add(be, x, r, (size_t)N * E);
        ops->layernorm(be, r, x, &L->ln2_w, &L->ln2_b, N, E, v->layer_norm_eps);
        ops->matmul(be, mlp, r, &L->fc1_w, &L->fc1_b, N);
        ops->activation(be, mlp, (size_t)N * I, v->hidden_act);
        ops->matmul(be, r, mlp, &L->fc2_w, &L->fc2_b, N);
        ops->add(be, x, r, (size_t)N * E);
    }
    /* merger: rows of 4*E after the per-patch LayerNorm */
    const int Nm = N / (merge * merge), M = E * merge * merge;
    ops->layernorm(be, r, x, &w->merger_ln_w, &w->merger_ln_b, N, E, 1e-6f);
    float *mid = ops->alloc(be, f * (size_t)Nm * M);
    ops->matmul(be, mid, r, &w->merger_fc1_w, &w->merger_fc1_b, Nm);
    ops->activation(be, mid, (size_t)Nm * M, ACT_GELU);
    ops->matmul(be, out, mid, &w->merger_fc2_w, &w->merger_fc2_b, Nm);
    float *bufs[] = {rows, x, r, qkv, att, mlp, cos_d, sin_d, mid};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ops->free(be, bufs[i]);
    return 0;
}
