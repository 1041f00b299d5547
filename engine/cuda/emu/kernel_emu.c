/*
 * kernel_emu.c: the block scheduler behind kernel_emu.h.
 *
 * Fibers: each thread slot of a block owns a stack (mmap'd once, with a guard page, reused by
 * every launch). A fiber is started once with makecontext/setcontext and loops forever: run
 * the kernel body for the thread it is given, mark that thread done, switch back. Switches use
 * _setjmp/_longjmp, which unlike swapcontext make no system call, so a kernel costs tens of
 * nanoseconds per thread and barrier rather than microseconds. Under AddressSanitizer every
 * switch is announced with __sanitizer_{start,finish}_switch_fiber so it tracks the stacks.
 *
 * Scheduling: a sweep resumes, in thread order, every thread that is ready; each runs until it
 * waits at a barrier or returns. Then barriers whose threads have all arrived are released (a
 * warp operation when its 32 lanes are there, __syncthreads when the whole block is). A sweep
 * that can release nothing is a kernel bug on a GPU too (a hang or undefined behaviour), and is
 * reported with what each kind of waiter was doing.
 *
 * State lives behind a thread-local pointer, so independent host threads each get their own.
 */
#ifdef _FORTIFY_SOURCE
#undef _FORTIFY_SOURCE /* its longjmp check refuses jumps between stacks, which is the point here */
#endif
#define _GNU_SOURCE
#include "engine/cuda/emu/kernel_emu.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#else
#define EMU_ASAN 0
#endif

#define WARP 32
#define STACK_BYTES (256 << 10) /* per fiber; kernels keep little on the stack, ASan frames are larger */

enum thread_state { READY, AT_BLOCK_BARRIER, AT_WARP_BARRIER, DONE };
enum warp_op { OP_SYNCWARP, OP_SHFL, OP_SHFL_XOR, OP_SHFL_DOWN, OP_SHFL_UP };
static const char *const op_names[] = {"__syncwarp", "__shfl_sync", "__shfl_xor_sync", "__shfl_down_sync",
                                       "__shfl_up_sync"};

struct fiber {
    jmp_buf ctx;
    ucontext_t uc;
    char *stack; /* usable bytes [stack, stack + STACK_BYTES); a guard page lies below */
    size_t skew; /* bytes left unused at the top (see fiber_get) */
    int started;
    void *asan_fake;
};

struct thread {
    struct emu_dim3 idx;
    enum thread_state state;
    enum warp_op op; /* while AT_WARP_BARRIER */
    int arg, width;
    uint64_t value, result;
};

struct emu {
    struct fiber *fibers[EMU_MAX_THREADS]; /* allocated on first use */
    struct thread threads[EMU_MAX_THREADS];
    int n_threads, cur;
    jmp_buf sched;
    const void *sched_bottom; /* the scheduler's stack, for ASan */
    size_t sched_size;
    void *sched_fake;
    void (*body)(void *);
    void *ctx;
    void *smem;
    int in_launch, failed;
    char msg[512];
    struct { const void *kernel; size_t bytes; } optin[64];
    int n_optin;
};

__thread struct emu_dim3 emu_thread_idx, emu_block_idx, emu_block_dim, emu_grid_dim;
static __thread struct emu *state;

static struct emu *emu_get(void) {
    if (!state) {
        state = calloc(1, sizeof *state);
        if (!state) abort();
    }
    return state;
}

