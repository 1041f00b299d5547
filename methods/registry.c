/*
 * registry.c: the list of KV-cache methods, in the order `sparsemm methods` prints them: the
 * five of the paper's main comparison, its two ablations, then two classic baselines.
 * Adding a method = one file defining a `const struct method` + one line here.
 */
#include <string.h>

#include "methods/method.h"

extern const struct method method_fullkv, method_snapkv, method_pyramidkv, method_adakv, method_sparsemm,
    method_random, method_mask, method_streamingllm, method_h2o;

static const struct method *const registry[] = {
    &method_fullkv, &method_snapkv, &method_pyramidkv, &method_adakv, &method_sparsemm,
    &method_random, &method_mask, &method_streamingllm, &method_h2o,
};

#define N_METHODS ((int)(sizeof registry / sizeof registry[0]))

int method_count(void) { return N_METHODS; }

const struct method *method_at(int i) { return i >= 0 && i < N_METHODS ? registry[i] : NULL; }

const struct method *method_find(const char *name) {
    for (int i = 0; i < N_METHODS; i++)
        if (!strcmp(registry[i]->name, name)) return registry[i];
    return NULL;
}

const char *method_names(void) {
    static char names[256];
    if (!names[0]) {
        for (int i = 0; i < N_METHODS; i++) {
            if (i) strcat(names, ", ");
            strcat(names, registry[i]->name);
        }
    }
    return names;
}
