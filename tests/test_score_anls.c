/*
 * test_score_anls.c: DocVQA's ANLS (datasets/score_anls.c): Levenshtein on code points, the
 * threshold at exactly 0.5, the raw-length denominator, empty strings, Unicode case mapping,
 * the lmms-eval strip variant; then 400 random cases from tools/datasets/score_reference.py.
 */
#include "tests/test_score_cases.h"
#include "datasets/score.h"
#include "engine/unicode.h"

static size_t lev(const char *a, const char *b) {
    size_t na, nb;
    uint32_t *ca = utf8_to_cps(a, strlen(a), &na), *cb = utf8_to_cps(b, strlen(b), &nb);
    size_t d = levenshtein(ca, na, cb, nb);
    free(ca);
    free(cb);
    return d;
}

static void test_levenshtein(void **state) {
    (void)state;
    assert_int_equal(lev("", ""), 0);
    assert_int_equal(lev("", "abc"), 3);
    assert_int_equal(lev("kitten", "sitting"), 3);
    assert_int_equal(lev("sitting", "kitten"), 3);       /* symmetric */
    assert_int_equal(lev("flaw", "lawn"), 2);
    assert_int_equal(lev("caf\xc3\xa9", "cafe"), 1);     /* one code point, two bytes */
    assert_int_equal(lev("\xf0\x9f\x98\x80", "x"), 1);   /* U+1F600 is one edit */
}

struct anls_case {
    const char *pred;
    const char *answers[3];
    int strip;
    double want;
};

static void test_hand_cases(void **state) {
    (void)state;
    static const struct anls_case t[] = {
        {"0.28", {"0.28"}, 0, 1.0},
        {"0.29", {"0.28"}, 0, 0.75},              /* 1 - 1/4 */
        {"0.29  ", {"0.28"}, 0, 1.0 - 1.0 / 6},   /* raw length 6 in the denominator */
        {"0.29  ", {"0.28"}, 1, 0.75},            /* lmms-eval strips first */
        {"  0.28", {"0.28"}, 0, 1.0},             /* distance 0 whatever the denominator */
        {"ab", {"abcd"}, 0, 0.5},                 /* NL = 0.5 exactly: kept */
        {"abc", {"abcdefg"}, 0, 0.0},             /* 1 - 4/7 < 0.5: zeroed */
        {"abcdef", {"abcdefghijkl"}, 0, 0.5},
        {"", {""}, 0, 1.0},                       /* L = 0: NL = 0 */
        {"", {"abc"}, 0, 0.0},
        {"   ", {""}, 0, 1.0},                    /* both collapse to "", L = 3, distance 0 */
        {"HELLO", {"hello"}, 0, 1.0},
        {"new   york", {"New York"}, 0, 1.0},      /* whitespace collapsed */
        {"cat", {"dog", "cats", "cat"}, 0, 1.0},  /* best answer counts */
        {"cat", {"dog", "cats"}, 0, 0.75},
        {"caf\xc3\xa9", {"cafe"}, 0, 0.75},       /* code points: 1 edit / 4 */
        /* 'ß'.lower() stays 'ß' (distance 2 to "strasse") but 'ß'.upper() is "SS", so both
           raw lengths are 7: 1 - 2/7. */
        {"stra\xc3\x9f" "e", {"STRASSE"}, 0, 1.0 - 2.0 / 7},
        /* U+00A0 and U+3000 are Python whitespace: split() removes them. */
        {"new\xc2\xa0york\xe3\x80\x80", {"new york"}, 0, 1.0 - 0.0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int n = 0;
        while (n < 3 && t[i].answers[n]) n++;
        double got = anls(t[i].pred, (char *const *)t[i].answers, n, t[i].strip);
        if (fabs(got - t[i].want) > 1e-12)
            fail_msg("case %zu: anls(\"%s\") = %.15f, want %.15f", i, t[i].pred, got, t[i].want);
    }
}

static void test_reference_cases(void **state) {
    (void)state;
    int n;
    cJSON **cases = load_cases("anls", &n);
    for (int i = 0; i < n; i++) {
        int na;
        char **answers = case_strings(cJSON_GetObjectItem(cases[i], "answers"), &na);
        const char *pred = cJSON_GetObjectItem(cases[i], "pred")->valuestring;
        int strip = cJSON_GetObjectItem(cases[i], "strip")->valueint;
        double want = cJSON_GetObjectItem(cases[i], "score")->valuedouble;
        double got = anls(pred, answers, na, strip);
        if (fabs(got - want) > 1e-12) fail_msg("case %d: got %.15f want %.15f", i, got, want);
        free(answers);
    }
    free_cases(cases, n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levenshtein),
        cmocka_unit_test(test_hand_cases),
        cmocka_unit_test(test_reference_cases),
    };
    return cmocka_run_group_tests_name("score_anls", tests, NULL, NULL);
}
