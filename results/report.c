/*
 * report.c: see report.h. One SQL query groups the samples per (model, dataset, method
 * variant, budget), with fullkv's budgets folded into one group; the C side arranges the
 * groups into tables and prints them.
 *
 * Sections: metrics and method names / building the tables / writing markdown and CSV.
 */
#include "results/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Metrics and method names */

static const struct {
    const char *name, *title, *format;
    const char *sql;   /* aggregate over the non-errored samples s of a group */
} metrics[] = {
    [REPORT_SCORE] = {"score", "mean score", "%.3f", "AVG(CASE WHEN s.error IS NULL THEN s.score END)"},
    [REPORT_PREFILL] = {"prefill", "mean prefill (ms)", "%.1f",
                        "AVG(CASE WHEN s.error IS NULL THEN s.prefill_ms END)"},
    [REPORT_DECODE] = {"decode", "mean decode (ms/token)", "%.2f",
                       "AVG(CASE WHEN s.error IS NULL THEN s.decode_ms_per_token END)"},
    [REPORT_MEMORY] = {"memory", "peak memory (MiB, max over samples)", "%.1f",
                       "MAX(CASE WHEN s.error IS NULL THEN COALESCE(s.device_peak_bytes, s.peak_rss_bytes) END)"
                       " / 1048576.0"},
};
#define N_METRICS ((int)(sizeof metrics / sizeof metrics[0]))

int report_metric_parse(const char *name, enum report_metric *out, struct error *err) {
    for (int i = 0; i < N_METRICS; i++)
        if (!strcmp(name, metrics[i].name)) {
            *out = (enum report_metric)i;
            return 0;
        }
    return error_set(err, "unknown metric '%s' (expected score, prefill, decode or memory)", name);
}

const char *report_metric_name(enum report_metric m) { return metrics[m].name; }
const char *report_metric_title(enum report_metric m) { return metrics[m].title; }

/* The paper's names, in the order its tables list them (the proposed method last). */
static const struct { const char *name, *label; } methods[] = {
    {"fullkv", "FullKV"}, {"snapkv", "SnapKV"}, {"pyramidkv", "PyramidKV"}, {"adakv", "AdaKV"},
    {"random", "Random"}, {"mask", "Mask"}, {"sparsemm", "SparseMM"},
};
#define N_METHODS ((int)(sizeof methods / sizeof methods[0]))

const char *report_method_label(const char *method) {
    for (int i = 0; i < N_METHODS; i++)
        if (!strcmp(method, methods[i].name)) return methods[i].label;
    return method;
}

static const struct { const char *name, *label; } datasets[] = {
    {"textvqa", "TextVQA"}, {"docvqa", "DocVQA"}, {"ocrbench", "OCRBench"}, {"chartqa", "ChartQA"},
    {"textcaps", "TextCaps"}, {"synthdog", "SynthDoG"},
};

const char *report_dataset_label(const char *dataset) {
    for (size_t i = 0; i < sizeof datasets / sizeof datasets[0]; i++)
        if (!strcmp(dataset, datasets[i].name)) return datasets[i].label;
    return dataset;
}

int report_method_rank(const char *method) {
    for (int i = 0; i < N_METHODS; i++)
        if (!strcmp(method, methods[i].name)) return i;
    return N_METHODS;
}

/* ------------------------------------------------------------------------------------------ */
/* Building the tables */

/* One group of the query: a (model, dataset, method variant, budget) and its aggregate. */
struct group {
    char *model_name, *model_hash, *dataset, *method, *params, *options, *backend;
    int budget;         /* -1 for fullkv (pooled over its budgets) */
    struct report_cell cell;
};

static char *column_dup(sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return xstrdup(s ? (const char *)s : "");
}

static int cmp_str(const char *a, const char *b) { return strcmp(a, b); }

