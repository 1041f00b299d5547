/*
 * benchmark.c: what each benchmark fixes about a run: metric, prompt suffix, answer length and
 * stop string, as lmms-eval runs it (shared/research/datasets.md; lmms-eval commit 75571cfe).
 *
 * - TextVQA (§1.4): prompt = question.capitalize() + "\nAnswer the question using a single word
 *   or phrase." (OCR tokens off, the template default). The task sets no max_new_tokens, so the
 *   llava wrapper's default of 1024 applies; generation stops at "ASSISTANT:".
 * - DocVQA (§2.3): question + the same suffix; max_new_tokens 32 (older lmms-eval used 128).
 * - OCRBench (§3.3): the bare question.strip(); max_new_tokens 128.
 * - synthdog (sparsemm.md §1.1): the head finder's "Provide all the OCR results of this image.",
 *   up to 1024 new tokens; it has no metric.
 */
#include "datasets/dataset.h"

#include <string.h>

static const struct benchmark benchmarks[BENCH_COUNT] = {
    [BENCH_TEXTVQA] = {BENCH_TEXTVQA, "textvqa", METRIC_VQA_ACCURACY, "vqa_accuracy",
                       "\nAnswer the question using a single word or phrase.", 1024, "ASSISTANT:",
                       "question_id"},
    [BENCH_DOCVQA] = {BENCH_DOCVQA, "docvqa", METRIC_ANLS, "anls",
                      "\nAnswer the question using a single word or phrase.", 32, NULL, "questionId"},
    [BENCH_OCRBENCH] = {BENCH_OCRBENCH, "ocrbench", METRIC_OCRBENCH, "ocrbench", "", 128, NULL,
                        "position"},
    [BENCH_SYNTHDOG] = {BENCH_SYNTHDOG, "synthdog", METRIC_NONE, "none", "", 1024, NULL, "id"},
};

const struct benchmark *benchmark_get(enum bench_kind kind) {
    return (unsigned)kind < BENCH_COUNT ? &benchmarks[kind] : NULL;
}

const struct benchmark *benchmark_find(const char *name) {
    for (int k = 0; k < BENCH_COUNT; k++)
        if (!strcmp(benchmarks[k].name, name)) return &benchmarks[k];
    return NULL;
}
