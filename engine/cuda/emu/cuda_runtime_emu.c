/*
 * cuda_runtime_emu.c: the CUDA runtime subset of cuda_runtime_emu.h on host memory.
 *
 * Each cudaMalloc maps [guard page][data pages][guard page]; the data ends at the end of its
 * last page, rounded to cudaMalloc's 256-byte alignment, so a kernel that runs past the end of
 * a buffer faults on the guard. Data pages are PROT_NONE except inside emu_with_device_memory,
 * which the runtime's own copies and memsets, kernel launches (cuda_emu.h) and the fake cuBLAS
 * go through.
 *
 * Opening every allocation for every launch would cost two mprotect calls per allocation per
 * launch (a model has hundreds of weights). Instead allocations open lazily: inside
 * emu_with_device_memory, the SIGSEGV handler makes the allocation that was touched readable
 * and writable and lets the access repeat; on leaving, only the allocations opened meanwhile
 * are closed again. Outside it, a fault in device memory is a host access: the handler names
 * the allocation, then lets the previous handler (the default, or AddressSanitizer's) report
 * the crash with its stack.
 */
#define _GNU_SOURCE
#include "engine/cuda/emu/cuda_runtime_emu.h"
#include "engine/cuda/emu/kernel_emu.h"

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define ALIGN 256

struct alloc {
    char *map, *data;
    size_t map_bytes, data_pages_bytes, bytes;
    struct alloc *next;
    struct alloc *next_open; /* on the list of allocations opened by the current access window */
    int open;
};

struct emu_stream {
    int unused;
};
struct emu_event {
    double ms;
    int recorded;
};

static struct {
    struct alloc *allocs;
    struct alloc *opened;
    size_t live_bytes;
    size_t device_bytes; /* 0: the host's physical memory */
    int open_depth;
    struct sigaction old_segv;
    cudaError_t last;
    char detail[512];
} rt;

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

void emu_set_device_bytes(size_t bytes) { rt.device_bytes = bytes; }

static size_t device_total(void) {
    if (rt.device_bytes) return rt.device_bytes;
    return (size_t)sysconf(_SC_PHYS_PAGES) * page_size();
}

static cudaError_t fail(cudaError_t err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cudaError_t fail(cudaError_t err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt.detail, sizeof rt.detail, fmt, ap);
    va_end(ap);
    rt.last = err;
    return err;
}

static struct alloc *find(const void *p, size_t bytes) {
    const char *c = p;
    for (struct alloc *a = rt.allocs; a; a = a->next)
        if (c >= a->data && c <= a->data + a->bytes && bytes <= (size_t)(a->data + a->bytes - c)) return a;
    return NULL;
}

int emu_is_device(const void *p, size_t bytes) { return p && find(p, bytes ? bytes : 1) != NULL; }

/* ---------------------------------------------------------------------------------------------
   Protection */

static void protect(struct alloc *a, int open) {
    if (mprotect(a->map + page_size(), a->data_pages_bytes, open ? PROT_READ | PROT_WRITE : PROT_NONE) != 0) {
        perror("sparsemm: emulated device memory: mprotect");
        abort();
    }
}

static void install_handler(void);

void emu_with_device_memory(void (*fn)(void *), void *ctx) {
    if (rt.open_depth == 0) install_handler();
    rt.open_depth++;
    fn(ctx);
    if (--rt.open_depth) return;
    for (struct alloc *a = rt.opened; a; a = a->next_open) {
        protect(a, 0);
        a->open = 0;
    }
    rt.opened = NULL;
}

