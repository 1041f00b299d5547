/*
 * decoder.c: the text decoder (Llama / Mistral / Qwen2, research/models.md §3, §5.5) as a
 * session: prefill a prompt into the KV cache, then decode one token at a time.
 *
 * Per layer (pre-norm):  h = x + o(Attn(RMSNorm(x)));  x' = h + down(silu(gate(n)) * up(n)),
 * n = RMSNorm(h). Keys and queries are rotated (rotate-half RoPE; M-RoPE for Qwen2-VL) before
 * attention and keys are cached after rotation, so positions keep counting from the
 * uncompressed length whatever the cache keeps.
 *
 * Prefill attention always uses every key (compression never changes the prompt's own
 * outputs); the policy, if any, then decides per layer which rows each KV head keeps.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/model.h"
#include "engine/rope_table.h"

#define MLP_CHUNK 256 /* prefill MLP rows per pass: bounds the [rows][intermediate] buffers */

void session_init(struct session *s, struct model *m, enum dtype kv_dtype, int decode_reserve) {
    memset(s, 0, sizeof *s);
    s->m = m;
    const struct text_config *t = &m->cfg.text;
    kv_cache_init(&s->cache, m->be, t->n_layers, t->n_kv_heads, t->head_dim, kv_dtype, decode_reserve);
    struct backend *be = m->be;
    const size_t f = sizeof(float), D = (size_t)t->hidden_size, Hq = (size_t)t->n_heads * t->head_dim;
    const size_t Hk = (size_t)t->n_kv_heads * t->head_dim, I = (size_t)t->intermediate_size;
    s->x = be->ops->alloc(be, f * D);
    s->xb = be->ops->alloc(be, f * D);
    s->q = be->ops->alloc(be, f * Hq);
    s->k = be->ops->alloc(be, f * Hk);
    s->v = be->ops->alloc(be, f * Hk);
    s->att = be->ops->alloc(be, f * Hq);
    s->hb = be->ops->alloc(be, f * I);
    s->hb2 = be->ops->alloc(be, f * (I > D ? I : D));
    s->logits_dev = be->ops->alloc(be, f * (size_t)t->vocab_size);
    s->cos_dev = be->ops->alloc(be, f * (size_t)t->head_dim / 2);
    s->sin_dev = be->ops->alloc(be, f * (size_t)t->head_dim / 2);
    s->argmax_dev = be->ops->alloc(be, sizeof(int32_t) * (size_t)t->n_heads);
}

void session_free(struct session *s) {
    if (!s || !s->m) return;
    struct backend *be = s->m->be;
    float *bufs[] = {s->x, s->xb, s->q, s->k, s->v, s->att, s->hb, s->hb2, s->logits_dev, s->cos_dev, s->sin_dev};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->ops->free(be, bufs[i]);
    be->ops->free(be, s->argmax_dev);
    kv_cache_free(&s->cache);
    memset(s, 0, sizeof *s);
}

/* Zero the query vectors of the heads the policy masks in this layer (the mask ablation). */
static void apply_query_mask(struct session *s, int layer, float *q, int n) {
    if (!s->policy || !s->policy->query_mask) return;
    const uint8_t *mask = s->policy->query_mask(s->policy->ctx, layer);
    if (!mask) return;
    const struct text_config *t = &s->m->cfg.text;
    for (int h = 0; h < t->n_heads; h++)
        if (mask[h]) s->m->be->ops->zero_cols(s->m->be, q, n, t->n_heads * t->head_dim, h * t->head_dim, t->head_dim);
}

/* Rotary tables for n tokens at sequence positions start.. (plain) or given by the prompt's
   M-RoPE streams, uploaded to the backend. */
static void upload_angles(struct session *s, const struct prompt *p, int n, int start, float *cos_dev, float *sin_dev) {
    const struct model *m = s->m;
    const struct text_config *t = &m->cfg.text;
    const int half = t->head_dim / 2;
    float *c = xmalloc(sizeof *c * (size_t)n * half), *sn = xmalloc(sizeof *sn * (size_t)n * half);
    if (p && p->mrope_pos) {
        mrope_angles(c, sn, p->mrope_pos, n, t->head_dim, t->rope_theta, t->mrope_section);
    } else {
        int32_t *pos = xmalloc(sizeof *pos * (size_t)n);
        for (int i = 0; i < n; i++) pos[i] = start + i + s->rope_delta;
        if (m->cfg.arch == ARCH_QWEN2_VL) {
            int32_t *pos3 = xmalloc(sizeof *pos3 * (size_t)n * 3);
            for (int k = 0; k < 3; k++) memcpy(pos3 + (size_t)k * n, pos, sizeof *pos * (size_t)n);
            mrope_angles(c, sn, pos3, n, t->head_dim, t->rope_theta, t->mrope_section);
            free(pos3);
        } else {
            rope_angles(c, sn, pos, n, t->head_dim, t->rope_theta);
        }
        free(pos);
    }
    m->be->ops->upload(m->be, cos_dev, c, sizeof *c * (size_t)n * half);
    m->be->ops->upload(m->be, sin_dev, sn, sizeof *sn * (size_t)n * half);
    free(c);
    free(sn);
}