static void set_msg(struct emu *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(struct emu *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------------------------------
   Fibers */

static void asan_start(void **fake, const void *bottom, size_t size) {
#if EMU_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#endif
}
static void asan_finish(void *fake, const void **bottom, size_t *size) {
#if EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, bottom, size);
#endif
}

/* Leave the running fiber for the scheduler; returns when the scheduler resumes it. */
static void to_scheduler(struct emu *e) {
    struct fiber *f = e->fibers[e->cur];
    if (!_setjmp(f->ctx)) {
        asan_start(&f->asan_fake, e->sched_bottom, e->sched_size);
        _longjmp(e->sched, 1);
    }
    asan_finish(f->asan_fake, NULL, NULL);
}

static void fiber_main(void) {
    struct emu *e = state;
    asan_finish(NULL, &e->sched_bottom, &e->sched_size);
    for (;;) {
        e->body(e->ctx);
        e->threads[e->cur].state = DONE;
        to_scheduler(e);
    }
}

static void fiber_reset(struct fiber *f) {
    if (getcontext(&f->uc) != 0) abort();
    f->uc.uc_stack.ss_sp = f->stack;
    f->uc.uc_stack.ss_size = STACK_BYTES - f->skew;
    f->uc.uc_link = NULL;
    makecontext(&f->uc, fiber_main, 0);
    f->started = 0;
#if EMU_ASAN
    ASAN_UNPOISON_MEMORY_REGION(f->stack, STACK_BYTES);
#endif
}

static struct fiber *fiber_get(struct emu *e, int t) {
    if (e->fibers[t]) return e->fibers[t];
    struct fiber *f = calloc(1, sizeof *f);
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, STACK_BYTES + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!f || m == MAP_FAILED || mprotect(m, page, PROT_NONE) != 0) {
        fprintf(stderr, "sparsemm: kernel emulator: cannot allocate a fiber stack\n");
        abort();
    }
    f->stack = m + page;
    /* Stacks are STACK_BYTES apart, so their tops would all fall in the same cache sets and
       every switch would evict the last thread's frames; start each at a different offset. */
    f->skew = (size_t)(t * 1088) % (64 << 10);
    fiber_reset(f);
    return e->fibers[t] = f;
}

/* Run thread t until it waits or returns. */
static void resume(struct emu *e, int t) {
    struct fiber *f = e->fibers[t];
    e->cur = t;
    emu_thread_idx = e->threads[t].idx;
    if (!_setjmp(e->sched)) {
        asan_start(&e->sched_fake, f->stack, STACK_BYTES);
        if (f->started) _longjmp(f->ctx, 1);
        f->started = 1;
        setcontext(&f->uc);
        abort(); /* setcontext returns only on failure */
    }
    asan_finish(e->sched_fake, NULL, NULL);
}

/* ---------------------------------------------------------------------------------------------
   Barriers */

/* A thread reports a kernel bug: the launch fails, the thread never runs again. */
static void fail_in_thread(struct emu *e) {
    e->failed = 1;
    for (;;) to_scheduler(e);
}

static uint64_t warp_wait(enum warp_op op, uint64_t v, int arg, int width, unsigned int mask) {
    struct emu *e = emu_get();
    if (!e->in_launch) {
        fprintf(stderr, "sparsemm: %s called outside a kernel\n", op_names[op]);
        abort();
    }
    struct thread *th = &e->threads[e->cur];
    if (mask != 0xffffffffu) {
        set_msg(e, "thread %d: %s with mask 0x%x (only full-warp masks are emulated)", e->cur, op_names[op], mask);
        fail_in_thread(e);
    }
    if (width < 1 || width > WARP || (width & (width - 1))) {
        set_msg(e, "thread %d: %s with width %d (must be a power of two <= 32)", e->cur, op_names[op], width);
        fail_in_thread(e);
    }
    th->state = AT_WARP_BARRIER;
    th->op = op;
    th->value = v;
    th->arg = arg;
    th->width = width;
    to_scheduler(e);
    return th->result;
}

void emu_syncthreads(void) {
    struct emu *e = emu_get();
    if (!e->in_launch) {
        fprintf(stderr, "sparsemm: __syncthreads called outside a kernel\n");
        abort();
    }
    e->threads[e->cur].state = AT_BLOCK_BARRIER;
    to_scheduler(e);
}

void emu_syncwarp(unsigned int mask) { warp_wait(OP_SYNCWARP, 0, 0, WARP, mask); }
uint64_t emu_shfl(unsigned int mask, uint64_t v, int src, int width) { return warp_wait(OP_SHFL, v, src, width, mask); }
uint64_t emu_shfl_xor(unsigned int mask, uint64_t v, int lane_mask, int width) {
    return warp_wait(OP_SHFL_XOR, v, lane_mask, width, mask);
}
uint64_t emu_shfl_down(unsigned int mask, uint64_t v, unsigned int delta, int width) {
    return warp_wait(OP_SHFL_DOWN, v, (int)delta, width, mask);
}
uint64_t emu_shfl_up(unsigned int mask, uint64_t v, unsigned int delta, int width) {
    return warp_wait(OP_SHFL_UP, v, (int)delta, width, mask);
}

/* Source lane of a shuffle per CUDA's rules; -1 means "keep your own value". */
static int shfl_source(const struct thread *th, int lane) {
    const int w = th->width, seg = lane & ~(w - 1);
    switch (th->op) {
    case OP_SHFL: return seg + (th->arg & (w - 1));
    case OP_SHFL_XOR: { /* earlier segments are readable, later ones give your own value */
        int s = lane ^ th->arg;
        return s >= seg + w ? -1 : s;
    }
    case OP_SHFL_DOWN: return lane + th->arg >= seg + w ? -1 : lane + th->arg;
    case OP_SHFL_UP: return lane - th->arg < seg ? -1 : lane - th->arg;
    case OP_SYNCWARP: return -1;
    }
    return -1;
}

/* Release warp w if all its lanes wait at the same warp operation. Returns 1 if released, 0 if
   it must wait, -1 on a kernel bug (message set). */
static int release_warp(struct emu *e, int w) {
    const int t0 = w * WARP, t1 = t0 + WARP < e->n_threads ? t0 + WARP : e->n_threads;
    int waiting = 0, done = 0;
    for (int t = t0; t < t1; t++) {
        waiting += e->threads[t].state == AT_WARP_BARRIER;
        done += e->threads[t].state == DONE;
    }
    if (waiting == 0) return 0;
    if (waiting + done < t1 - t0) return 0; /* some lanes still run or wait at __syncthreads */
    if (done) {
        int t = t0;
        while (e->threads[t].state != AT_WARP_BARRIER) t++;
        set_msg(e, "warp %d: %s reached by %d lanes while %d lanes had returned", w, op_names[e->threads[t].op],
                waiting, done);
        return -1;
    }
    for (int t = t0 + 1; t < t1; t++)
        if (e->threads[t].op != e->threads[t0].op || e->threads[t].width != e->threads[t0].width) {
            set_msg(e, "warp %d: lane 0 is at %s (width %d), lane %d at %s (width %d)", w, op_names[e->threads[t0].op],
                    e->threads[t0].width, t - t0, op_names[e->threads[t].op], e->threads[t].width);
            return -1;
        }
    for (int t = t0; t < t1; t++) {
        struct thread *th = &e->threads[t];
        int src = shfl_source(th, t - t0);
        if (src >= t1 - t0) {
            set_msg(e, "warp %d: lane %d reads lane %d with %s, which does not exist (block of %d threads)", w,
                    t - t0, src, op_names[th->op], e->n_threads);
            return -1;
        }
        th->result = src < 0 ? th->value : e->threads[t0 + src].value;
    }
    for (int t = t0; t < t1; t++) e->threads[t].state = READY;
    return 1;
}

/* Release whatever can be released. 1: progress, 0: all done, -1: kernel bug (message set). */
static int release(struct emu *e) {
    int live = 0, at_block = 0, at_warp = 0;
    for (int t = 0; t < e->n_threads; t++) {
        live += e->threads[t].state != DONE;
        at_block += e->threads[t].state == AT_BLOCK_BARRIER;
        at_warp += e->threads[t].state == AT_WARP_BARRIER;
    }
    if (live == 0) return 0;
    if (at_block == live) {
        if (live < e->n_threads) {
            set_msg(e, "__syncthreads reached by %d threads while %d had returned", live, e->n_threads - live);
            return -1;
        }
        for (int t = 0; t < e->n_threads; t++) e->threads[t].state = READY;
        return 1;
    }
    int progress = 0;
    for (int w = 0; w * WARP < e->n_threads; w++) {
        int r = release_warp(e, w);
        if (r < 0) return -1;
        progress |= r;
    }
    if (progress) return 1;
    set_msg(e, "deadlock: %d threads at __syncthreads, %d at warp operations, %d returned", at_block, at_warp,
            e->n_threads - live);
    return -1;
}

static int run_block(struct emu *e) {
    const struct emu_dim3 b = emu_block_dim;
    for (int t = 0; t < e->n_threads; t++) {
        e->threads[t] = (struct thread){.idx = {(unsigned)t % b.x, (unsigned)t / b.x % b.y, (unsigned)t / (b.x * b.y)},
                                        .state = READY};
        fiber_get(e, t);
    }
    for (;;) {
        for (int t = 0; t < e->n_threads && !e->failed; t++)
            if (e->threads[t].state == READY) resume(e, t);
        if (e->failed) return -1;
        int r = release(e);
        if (r <= 0) return r;
    }
}

/* ---------------------------------------------------------------------------------------------
   Launch */

int emu_set_max_smem(const void *kernel, size_t bytes) {
    struct emu *e = emu_get();
    if (bytes > EMU_MAX_SMEM) return -1;
    for (int i = 0; i < e->n_optin; i++)
        if (e->optin[i].kernel == kernel) {
            e->optin[i].bytes = bytes;
            return 0;
        }
    if (e->n_optin == (int)(sizeof e->optin / sizeof e->optin[0])) return -1;
    e->optin[e->n_optin].kernel = kernel;
    e->optin[e->n_optin++].bytes = bytes;
    return 0;
}

static size_t smem_limit(struct emu *e, const void *kernel) {
    for (int i = 0; i < e->n_optin; i++)
        if (e->optin[i].kernel == kernel && e->optin[i].bytes > EMU_DEFAULT_SMEM) return e->optin[i].bytes;
    return EMU_DEFAULT_SMEM;
}

static int check_shape(struct emu *e, const void *kernel, const char *name, struct emu_dim3 g, struct emu_dim3 b,
                       size_t smem) {
    const uint64_t nt = (uint64_t)b.x * b.y * b.z;
    const char *why = NULL;
    if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z) why = "a zero dimension";
    else if (g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535) why = "a grid beyond 2^31-1 x 65535 x 65535";
    else if (b.x > 1024 || b.y > 1024 || b.z > 64 || nt > EMU_MAX_THREADS) why = "more than 1024 threads per block";
    else if (smem > smem_limit(e, kernel)) why = "more dynamic shared memory than the kernel opted in to";
    if (!why) return 0;
    set_msg(e, "%s<<<(%u,%u,%u), (%u,%u,%u), %zu>>>: %s", name, g.x, g.y, g.z, b.x, b.y, b.z, smem, why);
    return -1;
}

