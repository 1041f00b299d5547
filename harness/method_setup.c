/* method_setup.c: see method_setup.h. */
#include "harness/method_setup.h"

#include <stdlib.h>

char *heads_path_for_model(const struct model *m, const char *heads_path) {
    if (heads_path) return xstrdup(heads_path);
    char *p = path_join(m->dir, MODEL_HEADS_FILE);
    if (file_exists(p)) return p;
    free(p);
    return NULL;
}

struct policy *policy_for_model(const struct model *m, const char *method, int budget, const char *const *params,
                                int n_params, const char *heads_path, struct error *err) {
    struct method_params mp;
    if (method_params_parse(&mp, method, params, n_params, err)) return NULL;
    struct head_scores *hs = NULL;
    if (mp.method->needs_head_scores) {
        char *path = heads_path_for_model(m, heads_path);
        if (!path) {
            error_set(err, "method '%s' needs visual-head scores: pass --heads FILE (made by `sparsemm heads`), "
                           "or put %s in %s", method, MODEL_HEADS_FILE, m->dir);
            return NULL;
        }
        int rc = head_scores_load(path, &hs, err);
        free(path);
        if (rc) return NULL;
    }
    const struct text_config *t = &m->cfg.text;
    struct policy_dims dims = {t->n_layers, t->n_heads, t->n_kv_heads, t->head_dim};
    struct policy *p = policy_create(&mp, budget, &dims, hs, err);
    head_scores_free(hs);
    return p;
}
