/*
 * prompt.c: turning a question (and an image) into the token ids the model sees, the way the
 * evaluation harness does (research/models.md §2.5, §4.5, §5.6):
 *
 *   vicuna            lmms-eval's VICUNA_CHAT_TEMPLATE, used for LLaVA checkpoints whose
 *                     tokenizer has no chat_template (also LLaVA's conv_vicuna_v1):
 *                     "A chat between ... USER: <image>\n{q} ASSISTANT:"
 *   llava-hf          llava-hf's own chat template: "USER: <image>\n{q} ASSISTANT:"
 *   mistral_instruct  "[INST] <image>\n{q} [/INST]"
 *   qwen2             Qwen2-VL chat with the default system message and the image before the text
 *   plain             "<image>\n{q}"
 *
 * Jinja is not interpreted: a tokenizer's chat_template is recognised by its markers and
 * mapped to one of these, and --template overrides. The single image placeholder is then
 * expanded to as many image tokens as the image has embeddings (what the HF processors do
 * before tokenizing; the placeholder is a special token, so expanding before or after
 * tokenizing gives the same ids).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model.h"

struct template {
    const char *name;
    const char *with_image; /* %s = question */
    const char *text_only;
};

static const struct template TEMPLATES[] = {
    {"vicuna",
     "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, "
     "and polite answers to the user's questions. USER: <image>\n%s ASSISTANT:",
     "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, "
     "and polite answers to the user's questions. USER: %s ASSISTANT:"},
    {"llava-hf", "USER: <image>\n%s ASSISTANT:", "USER: %s ASSISTANT:"},
    {"mistral_instruct", "[INST] <image>\n%s [/INST]", "[INST] %s [/INST]"},
    {"qwen2",
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
     "<|vision_start|><|image_pad|><|vision_end|>%s<|im_end|>\n<|im_start|>assistant\n",
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n"
     "<|im_start|>assistant\n"},
    {"plain", "<image>\n%s", "%s"},
};
#define N_TEMPLATES (sizeof TEMPLATES / sizeof TEMPLATES[0])

const char *prompt_template_names(void) { return "vicuna, llava-hf, mistral_instruct, qwen2, plain"; }

const char *prompt_default_template(const struct model *m) {
    if (m->cfg.arch == ARCH_QWEN2_VL) return "qwen2";
    const char *ct = tokenizer_chat_template(m->tok);
    if (ct) {
        if (strstr(ct, "[INST]")) return "mistral_instruct";
        if (strstr(ct, "<|im_start|>")) return "qwen2";
        if (strstr(ct, "USER:") && !strstr(ct, "A chat between")) return "llava-hf";
    } else if (m->cfg.text.arch == TEXT_MISTRAL) {
        return "mistral_instruct";
    }
    return "vicuna";
}

/* Qwen2-VL get_rope_index for one image: text positions count up; the image's tokens take
   (t, h, w) = (base, base + row, base + col); text after it continues from max + 1. */
static void qwen_positions(struct prompt *p, const struct image_features *feat) {
    const int n = p->n;
    p->mrope_pos = xmalloc(sizeof *p->mrope_pos * (size_t)n * 3);
    int32_t *t = p->mrope_pos, *h = t + n, *w = h + n;
    int next = 0, i = 0;
    for (; i < (feat ? p->image_start : n); i++) t[i] = h[i] = w[i] = next++;
    if (feat) {
        const int base = next;
        for (int r = 0; r < feat->grid_h; r++)
            for (int c = 0; c < feat->grid_w; c++, i++) {
                t[i] = base;
                h[i] = base + r;
                w[i] = base + c;
            }
        next = base + (feat->grid_h > feat->grid_w ? feat->grid_h : feat->grid_w);
        for (; i < n; i++) t[i] = h[i] = w[i] = next++;
    }
    p->rope_delta = next - n;
}

int prompt_build(struct model *m, const char *question, const struct image_features *feat, const char *template_name,
                 struct prompt *out, struct error *err) {
    memset(out, 0, sizeof *out);
    out->image_start = -1;
    const char *name = template_name ? template_name : prompt_default_template(m);
    const struct template *tpl = NULL;
    for (size_t i = 0; i < N_TEMPLATES && !tpl; i++)
        if (!strcmp(TEMPLATES[i].name, name)) tpl = &TEMPLATES[i];
    if (!tpl) return error_set(err, "unknown chat template '%s' (known: %s)", name, prompt_template_names());
    char *text = xasprintf(feat ? tpl->with_image : tpl->text_only, question);
    int32_t *ids = NULL;
    int n = tokenizer_encode(m->tok, text, 1, &ids);
    free(text);
    const int32_t img = m->cfg.image_token_id;
    int found = -1, count = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] == img) {
            if (found < 0) found = i;
            count++;
        }
    if (!feat) {
        if (count) {
            free(ids);
            return error_set(err, "the prompt contains the image token but no image was given");
        }
        out->ids = ids;
        out->n = n;
    } else {
        if (count != 1) {
            free(ids);
            return error_set(err, "template '%s' produced %d image tokens (id %d); expected exactly one", name, count, img);
        }
        out->n = n - 1 + feat->n_tokens;
        out->ids = xmalloc(sizeof *out->ids * (size_t)out->n);
        memcpy(out->ids, ids, sizeof *ids * (size_t)found);
        for (int i = 0; i < feat->n_tokens; i++) out->ids[found + i] = img;
        memcpy(out->ids + found + feat->n_tokens, ids + found + 1, sizeof *ids * (size_t)(n - found - 1));
        out->image_start = found;
        out->n_image_tokens = feat->n_tokens;
        free(ids);
    }
    if (m->cfg.arch == ARCH_QWEN2_VL) qwen_positions(out, feat);
    return 0;
}

void prompt_free(struct prompt *p) {
    if (!p) return;
    free(p->ids);
    free(p->mrope_pos);
    memset(p, 0, sizeof *p);
}
