/*
 * test_cuda_emu.c: the host emulator the CUDA backend's tests run on (engine/cuda/emu/), checked
 * against CUDA's documented semantics with hand-worked cases, because every other CUDA test on a
 * GPU-less machine trusts it:
 *   - __syncthreads: a thread past the barrier sees what every thread wrote before it;
 *   - warp shuffles (xor, down, up, indexed), with widths splitting the warp into segments and
 *     CUDA's rule that reading a later segment gives your own value;
 *   - kernel bugs a GPU would hang on or leave undefined are reported, not hung on: a barrier
 *     some threads never reach, lanes at different warp operations, a shuffle from a lane that
 *     does not exist; and the next launch works;
 *   - launch shapes a GPU refuses (block > 1024 threads, shared memory past the opt-in), and
 *     dynamic shared memory starting as NaN;
 *   - device memory: copies whose kind does not match their pointers fail, a host dereference
 *     of device memory crashes (as with a real GPU), running out is reported, and the backend
 *     turns that into an error naming the weight.
 * The kernels here are C functions on the emulator's C interface (kernel_emu.h). In a CUDA=1
 * build there is no emulator and the tests are skipped.
 */
#include "tests/test_util.h"

#ifdef SPARSEMM_CUDA_EMU
#include <sys/wait.h>
#include <unistd.h>

#include "engine/backend.h"
#include "engine/cuda/emu/cuda_runtime_emu.h"
#include "engine/cuda/emu/kernel_emu.h"

static float smem_f[1024], out_f[1024];
static int out_i[1024];

static int tid(void) { return (int)emu_thread_idx.x; }
static struct emu_dim3 d1(unsigned int x) { return (struct emu_dim3){x, 1, 1}; }
static float u2f(uint64_t u) {
    uint32_t v = (uint32_t)u;
    float f;
    memcpy(&f, &v, 4);
    return f;
}
static uint64_t f2u(float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    return v;
}

/* Each thread writes its slot, then reads its neighbour's: right only if the barrier waits. */
static void k_neighbour(void *ctx) {
    const int t = tid(), n = (int)emu_block_dim.x;
    smem_f[t] = (float)(t * 10 + (int)emu_block_idx.x);
    emu_syncthreads();
    out_f[t] = smem_f[(t + 1) % n];
    emu_syncthreads();
}

static void test_syncthreads(void **state) {
    for (int n = 32; n <= 1024; n *= 4) {
        assert_int_equal(emu_launch(k_neighbour, "k_neighbour", d1(3), d1((unsigned)n), 0, k_neighbour, NULL), 0);
        for (int t = 0; t < n; t++) assert_float_equal(out_f[t], (float)(((t + 1) % n) * 10 + 2), 0);
    }
}

/* lane values 0..31: xor-sum gives 496 everywhere; down by 1 with width 8 gives lane+1 except at
   each segment's last lane (own value); up by 2 gives lane-2 except in the first two lanes of
   each 16-lane segment; indexed lane 5 of each 16-lane segment. */
static void k_shuffles(void *ctx) {
    const int t = tid(), lane = t % 32;
    float v = (float)lane;
    for (int o = 16; o > 0; o >>= 1) v += u2f(emu_shfl_xor(0xffffffffu, f2u(v), o, 32));
    out_f[t] = v;
    const int down = (int)emu_shfl_down(0xffffffffu, (uint64_t)lane, 1, 8);
    const int up = (int)emu_shfl_up(0xffffffffu, (uint64_t)lane, 2, 16);
    const int idx = (int)emu_shfl(0xffffffffu, (uint64_t)lane, 5, 16);
    const int xr = (int)emu_shfl_xor(0xffffffffu, (uint64_t)lane, 8, 8); /* lane ^ 8 is a later segment, or an earlier one */
    out_i[t] = down | up << 8 | idx << 16 | xr << 24;
}

static void test_shuffles(void **state) {
    assert_int_equal(emu_launch(k_shuffles, "k_shuffles", d1(1), d1(64), 0, k_shuffles, NULL), 0);
    for (int t = 0; t < 64; t++) {
        const int lane = t % 32;
        assert_float_equal(out_f[t], 496, 0);
        assert_int_equal(out_i[t] & 0xff, lane % 8 == 7 ? lane : lane + 1);
        assert_int_equal(out_i[t] >> 8 & 0xff, lane % 16 < 2 ? lane : lane - 2);
        assert_int_equal(out_i[t] >> 16 & 0xff, lane / 16 * 16 + 5);
        assert_int_equal(out_i[t] >> 24 & 0xff, (lane ^ 8) > lane ? lane : lane ^ 8);
    }
}

static void k_half_return(void *ctx) {
    if (tid() % 2) return;
    emu_syncthreads();
}
static void k_divergent_warp(void *ctx) {
    if (tid() == 0) emu_shfl_xor(0xffffffffu, 1, 1, 32);
    else emu_syncwarp(0xffffffffu);
}
static void k_missing_lane(void *ctx) { emu_shfl_xor(0xffffffffu, 1, 16, 32); }
static void k_partial_mask(void *ctx) { emu_syncwarp(0x0000ffffu); }

