/*
 * cublas_emu.h: a fake cuBLAS for the emulated build: the calls the CUDA backend makes, with
 * cuBLAS's names, argument lists, enum values (cublas_api.h, library_types.h of CUDA 13) and
 * documented semantics, computed by a plain reference GEMM on the host.
 *
 * The semantics are the part worth faking faithfully, because they are where GEMM wrappers go
 * wrong (research/aesthetics.md §8.2): matrices are column-major, op(X) is X or X^T by the
 * transpose flag, A is lda x (transa == N ? k : m), B is ldb x (transb == N ? n : k), C is
 * ldc x n; leading dimensions smaller than the rows they hold are refused with
 * CUBLAS_STATUS_INVALID_VALUE, as cuBLAS does; with beta == 0, C is not read (it may hold NaN).
 * Only the types the backend uses are accepted (f32 in and out, f32 compute); anything else
 * answers CUBLAS_STATUS_NOT_SUPPORTED rather than computing something plausible.
 */
#ifndef SPARSEMM_CUBLAS_EMU_H
#define SPARSEMM_CUBLAS_EMU_H

#include "engine/cuda/emu/cuda_runtime_emu.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct emu_cublas *cublasHandle_t;

typedef enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
} cublasStatus_t;

typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 } cublasOperation_t;
typedef enum { CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14 } cudaDataType;
typedef enum { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_PEDANTIC = 69 } cublasComputeType_t;
typedef enum { CUBLAS_GEMM_DEFAULT = -1 } cublasGemmAlgo_t;
typedef enum { CUBLAS_DEFAULT_MATH = 0, CUBLAS_PEDANTIC_MATH = 2 } cublasMath_t;

cublasStatus_t cublasCreate(cublasHandle_t *handle);
cublasStatus_t cublasDestroy(cublasHandle_t handle);
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
const char *cublasGetStatusString(cublasStatus_t status);

/* C = alpha op(A) op(B) + beta C */
cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                            int k, const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B,
                            cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t computeType, cublasGemmAlgo_t algo);
cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float *alpha, const float *A, int lda, const float *B, int ldb,
                           const float *beta, float *C, int ldc);

#ifdef __cplusplus
}
#endif

#endif
