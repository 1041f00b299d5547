/*
 * model_random.c: a text decoder with seeded random weights, built in memory, so that speed
 * and memory can be measured at a real model's shape without a checkpoint (the efficiency
 * experiment feeds synthetic text prompts anyway, research/sparsemm.md §5.4).
 *
 * The weight structs are set up by the same code as a loaded checkpoint
 * (model_load_decoder in model.c); only the bytes come from here, through a weight_source.
 * Every value is a random bit pattern (random sign, exponent 2^-9 .. 2^-6, random mantissa),
 * generated directly in the stored dtype; vectors named "*norm*" hold values in [1, 1.125).
 * Element i of a tensor depends only on (seed, tensor name, i), never on the thread count.
 *
 * Named shapes follow the checkpoints the paper measures (research/models.md §2.1, §3, §5.1):
 * the LLaVA-1.5 / LLaVA-NeXT-Vicuna text model (Llama-2-7B shape, vocabulary 32064 after the
 * conversion's padding), LLaVA-NeXT-Mistral's Mistral-7B-Instruct-v0.2 (no sliding window,
 * rope theta 1e6: the values research/models.md marks unverified) and Qwen2-VL-7B's Qwen2-7B.
 */
#include "engine/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Named shapes */

static void llama2_7b(struct model_config *c) {
    c->arch = ARCH_LLAVA;
    snprintf(c->model_type, sizeof c->model_type, "llava");
    c->image_token_id = 32000;
    struct text_config *t = &c->text;
    *t = (struct text_config){.arch = TEXT_LLAMA, .vocab_size = 32064, .hidden_size = 4096,
                              .intermediate_size = 11008, .n_layers = 32, .n_heads = 32, .n_kv_heads = 32,
                              .head_dim = 128, .rms_norm_eps = 1e-5f, .rope_theta = 10000.0,
                              .max_position_embeddings = 4096, .hidden_act = ACT_SILU, .bos_token_id = 1,
                              .eos_token_id = 2, .pad_token_id = 32001};
}

static void mistral_7b(struct model_config *c) {
    llama2_7b(c);
    c->arch = ARCH_LLAVA_NEXT;
    snprintf(c->model_type, sizeof c->model_type, "llava_next");
    c->text.arch = TEXT_MISTRAL;
    c->text.intermediate_size = 14336;
    c->text.n_kv_heads = 8;
    c->text.rope_theta = 1e6;
    c->text.max_position_embeddings = 32768;
}

static void qwen2_7b(struct model_config *c) {
    c->arch = ARCH_QWEN2_VL;
    snprintf(c->model_type, sizeof c->model_type, "qwen2_vl");
    c->image_token_id = 151655;
    c->vision_start_token_id = 151652;
    c->vision_end_token_id = 151653;
    struct text_config *t = &c->text;
    *t = (struct text_config){.arch = TEXT_QWEN2, .vocab_size = 152064, .hidden_size = 3584,
                              .intermediate_size = 18944, .n_layers = 28, .n_heads = 28, .n_kv_heads = 4,
                              .head_dim = 128, .rms_norm_eps = 1e-6f, .rope_theta = 1e6,
                              .max_position_embeddings = 32768, .qkv_bias = 1, .hidden_act = ACT_SILU,
                              .mrope_section = {16, 24, 24}, .bos_token_id = 151643, .eos_token_id = 151645,
                              .pad_token_id = -1};
}

static const struct {
    const char *name;
    void (*fill)(struct model_config *c);
} SHAPES[] = {{"llama2-7b", llama2_7b}, {"mistral-7b", mistral_7b}, {"qwen2-7b", qwen2_7b}};

const char *model_config_names(void) { return "llama2-7b mistral-7b qwen2-7b"; }

int model_config_named(struct model_config *cfg, const char *spec, struct error *err) {
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    memset(cfg, 0, sizeof *cfg);
    int found = 0;
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0] && !found; i++)
        if (strlen(SHAPES[i].name) == len && !strncmp(SHAPES[i].name, spec, len)) {
            SHAPES[i].fill(cfg);
            found = 1;
        }
    if (!found)
        return error_set(err, "'%.*s' is not a known model shape (known: %s)", (int)len, spec, model_config_names());
    if (!colon) return 0;
    int layers, used = 0;
    if (sscanf(colon + 1, "layers=%d%n", &layers, &used) != 1 || colon[1 + used] != 0 || layers < 1 ||
        layers > cfg->text.n_layers)
        return error_set(err, "'%s': expected %.*s:layers=N with 1 <= N <= %d", spec, (int)len, spec,
                         cfg->text.n_layers);
    cfg->text.n_layers = layers;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Random weights */

struct random_source {
    struct weight_source base;
    enum dtype dtype;
    uint64_t seed;
    int n;
    void **bytes;   /* [n] each weight's host bytes */
    char **names;   /* [n] */
};

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* One value's bit pattern from 21 random bits: sign, exponent -9..-6 (2 bits) and the top
   mantissa bits; `unit` gives [1, 1.125) instead (norm weights). */
static uint16_t half_bits(uint32_t r, enum dtype t, int unit) {
    const uint32_t sign = r & 1, e2 = (r >> 1) & 3, mant = r >> 3; /* 18 mantissa bits available */
    if (t == DT_F16)
        return unit ? (uint16_t)(15u << 10 | (mant & 0x7f))
                    : (uint16_t)(sign << 15 | (uint32_t)(15 - 9 + e2) << 10 | (mant & 0x3ff));
    return unit ? (uint16_t)(127u << 7 | (mant & 0xf)) : (uint16_t)(sign << 15 | (127 - 9 + e2) << 7 | (mant & 0x7f));
}

