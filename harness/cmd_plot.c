/*
 * cmd_plot.c: `sparsemm plot --db FILE --out DIR`: every figure the database has data for
 * (main figure, efficiency, per-layer allocation), and with --heads FILE the visual-head heat
 * map. gnuplot draws them from the scripts in plots/ (found beside the executable, or named
 * with --scripts or SPARSEMM_PLOTS_DIR).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "plots/plot.h"

/* $SPARSEMM_PLOTS_DIR, else <dir of the executable>/../plots (build/sparsemm in a checkout),
   else plots/ under the current directory. Caller frees. */
static char *default_scripts_dir(void) {
    const char *env = getenv("SPARSEMM_PLOTS_DIR");
    if (env && *env) return xstrdup(env);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *dir = path_dirname(exe);
        char *cand = xasprintf("%s/../plots", dir);
        char *style = path_join(cand, "style.gp");
        int found = file_exists(style);
        free(style);
        free(dir);
        if (found) return cand;
        free(cand);
    }
    return xstrdup("plots");
}

int cmd_plot(int argc, char **argv) {
    const char *db_path = NULL, *heads = NULL, *out_dir = NULL, *formats = "png,pdf";
    const char *metric_name = "score", *scripts = NULL;
    int keep = 0;
    struct arg_spec specs[] = {
        {"db", ARG_STR, &db_path, "FILE", "results database: main figure, efficiency, allocation"},
        {"heads", ARG_STR, &heads, "FILE", "head-score JSON (\"layer-head\": [scores]): the heat map"},
        {"out", ARG_STR, &out_dir, "DIR", "where the figures go (created when missing)"},
        {"format", ARG_STR, &formats, "LIST", "png, pdf, svg, comma-separated (default png,pdf)"},
        {"metric", ARG_STR, &metric_name, "M", "y of the main figure: score (default), prefill, decode, memory"},
        {"scripts", ARG_STR, &scripts, "DIR", "the gnuplot scripts (default: plots/ beside the executable)"},
        {"keep-data", ARG_FLAG, &keep, NULL, "keep the .dat and params files in DIR/data for hand-tuning"},
    };
    int rc = args_parse("plot", "--out DIR [--db FILE] [--heads FILE] [--format png,pdf]", specs,
                        sizeof specs / sizeof specs[0], argc, argv, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (!out_dir || (!db_path && !heads)) {
        fprintf(stderr, "sparsemm plot: need --out DIR and at least one of --db FILE, --heads FILE (see --help)\n");
        return 2;
    }
    struct error err = {{0}};
    struct plot_options o = {.out_dir = out_dir, .keep_data = keep};
    if (plot_formats_parse(formats, &o, &err) || report_metric_parse(metric_name, &o.metric, &err)) {
        fprintf(stderr, "sparsemm plot: %s\n", err.msg);
        return 2;
    }
    char *scripts_dir = scripts ? xstrdup(scripts) : default_scripts_dir();
    o.scripts_dir = scripts_dir;
    struct plot_outputs out = {0};
    rc = 0;
    if (db_path) {
        struct results_db *db;
        rc = results_open(db_path, RESULTS_OPEN_READONLY, &db, &err);
        if (rc == 0) {
            rc = plot_db(db, &o, &out, &err);
            results_close(db);
        }
    }
    if (rc == 0 && heads) rc = plot_heads(heads, &o, &out, &err);
    for (int i = 0; i < out.n; i++) printf("%s\n", out.paths[i]);
    if (rc) fprintf(stderr, "sparsemm plot: %s\n", err.msg);
    else if (out.n == 0) fprintf(stderr, "sparsemm plot: %s holds nothing to draw yet\n", db_path);
    plot_outputs_free(&out);
    free(scripts_dir);
    return rc ? 1 : 0;
}
