/*
 * method_setup.h: from the command line's method options to a policy for a loaded model:
 * --method NAME --budget B --param k=v ... --heads FILE. Shared by generate, sweep and bench.
 *
 * When a method needs visual-head scores and no file is given, the model directory's own
 * visual_heads.json is used if it exists (the shipped model carries one, found by
 * `sparsemm heads`).
 */
#ifndef SPARSEMM_METHOD_SETUP_H
#define SPARSEMM_METHOD_SETUP_H

#include "engine/model.h"
#include "methods/policy.h"

#define MODEL_HEADS_FILE "visual_heads.json"

/* Returns NULL with err on a bad method, parameter, budget or head file. Free with policy_free. */
struct policy *policy_for_model(const struct model *m, const char *method, int budget, const char *const *params,
                                int n_params, const char *heads_path, struct error *err);
/* The head-score file a method would use for this model: heads_path, else the model's own, else
   NULL. Caller frees. */
char *heads_path_for_model(const struct model *m, const char *heads_path);

#endif
