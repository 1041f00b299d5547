/*
 * golden.h: reading the reference outputs tools/golden/make_models.py dumps next to each golden
 * checkpoint (tests/fixtures/golden/<name>/golden.safetensors + golden.json).
 */
#ifndef SPARSEMM_TEST_GOLDEN_H
#define SPARSEMM_TEST_GOLDEN_H

#include "tests/test_util.h"
#include "engine/json.h"
#include "engine/safetensors.h"

#define GOLDEN_VERSION 1

struct golden {
    struct safetensors st;
    cJSON *meta;
};

/* Fails the test (with how to regenerate) if the files are missing or of another version. */
static inline void golden_open(struct golden *g, const char *dir) {
    struct error err = {{0}};
    char *p = path_join(dir, "golden.safetensors");
    if (st_open_file(&g->st, p, &err)) fail_msg("%s (regenerate: python3 tools/golden/make_models.py)", err.msg);
    free(p);
    const struct st_tensor *v = st_find(&g->st, "golden_version");
    if (!v || ((const float *)v->data)[0] != GOLDEN_VERSION)
        fail_msg("%s: golden files of another version; regenerate with python3 tools/golden/make_models.py", dir);
    p = path_join(dir, "golden.json");
    g->meta = json_load_file(p, &err);
    free(p);
    if (!g->meta) fail_msg("%s", err.msg);
}

static inline void golden_close(struct golden *g) {
    st_close(&g->st);
    cJSON_Delete(g->meta);
}

/* A golden tensor (F32) and its element count. */
static inline const float *golden_get(const struct golden *g, const char *name, int64_t *numel) {
    const struct st_tensor *t = st_find(&g->st, name);
    if (!t) fail_msg("golden tensor '%s' missing", name);
    if (numel) *numel = t->numel;
    return t->data;
}

#endif
