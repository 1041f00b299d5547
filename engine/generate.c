/*
 * generate.c: see generate.h.
 *
 * With want_argmax the prompt is prefilled without its last token, which is then fed as the
 * first decode step: the first answer token's attention row is then available from the decode
 * op, exactly as the official head-finding script does it (research/sparsemm.md §1.4: prefill
 * on input_ids[:, :-1], then the last prompt token first). The logits are the same either way.
 */
#include "engine/generate.h"

#include <stdlib.h>
#include <string.h>

static int32_t argmax_logits(const float *logits, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

/* HF RepetitionPenaltyLogitsProcessor over the prompt and the tokens generated so far. */
static void penalise(float *logits, int vocab, const int32_t *ids, int n, const int32_t *gen, int ng, float p,
                     uint8_t *seen) {
    memset(seen, 0, (size_t)vocab);
    for (int i = 0; i < n; i++) seen[ids[i]] = 1;
    for (int i = 0; i < ng; i++) seen[gen[i]] = 1;
    for (int v = 0; v < vocab; v++)
        if (seen[v]) logits[v] = logits[v] < 0 ? logits[v] * p : logits[v] / p;
}

int generate(struct session *s, const struct prompt *p, const struct image_features *feat,
             const struct gen_options *opt, struct gen_result *out, struct error *err) {
    struct model *m = s->m;
    const struct text_config *t = &m->cfg.text;
    const int V = t->vocab_size, LH = t->n_layers * t->n_heads;
    memset(out, 0, sizeof *out);
    out->n_prompt = p->n;
    out->n_image_tokens = p->n_image_tokens;
    out->tokens = xmalloc(sizeof *out->tokens * (size_t)(opt->max_new_tokens + 1));
    out->layer_rows = xcalloc((size_t)t->n_layers, sizeof *out->layer_rows);
    int32_t eos = opt->eos_id >= 0 ? opt->eos_id : tokenizer_eos_id(m->tok);
    if (eos < 0) eos = t->eos_token_id;
    float *logits = xmalloc(sizeof *logits * (size_t)V);
    int32_t *argmax = opt->want_argmax ? xmalloc(sizeof *argmax * (size_t)LH) : NULL;
    uint8_t *seen = opt->repetition_penalty != 1.0f && opt->repetition_penalty > 0 ? xmalloc((size_t)V) : NULL;
    int rc = 0;

    /* Prefill (all but the last token when the first step's attention row is wanted). */
    struct prompt head = *p;
    int32_t *head_mrope = NULL;
    if (argmax && p->n > 1) {
        head.n = p->n - 1;
        if (p->mrope_pos) { /* [3][n] -> [3][n-1]: each stream loses its last position */
            head_mrope = xmalloc(sizeof *head_mrope * (size_t)head.n * 3);
            for (int k = 0; k < 3; k++)
                memcpy(head_mrope + (size_t)k * head.n, p->mrope_pos + (size_t)k * p->n,
                       sizeof *head_mrope * (size_t)head.n);
            head.mrope_pos = head_mrope;
        }
    }
    struct prefill_stats ps = {.layer_rows = out->layer_rows};
    if (session_prefill(s, &head, feat, opt->policy, logits, &ps, err)) rc = -1;
    free(head_mrope);
    out->prefill_ms = ps.ms;
    out->kv_rows = ps.kv_rows;
    out->kv_bytes = ps.kv_bytes;
    double t0 = now_ms();
    if (!rc && head.n < p->n) {
        rc = session_decode(s, p->ids[p->n - 1], logits, argmax, err);
        out->n_decode_steps++;
    }
    for (int step = 0; !rc && step < opt->max_new_tokens; step++) {
        if (seen) penalise(logits, V, p->ids, p->n, out->tokens, out->n_tokens, opt->repetition_penalty, seen);
        int32_t tok = argmax_logits(logits, V);
        int stop = opt->on_token && opt->on_token(opt->hook_ctx, step, tok, argmax);
        if (tok == eos || stop) break;
        out->tokens[out->n_tokens++] = tok;
        if (step + 1 == opt->max_new_tokens) break;
        rc = session_decode(s, tok, logits, argmax, err);
        out->n_decode_steps++;
    }
    out->decode_ms = now_ms() - t0;
    free(logits);
    free(argmax);
    free(seen);
    if (rc) {
        gen_result_free(out);
        return -1;
    }
    out->text = tokenizer_decode(m->tok, out->tokens, out->n_tokens, 1);
    return 0;
}

void gen_result_free(struct gen_result *r) {
    if (!r) return;
    free(r->tokens);
    free(r->text);
    free(r->layer_rows);
    memset(r, 0, sizeof *r);
}