/* x += MLP(RMSNorm(x)) for n rows, MLP_CHUNK rows at a time. xb: scratch [n][D]. */
static void mlp_block(struct model *m, const struct decoder_layer_weights *L, float *x, float *xb, float *hb,
                      float *hb2, int n) {
    struct backend *be = m->be;
    const struct text_config *t = &m->cfg.text;
    const int D = t->hidden_size, I = t->intermediate_size;
    be->ops->rmsnorm(be, xb, x, &L->post_norm, n, D, t->rms_norm_eps);
    for (int r0 = 0; r0 < n; r0 += MLP_CHUNK) {
        int rows = n - r0 < MLP_CHUNK ? n - r0 : MLP_CHUNK;
        float *xr = xb + (size_t)r0 * D;
        be->ops->matmul(be, hb, xr, &L->gate, NULL, rows);
        be->ops->matmul(be, hb2, xr, &L->up, NULL, rows);
        be->ops->silu_mul(be, hb, hb2, (size_t)rows * I);
        be->ops->matmul(be, hb2, hb, &L->down, NULL, rows);
        be->ops->add(be, x + (size_t)r0 * D, hb2, (size_t)rows * D);
    }
}

/* Final norm of the last row and the LM head; logits to host. */
static void lm_head(struct session *s, const float *x_last, float *logits) {
    struct model *m = s->m;
    struct backend *be = m->be;
    const struct text_config *t = &m->cfg.text;
    be->ops->rmsnorm(be, s->xb, x_last, &m->dec.norm, 1, t->hidden_size, t->rms_norm_eps);
    be->ops->matmul(be, s->logits_dev, s->xb, &m->dec.lm_head, NULL, 1);
    be->ops->download(be, logits, s->logits_dev, sizeof(float) * (size_t)t->vocab_size);
}

/* Ask the policy what layer l keeps, from this layer's attention statistics. */
static int select_rows(struct session *s, int l, int n, const float *win_dev, const float *acc_dev, float *win_host,
                       float *acc_host, struct kv_keep *keep, struct error *err) {
    struct backend *be = s->m->be;
    const struct text_config *t = &s->m->cfg.text;
    const size_t stat = sizeof(float) * (size_t)t->n_heads * n;
    if (win_dev) be->ops->download(be, win_host, win_dev, stat);
    if (acc_dev) be->ops->download(be, acc_host, acc_dev, stat);
    struct kv_layer_scores sc = {.layer = l, .n_tokens = n, .n_heads = t->n_heads, .n_kv_heads = t->n_kv_heads,
                                 .head_dim = t->head_dim, .window = s->policy->window,
                                 .window_attn = win_dev ? win_host : NULL, .accum_attn = acc_dev ? acc_host : NULL};
    for (int j = 0; j < t->n_kv_heads; j++) keep->count[j] = 0;
    if (s->policy->select(s->policy->ctx, &sc, keep, err)) return error_wrap(err, "layer %d", l);
    for (int j = 0; j < t->n_kv_heads; j++)
        for (int i = 0; i < keep->count[j]; i++)
            if (keep->idx[j][i] < 0 || keep->idx[j][i] >= n || keep->count[j] > n)
                return error_set(err, "layer %d: policy kept position %d of KV head %d, outside [0, %d)", l,
                                 keep->idx[j][i], j, n);
    return 0;
}

struct prefill_bufs {
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2, *cos, *sin, *win, *acc;
    float *win_host, *acc_host;
    struct kv_keep keep;
};

