/*
 * cmd_allocation.c: `sparsemm allocation`: what a method does to the cache of a model before any
 * prompt is run: the tokens each (layer, KV head) selects for a budget, their sum against the
 * uniform budget, and, for a given prompt length, how much of the full cache is kept. The tool a
 * researcher uses to see SparseMM put most of the budget on a few visual heads, or the pyramid's
 * slope, and to check them against the paper (research/sparsemm.md §2.7).
 *
 * Methods whose capacities depend on each prompt's attention (AdaKV) show the part that does
 * not: the floor every head keeps, and how much is left to distribute at prefill.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model_config.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/defaults.h"
#include "methods/policy.h"

/* A prompt long enough that no schedule is clipped, when --prompt-len is not given. */
#define LONG_PROMPT (INT_MAX / 4)

struct alloc_view {
    struct policy *p;
    int n;              /* prompt length used */
    int n_given;        /* the user gave --prompt-len */
    int *cap;           /* [L][H_kv] */
    int partial;        /* capacities depend on the prompt's scores; cap holds the floor */
    const char *model;  /* what the shape came from */
    const char *heads;  /* head-score file or NULL */
};

static int fill_caps(struct alloc_view *v, struct error *err) {
    const int L = v->p->dims.n_layers, Hkv = v->p->dims.n_kv_heads;
    v->cap = xmalloc((size_t)L * Hkv * sizeof *v->cap);
    for (int l = 0; l < L; l++) {
        int rc = policy_capacity(v->p, l, v->n, v->cap + (size_t)l * Hkv, err);
        if (rc < 0) return -1;
        if (rc == 1) v->partial = 1;
    }
    return 0;
}

static void print_header(const struct alloc_view *v) {
    const struct policy *p = v->p;
    char *params = method_params_json(&p->params);
    printf("method %s, budget %d tokens per KV head, parameters %s\n", p->method->name, p->budget, params);
    free(params);
    printf("model: %d layers x %d query heads, %d KV heads (%s)\n", p->dims.n_layers, p->dims.n_heads,
           p->dims.n_kv_heads, v->model);
    if (v->heads) printf("head scores: %s\n", v->heads);
    if (v->n_given) printf("prompt: %d tokens\n", v->n);
    else printf("prompt: long enough that nothing is clipped (give --prompt-len N for a real one)\n");
}

static void print_table(struct alloc_view *v) {
    struct policy *p = v->p;
    const int L = p->dims.n_layers, Hkv = p->dims.n_kv_heads;
    int width = 5;
    for (int i = 0; i < L * Hkv; i++) {
        int digits = snprintf(NULL, 0, "%d", v->cap[i]) + 1;
        if (digits > width) width = digits;
    }
    if (v->partial)
        printf("\nper KV head: the floor every head keeps; the rest is assigned per prompt at prefill\n");
    else
        printf("\nselected tokens per KV head (each compressed head also keeps the last %d tokens):\n", p->window);
    printf("layer");
    for (int j = 0; j < Hkv; j++) printf("%*d", width, j);
    printf("\n");
    for (int l = 0; l < L; l++) {
        printf("%5d", l);
        if (!policy_compresses(p, l, v->n)) {
            printf("  not compressed: every head keeps all %d tokens\n", v->n);
            continue;
        }
        for (int j = 0; j < Hkv; j++) printf("%*d", width, v->cap[(size_t)l * Hkv + j]);
        printf("\n");
    }
}

