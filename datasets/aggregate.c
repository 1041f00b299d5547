/*
 * aggregate.c: per-sample scores to the numbers a paper reports.
 *
 * TextVQA and DocVQA: the mean over the scored questions (lmms-eval's aggregation; the
 * official scripts divide by all questions, which is the same when every one has a
 * prediction). OCRBench: the number of hits out of 1000, with the official report's five
 * lines: "Text Recognition" (the six recognition types together, out of 300), Scene
 * Text-centric VQA, Doc-oriented VQA, Key Information Extraction and Handwritten Mathematical
 * Expression Recognition (datasets.md §3.2). A subset is scaled to 1000 (1000 * hits / n).
 * Categories: a sample counts in each of its categories (a DocVQA question can have several).
 */
#include "datasets/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The six OCRBench types that its report sums into "Text Recognition". */
static const char *const recognition_types[] = {
    "Regular Text Recognition",    "Irregular Text Recognition",    "Artistic Text Recognition",
    "Handwriting Recognition",     "Digit String Recognition",      "Non-Semantic Text Recognition",
};

static const char *report_group(const char *category) {
    for (size_t i = 0; i < sizeof recognition_types / sizeof *recognition_types; i++)
        if (!strcmp(category, recognition_types[i])) return "Text Recognition";
    return category;
}

/* Add score x to the group called name in *groups [*n], creating it if new. */
static void add_to(struct score_group **groups, int *n, const char *name, double x) {
    int i = 0;
    while (i < *n && strcmp((*groups)[i].name, name)) i++;
    if (i == *n) {
        *groups = xrealloc(*groups, (size_t)(*n + 1) * sizeof **groups);
        (*groups)[(*n)++] = (struct score_group){xstrdup(name), 0, 0, 0};
    }
    (*groups)[i].n++;
    (*groups)[i].sum += x;
}

static void finish(struct score_group *g, int n, int ocrbench) {
    for (int i = 0; i < n; i++) g[i].value = ocrbench ? g[i].sum : g[i].sum / g[i].n;
}

void dataset_aggregate(const struct dataset *ds, const double *scores, struct aggregate *out) {
    memset(out, 0, sizeof *out);
    int ocrbench = ds->bench->metric == METRIC_OCRBENCH;
    out->metric = ds->bench->metric_name;
    out->n_samples = ds->n;
    for (int i = 0; i < ds->n; i++) {
        if (isnan(scores[i])) continue;
        const struct sample *s = &ds->samples[i];
        out->n_scored++;
        out->sum += scores[i];
        for (int c = 0; c < s->n_categories; c++) {
            add_to(&out->categories, &out->n_categories, s->categories[c], scores[i]);
            if (ocrbench) add_to(&out->groups, &out->n_groups, report_group(s->categories[c]), scores[i]);
        }
    }
    finish(out->categories, out->n_categories, ocrbench);
    finish(out->groups, out->n_groups, ocrbench);
    if (out->n_scored == 0) out->value = NAN;
    else out->value = ocrbench ? 1000.0 * out->sum / out->n_scored : out->sum / out->n_scored;
}

void aggregate_free(struct aggregate *agg) {
    if (!agg) return;
    for (int i = 0; i < agg->n_categories; i++) free(agg->categories[i].name);
    for (int i = 0; i < agg->n_groups; i++) free(agg->groups[i].name);
    free(agg->categories);
    free(agg->groups);
    memset(agg, 0, sizeof *agg);
}
