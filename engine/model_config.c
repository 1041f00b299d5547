/* model_config.c: see model_config.h. Defaults cite research/models.md. */
#include "engine/model_config.h"

#include <stdio.h>
#include <string.h>

#include "engine/json.h"

const char *activation_name(enum activation a) {
    switch (a) {
    case ACT_GELU: return "gelu";
    case ACT_QUICK_GELU: return "quick_gelu";
    case ACT_SILU: return "silu";
    case ACT_GELU_TANH: return "gelu_pytorch_tanh";
    }
    return "?";
}

static int parse_act(const char *s, enum activation *a) {
    if (!strcmp(s, "gelu")) *a = ACT_GELU;
    else if (!strcmp(s, "quick_gelu")) *a = ACT_QUICK_GELU;
    else if (!strcmp(s, "silu") || !strcmp(s, "swish")) *a = ACT_SILU;
    else if (!strcmp(s, "gelu_pytorch_tanh") || !strcmp(s, "gelu_new")) *a = ACT_GELU_TANH;
    else return -1;
    return 0;
}

static int get_act(const cJSON *obj, const char *key, enum activation def, enum activation *out,
                   const char *where, struct error *err) {
    const char *s = json_str(obj, key, NULL);
    *out = def;
    if (s && parse_act(s, out)) return error_set(err, "%s: %s '%s' is not supported", where, key, s);
    return 0;
}

/* Look up key in the text config first, then at the top level (Qwen2-VL hub configs are flat). */
static const cJSON *text_field(const cJSON *text, const cJSON *root, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(text, key);
    if (!v && text != root) v = cJSON_GetObjectItemCaseSensitive(root, key);
    return v;
}

static int tint(const cJSON *text, const cJSON *root, const char *key, int def) {
    const cJSON *v = text_field(text, root, key);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : def;
}