static void print_sums(struct alloc_view *v) {
    struct policy *p = v->p;
    const int L = p->dims.n_layers, Hkv = p->dims.n_kv_heads, w = p->window;
    long long sum = 0;
    int lo = 0, hi = 0;
    for (int i = 0; i < L * Hkv; i++) {
        sum += v->cap[i];
        if (v->cap[i] < v->cap[lo]) lo = i;
        if (v->cap[i] > v->cap[hi]) hi = i;
    }
    const long long heads = (long long)L * Hkv;
    printf("\nmin %d (layer %d head %d), max %d (layer %d head %d)\n", v->cap[lo], lo / Hkv, lo % Hkv, v->cap[hi],
           hi / Hkv, hi % Hkv);
    if (v->partial) {
        printf("each head selects at least its floor; each layer's heads select about H_kv*(B-w) = %lld tokens\n"
               "in all, the rest going to heads by the prompt's attention at prefill; plus the window of %d\n",
               (long long)Hkv * (p->budget - w), w);
        return;
    }
    printf("selected: sum %lld vs L*H_kv*(B-w) = %lld\n", sum, heads * (p->budget - w));
    printf("with the window: sum %lld vs L*H_kv*B = %lld\n", sum + heads * w, heads * p->budget);
}

/* With partial capacities the split between heads is unknown, but each layer's total is about
   H_kv*(B-w) selected tokens: estimate with the uniform share. */
static void print_kept(struct alloc_view *v) {
    struct policy *p = v->p;
    const int L = p->dims.n_layers, Hkv = p->dims.n_kv_heads;
    long long kept = 0, full = (long long)L * Hkv * v->n;
    for (int l = 0; l < L; l++)
        for (int j = 0; j < Hkv; j++)
            kept += policy_kept(p, l, v->n, v->partial ? p->budget - p->window : v->cap[(size_t)l * Hkv + j]);
    printf("kept from a %d-token prompt: %s%lld of %lld tokens (%.1f%% of the full cache)\n", v->n,
           v->partial ? "about " : "", kept, full, full ? 100.0 * kept / full : 100.0);
}

static void print_full_cache(struct alloc_view *v) {
    struct policy *p = v->p;
    printf("\n%s keeps the full cache: every KV head keeps every prompt token\n", p->method->name);
    if (!p->kv.query_mask) return;
    printf("query heads zeroed (layer-head):");
    int count = 0;
    for (int l = 0; l < p->dims.n_layers; l++) {
        const uint8_t *m = p->kv.query_mask(p->kv.ctx, l);
        for (int h = 0; m && h < p->dims.n_heads; h++)
            if (m[h]) printf(" %d-%d", l, h), count++;
    }
    printf("%s (%d of %d)\n", count ? "" : " none", count, p->dims.n_layers * p->dims.n_heads);
}

static void print_csv(struct alloc_view *v) {
    struct policy *p = v->p;
    const int L = p->dims.n_layers, Hkv = p->dims.n_kv_heads;
    printf("layer,kv_head,selected,kept\n");
    for (int l = 0; l < L; l++)
        for (int j = 0; j < Hkv; j++) {
            const int cap = v->cap[(size_t)l * Hkv + j];
            if (p->method->full_cache || !policy_compresses(p, l, v->n)) {
                if (v->n_given) printf("%d,%d,%d,%d\n", l, j, v->n, v->n);
                else printf("%d,%d,all,all\n", l, j);
            } else {
                printf("%d,%d,%d,%d\n", l, j, cap, v->n_given ? policy_kept(p, l, v->n, cap) : cap + p->window);
            }
        }
}

/* The model's shape from --layers/--heads-q/--heads-kv, or from DIR/config.json. */
static int model_dims(const char *model_dir, int layers, int heads_q, int heads_kv, struct policy_dims *d,
                      struct error *err) {
    if (layers || heads_q || heads_kv) {
        if (!layers || !heads_q)
            return error_set(err, "--layers and --heads-q go together (--heads-kv defaults to --heads-q)");
        *d = (struct policy_dims){layers, heads_q, heads_kv ? heads_kv : heads_q, 0};
        return 0;
    }
    struct model_config c;
    char *path = path_join(model_dir, "config.json");
    int rc = model_config_load(&c, path, err);
    free(path);
    if (rc) return -1;
    *d = (struct policy_dims){c.text.n_layers, c.text.n_heads, c.text.n_kv_heads, c.text.head_dim};
    return 0;
}

