/*
 * experiment.c: sweep plans: building them from options and from an experiment file, so an
 * ablation is one JSON file under version control:
 *
 *   {
 *     "model": "models/tiny-llava",
 *     "data": ["textvqa=demo/textvqa/TextVQA_0.5.1_val.json", "ocrbench=demo/ocrbench/OCRBench.json"],
 *     "methods": ["fullkv", "snapkv", {"name": "sparsemm", "params": {"ratio": 0.2}}],
 *     "params": {"window": 8},                 applied to every method that has the parameter
 *     "budgets": [16, 32, 64, 128],
 *     "db": "results/ablation.sqlite",
 *     "heads": "models/tiny-llava/visual_heads.json",
 *     "max_new_tokens": 16, "limit": 100, "backend": "cpu", "threads": 2, "kv_dtype": "f32",
 *     "template": "vicuna", "model_name": "tiny-llava"
 *   }
 *
 * Options given on the command line win over the file's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"
#include "harness/sweep.h"
#include "methods/method.h"

void sweep_plan_init(struct sweep_plan *p) {
    memset(p, 0, sizeof *p);
    p->shard_n = 1;
}

static void free_strs(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

void sweep_plan_free(struct sweep_plan *p) {
    if (!p) return;
    free(p->model_dir), free(p->model_name), free(p->db_path), free(p->heads_path);
    free(p->backend), free(p->kv_dtype), free(p->template_name);
    free_strs(p->data, p->n_data);
    free_strs(p->samples, p->n_samples);
    for (int i = 0; i < p->n_methods; i++) {
        free(p->methods[i].name);
        free_strs(p->methods[i].params, p->methods[i].n_params);
    }
    free(p->methods);
    free(p->budgets);
    memset(p, 0, sizeof *p);
}

static void push_str(char ***v, int *n, const char *s) {
    *v = xrealloc(*v, sizeof **v * (size_t)(*n + 1));
    (*v)[(*n)++] = xstrdup(s);
}

static void add_setting(struct sweep_method *m, const char *setting) { push_str(&m->params, &m->n_params, setting); }

int sweep_plan_apply_param(struct sweep_plan *p, const char *setting, struct error *err) {
    const char *eq = strchr(setting, '=');
    if (!eq || eq == setting) return error_set(err, "--param '%s': expected NAME=VALUE or METHOD.NAME=VALUE", setting);
    const char *dot = memchr(setting, '.', (size_t)(eq - setting));
    int applied = 0;
    for (int i = 0; i < p->n_methods; i++) {
        struct sweep_method *sm = &p->methods[i];
        const struct method *m = method_find(sm->name);
        if (!m) return error_set(err, "unknown method '%s' (known: %s)", sm->name, method_names());
        if (dot) {
            if (strlen(sm->name) != (size_t)(dot - setting) || strncmp(sm->name, setting, (size_t)(dot - setting))) continue;
            add_setting(sm, dot + 1);
            applied++;
        } else {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(eq - setting), setting);
            if (method_param_index(m, name) < 0) continue;
            add_setting(sm, setting);
            applied++;
        }
    }
    if (!applied)
        return error_set(err, "--param '%s': no method of this sweep %s", setting,
                         dot ? "has that name" : "has that parameter");
    return 0;
}

/* A JSON value as the "k=v" text method_params_set parses. */
static int setting_of(const char *k, const cJSON *v, char *out, size_t n, const char *path, struct error *err) {
    if (cJSON_IsNumber(v)) snprintf(out, n, "%s=%.17g", k, v->valuedouble);
    else if (cJSON_IsBool(v)) snprintf(out, n, "%s=%d", k, cJSON_IsTrue(v));
    else if (cJSON_IsString(v)) snprintf(out, n, "%s=%s", k, v->valuestring);
    else return error_set(err, "%s: parameter '%s' must be a number, boolean or string", path, k);
    return 0;
}

static int load_methods(struct sweep_plan *p, const cJSON *arr, const char *path, struct error *err) {
    if (!cJSON_IsArray(arr)) return error_set(err, "%s: 'methods' must be a list", path);
    const cJSON *e;
    int idx = 0;
    cJSON_ArrayForEach(e, arr) {
        p->methods = xrealloc(p->methods, sizeof *p->methods * (size_t)(p->n_methods + 1));
        struct sweep_method *sm = &p->methods[p->n_methods];
        memset(sm, 0, sizeof *sm);
        const char *name = cJSON_IsString(e) ? e->valuestring : json_str(e, "name", NULL);
        if (!name) return error_set(err, "%s: methods[%d] needs a name", path, idx);
        sm->name = xstrdup(name);
        p->n_methods++;
        const cJSON *params = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "params") : NULL;
        for (const cJSON *kv = params ? params->child : NULL; kv; kv = kv->next) {
            char s[256];
            if (setting_of(kv->string, kv, s, sizeof s, path, err)) return -1;
            add_setting(sm, s);
        }
        idx++;
    }
    return 0;
}

