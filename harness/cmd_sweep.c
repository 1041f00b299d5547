/*
 * cmd_sweep.c: `sparsemm sweep`, the main job: every (method, budget, dataset, sample) into
 * SQLite, resumable (rerun the same command) and shardable (--shard i/n, or Slurm's
 * SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/defaults.h"
#include "harness/sweep.h"
#include "methods/method.h"

static void set_str(char **dst, const char *v) {
    if (!v) return;
    free(*dst);
    *dst = xstrdup(v);
}

static int parse_shard(const char *s, int *i, int *n) {
    char tail;
    return sscanf(s, "%d/%d%c", i, n, &tail) == 2 ? 0 : -1;
}

/* Slurm job arrays: task ids may start anywhere (--array=1-8); SLURM_ARRAY_TASK_MIN says where. */
static int shard_from_slurm(int *i, int *n) {
    const char *id = getenv("SLURM_ARRAY_TASK_ID"), *count = getenv("SLURM_ARRAY_TASK_COUNT");
    if (!id || !count) return 0;
    const char *min = getenv("SLURM_ARRAY_TASK_MIN");
    *i = atoi(id) - (min ? atoi(min) : 0);
    *n = atoi(count);
    return 1;
}

/* "a,b,c" or "@file" (one key per line) into the plan's sample selection. */
static int load_samples(struct sweep_plan *p, const char *arg, struct error *err) {
    char *text;
    if (arg[0] == '@') {
        if (read_file(arg + 1, &text, NULL, err)) return -1;
    } else {
        text = xstrdup(arg);
    }
    for (char *save = NULL, *tok = strtok_r(text, ",\n\r", &save); tok; tok = strtok_r(NULL, ",\n\r", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok) continue;
        p->samples = xrealloc(p->samples, sizeof *p->samples * (size_t)(p->n_samples + 1));
        p->samples[p->n_samples++] = xstrdup(tok);
    }
    free(text);
    return 0;
}

static const char *base_name(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    const char *s = path + n;
    while (s > path && s[-1] != '/') s--;
    return s;
}

