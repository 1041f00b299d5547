/*
 * test_score_vqa.c: the EvalAI answer normalisation and TextVQA's leave-one-out accuracy
 * (datasets/score_vqa.c). Hand-checked tables per rule of m4c_evaluators.py (derivations in the
 * comments), then 800 random cases scored by the Python re-implementation in
 * tools/datasets/score_reference.py.
 */
#include "tests/test_score_cases.h"
#include "datasets/score.h"

struct norm_case { const char *in, *out; };

static void check_norm(const struct norm_case *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char *got = vqa_normalize(c[i].in);
        if (strcmp(got, c[i].out)) fail_msg("vqa_normalize(\"%s\") = \"%s\", want \"%s\"", c[i].in, got, c[i].out);
        free(got);
    }
}

#define CHECK_NORM(table) check_norm(table, sizeof table / sizeof table[0])

/* word_tokenize: lower, delete ',' and '?', "'s" -> " 's", strip; then \n and \t -> ' '. */
static void test_tokenize_step(void **state) {
    (void)state;
    static const struct norm_case t[] = {
        {"Hello, World?", "hello world"},
        {"John's", "john 's"},         /* the space is inserted, 's stays a word */
        {"it's", "it 's"},
        {"  Yes \n", "yes"},
        {"x\ty\nz", "x y z"},
        {"1,000", "1000"},            /* commas deleted before any digit rule could see them */
        {"WHY?", "why"},
        {"", ""},
    };
    CHECK_NORM(t);
}

/* process_punctuation: a mark is deleted when the text (as it was before ANY mark was
   processed) has it next to a space, otherwise every occurrence becomes a space. */
static void test_punctuation_rules(void **state) {
    (void)state;
    static const struct norm_case t[] = {
        {"coca-cola", "coca cola"},            /* no "- " / " -": replaced by a space */
        {"coca - cola e-mail", "coca cola email"}, /* " -" present: EVERY '-' deleted */
        {"p/q", "p q"}, {"p / q", "p q"}, {"(c)", "c"}, {"[x]{y}", "x y"},
        {"x=y+z", "x y z"}, {"p\\q", "p q"}, {"snake_case", "snake case"}, {"p>q<r", "p q r"},
        {"me@x", "me x"}, {"`q`", "q"}, {"hi!", "hi"}, {"say \"hi\"", "say hi"}, {"p;q", "p q"},
        /* Test on the ORIGINAL text: '_' turns into a space first, which puts a space next to
           '-'; the test still reads "p_-q r-s", finds no "- "/" -" and so replaces every '-'
           with a space. Testing the current text would delete them and give "p q rs". */
        {"p_-q r-s", "p q r s"},
        /* Untouched marks. */
        {"p:q", "p:q"}, {"50%", "50%"}, {"#1", "#1"}, {"$5", "$5"}, {"r&b", "r&b"},
        {"p*q", "p*q"}, {"~x^y|z", "~x^y|z"}, {"rock'n'roll", "rock'n'roll"},
    };
    CHECK_NORM(t);
}

/* PERIOD_STRIP: every '.' not followed by a digit goes (the "(?!<=\d)" is a lookahead), at
   most 32 of them (re.UNICODE = 32 passed as count). */
static void test_period_rules(void **state) {
    (void)state;
    static const struct norm_case t[] = {
        {"3.14", "3.14"}, {"3.", "3"}, {".5", ".5"}, {"1.5.", "1.5"}, {"u.s.a.", "usa"},
        {"end. start", "end start"}, {"...", ""}, {"a.\xd9\xa3", "a.\xd9\xa3"}, /* Nd U+0663 */
    };
    CHECK_NORM(t);
    char in[128] = "", want[128] = "";
    for (int i = 0; i < 33; i++) strcat(in, "a.");     /* 33 periods, none before a digit */
    for (int i = 0; i < 33; i++) strcat(want, "a");
    strcat(want, ".");                                 /* the 33rd survives */
    struct norm_case cap[] = {{in, want}};
    CHECK_NORM(cap);
    in[64] = 0;                                        /* 32 periods: all removed */
    want[32] = 0;
    CHECK_NORM(cap);
}

/* process_digit_article: number words (none..ten), then articles, then contractions. */
static void test_digit_article_contraction(void **state) {
    (void)state;
    static const struct norm_case t[] = {
        {"two", "2"}, {"Ten", "10"}, {"none", "0"}, {"zero", "0"}, {"eleven", "eleven"},
        {"one two three four five six seven eight nine", "1 2 3 4 5 6 7 8 9"},
        {"the cat", "cat"}, {"a an the", ""}, {"The One", "1"}, {"theatre", "theatre"},
        {"dont", "don't"}, {"whats up", "what's up"}, {"yall'll", "y'all'll"},
        {"Im", "im"},                  /* the table's "Im" key can never match lower-case text */
        {"somebody'd", "somebodyd"},   /* a real entry that removes the apostrophe */
        {"  many   spaces\xc2\xa0here\xe3\x80\x80too ", "many spaces here too"}, /* Python split */
    };
    CHECK_NORM(t);
}

/* k of 10 answers match: k=0..4 -> 0, 0.3, 0.6, 0.9, 1 (min(1, matches/3) averaged over the
   ten leave-one-out subsets). */
static void test_leave_one_out(void **state) {
    (void)state;
    static const double want[] = {0.0, 0.3, 0.6, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
    for (int k = 0; k <= 10; k++) {
        char *answers[10];
        for (int j = 0; j < 10; j++) answers[j] = j < k ? "Coca-Cola." : "pepsi";
        double got = vqa_accuracy("the coca cola", answers, 10);
        if (fabs(got - want[k]) > 1e-12) fail_msg("k=%d: got %.15f want %.15f", k, got, want[k]);
    }
}

static void test_reference_normalize(void **state) {
    (void)state;
    int n;
    cJSON **cases = load_cases("vqa_norm", &n);
    for (int i = 0; i < n; i++) {
        const char *in = cJSON_GetObjectItem(cases[i], "in")->valuestring;
        const char *want = cJSON_GetObjectItem(cases[i], "out")->valuestring;
        char *got = vqa_normalize(in);
        if (strcmp(got, want)) fail_msg("case %d: vqa_normalize(%s) = \"%s\", want \"%s\"", i,
                                        cJSON_PrintUnformatted(cJSON_GetObjectItem(cases[i], "in")), got, want);
        free(got);
    }
    free_cases(cases, n);
}

static void test_reference_accuracy(void **state) {
    (void)state;
    int n;
    cJSON **cases = load_cases("vqa", &n);
    for (int i = 0; i < n; i++) {
        int na;
        char **answers = case_strings(cJSON_GetObjectItem(cases[i], "answers"), &na);
        const char *pred = cJSON_GetObjectItem(cases[i], "pred")->valuestring;
        double want = cJSON_GetObjectItem(cases[i], "score")->valuedouble;
        double got = vqa_accuracy(pred, answers, na);
        if (fabs(got - want) > 1e-12) fail_msg("case %d: got %.15f want %.15f", i, got, want);
        free(answers);
    }
    free_cases(cases, n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_step),
        cmocka_unit_test(test_punctuation_rules),
        cmocka_unit_test(test_period_rules),
        cmocka_unit_test(test_digit_article_contraction),
        cmocka_unit_test(test_leave_one_out),
        cmocka_unit_test(test_reference_normalize),
        cmocka_unit_test(test_reference_accuracy),
    };
    return cmocka_run_group_tests_name("score_vqa", tests, NULL, NULL);
}
