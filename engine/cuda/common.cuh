/*
 * common.cuh: what every kernel file of the CUDA backend includes: the CUDA headers (or their
 * host emulation, engine/cuda/emu/cuda_emu.h, under SPARSEMM_CUDA_EMU), the one launch macro,
 * half-precision loads and stores, and warp/block reductions.
 *
 * Kernel style (llm.c dev/cuda, ggml-cuda): a kernel per concept, `static __global__`, with a
 * comment giving its launch shape (grid, block, shared memory); a host launcher per kernel
 * family, exported in cuda_ops.h. Kernels are written so the same source runs on the GPU and
 * in the emulator: no warp-synchronous tricks without __syncwarp/shuffles, every barrier
 * reached by every thread of the block (no early return before one), block sizes multiples of
 * 32, float math only (cuda-check builds with ptxas' --warn-on-double-precision-use as error).
 */
#ifndef SPARSEMM_CUDA_COMMON_CUH
#define SPARSEMM_CUDA_COMMON_CUH

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef SPARSEMM_CUDA_EMU
#include "engine/cuda/emu/cuda_emu.h"
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#endif

#include "engine/cuda/cuda_ops.h"

#define WARP_SIZE 32
#define FULL_MASK 0xffffffffu

/* LAUNCH(kernel, grid, block, shared_bytes, stream, (args...)): the only way kernels start.
   <<<>>> under nvcc, the emulator otherwise; then cudaGetLastError, naming kernel and shape.
   A template kernel is written kernel<T> (one template parameter: the macro splits on commas). */
static inline void launch_checked(const char *kernel, dim3 g, dim3 b, size_t smem, const char *file, int line) {
    const unsigned int gg[3] = {g.x, g.y, g.z}, bb[3] = {b.x, b.y, b.z};
    cuda_check_launch(kernel, gg, bb, smem, file, line);
}
#ifdef SPARSEMM_CUDA_EMU
#define LAUNCH(kernel, grid, block, smem, stream, args)                                \
    do {                                                                               \
        const dim3 g_ = (grid), b_ = (block);                                          \
        const size_t s_ = (smem);                                                      \
        EMU_LAUNCH(kernel, g_, b_, s_, stream, args);                                  \
        launch_checked(#kernel, g_, b_, s_, __FILE__, __LINE__);                       \
    } while (0)
#define DYNAMIC_SMEM(type, name) type *name = (type *)emu_dynamic_smem()
#define UNROLL
#else
#define LAUNCH(kernel, grid, block, smem, stream, args)                                \
    do {                                                                               \
        const dim3 g_ = (grid), b_ = (block);                                          \
        const size_t s_ = (smem);                                                      \
        kernel<<<g_, b_, s_, stream>>> args;                                           \
        launch_checked(#kernel, g_, b_, s_, __FILE__, __LINE__);                       \
    } while (0)
#define DYNAMIC_SMEM(type, name) extern __shared__ __align__(16) type name[]
#define UNROLL _Pragma("unroll")
#endif

/* Kernels that want more than 48 KiB of dynamic shared memory must say so first. */
static inline void smem_opt_in(const void *kernel, const char *name, size_t bytes) {
    if (bytes <= (48u << 10)) return;
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
               "%s needs %zu bytes of shared memory", name, bytes);
}

static __host__ __device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }
static inline unsigned int ceil_div(size_t a, size_t b) { return (unsigned int)((a + b - 1) / b); }
/* Threads for a block that loops over `work` items: a multiple of 32 in [32, cap]. */
static inline unsigned int block_threads(size_t work, unsigned int cap) {
    size_t t = (work + WARP_SIZE - 1) / WARP_SIZE * WARP_SIZE;
    return t < WARP_SIZE ? WARP_SIZE : t > cap ? cap : (unsigned int)t;
}

/* ---------------------------------------------------------------------------------------------
   Storage types. Half-precision values travel as their bits, tagged, so a template over the
   stored type picks the conversion; the emulator converts with engine/dtype.h's functions. */

struct f16_t {
    uint16_t bits;
};
struct bf16_t {
    uint16_t bits;
};

static __device__ __forceinline__ float to_f32(float v) { return v; }
static __device__ __forceinline__ float to_f32(bf16_t v) { return __uint_as_float((unsigned int)v.bits << 16); }
static __device__ __forceinline__ float to_f32(f16_t v) {
#ifdef SPARSEMM_CUDA_EMU
    return emu_f16_to_f32(v.bits);
#else
    return __half2float(__ushort_as_half(v.bits));
#endif
}

/* Round to nearest even, as torch casts. */
static __device__ __forceinline__ void store_f32(float *p, float v) { *p = v; }
static __device__ __forceinline__ void store_f32(f16_t *p, float v) {
#ifdef SPARSEMM_CUDA_EMU
    p->bits = emu_f32_to_f16(v);
#else
    p->bits = __half_as_ushort(__float2half_rn(v));
#endif
}
static __device__ __forceinline__ void store_f32(bf16_t *p, float v) {
#ifdef SPARSEMM_CUDA_EMU
    p->bits = emu_f32_to_bf16(v);
#else
    p->bits = __bfloat16_as_ushort(__float2bfloat16_rn(v));
#endif
}

/* Element i of a tensor whose dtype is known only at run time (small vectors: norm weights,
   biases; the branch is the same for every thread). */
static __device__ __forceinline__ float load_any(const void *p, int dtype, size_t i) {
    if (dtype == CUDA_F16) return to_f32(((const f16_t *)p)[i]);
    if (dtype == CUDA_BF16) return to_f32(((const bf16_t *)p)[i]);
    return ((const float *)p)[i];
}

/* ---------------------------------------------------------------------------------------------
   Reductions. Every lane of the warp must call the warp ones; every thread of the block the
   block one. */

static __device__ __forceinline__ float warp_sum(float v) {
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}
static __device__ __forceinline__ float warp_max(float v) {
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}
static __device__ __forceinline__ int warp_min_int(int v) {
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
        int u = __shfl_xor_sync(FULL_MASK, v, o);
        v = u < v ? u : v;
    }
    return v;
}

/* Sum over the block, returned to every thread. scratch: 32 floats of shared memory. The
   first barrier protects scratch from a previous call; each warp then reduces the per-warp
   sums itself, so no third barrier is needed and every thread gets the same value. */
static __device__ __forceinline__ float block_sum(float v, float *scratch) {
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE, nwarps = blockDim.x / WARP_SIZE;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_sum(lane < nwarps ? scratch[lane] : 0.0f);
}

#endif
