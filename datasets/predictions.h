/*
 * predictions.h: reading a prediction file for rescoring: JSONL, one object per line holding
 * a sample key and the model's raw output, e.g.
 *     {"question_id": 34602, "prediction": "nous les gosses"}
 *     {"key": "17", "answer": "CENTRE"}
 * Key fields, first present wins: key, question_id, questionId, qid, idx, index (for OCRBench
 * the key is the position in OCRBench.json, never its non-unique `id`). Text fields:
 * prediction, answer, pred, predict, text, response. The text is kept raw: each metric applies
 * its own normalisation.
 */
#ifndef SPARSEMM_DATASETS_PREDICTIONS_H
#define SPARSEMM_DATASETS_PREDICTIONS_H

#include "datasets/dataset.h"

struct predictions {
    char **text;   /* [n] the prediction for sample i of the dataset, or NULL if none */
    int n;         /* = the dataset's n */
    int n_unknown; /* lines whose key names no sample (e.g. a prediction file for a larger set) */
};

/* Errors (naming file and line): unreadable file, malformed line, a line without a key or a
   text field, two predictions for one sample. Free with predictions_free. */
int predictions_load(const char *path, const struct dataset *ds, struct predictions *out,
                     struct error *err);
void predictions_free(struct predictions *p);

#endif