static double tnum(const cJSON *text, const cJSON *root, const char *key, double def) {
    const cJSON *v = text_field(text, root, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* rope_theta: older files have "rope_theta", transformers v5 writes rope_parameters.rope_theta.
   M-RoPE sections sit in rope_scaling (hub) or rope_parameters (v5). */
static void load_rope(struct text_config *t, const cJSON *text, const cJSON *root, double def_theta) {
    t->rope_theta = tnum(text, root, "rope_theta", def_theta);
    const char *keys[] = {"rope_parameters", "rope_scaling"};
    for (int k = 0; k < 2; k++) {
        const cJSON *rp = text_field(text, root, keys[k]);
        if (!cJSON_IsObject(rp)) continue;
        t->rope_theta = json_num(rp, "rope_theta", t->rope_theta);
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(rp, "mrope_section");
        if (cJSON_IsArray(ms) && cJSON_GetArraySize(ms) == 3)
            for (int i = 0; i < 3; i++) t->mrope_section[i] = (int)cJSON_GetArrayItem(ms, i)->valuedouble;
    }
}

static int load_text(struct model_config *c, const cJSON *root, const char *path, struct error *err) {
    struct text_config *t = &c->text;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    if (!cJSON_IsObject(text)) text = root;
    const char *mt = json_str(text, "model_type", c->arch == ARCH_QWEN2_VL ? "qwen2" : "llama");
    /* Class defaults: LlamaConfig, MistralConfig, Qwen2VLConfig (research/models.md §2.1, §3, §5.1). */
    int vocab, hidden, inter, layers, heads, kv, maxpos, window = 0;
    double eps, theta;
    if (!strcmp(mt, "llama")) {
        t->arch = TEXT_LLAMA;
        vocab = 32000, hidden = 4096, inter = 11008, layers = 32, heads = 32, kv = -1, maxpos = 2048;
        eps = 1e-6, theta = 10000;
    } else if (!strcmp(mt, "mistral")) {
        t->arch = TEXT_MISTRAL;
        vocab = 32000, hidden = 4096, inter = 14336, layers = 32, heads = 32, kv = 8, maxpos = 4096 * 32;
        eps = 1e-6, theta = 10000, window = 4096;
    } else if (!strcmp(mt, "qwen2") || !strcmp(mt, "qwen2_vl") || !strcmp(mt, "qwen2_vl_text")) {
        t->arch = TEXT_QWEN2;
        vocab = 152064, hidden = 8192, inter = 29568, layers = 80, heads = 64, kv = 8, maxpos = 32768;
        eps = 1e-5, theta = 1e6;
    } else {
        return error_set(err, "%s: text model_type '%s' is not supported (llama, mistral, qwen2)", path, mt);
    }
    t->vocab_size = tint(text, root, "vocab_size", vocab);
    t->hidden_size = tint(text, root, "hidden_size", hidden);
    t->intermediate_size = tint(text, root, "intermediate_size", inter);
    t->n_layers = tint(text, root, "num_hidden_layers", layers);
    t->n_heads = tint(text, root, "num_attention_heads", heads);
    t->n_kv_heads = tint(text, root, "num_key_value_heads", kv < 0 ? t->n_heads : kv);
    t->head_dim = tint(text, root, "head_dim", t->n_heads > 0 ? t->hidden_size / t->n_heads : 0);
    t->rms_norm_eps = (float)tnum(text, root, "rms_norm_eps", eps);
    t->max_position_embeddings = tint(text, root, "max_position_embeddings", maxpos);
    load_rope(t, text, root, theta);
    if (t->arch == TEXT_MISTRAL) {
        const cJSON *sw = text_field(text, root, "sliding_window");
        t->sliding_window = cJSON_IsNumber(sw) ? (int)sw->valuedouble : cJSON_IsNull(sw) ? 0 : window;
    } else if (t->arch == TEXT_QWEN2) {
        const cJSON *use = text_field(text, root, "use_sliding_window");
        t->sliding_window = cJSON_IsTrue(use) ? tint(text, root, "sliding_window", 0) : 0;
    }
    const cJSON *tie = text_field(text, root, "tie_word_embeddings");
    const cJSON *top_tie = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
    t->tie_word_embeddings = cJSON_IsBool(top_tie) ? cJSON_IsTrue(top_tie) : cJSON_IsTrue(tie);
    t->qkv_bias = t->arch == TEXT_QWEN2 || cJSON_IsTrue(text_field(text, root, "attention_bias"));
    t->bos_token_id = tint(text, root, "bos_token_id", -1);
    t->eos_token_id = tint(text, root, "eos_token_id", -1);
    t->pad_token_id = tint(text, root, "pad_token_id", -1);
    if (get_act(text, "hidden_act", ACT_SILU, &t->hidden_act, path, err)) return -1;
    if (t->n_layers <= 0 || t->n_heads <= 0 || t->n_kv_heads <= 0 || t->n_heads % t->n_kv_heads ||
        t->head_dim <= 0 || t->hidden_size <= 0 || t->vocab_size <= 0)
        return error_set(err, "%s: inconsistent text config (layers %d, heads %d, kv heads %d, head_dim %d, hidden %d, vocab %d)",
                         path, t->n_layers, t->n_heads, t->n_kv_heads, t->head_dim, t->hidden_size, t->vocab_size);
    if (t->arch == TEXT_QWEN2 && c->arch == ARCH_QWEN2_VL &&
        t->mrope_section[0] + t->mrope_section[1] + t->mrope_section[2] != t->head_dim / 2)
        return error_set(err, "%s: mrope_section [%d, %d, %d] must sum to head_dim/2 = %d", path,
                         t->mrope_section[0], t->mrope_section[1], t->mrope_section[2], t->head_dim / 2);
    return 0;
}

static int load_vision(struct model_config *c, const cJSON *root, const char *path, struct error *err) {
    struct vision_config *v = &c->vision;
    const cJSON *vc = cJSON_GetObjectItemCaseSensitive(root, "vision_config");
    if (c->arch == ARCH_QWEN2_VL) {
        /* Qwen2VLVisionConfig defaults (research/models.md §5.1). */
        v->arch = VISION_QWEN2_VL;
        v->hidden_size = json_int(vc, "embed_dim", 1280);
        v->n_layers = json_int(vc, "depth", 32);
        v->n_heads = json_int(vc, "num_heads", 16);
        v->intermediate_size = v->hidden_size * json_int(vc, "mlp_ratio", 4);
        v->num_channels = json_int(vc, "in_channels", json_int(vc, "in_chans", 3));
        v->patch_size = json_int(vc, "patch_size", 14);
        v->spatial_merge_size = json_int(vc, "spatial_merge_size", 2);
        v->temporal_patch_size = json_int(vc, "temporal_patch_size", 2);
        v->out_hidden_size = json_int(vc, "hidden_size", 3584);
        v->layer_norm_eps = 1e-6f;
        if (get_act(vc, "hidden_act", ACT_QUICK_GELU, &v->hidden_act, path, err)) return -1;
    } else {
        /* CLIPVisionConfig class defaults, or LLaVA's default tower when vision_config is absent. */
        v->arch = VISION_CLIP;
        int absent = !cJSON_IsObject(vc);
        v->hidden_size = json_int(vc, "hidden_size", absent ? 1024 : 768);
        v->intermediate_size = json_int(vc, "intermediate_size", absent ? 4096 : 3072);
        v->n_layers = json_int(vc, "num_hidden_layers", absent ? 24 : 12);
        v->n_heads = json_int(vc, "num_attention_heads", absent ? 16 : 12);
        v->image_size = json_int(vc, "image_size", absent ? 336 : 224);
        v->patch_size = json_int(vc, "patch_size", absent ? 14 : 32);
        v->num_channels = json_int(vc, "num_channels", 3);
        v->layer_norm_eps = (float)json_num(vc, "layer_norm_eps", 1e-5);
        if (get_act(vc, "hidden_act", ACT_QUICK_GELU, &v->hidden_act, path, err)) return -1;
        const char *vmt = json_str(vc, "model_type", "clip_vision_model");
        if (strcmp(vmt, "clip_vision_model"))
            return error_set(err, "%s: vision_config.model_type '%s' is not supported (clip_vision_model)", path, vmt);
    }
    if (v->n_heads <= 0 || v->hidden_size % v->n_heads || v->patch_size <= 0 || v->n_layers <= 0)
        return error_set(err, "%s: inconsistent vision config (hidden %d, heads %d, patch %d, layers %d)", path,
                         v->hidden_size, v->n_heads, v->patch_size, v->n_layers);
    return 0;
}

static int load_pinpoints(struct model_config *c, const cJSON *root, const char *path, struct error *err) {
    static const int def[5][2] = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root, "image_grid_pinpoints");
    if (!cJSON_IsArray(pp)) {
        c->n_pinpoints = 5;
        memcpy(c->pinpoints, def, sizeof def);
        return 0;
    }
    int n = cJSON_GetArraySize(pp);
    if (n < 1 || n > 32) return error_set(err, "%s: image_grid_pinpoints has %d entries (1..32)", path, n);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(pp, i);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
            return error_set(err, "%s: image_grid_pinpoints[%d] is not [height, width]", path, i);
        c->pinpoints[i][0] = (int)cJSON_GetArrayItem(e, 0)->valuedouble;
        c->pinpoints[i][1] = (int)cJSON_GetArrayItem(e, 1)->valuedouble;
    }
    c->n_pinpoints = n;
    return 0;
}

