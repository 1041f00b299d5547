/* sweep.c: executing a sweep plan. See sweep.h for the contract. */
#include "harness/sweep.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "engine/generate.h"
#include "engine/json.h"
#include "harness/method_setup.h"
#include "harness/progress.h"
#include "harness/version.h"
#include "results/db.h"

/* One (method, budget) of one dataset: its policy, its row in `runs`, what is already done. */
struct run {
    const struct sweep_method *sm;
    int budget;                 /* as recorded: 0 for full-cache methods */
    struct policy *pol;
    int64_t run_id;
    struct results_keys done;
    double sum;                 /* running metric over this session's samples */
    int n;
};

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

/* Everything a sweep holds across datasets. */
struct sweeper {
    const struct sweep_plan *plan;
    struct model *m;
    struct results_db *db;
    struct session s;
    enum dtype kv_dtype;
    char machine[128];
    struct progress prog;
};

static int parse_kv_dtype(const char *s, enum dtype *out, struct error *err) {
    if (!s || !strcmp(s, "f32")) *out = DT_F32;
    else if (!strcmp(s, "f16")) *out = DT_F16;
    else if (!strcmp(s, "bf16")) *out = DT_BF16;
    else return error_set(err, "kv dtype '%s': expected f32, f16 or bf16", s);
    return 0;
}

static int full_cache(const struct method *m) { return m->full_cache && !m->query_mask; }

/* The method's parameters as recorded: every parameter (defaults included) and, for methods
   that read visual-head scores, the hash of the file they came from. Caller frees. */
static char *run_params_json(const struct sweeper *w, const struct policy *pol, struct error *err) {
    char *pj = method_params_json(&pol->params);
    if (!pol->method->needs_head_scores) return pj;
    cJSON *o = cJSON_Parse(pj);
    free(pj);
    char *path = heads_path_for_model(w->m, w->plan->heads_path);
    uint64_t h = 0;
    int rc = path ? hash_file(path, &h, err) : error_set(err, "no head-score file");
    free(path);
    if (rc) {
        cJSON_Delete(o);
        return NULL;
    }
    char hex[17];
    results_hash_hex(h, hex);
    cJSON_AddStringToObject(o, "heads_file_hash", hex);
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *copy = xstrdup(out);
    cJSON_free(out);
    return copy;
}

static char *run_options_json(const struct sweeper *w, int max_new) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "max_new_tokens", max_new);
    cJSON_AddStringToObject(o, "template", w->plan->template_name ? w->plan->template_name : prompt_default_template(w->m));
    cJSON_AddStringToObject(o, "kv_dtype", dtype_name(w->kv_dtype));
    cJSON_AddStringToObject(o, "prompt", "lmms-eval");
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *copy = xstrdup(out);
    cJSON_free(out);
    return copy;
}

/* Create the runs of one dataset (policies, rows in `runs`, done sets). */
static int make_runs(struct sweeper *w, const struct dataset *ds, const struct dataset_spec *spec, int max_new,
                     struct run **out, int *n_out, struct error *err) {
    const struct sweep_plan *p = w->plan;
    struct run *runs = NULL;
    int n = 0, rc = 0;
    uint64_t data_hash;
    if (hash_file(spec->path, &data_hash, err)) return -1;
    char *options = run_options_json(w, max_new);
    for (int i = 0; i < p->n_methods && !rc; i++) {
        const struct method *meth = method_find(p->methods[i].name);
        int nb = full_cache(meth) ? 1 : p->n_budgets;
        for (int b = 0; b < nb && !rc; b++) {
            runs = xrealloc(runs, sizeof *runs * (size_t)(n + 1));
            struct run *r = &runs[n++];
            memset(r, 0, sizeof *r);
            r->sm = &p->methods[i];
            r->budget = full_cache(meth) ? 0 : p->budgets[b];
            r->pol = policy_for_model(w->m, r->sm->name, r->budget ? r->budget : INT_MAX / 2,
                                      (const char *const *)r->sm->params, r->sm->n_params, p->heads_path, err);
            if (!r->pol) {
                rc = error_wrap(err, "%s at budget %d", r->sm->name, r->budget);
                break;
            }
            char *params = run_params_json(w, r->pol, err);
            if (!params) {
                rc = -1;
                break;
            }
            struct run_config cfg = {.model_hash = w->m->weights_hash, .method = r->sm->name, .method_params = params,
                                     .budget = r->budget, .dataset = ds->bench->name, .dataset_hash = data_hash,
                                     .backend = w->m->be->ops->name, .options = options,
                                     .model_name = p->model_name, .model_path = p->model_dir,
                                     .dataset_path = spec->path, .threads = w->m->be->n_threads,
                                     .git_rev = sparsemm_git_rev(), .machine = w->machine};
            rc = results_run_upsert(w->db, &cfg, &r->run_id, err);
            if (!rc) rc = results_done_keys(w->db, r->run_id, &r->done, err);
            free(params);
        }
    }
    free(options);
    *out = runs;
    *n_out = n;
    return rc;
}

