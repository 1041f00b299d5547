/*
 * plot_db.c: the figures drawn from a results database (plot.h lists them): the main figure
 * from the report tables, the efficiency figure from `bench_metrics`, the allocation figure
 * from `layer_kept`. Each query result becomes .dat blocks (one per method line) and a grid
 * description for plots/grid.gp.
 *
 * Sections: formats and outputs / the main figure / efficiency and allocation rows / the
 * efficiency figure / the allocation figure / all of them.
 */
#include "plots/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plots/figure.h"  // defines: figure_ctx, grid, grid_draw

/* ------------------------------------------------------------------------------------------ */
/* Formats and outputs */

int plot_formats_parse(const char *list, struct plot_options *o, struct error *err) {
    o->png = o->pdf = o->svg = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 3 && !strncmp(p, "png", 3)) o->png = 1;
        else if (n == 3 && !strncmp(p, "pdf", 3)) o->pdf = 1;
        else if (n == 3 && !strncmp(p, "svg", 3)) o->svg = 1;
        else return error_set(err, "unknown plot format '%.*s' (expected png, pdf, svg)", (int)n, p);
        p += n;
        if (*p == ',') p++;
    }
    if (!o->png && !o->pdf && !o->svg) return error_set(err, "no plot format in '%s'", list);
    return 0;
}

void plot_outputs_free(struct plot_outputs *out) {
    if (!out) return;
    for (int i = 0; i < out->n; i++) free(out->paths[i]);
    free(out->paths);
    out->paths = NULL;
    out->n = 0;
}

/* Index of s in list (appending it when new). */
static int intern(char ***list, int *n, const char *s) {
    for (int i = 0; i < *n; i++)
        if (!strcmp((*list)[i], s)) return i;
    *list = xrealloc(*list, sizeof **list * (size_t)(*n + 1));
    (*list)[*n] = xstrdup(s);
    return (*n)++;
}

