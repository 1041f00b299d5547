/*
 * gnuplot.h: running gnuplot as a subprocess, and writing the small gnuplot parameter files
 * (variables and arrays) that the gnuplot scripts in plots/ read.
 *
 * A figure is drawn by `gnuplot -e "fmt='png'; out='FILE'" PARAMS.gp plots/style.gp
 * plots/<figure>.gp`: gnuplot runs its file arguments in order in one session, so the params
 * file defines the data, style.gp the terminal and method styles, and the figure script draws.
 */
#ifndef SPARSEMM_GNUPLOT_H
#define SPARSEMM_GNUPLOT_H

#include <stdio.h>
#include "engine/util.h"

/* The gnuplot executable found in $PATH (caller frees), or an error that says how to install
   it. */
char *gnuplot_find(struct error *err);

/* Run gnuplot with `-e commands` then the files in order; its output goes to log_path. Fails
   with the log's tail when gnuplot exits non-zero, or when `expect` (the output file) is
   missing or empty afterwards. */
int gnuplot_run(const char *gnuplot, const char *commands, const char *const *files, int n_files,
                const char *log_path, const char *expect, struct error *err);

/* A gnuplot single-quoted string literal for s ('' stands for a quote inside). Caller frees. */
char *gnuplot_quote(const char *s);

/* Parameter-file writers: `name = value` and `array name[n] = [v1, v2, ...]`. */
void gnuplot_set_num(FILE *f, const char *name, double v);
void gnuplot_set_str(FILE *f, const char *name, const char *s);
void gnuplot_array_num(FILE *f, const char *name, const double *v, int n);   /* v: [n] */
void gnuplot_array_str(FILE *f, const char *name, char *const *v, int n);    /* v: [n] */

#endif
