/*
 * policy.h: one method, with its budget and parameters, applied to one model for one run: the
 * object the engine consults at prefill (through engine/kv_policy.h) and the `allocation`
 * command inspects.
 *
 * A run is a sequence of prompts (a sweep's samples, or one `generate`). The policy holds what
 * lasts for the run: the resolved parameters, allocation tables computed once (SparseMM's global
 * allocation, the mask ablation's head set), per-run state such as the official PyramidKV
 * schedule frozen at the first prompt, and scratch memory reused across layers. Use one policy
 * per stream of prompts; its select calls must not run concurrently.
 *
 * Per compressed layer, select does: check the statistics against the model's shape -> score the
 * candidates (window_score.h, or H2O's accumulated attention) -> method capacity -> method choice.
 * A layer is not compressed (every head keeps all n tokens) when the prompt is shorter than the
 * budget, or whatever the method's own rule says.
 */
#ifndef SPARSEMM_POLICY_H
#define SPARSEMM_POLICY_H

#include <stddef.h>

#include "engine/kv_policy.h"
#include "methods/head_scores.h"
#include "methods/method.h"
#include "methods/window_score.h"

struct policy_dims {
    int n_layers;
    int n_heads;     /* query heads H */
    int n_kv_heads;  /* H_kv, divides H */
    int head_dim;
};

struct policy {
    struct kv_policy kv;          /* the engine's view: pass &p->kv; kv.ctx == p */
    const struct method *method;
    struct method_params params;  /* resolved, defaults included */
    int budget;                   /* B: tokens per KV head, window included */
    int window;                   /* w: last positions every compressed head keeps (0: none) */
    struct policy_dims dims;
    double *head_score;           /* [L*H] mean head scores (layer-major), NULL unless the method reads them */
    void *state;                  /* method-owned per-run state: one block, freed with free() */

    /* The layer being selected; valid inside one select call only. */
    int has_scores;               /* score holds this layer's candidate scores */
    int n_cand;                   /* candidates: positions [0, n - w) */
    float *score;                 /* [H_kv][n_cand] */
    int *order;                   /* [H_kv][n_cand], see policy_order */
    int order_ready;
    int *cap;                     /* [H_kv] */
    struct scored *rank_buf;      /* [n_cand] */
    float *tmp;                   /* [n_cand] */
    size_t scratch;               /* candidates the score/order buffers hold per head */
};

/* Build a policy. params: resolved parameters (method_params_parse); budget: B; scores: the
   visual-head scores, required (and shape-checked against dims) iff the method needs them, and
   copied, so the caller may free them afterwards. Errors name the budget, the shape or the
   parameter at fault. Returns NULL on error. Free with policy_free. */
struct policy *policy_create(const struct method_params *params, int budget, const struct policy_dims *dims,
                             const struct head_scores *scores, struct error *err);
void policy_free(struct policy *p);

/* Does `layer` compress a prompt of n tokens? */
int policy_compresses(struct policy *p, int layer, int n_tokens);

/* The selected tokens per KV head of `layer` for an n-token prompt, cap: [H_kv], before clipping
   to the candidates, without a prompt's attention scores. Full-cache methods give n. Like a real
   prompt, the first call can fix per-run state (pyramidkv freeze_first remembers n).
   Returns 0; 1 when the method's capacity depends on the scores and cap holds only the
   score-independent part (AdaKV's floor); -1 with err. */
int policy_capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err);

/* Tokens a head with selected capacity `cap` keeps from an n-token prompt in `layer`:
   n when the layer is not compressed, else min(cap, n - w) + w. */
int policy_kept(struct policy *p, int layer, int n_tokens, int cap);

/* For methods, inside select: the candidates of every KV head ranked by score, best first,
   ties toward the lower position: [H_kv][n_cand], computed on first use per layer. */
const int *policy_order(struct policy *p);

/* {"method":"snapkv","budget":64,"params":{"window":32,"kernel":5}}: what the run record stores.
   Caller frees. */
char *policy_config_json(const struct policy *p);

#endif