static uint32_t f32_bits(uint64_t r, int unit) {
    const uint32_t sign = (uint32_t)(r & 1), e2 = (uint32_t)(r >> 1) & 3, mant = (uint32_t)(r >> 3) & 0x7fffff;
    return unit ? (127u << 23 | (mant >> 3)) : (sign << 31 | (127 - 9 + e2) << 23 | mant);
}

/* n values of dtype t into dst: three 21-bit draws per 64-bit random number for half types. */
static void fill_random(void *dst, enum dtype t, size_t n, uint64_t key, int unit) {
    const size_t per = t == DT_F32 ? 1 : 3, groups = (n + per - 1) / per;
#pragma omp parallel for schedule(static)
    for (size_t g = 0; g < groups; g++) {
        uint64_t r = splitmix64(key ^ (g * 0xd1b54a32d192ed03ULL));
        for (size_t k = 0; k < per && g * per + k < n; k++) {
            size_t i = g * per + k;
            if (t == DT_F32) ((uint32_t *)dst)[i] = f32_bits(r, unit);
            else ((uint16_t *)dst)[i] = half_bits((uint32_t)(r >> (21 * k)) & 0x1fffff, t, unit);
        }
    }
}

static int random_make(struct weight_source *src, const char *name, int64_t rows, int64_t cols, struct weight *w,
                       struct error *err) {
    struct random_source *rs = (struct random_source *)src;
    const size_t n = (size_t)(rows * cols), bytes = n * dtype_size(rs->dtype);
    void *data = NULL;
    if (posix_memalign(&data, 64, bytes ? bytes : 64) != 0)
        return error_set(err, "%s: cannot allocate %zu bytes of random weights", name, bytes);
    fill_random(data, rs->dtype, n, splitmix64(rs->seed ^ fnv1a64(name, strlen(name), FNV1A64_INIT)),
                strstr(name, "norm") != NULL);
    rs->bytes = xrealloc(rs->bytes, sizeof *rs->bytes * (size_t)(rs->n + 1));
    rs->names = xrealloc(rs->names, sizeof *rs->names * (size_t)(rs->n + 1));
    rs->bytes[rs->n] = data;
    rs->names[rs->n] = xstrdup(name);
    *w = (struct weight){.name = rs->names[rs->n], .dtype = rs->dtype, .rows = rows, .cols = cols, .host = data};
    rs->n++;
    return 0;
}

static void random_free(struct weight_source *src) {
    struct random_source *rs = (struct random_source *)src;
    for (int i = 0; i < rs->n; i++) {
        free(rs->bytes[i]);
        free(rs->names[i]);
    }
    free(rs->bytes);
    free(rs->names);
    free(rs);
}

/* Identity of a random model: the decoder shape, dtype and seed. */
static uint64_t random_hash(const struct text_config *t, enum dtype dtype, uint64_t seed) {
    const int64_t fields[] = {t->arch, t->vocab_size, t->hidden_size, t->intermediate_size, t->n_layers, t->n_heads,
                              t->n_kv_heads, t->head_dim, t->qkv_bias, t->tie_word_embeddings, dtype};
    uint64_t h = fnv1a64("random", 6, FNV1A64_INIT);
    h = fnv1a64(fields, sizeof fields, h);
    return fnv1a64(&seed, sizeof seed, h);
}

struct model *model_create_random(const struct model_config *cfg, enum dtype dtype, uint64_t seed, const char *label,
                                  const struct model_options *opt, struct error *err) {
    const struct text_config *t = &cfg->text;
    if (dtype != DT_F32 && dtype != DT_F16 && dtype != DT_BF16) {
        error_set(err, "random weights: unknown dtype %d", (int)dtype);
        return NULL;
    }
    if (t->n_layers < 1 || t->n_heads < 1 || t->n_kv_heads < 1 || t->n_heads % t->n_kv_heads || t->head_dim < 2 ||
        t->head_dim % 2 || t->hidden_size < 1 || t->intermediate_size < 1 || t->vocab_size < 1) {
        error_set(err, "random weights: bad decoder shape (%d layers, %d heads / %d KV heads of %d, hidden %d, MLP %d, "
                       "vocabulary %d)", t->n_layers, t->n_heads, t->n_kv_heads, t->head_dim, t->hidden_size,
                  t->intermediate_size, t->vocab_size);
        return NULL;
    }
    struct model *m = xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    m->dir = xasprintf("random:%s", label ? label : "model");
    m->repetition_penalty = 1.0f;
    m->weights_hash = random_hash(t, dtype, seed);
    struct random_source *rs = xcalloc(1, sizeof *rs);
    rs->base = (struct weight_source){.make = random_make, .free = random_free};
    rs->dtype = dtype;
    rs->seed = seed;
    m->source = &rs->base;
    m->be = backend_create(opt ? &opt->backend : NULL, err);
    if (m->be && m->be->weights_f32 < 0) m->be->weights_f32 = 0; /* auto: measure the dtype asked for */
    if (!m->be || model_load_decoder(m, err)) {
        error_wrap(err, "random %s model", label ? label : "");
        model_free(m);
        return NULL;
    }
    return m;
}