static void strings_free(char **list, int n) {
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

/* Append " 3" to a space-separated list of series numbers. */
static void series_append(char **list, int index) {
    char *grown = xasprintf("%s%s%d", *list ? *list : "", *list && **list ? " " : "", index);
    free(*list);
    *list = grown;
}

static int compare_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

static int compare_cstr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------------------------------------------ */
/* The main figure */

/* One table of the report as a panel: a block per method line. FullKV's block is two points
   spanning the panel, drawn as a dashed line without markers. */
static int main_panel(struct figure_ctx *ctx, struct grid *g, const struct report_table *t, int index,
                      const char *metric, struct grid_panel *p, struct error *err) {
    double lo = t->n_budgets ? t->budgets[0] / 1.4 : 1, hi = t->n_budgets ? t->budgets[t->n_budgets - 1] * 1.4 : 2;
    char *name = xasprintf("main_%s_%d.dat", metric, index);
    const char *path;
    FILE *f = figure_data_file(ctx, name, &path, err);
    free(name);
    if (!f) return -1;
    p->file = xstrdup(path);
    p->series = xstrdup("");
    p->xlog = 1;
    p->xmin = lo;
    p->xmax = hi;
    for (int c = 0; c < t->n_budgets; c++) series_append(&p->xtics, t->budgets[c]);
    if (!p->xtics) p->xtics = xstrdup("");
    int blocks = 0;
    for (int r = 0; r < t->n_rows; r++) {
        const struct report_row *row = &t->rows[r];
        int n_points = 0;
        for (int c = 0; c < (t->n_budgets ? t->n_budgets : 1); c++) n_points += !isnan(row->cells[c].value);
        if (n_points == 0) continue;
        int s = grid_series_index(g, row->method, row->label, row->is_full ? 0 : 1.1);
        series_append(&p->series, s);
        fprintf(f, "%s# %s: budget value n\n", blocks++ ? "\n\n" : "", row->label);
        if (row->is_full) {
            fprintf(f, "%.10g %.10g %lld\n%.10g %.10g %lld\n", lo, row->cells[0].value,
                    (long long)row->cells[0].n, hi, row->cells[0].value, (long long)row->cells[0].n);
            continue;
        }
        for (int c = 0; c < t->n_budgets; c++)
            if (!isnan(row->cells[c].value))
                fprintf(f, "%d %.10g %lld\n", t->budgets[c], row->cells[c].value, (long long)row->cells[c].n);
    }
    return fclose(f) == 0 ? 0 : error_set(err, "%s: write failed", path);
}

static int table_has_values(const struct report_table *t) {
    for (int r = 0; r < t->n_rows; r++)
        for (int c = 0; c < (t->n_budgets ? t->n_budgets : 1); c++)
            if (!isnan(t->rows[r].cells[c].value)) return 1;
    return 0;
}

static int draw_main(struct figure_ctx *ctx, struct results_db *db, struct error *err) {
    struct report rep;
    if (report_build(db, ctx->o->metric, &rep, err)) return -1;
    const char *metric = report_metric_name(ctx->o->metric);
    char **models = NULL, **datasets = NULL;
    int n_models = 0, n_datasets = 0;
    for (int i = 0; i < rep.n_tables; i++) {
        if (!table_has_values(&rep.tables[i])) continue;  /* only errors: nothing to draw */
        intern(&models, &n_models, rep.tables[i].model_label);
        intern(&datasets, &n_datasets, rep.tables[i].dataset);
    }
    if (n_datasets > 1) qsort(datasets, (size_t)n_datasets, sizeof *datasets, compare_cstr);
    struct grid g = {.n_rows = n_models, .n_cols = n_datasets};
    int rc = 0;
    for (int i = 0; i < rep.n_tables && rc == 0; i++) {
        const struct report_table *t = &rep.tables[i];
        if (!table_has_values(t)) continue;
        struct grid_panel *p = grid_add_panel(&g);
        p->row = intern(&models, &n_models, t->model_label);
        p->col = intern(&datasets, &n_datasets, t->dataset);
        const char *ds = report_dataset_label(t->dataset);
        p->title = n_models > 1 ? xasprintf("%s / %s", t->model_label, ds) : xstrdup(ds);
        p->xlabel = xstrdup("KV budget per head (tokens)");
        p->ylabel = xstrdup(report_metric_title(ctx->o->metric));
        rc = main_panel(ctx, &g, t, i, metric, p, err);
    }
    if (rc == 0 && g.n_panels > 0) {
        char *base = xasprintf("main_%s", metric);
        rc = grid_draw(ctx, &g, base, err);
        free(base);
    }
    grid_free(&g);
    strings_free(models, n_models);
    strings_free(datasets, n_datasets);
    report_free(&rep);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Efficiency and allocation rows */

/* One point of one line of the efficiency or the allocation figure. */
struct line_point {
    char *model_hash, *model_name, *method, *params, *options, *backend;
    int budget;
    double x;           /* efficiency: context length; allocation: layer */
    double y[2];        /* efficiency: decode ms/token, peak GiB; allocation: mean kept, unused */
};

static void points_free(struct line_point *p, int n) {
    for (int i = 0; i < n; i++) {
        free(p[i].model_hash); free(p[i].model_name); free(p[i].method); free(p[i].params);
        free(p[i].options); free(p[i].backend);
    }
    free(p);
}

/* Rows of (model_hash, model_name, method, params, options, backend, budget, x, y0[, y1]). */
static int read_points(struct results_db *db, const char *sql, int n_y, struct line_point **out,
                       int *n_out, struct error *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s: plot query: %s", db->path, sqlite3_errmsg(db->sql));
    struct line_point *p = NULL;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        p = xrealloc(p, sizeof *p * (size_t)(n + 1));
        struct line_point *q = &p[n++];
        char **text[6] = {&q->model_hash, &q->model_name, &q->method, &q->params, &q->options, &q->backend};
        for (int i = 0; i < 6; i++) {
            const unsigned char *s = sqlite3_column_text(st, i);
            *text[i] = xstrdup(s ? (const char *)s : "");
        }
        q->budget = sqlite3_column_int(st, 6);
        q->x = sqlite3_column_double(st, 7);
        for (int i = 0; i < 2; i++)
            q->y[i] = i < n_y && sqlite3_column_type(st, 8 + i) != SQLITE_NULL ? sqlite3_column_double(st, 8 + i) : NAN;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        points_free(p, n);
        return error_set(err, "%s: plot query: %s", db->path, sqlite3_errmsg(db->sql));
    }
    *out = p;
    *n_out = n;
    return 0;
}

/* Line identity, in the paper's method order. */
static int compare_line(const struct line_point *a, const struct line_point *b) {
    int c;
    if ((c = report_method_rank(a->method) - report_method_rank(b->method))) return c;
    if ((c = strcmp(a->method, b->method))) return c;
    if ((c = strcmp(a->params, b->params))) return c;
    if ((c = strcmp(a->options, b->options))) return c;
    if ((c = strcmp(a->backend, b->backend))) return c;
    return a->budget - b->budget;
}

/* Efficiency order: model, line, x. */
static int compare_by_line(const void *pa, const void *pb) {
    const struct line_point *a = pa, *b = pb;
    int c;
    if ((c = strcmp(a->model_hash, b->model_hash))) return c;
    if ((c = compare_line(a, b))) return c;
    return (a->x > b->x) - (a->x < b->x);
}

/* Allocation order: model, budget (the panel), line, x. */
static int compare_by_panel(const void *pa, const void *pb) {
    const struct line_point *a = pa, *b = pb;
    int c;
    if ((c = strcmp(a->model_hash, b->model_hash))) return c;
    if ((c = a->budget - b->budget)) return c;
    if ((c = compare_line(a, b))) return c;
    return (a->x > b->x) - (a->x < b->x);
}

static int same_line(const struct line_point *a, const struct line_point *b) {
    return !strcmp(a->model_hash, b->model_hash) && compare_line(a, b) == 0;
}

/* Legend text of p's line: the method, its budget when asked, and whatever tells it apart from
   other lines of the same method in the figure (parameters, options, backend). */
static char *line_title(const struct line_point *pts, int n, const struct line_point *p, int show_budget) {
    int params_differ = 0, options_differ = 0, backend_differs = 0;
    for (int i = 0; i < n; i++) {
        backend_differs |= strcmp(pts[i].backend, p->backend) != 0;
        if (strcmp(pts[i].method, p->method)) continue;
        params_differ |= strcmp(pts[i].params, p->params) != 0;
        options_differ |= strcmp(pts[i].options, p->options) != 0;
    }
    char budget[32] = "";
    if (show_budget && strcmp(p->method, "fullkv")) snprintf(budget, sizeof budget, " (B=%d)", p->budget);
    return xasprintf("%s%s%s%s%s%s%s%s", report_method_label(p->method), budget,
                     params_differ ? " " : "", params_differ ? p->params : "",
                     options_differ ? " " : "", options_differ ? p->options : "",
                     backend_differs ? " " : "", backend_differs ? p->backend : "");
}

/* Sorted distinct x values of pts[0..n) as a space-separated list, and their range. */
static char *distinct_xs(const struct line_point *pts, int n, double *lo, double *hi) {
    double *xs = xmalloc(sizeof *xs * (size_t)n);
    int m = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < m; j++) seen |= xs[j] == pts[i].x;
        if (!seen) xs[m++] = pts[i].x;
    }
    for (int i = 1; i < m; i++)  /* insertion sort: a handful of values */
        for (int j = i; j > 0 && xs[j - 1] > xs[j]; j--) {
            double t = xs[j]; xs[j] = xs[j - 1]; xs[j - 1] = t;
        }
    char *list = xstrdup("");
    for (int i = 0; i < m; i++) series_append(&list, (int)xs[i]);
    *lo = xs[0];
    *hi = xs[m - 1];
    free(xs);
    return list;
}

