/*
 * test_util.h: what every test file includes: cmocka, the project's error type, and small
 * numeric helpers. Tests run from the repository root, so fixture paths are relative to it
 * ("tests/fixtures/...").
 */
#ifndef SPARSEMM_TEST_UTIL_H
#define SPARSEMM_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/util.h"

/* Fail the test with the error's message when a call returns non-zero. */
#define CHECK_OK(call, errp)                                                     \
    do {                                                                         \
        if ((call) != 0) fail_msg("%s failed: %s", #call, (errp)->msg);          \
    } while (0)

/* ||a - b|| / ||b|| over n floats. */
static inline double rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static inline double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || isnan(d)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

/* Assert that an error message contains a substring (so tests can check what it names). */
#define assert_msg_contains(msg, sub)                                                        \
    do {                                                                                     \
        if (!strstr((msg), (sub))) fail_msg("message \"%s\" lacks \"%s\"", (msg), (sub)); \
    } while (0)

#endif