int emu_launch(const void *kernel, const char *name, struct emu_dim3 grid, struct emu_dim3 block, size_t smem,
               void (*body)(void *), void *ctx) {
    struct emu *e = emu_get();
    e->msg[0] = 0;
    if (e->in_launch) {
        set_msg(e, "%s launched from inside a kernel (dynamic parallelism is not emulated)", name);
        return EMU_BAD_LAUNCH;
    }
    if (check_shape(e, kernel, name, grid, block, smem)) return EMU_BAD_LAUNCH;
    e->smem = smem ? malloc(smem) : NULL;
    if (smem && !e->smem) {
        set_msg(e, "%s: cannot allocate %zu bytes of shared memory", name, smem);
        return EMU_BAD_LAUNCH;
    }
    e->body = body;
    e->ctx = ctx;
    e->n_threads = (int)(block.x * block.y * block.z);
    e->in_launch = 1;
    e->failed = 0;
    emu_grid_dim = grid;
    emu_block_dim = block;
    int rc = 0;
    for (unsigned z = 0; z < grid.z && !rc; z++)
        for (unsigned y = 0; y < grid.y && !rc; y++)
            for (unsigned x = 0; x < grid.x && !rc; x++) {
                emu_block_idx = (struct emu_dim3){x, y, z};
                if (smem) memset(e->smem, 0xff, smem);
                rc = run_block(e);
            }
    if (rc) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        set_msg(e, "%s block (%u,%u,%u): %s", name, emu_block_idx.x, emu_block_idx.y, emu_block_idx.z, why);
        for (int t = 0; t < e->n_threads; t++) fiber_reset(e->fibers[t]); /* abandon the stuck threads */
        rc = EMU_KERNEL_FAULT;
    }
    e->in_launch = 0;
    free(e->smem);
    e->smem = NULL;
    return rc;
}

void *emu_dynamic_smem(void) { return emu_get()->smem; }

const char *emu_last_message(void) { return emu_get()->msg; }
