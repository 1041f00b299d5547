/*
 * model.h: a loaded multimodal model: config, mmap'd weights prepared on a backend, tokenizer
 * and image processor, and the forward passes built from backend ops.
 *
 *   model_load          a Hugging Face directory, as is (config.json, *.safetensors,
 *                       tokenizer.json, preprocessor_config.json)
 *   model_encode_image  preprocess + vision tower + projector -> image embeddings
 *   session_prefill     prompt embeddings through the decoder, building the (compressed) cache
 *   session_decode      one token through the decoder against the cache
 *
 * Weight names: hub checkpoints use the old layout (language_model.model.*, vision_tower.*,
 * multi_modal_projector.*, language_model.lm_head) and newer transformers saves the new one
 * (model.language_model.*, model.vision_tower.*, ..., lm_head); both are accepted
 * (research/models.md §2.2, §5.2).
 */
#ifndef SPARSEMM_MODEL_H
#define SPARSEMM_MODEL_H

#include "engine/backend.h"
#include "engine/image.h"
#include "engine/kv_cache.h"
#include "engine/kv_policy.h"
#include "engine/model_config.h"
#include "engine/preprocess.h"
#include "engine/safetensors.h"
#include "engine/tokenizer.h"

struct clip_layer_weights {
    struct weight ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};

struct clip_weights {
    struct weight patch_embed;  /* [hidden][3*patch*patch] (conv weight viewed as a matrix) */
    struct weight class_embed;  /* [1][hidden] */
    struct weight pos_embed;    /* [1+patches][hidden] */
    struct weight pre_ln_w, pre_ln_b;
    int n_run;                  /* layers to run: the feature layer's depth */
    struct clip_layer_weights *layers;
};

struct qwen2vl_vision_layer_weights {
    struct weight ln1_w, ln1_b, qkv_w, qkv_b, proj_w, proj_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};

struct qwen2vl_vision_weights {
    struct weight patch_embed;  /* [embed][3*T*P*P] (conv3d weight viewed as a matrix) */
    struct qwen2vl_vision_layer_weights *layers;
    struct weight merger_ln_w, merger_ln_b, merger_fc1_w, merger_fc1_b, merger_fc2_w, merger_fc2_b;
};

struct projector_weights {
    struct weight l1_w, l1_b, l2_w, l2_b;
    struct weight image_newline; /* LLaVA-NeXT [1][hidden], else unused */
};

struct decoder_layer_weights {
    struct weight in_norm, q, k, v, q_b, k_b, v_b, o, post_norm, gate, up, down;
};

struct decoder_weights {
    struct weight embed, norm, lm_head;
    struct decoder_layer_weights *layers;
};

/* Where a model built in memory gets its weights (engine/model_random.c): make fills w's name,
   dtype, shape and host bytes for the tensor `name` (a checkpoint name, e.g.
   "language_model.model.layers.0.mlp.up_proj.weight") of shape [rows][cols], or returns -1 with
   err; free releases the bytes and the source itself (model_free calls it last). */
struct weight_source {
    int (*make)(struct weight_source *src, const char *name, int64_t rows, int64_t cols, struct weight *w,
                struct error *err);
    void (*free)(struct weight_source *src);
};

struct model {
    char *dir;
    struct model_config cfg;
    struct safetensors st;
    struct tokenizer *tok;
    struct image_processor improc;
    struct backend *be;
    struct clip_weights clip;
    struct qwen2vl_vision_weights qvis;
    struct projector_weights proj;
    struct decoder_weights dec;
    float repetition_penalty;   /* generation_config.json (1 if absent): HF applies it even greedy */
    uint64_t weights_hash;      /* hash of names, shapes and sampled bytes: identifies the checkpoint */
    struct weight **prepared;   /* every weight prepared on the backend, released by model_free */
    int n_prepared;
    struct weight_source *source; /* NULL for a checkpoint; owned (model_create_random) */
};

struct model_options {
    struct backend_options backend;
};

/* Load a model directory. Errors name the file and the tensor/field. Caller frees with
   model_free. */
struct model *model_load(const char *dir, const struct model_options *opt, struct error *err);
void model_free(struct model *m);

/* The text decoder's weights (embeddings, layers, final norm, LM head) located, shape-checked
   and prepared: from the checkpoint, or from m->source when set. Used by model_load and by
   model_create_random, so both build exactly the same weight structs. */
int model_load_decoder(struct model *m, struct error *err);