int cmd_sweep(int argc, char **argv) {
    const char *model = NULL, *model_name = NULL, *methods = NULL, *budgets = NULL, *db = NULL, *heads = NULL;
    const char *experiment = NULL, *shard = NULL, *backend = NULL, *kv = NULL, *tmpl = NULL, *samples = NULL;
    int threads = 0, max_new = 0, limit = 0, dry = 0, quiet = 0;
    struct arg_list data = {0}, params = {0};
    struct arg_spec specs[] = {
        {"model", ARG_STR, &model, "DIR", "Hugging Face model directory (default: the embedded " DEFAULT_MODEL_DIR ")"},
        {"data", ARG_LIST, &data, "SPEC", "dataset, repeatable: KIND=FILE[:images=DIR][:limit=N]... (see below)"},
        {"methods", ARG_STR, &methods, "LIST", "comma-separated methods, e.g. fullkv,snapkv,pyramidkv,adakv,sparsemm"},
        {"budgets", ARG_STR, &budgets, "LIST", "comma-separated budgets (tokens per KV head, window included)"},
        {"param", ARG_LIST, &params, "[M.]K=V", "method parameter, repeatable; K=V applies to every method that has K"},
        {"heads", ARG_STR, &heads, "FILE", "visual-head scores for sparsemm/mask (default: the model's visual_heads.json)"},
        {"db", ARG_STR, &db, "FILE", "results database (created if absent; rerunning resumes)"},
        {"experiment", ARG_STR, &experiment, "FILE", "JSON experiment file with the same fields (options override it)"},
        {"shard", ARG_STR, &shard, "I/N", "run shard I of N (0-based); default from SLURM_ARRAY_TASK_ID/COUNT"},
        {"limit", ARG_INT, &limit, "N", "first N samples of each dataset"},
        {"samples", ARG_STR, &samples, "KEYS", "only these sample keys: k1,k2,... or @file (one per line)"},
        {"max-new-tokens", ARG_INT, &max_new, "N", "answer length (default: each benchmark's, as lmms-eval)"},
        {"template", ARG_STR, &tmpl, "NAME", "chat template (default: the model's)"},
        {"kv-dtype", ARG_STR, &kv, "T", "KV cache element type: f32 (default), f16, bf16"},
        {"backend", ARG_STR, &backend, "NAME", "cpu (default) or cuda"},
        {"threads", ARG_INT, &threads, "N", "CPU threads (default: all cores)"},
        {"model-name", ARG_STR, &model_name, "NAME", "label in reports (default: the model folder's name)"},
        {"dry-run", ARG_FLAG, &dry, NULL, "list the work (runs x samples) and exit"},
        {"quiet", ARG_FLAG, &quiet, NULL, "no progress line"},
    };
    const char *synopsis = "--model DIR --data SPEC... --methods LIST --budgets LIST --db FILE [options]";
    int rc = args_parse("sweep", synopsis, specs, sizeof specs / sizeof specs[0], argc, argv, NULL);
    if (rc > 0) {
        printf("\n%s", dataset_spec_help);
        printf("\nmethods: %s (sparsemm methods: parameters and defaults)\n", method_names());
        return 0;
    }
    if (rc < 0) return 2;
    struct sweep_plan p;
    sweep_plan_init(&p);
    struct error err = {{0}};
    int fail = 0;
    set_str(&p.model_dir, model);
    set_str(&p.model_name, model_name);
    set_str(&p.db_path, db);
    set_str(&p.heads_path, heads);
    set_str(&p.backend, backend);
    set_str(&p.kv_dtype, kv);
    set_str(&p.template_name, tmpl);
    p.threads = threads;
    p.max_new_tokens = max_new;
    p.limit = limit;
    p.dry_run = dry;
    p.quiet = quiet;
    for (int i = 0; i < data.n; i++) {
        p.data = xrealloc(p.data, sizeof *p.data * (size_t)(p.n_data + 1));
        p.data[p.n_data++] = xstrdup(data.items[i]);
    }
    if (methods) {
        char *copy = xstrdup(methods);
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            p.methods = xrealloc(p.methods, sizeof *p.methods * (size_t)(p.n_methods + 1));
            p.methods[p.n_methods++] = (struct sweep_method){.name = xstrdup(t)};
        }
        free(copy);
    }
    if (budgets && split_csv_ints(budgets, &p.budgets, &p.n_budgets)) {
        fprintf(stderr, "sparsemm sweep: --budgets '%s' is not a comma-separated list of integers\n", budgets);
        fail = 2;
    }
    if (!fail && samples && load_samples(&p, samples, &err)) fail = 1;
    if (!fail && experiment && sweep_plan_load_experiment(&p, experiment, &err)) fail = 1;
    for (int i = 0; !fail && i < params.n; i++)
        if (sweep_plan_apply_param(&p, params.items[i], &err)) fail = 1;
    if (!fail && !p.model_dir) p.model_dir = xstrdup(DEFAULT_MODEL_DIR);
    if (!fail && !p.model_name) p.model_name = xstrdup(base_name(p.model_dir));
    if (!fail && shard && parse_shard(shard, &p.shard_i, &p.shard_n)) {
        fprintf(stderr, "sparsemm sweep: --shard '%s': expected I/N, e.g. 0/8\n", shard);
        fail = 2;
    } else if (!fail && !shard) {
        shard_from_slurm(&p.shard_i, &p.shard_n);
    }
    if (!fail && sweep_plan_check(&p, &err)) fail = 1;
    if (!fail) {
        rc = sweep_run(&p, &err);
        if (rc < 0) fail = 1;
        else if (rc > 0) {
            fprintf(stderr, "sparsemm sweep: interrupted; finished samples are saved in %s, rerun the same command to continue\n",
                    p.db_path);
            fail = 130;
        }
    }
    if (fail == 1) fprintf(stderr, "sparsemm sweep: %s\n", err.msg);
    arg_list_free(&data);
    arg_list_free(&params);
    sweep_plan_free(&p);
    return fail;
}