static void prefill_alloc(struct session *s, int n, struct prefill_bufs *b) {
    struct backend *be = s->m->be;
    const struct text_config *t = &s->m->cfg.text;
    const size_t f = sizeof(float), D = (size_t)t->hidden_size, Hq = (size_t)t->n_heads * t->head_dim;
    const size_t Hk = (size_t)t->n_kv_heads * t->head_dim, I = (size_t)t->intermediate_size, N = (size_t)n;
    const size_t chunk = N < MLP_CHUNK ? N : MLP_CHUNK;
    memset(b, 0, sizeof *b);
    b->x = be->ops->alloc(be, f * N * D);
    b->xb = be->ops->alloc(be, f * N * D);
    b->q = be->ops->alloc(be, f * N * Hq);
    b->k = be->ops->alloc(be, f * N * Hk);
    b->v = be->ops->alloc(be, f * N * Hk);
    b->att = be->ops->alloc(be, f * N * Hq);
    b->hb = be->ops->alloc(be, f * chunk * I);
    b->hb2 = be->ops->alloc(be, f * chunk * (I > D ? I : D));
    b->cos = be->ops->alloc(be, f * N * (size_t)t->head_dim / 2);
    b->sin = be->ops->alloc(be, f * N * (size_t)t->head_dim / 2);
    const struct kv_policy *pol = s->policy;
    const size_t stat = f * (size_t)t->n_heads * N;
    if (pol && pol->need_window_attn) {
        b->win = be->ops->alloc(be, stat);
        b->win_host = xmalloc(stat);
    }
    if (pol && pol->need_accum_attn) {
        b->acc = be->ops->alloc(be, stat);
        b->acc_host = xmalloc(stat);
    }
    if (pol) {
        b->keep.n_kv_heads = t->n_kv_heads;
        b->keep.count = xcalloc((size_t)t->n_kv_heads, sizeof *b->keep.count);
        b->keep.idx = xcalloc((size_t)t->n_kv_heads, sizeof *b->keep.idx);
        for (int j = 0; j < t->n_kv_heads; j++) b->keep.idx[j] = xmalloc(sizeof(int32_t) * N);
    }
}

static void prefill_release(struct session *s, struct prefill_bufs *b) {
    struct backend *be = s->m->be;
    float *bufs[] = {b->x, b->xb, b->q, b->k, b->v, b->att, b->hb, b->hb2, b->cos, b->sin, b->win, b->acc};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->ops->free(be, bufs[i]);
    free(b->win_host);
    free(b->acc_host);
    for (int j = 0; b->keep.idx && j < b->keep.n_kv_heads; j++) free(b->keep.idx[j]);
    free(b->keep.idx);
    free(b->keep.count);
}

int session_prefill(struct session *s, const struct prompt *p, const struct image_features *feat,
                    const struct kv_policy *policy, float *logits, struct prefill_stats *st, struct error *err) {
    struct model *m = s->m;
    struct backend *be = m->be;
    const struct text_config *t = &m->cfg.text;
    const int n = p->n, D = t->hidden_size, H = t->n_heads, Hk = t->n_kv_heads, hd = t->head_dim;
    if (n <= 0) return error_set(err, "empty prompt");
    if (feat && (p->image_start < 0 || p->image_start + feat->n_tokens > n || p->n_image_tokens != feat->n_tokens))
        return error_set(err, "prompt has %d image tokens at %d, the image has %d embeddings", p->n_image_tokens,
                         p->image_start, feat->n_tokens);
    for (int i = 0; i < n; i++)
        if (p->ids[i] < 0 || p->ids[i] >= t->vocab_size)
            return error_set(err, "token id %d at position %d outside the vocabulary (%d)", p->ids[i], i, t->vocab_size);
    double t0 = now_ms();
    kv_cache_reset(&s->cache);
    s->policy = policy;
    s->rope_delta = p->mrope_pos ? p->rope_delta : 0;
    struct prefill_bufs b;
    prefill_alloc(s, n, &b);

    be->ops->embed(be, b.x, &m->dec.embed, p->ids, n);
    if (feat) be->ops->copy(be, b.x + (size_t)p->image_start * D, feat->embeds, (size_t)feat->n_tokens * D);
    upload_angles(s, p, n, 0, b.cos, b.sin);

    int rc = 0;
    for (int l = 0; l < t->n_layers && !rc; l++) {
        const struct decoder_layer_weights *L = &m->dec.layers[l];
        be->ops->rmsnorm(be, b.xb, b.x, &L->in_norm, n, D, t->rms_norm_eps);
        be->ops->matmul(be, b.q, b.xb, &L->q, t->qkv_bias ? &L->q_b : NULL, n);
        be->ops->matmul(be, b.k, b.xb, &L->k, t->qkv_bias ? &L->k_b : NULL, n);
        be->ops->matmul(be, b.v, b.xb, &L->v, t->qkv_bias ? &L->v_b : NULL, n);
        be->ops->rope(be, b.q, n, H, hd, H * hd, b.cos, b.sin);
        be->ops->rope(be, b.k, n, Hk, hd, Hk * hd, b.cos, b.sin);
        apply_query_mask(s, l, b.q, n);
        struct attn_args a = {.q = b.q, .k = b.k, .v = b.v, .out = b.att, .n = n, .n_heads = H, .n_kv_heads = Hk,
                              .head_dim = hd, .q_stride = H * hd, .kv_stride = Hk * hd, .out_stride = H * hd,
                              .causal = 1, .sliding_window = t->sliding_window,
                              .window = policy ? policy->window : 0, .window_attn = b.win, .accum_attn = b.acc};
        be->ops->attention(be, &a);
        if (policy) {
            rc = select_rows(s, l, n, b.win, b.acc, b.win_host, b.acc_host, &b.keep, err);
            if (!rc) kv_cache_fill(&s->cache, l, b.k, b.v, Hk * hd, n, &b.keep);
        } else {
            kv_cache_fill(&s->cache, l, b.k, b.v, Hk * hd, n, NULL);
        }
        be->ops->matmul(be, b.xb, b.att, &L->o, NULL, n);
        be->ops->add(be, b.x, b.xb, (size_t)n * D);
        mlp_block(m, L, b.x, b.xb, b.hb, b.hb2, n);
    }
    if (!rc) lm_head(s, b.x + (size_t)(n - 1) * D, logits);
    prefill_release(s, &b);
    if (rc) return -1;
    s->n_past = n;
    if (st) {
        be->ops->synchronize(be);
        st->ms = now_ms() - t0;
        st->kv_rows = kv_cache_rows(&s->cache);
        st->kv_bytes = kv_cache_bytes(&s->cache);
        if (st->layer_rows)
            for (int l = 0; l < t->n_layers; l++) st->layer_rows[l] = kv_cache_layer_rows(&s->cache, l);
    }
    return 0;
}

