/* policy.c: see policy.h. The generic half of every method: checks, the keep-all rule,
   candidate scoring, scratch memory; the method supplies capacity and (optionally) choice.
   Error messages from select do not repeat the layer: the engine prefixes it. */
#include "methods/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static int check_dims(const struct policy_dims *d, struct error *err) {
    if (d->n_layers < 1 || d->n_heads < 1 || d->n_kv_heads < 1 || d->head_dim < 0)
        return error_set(err, "model shape %d layers x %d heads (%d KV heads): every count must be positive",
                         d->n_layers, d->n_heads, d->n_kv_heads);
    if (d->n_heads % d->n_kv_heads)
        return error_set(err, "model shape: %d query heads are not a multiple of %d KV heads", d->n_heads,
                         d->n_kv_heads);
    return 0;
}

static void keep_all(int n, struct kv_keep *keep) {
    for (int j = 0; j < keep->n_kv_heads; j++) {
        for (int t = 0; t < n; t++) keep->idx[j][t] = t;
        keep->count[j] = n;
    }
}

/* Grow the per-layer scratch to n_cand candidates per head. */
static void reserve_scratch(struct policy *p, int n_cand) {
    if ((size_t)n_cand <= p->scratch) return;
    const size_t heads = (size_t)p->dims.n_kv_heads;
    p->score = xrealloc(p->score, heads * n_cand * sizeof *p->score);
    p->order = xrealloc(p->order, heads * n_cand * sizeof *p->order);
    p->rank_buf = xrealloc(p->rank_buf, (size_t)n_cand * sizeof *p->rank_buf);
    p->tmp = xrealloc(p->tmp, (size_t)n_cand * sizeof *p->tmp);
    p->scratch = (size_t)n_cand;
}

/* A statistic from the engine: present, and finite (a NaN would make the ranking meaningless). */
static int check_stat(const float *a, const char *name, const struct kv_layer_scores *s, struct error *err) {
    if (!a) return error_set(err, "the method needs %s but the engine gave none", name);
    for (int h = 0; h < s->n_heads; h++)
        for (int t = 0; t < s->n_tokens; t++)
            if (!isfinite(a[(size_t)h * s->n_tokens + t]))
                return error_set(err, "%s[head %d][position %d] is not finite", name, h, t);
    return 0;
}

/* Candidate scores of the layer into p->score, per the method's statistic. */
static int score_candidates(struct policy *p, const struct kv_layer_scores *s, struct error *err) {
    const int n = s->n_tokens, H = p->dims.n_heads, Hkv = p->dims.n_kv_heads;
    switch (p->method->stat) {
    case STAT_NONE:
        return 0;
    case STAT_WINDOW:
        if (check_stat(s->window_attn, "window_attn", s, err)) return -1;
        if (s->window != p->window)
            return error_set(err, "window_attn averages %d queries, the method's window is %d", s->window,
                             p->window);
        window_score(s->window_attn, n, H, Hkv, p->window, (int)method_param(&p->params, "kernel"), p->score, p->tmp);
        break;
    case STAT_ACCUM:
        if (check_stat(s->accum_attn, "accum_attn", s, err)) return -1;
        scores_group_mean(s->accum_attn, n, H, Hkv, p->n_cand, p->score);
        break;
    }
    p->has_scores = 1;
    return 0;
}

static int policy_select(void *ctx, const struct kv_layer_scores *s, struct kv_keep *keep, struct error *err) {
    struct policy *p = ctx;
    const struct policy_dims *d = &p->dims;
    if (s->layer < 0 || s->layer >= d->n_layers)
        return error_set(err, "layer %d out of range: the policy was built for %d layers", s->layer, d->n_layers);
    if (s->n_heads != d->n_heads || s->n_kv_heads != d->n_kv_heads || keep->n_kv_heads != d->n_kv_heads)
        return error_set(err, "%d query / %d KV heads (keep: %d), the policy was built for %d / %d", s->n_heads,
                         s->n_kv_heads, keep->n_kv_heads, d->n_heads, d->n_kv_heads);
    if (s->n_tokens < 0) return error_set(err, "negative prompt length %d", s->n_tokens);
    const int n = s->n_tokens;
    if (!policy_compresses(p, s->layer, n)) {
        keep_all(n, keep);
        return 0;
    }
    p->n_cand = n - p->window;
    reserve_scratch(p, p->n_cand);
    p->has_scores = 0;
    p->order_ready = 0;
    if (score_candidates(p, s, err)) return -1;
    int rc = p->method->capacity(p, s->layer, n, p->cap, err);
    p->has_scores = 0;
    if (rc < 0) return -1;
    for (int j = 0; j < d->n_kv_heads; j++)
        if (p->cap[j] < 0) p->cap[j] = 0;
    if (p->method->choose) {
        p->method->choose(p, n, p->cap, keep);
        return 0;
    }
    const int *order = policy_order(p);
    for (int j = 0; j < d->n_kv_heads; j++)
        keep->count[j] = keep_top_and_window(order + (size_t)j * p->n_cand, p->n_cand, p->cap[j], n, keep->idx[j]);
    return 0;
}

