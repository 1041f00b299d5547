/* cuda_api.c: the checks of cuda_api.h. */
#include "engine/cuda/cuda_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The emulator can say more than an error code (which barrier deadlocked, which pointer was
   not device memory). */
static const char *detail(void) {
#ifdef SPARSEMM_CUDA_EMU
    return emu_error_detail();
#else
    return "";
#endif
}

static void die(const char *call, const char *file, int line, const char *what, const char *fmt, va_list ap) {
    char shapes[512];
    vsnprintf(shapes, sizeof shapes, fmt, ap);
    const char *d = detail();
    fprintf(stderr, "sparsemm cuda: %s failed at %s:%d: %s [%s]%s%s\n", call, file, line, what, shapes, *d ? ": " : "", d);
    abort();
}

void cuda_check_(cudaError_t err, const char *call, const char *file, int line, const char *fmt, ...) {
    if (err == cudaSuccess) return;
    char what[256];
    snprintf(what, sizeof what, "%s (%s)", cudaGetErrorString(err), cudaGetErrorName(err));
    va_list ap;
    va_start(ap, fmt);
    die(call, file, line, what, fmt, ap);
    va_end(ap);
}

void cublas_check_(cublasStatus_t st, const char *call, const char *file, int line, const char *fmt, ...) {
    if (st == CUBLAS_STATUS_SUCCESS) return;
    va_list ap;
    va_start(ap, fmt);
    die(call, file, line, cublasGetStatusString(st), fmt, ap);
    va_end(ap);
}

void cuda_check_launch(const char *kernel, const unsigned int g[3], const unsigned int b[3], size_t smem,
                       const char *file, int line) {
    cuda_check_(cudaGetLastError(), kernel, file, line, "launch <<<(%u,%u,%u), (%u,%u,%u), %zu bytes shared>>>", g[0],
                g[1], g[2], b[0], b[1], b[2], smem);
}
