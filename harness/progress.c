/* progress.c: see progress.h. */
#include "harness/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "engine/util.h"

#define TTY_INTERVAL_MS 200.0
#define LOG_INTERVAL_MS 10000.0

void progress_start(struct progress *p, const char *what, int64_t total, int64_t already_done, int quiet) {
    p->what = what;
    p->total = total;
    p->done = p->done_at_start = already_done;
    p->t0_ms = p->last_ms = now_ms();
    p->tty = isatty(2);
    p->quiet = quiet;
}

static void fmt_eta(double s, char *out, size_t n) {
    if (s < 0 || s > 1e7) snprintf(out, n, "--");
    else if (s >= 3600) snprintf(out, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else snprintf(out, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

static void draw(struct progress *p, const char *status, int final) {
    double t = now_ms(), secs = (t - p->t0_ms) / 1000;
    int64_t fresh = p->done - p->done_at_start;
    double rate = secs > 0 ? fresh / secs : 0;
    char eta[32];
    fmt_eta(rate > 0 ? (p->total - p->done) / rate : -1, eta, sizeof eta);
    double pct = p->total ? 100.0 * p->done / p->total : 100.0;
    fprintf(stderr, "%s[%s] %lld/%lld (%.0f%%) | %.2f/s | ETA %s | %s%s", p->tty ? "\r\033[K" : "", p->what,
            (long long)p->done, (long long)p->total, pct, rate, final ? "0m00s" : eta, status ? status : "",
            p->tty && !final ? "" : "\n");
    fflush(stderr);
    p->last_ms = t;
}

void progress_step(struct progress *p, int64_t n, const char *status) {
    p->done += n;
    if (p->quiet) return;
    double gap = now_ms() - p->last_ms;
    if (gap >= (p->tty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS)) draw(p, status, 0);
}

void progress_finish(struct progress *p, const char *status) {
    if (!p->quiet) draw(p, status, 1);
}