int model_config_load(struct model_config *c, const char *path, struct error *err) {
    memset(c, 0, sizeof *c);
    cJSON *root = json_load_file(path, err);
    if (!root) return -1;
    int rc = 0;
    const char *mt = json_str(root, "model_type", NULL);
    if (!mt) rc = error_set(err, "%s: field 'model_type' missing", path);
    else if (!strcmp(mt, "llava")) c->arch = ARCH_LLAVA;
    else if (!strcmp(mt, "llava_next")) c->arch = ARCH_LLAVA_NEXT;
    else if (!strcmp(mt, "qwen2_vl")) c->arch = ARCH_QWEN2_VL;
    else rc = error_set(err, "%s: model_type '%s' is not supported (llava, llava_next, qwen2_vl)", path, mt);
    if (!rc) snprintf(c->model_type, sizeof c->model_type, "%s", mt);
    if (!rc) rc = load_text(c, root, path, err);
    if (!rc) rc = load_vision(c, root, path, err);
    if (!rc && c->arch == ARCH_QWEN2_VL) {
        c->image_token_id = json_int(root, "image_token_id", 151655);
        c->vision_start_token_id = json_int(root, "vision_start_token_id", 151652);
        c->vision_end_token_id = json_int(root, "vision_end_token_id", 151653);
    } else if (!rc) {
        c->image_token_id = json_int(root, "image_token_index", json_int(root, "image_token_id", 32000));
        const cJSON *fl = cJSON_GetObjectItemCaseSensitive(root, "vision_feature_layer");
        if (cJSON_IsArray(fl)) rc = error_set(err, "%s: a list vision_feature_layer is not supported", path);
        c->vision_feature_layer = json_int(root, "vision_feature_layer", -2);
        const char *strat = json_str(root, "vision_feature_select_strategy", "default");
        if (!strcmp(strat, "full")) c->select_strategy_full = 1;
        else if (strcmp(strat, "default"))
            rc = error_set(err, "%s: vision_feature_select_strategy '%s' is not supported", path, strat);
        if (!rc) rc = get_act(root, "projector_hidden_act", ACT_GELU, &c->projector_act, path, err);
        c->projector_bias = json_bool(root, "multimodal_projector_bias", 1);
        int nl = c->vision.n_layers;
        int fl_idx = c->vision_feature_layer < 0 ? nl + 1 + c->vision_feature_layer : c->vision_feature_layer;
        if (!rc && (fl_idx < 0 || fl_idx > nl))
            rc = error_set(err, "%s: vision_feature_layer %d out of range for %d layers", path, c->vision_feature_layer, nl);
        if (!rc && c->arch == ARCH_LLAVA_NEXT) rc = load_pinpoints(c, root, path, err);
    }
    cJSON_Delete(root);
    return rc;
}
