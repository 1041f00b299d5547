/*
 * head_finder.c: see head_finder.h. The per-step rule follows visual_head/llava_visual_head.py
 * and visual_head/qwen_visual_head.py (decode, hit_score; research/sparsemm.md §1.3-1.4):
 *
 *   token = argmax of the logits; stop at EOS before matching;
 *   count the chunks whose text contains the token's string; if exactly one:
 *       for every layer and query head, top-1 key of the row that produced the token;
 *       if it is in the chunk's image tokens R: score += 1 / |R|.
 *
 * generate() with want_argmax prefills the prompt without its last token and feeds that token as
 * the first decode step, as the LLaVA script does; for Qwen2-VL, whose script reads step 0 from
 * the prefill's last row, that is the same attention row.
 */
#include "methods/head_finder.h"

#include <stdlib.h>
#include <string.h>

#include "engine/generate.h"

const char head_finder_prompt[] = "Provide all the OCR results of this image.";

enum token_text token_text_official(enum model_arch arch) {
    return arch == ARCH_QWEN2_VL ? TOKEN_TEXT_DECODED : TOKEN_TEXT_RAW;
}

const char *token_text_name(enum token_text t) { return t == TOKEN_TEXT_RAW ? "raw" : "decoded"; }

int token_text_parse(const char *name, enum token_text *out) {
    if (!strcmp(name, "raw")) *out = TOKEN_TEXT_RAW;
    else if (!strcmp(name, "decoded")) *out = TOKEN_TEXT_DECODED;
    else return -1;
    return 0;
}

char *token_text_of(const struct tokenizer *tok, int32_t id, enum token_text mode) {
    if (mode == TOKEN_TEXT_DECODED) return tokenizer_decode(tok, &id, 1, 0);
    const char *piece = tokenizer_id_to_piece(tok, id);
    return piece ? xstrdup(piece) : NULL;
}

int match_region(const char *token, const struct text_region *regions, int n) {
    int found = -1, count = 0;
    for (int i = 0; i < n; i++)
        if (strstr(regions[i].text, token)) {
            found = i;
            count++;
        }
    return count == 1 ? found : -1;
}

int head_tally_init(struct head_tally *t, int n_layers, int n_heads, const struct token_grid *grid,
                    const struct text_region *regions, int n_regions, struct error *err) {
    *t = (struct head_tally){.n_layers = n_layers, .n_heads = n_heads, .regions = regions, .n_regions = n_regions,
                             .grid = *grid};
    t->rects = xcalloc((size_t)(n_regions > 0 ? n_regions : 1), sizeof *t->rects);
    t->score = xcalloc((size_t)n_layers * n_heads, sizeof *t->score);
    for (int i = 0; i < n_regions; i++) {
        const struct text_region *r = &regions[i];
        if (box_token_rect(grid, r->x0, r->y0, r->x1, r->y1, &t->rects[i], err)) {
            head_tally_free(t);
            return error_wrap(err, "OCR chunk %d (\"%.40s\")", i, r->text);
        }
    }
    return 0;
}

void head_tally_add(struct head_tally *t, const char *text, const int32_t *argmax) {
    t->n_tokens++;
    int c = text ? match_region(text, t->regions, t->n_regions) : -1;
    if (c < 0) return;
    t->n_matched++;
    const struct token_rect *r = &t->rects[c];
    const int n = token_rect_count(r);
    for (int i = 0; i < t->n_layers * t->n_heads; i++)
        if (token_rect_contains(&t->grid, r, argmax[i])) {
            t->score[i] += 1.0 / n;
            t->n_hits++;
        }
}

void head_tally_free(struct head_tally *t) {
    if (!t) return;
    free(t->rects);
    free(t->score);
    memset(t, 0, sizeof *t);
}

void head_finder_options_init(struct head_finder_options *o, const struct model *m) {
    *o = (struct head_finder_options){.max_new_tokens = 1024, .token_text = token_text_official(m->cfg.arch)};
}

/* generate()'s per-token hook. */
struct hook {
    struct head_tally *tally;
    const struct tokenizer *tok;
    const struct head_finder_options *o;
    int32_t eos;
    int stopped;
};

static int on_token(void *ctx, int step, int32_t token, const int32_t *argmax) {
    struct hook *h = ctx;
    if (h->o->stop && *h->o->stop) {
        h->stopped = 1;
        return 1;
    }
    if (token == h->eos) return 0; /* generate stops; the scripts break before matching */
    char *text = token_text_of(h->tok, token, h->o->token_text);
    head_tally_add(h->tally, text, argmax);
    free(text);
    if (h->o->on_token) h->o->on_token(h->o->ctx, step + 1);
    return 0;
}

int head_finder_run(struct model *m, const struct image *img, const struct text_region *regions, int n_regions,
                    const struct head_finder_options *o, struct head_sample *out, struct error *err) {
    memset(out, 0, sizeof *out);
    const struct text_config *t = &m->cfg.text;
    struct image_features feat;
    if (model_encode_image(m, img, &feat, err)) return -1;
    struct prompt p = {0};
    struct token_grid grid;
    struct head_tally tally = {0};
    int rc = -1;
    if (prompt_build(m, head_finder_prompt, &feat, o->template_name, &p, err) ||
        token_grid_init(&grid, m->cfg.arch, &feat, p.image_start, err) ||
        head_tally_init(&tally, t->n_layers, t->n_heads, &grid, regions, n_regions, err)) {
        prompt_free(&p);
        image_features_free(m, &feat);
        return -1;
    }
    int32_t eos = tokenizer_eos_id(m->tok);
    if (eos < 0) eos = t->eos_token_id;
    struct hook h = {.tally = &tally, .tok = m->tok, .o = o, .eos = eos};
    /* The scripts take the plain argmax of the logits: no repetition penalty. */
    struct gen_options go = {.max_new_tokens = o->max_new_tokens, .eos_id = eos, .repetition_penalty = 1.0f,
                             .on_token = on_token, .hook_ctx = &h, .want_argmax = 1};
    struct session s;
    session_init(&s, m, DT_F32, o->max_new_tokens + 1);
    struct gen_result r = {0};
    if (generate(&s, &p, &feat, &go, &r, err) == 0) {
        rc = h.stopped ? 1 : 0;
        if (!h.stopped) {
            *out = (struct head_sample){.score = tally.score, .tokens = r.tokens, .n_generated = r.n_tokens,
                                        .n_matched = tally.n_matched, .n_hits = tally.n_hits, .text = r.text};
            tally.score = NULL;
            r.tokens = NULL;
            r.text = NULL;
        }
    }
    gen_result_free(&r);
    session_free(&s);
    head_tally_free(&tally);
    prompt_free(&p);
    image_features_free(m, &feat);
    return rc;
}

void head_sample_free(struct head_sample *s) {
    if (!s) return;
    free(s->score);
    free(s->tokens);
    free(s->text);
    memset(s, 0, sizeof *s);
}
