/*
 * sweep.h: the main job: every (method, budget) on every sample of every dataset, one SQLite row
 * per (run, sample), resumable and shardable.
 *
 * A plan comes from the command line or an experiment file (harness/experiment.c); sweep_run
 * executes it. The loop visits samples in the outer loop and runs in the inner one, so each
 * image is decoded and encoded once and serves every method and budget. Every finished sample
 * is committed in its own transaction (results/db.h): after a crash, kill -9 or Ctrl-C, the same
 * command continues with what is missing, and a configuration that differs in anything that
 * changes results (results_config_key) is a different run, never mixed with this one.
 *
 * Sharding: sample i of a dataset belongs to shard i mod n, so a shard owns whole samples (all
 * their runs) and the shards of n job-array tasks cover the work exactly once.
 */
#ifndef SPARSEMM_SWEEP_H
#define SPARSEMM_SWEEP_H

#include "engine/util.h"

/* One method entry of a plan: its name and "k=v" parameter settings. */
struct sweep_method {
    char *name;
    char **params;
    int n_params;
};

struct sweep_plan {
    char *model_dir;
    char *model_name;           /* label for reports (default: the model folder's name) */
    char **data;                /* dataset specs (datasets/spec.c grammar) */
    int n_data;
    struct sweep_method *methods;
    int n_methods;
    int *budgets;
    int n_budgets;
    char *db_path;
    char *heads_path;           /* NULL: the model's visual_heads.json */
    char *backend;
    int threads;
    char *kv_dtype;             /* "f32", "f16", "bf16" */
    char *template_name;        /* NULL: the model's default */
    int max_new_tokens;         /* 0: each benchmark's own */
    int limit;                  /* 0: all samples; else the first N of each dataset (after --samples) */
    char **samples;             /* sample keys to run (NULL: all) */
    int n_samples;
    int shard_i, shard_n;       /* this process runs samples with index % shard_n == shard_i */
    int dry_run;
    int quiet;                  /* no progress line */
};

void sweep_plan_init(struct sweep_plan *p);
void sweep_plan_free(struct sweep_plan *p);
/* Add "k=v" to every method that declares parameter k ("method.k=v": only that method). Errors
   name the setting when no method of the plan has the parameter. */
int sweep_plan_apply_param(struct sweep_plan *p, const char *setting, struct error *err);
/* Read an experiment file (JSON) into the plan; see experiment.c for the format. Fields the
   plan already has (from the command line) are kept. */
int sweep_plan_load_experiment(struct sweep_plan *p, const char *path, struct error *err);
/* Check completeness and consistency (model, data, methods, budgets, db, shard). */
int sweep_plan_check(const struct sweep_plan *p, struct error *err);

/* Run the plan. Returns 0 when everything asked is done, 1 when interrupted (SIGINT/SIGTERM:
   finished samples are kept; rerun to continue), -1 on an error that stops the sweep. */
int sweep_run(const struct sweep_plan *p, struct error *err);

#endif
