/*
 * score_vqa.c: TextVQA's VQA accuracy with the EvalAI answer normalisation, as MMF's
 * m4c_evaluators.py implements it (EvalAIAnswerProcessor + TextVQAAccuracyEvaluator; LLaVA and
 * lmms-eval carry identical copies). shared/research/datasets.md §1.3 lists the steps; the
 * quirks reproduced here on purpose:
 *   - each punctuation mark is deleted or replaced by a space depending on a test run on the
 *     text as it was before ANY mark was processed, not on the text so far;
 *   - the period regex "(?!<=\d)(\.)(?!\d)" removes every '.' not followed by a digit (its
 *     first group is a lookahead, not a lookbehind), and only the first 32 of them, because
 *     re.UNICODE (= 32) is passed where Pattern.sub expects `count`;
 *   - number words map to digits before articles are dropped, then contractions are restored;
 *     the table's capitalised keys ("Im", "Ive", ...) can never match lower-cased text.
 */
#include "datasets/score.h"

#include <stdlib.h>
#include <string.h>
#include "datasets/pystr.h"
#include "engine/unicode.h"
#include "engine/util.h"

/* EvalAIAnswerProcessor.PUNCTUATIONS, in its order (the order matters: see above). */
static const char punctuation[] = ";/[]\"{}()=+\\_-><@`,?!";