static void expect_fault(void (*k)(void *), unsigned int threads, const char *needle) {
    assert_int_equal(emu_launch(k, "k", d1(2), d1(threads), 0, k, NULL), EMU_KERNEL_FAULT);
    assert_msg_contains(emu_last_message(), needle);
}

static void test_kernel_bugs_reported(void **state) {
    expect_fault(k_half_return, 64, "__syncthreads reached by 32 threads while 32 had returned");
    expect_fault(k_divergent_warp, 32, "lane 1 at __syncwarp");
    expect_fault(k_missing_lane, 48, "does not exist");
    expect_fault(k_partial_mask, 32, "only full-warp masks");
    test_syncthreads(state); /* the fibers recover */
}

static void k_smem(void *ctx) {
    const float *s = emu_dynamic_smem();
    out_i[tid()] = isnan(s[tid()]);
}

static void test_launch_shapes(void **state) {
    assert_int_equal(emu_launch(k_smem, "big", d1(1), d1(2048), 0, k_smem, NULL), EMU_BAD_LAUNCH);
    assert_msg_contains(emu_last_message(), "more than 1024 threads");
    assert_int_equal(emu_launch(k_smem, "k_smem", d1(1), d1(32), 64 << 10, k_smem, NULL), EMU_BAD_LAUNCH);
    assert_msg_contains(emu_last_message(), "opted in");
    assert_int_equal(emu_set_max_smem(k_smem, 64 << 10), 0);
    assert_int_equal(emu_launch(k_smem, "k_smem", d1(1), d1(32), 64 << 10, k_smem, NULL), 0);
    for (int t = 0; t < 32; t++) assert_int_equal(out_i[t], 1);
    assert_int_not_equal(emu_set_max_smem(k_smem, 1 << 20), 0); /* past sm_80's 163 KiB */
}

static void test_device_memory(void **state) {
    float *d = NULL, host[4] = {1, 2, 3, 4}, back[4];
    assert_int_equal(cudaMalloc((void **)&d, sizeof host), cudaSuccess);
    assert_true(emu_is_device(d, sizeof host));
    assert_int_equal(cudaMemcpy(d, host, sizeof host, cudaMemcpyHostToDevice), cudaSuccess);
    assert_int_equal(cudaMemcpy(back, d, sizeof back, cudaMemcpyDeviceToHost), cudaSuccess);
    assert_memory_equal(back, host, sizeof host);
    /* kinds that contradict the pointers, and a copy running past the allocation */
    assert_int_equal(cudaMemcpy(host, back, sizeof host, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    assert_msg_contains(emu_error_detail(), "destination");
    assert_int_equal(cudaMemcpy(d, back, sizeof host, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
    assert_int_equal(cudaMemcpy(d, host, 2 * sizeof host, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    assert_int_equal(cudaGetLastError(), cudaErrorInvalidValue);
    assert_int_equal(cudaGetLastError(), cudaSuccess);
    assert_int_equal(cudaFree(host), cudaErrorInvalidValue);
    /* the host reading device memory crashes, as it would with a GPU */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        volatile float x = d[0];
        (void)x;
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    assert_int_equal(cudaFree(d), cudaSuccess);
}

static void test_out_of_memory(void **state) {
    struct error err = {{0}};
    struct backend_options o = {.name = "cuda-emu", .weights_f32 = 0};
    struct backend *be = backend_create(&o, &err);
    assert_non_null(be);
    emu_set_device_bytes(1 << 20);
    void *p = NULL;
    assert_int_equal(cudaMalloc(&p, 2 << 20), cudaErrorMemoryAllocation);
    cudaGetLastError();
    static uint16_t host[600 * 1024];
    struct weight w = {.name = "model.layers.0.mlp.up_proj.weight", .dtype = DT_F16, .rows = 600, .cols = 1024, .host = host};
    assert_int_equal(be->ops->weight_prepare(be, &w, &err), -1);
    assert_msg_contains(err.msg, "model.layers.0.mlp.up_proj.weight [600 x 1024] F16");
    assert_msg_contains(err.msg, "out of device memory");
    emu_set_device_bytes(0);
    assert_int_equal(be->ops->weight_prepare(be, &w, &err), 0);
    assert_true(be->ops->peak_bytes(be) >= (int64_t)sizeof host);
    be->ops->weight_release(be, &w);
    backend_free(be);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syncthreads),   cmocka_unit_test(test_shuffles),
        cmocka_unit_test(test_kernel_bugs_reported), cmocka_unit_test(test_launch_shapes),
        cmocka_unit_test(test_device_memory), cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests_name("cuda_emu", tests, NULL, NULL);
}

#else

static void test_no_emulator(void **state) {
    print_message("this build runs CUDA on a GPU (CUDA=1): no emulator to test\n");
    skip();
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_emulator)};
    return cmocka_run_group_tests_name("cuda_emu", tests, NULL, NULL);
}

#endif
