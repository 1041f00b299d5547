/*
 * progress.h: the progress line of long commands on stderr: what is running, done/total,
 * items per second, ETA, and a running metric. On a terminal it redraws one line in place; when
 * stderr is a file or a pipe (Slurm logs) it prints a full line every few seconds instead.
 */
#ifndef SPARSEMM_PROGRESS_H
#define SPARSEMM_PROGRESS_H

#include <stdint.h>

struct progress {
    const char *what;     /* "sweep", "heads", ... */
    int64_t total, done;  /* work items; done counts this session's and earlier ones */
    int64_t done_at_start;
    double t0_ms, last_ms;
    int tty, quiet;
};

void progress_start(struct progress *p, const char *what, int64_t total, int64_t already_done, int quiet);
/* Add n finished items and redraw (rate-limited); status is a short free text (current run,
   running metric). */
void progress_step(struct progress *p, int64_t n, const char *status);
/* Final line. */
void progress_finish(struct progress *p, const char *status);

#endif
