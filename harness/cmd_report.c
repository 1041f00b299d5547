/*
 * cmd_report.c: `sparsemm report --db FILE`: the paper's tables (one per model and dataset,
 * rows methods, columns budgets) as markdown or CSV; results/report.h defines them.
 */
#include <stdio.h>
#include <string.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "results/report.h"

int cmd_report(int argc, char **argv) {
    const char *db_path = NULL, *format_name = "markdown", *metric_name = "score", *out_path = NULL;
    struct arg_spec specs[] = {
        {"db", ARG_STR, &db_path, "FILE", "results database"},
        {"format", ARG_STR, &format_name, "F", "markdown (default) or csv (one line per cell)"},
        {"metric", ARG_STR, &metric_name, "M", "score (default), prefill, decode or memory"},
        {"out", ARG_STR, &out_path, "FILE", "write there instead of standard output"},
    };
    int rc = args_parse("report", "--db FILE [--format markdown|csv] [--metric score|prefill|decode|memory]",
                        specs, sizeof specs / sizeof specs[0], argc, argv, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (!db_path) {
        fprintf(stderr, "sparsemm report: --db FILE is required (see --help)\n");
        return 2;
    }
    enum report_format format;
    if (!strcmp(format_name, "markdown")) format = REPORT_MARKDOWN;
    else if (!strcmp(format_name, "csv")) format = REPORT_CSV;
    else {
        fprintf(stderr, "sparsemm report: --format '%s' is not markdown or csv\n", format_name);
        return 2;
    }
    struct error err = {{0}};
    enum report_metric metric;
    if (report_metric_parse(metric_name, &metric, &err)) {
        fprintf(stderr, "sparsemm report: --metric: %s\n", err.msg);
        return 2;
    }
    struct results_db *db;
    if (results_open(db_path, RESULTS_OPEN_READONLY, &db, &err)) {
        fprintf(stderr, "sparsemm report: %s\n", err.msg);
        return 1;
    }
    struct report rep;
    rc = report_build(db, metric, &rep, &err);
    results_close(db);
    if (rc) {
        fprintf(stderr, "sparsemm report: %s\n", err.msg);
        return 1;
    }
    if (rep.n_tables == 0) fprintf(stderr, "sparsemm report: %s holds no runs yet\n", db_path);
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "sparsemm report: cannot write %s\n", out_path);
        report_free(&rep);
        return 1;
    }
    rc = report_write(&rep, format, out);
    if (out != stdout && fclose(out) != 0) rc = -1;
    report_free(&rep);
    if (rc) fprintf(stderr, "sparsemm report: writing %s failed\n", out_path ? out_path : "standard output");
    return rc ? 1 : 0;
}