static const uint8_t *policy_query_mask(void *ctx, int layer) {
    struct policy *p = ctx;
    if (layer < 0 || layer >= p->dims.n_layers) return NULL;
    return p->method->query_mask(p, layer);
}

const int *policy_order(struct policy *p) {
    if (!p->order_ready) {
        for (int j = 0; j < p->dims.n_kv_heads; j++)
            scores_rank(p->score + (size_t)j * p->n_cand, p->n_cand, p->order + (size_t)j * p->n_cand, p->rank_buf);
        p->order_ready = 1;
    }
    return p->order;
}

struct policy *policy_create(const struct method_params *params, int budget, const struct policy_dims *dims,
                             const struct head_scores *scores, struct error *err) {
    const struct method *m = params->method;
    if (check_dims(dims, err)) return NULL;
    if (m->needs_head_scores) {
        if (!scores) {
            error_set(err, "method %s needs visual-head scores (a head-score file, --heads FILE)", m->name);
            return NULL;
        }
        if (head_scores_check_shape(scores, "head scores", dims->n_layers, dims->n_heads, err)) return NULL;
    }
    const int wi = method_param_index(m, "window");
    const int window = wi >= 0 ? (int)params->value[wi] : 0;
    if (budget < 0 || (!m->full_cache && budget <= window)) {
        error_set(err, "budget %d: method %s needs a budget above its window of %d tokens", budget, m->name, window);
        return NULL;
    }
    struct policy *p = xcalloc(1, sizeof *p);
    p->method = m;
    p->params = *params;
    p->budget = budget;
    p->window = window;
    p->dims = *dims;
    p->cap = xcalloc((size_t)dims->n_kv_heads, sizeof *p->cap);
    if (m->needs_head_scores) {
        p->head_score = xmalloc((size_t)dims->n_layers * dims->n_heads * sizeof *p->head_score);
        head_scores_means(scores, p->head_score);
    }
    if (m->init && m->init(p, err)) {
        policy_free(p);
        return NULL;
    }
    p->kv.ctx = p;
    p->kv.need_window_attn = !m->full_cache && m->stat == STAT_WINDOW;
    p->kv.need_accum_attn = !m->full_cache && m->stat == STAT_ACCUM;
    p->kv.window = p->kv.need_window_attn ? p->window : 0;
    p->kv.select = policy_select;
    p->kv.query_mask = m->query_mask ? policy_query_mask : NULL;
    return p;
}

void policy_free(struct policy *p) {
    if (!p) return;
    free(p->head_score);
    free(p->state);
    free(p->score);
    free(p->order);
    free(p->cap);
    free(p->rank_buf);
    free(p->tmp);
    free(p);
}

int policy_compresses(struct policy *p, int layer, int n_tokens) {
    if (p->method->full_cache || n_tokens <= p->window) return 0;
    return p->method->compresses ? p->method->compresses(p, layer, n_tokens) : n_tokens >= p->budget;
}

int policy_capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err) {
    if (p->method->full_cache) {
        for (int j = 0; j < p->dims.n_kv_heads; j++) cap[j] = n_tokens;
        return 0;
    }
    p->has_scores = 0;
    return p->method->capacity(p, layer, n_tokens, cap, err);
}

int policy_kept(struct policy *p, int layer, int n_tokens, int cap) {
    if (!policy_compresses(p, layer, n_tokens)) return n_tokens;
    const int n_cand = n_tokens - p->window;
    if (cap < 0) cap = 0;
    return (cap < n_cand ? cap : n_cand) + p->window;
}

char *policy_config_json(const struct policy *p) {
    cJSON *o = cJSON_CreateObject(), *params = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", p->method->name);
    cJSON_AddNumberToObject(o, "budget", p->budget);
    for (int i = 0; i < p->method->n_params; i++)
        cJSON_AddNumberToObject(params, p->method->params[i].name, p->params.value[i]);
    cJSON_AddItemToObject(o, "params", params);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *out = xstrdup(s);
    cJSON_free(s);
    return out;
}