/* EvalAIAnswerProcessor.NUMBER_MAP */
static const char *const number_map[][2] = {
    {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"}, {"three", "3"}, {"four", "4"},
    {"five", "5"}, {"six", "6"}, {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"},
};

static const char *const articles[] = {"a", "an", "the"};

/* EvalAIAnswerProcessor.CONTRACTIONS, every entry in file order (m4c_evaluators.py). */
static const char *const contractions[][2] = {
    {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"},
    {"couldnt", "couldn't"}, {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"},
    {"didnt", "didn't"}, {"doesnt", "doesn't"}, {"dont", "don't"}, {"hadnt", "hadn't"},
    {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"}, {"hasnt", "hasn't"},
    {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"},
    {"hes", "he's"}, {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"},
    {"Id've", "I'd've"}, {"I'dve", "I'd've"}, {"Im", "I'm"}, {"Ive", "I've"}, {"isnt", "isn't"},
    {"itd", "it'd"}, {"itd've", "it'd've"}, {"it'dve", "it'd've"}, {"itll", "it'll"},
    {"let's", "let's"}, {"maam", "ma'am"}, {"mightnt", "mightn't"}, {"mightnt've", "mightn't've"},
    {"mightn'tve", "mightn't've"}, {"mightve", "might've"}, {"mustnt", "mustn't"},
    {"mustve", "must've"}, {"neednt", "needn't"}, {"notve", "not've"}, {"oclock", "o'clock"},
    {"oughtnt", "oughtn't"}, {"ow's'at", "'ow's'at"}, {"'ows'at", "'ow's'at"},
    {"'ow'sat", "'ow's'at"}, {"shant", "shan't"}, {"shed've", "she'd've"},
    {"she'dve", "she'd've"}, {"she's", "she's"}, {"shouldve", "should've"},
    {"shouldnt", "shouldn't"}, {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"},
    {"somebody'd", "somebodyd"}, {"somebodyd've", "somebody'd've"},
    {"somebody'dve", "somebody'd've"}, {"somebodyll", "somebody'll"},
    {"somebodys", "somebody's"}, {"someoned", "someone'd"}, {"someoned've", "someone'd've"},
    {"someone'dve", "someone'd've"}, {"someonell", "someone'll"}, {"someones", "someone's"},
    {"somethingd", "something'd"}, {"somethingd've", "something'd've"},
    {"something'dve", "something'd've"}, {"somethingll", "something'll"}, {"thats", "that's"},
    {"thered", "there'd"}, {"thered've", "there'd've"}, {"there'dve", "there'd've"},
    {"therere", "there're"}, {"theres", "there's"}, {"theyd", "they'd"},
    {"theyd've", "they'd've"}, {"they'dve", "they'd've"}, {"theyll", "they'll"},
    {"theyre", "they're"}, {"theyve", "they've"}, {"twas", "'twas"}, {"wasnt", "wasn't"},
    {"wed've", "we'd've"}, {"we'dve", "we'd've"}, {"weve", "we've"}, {"werent", "weren't"},
    {"whatll", "what'll"}, {"whatre", "what're"}, {"whats", "what's"}, {"whatve", "what've"},
    {"whens", "when's"}, {"whered", "where'd"}, {"wheres", "where's"}, {"whereve", "where've"},
    {"whod", "who'd"}, {"whod've", "who'd've"}, {"who'dve", "who'd've"}, {"wholl", "who'll"},
    {"whos", "who's"}, {"whove", "who've"}, {"whyll", "why'll"}, {"whyre", "why're"},
    {"whys", "why's"}, {"wont", "won't"}, {"wouldve", "would've"}, {"wouldnt", "wouldn't"},
    {"wouldnt've", "wouldn't've"}, {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"},
    {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"}, {"yall'd've", "y'all'd've"},
    {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"}, {"youd", "you'd"},
    {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"}, {"youre", "you're"},
    {"youve", "you've"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Python's re `\d` on str patterns is category Nd. engine/unicode.h offers the wider \p{N}
   (adding Nl and No: Roman numerals, superscripts, fractions, circled digits), so a period
   before one of those is kept where Python would remove it; ASCII and all Nd digits agree. */
static int is_decimal(uint32_t cp) { return uni_is_number(cp); }

/* s = f(s), freeing the old string. */
static char *replace_owned(char *s, const char *from, const char *to) {
    char *r = pystr_replace(s, from, to);
    free(s);
    return r;
}

/* word_tokenize, then the newline/tab step of __call__. */
static char *tokenize(const char *answer) {
    char *s = py_lower(answer);
    s = replace_owned(s, ",", "");
    s = replace_owned(s, "?", "");
    s = replace_owned(s, "'s", " 's");
    char *t = pystr_strip(s);
    free(s);
    t = replace_owned(t, "\n", " ");
    t = replace_owned(t, "\t", " ");
    s = pystr_strip(t);
    free(t);
    return s;
}

/* Delete the first 32 periods that are not followed by a decimal digit. */
static void strip_periods(char *s) {
    size_t n = strlen(s), o = 0;
    int removed = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && removed < 32) {
            uint32_t next = 0;
            if (i + 1 < n) utf8_decode(s + i + 1, n - i - 1, &next);
            if (i + 1 >= n || !is_decimal(next)) {
                removed++;
                continue;
            }
        }
        s[o++] = s[i];
    }
    s[o] = 0;
}

/* process_punctuation. Its third condition, COMMA_STRIP (a digit, commas, a digit) searched in
   the text, can never hold here because tokenize() already deleted every comma. */
static char *process_punctuation(const char *in) {
    char *out = xstrdup(in);
    for (const char *p = punctuation; *p; p++) {
        char mark[2] = {*p, 0}, mark_space[3] = {*p, ' ', 0}, space_mark[3] = {' ', *p, 0};
        int adjacent_space = strstr(in, mark_space) || strstr(in, space_mark);
        out = replace_owned(out, mark, adjacent_space ? "" : " ");
    }
    strip_periods(out);
    return out;
}

static const char *map_word(const char *w) {
    for (size_t i = 0; i < COUNT(number_map); i++)
        if (!strcmp(w, number_map[i][0])) return number_map[i][1];
    return w;
}

static int is_article(const char *w) {
    for (size_t i = 0; i < COUNT(articles); i++)
        if (!strcmp(w, articles[i])) return 1;
    return 0;
}

static const char *expand_contraction(const char *w) {
    for (size_t i = 0; i < COUNT(contractions); i++)
        if (!strcmp(w, contractions[i][0])) return contractions[i][1];
    return w;
}

/* process_digit_article: lower, split on whitespace, number words, articles, contractions. */
static char *process_digit_article(const char *in) {
    char *lower = py_lower(in);
    char *words = pystr_collapse(lower); /* split() then join: words separated by one space */
    free(lower);
    size_t n = strlen(words);
    char *out = xmalloc(4 * n + 16);     /* no word grows by more than a factor of 4 */
    size_t o = 0;
    for (char *w = words; *w;) {
        char *end = strchr(w, ' ');
        if (end) *end = 0;
        const char *m = map_word(w);
        if (!is_article(m)) {
            const char *c = expand_contraction(m);
            if (o) out[o++] = ' ';
            memcpy(out + o, c, strlen(c));
            o += strlen(c);
        }
        if (!end) break;
        w = end + 1;
    }
    out[o] = 0;
    free(words);
    return out;
}

char *vqa_normalize(const char *answer) {
    char *t = tokenize(answer);
    char *p = process_punctuation(t);
    char *d = process_digit_article(p);
    free(t);
    free(p);
    return d;
}

double vqa_accuracy(const char *prediction, char *const *answers, int n) {
    if (n <= 0) return 0.0;
    char *pred = vqa_normalize(prediction);
    unsigned char *equal = xmalloc((size_t)n); /* [n] answer j normalises to the prediction */
    int matches = 0;
    for (int j = 0; j < n; j++) {
        char *gt = vqa_normalize(answers[j]);
        equal[j] = !strcmp(gt, pred);
        matches += equal[j];
        free(gt);
    }
    free(pred);
    /* m4c's loop: leave answer i out, count the others equal to the prediction, cap at 3;
       summed in answer order like the reference so the float result is the same. */
    double sum = 0;
    for (int i = 0; i < n; i++) {
        int others = matches - equal[i];
        sum += others >= 3 ? 1.0 : (double)others / 3;
    }
    free(equal);
    return sum / n;
}
