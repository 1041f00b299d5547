/*
 * cuda_api.h: the CUDA runtime and cuBLAS as the backend sees them, real or emulated, and the
 * one way every call is checked.
 *
 * Built with SPARSEMM_CUDA_EMU (plain `make`), the declarations come from engine/cuda/emu/ and
 * run on the host; otherwise (`make CUDA=1`) from the toolkit's C headers. Both are C, so the
 * backend object (backend_cuda.c) is plain C either way; only the kernels are CUDA C++.
 *
 * CUDA and cuBLAS failures abort (STYLE.md: device errors are programmer errors or a dead
 * device; nothing sensible continues): the message names the call as written, file and line,
 * the error, and a printf-formatted description of the shapes involved, formatted only when
 * the call failed.
 */
#ifndef SPARSEMM_CUDA_API_H
#define SPARSEMM_CUDA_API_H

#include <stddef.h>

#ifdef SPARSEMM_CUDA_EMU
#include "engine/cuda/emu/cublas_emu.h"
#include "engine/cuda/emu/cuda_runtime_emu.h"
#else
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* CUDA_CHECK(cudaMalloc(&p, n), "%zu bytes for %s", n, what) */
#define CUDA_CHECK(call, ...) cuda_check_((call), #call, __FILE__, __LINE__, __VA_ARGS__)
#define CUBLAS_CHECK(call, ...) cublas_check_((call), #call, __FILE__, __LINE__, __VA_ARGS__)

void cuda_check_(cudaError_t err, const char *call, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void cublas_check_(cublasStatus_t st, const char *call, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* After a kernel launch: cudaGetLastError, reported with the kernel's name and launch shape. */
void cuda_check_launch(const char *kernel, const unsigned int grid[3], const unsigned int block[3], size_t smem,
                       const char *file, int line);

#ifdef __cplusplus
}
#endif

#endif
