/*
 * dataset.h: the benchmarks (TextVQA, DocVQA, OCRBench, synthdog OCR boxes) as one list of
 * samples each, with the prompt lmms-eval builds, the ground-truth answers and the official
 * metric. This is the whole surface the sweep runner, the head finder and `sparsemm score` use:
 *
 *     struct dataset_spec spec;   dataset_spec_parse("textvqa=val.json:limit=100", &spec, &err);
 *     struct dataset ds;          dataset_load(&spec, &ds, &err);
 *     for (int i = 0; i < ds.n; i++) {
 *         ... run the model on (ds.samples[i].image, ds.samples[i].prompt) ...
 *         scores[i] = dataset_score(&ds, i, prediction);
 *     }
 *     struct aggregate agg;       dataset_aggregate(&ds, scores, &agg);
 *
 * Formats, metrics and prompts follow shared/research/datasets.md (cited by section below).
 * Every loader reads the official file layout and a JSONL file with the same fields (one
 * object per line, chosen by the extension .jsonl/.ndjson or by `:format=jsonl`).
 */
#ifndef SPARSEMM_DATASET_H
#define SPARSEMM_DATASET_H

#include "engine/util.h"

enum bench_kind { BENCH_TEXTVQA, BENCH_DOCVQA, BENCH_OCRBENCH, BENCH_SYNTHDOG, BENCH_COUNT };

enum metric { METRIC_VQA_ACCURACY, METRIC_ANLS, METRIC_OCRBENCH, METRIC_NONE };

/* Which harness's reading of a metric to reproduce. Only ANLS differs: lmms-eval strip()s the
   prediction before scoring, which shrinks the raw-length denominator (datasets.md §2.3). For
   VQA accuracy and OCRBench the prediction is stripped by the official rules themselves. */
enum metric_variant { VARIANT_OFFICIAL, VARIANT_LMMS_EVAL };

/* What each benchmark fixes: its metric, how lmms-eval turns a question into a prompt, and how
   long it lets the model answer. Static data; see benchmark.c for the sources. */
struct benchmark {
    enum bench_kind kind;
    const char *name;          /* "textvqa", "docvqa", "ocrbench", "synthdog" */
    enum metric metric;
    const char *metric_name;   /* "vqa_accuracy", "anls", "ocrbench", "none" */
    const char *prompt_suffix; /* appended to the question (lmms-eval default post_prompt) */
    int max_new_tokens;        /* lmms-eval generation_kwargs (or the model wrapper default) */
    const char *stop;          /* extra stop string besides EOS (lmms-eval `until`), or NULL */
    const char *key_name;      /* what the sample key is, for messages: "question_id", ... */
};

const struct benchmark *benchmark_get(enum bench_kind kind);
/* By name ("textvqa", ...); NULL if unknown. */
const struct benchmark *benchmark_find(const char *name);

/* A text chunk with its box in pixels of the original image (synthdog's 2_coord: the first
   and last inked column and row, so x1 >= x0 and y1 >= y0). */
struct ocr_box {
    char *text;
    double x0, y0, x1, y1;
};

/* One question (or, for synthdog, one OCR page). All strings are UTF-8, owned by the dataset. */
struct sample {
    char *key;           /* stable and unique in the file: question_id (TextVQA), questionId
                            (DocVQA), the array position (OCRBench: its `id` is not unique),
                            id (synthdog) */
    char *image;         /* image path, resolved against the images root */
    char *question;      /* as in the file, byte for byte */
    char *prompt;        /* the text lmms-eval sends (no chat template, no image token) */
    char **answers;      /* ground truth, always a list (OCRBench's single strings wrapped) */
    int n_answers;
    char **categories;   /* OCRBench: its type; DocVQA: question_types; none for TextVQA */
    int n_categories;
    char *source;        /* OCRBench dataset_name (it selects the HME100k rule), else NULL */
    struct ocr_box *boxes; /* synthdog: every chunk in file order; answers[0] is their text */
    int n_boxes;
};

/* An entry that could not be loaded in skip mode: where it was and why. */
struct broken_entry {
    int index;           /* position in the file (0-based) */
    char *key;           /* its key if it could be read, else NULL */
    char *msg;           /* the full error message (names file, entry, field) */
};

/* Command-line dataset spec (see spec.c for the grammar). */
struct dataset_spec {
    const struct benchmark *bench;
    char *path;          /* the annotation file */
    char *images;        /* images root; NULL: the annotation file's folder */
    int limit;           /* read only the first `limit` entries of the file; 0: all */
    int skip_broken;     /* 1: record broken entries in dataset.broken and go on */
    int check_images;    /* 1 (default): a sample whose image file is missing is broken */
    int jsonl;           /* -1: by extension, 0: JSON, 1: JSONL */
    int max_new_tokens;  /* 0: the benchmark's default */
    enum metric_variant variant;
};

struct dataset {
    const struct benchmark *bench;
    char *path;
    char *images_root;
    enum metric_variant variant;
    int max_new_tokens;
    struct sample *samples;   /* [n] */
    int n;
    struct broken_entry *broken; /* [n_broken], only in skip mode */
    int n_broken;
    int *by_key;              /* [n] sample indices sorted by key, for dataset_find */
};

/* Parse "KIND=PATH[:option...]"; fills out (free with dataset_spec_free). */
int dataset_spec_parse(const char *text, struct dataset_spec *out, struct error *err);
/* A spec with defaults for one file (what tests and tools use). */
void dataset_spec_init(struct dataset_spec *spec, enum bench_kind kind, const char *path);
void dataset_spec_free(struct dataset_spec *spec);
/* Help text for the spec grammar, for the commands' --help. */
extern const char dataset_spec_help[];

/* Load the samples. A missing or malformed file fails. A broken entry (missing or mistyped
   field, missing image, duplicate key, unparsable JSONL line) fails with a message naming the
   file, the entry's position and key and the field, unless spec->skip_broken, in which case
   it is listed in out->broken. On failure *out is left empty. Free with dataset_free. */
int dataset_load(const struct dataset_spec *spec, struct dataset *out, struct error *err);
void dataset_free(struct dataset *ds);

/* Index of the sample with this key, or -1. */
int dataset_find(const struct dataset *ds, const char *key);

/* The benchmark's official score of a raw model output for sample i: VQA accuracy in [0, 1],
   ANLS in [0, 1], OCRBench 0 or 1. NAN for synthdog (no metric). */
double dataset_score(const struct dataset *ds, int i, const char *prediction);

/* Sums of per-sample scores over a group of samples (a category, or all of them). */
struct score_group {
    char *name;
    int n;               /* samples scored in the group */
    double sum;
    double value;        /* mean, or for OCRBench the integer sum (the official report) */
};

/* What a run scored. For TextVQA and DocVQA the headline is the mean over scored samples in
   [0, 1] (papers print x100). For OCRBench it is the number of hits, scaled to 1000 when the
   set is not exactly 1000 samples (1000 * hits / n), so subsets compare with the paper. */
struct aggregate {
    const char *metric;
    int n_samples;       /* samples in the dataset */
    int n_scored;        /* samples with a prediction (not NAN) */
    double sum;
    double value;        /* the headline number, described above */
    struct score_group *categories; /* per category, in order of first appearance */
    int n_categories;
    struct score_group *groups;     /* OCRBench's report lines: "Text Recognition" (the six
                                       recognition types together) and the other categories */
    int n_groups;
};

/* scores: [ds->n], NAN where no prediction was scored. Free with aggregate_free. */
void dataset_aggregate(const struct dataset *ds, const double *scores, struct aggregate *out);
void aggregate_free(struct aggregate *agg);

#endif