static void take_str(char **dst, const cJSON *root, const char *key) {
    const char *v = json_str(root, key, NULL);
    if (!*dst && v) *dst = xstrdup(v);
}

int sweep_plan_load_experiment(struct sweep_plan *p, const char *path, struct error *err) {
    cJSON *root = json_load_file(path, err);
    if (!root) return -1;
    int rc = 0;
    if (!cJSON_IsObject(root)) rc = error_set(err, "%s: an experiment file is a JSON object", path);
    take_str(&p->model_dir, root, "model");
    take_str(&p->model_name, root, "model_name");
    take_str(&p->db_path, root, "db");
    take_str(&p->heads_path, root, "heads");
    take_str(&p->backend, root, "backend");
    take_str(&p->kv_dtype, root, "kv_dtype");
    take_str(&p->template_name, root, "template");
    if (!p->threads) p->threads = json_int(root, "threads", 0);
    if (!p->max_new_tokens) p->max_new_tokens = json_int(root, "max_new_tokens", 0);
    if (!p->limit) p->limit = json_int(root, "limit", 0);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!rc && data && !p->n_data) {
        const cJSON *e;
        if (!cJSON_IsArray(data)) rc = error_set(err, "%s: 'data' must be a list of dataset specs", path);
        cJSON_ArrayForEach(e, data) {
            if (!cJSON_IsString(e)) rc = error_set(err, "%s: 'data' entries are strings like textvqa=FILE", path);
            else push_str(&p->data, &p->n_data, e->valuestring);
        }
    }
    const cJSON *budgets = cJSON_GetObjectItemCaseSensitive(root, "budgets");
    if (!rc && budgets && !p->n_budgets) {
        const cJSON *e;
        cJSON_ArrayForEach(e, budgets) {
            if (!cJSON_IsNumber(e)) {
                rc = error_set(err, "%s: 'budgets' must be a list of integers", path);
                break;
            }
            p->budgets = xrealloc(p->budgets, sizeof *p->budgets * (size_t)(p->n_budgets + 1));
            p->budgets[p->n_budgets++] = (int)e->valuedouble;
        }
    }
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(root, "methods");
    if (!rc && methods && !p->n_methods) rc = load_methods(p, methods, path, err);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    for (const cJSON *kv = params ? params->child : NULL; kv && !rc; kv = kv->next) {
        char s[256];
        rc = setting_of(kv->string, kv, s, sizeof s, path, err);
        if (!rc) rc = sweep_plan_apply_param(p, s, err);
    }
    cJSON_Delete(root);
    return rc;
}

int sweep_plan_check(const struct sweep_plan *p, struct error *err) {
    if (!p->model_dir) return error_set(err, "no model: --model DIR (or \"model\" in the experiment file)");
    if (!p->n_data) return error_set(err, "no dataset: --data KIND=FILE (or \"data\" in the experiment file)");
    if (!p->n_methods) return error_set(err, "no method: --methods LIST");
    if (!p->db_path && !p->dry_run) return error_set(err, "no results database: --db FILE");
    int needs_budget = 0;
    for (int i = 0; i < p->n_methods; i++) {
        const struct method *m = method_find(p->methods[i].name);
        if (!m) return error_set(err, "unknown method '%s' (known: %s)", p->methods[i].name, method_names());
        needs_budget |= !m->full_cache || m->query_mask;
    }
    if (needs_budget && !p->n_budgets) return error_set(err, "no budget: --budgets LIST (e.g. 64,128,256)");
    for (int i = 0; i < p->n_budgets; i++)
        if (p->budgets[i] <= 0) return error_set(err, "budget %d: budgets are positive token counts", p->budgets[i]);
    if (p->shard_n < 1 || p->shard_i < 0 || p->shard_i >= p->shard_n)
        return error_set(err, "shard %d/%d: expected i/n with 0 <= i < n", p->shard_i, p->shard_n);
    return 0;
}
