/*
 * cmd_score.c: `sparsemm score`: rescore a prediction file against a benchmark with its
 * official metric and print the result per category, the way the official scripts report it
 * (OCRBench: its five report lines and the final score out of 1000). Images are not needed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "datasets/dataset.h"
#include "datasets/predictions.h"
#include "engine/json.h"
#include "harness/args.h"
#include "harness/commands.h"

static void print_group(const char *name, const struct score_group *g, int ocrbench) {
    if (ocrbench) printf("  %-50s %6d %10.0f\n", name, g->n, g->value);
    else printf("  %-50s %6d %10.4f\n", name, g->n, g->value);
}

static void print_summary(const struct dataset *ds, const struct aggregate *agg, int n_unknown) {
    int ocrbench = ds->bench->metric == METRIC_OCRBENCH;
    printf("%s %s: %d samples, %d with a prediction", ds->bench->name, ds->path, agg->n_samples, agg->n_scored);
    if (n_unknown) printf(", %d predictions for unknown keys ignored", n_unknown);
    printf("\n  %-50s %6s %10s\n", "category", "n", ocrbench ? "hits" : agg->metric);
    for (int i = 0; i < agg->n_categories; i++) print_group(agg->categories[i].name, &agg->categories[i], ocrbench);
    if (ocrbench) {
        printf("  report lines:\n");
        for (int i = 0; i < agg->n_groups; i++) print_group(agg->groups[i].name, &agg->groups[i], 1);
        printf("%s = %.0f hits of %d; Final Score %.1f / 1000\n", agg->metric, agg->sum, agg->n_scored,
               agg->value);
    } else {
        printf("%s = %.4f (x100: %.2f) over %d samples\n", agg->metric, agg->value, 100 * agg->value,
               agg->n_scored);
    }
}

static cJSON *groups_json(const struct score_group *g, int n) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        cJSON *x = cJSON_AddObjectToObject(o, g[i].name);
        cJSON_AddNumberToObject(x, "n", g[i].n);
        cJSON_AddNumberToObject(x, "value", g[i].value);
    }
    return o;
}

static int write_json(const char *path, const struct dataset *ds, const struct aggregate *agg, struct error *err) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "dataset", ds->bench->name);
    cJSON_AddStringToObject(root, "file", ds->path);
    cJSON_AddStringToObject(root, "metric", agg->metric);
    cJSON_AddStringToObject(root, "variant", ds->variant == VARIANT_LMMS_EVAL ? "lmms-eval" : "official");
    cJSON_AddNumberToObject(root, "n_samples", agg->n_samples);
    cJSON_AddNumberToObject(root, "n_scored", agg->n_scored);
    cJSON_AddNumberToObject(root, "sum", agg->sum);
    if (isnan(agg->value)) cJSON_AddNullToObject(root, "value");
    else cJSON_AddNumberToObject(root, "value", agg->value);
    cJSON_AddItemToObject(root, "categories", groups_json(agg->categories, agg->n_categories));
    cJSON_AddItemToObject(root, "groups", groups_json(agg->groups, agg->n_groups));
    int rc = json_save_file(root, path, 1, err);
    cJSON_Delete(root);
    return rc;
}

static int write_rows(const char *path, const struct dataset *ds, const struct predictions *p,
                      const double *scores, struct error *err) {
    FILE *f = fopen(path, "w");
    if (!f) return error_set(err, "%s: cannot write", path);
    for (int i = 0; i < ds->n; i++) {
        if (!p->text[i]) continue;
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "key", ds->samples[i].key);
        cJSON_AddNumberToObject(row, "score", scores[i]);
        cJSON_AddStringToObject(row, "prediction", p->text[i]);
        char *line = cJSON_PrintUnformatted(row);
        fprintf(f, "%s\n", line);
        cJSON_free(line);
        cJSON_Delete(row);
    }
    return fclose(f) == 0 ? 0 : error_set(err, "%s: write failed", path);
}

/* Load, score, report. Returns the exit status. */
static int run(const char *data, const char *pred, const char *variant, const char *rows, const char *json) {
    struct error err;
    struct dataset_spec spec;
    if (dataset_spec_parse(data, &spec, &err)) {
        fprintf(stderr, "sparsemm score: %s\n", err.msg);
        return 2;
    }
    spec.check_images = 0;
    if (variant) spec.variant = strcmp(variant, "lmms-eval") ? VARIANT_OFFICIAL : VARIANT_LMMS_EVAL;
    struct dataset ds;
    struct predictions p = {0};
    double *scores = NULL;
    struct aggregate agg = {0};
    int rc = dataset_load(&spec, &ds, &err);
    dataset_spec_free(&spec);
    if (rc) {
        fprintf(stderr, "sparsemm score: %s\n", err.msg);
        return 1;
    }
    if (ds.bench->metric == METRIC_NONE) {
        rc = error_set(&err, "%s has no metric to score", ds.bench->name);
        goto done;
    }
    if ((rc = predictions_load(pred, &ds, &p, &err))) goto done;
    scores = xmalloc((size_t)(ds.n ? ds.n : 1) * sizeof *scores);
    for (int i = 0; i < ds.n; i++) scores[i] = dataset_score(&ds, i, p.text[i]);
    dataset_aggregate(&ds, scores, &agg);
    print_summary(&ds, &agg, p.n_unknown);
    if (rows && (rc = write_rows(rows, &ds, &p, scores, &err))) goto done;
    if (json) rc = write_json(json, &ds, &agg, &err);
done:
    if (rc) fprintf(stderr, "sparsemm score: %s\n", err.msg);
    aggregate_free(&agg);
    free(scores);
    predictions_free(&p);
    dataset_free(&ds);
    return rc ? 1 : 0;
}

int cmd_score(int argc, char **argv) {
    const char *data = NULL, *pred = NULL, *variant = NULL, *rows = NULL, *json = NULL;
    struct arg_spec specs[] = {
        {"data", ARG_STR, &data, "SPEC", "the benchmark (spec below); images are not needed"},
        {"pred", ARG_STR, &pred, "FILE", "JSONL: {\"question_id\"|\"questionId\"|\"key\"|\"idx\": ..., \"prediction\": \"...\"} per line"},
        {"variant", ARG_STR, &variant, "V", "official (default) or lmms-eval (DocVQA: strip the output first)"},
        {"rows", ARG_STR, &rows, "FILE", "also write one JSON line per scored sample: key, score, prediction"},
        {"json", ARG_STR, &json, "FILE", "also write the summary as JSON"},
    };
    int rc = args_parse("score", "--data SPEC --pred FILE [options]", specs, (int)(sizeof specs / sizeof specs[0]),
                        argc, argv, NULL);
    if (rc > 0) {
        printf("\n%s", dataset_spec_help);
        return 0;
    }
    if (rc) return 2;
    if (!data || !pred) {
        fprintf(stderr, "sparsemm score: --data and --pred are required (see --help)\n");
        return 2;
    }
    if (variant && strcmp(variant, "official") && strcmp(variant, "lmms-eval")) {
        fprintf(stderr, "sparsemm score: --variant must be official or lmms-eval\n");
        return 2;
    }
    return run(data, pred, variant, rows, json);
}