/* Table order (model, dataset), then row order (method rank, name, variant), then budget. */
static int compare_groups(const void *pa, const void *pb) {
    const struct group *a = pa, *b = pb;
    int c;
    if ((c = cmp_str(a->model_name, b->model_name))) return c;
    if ((c = cmp_str(a->model_hash, b->model_hash))) return c;
    if ((c = cmp_str(a->dataset, b->dataset))) return c;
    if ((c = report_method_rank(a->method) - report_method_rank(b->method))) return c;
    if ((c = cmp_str(a->method, b->method))) return c;
    if ((c = cmp_str(a->params, b->params))) return c;
    if ((c = cmp_str(a->options, b->options))) return c;
    if ((c = cmp_str(a->backend, b->backend))) return c;
    return a->budget - b->budget;
}

static void groups_free(struct group *g, int n) {
    for (int i = 0; i < n; i++) {
        free(g[i].model_name); free(g[i].model_hash); free(g[i].dataset); free(g[i].method);
        free(g[i].params); free(g[i].options); free(g[i].backend);
    }
    free(g);
}

static int read_groups(struct results_db *db, enum report_metric metric, struct group **out,
                       int *n_out, struct error *err) {
    char *sql = xasprintf(
        "SELECT r.model_name, r.model_hash, r.dataset, r.method, r.method_params, r.options, r.backend,"
        " CASE WHEN r.method = 'fullkv' THEN -1 ELSE r.budget END AS b,"
        " SUM(s.sample_key IS NOT NULL AND s.error IS NULL), SUM(s.error IS NOT NULL), %s"
        " FROM runs r LEFT JOIN samples s ON s.run_id = r.id"
        " GROUP BY r.model_hash, r.dataset, r.method, r.method_params, r.options, r.backend, b",
        metrics[metric].sql);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK) return error_set(err, "%s: report query: %s", db->path, sqlite3_errmsg(db->sql));
    struct group *g = NULL;
    int n = 0, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) g = xrealloc(g, sizeof *g * (size_t)(cap = cap ? 2 * cap : 32));
        struct group *x = &g[n++];
        x->model_name = column_dup(st, 0);
        x->model_hash = column_dup(st, 1);
        x->dataset = column_dup(st, 2);
        x->method = column_dup(st, 3);
        x->params = column_dup(st, 4);
        x->options = column_dup(st, 5);
        x->backend = column_dup(st, 6);
        x->budget = sqlite3_column_int(st, 7);
        x->cell.n = sqlite3_column_int64(st, 8);
        x->cell.n_errors = sqlite3_column_int64(st, 9);
        x->cell.value = sqlite3_column_type(st, 10) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 10);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        groups_free(g, n);
        return error_set(err, "%s: report query: %s", db->path, sqlite3_errmsg(db->sql));
    }
    *out = g;
    *n_out = n;
    return 0;
}

/* A model's name is provenance (its runs' first writers chose it): within one weights hash,
   use the smallest name so that one model never splits into two tables. */
static void unify_model_names(struct group *g, int n) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (!strcmp(g[i].model_hash, g[j].model_hash) && strcmp(g[j].model_name, g[i].model_name) < 0) {
                free(g[i].model_name);
                g[i].model_name = xstrdup(g[j].model_name);
            }
}

static int same_variant(const struct group *a, const struct group *b) {
    return !strcmp(a->method, b->method) && !strcmp(a->params, b->params) &&
           !strcmp(a->options, b->options) && !strcmp(a->backend, b->backend);
}

static int same_table(const struct group *a, const struct group *b) {
    return !strcmp(a->model_hash, b->model_hash) && !strcmp(a->dataset, b->dataset);
}

/* "SnapKV", plus what tells it apart from the other rows of the same method in its table. */
static char *row_label(const struct report_table *t, const struct report_row *r) {
    int params_differ = 0, options_differ = 0, backend_differs = 0;
    for (int i = 0; i < t->n_rows; i++) {
        const struct report_row *o = &t->rows[i];
        backend_differs |= strcmp(o->backend, r->backend) != 0;
        if (strcmp(o->method, r->method)) continue;
        params_differ |= strcmp(o->params, r->params) != 0;
        options_differ |= strcmp(o->options, r->options) != 0;
    }
    return xasprintf("%s%s%s%s%s%s%s", report_method_label(r->method),
                     params_differ ? " " : "", params_differ ? r->params : "",
                     options_differ ? " " : "", options_differ ? r->options : "",
                     backend_differs ? " " : "", backend_differs ? r->backend : "");
}

