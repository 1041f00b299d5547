/*
 * test_score_cases.h: reads tests/fixtures/datasets/score_cases.jsonl, the reference scores
 * that tools/datasets/score_reference.py computes in Python from the official definitions,
 * for the test_score_* files.
 */
#ifndef SPARSEMM_TEST_SCORE_CASES_H
#define SPARSEMM_TEST_SCORE_CASES_H

#include <cjson/cJSON.h>
#include "tests/test_util.h"

#define SCORE_CASES "tests/fixtures/datasets/score_cases.jsonl"

/* The cases of one metric, each a parsed JSON object; free with free_cases. */
static inline cJSON **load_cases(const char *metric, int *n) {
    char *text;
    size_t len;
    struct error err;
    if (read_file(SCORE_CASES, &text, &len, &err)) fail_msg("%s", err.msg);
    cJSON **cases = NULL;
    *n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *c = cJSON_Parse(line);
        assert_non_null(c);
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(c, "metric"));
        if (!m || strcmp(m, metric)) {
            cJSON_Delete(c);
            continue;
        }
        cases = realloc(cases, (size_t)(*n + 1) * sizeof *cases);
        cases[(*n)++] = c;
    }
    free(text);
    if (*n == 0) fail_msg("no '%s' cases in %s", metric, SCORE_CASES);
    return cases;
}

static inline void free_cases(cJSON **cases, int n) {
    for (int i = 0; i < n; i++) cJSON_Delete(cases[i]);
    free(cases);
}

/* A JSON list of strings as a char* array pointing into the JSON (valid while it lives). */
static inline char **case_strings(const cJSON *list, int *n) {
    *n = cJSON_GetArraySize(list);
    char **v = calloc((size_t)*n + 1, sizeof *v);
    for (int i = 0; i < *n; i++) v[i] = cJSON_GetArrayItem(list, i)->valuestring;
    return v;
}

#endif