int session_decode(struct session *s, int32_t token, float *logits, int32_t *argmax_pos, struct error *err) {
    struct model *m = s->m;
    struct backend *be = m->be;
    const struct text_config *t = &m->cfg.text;
    const int D = t->hidden_size, H = t->n_heads, Hk = t->n_kv_heads, hd = t->head_dim;
    if (token < 0 || token >= t->vocab_size)
        return error_set(err, "token id %d outside the vocabulary (%d)", token, t->vocab_size);
    const int pos = s->n_past;
    be->ops->embed(be, s->x, &m->dec.embed, &token, 1);
    upload_angles(s, NULL, 1, pos, s->cos_dev, s->sin_dev);
    for (int l = 0; l < t->n_layers; l++) {
        const struct decoder_layer_weights *L = &m->dec.layers[l];
        be->ops->rmsnorm(be, s->xb, s->x, &L->in_norm, 1, D, t->rms_norm_eps);
        be->ops->matmul(be, s->q, s->xb, &L->q, t->qkv_bias ? &L->q_b : NULL, 1);
        be->ops->matmul(be, s->k, s->xb, &L->k, t->qkv_bias ? &L->k_b : NULL, 1);
        be->ops->matmul(be, s->v, s->xb, &L->v, t->qkv_bias ? &L->v_b : NULL, 1);
        be->ops->rope(be, s->q, 1, H, hd, H * hd, s->cos_dev, s->sin_dev);
        be->ops->rope(be, s->k, 1, Hk, hd, Hk * hd, s->cos_dev, s->sin_dev);
        apply_query_mask(s, l, s->q, 1);
        kv_cache_append(&s->cache, l, s->k, s->v, pos);
        const struct kv_cache_layer *C = &s->cache.layers[l];
        struct attn_decode_args a = {.q = s->q, .out = s->att, .k = C->k, .v = C->v, .kv_dtype = s->cache.dtype,
                                     .pos = C->pos, .off = C->off_dev, .len = C->len_dev, .n_heads = H,
                                     .n_kv_heads = Hk, .head_dim = hd, .max_len = kv_cache_max_len(&s->cache, l),
                                     .query_pos = pos, .sliding_window = t->sliding_window,
                                     .argmax_pos = argmax_pos ? s->argmax_dev : NULL};
        be->ops->attention_decode(be, &a);
        if (argmax_pos) be->ops->download(be, argmax_pos + (size_t)l * H, s->argmax_dev, sizeof(int32_t) * (size_t)H);
        be->ops->matmul(be, s->xb, s->att, &L->o, NULL, 1);
        be->ops->add(be, s->x, s->xb, (size_t)D);
        mlp_block(m, L, s->x, s->xb, s->hb, s->hb2, 1);
    }
    lm_head(s, s->x, logits);
    s->n_past++;
    return 0;
}
