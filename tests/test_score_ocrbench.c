/*
 * test_score_ocrbench.c: OCRBench's per-item rule (datasets/score_ocrbench.c): lower-cased
 * substring for every source, case-sensitive and space-free for HME100k; then 300 random
 * cases from tools/datasets/score_reference.py.
 */
#include "tests/test_score_cases.h"
#include "datasets/score.h"

struct ocr_case {
    const char *pred;
    const char *answers[3];
    int hme;
    int want;
};

static void test_hand_cases(void **state) {
    (void)state;
    static const struct ocr_case t[] = {
        {"The word is CENTRE.", {"centre"}, 0, 1},     /* substring after lower() */
        {"cen tre", {"centre"}, 0, 0},                /* inner spaces are kept */
        {"139 kcal", {"39"}, 0, 1},                    /* short answers match inside numbers */
        {"  AHEAD \n", {"ahead"}, 0, 1},              /* strip */
        {"A B", {"a\nb"}, 0, 1},                       /* '\n' -> ' ' on both sides */
        {"a b", {"a\rb"}, 0, 0},                       /* '\r' is not mapped */
        {"a\tb", {"a b"}, 0, 0},                       /* nor '\t' */
        {"anything", {""}, 0, 1},                      /* "" is in every string */
        {"", {"x"}, 0, 0},
        {"chatswood, epping", {"Chatswood Epping", "Chatswood, Epping"}, 0, 1}, /* any answer */
        {"Droits r\xc3\xa9serv\xc3\xa9s", {"DROITS R\xc3\x89SERV\xc3\x89S"}, 0, 1}, /* Unicode lower */
        /* HME100k: case-sensitive, every ASCII space removed after strip and '\n' -> ' '. */
        {"y_{2}=-1", {"y _ { 2 } = - 1\n", "y_2 = - 1\n"}, 1, 1},
        {"$y _ {2} = -1$", {"y _ { 2 } = - 1\n"}, 1, 1},
        {"Y_{2}=-1", {"y _ { 2 } = - 1\n"}, 1, 0},    /* case matters */
        {"x>-\\frac{7}{3}", {"x > - \\frac { 7 } { 3 }\n"}, 1, 1},
        {"x\t>-1", {"x > - 1"}, 1, 0},                 /* a tab is not a space here */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int n = 0;
        while (n < 3 && t[i].answers[n]) n++;
        int got = ocrbench_hit(t[i].pred, (char *const *)t[i].answers, n, t[i].hme);
        if (got != t[i].want) fail_msg("case %zu: ocrbench_hit(\"%s\") = %d, want %d", i, t[i].pred, got, t[i].want);
    }
}

static void test_reference_cases(void **state) {
    (void)state;
    int n;
    cJSON **cases = load_cases("ocrbench", &n);
    for (int i = 0; i < n; i++) {
        int na;
        char **answers = case_strings(cJSON_GetObjectItem(cases[i], "answers"), &na);
        const char *pred = cJSON_GetObjectItem(cases[i], "pred")->valuestring;
        int hme = cJSON_GetObjectItem(cases[i], "hme")->valueint;
        int want = cJSON_GetObjectItem(cases[i], "score")->valueint;
        if (ocrbench_hit(pred, answers, na, hme) != want) fail_msg("case %d: want %d", i, want);
        free(answers);
    }
    free_cases(cases, n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_cases),
        cmocka_unit_test(test_reference_cases),
    };
    return cmocka_run_group_tests_name("score_ocrbench", tests, NULL, NULL);
}
