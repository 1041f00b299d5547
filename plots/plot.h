/*
 * plot.h: the paper's figures, drawn by gnuplot from a results database or a head-score file.
 *
 *   main_<metric>   one panel per dataset (rows: models), x = KV budget per head (log2), y = the
 *                   metric, one line per method with markers, FullKV a dashed black line
 *   efficiency      decode latency (ms/token) and peak memory (GiB) vs context length per
 *                   method, one row per model (from the `bench` table)
 *   alloc           mean kept KV entries per layer (sum over KV heads) of each method, one panel
 *                   per (model, budget) (from samples.kept_per_layer; FullKV left out: it keeps
 *                   everything)
 *   heads           layer x head heat map of visual-head scores, normalised to max 1
 *
 * Each figure is written as OUT/<name>.<fmt> for every requested format. The data go through
 * .dat files and a params file (plots/gnuplot.h); the drawing is in the plots/ gnuplot scripts.
 */
#ifndef SPARSEMM_PLOT_H
#define SPARSEMM_PLOT_H

#include "engine/util.h"
#include "results/db.h"
#include "results/report.h"

struct plot_options {
    const char *out_dir;        /* created when missing */
    const char *scripts_dir;    /* the folder holding style.gp, grid.gp, heatmap.gp */
    int png, pdf, svg;          /* which formats to write (at least one) */
    enum report_metric metric;  /* y of the main figure */
    int keep_data;              /* keep the .dat and params files in OUT/data (for hand-tuning);
                                   otherwise they live in a temporary folder removed afterwards */
};

/* The files a call wrote, in order. */
struct plot_outputs {
    char **paths;               /* [n], owned */
    int n;
};
void plot_outputs_free(struct plot_outputs *out);

/* "png,pdf" -> o->png/pdf/svg. */
int plot_formats_parse(const char *list, struct plot_options *o, struct error *err);

/* Every figure the database has data for (main, efficiency, alloc); none is not an error.
   Appends the files written to *out. */
int plot_db(struct results_db *db, const struct plot_options *o, struct plot_outputs *out,
            struct error *err);

/* The heat map of a head-score file in the official format: keys "layer-head", values lists
   of per-sample scores (a head's score is their mean). */
int plot_heads(const char *path, const struct plot_options *o, struct plot_outputs *out,
               struct error *err);

/* Read a head-score file into scores[layer * n_heads + head] = mean score; layers and heads
   are inferred from the keys (max index + 1) and every pair must be present. Caller frees
   *scores. */
int plot_head_scores_load(const char *path, double **scores, int *n_layers, int *n_heads,
                          struct error *err);

#endif
