/*
 * figure.c: see figure.h. Sections: the data folder / drawing per format / line-plot grids.
 */
#include "plots/figure.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plots/gnuplot.h"  // defines: gnuplot_find, gnuplot_run, gnuplot_array_*

/* ------------------------------------------------------------------------------------------ */
/* The data folder */

static int mkdir_p(const char *dir, struct error *err) {
    char *p = xstrdup(dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        mkdir(p, 0777);
        *s = '/';
    }
    int rc = mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : -1;
    struct stat st;
    if (rc == 0 && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) rc = -1;
    if (rc) error_set(err, "%s: cannot create folder: %s", dir, strerror(errno));
    free(p);
    return rc;
}

int figure_ctx_open(struct figure_ctx *ctx, const struct plot_options *o, struct plot_outputs *out,
                    struct error *err) {
    memset(ctx, 0, sizeof *ctx);
    ctx->o = o;
    ctx->out = out;
    if (!o->png && !o->pdf && !o->svg) return error_set(err, "plot: no output format selected");
    char *style = path_join(o->scripts_dir, "style.gp");
    int found = file_exists(style);
    free(style);
    if (!found)
        return error_set(err, "plot: no gnuplot scripts in %s (style.gp missing); point --scripts "
                         "at the repository's plots/ folder", o->scripts_dir);
    if (!(ctx->gnuplot = gnuplot_find(err))) return -1;
    if (mkdir_p(o->out_dir, err)) goto fail;
    if (o->keep_data) {
        ctx->data_dir = path_join(o->out_dir, "data");
        if (mkdir_p(ctx->data_dir, err)) goto fail;
    } else {
        const char *tmp = getenv("TMPDIR");
        ctx->data_dir = xasprintf("%s/sparsemm-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(ctx->data_dir)) {
            error_set(err, "%s: cannot create a temporary folder: %s", ctx->data_dir, strerror(errno));
            goto fail;
        }
        ctx->temp_dir = 1;
    }
    return 0;
fail:
    free(ctx->gnuplot);
    free(ctx->data_dir);
    memset(ctx, 0, sizeof *ctx);
    return -1;
}

void figure_ctx_close(struct figure_ctx *ctx) {
    for (int i = 0; i < ctx->n_made; i++) {
        if (!ctx->o->keep_data) unlink(ctx->made[i]);
        free(ctx->made[i]);
    }
    if (ctx->temp_dir) rmdir(ctx->data_dir);
    free(ctx->made);
    free(ctx->data_dir);
    free(ctx->gnuplot);
    memset(ctx, 0, sizeof *ctx);
}

static const char *remember(struct figure_ctx *ctx, char *path) {
    ctx->made = xrealloc(ctx->made, sizeof *ctx->made * (size_t)(ctx->n_made + 1));
    ctx->made[ctx->n_made++] = path;
    return path;
}

FILE *figure_data_file(struct figure_ctx *ctx, const char *name, const char **path, struct error *err) {
    const char *p = remember(ctx, path_join(ctx->data_dir, name));
    FILE *f = fopen(p, "w");
    if (!f) error_set(err, "%s: cannot write: %s", p, strerror(errno));
    if (path) *path = p;
    return f;
}

/* ------------------------------------------------------------------------------------------ */
/* Drawing per format */

int figure_draw(struct figure_ctx *ctx, const char *params, const char *script, const char *base,
                struct error *err) {
    const char *formats[3] = {"png", "pdf", "svg"};
    const int wanted[3] = {ctx->o->png, ctx->o->pdf, ctx->o->svg};
    char *style = path_join(ctx->o->scripts_dir, "style.gp");
    char *code = path_join(ctx->o->scripts_dir, script);
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        if (!wanted[i]) continue;
        char *name = xasprintf("%s.%s", base, formats[i]);
        char *out = path_join(ctx->o->out_dir, name);
        char *log_name = xasprintf("%s.log", name);
        const char *log = remember(ctx, path_join(ctx->data_dir, log_name));
        char *quoted = gnuplot_quote(out);
        char *commands = xasprintf("fmt = '%s'; out = %s", formats[i], quoted);
        const char *files[3] = {params, style, code};
        rc = gnuplot_run(ctx->gnuplot, commands, files, 3, log, out, err);
        if (rc == 0) {
            ctx->out->paths = xrealloc(ctx->out->paths, sizeof *ctx->out->paths * (size_t)(ctx->out->n + 1));
            ctx->out->paths[ctx->out->n++] = out;
        } else {
            error_wrap(err, "drawing %s", name);
            free(out);
        }
        free(commands);
        free(quoted);
        free(log_name);
        free(name);
    }
    free(style);
    free(code);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Line-plot grids */

