/*
 * head_scores.h: visual-head scores in the official SparseMM JSON format, so files from the
 * paper's repository work as they are (research/sparsemm.md §1.5):
 *
 *   {"0-0": [s_0, s_1, ...], "0-1": [...], ..., "31-31": [...]}
 *
 * one key "layer-head" per query head, written in layer-major order, each value the list of
 * per-sample scores (ints or floats); a head's score is the mean of its list. The official
 * consumer takes heads in the file's key order; we place each list by its key, which is the
 * same for every file the official tools write.
 */
#ifndef SPARSEMM_HEAD_SCORES_H
#define SPARSEMM_HEAD_SCORES_H

#include "engine/util.h"

struct head_scores {
    int n_layers, n_heads;  /* query heads per layer */
    int n_samples;          /* scores per head; every head has the same number */
    int stride;             /* allocated samples per head (>= n_samples) */
    double *samples;        /* [n_layers * n_heads][stride]: head (l, h) at row l*n_heads + h */
};

/* An empty table (no samples) for a writer such as the head finder. Free with
   head_scores_free. */
struct head_scores *head_scores_new(int n_layers, int n_heads);
void head_scores_free(struct head_scores *hs);

/* Append one sample's scores, score: [n_layers * n_heads] in layer-major order. */
void head_scores_add_sample(struct head_scores *hs, const double *score);

/* The head scores: out: [n_layers * n_heads], the mean of each head's samples, summed the way
   numpy sums (pairwise), so they equal the official np.mean bit for bit; 0 with no samples. */
void head_scores_means(const struct head_scores *hs, double *out);

/* Read a file. Errors name the file and the key at fault: malformed keys ("3-x"), duplicate or
   missing heads, empty, non-numeric, negative or non-finite scores, lists of unequal lengths.
   *out is the caller's, freed with head_scores_free. */
int head_scores_load(const char *path, struct head_scores **out, struct error *err);

/* Write in the official format (keys in layer-major order). */
int head_scores_save(const struct head_scores *hs, const char *path, struct error *err);

/* 0 when the table is n_layers x n_heads; otherwise -1 with a message that states both shapes,
   prefixed by `what` (the file name where known). */
int head_scores_check_shape(const struct head_scores *hs, const char *what, int n_layers, int n_heads,
                            struct error *err);

#endif
