/*
 * test_cuda_gemm.c: the CUDA backend's GEMM wrapper (engine/cuda/matmul.cu, cuda_gemm_xwt) and
 * the cuBLAS semantics it relies on, in the style of llamafile's tinyBLAS tester
 * (research/aesthetics.md §4): odd sizes (1, 23, 63, 65, 127, 129), padded leading dimensions,
 * outputs pre-filled with NaN, error bounded by a tolerance growing with sqrt(k).
 *
 * The same binary runs against the fake cuBLAS of the emulated build (make test) and against
 * the real one on a GPU (make test-cuda), so the hand-computed column-major case below also
 * proves that the fake means what cuBLAS means. And it proves the fake can catch the classic
 * bug: a wrapper with its transposes swapped (the mutant below) gives wrong numbers, not merely
 * slightly different ones.
 */
#include "tests/test_util.h"
#include <float.h>

#include "engine/cuda/cuda_ops.h"
#include "engine/dtype.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* A cuBLAS handle, or skip when this machine has no device (a CUDA=1 build without a GPU). */
static cublasHandle_t handle(void) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count < 1) {
        cudaGetLastError();
        print_message("no CUDA device (%s): skipped\n", cudaGetErrorString(e));
        skip();
    }
    cublasHandle_t h;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) fail_msg("cublasCreate failed");
    return h;
}

static float *dev_from(const float *h, size_t n) {
    float *d;
    CUDA_CHECK(cudaMalloc((void **)&d, sizeof *d * n), "%zu floats", n);
    CUDA_CHECK(cudaMemcpy(d, h, sizeof *d * n, cudaMemcpyHostToDevice), "%zu floats", n);
    return d;
}

static float *host_from(const float *d, size_t n) {
    float *h = xmalloc(sizeof *h * n);
    CUDA_CHECK(cudaMemcpy(h, d, sizeof *h * n, cudaMemcpyDeviceToHost), "%zu floats", n);
    return h;
}

/* cuBLAS's definition on a 2x3 by 3x2 product worked by hand, column-major:
   A (2x3, lda 2) = [1 3 5; 2 4 6] stored 1,2,3,4,5,6; B (3x2, ldb 3) = [1 4; 2 5; 3 6];
   C = A B = [22 49; 28 64]. With transa = T and A stored as its 3x2 transpose (lda 3) the
   result is the same; with beta = 0 a NaN already in C must not leak through. */
static void test_column_major_by_hand(void **state) {
    cublasHandle_t h = handle();
    const float a[6] = {1, 2, 3, 4, 5, 6}, at[6] = {1, 3, 5, 2, 4, 6}, b[6] = {1, 2, 3, 4, 5, 6};
    const float nan4[4] = {NAN, NAN, NAN, NAN}, want[4] = {22, 28, 49, 64};
    const float one = 1, zero = 0;
    float *da = dev_from(a, 6), *dat = dev_from(at, 6), *db = dev_from(b, 6), *dc = dev_from(nan4, 4);
    CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, da, CUDA_R_32F, 2, db, CUDA_R_32F, 3, &zero, dc,
                              CUDA_R_32F, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "%s", "2x3 . 3x2");
    float *c = host_from(dc, 4);
    for (int i = 0; i < 4; i++) assert_float_equal(c[i], want[i], 0);
    free(c);
    CUDA_CHECK(cudaMemcpy(dc, nan4, sizeof nan4, cudaMemcpyHostToDevice), "%s", "reset");
    CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, dat, CUDA_R_32F, 3, db, CUDA_R_32F, 3, &zero,
                              dc, CUDA_R_32F, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "%s", "(3x2)^T . 3x2");
    c = host_from(dc, 4);
    for (int i = 0; i < 4; i++) assert_float_equal(c[i], want[i], 0);
    free(c);
    /* a leading dimension smaller than the rows it must hold is refused, as cuBLAS does */
    assert_int_equal(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, da, CUDA_R_32F, 1, db, CUDA_R_32F, 3, &zero,
                                  dc, CUDA_R_32F, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                     CUBLAS_STATUS_INVALID_VALUE);
    cudaFree(da), cudaFree(dat), cudaFree(db), cudaFree(dc);
    cublasDestroy(h);
}

/* y[n][out] (ld ldy) = x[n][in] (ld ldx) . w[out][in]^T (ld ldw), through `gemm`, against a
   double reference; pad columns must keep their NaN. Returns the max error in units of the
   tolerance (> 1 fails). */
typedef void (*gemm_fn)(cublasHandle_t, float *, int, const float *, int, const float *, int, int, int, int);

static double run_case(cublasHandle_t h, gemm_fn gemm, int n, int in, int out, int pad) {
    const int ldx = in + pad, ldw = in + pad, ldy = out + pad;
    float *x = xmalloc(sizeof *x * (size_t)n * ldx), *w = xmalloc(sizeof *w * (size_t)out * ldw);
    float *y0 = xmalloc(sizeof *y0 * (size_t)n * ldy);
    for (int i = 0; i < n * ldx; i++) x[i] = frand();
    for (int i = 0; i < out * ldw; i++) w[i] = frand();
    for (int i = 0; i < n * ldy; i++) y0[i] = NAN;
    float *dx = dev_from(x, (size_t)n * ldx), *dw = dev_from(w, (size_t)out * ldw), *dy = dev_from(y0, (size_t)n * ldy);
    gemm(h, dy, ldy, dx, ldx, dw, ldw, n, in, out);
    float *y = host_from(dy, (size_t)n * ldy);
    /* f32 accumulation of k terms of size <= 1: error grows like sqrt(k) ulps */
    const double tol = 8 * FLT_EPSILON * sqrt((double)in) + 1e-7;
    double worst = 0;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < ldy; o++) {
            const float got = y[(size_t)i * ldy + o];
            if (o >= out) {
                if (!isnan(got)) return INFINITY; /* wrote into the padding */
                continue;
            }
            double ref = 0;
            for (int k = 0; k < in; k++) ref += (double)x[(size_t)i * ldx + k] * w[(size_t)o * ldw + k];
            const double e = isnan(got) ? INFINITY : fabs(got - ref) / tol;
            worst = e > worst ? e : worst;
        }
    cudaFree(dx), cudaFree(dw), cudaFree(dy);
    free(x), free(w), free(y0), free(y);
    return worst;
}

