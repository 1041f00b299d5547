/* backend.c: backend selection by name. */
#include "engine/backend.h"

#include <string.h>

/* engine/cuda/backend_cuda.c: "cuda" on a GPU (make CUDA=1), or the same code on the host
   emulator as "cuda-emu" (plain make). */
#if defined(SPARSEMM_CUDA) || defined(SPARSEMM_CUDA_EMU)
struct backend *backend_cuda_create(const struct backend_options *opt, struct error *err);
#endif

const char *backend_available(void) {
#if defined(SPARSEMM_CUDA)
    return "cpu cuda";
#elif defined(SPARSEMM_CUDA_EMU)
    return "cpu cuda-emu";
#else
    return "cpu";
#endif
}

struct backend *backend_create(const struct backend_options *opt, struct error *err) {
    const char *name = opt && opt->name ? opt->name : "cpu";
    if (!strcmp(name, "cpu")) return backend_cpu_create(opt, err);
#if defined(SPARSEMM_CUDA)
    if (!strcmp(name, "cuda")) return backend_cuda_create(opt, err);
#elif defined(SPARSEMM_CUDA_EMU)
    if (!strcmp(name, "cuda-emu")) return backend_cuda_create(opt, err);
#endif
    error_set(err, "backend '%s' is not available in this build (available: %s)", name, backend_available());
    return NULL;
}

void backend_free(struct backend *be) {
    if (be) be->ops->destroy(be);
}
