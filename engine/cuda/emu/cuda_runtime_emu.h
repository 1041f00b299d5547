/*
 * cuda_runtime_emu.h: the subset of the CUDA runtime API the CUDA backend uses, on the host,
 * for the emulated build (kernel_emu.h runs the kernels). Names, argument lists and the numeric
 * values of enums are those of cuda_runtime_api.h / driver_types.h (CUDA 13), so the backend's
 * C code compiles unchanged against either; only what the backend calls is declared.
 *
 * Device memory is emulated strictly: every cudaMalloc is its own mapping, between guard pages,
 * that the host can read and write only while the runtime itself works on it (kernel launches,
 * copies, memsets, the fake cuBLAS). Host code that dereferences a device pointer therefore
 * crashes here as it would with a real GPU, with a message naming the allocation; a copy whose
 * kind does not match its pointers (an upload into host memory, say) fails with
 * cudaErrorInvalidValue; a kernel running off the end of a buffer hits a guard page.
 * Everything runs synchronously; streams and events only keep order and time.
 *
 * One host thread at a time.
 */
#ifndef SPARSEMM_CUDA_RUNTIME_EMU_H
#define SPARSEMM_CUDA_RUNTIME_EMU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorLaunchFailure = 719,
} cudaError_t;

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
};

enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16, cudaDevAttrMaxSharedMemoryPerBlockOptin = 97 };

/* The fields of cudaDeviceProp the backend reads. */
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int multiProcessorCount;
    int major, minor;
};

typedef struct emu_stream *cudaStream_t;
typedef struct emu_event *cudaEvent_t;

cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device);
cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);

cudaError_t cudaMalloc(void **ptr, size_t bytes);
cudaError_t cudaFree(void *ptr);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t cudaMemsetAsync(void *ptr, int value, size_t bytes, cudaStream_t stream);

cudaError_t cudaStreamCreate(cudaStream_t *stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);

cudaError_t cudaEventCreate(cudaEvent_t *event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end);

cudaError_t cudaFuncSetAttribute(const void *func, enum cudaFuncAttribute attr, int value);

cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
const char *cudaGetErrorName(cudaError_t err);
const char *cudaGetErrorString(cudaError_t err);

/* Emulator only. */

/* Run fn(ctx) with device memory open to the host (what launches and the fake cuBLAS do). */
void emu_with_device_memory(void (*fn)(void *), void *ctx);
/* Record a failed launch for cudaGetLastError; detail is kept for emu_error_detail(). */
void emu_set_launch_error(cudaError_t err, const char *detail);
/* What the last failed call said beyond its error code ("" if nothing). */
const char *emu_error_detail(void);
/* Pretend the device has this many bytes (0: the host's physical memory), to test running out. */
void emu_set_device_bytes(size_t bytes);
/* 1 if [p, p + bytes) lies inside one emulated device allocation. */
int emu_is_device(const void *p, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
