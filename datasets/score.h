/*
 * score.h: the official per-question metrics, each reproducing its reference code quirks and
 * all (shared/research/datasets.md §1.3, §2.2, §3.2). Inputs are raw UTF-8 strings: every
 * metric applies its own normalisation, so callers never pre-process predictions or answers.
 */
#ifndef SPARSEMM_DATASETS_SCORE_H
#define SPARSEMM_DATASETS_SCORE_H

#include <stddef.h>
#include <stdint.h>

/* EvalAIAnswerProcessor()(answer) of MMF's m4c_evaluators.py (also LLaVA's and lmms-eval's
   copy): lower-case, punctuation rules, at most 32 periods removed, number words, articles,
   contractions. Caller frees. */
char *vqa_normalize(const char *answer);

/* TextVQA accuracy of one prediction against the human answers [n]: the mean over the n
   leave-one-out subsets of min(1, #matches / 3), after vqa_normalize on both sides. With
   n = 10 this is m4c's TextVQAAccuracyEvaluator; for other n it is lmms-eval's loop. */
double vqa_accuracy(const char *prediction, char *const *answers, int n);

/* Unit-cost edit distance between two code-point strings a [na] and b [nb]. */
size_t levenshtein(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);

/* ANLS of one prediction against answers [n] (n >= 1) as the RRC DocVQA script computes it:
   1 - min over answers of NL, NL = edit distance of the whitespace-collapsed lower-cased strings
   divided by the longer of the RAW strings' upper-cased lengths; below 0.5 it counts 0 (0.5
   itself is kept). strip_prediction = 1 reproduces lmms-eval, which strips the output first. */
double anls(const char *prediction, char *const *answers, int n, int strip_prediction);

/* OCRBench's per-item rule (its example.py): 1 if some answer, lower-cased and stripped with
   newlines made spaces, is a substring of the prediction treated the same way, else 0. For the
   HME100k source (hme100k = 1) the test is case-sensitive and all spaces are removed. */
int ocrbench_hit(const char *prediction, char *const *answers, int n, int hme100k);

#endif