static void on_segv(int sig, siginfo_t *si, void *uc) {
    const char *addr = si->si_addr;
    for (struct alloc *a = rt.allocs; a; a = a->next) {
        if (addr < a->map || addr >= a->map + a->map_bytes) continue;
        const char *pages = a->map + page_size();
        if (rt.open_depth > 0 && !a->open && addr >= pages && addr < pages + a->data_pages_bytes) {
            protect(a, 1); /* a kernel or copy touched it: open it until the window closes */
            a->open = 1;
            a->next_open = rt.opened;
            rt.opened = a;
            return;
        }
        char msg[256];
        int n;
        if (addr >= a->data && addr < a->data + a->bytes)
            n = snprintf(msg, sizeof msg,
                         "sparsemm emulator: host code touched device memory at %p, inside a %zu-byte cudaMalloc "
                         "buffer at %p (only kernels and cudaMemcpy may)\n", (const void *)addr, a->bytes, (void *)a->data);
        else
            n = snprintf(msg, sizeof msg, "sparsemm emulator: access at %p runs outside the %zu-byte device buffer at %p\n",
                         (const void *)addr, a->bytes, (void *)a->data);
        if (n > 0 && write(2, msg, (size_t)n) < 0) break;
        break;
    }
    sigaction(SIGSEGV, &rt.old_segv, NULL); /* the faulting access repeats and the usual report follows */
}

/* Make on_segv the SIGSEGV handler, chaining to whatever was there. Checked again at every
   access window, because test harnesses (cmocka) install and restore their own per test. */
static void install_handler(void) {
    struct sigaction cur;
    sigaction(SIGSEGV, NULL, &cur);
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_segv) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &rt.old_segv);
}

/* ---------------------------------------------------------------------------------------------
   Devices and memory */

cudaError_t cudaGetDeviceCount(int *count) {
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : fail(cudaErrorInvalidValue, "cudaSetDevice(%d): the emulator has device 0 only", device);
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device) {
    if (device != 0) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties(%d): no such device", device);
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "sparsemm CPU emulator");
    prop->totalGlobalMem = device_total();
    prop->multiProcessorCount = 1;
    prop->major = 8;
    prop->minor = 0;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device) {
    switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = 1; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = 163 << 10; return cudaSuccess; /* sm_80 */
    }
    return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute(%d): not emulated", (int)attr);
}

cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
    *total_bytes = device_total();
    *free_bytes = *total_bytes - rt.live_bytes;
    return cudaSuccess;
}

cudaError_t cudaMalloc(void **ptr, size_t bytes) {
    const size_t page = page_size(), need = ((bytes ? bytes : 1) + ALIGN - 1) / ALIGN * ALIGN;
    const size_t data_pages = (need + page - 1) / page * page;
    *ptr = NULL;
    if (need > device_total() - rt.live_bytes)
        return fail(cudaErrorMemoryAllocation, "cudaMalloc(%zu): %zu of %zu bytes in use", bytes, rt.live_bytes,
                    device_total());
    struct alloc *a = calloc(1, sizeof *a);
    char *m = mmap(NULL, data_pages + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!a || m == MAP_FAILED) {
        free(a);
        return fail(cudaErrorMemoryAllocation, "cudaMalloc(%zu): the host refused the mapping", bytes);
    }
    *a = (struct alloc){.map = m, .map_bytes = data_pages + 2 * page, .data_pages_bytes = data_pages,
                        .data = m + page + data_pages - need, .bytes = bytes, .next = rt.allocs};
    rt.allocs = a;
    rt.live_bytes += need;
    protect(a, 1);
    memset(a->data, 0xff, need); /* device memory starts as garbage: a NaN pattern */
    protect(a, 0);
    install_handler();
    *ptr = a->data;
    return cudaSuccess;
}

cudaError_t cudaFree(void *ptr) {
    if (!ptr) return cudaSuccess;
    for (struct alloc **pp = &rt.allocs; *pp; pp = &(*pp)->next) {
        struct alloc *a = *pp;
        if (a->data != ptr) continue;
        *pp = a->next;
        for (struct alloc **op = &rt.opened; *op; op = &(*op)->next_open)
            if (*op == a) {
                *op = a->next_open;
                break;
            }
        rt.live_bytes -= (a->bytes ? a->bytes + ALIGN - 1 : ALIGN) / ALIGN * ALIGN;
        munmap(a->map, a->map_bytes);
        free(a);
        return cudaSuccess;
    }
    return fail(cudaErrorInvalidValue, "cudaFree(%p): not a pointer cudaMalloc returned (or freed twice)", ptr);
}