int cmd_allocation(int argc, char **argv) {
    const char *model_dir = DEFAULT_MODEL_DIR, *method = NULL, *heads = NULL;
    int budget = -1, prompt_len = 0, layers = 0, heads_q = 0, heads_kv = 0, csv = 0;
    struct arg_list settings = {0};
    struct arg_spec specs[] = {
        {"method", ARG_STR, &method, "NAME", "KV-cache method (sparsemm methods lists them)"},
        {"budget", ARG_INT, &budget, "B", "tokens per KV head, window included"},
        {"prompt-len", ARG_INT, &prompt_len, "N", "prompt length: clips capacities and reports what is kept"},
        {"model", ARG_STR, &model_dir, "DIR", "model directory whose config.json gives the shape (default " DEFAULT_MODEL_DIR ")"},
        {"heads", ARG_STR, &heads, "FILE", "visual-head scores (official JSON), for sparsemm and mask"},
        {"param", ARG_LIST, &settings, "K=V", "method parameter (repeatable)"},
        {"layers", ARG_INT, &layers, "L", "model shape without a model: layers"},
        {"heads-q", ARG_INT, &heads_q, "H", "... query heads per layer"},
        {"heads-kv", ARG_INT, &heads_kv, "K", "... KV heads per layer (default: H)"},
        {"csv", ARG_FLAG, &csv, NULL, "print layer,kv_head,selected,kept rows"},
    };
    int rc = args_parse("allocation",
                        "--method M --budget B [--prompt-len N] [--model DIR | --layers L --heads-q H --heads-kv K]\n"
                        "       [--heads FILE] [--param k=v]... [--csv]\n\n"
                        "Per-layer, per-KV-head capacities of a method and their sum against L*H_kv*B.\n"
                        "adakv's capacities depend on each prompt's attention: it shows the floor and the\n"
                        "share left to the scores.",
                        specs, sizeof specs / sizeof specs[0], argc, argv, NULL);
    if (rc) {
        arg_list_free(&settings);
        return rc > 0 ? 0 : 2;
    }
    struct error err = {{0}};
    struct method_params mp;
    struct policy_dims dims;
    struct head_scores *hs = NULL;
    struct alloc_view v = {.n = prompt_len > 0 ? prompt_len : LONG_PROMPT, .n_given = prompt_len > 0, .heads = heads};
    int status = 2;
    if (!method) {
        fprintf(stderr, "sparsemm allocation: --method is required (see --help)\n");
        goto done;
    }
    if (method_params_parse(&mp, method, settings.items, settings.n, &err)) goto fail;
    if (budget < 0 && !mp.method->full_cache) {
        fprintf(stderr, "sparsemm allocation: --budget is required for %s\n", method);
        goto done;
    }
    if (prompt_len < 0) {
        fprintf(stderr, "sparsemm allocation: --prompt-len must be positive\n");
        goto done;
    }
    status = 1;
    if (model_dims(model_dir, layers, heads_q, heads_kv, &dims, &err)) goto fail;
    v.model = layers ? "given" : model_dir;
    if (heads && (head_scores_load(heads, &hs, &err) ||
                  head_scores_check_shape(hs, heads, dims.n_layers, dims.n_heads, &err)))
        goto fail;
    v.p = policy_create(&mp, budget < 0 ? 0 : budget, &dims, hs, &err);
    if (!v.p || fill_caps(&v, &err)) goto fail;
    if (csv) {
        print_csv(&v);
    } else {
        print_header(&v);
        if (v.p->method->full_cache) {
            print_full_cache(&v);
        } else {
            print_table(&v);
            print_sums(&v);
        }
        if (v.n_given) print_kept(&v);
    }
    status = 0;
    goto done;
fail:
    fprintf(stderr, "sparsemm allocation: %s\n", err.msg);
done:
    policy_free(v.p);
    head_scores_free(hs);
    free(v.cap);
    arg_list_free(&settings);
    return status;
}
