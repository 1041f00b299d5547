/*
 * report.h: the paper's result tables from a results database.
 *
 * One table per (model, dataset); rows are methods (one per distinct method + parameters +
 * options + backend), columns are budgets. FullKV (method "fullkv") has no budget: its runs
 * are pooled into one value, shown in every column, as the paper draws it as a dashed line.
 * Every cell carries its sample count; errored samples are counted apart and left out of
 * the value. The same tables feed the main figure (plots/plot.c).
 */
#ifndef SPARSEMM_REPORT_H
#define SPARSEMM_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "results/db.h"

enum report_metric {
    REPORT_SCORE,    /* mean per-sample score (VQA accuracy, ANLS, OCRBench 0/1) */
    REPORT_PREFILL,  /* mean prefill wall time, ms */
    REPORT_DECODE,   /* mean decode time per generated token, ms */
    REPORT_MEMORY,   /* max over samples of the peak memory (device peak if recorded, else
                        process RSS), MiB */
};

enum report_format { REPORT_MARKDOWN, REPORT_CSV };

struct report_cell {
    int64_t n;          /* samples that count (no error) */
    int64_t n_errors;   /* samples recorded with an error */
    double value;       /* NaN when n == 0 or nothing measured */
};

struct report_row {
    char *method;       /* registry name, e.g. "snapkv" */
    char *label;        /* display name, e.g. "SnapKV", with parameters/options/backend appended
                           when the table holds several variants of the method */
    char *params, *options, *backend;
    int is_full;        /* fullkv: every cell is the same pooled value */
    struct report_cell *cells;  /* [n_budgets of the table] */
};

struct report_table {
    char *model_name, *model_hash, *dataset;
    char *model_label;  /* model_name, plus the hash when two models share the name */
    int n_budgets;
    int *budgets;       /* [n_budgets], ascending: every budget of a non-fullkv run */
    int n_rows;
    struct report_row *rows;    /* [n_rows], in the paper's method order */
    int64_t n_max;      /* the largest sample count of any cell ("n per cell unless noted") */
};

struct report {
    enum report_metric metric;
    int n_tables;
    struct report_table *tables;  /* [n_tables], by model then dataset */
};

/* Build the tables for one metric. Caller frees with report_free. */
int report_build(struct results_db *db, enum report_metric metric, struct report *out,
                 struct error *err);
void report_free(struct report *rep);

/* Markdown: one heading + pipe table per (model, dataset). CSV: one line per cell, columns
   model,model_hash,dataset,method,label,params,options,backend,budget,n,n_errors,metric,value
   (budget empty for fullkv). */
int report_write(const struct report *rep, enum report_format format, FILE *out);

/* "score" | "prefill" | "decode" | "memory". */
int report_metric_parse(const char *name, enum report_metric *out, struct error *err);
const char *report_metric_name(enum report_metric metric);
/* Human title with unit, e.g. "mean decode (ms/token)". */
const char *report_metric_title(enum report_metric metric);

/* The paper's spelling of a method ("SparseMM", "SnapKV", ...); unknown names pass through. */
const char *report_method_label(const char *method);
/* The benchmark's usual spelling ("TextVQA", "DocVQA", "OCRBench", ...); unknown names pass through. */
const char *report_dataset_label(const char *dataset);
/* Sort position: fullkv, snapkv, pyramidkv, adakv, random, mask, sparsemm, then others. */
int report_method_rank(const char *method);

#endif