struct copy {
    void *dst;
    const void *src;
    int value;
    size_t bytes;
};
static void do_copy(void *c) {
    struct copy *cp = c;
    memmove(cp->dst, cp->src, cp->bytes);
}
static void do_set(void *c) {
    struct copy *cp = c;
    memset(cp->dst, cp->value, cp->bytes);
}

static const char *kind_name(enum cudaMemcpyKind k) {
    static const char *const names[] = {"HostToHost", "HostToDevice", "DeviceToHost", "DeviceToDevice"};
    return (unsigned)k < 4 ? names[k] : "unknown";
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind) {
    if (bytes == 0) return cudaSuccess;
    if ((unsigned)kind > cudaMemcpyDeviceToDevice) return fail(cudaErrorInvalidValue, "cudaMemcpy: kind %d", (int)kind);
    const int want_dst = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const int want_src = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (emu_is_device(dst, bytes) != want_dst || (!want_dst && find(dst, 1)))
        return fail(cudaErrorInvalidValue, "cudaMemcpy %s of %zu bytes: destination %p is %s", kind_name(kind), bytes,
                    dst, want_dst ? "not (all) device memory" : "device memory");
    if (emu_is_device(src, bytes) != want_src || (!want_src && find(src, 1)))
        return fail(cudaErrorInvalidValue, "cudaMemcpy %s of %zu bytes: source %p is %s", kind_name(kind), bytes, src,
                    want_src ? "not (all) device memory" : "device memory");
    struct copy c = {.dst = dst, .src = src, .bytes = bytes};
    emu_with_device_memory(do_copy, &c);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind, cudaStream_t stream) {
    return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemsetAsync(void *ptr, int value, size_t bytes, cudaStream_t stream) {
    if (bytes == 0) return cudaSuccess;
    if (!emu_is_device(ptr, bytes))
        return fail(cudaErrorInvalidValue, "cudaMemset of %zu bytes at %p: not (all) device memory", bytes, ptr);
    struct copy c = {.dst = ptr, .value = value, .bytes = bytes};
    emu_with_device_memory(do_set, &c);
    return cudaSuccess;
}

/* ---------------------------------------------------------------------------------------------
   Streams, events, attributes, errors */

cudaError_t cudaStreamCreate(cudaStream_t *stream) {
    *stream = calloc(1, sizeof **stream);
    return *stream ? cudaSuccess : fail(cudaErrorMemoryAllocation, "cudaStreamCreate");
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    free(stream);
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t *event) {
    *event = calloc(1, sizeof **event);
    return *event ? cudaSuccess : fail(cudaErrorMemoryAllocation, "cudaEventCreate");
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
    free(event);
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    event->ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
    event->recorded = 1;
    return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end) {
    if (!start->recorded || !end->recorded)
        return fail(cudaErrorInvalidValue, "cudaEventElapsedTime: an event was never recorded");
    *ms = (float)(end->ms - start->ms);
    return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void *func, enum cudaFuncAttribute attr, int value) {
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || emu_set_max_smem(func, (size_t)value))
        return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute(%d, %d): beyond the %d-byte opt-in limit", (int)attr,
                    value, EMU_MAX_SMEM);
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = rt.last;
    rt.last = cudaSuccess;
    return e;
}
cudaError_t cudaPeekAtLastError(void) { return rt.last; }

void emu_set_launch_error(cudaError_t err, const char *detail) { fail(err, "%s", detail); }
const char *emu_error_detail(void) { return rt.detail; }

const char *cudaGetErrorName(cudaError_t err) {
    switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    }
    return "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t err) {
    switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    }
    return "unknown error";
}
