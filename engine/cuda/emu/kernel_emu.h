/*
 * kernel_emu.h: runs CUDA kernels on the host, so the CUDA backend's own kernel sources are
 * tested in `make test` on machines without a GPU (research/aesthetics.md §8: no Debian
 * package emulates CUDA on the CPU; gpuocelot is stuck at sm_35 and unpackaged, HIP-CPU needs
 * hipified sources, pocl is OpenCL).
 *
 * The model is CUDA's: a grid of independent blocks, each a set of threads that share memory
 * and meet at barriers. Blocks run one after another. Inside a block every thread runs on its
 * own fiber (a stack of its own), one at a time: a thread runs until it reaches a barrier
 * (__syncthreads, a warp shuffle, __syncwarp) or returns, then the next thread runs. When every
 * thread a barrier waits for has arrived, they are all released. So barriers mean what they
 * mean on a GPU: a thread past a barrier sees every write made before it, and a kernel that
 * reads shared memory without the barrier it needs reads stale data here too.
 *
 * Checked, and reported as a launch error (cudaGetLastError) instead of hanging: a barrier that
 * some threads of the block never reach (some returned, or wait at another barrier), a warp
 * operation whose lanes disagree on the operation, and launch shapes a GPU refuses.
 *
 * Not modelled: concurrency between blocks (atomics are plain read-modify-writes), the memory
 * model, warp-synchronous code without __syncwarp, timing. See research/aesthetics.md §8.3.
 *
 * This is the C core; engine/cuda/emu/cuda_emu.h gives it CUDA's spelling for kernel sources.
 * Single host thread: launches must not run concurrently.
 */
#ifndef SPARSEMM_KERNEL_EMU_H
#define SPARSEMM_KERNEL_EMU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct emu_dim3 {
    unsigned int x, y, z;
};

/* The running thread's coordinates (valid inside a kernel body). */
extern __thread struct emu_dim3 emu_thread_idx, emu_block_idx, emu_block_dim, emu_grid_dim;

#define EMU_MAX_THREADS 1024        /* per block, as on every GPU since sm_20 */
#define EMU_DEFAULT_SMEM (48 << 10) /* dynamic shared memory without an opt-in */
#define EMU_MAX_SMEM (163 << 10)    /* sm_80's opt-in limit, the smaller of our two targets */

/* Run body(ctx) once per thread of a grid x block launch with `smem` bytes of dynamic shared
   memory (filled with 0xff bytes, a NaN pattern, at the start of each block). kernel identifies
   the kernel for its shared-memory opt-in (emu_set_max_smem); name is for messages. Returns 0,
   EMU_BAD_LAUNCH (a shape a GPU refuses) or EMU_KERNEL_FAULT (a barrier bug), with the reason
   in emu_last_message(). */
#define EMU_BAD_LAUNCH 1
#define EMU_KERNEL_FAULT 2
int emu_launch(const void *kernel, const char *name, struct emu_dim3 grid, struct emu_dim3 block, size_t smem,
               void (*body)(void *), void *ctx);

/* cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes). */
int emu_set_max_smem(const void *kernel, size_t bytes);

/* Inside a kernel body. */
void emu_syncthreads(void);
/* Warp operations. mask must name the whole warp (0xffffffff): partial masks are reported as a
   kernel fault. Shuffles move 64-bit payloads (the C++ header packs 32-bit types into them);
   width is a power of two <= 32 that splits the warp into independent segments, as in CUDA. */
void emu_syncwarp(unsigned int mask);
uint64_t emu_shfl(unsigned int mask, uint64_t v, int src_lane, int width);
uint64_t emu_shfl_xor(unsigned int mask, uint64_t v, int lane_mask, int width);
uint64_t emu_shfl_down(unsigned int mask, uint64_t v, unsigned int delta, int width);
uint64_t emu_shfl_up(unsigned int mask, uint64_t v, unsigned int delta, int width);
/* The current launch's dynamic shared memory. */
void *emu_dynamic_smem(void);

/* Why the last failed launch failed ("" if none). */
const char *emu_last_message(void);

#ifdef __cplusplus
}
#endif

#endif
