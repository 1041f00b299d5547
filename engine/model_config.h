/*
 * model_config.h: config.json of a Hugging Face MLLM directory as a typed struct.
 *
 * The hub configs are sparse: missing keys take the defaults of the transformers config
 * classes (LlamaConfig, MistralConfig, Qwen2VLConfig, CLIPVisionConfig), hard-coded here from
 * research/models.md §2.1, §3, §5.1. Supported: model_type "llava" (LLaVA-1.5), "llava_next"
 * (LLaVA-NeXT) and "qwen2_vl" (Qwen2-VL), with llama, mistral and qwen2 text models.
 */
#ifndef SPARSEMM_MODEL_CONFIG_H
#define SPARSEMM_MODEL_CONFIG_H

#include "engine/util.h"

enum model_arch { ARCH_LLAVA, ARCH_LLAVA_NEXT, ARCH_QWEN2_VL };
enum text_arch { TEXT_LLAMA, TEXT_MISTRAL, TEXT_QWEN2 };
enum vision_arch { VISION_CLIP, VISION_QWEN2_VL };
enum activation { ACT_GELU, ACT_QUICK_GELU, ACT_SILU, ACT_GELU_TANH };

struct text_config {
    enum text_arch arch;
    int vocab_size, hidden_size, intermediate_size;
    int n_layers, n_heads, n_kv_heads, head_dim;
    float rms_norm_eps;
    double rope_theta;
    int max_position_embeddings;
    int sliding_window;      /* 0 = none */
    int tie_word_embeddings;
    int qkv_bias;            /* Qwen2: q/k/v projections have bias */
    enum activation hidden_act;
    int mrope_section[3];    /* Qwen2-VL M-RoPE sections over frequency indices, else zeros */
    int bos_token_id, eos_token_id, pad_token_id; /* -1 when absent */
};

struct vision_config {
    enum vision_arch arch;
    int hidden_size, intermediate_size, n_layers, n_heads;
    int image_size, patch_size, num_channels;
    float layer_norm_eps;
    enum activation hidden_act;
    /* Qwen2-VL */
    int spatial_merge_size, temporal_patch_size, out_hidden_size;
};

struct model_config {
    enum model_arch arch;
    char model_type[32];
    struct text_config text;
    struct vision_config vision;
    int image_token_id;
    int vision_feature_layer;         /* -2 for LLaVA */
    int select_strategy_full;         /* vision_feature_select_strategy == "full" */
    enum activation projector_act;    /* LLaVA projector */
    int projector_bias;
    int n_pinpoints;                  /* LLaVA-NeXT image_grid_pinpoints (height, width) */
    int pinpoints[32][2];
    /* Qwen2-VL special tokens */
    int vision_start_token_id, vision_end_token_id;
};

int model_config_load(struct model_config *c, const char *config_json_path, struct error *err);
const char *activation_name(enum activation a);

#endif