int grid_series_index(struct grid *g, const char *method, const char *title, double point_size) {
    int variant = 0;
    for (int i = 0; i < g->n_series; i++) {
        if (!strcmp(g->series[i].title, title)) return i + 1;
        variant += !strcmp(g->series[i].method, method);
    }
    g->series = xrealloc(g->series, sizeof *g->series * (size_t)(g->n_series + 1));
    g->series[g->n_series] = (struct grid_series){xstrdup(method), xstrdup(title), variant, point_size};
    return ++g->n_series;
}

struct grid_panel *grid_add_panel(struct grid *g) {
    g->panels = xrealloc(g->panels, sizeof *g->panels * (size_t)(g->n_panels + 1));
    struct grid_panel *p = &g->panels[g->n_panels++];
    memset(p, 0, sizeof *p);
    p->xmin = p->xmax = NAN;
    p->ycol = 2;
    return p;
}

void grid_free(struct grid *g) {
    for (int i = 0; i < g->n_panels; i++) {
        struct grid_panel *p = &g->panels[i];
        free(p->file); free(p->title); free(p->series); free(p->xtics); free(p->xlabel); free(p->ylabel);
    }
    for (int i = 0; i < g->n_series; i++) {
        free(g->series[i].method);
        free(g->series[i].title);
    }
    free(g->panels);
    free(g->series);
    memset(g, 0, sizeof *g);
}

/* Canvas: fixed pixels per panel, plus a legend band on top whose height follows the number of
   legend rows gnuplot will need (about 190 px per entry across). */
enum { PANEL_W = 420, PANEL_H = 320, KEY_ENTRY_W = 190, KEY_ROW_H = 22 };

int grid_draw(struct figure_ctx *ctx, const struct grid *g, const char *base, struct error *err) {
    char *name = xasprintf("%s.params.gp", base);
    const char *params;
    FILE *f = figure_data_file(ctx, name, &params, err);
    free(name);
    if (!f) return -1;
    int width = g->n_cols * PANEL_W;
    int per_row = width / KEY_ENTRY_W > 0 ? width / KEY_ENTRY_W : 1;
    int key_rows = (g->n_series + per_row - 1) / per_row;
    int key_px = 14 + KEY_ROW_H * key_rows;
    fprintf(f, "# %s: parameters of plots/grid.gp, written by sparsemm plot\n", base);
    gnuplot_set_num(f, "width_px", width);
    gnuplot_set_num(f, "height_px", g->n_rows * PANEL_H + key_px);
    gnuplot_set_num(f, "key_px", key_px);
    gnuplot_set_num(f, "key_cols", per_row);
    gnuplot_set_num(f, "nrows", g->n_rows);
    gnuplot_set_num(f, "ncols", g->n_cols);
    gnuplot_set_num(f, "npanels", g->n_panels);
    /* Panel fields become parallel gnuplot arrays: pfile[p], ptitle[p], ... */
    static const char *str_names[6] = {"pfile", "ptitle", "pseries", "pxtics", "pxlabel", "pylabel"};
    static const char *num_names[7] = {"prow", "pcol", "pxk", "pxlog", "pxmin", "pxmax", "pycol"};
    int n = g->n_panels;
    char **s = xcalloc((size_t)n * 6, sizeof *s);
    double *v = xcalloc((size_t)n * 7, sizeof *v);
    for (int i = 0; i < n; i++) {
        const struct grid_panel *p = &g->panels[i];
        char *strs[6] = {p->file, p->title, p->series, p->xtics, p->xlabel, p->ylabel};
        double nums[7] = {p->row, p->col, p->xtics_k, p->xlog, p->xmin, p->xmax, p->ycol};
        for (int k = 0; k < 6; k++) s[k * n + i] = strs[k];
        for (int k = 0; k < 7; k++) v[k * n + i] = nums[k];
    }
    for (int k = 0; k < 6; k++) gnuplot_array_str(f, str_names[k], s + k * n, n);
    for (int k = 0; k < 7; k++) gnuplot_array_num(f, num_names[k], v + k * n, n);
    free(s);
    free(v);
    n = g->n_series;
    s = xcalloc((size_t)n, sizeof *s);
    v = xcalloc((size_t)n, sizeof *v);
    gnuplot_set_num(f, "nseries", n);
    for (int i = 0; i < n; i++) s[i] = g->series[i].method;
    gnuplot_array_str(f, "sname", s, n);
    for (int i = 0; i < n; i++) s[i] = g->series[i].title;
    gnuplot_array_str(f, "stitle", s, n);
    for (int i = 0; i < n; i++) v[i] = g->series[i].variant;
    gnuplot_array_num(f, "svar", v, n);
    for (int i = 0; i < n; i++) v[i] = g->series[i].point_size;
    gnuplot_array_num(f, "sps", v, n);
    free(s);
    free(v);
    if (fclose(f) != 0) return error_set(err, "%s: write failed", params);
    return figure_draw(ctx, params, "grid.gp", base, err);
}