/* Write the blocks of pts[0..n) (sorted so each line is contiguous) into a new data file and
   register each line as a series of g; p->series lists them. */
static int write_lines(struct figure_ctx *ctx, struct grid *g, const struct line_point *all, int n_all,
                       const struct line_point *pts, int n, int show_budget, double point_size,
                       const char *file, struct grid_panel *p, struct error *err) {
    const char *path;
    FILE *f = figure_data_file(ctx, file, &path, err);
    if (!f) return -1;
    p->file = xstrdup(path);
    p->series = xstrdup("");
    for (int i = 0; i < n; i++) {
        if (i == 0 || !same_line(&pts[i], &pts[i - 1])) {
            char *title = line_title(all, n_all, &pts[i], show_budget);
            series_append(&p->series, grid_series_index(g, pts[i].method, title, point_size));
            fprintf(f, "%s# %s\n", i ? "\n\n" : "", title);
            free(title);
        }
        fprintf(f, "%.10g %.10g %.10g\n", pts[i].x, pts[i].y[0], pts[i].y[1]);
    }
    return fclose(f) == 0 ? 0 : error_set(err, "%s: write failed", path);
}

/* ------------------------------------------------------------------------------------------ */
/* The efficiency figure */

static int draw_efficiency(struct figure_ctx *ctx, struct results_db *db, struct error *err) {
    struct line_point *pts;
    int n;
    if (read_points(db, "SELECT model_hash, model_name, method, method_params, '{}', backend, budget,"
                        " context_len, mean_decode_ms, max_peak_bytes / 1073741824.0 FROM bench_metrics",
                    2, &pts, &n, err))
        return -1;
    if (n == 0) return 0;  /* no bench rows */
    qsort(pts, (size_t)n, sizeof *pts, compare_by_line);
    struct grid g = {.n_cols = 2};
    int rc = 0;
    for (int i = 0; i < n && rc == 0;) {
        int j = i;
        while (j < n && !strcmp(pts[j].model_hash, pts[i].model_hash)) j++;
        double lo, hi;
        char *xtics = distinct_xs(pts + i, j - i, &lo, &hi);
        char *file = xasprintf("efficiency_%d.dat", g.n_rows);
        for (int col = 0; col < 2 && rc == 0; col++) {
            struct grid_panel *p = grid_add_panel(&g);
            p->row = g.n_rows;
            p->col = col;
            p->title = xasprintf("%s: %s", pts[i].model_name, col ? "peak memory" : "decode latency");
            p->xlabel = xstrdup("context length (tokens)");
            p->ylabel = xstrdup(col ? "peak memory (GiB)" : "decode latency (ms/token)");
            p->xtics = xstrdup(xtics);
            p->xtics_k = 1;
            p->xlog = 1;
            p->xmin = lo / 1.3;
            p->xmax = hi * 1.3;
            p->ycol = 2 + col;
            if (col == 0) {
                rc = write_lines(ctx, &g, pts, n, pts + i, j - i, 1, 1.1, file, p, err);
            } else {
                p->file = xstrdup(g.panels[g.n_panels - 2].file);
                p->series = xstrdup(g.panels[g.n_panels - 2].series);
            }
        }
        free(file);
        free(xtics);
        g.n_rows++;
        i = j;
    }
    if (rc == 0 && g.n_panels > 0) rc = grid_draw(ctx, &g, "efficiency", err);
    grid_free(&g);
    points_free(pts, n);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The allocation figure */

enum { ALLOC_COLS = 3 };

static int draw_alloc(struct figure_ctx *ctx, struct results_db *db, struct error *err) {
    struct line_point *pts;
    int n;
    /* layer_kept averages per run; runs of one method on several datasets are pooled with
       their sample counts as weights. */
    if (read_points(db, "SELECT r.model_hash, MIN(r.model_name), r.method, r.method_params, r.options,"
                        " r.backend, r.budget, k.layer, SUM(k.mean_kept * k.n_samples) / SUM(k.n_samples)"
                        " FROM layer_kept k JOIN runs r ON r.id = k.run_id WHERE r.method <> 'fullkv'"
                        " GROUP BY r.model_hash, r.method, r.method_params, r.options, r.backend, r.budget, k.layer",
                    1, &pts, &n, err))
        return -1;
    if (n == 0) return 0;  /* no per-layer counts */
    qsort(pts, (size_t)n, sizeof *pts, compare_by_panel);
    char **models = NULL;
    int n_models = 0, *budgets = NULL, n_budgets = 0;
    for (int i = 0; i < n; i++) {
        intern(&models, &n_models, pts[i].model_hash);
        int seen = 0;
        for (int b = 0; b < n_budgets; b++) seen |= budgets[b] == pts[i].budget;
        if (!seen) {
            budgets = xrealloc(budgets, sizeof *budgets * (size_t)(n_budgets + 1));
            budgets[n_budgets++] = pts[i].budget;
        }
    }
    qsort(budgets, (size_t)n_budgets, sizeof *budgets, compare_int);
    /* Budgets fill rows of at most ALLOC_COLS panels; each model starts a new row. */
    int cols = n_budgets < ALLOC_COLS ? n_budgets : ALLOC_COLS;
    int rows_per_model = (n_budgets + cols - 1) / (cols ? cols : 1);
    struct grid g = {.n_rows = n_models * rows_per_model, .n_cols = cols};
    int rc = 0;
    for (int i = 0; i < n && rc == 0;) {
        int j = i;
        while (j < n && !strcmp(pts[j].model_hash, pts[i].model_hash) && pts[j].budget == pts[i].budget) j++;
        struct grid_panel *p = grid_add_panel(&g);
        int b = 0;
        while (budgets[b] != pts[i].budget) b++;
        p->row = intern(&models, &n_models, pts[i].model_hash) * rows_per_model + b / cols;
        p->col = b % cols;
        p->title = n_models > 1 ? xasprintf("%s, budget %d", pts[i].model_name, pts[i].budget)
                                : xasprintf("budget %d per head", pts[i].budget);
        p->xlabel = xstrdup("layer");
        p->ylabel = xstrdup("kept KV entries per layer");
        double lo, hi;
        free(distinct_xs(pts + i, j - i, &lo, &hi));
        p->xtics = xstrdup("");
        p->xmin = lo - 0.5;
        p->xmax = hi + 0.5;
        char *file = xasprintf("alloc_%d.dat", g.n_panels);
        /* Small markers: one per layer, 32 or more side by side. */
        rc = write_lines(ctx, &g, pts, n, pts + i, j - i, 0, 0.6, file, p, err);
        free(file);
        i = j;
    }
    if (rc == 0 && g.n_panels > 0) rc = grid_draw(ctx, &g, "alloc", err);
    grid_free(&g);
    strings_free(models, n_models);
    free(budgets);
    points_free(pts, n);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* All of them */

int plot_db(struct results_db *db, const struct plot_options *o, struct plot_outputs *out,
            struct error *err) {
    struct figure_ctx ctx;
    if (figure_ctx_open(&ctx, o, out, err)) return -1;
    int rc = draw_main(&ctx, db, err);
    if (rc == 0) rc = draw_efficiency(&ctx, db, err);
    if (rc == 0) rc = draw_alloc(&ctx, db, err);
    figure_ctx_close(&ctx);
    return rc;
}