static void free_runs(struct run *runs, int n) {
    for (int i = 0; i < n; i++) {
        policy_free(runs[i].pol);
        results_keys_free(&runs[i].done);
    }
    free(runs);
}

/* The samples this process runs, in file order: --samples selection, --limit, then the shard. */
static int select_samples(const struct sweep_plan *p, const struct dataset *ds, int **out, struct error *err) {
    int *sel = xmalloc(sizeof *sel * (size_t)(ds->n ? ds->n : 1)), n = 0;
    if (p->n_samples) {
        char *want = xcalloc((size_t)(ds->n ? ds->n : 1), 1);
        for (int k = 0; k < p->n_samples; k++) {
            int i = dataset_find(ds, p->samples[k]);
            if (i < 0) {
                free(want);
                free(sel);
                return error_set(err, "%s: no sample with key '%s' (--samples)", ds->path, p->samples[k]);
            }
            want[i] = 1;
        }
        for (int i = 0; i < ds->n; i++)
            if (want[i]) sel[n++] = i;
        free(want);
    } else {
        for (int i = 0; i < ds->n; i++) sel[n++] = i;
    }
    if (p->limit > 0 && n > p->limit) n = p->limit;
    int m = 0;
    for (int j = 0; j < n; j++)
        if (j % p->shard_n == p->shard_i) sel[m++] = sel[j];
    *out = sel;
    return m;
}

static void run_label(const struct run *r, char *buf, size_t n) {
    if (r->budget) snprintf(buf, n, "%s@%d", r->sm->name, r->budget);
    else snprintf(buf, n, "%s", r->sm->name);
}

/* Record a sample that could not run (broken entry, unreadable image, failed generation). */
static int record_error(struct sweeper *w, struct run *r, const char *key, const char *msg, struct error *err) {
    struct sample_result res;
    results_sample_init(&res);
    res.sample_key = key;
    res.error = msg;
    return results_sample_insert(w->db, r->run_id, &res, err);
}

/* Generate, score and record one (sample, run). */
static int run_one(struct sweeper *w, const struct dataset *ds, int i, struct run *r, const struct prompt *pr,
                   const struct image_features *feat, int max_new, struct error *err) {
    const struct sample *smp = &ds->samples[i];
    struct gen_options go = {.max_new_tokens = max_new, .eos_id = -1, .repetition_penalty = w->m->repetition_penalty,
                             .policy = full_cache(r->pol->method) ? NULL : &r->pol->kv};
    struct gen_result g;
    struct error gerr = {{0}};
    if (generate(&w->s, pr, feat, &go, &g, &gerr)) return record_error(w, r, smp->key, gerr.msg, err);
    /* lmms-eval's `until` stop string ends the answer where it first appears */
    char *cut = ds->bench->stop ? strstr(g.text, ds->bench->stop) : NULL;
    if (cut) *cut = 0;
    struct sample_result res;
    results_sample_init(&res);
    res.sample_key = smp->key;
    res.category = smp->n_categories ? smp->categories[0] : NULL;
    res.prediction = g.text;
    res.score = dataset_score(ds, i, g.text);
    res.prompt_tokens = g.n_prompt;
    res.visual_tokens = g.n_image_tokens;
    res.generated_tokens = g.n_tokens;
    res.kept_tokens = g.kv_rows;
    res.prefill_ms = g.prefill_ms;
    res.decode_ms_per_token = g.n_decode_steps ? g.decode_ms / g.n_decode_steps : NAN;
    res.kv_bytes = g.kv_bytes;
    res.peak_rss_bytes = peak_rss_bytes();
    res.device_peak_bytes = strcmp(w->m->be->ops->name, "cpu") ? w->m->be->ops->peak_bytes(w->m->be) : -1;
    res.n_layers = w->m->cfg.text.n_layers;
    res.kept_per_layer = g.layer_rows;
    int rc = results_sample_insert(w->db, r->run_id, &res, err);
    if (!rc && !isnan(res.score)) {
        r->sum += res.score;
        r->n++;
    }
    gen_result_free(&g);
    return rc;
}

/* All runs still missing sample i: encode its image once, then each run. */
static int run_sample(struct sweeper *w, const struct dataset *ds, int i, struct run *runs, int n_runs, int max_new,
                      struct error *err) {
    const struct sample *smp = &ds->samples[i];
    int need = 0;
    for (int r = 0; r < n_runs; r++) need += !results_keys_contains(&runs[r].done, smp->key);
    if (!need) return 0;
    struct image img = {0};
    struct image_features feat = {0};
    struct prompt pr = {0};
    struct error serr = {{0}};
    int bad = image_load(&img, smp->image, &serr) || model_encode_image(w->m, &img, &feat, &serr) ||
              prompt_build(w->m, smp->prompt, &feat, w->plan->template_name, &pr, &serr);
    int rc = 0;
    char status[160];
    for (int r = 0; r < n_runs && !rc && !interrupted; r++) {
        if (results_keys_contains(&runs[r].done, smp->key)) continue;
        rc = bad ? record_error(w, &runs[r], smp->key, serr.msg, err)
                 : run_one(w, ds, i, &runs[r], &pr, &feat, max_new, err);
        char label[64];
        run_label(&runs[r], label, sizeof label);
        snprintf(status, sizeof status, "%s %s %s %.3f (n=%d)", ds->bench->name, label, ds->bench->metric_name,
                 runs[r].n ? runs[r].sum / runs[r].n : 0.0, runs[r].n);
        progress_step(&w->prog, 1, status);
    }
    prompt_free(&pr);
    image_features_free(w->m, &feat);
    image_free(&img);
    return rc;
}

