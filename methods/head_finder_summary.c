/*
 * head_finder_summary.c: see head_finder_summary.h.
 */
#include "methods/head_finder_summary.h"

#include <stdlib.h>
#include <string.h>

#include "engine/util.h"

/* Heads ranked by (score descending, index ascending). */
struct ranked {
    double score;
    int index;
};

static int by_score_desc(const void *pa, const void *pb) {
    const struct ranked *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static int top_count(double ratio, int n) {
    int k = (int)(ratio * n);
    return k < 1 ? 1 : k;
}

void head_summary_compute(const double *scores, int n_layers, int n_heads, struct head_summary *out) {
    const int n = n_layers * n_heads;
    memset(out, 0, sizeof *out);
    out->n_layers = n_layers;
    out->n_heads = n_heads;
    out->order = xmalloc(sizeof *out->order * (size_t)n);
    out->share = xcalloc((size_t)n, sizeof *out->share);
    out->layer_share = xcalloc((size_t)n_layers, sizeof *out->layer_share);
    struct ranked *rank = xmalloc(sizeof *rank * (size_t)n);
    for (int i = 0; i < n; i++) {
        rank[i] = (struct ranked){scores[i], i};
        out->total += scores[i];
        out->n_nonzero += scores[i] > 0;
    }
    qsort(rank, (size_t)n, sizeof *rank, by_score_desc);
    for (int i = 0; i < n; i++) out->order[i] = rank[i].index;
    free(rank);
    out->top5_n = top_count(0.05, n);
    out->top10_n = top_count(0.10, n);
    if (out->total <= 0) return;
    for (int i = 0; i < n; i++) {
        out->share[i] = scores[i] / out->total;
        out->layer_share[i / n_heads] += out->share[i];
    }
    for (int k = 0; k < out->top10_n; k++) {
        const double s = out->share[out->order[k]];
        if (k < out->top5_n) out->top5_share += s;
        out->top10_share += s;
    }
}

void head_summary_free(struct head_summary *s) {
    if (!s) return;
    free(s->order);
    free(s->share);
    free(s->layer_share);
    memset(s, 0, sizeof *s);
}

void head_summary_print(const struct head_summary *s, const double *scores, int n_top, FILE *f) {
    const int n = s->n_layers * s->n_heads;
    fprintf(f, "%d heads (%d layers x %d query heads), %d with a non-zero score\n", n, s->n_layers, s->n_heads,
            s->n_nonzero);
    if (s->total <= 0) {
        fprintf(f, "no head scored: no generated token matched a chunk while attending to its box\n");
        return;
    }
    if (n_top > n) n_top = n;
    fprintf(f, "\ntop heads   score       share\n");
    for (int k = 0; k < n_top; k++) {
        const int i = s->order[k];
        char key[32];
        snprintf(key, sizeof key, "%d-%d", i / s->n_heads, i % s->n_heads);
        fprintf(f, "  %-8s  %-10.6g  %5.2f%%\n", key, scores[i], 100 * s->share[i]);
    }
    fprintf(f, "\nmass in the top 5%% of heads (%d):  %5.1f%%\n", s->top5_n, 100 * s->top5_share);
    fprintf(f, "mass in the top 10%% of heads (%d): %5.1f%%\n", s->top10_n, 100 * s->top10_share);
    fprintf(f, "\nlayer  mass\n");
    for (int l = 0; l < s->n_layers; l++) {
        char bar[41];
        int w = (int)(40 * s->layer_share[l] + 0.5);
        memset(bar, '#', (size_t)w);
        bar[w] = 0;
        fprintf(f, "  %3d  %5.1f%%  %s\n", l, 100 * s->layer_share[l], bar);
    }
}
