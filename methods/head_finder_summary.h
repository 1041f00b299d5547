/*
 * head_finder_summary.h: what `sparsemm heads` prints about a head-score table: the top heads,
 * how concentrated the score mass is (the paper's point: a few heads carry most of it), and the
 * mass per layer (research/sparsemm.md §1.5 gives these numbers for the paper's llava-v1.6.json).
 */
#ifndef SPARSEMM_HEAD_FINDER_SUMMARY_H
#define SPARSEMM_HEAD_FINDER_SUMMARY_H

#include <stdio.h>

struct head_summary {
    int n_layers, n_heads;
    double total;          /* sum of the head scores (means) */
    int *order;            /* [L*H] head indices (l*H + h) by descending score, ties by index */
    double *share;         /* [L*H] each head's share of the total, by head index (0 when total is 0) */
    int n_nonzero;         /* heads with a positive score */
    int top5_n, top10_n;   /* int(0.05 * L*H) and int(0.10 * L*H), at least 1: the mask ablation's rounding */
    double top5_share, top10_share;  /* share of the total in the top top5_n / top10_n heads */
    double *layer_share;   /* [L] share of the total in each layer */
};

/* scores: [n_layers * n_heads] head scores, layer-major. Free with head_summary_free. */
void head_summary_compute(const double *scores, int n_layers, int n_heads, struct head_summary *out);
void head_summary_free(struct head_summary *s);

/* The report: the n_top best heads with score and share, the top-5%/10% shares, per-layer mass
   as a bar chart. */
void head_summary_print(const struct head_summary *s, const double *scores, int n_top, FILE *f);

#endif
