/* backend.c: backend selection by name. */
#include "engine/backend.h"

#include <string.h>

#ifdef SPARSEMM_CUDA
struct backend *backend_cuda_create(const struct backend_options *opt, struct error *err);
#endif

const char *backend_available(void) {
#ifdef SPARSEMM_CUDA
    return "cpu cuda";
#else
    return "cpu";
#endif
}

struct backend *backend_create(const struct backend_options *opt, struct error *err) {
    const char *name = opt && opt->name ? opt->name : "cpu";
    if (!strcmp(name, "cpu")) return backend_cpu_create(opt, err);
#ifdef SPARSEMM_CUDA
    if (!strcmp(name, "cuda")) return backend_cuda_create(opt, err);
#endif
    error_set(err, "backend '%s' is not available in this build (available: %s)", name, backend_available());
    return NULL;
}

void backend_free(struct backend *be) {
    if (be) be->ops->destroy(be);
}