static void test_wrapper_odd_sizes(void **state) {
    cublasHandle_t h = handle();
    const int sizes[] = {1, 23, 63, 65, 127, 129};
    int cases = 0;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++)
            for (int pad = 0; pad < 2; pad++) {
                const int n = sizes[a], in = sizes[b], out = sizes[(a + b + pad) % 6];
                const double e = run_case(h, cuda_gemm_xwt, n, in, out, pad);
                if (e > 1) fail_msg("cuda_gemm_xwt n=%d in=%d out=%d pad=%d: error %g x tolerance", n, in, out, pad, e);
                cases++;
            }
    assert_int_equal(cases, 72);
    cublasDestroy(h);
}

/* The mutant: row-major y = x . W^T written with the transposes swapped (and the leading
   dimensions that go with them). It must fail on any non-square, non-trivial shape. */
static void gemm_swapped(cublasHandle_t h, float *y, int ldy, const float *x, int ldx, const float *w, int ldw, int n,
                         int in, int out) {
    const float one = 1, zero = 0;
    cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_T, out, n, in, &one, w, CUDA_R_32F, ldw, x, CUDA_R_32F, ldx, &zero, y,
                 CUDA_R_32F, ldy, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

static void test_swapped_transpose_fails(void **state) {
    cublasHandle_t h = handle();
    const int shapes[][3] = {{5, 23, 63}, {65, 127, 129}, {23, 23, 23}};
    for (int s = 0; s < 3; s++) {
        const double e = run_case(h, gemm_swapped, shapes[s][0], shapes[s][1], shapes[s][2], 0);
        if (!(e > 1e3)) fail_msg("the swapped-transpose mutant passed n=%d in=%d out=%d (error %g x tolerance)",
                                 shapes[s][0], shapes[s][1], shapes[s][2], e);
    }
    cudaGetLastError(); /* the mutant's refused calls may leave an error behind */
    cublasDestroy(h);
}

/* Half-precision weights through widened tiles: a tile smaller than W forces several GEMMs
   into column blocks of y (the path prefill takes for 7B weights). */
static void test_half_tiles(void **state) {
    cublasHandle_t h = handle();
    cudaStream_t st;
    CUDA_CHECK(cudaStreamCreate(&st), "%s", "stream");
    CUBLAS_CHECK(cublasSetStream(h, st), "%s", "stream");
    const int n = 9, in = 37, out = 101;
    float *x = xmalloc(sizeof *x * n * in), *wf = xmalloc(sizeof *wf * out * in), *y0 = xmalloc(sizeof *y0 * n * out);
    uint16_t *wh = xmalloc(sizeof *wh * out * in);
    for (int i = 0; i < n * in; i++) x[i] = frand();
    for (int i = 0; i < out * in; i++) {
        wh[i] = f32_to_bf16(frand());
        wf[i] = bf16_to_f32(wh[i]);
    }
    for (int i = 0; i < n * out; i++) y0[i] = NAN;
    float *dx = dev_from(x, (size_t)n * in), *dy = dev_from(y0, (size_t)n * out), *tile;
    uint16_t *dw;
    CUDA_CHECK(cudaMalloc((void **)&dw, sizeof *dw * out * in), "%s", "w");
    CUDA_CHECK(cudaMemcpy(dw, wh, sizeof *wh * out * in, cudaMemcpyHostToDevice), "%s", "w");
    const size_t tile_floats = (size_t)in * 16; /* 16 rows per tile: 7 tiles, the last of 5 rows */
    CUDA_CHECK(cudaMalloc((void **)&tile, sizeof *tile * tile_floats), "%s", "tile");
    cuda_matmul_half(h, st, dy, dx, dw, CUDA_BF16, n, in, out, tile, tile_floats);
    CUDA_CHECK(cudaStreamSynchronize(st), "%s", "sync");
    float *y = host_from(dy, (size_t)n * out);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double ref = 0;
            for (int k = 0; k < in; k++) ref += (double)x[i * in + k] * wf[o * in + k];
            if (!(fabs(y[i * out + o] - ref) < 1e-5)) fail_msg("y[%d][%d] = %g, want %g", i, o, y[i * out + o], ref);
        }
    cudaFree(dx), cudaFree(dy), cudaFree(dw), cudaFree(tile);
    free(x), free(wf), free(wh), free(y0), free(y);
    cublasDestroy(h);
    cudaStreamDestroy(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_column_major_by_hand),
        cmocka_unit_test(test_wrapper_odd_sizes),
        cmocka_unit_test(test_swapped_transpose_fails),
        cmocka_unit_test(test_half_tiles),
    };
    return cmocka_run_group_tests_name("cuda_gemm", tests, NULL, NULL);
}
