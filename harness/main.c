/*
 * main.c: the `sparsemm` entry point. Dispatches to one command; each command parses its own
 * options and prints its own --help.
 */
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"

static const struct command commands[] = {
    {"generate", cmd_generate, "one answer for an image and a prompt, with timings"},
    {"sweep", cmd_sweep, "the main job: methods x budgets x datasets into SQLite (resumable, shardable)"},
    {"methods", cmd_methods, "list the KV-cache methods, their parameters and defaults"},
    {"allocation", cmd_allocation, "per-layer, per-head KV budget of a method for a model"},
    {"merge", cmd_merge, "join shard databases of a sweep into one"},
    {"report", cmd_report, "result tables (markdown or CSV) from a results database"},
    {"score", cmd_score, "rescore a prediction file with the benchmark's official metric"},
    {"synth", cmd_synth, "synthetic TextVQA/DocVQA/OCRBench/synthdog data rendered with FreeType"},
    {"plot", cmd_plot, "paper figures (gnuplot: PNG, PDF) from a results database or head scores"},
    {"bench", cmd_bench, "decode latency, prefill time, peak memory and KV bytes vs context length"},
    {"heads", cmd_heads, "find the visual heads (the paper's OCR response analysis) -> head-score JSON"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: sparsemm <command> [options]   (sparsemm <command> --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sparsemm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
