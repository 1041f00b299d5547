/*
 * merge.h: join results databases (the shards of a Slurm job array) into one.
 *
 * Runs are matched by configuration key. A sample already present in the target is fine when
 * its results agree (prediction, score, token and KV counts, KV bytes, error, category); its
 * timings and memory may differ (a sample re-run on another node) and the first copy is kept.
 * Two different results for one (run, sample) are a conflict: the whole merge is refused with a
 * message naming the run and the sample, and the target is left exactly as it was (one
 * transaction; a target the merge created is removed again). Bench rows are appended unless an
 * identical row is already there.
 */
#ifndef SPARSEMM_RESULTS_MERGE_H
#define SPARSEMM_RESULTS_MERGE_H

#include <stdint.h>
#include "engine/util.h"

struct merge_stats {
    int64_t runs_added;          /* runs new to the target */
    int64_t runs_matched;        /* runs the target already had */
    int64_t samples_added;
    int64_t samples_identical;   /* duplicates equal in every column but the timestamp: skipped */
    int64_t samples_retimed;     /* duplicates with equal results, other timings: first kept */
    int64_t bench_added;
    int64_t bench_identical;     /* bench rows already present: skipped */
};

/* Merge sources[0..n_sources) into `into` (created when missing). None of the sources may be
   the target itself. stats may be NULL. */
int results_merge(const char *into, const char *const *sources, int n_sources,
                  struct merge_stats *stats, struct error *err);

#endif