static int64_t count_todo(const struct dataset *ds, const int *sel, int n_sel, const struct run *runs, int n_runs,
                          int64_t *done) {
    int64_t todo = 0;
    for (int r = 0; r < n_runs; r++)
        for (int j = 0; j < n_sel; j++) {
            if (results_keys_contains(&runs[r].done, ds->samples[sel[j]].key)) (*done)++;
            else todo++;
        }
    return todo;
}

static int sweep_dataset(struct sweeper *w, const char *spec_text, struct error *err) {
    const struct sweep_plan *p = w->plan;
    struct dataset_spec spec;
    if (dataset_spec_parse(spec_text, &spec, err)) return -1;
    struct dataset ds;
    int rc = dataset_load(&spec, &ds, err);
    if (rc) {
        dataset_spec_free(&spec);
        return -1;
    }
    int max_new = p->max_new_tokens ? p->max_new_tokens : ds.max_new_tokens;
    int *sel = NULL, n_sel = select_samples(p, &ds, &sel, err);
    struct run *runs = NULL;
    int n_runs = 0;
    if (n_sel < 0) rc = -1;
    if (!rc && !p->dry_run) rc = make_runs(w, &ds, &spec, max_new, &runs, &n_runs, err);
    /* broken entries (skip_broken) are recorded once per run, so reports show them */
    for (int b = 0; !rc && b < ds.n_broken; b++) {
        char key[64];
        snprintf(key, sizeof key, "entry#%d", ds.broken[b].index);
        const char *k = ds.broken[b].key ? ds.broken[b].key : key;
        for (int r = 0; r < n_runs && !rc; r++)
            if (!results_keys_contains(&runs[r].done, k)) rc = record_error(w, &runs[r], k, ds.broken[b].msg, err);
    }
    if (!rc && p->dry_run) {
        printf("%s: %d samples in this shard (%d/%d), %d broken\n", spec.path, n_sel, p->shard_i, p->shard_n, ds.n_broken);
        for (int i = 0; i < p->n_methods; i++) {
            const struct method *meth = method_find(p->methods[i].name);
            int nb = full_cache(meth) ? 1 : p->n_budgets;
            for (int b = 0; b < nb; b++)
                printf("  %-10s budget %-6d %d samples\n", meth->name, full_cache(meth) ? 0 : p->budgets[b], n_sel);
        }
    } else if (!rc) {
        int64_t done = 0, todo = count_todo(&ds, sel, n_sel, runs, n_runs, &done);
        char what[96];
        snprintf(what, sizeof what, "sweep %s", ds.bench->name);
        progress_start(&w->prog, what, todo + done, done, p->quiet);
        for (int j = 0; j < n_sel && !rc && !interrupted; j++) rc = run_sample(w, &ds, sel[j], runs, n_runs, max_new, err);
        progress_finish(&w->prog, interrupted ? "interrupted" : "done");
    }
    free_runs(runs, n_runs);
    free(sel);
    dataset_free(&ds);
    dataset_spec_free(&spec);
    return rc;
}

int sweep_run(const struct sweep_plan *p, struct error *err) {
    struct sweeper w = {.plan = p};
    if (parse_kv_dtype(p->kv_dtype, &w.kv_dtype, err)) return -1;
    if (gethostname(w.machine, sizeof w.machine - 1)) snprintf(w.machine, sizeof w.machine, "unknown");
    struct model_options mo = {.backend = {.name = p->backend ? p->backend : "cpu", .n_threads = p->threads,
                                           .weights_f32 = -1}};
    w.m = model_load(p->model_dir, &mo, err);
    if (!w.m) return -1;
    int rc = 0;
    if (!p->dry_run) rc = results_open(p->db_path, RESULTS_OPEN_CREATE, &w.db, err);
    int reserve = p->max_new_tokens ? p->max_new_tokens + 1 : 256;
    session_init(&w.s, w.m, w.kv_dtype, reserve);
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    interrupted = 0;
    for (int d = 0; d < p->n_data && !rc && !interrupted; d++) rc = sweep_dataset(&w, p->data[d], err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    session_free(&w.s);
    results_close(w.db);
    model_free(w.m);
    if (rc) return -1;
    return interrupted ? 1 : 0;
}