static int compare_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

/* Fill table t from the sorted groups g[0..n) that belong to it. */
static void build_table(struct report_table *t, const struct group *g, int n) {
    t->model_name = xstrdup(g[0].model_name);
    t->model_hash = xstrdup(g[0].model_hash);
    t->dataset = xstrdup(g[0].dataset);
    t->budgets = xmalloc(sizeof *t->budgets * (size_t)n);
    for (int i = 0; i < n; i++) {
        if (g[i].budget < 0) continue;
        int seen = 0;
        for (int j = 0; j < t->n_budgets; j++) seen |= t->budgets[j] == g[i].budget;
        if (!seen) t->budgets[t->n_budgets++] = g[i].budget;
    }
    qsort(t->budgets, (size_t)t->n_budgets, sizeof *t->budgets, compare_int);
    int n_cols = t->n_budgets ? t->n_budgets : 1;  /* fullkv alone still gets one column */
    t->rows = xcalloc((size_t)n, sizeof *t->rows);
    for (int i = 0; i < n; i++) {
        if (i == 0 || !same_variant(&g[i], &g[i - 1])) {
            struct report_row *r = &t->rows[t->n_rows++];
            r->method = xstrdup(g[i].method);
            r->params = xstrdup(g[i].params);
            r->options = xstrdup(g[i].options);
            r->backend = xstrdup(g[i].backend);
            r->is_full = g[i].budget < 0;
            r->cells = xmalloc(sizeof *r->cells * (size_t)n_cols);
            for (int c = 0; c < n_cols; c++) r->cells[c] = (struct report_cell){0, 0, NAN};
        }
        struct report_row *r = &t->rows[t->n_rows - 1];
        for (int c = 0; c < n_cols; c++)
            if (r->is_full || t->budgets[c] == g[i].budget) r->cells[c] = g[i].cell;
        if (g[i].cell.n > t->n_max) t->n_max = g[i].cell.n;
    }
    for (int i = 0; i < t->n_rows; i++) t->rows[i].label = row_label(t, &t->rows[i]);
}

int report_build(struct results_db *db, enum report_metric metric, struct report *out,
                 struct error *err) {
    memset(out, 0, sizeof *out);
    out->metric = metric;
    struct group *g;
    int n;
    if (read_groups(db, metric, &g, &n, err)) return -1;
    unify_model_names(g, n);
    if (n > 1) qsort(g, (size_t)n, sizeof *g, compare_groups);
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && same_table(&g[i], &g[j])) j++;
        out->tables = xrealloc(out->tables, sizeof *out->tables * (size_t)(out->n_tables + 1));
        struct report_table *t = &out->tables[out->n_tables++];
        memset(t, 0, sizeof *t);
        build_table(t, g + i, j - i);
        i = j;
    }
    /* Two weights hashes under one name: say which is which. */
    for (int i = 0; i < out->n_tables; i++) {
        struct report_table *t = &out->tables[i];
        int clash = 0;
        for (int j = 0; j < out->n_tables; j++)
            clash |= !strcmp(t->model_name, out->tables[j].model_name) &&
                     strcmp(t->model_hash, out->tables[j].model_hash);
        t->model_label = clash ? xasprintf("%s (weights %.8s)", t->model_name, t->model_hash)
                               : xstrdup(t->model_name);
    }
    groups_free(g, n);
    return 0;
}

