/*
 * model.c: loading a model directory: config, tokenizer, image processor, and every weight
 * located (under either naming layout), shape-checked against the config, and prepared on the
 * backend. A missing or mis-shaped tensor is an error naming the tensor, the file and both
 * shapes; nothing is half-loaded on failure.
 */
#include "engine/model.h"

#include "engine/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Name prefixes of each component: the hub layout first, then the layouts newer transformers
   versions write (v5 also drops CLIP's "vision_model." level). */
static const char *const LLAVA_TEXT[] = {"language_model.model.", "model.language_model.", NULL};
static const char *const LLAVA_HEAD[] = {"language_model.", "", NULL};
static const char *const LLAVA_VISION[] = {"vision_tower.vision_model.", "model.vision_tower.vision_model.",
                                           "vision_tower.", "model.vision_tower.", NULL};
static const char *const LLAVA_PROJ[] = {"multi_modal_projector.", "model.multi_modal_projector.", NULL};
static const char *const LLAVA_TOP[] = {"", "model.", NULL};
static const char *const QWEN_TEXT[] = {"model.", "model.language_model.", NULL};
static const char *const QWEN_HEAD[] = {"", NULL};
static const char *const QWEN_VISION[] = {"visual.", "model.visual.", NULL};


/* Make a located weight usable on the backend and remember it for model_free. */
static int prepare(struct model *m, struct weight *w, struct error *err) {
    if (m->be->ops->weight_prepare(m->be, w, err)) return error_wrap(err, "%s", w->name);
    m->prepared = xrealloc(m->prepared, sizeof *m->prepared * (size_t)(m->n_prepared + 1));
    m->prepared[m->n_prepared++] = w;
    return 0;
}

/* Find `prefix + name` for the first prefix that exists; check it has `numel` = rows*cols and,
   for matrices, the given leading shape. */
static int load(struct model *m, struct weight *w, const char *const *prefixes, int64_t rows, int64_t cols,
                struct error *err, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int load(struct model *m, struct weight *w, const char *const *prefixes, int64_t rows, int64_t cols,
                struct error *err, const char *fmt, ...) {
    char suffix[256], name[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(suffix, sizeof suffix, fmt, ap);
    va_end(ap);
    if (m->source) { /* a model built in memory (model_random.c): no checkpoint to look in */
        snprintf(name, sizeof name, "%s%s", prefixes[0], suffix);
        if (m->source->make(m->source, name, rows, cols, w, err)) return -1;
        return prepare(m, w, err);
    }
    const struct st_tensor *t = NULL;
    for (int i = 0; prefixes[i] && !t; i++) {
        snprintf(name, sizeof name, "%s%s", prefixes[i], suffix);
        t = st_find(&m->st, name);
    }
    if (!t) {
        snprintf(name, sizeof name, "%s%s", prefixes[0], suffix);
        return error_set(err, "%s: tensor '%s' missing from the checkpoint (also tried the other naming layout)",
                         m->dir, name);
    }
    int ok = t->numel == rows * cols && (t->ndim == 1 ? rows == 1 : t->shape[0] == rows);
    if (!ok) {
        char got[128];
        int k = snprintf(got, sizeof got, "[");
        for (int i = 0; i < t->ndim; i++) k += snprintf(got + k, sizeof got - (size_t)k, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        snprintf(got + k, sizeof got - (size_t)k, "]");
        return error_set(err, "%s: tensor '%s' has shape %s, the config implies [%lld, %lld]",
                         m->st.files[t->file].path, t->name, got, (long long)rows, (long long)cols);
    }
    *w = (struct weight){.name = t->name, .dtype = t->dtype, .rows = rows, .cols = cols, .host = t->data};
    return prepare(m, w, err);
}

static int load_clip(struct model *m, struct error *err) {
    const struct vision_config *v = &m->cfg.vision;
    struct clip_weights *c = &m->clip;
    const int D = v->hidden_size, I = v->intermediate_size, P = v->patch_size;
    const int np = (v->image_size / P) * (v->image_size / P);
    const char *const *px = LLAVA_VISION;
    int fl = m->cfg.vision_feature_layer;
    c->n_run = fl < 0 ? v->n_layers + 1 + fl : fl;
    if (load(m, &c->patch_embed, px, D, (int64_t)v->num_channels * P * P, err, "embeddings.patch_embedding.weight") ||
        load(m, &c->class_embed, px, 1, D, err, "embeddings.class_embedding") ||
        load(m, &c->pos_embed, px, np + 1, D, err, "embeddings.position_embedding.weight") ||
        load(m, &c->pre_ln_w, px, 1, D, err, "pre_layrnorm.weight") ||
        load(m, &c->pre_ln_b, px, 1, D, err, "pre_layrnorm.bias"))
        return -1;
    c->layers = xcalloc((size_t)(c->n_run ? c->n_run : 1), sizeof *c->layers);
    for (int l = 0; l < c->n_run; l++) {
        struct clip_layer_weights *L = &c->layers[l];
        const char *e = "encoder.layers";
        if (load(m, &L->ln1_w, px, 1, D, err, "%s.%d.layer_norm1.weight", e, l) ||
            load(m, &L->ln1_b, px, 1, D, err, "%s.%d.layer_norm1.bias", e, l) ||
            load(m, &L->q_w, px, D, D, err, "%s.%d.self_attn.q_proj.weight", e, l) ||
            load(m, &L->q_b, px, 1, D, err, "%s.%d.self_attn.q_proj.bias", e, l) ||
            load(m, &L->k_w, px, D, D, err, "%s.%d.self_attn.k_proj.weight", e, l) ||
            load(m, &L->k_b, px, 1, D, err, "%s.%d.self_attn.k_proj.bias", e, l) ||
            load(m, &L->v_w, px, D, D, err, "%s.%d.self_attn.v_proj.weight", e, l) ||
            load(m, &L->v_b, px, 1, D, err, "%s.%d.self_attn.v_proj.bias", e, l) ||
            load(m, &L->o_w, px, D, D, err, "%s.%d.self_attn.out_proj.weight", e, l) ||
            load(m, &L->o_b, px, 1, D, err, "%s.%d.self_attn.out_proj.bias", e, l) ||
            load(m, &L->ln2_w, px, 1, D, err, "%s.%d.layer_norm2.weight", e, l) ||
            load(m, &L->ln2_b, px, 1, D, err, "%s.%d.layer_norm2.bias", e, l) ||
            load(m, &L->fc1_w, px, I, D, err, "%s.%d.mlp.fc1.weight", e, l) ||
            load(m, &L->fc1_b, px, 1, I, err, "%s.%d.mlp.fc1.bias", e, l) ||
            load(m, &L->fc2_w, px, D, I, err, "%s.%d.mlp.fc2.weight", e, l) ||
            load(m, &L->fc2_b, px, 1, D, err, "%s.%d.mlp.fc2.bias", e, l))
            return -1;
    }
    return 0;
}

static int load_projector(struct model *m, struct error *err) {
    const int Dv = m->cfg.vision.hidden_size, D = m->cfg.text.hidden_size;
    struct projector_weights *p = &m->proj;
    if (load(m, &p->l1_w, LLAVA_PROJ, D, Dv, err, "linear_1.weight") ||
        load(m, &p->l2_w, LLAVA_PROJ, D, D, err, "linear_2.weight"))
        return -1;
    if (m->cfg.projector_bias &&
        (load(m, &p->l1_b, LLAVA_PROJ, 1, D, err, "linear_1.bias") ||
         load(m, &p->l2_b, LLAVA_PROJ, 1, D, err, "linear_2.bias")))
        return -1;
    if (m->cfg.arch == ARCH_LLAVA_NEXT && load(m, &p->image_newline, LLAVA_TOP, 1, D, err, "image_newline")) return -1;
    return 0;
}

static int load_qwen_vision(struct model *m, struct error *err) {
    const struct vision_config *v = &m->cfg.vision;
    struct qwen2vl_vision_weights *q = &m->qvis;
    const int E = v->hidden_size, I = v->intermediate_size, P = v->patch_size, T = v->temporal_patch_size;
    const int M = E * v->spatial_merge_size * v->spatial_merge_size, D = v->out_hidden_size;
    const char *const *px = QWEN_VISION;
    if (D != m->cfg.text.hidden_size)
        return error_set(err, "%s: vision_config.hidden_size %d differs from the text hidden size %d", m->dir, D,
                         m->cfg.text.hidden_size);
    if (load(m, &q->patch_embed, px, E, (int64_t)v->num_channels * T * P * P, err, "patch_embed.proj.weight"))
        return -1;
    q->layers = xcalloc((size_t)v->n_layers, sizeof *q->layers);
    for (int l = 0; l < v->n_layers; l++) {
        struct qwen2vl_vision_layer_weights *L = &q->layers[l];
        if (load(m, &L->ln1_w, px, 1, E, err, "blocks.%d.norm1.weight", l) ||
            load(m, &L->ln1_b, px, 1, E, err, "blocks.%d.norm1.bias", l) ||
            load(m, &L->qkv_w, px, 3 * E, E, err, "blocks.%d.attn.qkv.weight", l) ||
            load(m, &L->qkv_b, px, 1, 3 * E, err, "blocks.%d.attn.qkv.bias", l) ||
            load(m, &L->proj_w, px, E, E, err, "blocks.%d.attn.proj.weight", l) ||
            load(m, &L->proj_b, px, 1, E, err, "blocks.%d.attn.proj.bias", l) ||
            load(m, &L->ln2_w, px, 1, E, err, "blocks.%d.norm2.weight", l) ||
            load(m, &L->ln2_b, px, 1, E, err, "blocks.%d.norm2.bias", l) ||
            load(m, &L->fc1_w, px, I, E, err, "blocks.%d.mlp.fc1.weight", l) ||
            load(m, &L->fc1_b, px, 1, I, err, "blocks.%d.mlp.fc1.bias", l) ||
            load(m, &L->fc2_w, px, E, I, err, "blocks.%d.mlp.fc2.weight", l) ||
            load(m, &L->fc2_b, px, 1, E, err, "blocks.%d.mlp.fc2.bias", l))
            return -1;
    }
    return load(m, &q->merger_ln_w, px, 1, E, err, "merger.ln_q.weight") ||
           load(m, &q->merger_ln_b, px, 1, E, err, "merger.ln_q.bias") ||
           load(m, &q->merger_fc1_w, px, M, M, err, "merger.mlp.0.weight") ||
           load(m, &q->merger_fc1_b, px, 1, M, err, "merger.mlp.0.bias") ||
           load(m, &q->merger_fc2_w, px, D, M, err, "merger.mlp.2.weight") ||
           load(m, &q->merger_fc2_b, px, 1, D, err, "merger.mlp.2.bias");
}

int model_load_decoder(struct model *m, struct error *err) {
    const struct text_config *t = &m->cfg.text;
    struct decoder_weights *d = &m->dec;
    const int qwen = m->cfg.arch == ARCH_QWEN2_VL;
    const char *const *px = qwen ? QWEN_TEXT : LLAVA_TEXT;
    const int D = t->hidden_size, I = t->intermediate_size, Hq = t->n_heads * t->head_dim, Hk = t->n_kv_heads * t->head_dim;
    if (load(m, &d->embed, px, t->vocab_size, D, err, "embed_tokens.weight") ||
        load(m, &d->norm, px, 1, D, err, "norm.weight"))
        return -1;
    if (t->tie_word_embeddings) {
        d->lm_head = d->embed;
        d->lm_head.owned = 0;
    } else if (load(m, &d->lm_head, qwen ? QWEN_HEAD : LLAVA_HEAD, t->vocab_size, D, err, "lm_head.weight")) {
        return -1;
    }
    d->layers = xcalloc((size_t)t->n_layers, sizeof *d->layers);
    for (int l = 0; l < t->n_layers; l++) {
        struct decoder_layer_weights *L = &d->layers[l];
        if (load(m, &L->in_norm, px, 1, D, err, "layers.%d.input_layernorm.weight", l) ||
            load(m, &L->q, px, Hq, D, err, "layers.%d.self_attn.q_proj.weight", l) ||
            load(m, &L->k, px, Hk, D, err, "layers.%d.self_attn.k_proj.weight", l) ||
            load(m, &L->v, px, Hk, D, err, "layers.%d.self_attn.v_proj.weight", l) ||
            load(m, &L->o, px, D, Hq, err, "layers.%d.self_attn.o_proj.weight", l) ||
            load(m, &L->post_norm, px, 1, D, err, "layers.%d.post_attention_layernorm.weight", l) ||
            load(m, &L->gate, px, I, D, err, "layers.%d.mlp.gate_proj.weight", l) ||
            load(m, &L->up, px, I, D, err, "layers.%d.mlp.up_proj.weight", l) ||
            load(m, &L->down, px, D, I, err, "layers.%d.mlp.down_proj.weight", l))
            return -1;
        if (t->qkv_bias && (load(m, &L->q_b, px, 1, Hq, err, "layers.%d.self_attn.q_proj.bias", l) ||
                            load(m, &L->k_b, px, 1, Hk, err, "layers.%d.self_attn.k_proj.bias", l) ||
                            load(m, &L->v_b, px, 1, Hk, err, "layers.%d.self_attn.v_proj.bias", l)))
            return -1;
    }
    return 0;
}

/* Widen weights to f32 at load when that costs little memory (small models): prefill then runs
   straight through sgemm. Large checkpoints stay in their stored dtype. */
#define WIDEN_LIMIT_BYTES ((size_t)2 << 30)

static uint64_t checkpoint_hash(const struct safetensors *st) {
    uint64_t h = FNV1A64_INIT;
    for (int i = 0; i < st->n_tensors; i++) {
        const struct st_tensor *t = &st->tensors[i];
        h = fnv1a64(t->name, strlen(t->name) + 1, h);
        h = fnv1a64(&t->dtype, sizeof t->dtype, h);
        h = fnv1a64(t->shape, sizeof t->shape[0] * (size_t)t->ndim, h);
        /* a sample of the bytes so retrained weights with the same shapes hash differently */
        size_t k = t->nbytes < 64 ? t->nbytes : 64;
        h = fnv1a64(t->data, k, h);
        h = fnv1a64((const char *)t->data + t->nbytes - k, k, h);
    }
    return h;
}

/* generation_config.json: only what changes greedy decoding. transformers applies its
   repetition_penalty even with do_sample=False, and lmms-eval does not override it
   (research/models.md §5.6). A missing file means defaults; a malformed one is an error. */
static int load_generation_config(struct model *m, const char *dir, struct error *err) {
    m->repetition_penalty = 1.0f;
    char *p = path_join(dir, "generation_config.json");
    int rc = 0;
    if (file_exists(p)) {
        cJSON *g = json_load_file(p, err);
        if (!g) rc = -1;
        else m->repetition_penalty = (float)json_num(g, "repetition_penalty", 1.0);
        cJSON_Delete(g);
    }
    free(p);
    return rc;
}

static int load_all(struct model *m, const char *dir, const struct model_options *opt, struct error *err) {
    char *p = path_join(dir, "config.json");
    int rc = model_config_load(&m->cfg, p, err);
    free(p);
    if (rc || load_generation_config(m, dir, err)) return -1;
    p = path_join(dir, "tokenizer.json");
    m->tok = tokenizer_load(p, err);
    free(p);
    if (!m->tok) return -1;
    p = path_join(dir, "preprocessor_config.json");
    rc = image_processor_load(&m->improc, p, err);
    free(p);
    if (rc) return -1;
    if (st_open_dir(&m->st, dir, err)) return -1;
    m->weights_hash = checkpoint_hash(&m->st);
    m->be = backend_create(opt ? &opt->backend : NULL, err);
    if (!m->be) return -1;
    if (m->be->weights_f32 < 0) {
        size_t f32_bytes = 0;
        for (int i = 0; i < m->st.n_tensors; i++) f32_bytes += (size_t)m->st.tensors[i].numel * 4;
        m->be->weights_f32 = f32_bytes <= WIDEN_LIMIT_BYTES;
    }
    if (m->cfg.arch == ARCH_QWEN2_VL) {
        if (load_qwen_vision(m, err)) return -1;
    } else if (load_clip(m, err) || load_projector(m, err)) {
        return -1;
    }
    return model_load_decoder(m, err);
}

struct model *model_load(const char *dir, const struct model_options *opt, struct error *err) {
    struct model *m = xcalloc(1, sizeof *m);
    m->dir = xstrdup(dir);
    if (load_all(m, dir, opt, err)) {
        error_wrap(err, "loading %s", dir);
        model_free(m);
        return NULL;
    }
    return m;
}

void model_free(struct model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_prepared; i++) m->be->ops->weight_release(m->be, m->prepared[i]);
    free(m->prepared);
    free(m->clip.layers);
    free(m->qvis.layers);
    free(m->dec.layers);
    backend_free(m->be);
    if (m->source) m->source->free(m->source);
    tokenizer_free(m->tok);
    st_close(&m->st);
    free(m->dir);
    free(m);
}
