/*
 * method.h: a KV-cache compression method as an entry of the method registry.
 *
 * A method is data (name, one-line summary, parameters with defaults and ranges, what it needs
 * from the engine and the user) plus two steps, in the spirit of kvpress's "scorer + selection":
 *
 *   capacity: how many prompt tokens each (layer, KV head) selects, besides the window of the
 *             last w positions that every compressing head keeps;
 *   choose:   which tokens (default: the top-capacity candidates by score, then the window).
 *
 * Everything the methods share lives once: the observation-window scoring (GQA mean, pooling,
 * ranking) in window_score.c, and the per-layer pipeline (checks, the keep-all rule, scratch
 * memory, the engine interface) in policy.c. A method file holds only what makes it different.
 *
 * Vocabulary used across methods/ (research/sparsemm.md §2, research/baselines.md §1):
 *   n      prompt length (tokens at prefill)
 *   B      budget: tokens kept per KV head, window included (the papers' "budget")
 *   w      window: the last w prompt positions, always kept; their attention rows score the rest
 *   base   B - w, the selected (non-window) tokens per head on average
 *   cap    the selected tokens of one (layer, KV head): what `capacity` returns. A head keeps
 *          min(cap, n - w) + w tokens; a cap above the candidates keeps every token.
 *   L, H, H_kv  layers, query heads, KV heads; query head h uses KV head h / (H / H_kv).
 */
#ifndef SPARSEMM_METHOD_H
#define SPARSEMM_METHOD_H

#include <stddef.h>
#include <stdint.h>

#include "engine/kv_policy.h"
#include "engine/util.h"

struct policy; /* methods/policy.h: one method applied to one model for one run */

/* Which prefill attention statistic a method scores tokens with (engine/kv_policy.h). */
enum method_stat {
    STAT_NONE,   /* positional or full cache: no attention statistic */
    STAT_WINDOW, /* window_attn: mean of the last w queries' softmax rows (SnapKV) */
    STAT_ACCUM,  /* accum_attn: causal attention summed over all queries (H2O) */
};

enum param_kind { PARAM_INT, PARAM_REAL, PARAM_BOOL };

/* One tunable of a method. Values are held as doubles; PARAM_INT and PARAM_BOOL values are
   whole numbers (booleans 0 or 1). */
struct method_param {
    const char *name;
    enum param_kind kind;
    double def, min, max; /* default and inclusive range */
    int odd;              /* PARAM_INT that must be odd (pooling kernels) */
    const char *help;
};

#define METHOD_MAX_PARAMS 8

/* The observation-window parameters of every SnapKV-scored method, with the official multimodal
   harness's defaults (research/baselines.md §1.2, research/sparsemm.md §2.1). */
#define PARAM_WINDOW                                                                                   \
    {"window", PARAM_INT, 32, 1, 8192, 0,                                                              \
     "observation window w: the last w prompt tokens, always kept; their attention scores the rest"}
#define PARAM_KERNEL                                                                                   \
    {"kernel", PARAM_INT, 5, 1, 63, 1, "average-pooling kernel over positions (zero padding counted)"}

struct method {
    const char *name;
    const char *summary;                 /* one line, for `sparsemm methods` */
    const struct method_param *params;   /* [n_params] */
    int n_params;
    int needs_head_scores;               /* reads a visual-head score file (--heads) */
    enum method_stat stat;
    int full_cache;                      /* keeps every token; capacity/choose unused */

    /* Optional: build per-run state (allocation tables, masks) into p->state and/or set
       p->window. Runs once, in policy_create, after the generic checks. */
    int (*init)(struct policy *p, struct error *err);
    /* Optional: does `layer` compress a prompt of n tokens? Default: n >= B (the official
       "no compression when the prompt is shorter than the budget"). */
    int (*compresses)(struct policy *p, int layer, int n_tokens);
    /* Selected tokens per KV head of `layer` for an n-token prompt that is compressed:
       cap: [H_kv]. The layer's scores are available through p (policy.h) when p->has_scores;
       without them (the `allocation` command) a method whose capacity depends on the scores
       fills the score-independent part and returns 1. Returns 0, 1, or -1 with err. */
    int (*capacity)(struct policy *p, int layer, int n_tokens, int *cap, struct error *err);
    /* Optional: fill keep for a compressed layer. Default (NULL): per KV head the top
       min(cap, n - w) candidates by score, then the window. */
    void (*choose)(struct policy *p, int n_tokens, const int *cap, struct kv_keep *keep);
    /* Optional: [H] bytes, 1 = zero this query head's query vectors in `layer`; NULL = none. */
    const uint8_t *(*query_mask)(struct policy *p, int layer);
};

/* ---- registry (registry.c) ---- */

int method_count(void);
const struct method *method_at(int i);
/* NULL when no method has that name. */
const struct method *method_find(const char *name);
/* "fullkv, snapkv, ..." (static storage), for error messages and help. */
const char *method_names(void);

/* ---- parameters (params.c) ---- */

/* The resolved parameters of one method: value[i] belongs to method->params[i]. */
struct method_params {
    const struct method *method;
    double value[METHOD_MAX_PARAMS];
};

/* Every parameter at its default. */
void method_params_default(struct method_params *p, const struct method *m);
/* Apply one "name=value" setting: the name must be a parameter of the method, the value of its
   kind and in its range. Errors name the parameter, the method and the allowed range. */
int method_params_set(struct method_params *p, const char *setting, struct error *err);
/* Look a method up by name, take its defaults, then apply n settings ("k=v" each) in order (a
   later setting of the same name wins). This is what `--method NAME --param k=v ...` does. */
int method_params_parse(struct method_params *p, const char *method_name, const char *const *settings, int n,
                        struct error *err);
/* Value of a parameter the method declares (asserts that it does). */
double method_param(const struct method_params *p, const char *name);
/* Index of a parameter in method->params, or -1. */
int method_param_index(const struct method *m, const char *name);
/* Every parameter, defaults included, in declaration order, as compact JSON:
   {"window":32,"kernel":5}. Caller frees. Parameters are echoed this way into run records. */
char *method_params_json(const struct method_params *p);
/* The same as "name=value,name=value" (empty string for none). Caller frees. */
char *method_params_string(const struct method_params *p);
/* A parameter's range and default as text for help ("int in [1, 4096], default 32"), into buf. */
void method_param_describe(const struct method_param *mp, char *buf, size_t len);

#endif