/* A text-only model of the decoder shape cfg->text (the vision part of cfg is ignored) with
   seeded random weights of the given dtype (F32, F16, BF16), built in memory: for timing and
   memory measurements without a checkpoint (`sparsemm bench --random-weights`). Values are
   random signs and magnitudes 2^-9 .. 2^-5 (norm weights near 1), so activations stay finite
   in every dtype. No tokenizer or image processor; dir is "random:<label>". The same
   (cfg, dtype, seed) gives the same bytes whatever the thread count. Free with model_free. */
struct model *model_create_random(const struct model_config *cfg, enum dtype dtype, uint64_t seed, const char *label,
                                  const struct model_options *opt, struct error *err);

/* A named decoder shape: "llama2-7b" (the LLaVA-1.5-7B / Vicuna-7B text model: hidden 4096,
   32 heads of 128, MLP 11008), "mistral-7b" (LLaVA-NeXT-Mistral: 8 KV heads, MLP 14336) or
   "qwen2-7b" (Qwen2-VL-7B: hidden 3584, 28 heads, 4 KV heads, MLP 18944, q/k/v bias, M-RoPE),
   optionally followed by ":layers=N" to cut the depth. Errors name the unknown shape or key. */
int model_config_named(struct model_config *cfg, const char *spec, struct error *err);
/* The names model_config_named accepts, space separated. */
const char *model_config_names(void);

/* Image embeddings ready to splice into a prompt, plus the layout facts the head finder needs
   to map image regions to token indices. */
struct image_features {
    float *embeds;          /* backend [n_tokens][text hidden] */
    int n_tokens;
    int orig_w, orig_h;     /* decoded image size */
    int grid_h, grid_w;     /* LLaVA-1.5: patch grid; LLaVA-NeXT: unpadded high-res grid (rows, cols,
                               newline column not counted); Qwen2-VL: merged token grid */
    int base_tokens;        /* LLaVA-NeXT: overview tokens before the high-res grid; else 0 */
    int has_newline;        /* LLaVA-NeXT: one newline token ends every high-res row */
    int resized_w, resized_h; /* Qwen2-VL: smart_resize output */
};

int model_encode_image(struct model *m, const struct image *img, struct image_features *out, struct error *err);
void image_features_free(struct model *m, struct image_features *f);

/* A tokenized prompt with its image spliced in. */
struct prompt {
    int32_t *ids;           /* [n] host; image positions hold the image token id */
    int n;
    int image_start;        /* index of the first image token, -1 if none */
    int n_image_tokens;
    int32_t *mrope_pos;     /* Qwen2-VL: [3][n] t/h/w positions; NULL otherwise */
    int rope_delta;         /* Qwen2-VL: max position + 1 - n */
};

/* Build the prompt as the evaluation harness does: chat template (template_name NULL = the
   model's default), tokenize with BOS where the tokenizer adds one, expand the image token to
   feat->n_tokens copies (feat NULL = text only). */
int prompt_build(struct model *m, const char *question, const struct image_features *feat,
                 const char *template_name, struct prompt *out, struct error *err);
void prompt_free(struct prompt *p);
/* Names of the chat templates, and the default for this model. */
const char *prompt_template_names(void);
const char *prompt_default_template(const struct model *m);

/* Decoding state: the KV cache and where positions stand. */
struct session {
    struct model *m;
    struct kv_cache cache;
    const struct kv_policy *policy;
    int n_past;             /* tokens seen (uncompressed length): decode positions continue here */
    int rope_delta;
    /* scratch for one decode step (backend) */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2, *logits_dev;
    float *cos_dev, *sin_dev;
    int32_t *argmax_dev;    /* [n_heads] */
};

struct prefill_stats {
    double ms;
    int64_t kv_rows, kv_bytes;   /* after compression */
    int64_t *layer_rows;         /* [n_layers], owned by the caller if non-NULL on entry */
};

void session_init(struct session *s, struct model *m, enum dtype kv_dtype, int decode_reserve);
void session_free(struct session *s);
/* Run the prompt; logits (host [vocab]) of its last token. policy NULL = full cache. */
int session_prefill(struct session *s, const struct prompt *p, const struct image_features *feat,
                    const struct kv_policy *policy, float *logits, struct prefill_stats *st, struct error *err);
/* One token; logits (host [vocab]). argmax_pos (host [n_layers][n_heads]) or NULL: per layer and
   query head, the sequence position of the key with the largest attention weight. */
int session_decode(struct session *s, int32_t token, float *logits, int32_t *argmax_pos, struct error *err);

#endif
