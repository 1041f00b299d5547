/*
 * figure.h: what every figure needs between its data and gnuplot: a folder for the .dat and
 * params files, the "grid of line plots" description that plots/grid.gp draws, and drawing a
 * script once per output format. Internal to plots/.
 */
#ifndef SPARSEMM_FIGURE_H
#define SPARSEMM_FIGURE_H

#include <stdio.h>
#include "plots/plot.h"

struct figure_ctx {
    const struct plot_options *o;
    struct plot_outputs *out;
    char *gnuplot;              /* executable path */
    char *data_dir;
    int temp_dir;               /* data_dir is ours to remove */
    char **made;                /* [n_made] files written in data_dir, removed unless kept */
    int n_made;
};

/* Find gnuplot, create OUT and the data folder. On failure nothing is left to close. */
int figure_ctx_open(struct figure_ctx *ctx, const struct plot_options *o, struct plot_outputs *out,
                    struct error *err);
/* Remove the temporary data (unless keep_data) and free. */
void figure_ctx_close(struct figure_ctx *ctx);
/* A new file in the data folder, opened for writing; *path gets its name (owned by ctx). */
FILE *figure_data_file(struct figure_ctx *ctx, const char *name, const char **path, struct error *err);

/* Draw `script` (in scripts_dir) with the params file once per requested format into
   OUT/<base>.<fmt>. The params file sets the canvas (width_px, height_px; PDF keeps the
   proportions). */
int figure_draw(struct figure_ctx *ctx, const char *params, const char *script, const char *base,
                struct error *err);

/* One line style in a figure: the same method keeps its colour and marker everywhere. */
struct grid_series {
    char *method;               /* registry name: picks colour and marker in style.gp */
    char *title;                /* legend text */
    int variant;                /* 0 for the first series of a method, 1, 2, ... for others
                                   (dashes and open markers tell them apart) */
    double point_size;          /* 0 = no markers (FullKV's horizontal line) */
};

struct grid_panel {
    char *file;                 /* .dat with one block per series, blocks in `series` order */
    char *title;
    int row, col;
    char *series;               /* 1-based series indices, space-separated, e.g. "1 3 4" */
    char *xtics;                /* x positions to label, space-separated; "" = automatic */
    int xtics_k;                /* label ticks as 2K, 4K (context lengths) */
    int xlog;                   /* log2 x axis */
    double xmin, xmax;          /* NaN = automatic */
    int ycol;                   /* data column of y (x is column 1) */
    char *xlabel, *ylabel;
};

struct grid {
    int n_rows, n_cols;
    struct grid_panel *panels;  /* [n_panels] */
    int n_panels;
    struct grid_series *series; /* [n_series] */
    int n_series;
};

/* The 1-based index of the series titled `title`, added when new. */
int grid_series_index(struct grid *g, const char *method, const char *title, double point_size);
/* A new panel (zeroed, NaN ranges, ycol 2); strings are copied by the caller into it. */
struct grid_panel *grid_add_panel(struct grid *g);
void grid_free(struct grid *g);
/* Write the params file for grid.gp and draw it as OUT/<base>.<fmt>. */
int grid_draw(struct figure_ctx *ctx, const struct grid *g, const char *base, struct error *err);

#endif
