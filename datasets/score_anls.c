/*
 * score_anls.c: DocVQA's ANLS exactly as the official RRC evaluation script computes it
 * (shared/research/datasets.md §2.2; the same code is in lmms-eval's metrics.py):
 *
 *     for each answer a:  g = " ".join(a.strip().lower().split())
 *                         d = " ".join(p.strip().lower().split())
 *                         L = max(len(a.upper()), len(p.upper()))       <- RAW strings
 *                         NL = 0.0 if L == 0 else levenshtein(g, d) / L
 *     s = 1 - min(NL);  s = 0 if s < 0.5
 *
 * The denominator comes from the unnormalised strings, so extra spaces in a prediction raise
 * its score ("0.29  " vs "0.28" scores 5/6, "0.29" 3/4), and lengths count code points after
 * Python's full upper-casing ('ß' counts 2). Exactly 0.5 is kept.
 */
#include "datasets/score.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "datasets/pystr.h"
#include "engine/unicode.h"
#include "engine/util.h"

size_t levenshtein(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    if (na > nb) { /* keep the rows as short as the shorter string */
        const uint32_t *t = a; a = b; b = t;
        size_t tn = na; na = nb; nb = tn;
    }
    size_t *prev = xmalloc((na + 1) * sizeof *prev), *cur = xmalloc((na + 1) * sizeof *cur);
    for (size_t i = 0; i <= na; i++) prev[i] = i;
    for (size_t j = 1; j <= nb; j++) {
        cur[0] = j;
        for (size_t i = 1; i <= na; i++) {
            size_t sub = prev[i - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[i] + 1, ins = cur[i - 1] + 1;
            size_t m = sub < del ? sub : del;
            cur[i] = m < ins ? m : ins;
        }
        size_t *t = prev; prev = cur; cur = t;
    }
    size_t d = prev[na];
    free(prev);
    free(cur);
    return d;
}

/* " ".join(s.strip().lower().split()) as code points; *n gets the length. */
static uint32_t *normalise(const char *s, size_t *n) {
    char *stripped = pystr_strip(s);
    char *lower = py_lower(stripped);
    char *collapsed = pystr_collapse(lower);
    uint32_t *cps = utf8_to_cps(collapsed, strlen(collapsed), n);
    free(stripped);
    free(lower);
    free(collapsed);
    return cps;
}

double anls(const char *prediction, char *const *answers, int n, int strip_prediction) {
    assert(n >= 1);
    char *pred = strip_prediction ? pystr_strip(prediction) : xstrdup(prediction);
    size_t nd;
    uint32_t *d = normalise(pred, &nd);
    size_t pred_len = py_upper_len(pred);
    double best = 0; /* 1 - min NL = max similarity */
    for (int i = 0; i < n; i++) {
        size_t ng;
        uint32_t *g = normalise(answers[i], &ng);
        size_t a_len = py_upper_len(answers[i]);
        size_t len = a_len > pred_len ? a_len : pred_len;
        double nl = len == 0 ? 0.0 : (double)levenshtein(g, ng, d, nd) / (double)len;
        if (i == 0 || 1 - nl > best) best = 1 - nl;
        free(g);
    }
    free(d);
    free(pred);
    return best < 0.5 ? 0.0 : best;
}