void report_free(struct report *rep) {
    if (!rep) return;
    for (int i = 0; i < rep->n_tables; i++) {
        struct report_table *t = &rep->tables[i];
        for (int r = 0; r < t->n_rows; r++) {
            struct report_row *row = &t->rows[r];
            free(row->method); free(row->label); free(row->params); free(row->options);
            free(row->backend); free(row->cells);
        }
        free(t->rows); free(t->budgets); free(t->model_name); free(t->model_hash);
        free(t->dataset); free(t->model_label);
    }
    free(rep->tables);
    rep->tables = NULL;
    rep->n_tables = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing markdown and CSV */

/* Markdown table cells may not contain a bare '|'. */
static void put_md(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s, out);
    }
}

static void put_md_cell(FILE *out, const struct report_cell *c, const char *format, int64_t n_max) {
    if (isnan(c->value)) fputs("-", out);
    else fprintf(out, format, c->value);
    int note_n = !isnan(c->value) && c->n != n_max;
    if (!note_n && c->n_errors == 0) return;
    fputs(" (", out);
    if (note_n) fprintf(out, "n=%lld", (long long)c->n);
    if (c->n_errors) fprintf(out, "%s%lld error%s", note_n ? ", " : "", (long long)c->n_errors,
                             c->n_errors == 1 ? "" : "s");
    fputs(")", out);
}

static void write_markdown(const struct report *rep, FILE *out) {
    const char *format = metrics[rep->metric].format;
    for (int i = 0; i < rep->n_tables; i++) {
        const struct report_table *t = &rep->tables[i];
        fprintf(out, "%s## %s / %s: %s (n = %lld per cell unless noted)\n\n| method |", i ? "\n" : "",
                t->model_label, t->dataset, metrics[rep->metric].title, (long long)t->n_max);
        for (int c = 0; c < t->n_budgets; c++) fprintf(out, " %d |", t->budgets[c]);
        if (t->n_budgets == 0) fputs(" all |", out);
        fputs("\n|:---|", out);
        for (int c = 0; c < (t->n_budgets ? t->n_budgets : 1); c++) fputs("---:|", out);
        fputc('\n', out);
        for (int r = 0; r < t->n_rows; r++) {
            fputs("| ", out);
            put_md(out, t->rows[r].label);
            fputs(" |", out);
            for (int c = 0; c < (t->n_budgets ? t->n_budgets : 1); c++) {
                fputc(' ', out);
                put_md_cell(out, &t->rows[r].cells[c], format, t->n_max);
                fputs(" |", out);
            }
            fputc('\n', out);
        }
    }
}

/* RFC 4180: quote fields holding a comma, quote or newline; double inner quotes. */
static void put_csv(FILE *out, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void write_csv(const struct report *rep, FILE *out) {
    fputs("model,model_hash,dataset,method,label,params,options,backend,budget,n,n_errors,metric,value\n", out);
    for (int i = 0; i < rep->n_tables; i++) {
        const struct report_table *t = &rep->tables[i];
        for (int r = 0; r < t->n_rows; r++) {
            const struct report_row *row = &t->rows[r];
            int n_cells = row->is_full || t->n_budgets == 0 ? 1 : t->n_budgets;
            for (int c = 0; c < n_cells; c++) {
                const struct report_cell *cell = &row->cells[c];
                if (cell->n == 0 && cell->n_errors == 0) continue;
                const char *fields[] = {t->model_label, t->model_hash, t->dataset, row->method,
                                        row->label, row->params, row->options, row->backend};
                for (int f = 0; f < 8; f++) {
                    put_csv(out, fields[f]);
                    fputc(',', out);
                }
                if (!row->is_full) fprintf(out, "%d", t->budgets[c]);
                fprintf(out, ",%lld,%lld,%s,", (long long)cell->n, (long long)cell->n_errors,
                        metrics[rep->metric].name);
                if (!isnan(cell->value)) fprintf(out, "%.10g", cell->value);
                fputc('\n', out);
            }
        }
    }
}

int report_write(const struct report *rep, enum report_format format, FILE *out) {
    if (format == REPORT_CSV) write_csv(rep, out);
    else write_markdown(rep, out);
    return ferror(out) ? -1 : 0;
}
