/*
 * score_ocrbench.c: OCRBench v1's per-item rule, from its example.py (shared/research/
 * datasets.md §3.2). An item scores 1 when any answer, normalised, is a substring of the
 * prediction normalised the same way:
 *     HME100k (dataset_name):  x.strip().replace("\n", " ").replace(" ", "")   case-sensitive
 *     every other source:      x.lower().strip().replace("\n", " ")
 * Only '\n' becomes a space ('\r' and '\t' stay unless at the ends), and the HME100k rule
 * removes ASCII spaces only. A substring test on valid UTF-8 bytes is the same as Python's
 * `in` on code points.
 */
#include "datasets/score.h"

#include <stdlib.h>
#include <string.h>
#include "datasets/pystr.h"
#include "engine/unicode.h"

static char *normalise(const char *s, int hme100k) {
    char *lower = hme100k ? NULL : py_lower(s);
    char *stripped = pystr_strip(hme100k ? s : lower);
    char *spaced = pystr_replace(stripped, "\n", " ");
    char *out = hme100k ? pystr_replace(spaced, " ", "") : spaced;
    if (hme100k) free(spaced);
    free(stripped);
    free(lower);
    return out;
}

int ocrbench_hit(const char *prediction, char *const *answers, int n, int hme100k) {
    char *pred = normalise(prediction, hme100k);
    int hit = 0;
    for (int i = 0; i < n && !hit; i++) {
        char *a = normalise(answers[i], hme100k);
        hit = strstr(pred, a) != NULL;
        free(a);
    }
    free(pred);
    return hit;
}
