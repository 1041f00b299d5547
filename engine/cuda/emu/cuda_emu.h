/*
 * cuda_emu.h: CUDA's kernel-side spelling on top of the host emulator (kernel_emu.h), so the
 * backend's .cu files compile with g++ -x c++ unchanged. Included by engine/cuda/common.cuh
 * when SPARSEMM_CUDA_EMU is defined; nothing else includes it.
 *
 *   __global__ / __device__ / __host__   ordinary functions
 *   __shared__                           static storage: one copy, which every thread of the
 *                                        running block sees (blocks run one at a time)
 *   threadIdx, blockIdx, blockDim, ...   the emulator's per-thread / per-block coordinates
 *   __syncthreads, __syncwarp, __shfl_*  the emulator's barriers (full-warp masks only)
 *   atomicAdd, atomicMax                 plain read-modify-write (blocks never overlap)
 *   EMU_LAUNCH(kernel, grid, block, smem, stream, (args))
 *                                        what common.cuh's LAUNCH becomes: runs `kernel args`
 *                                        for every thread with device memory open to it
 */
#ifndef SPARSEMM_CUDA_EMU_H
#define SPARSEMM_CUDA_EMU_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/cuda/emu/cublas_emu.h"
#include "engine/cuda/emu/half_emu.h"
#include "engine/cuda/emu/cuda_runtime_emu.h"
#include "engine/cuda/emu/kernel_emu.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __shared__ static
#define __launch_bounds__(...)

struct dim3 {
    unsigned int x, y, z;
    dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

/* The vector types the kernels load through (16-byte aligned, as in vector_types.h). */
struct alignas(16) float4 {
    float x, y, z, w;
};
struct alignas(16) uint4 {
    unsigned int x, y, z, w;
};

#define threadIdx emu_thread_idx
#define blockIdx emu_block_idx
#define blockDim emu_block_dim
#define gridDim emu_grid_dim
static const int warpSize = 32;

static inline void __syncthreads() { emu_syncthreads(); }
static inline void __syncwarp(unsigned int mask = 0xffffffffu) { emu_syncwarp(mask); }

template <typename T> static inline uint64_t emu_pack(T v) {
    static_assert(sizeof(T) <= sizeof(uint64_t), "shuffles move at most 64 bits");
    uint64_t u = 0;
    memcpy(&u, &v, sizeof v);
    return u;
}
template <typename T> static inline T emu_unpack(uint64_t u) {
    T v;
    memcpy(&v, &u, sizeof v);
    return v;
}

template <typename T> static inline T __shfl_sync(unsigned int mask, T v, int src, int width = 32) {
    return emu_unpack<T>(emu_shfl(mask, emu_pack(v), src, width));
}
template <typename T> static inline T __shfl_xor_sync(unsigned int mask, T v, int lane_mask, int width = 32) {
    return emu_unpack<T>(emu_shfl_xor(mask, emu_pack(v), lane_mask, width));
}
template <typename T> static inline T __shfl_down_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
    return emu_unpack<T>(emu_shfl_down(mask, emu_pack(v), delta, width));
}
template <typename T> static inline T __shfl_up_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
    return emu_unpack<T>(emu_shfl_up(mask, emu_pack(v), delta, width));
}

template <typename T> static inline T atomicAdd(T *p, T v) {
    T old = *p;
    *p = old + v;
    return old;
}
template <typename T> static inline T atomicMax(T *p, T v) {
    T old = *p;
    if (v > old) *p = v;
    return old;
}

static inline float __uint_as_float(unsigned int u) { return emu_unpack<float>(u); }
static inline unsigned int __float_as_uint(float f) { return (unsigned int)emu_pack(f); }
static inline float __int_as_float(int i) { return emu_unpack<float>((uint32_t)i); }
static inline int __float_as_int(float f) { return (int)(uint32_t)emu_pack(f); }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }

/* The launch: a lambda holding the call runs once per thread. */
struct emu_launch_ctx {
    const void *kernel;
    const char *name;
    struct emu_dim3 grid, block;
    size_t smem;
    void (*body)(void *);
    void *call;
    int rc;
};
template <typename F> static void emu_call(void *f) { (*(F *)f)(); }
static inline void emu_run_launch(void *c) {
    struct emu_launch_ctx *l = (struct emu_launch_ctx *)c;
    l->rc = emu_launch(l->kernel, l->name, l->grid, l->block, l->smem, l->body, l->call);
}
template <typename F>
static inline void emu_launch_call(const void *kernel, const char *name, dim3 g, dim3 b, size_t smem, F call) {
    struct emu_launch_ctx l = {kernel, name, {g.x, g.y, g.z}, {b.x, b.y, b.z}, smem, emu_call<F>, &call, 0};
    emu_with_device_memory(emu_run_launch, &l);
    if (l.rc)
        emu_set_launch_error(l.rc == EMU_BAD_LAUNCH ? cudaErrorInvalidConfiguration : cudaErrorLaunchFailure,
                             emu_last_message());
}
#define EMU_LAUNCH(kernel, grid, block, smem, stream, args) \
    emu_launch_call((const void *)&kernel, #kernel, grid, block, smem, [&]() { kernel args; })

#endif
