/*
 * matmul.cu: the linear layer y = x . W^T on the GPU, W in its stored dtype.
 *
 * Precision decision: activations stay f32 and every product accumulates in f32, with no TF32
 * and no rounding of x to half precision. The KV-cache methods rank tokens by attention
 * weights, and a ranking can flip on a 1e-3 perturbation; the backends must agree with the CPU
 * reference to ~1e-5 (tests/test_backend_ops.c), which f16 activations (~5e-4) would not.
 * cublasGemmEx cannot mix an f16/bf16 A with an f32 B, so half-precision weights are widened
 * on the device. Two paths:
 *
 *   n <= CUDA_GEMV_MAX_ROWS (decode): gemv_kernel reads each weight row once, in its dtype, and
 *     dots it with every row of x; decode is bound by reading W, so widening it first would
 *     triple the traffic. Launch: grid ceil(out / WARPS), block WARPS * 32: one warp per output
 *     feature, lanes stride over `in` (8 elements per 16-byte load when rows are aligned),
 *     warp_sum at the end.
 *   otherwise (prefill): tiles of W rows are widened into an f32 scratch (elementwise.cu) and
 *     multiplied with cuBLAS SGEMM semantics (cublasGemmEx, CUDA_R_32F, CUBLAS_COMPUTE_32F);
 *     the widening is amortised over the n rows of x. f32 weights go to cuBLAS directly.
 *
 * cuda_gemm_xwt is the one place that maps row-major onto cuBLAS's column-major convention:
 * row-major y[n][out] is column-major y^T (out x n, ld = ldy); row-major W[out][in] read
 * column-major is W^T (in x out, ld = ldw), so op(A) = T gives W; x[n][in] is x^T (in x n),
 * op(B) = N. Hence C(out x n) = W(out x in) . x^T(in x n), i.e. y = x . W^T.
 * tests/test_cuda_gemm.c checks it (and that a swapped transpose fails) against the fake
 * cuBLAS here and against the real one on a GPU.
 */
#include "engine/cuda/common.cuh"

#define WARPS 4

/* 8 consecutive elements as f32, from a 16-byte-aligned address (or two, for f32). */
static __device__ __forceinline__ void load8(const float *p, float v[8]) {
    const float4 a = ((const float4 *)p)[0], b = ((const float4 *)p)[1];
    v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}
template <typename T> static __device__ __forceinline__ void load8(const T *p, float v[8]) {
    const uint4 u = *(const uint4 *)p;
    const unsigned int w[4] = {u.x, u.y, u.z, u.w};
    UNROLL
    for (int i = 0; i < 4; i++) {
        T lo, hi;
        lo.bits = (uint16_t)(w[i] & 0xffffu);
        hi.bits = (uint16_t)(w[i] >> 16);
        v[2 * i] = to_f32(lo);
        v[2 * i + 1] = to_f32(hi);
    }
}

/* vec: rows of W and x start 16-byte aligned and in % 8 == 0 (the host checks). No barriers:
   a warp whose feature is past the end leaves as a whole. */
template <typename T>
static __global__ void gemv_kernel(float *y, const float *x, const T *w, int n, int64_t in, int64_t out, int vec) {
    const int lane = threadIdx.x % WARP_SIZE;
    const int64_t o = (int64_t)blockIdx.x * WARPS + threadIdx.x / WARP_SIZE;
    if (o >= out) return;
    const T *wr = w + o * in;
    float acc[CUDA_GEMV_MAX_ROWS] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (vec) {
        for (int64_t k = (int64_t)lane * 8; k < in; k += WARP_SIZE * 8) {
            float wv[8], xv[8];
            load8(wr + k, wv);
            UNROLL
            for (int r = 0; r < CUDA_GEMV_MAX_ROWS; r++) {
                if (r >= n) break;
                load8(x + r * in + k, xv);
                UNROLL
                for (int i = 0; i < 8; i++) acc[r] += xv[i] * wv[i];
            }
        }
    } else {
        for (int64_t k = lane; k < in; k += WARP_SIZE) {
            const float wk = to_f32(wr[k]);
            UNROLL
            for (int r = 0; r < CUDA_GEMV_MAX_ROWS; r++)
                if (r < n) acc[r] += x[r * in + k] * wk;
        }
    }
    UNROLL
    for (int r = 0; r < CUDA_GEMV_MAX_ROWS; r++) {
        if (r >= n) break;
        const float s = warp_sum(acc[r]);
        if (lane == 0) y[r * out + o] = s;
    }
}

template <typename T>
static void gemv(cudaStream_t st, float *y, const float *x, const T *w, int n, int64_t in, int64_t out) {
    const int vec = in % 8 == 0 && (uintptr_t)x % 16 == 0 && (uintptr_t)w % 16 == 0 &&
                    (in * (int64_t)sizeof(T)) % 16 == 0;
    LAUNCH(gemv_kernel<T>, ceil_div((size_t)out, WARPS), WARPS * WARP_SIZE, 0, st, (y, x, w, n, in, out, vec));
}

extern "C" void cuda_gemv(cudaStream_t st, float *y, const float *x, const void *w, int w_dtype, int n, int64_t in,
                          int64_t out) {
    if (n <= 0 || out <= 0) return;
    if (n > CUDA_GEMV_MAX_ROWS) {
        fprintf(stderr, "sparsemm cuda: cuda_gemv called with %d rows (at most %d)\n", n, CUDA_GEMV_MAX_ROWS);
        abort();
    }
    if (w_dtype == CUDA_F16) gemv(st, y, x, (const f16_t *)w, n, in, out);
    else if (w_dtype == CUDA_BF16) gemv(st, y, x, (const bf16_t *)w, n, in, out);
    else gemv(st, y, x, (const float *)w, n, in, out);
}

extern "C" void cuda_gemm_xwt(cublasHandle_t h, float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                              int n, int in, int out) {
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w, CUDA_R_32F, ldw, x, CUDA_R_32F, ldx,
                              &zero, y, CUDA_R_32F, ldy, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "y[%d][%d] (ld %d) = x[%d][%d] (ld %d) . W[%d][%d]^T (ld %d)", n, out, ldy, n, in, ldx, out, in, ldw);
}

extern "C" void cuda_matmul_half(cublasHandle_t h, cudaStream_t st, float *y, const float *x, const void *w,
                                 int w_dtype, int n, int64_t in, int64_t out, float *tile, size_t tile_floats) {
    const int64_t tile_rows = (int64_t)tile_floats / in;
    if (tile_rows < 1) {
        fprintf(stderr, "sparsemm cuda: matmul scratch of %zu floats cannot hold a weight row of %lld\n", tile_floats,
                (long long)in);
        abort();
    }
    const size_t es = w_dtype == CUDA_F32 ? 4 : 2;
    for (int64_t r0 = 0; r0 < out; r0 += tile_rows) {
        const int64_t rows = out - r0 < tile_rows ? out - r0 : tile_rows;
        cuda_widen(st, tile, (const char *)w + (size_t)(r0 * in) * es, w_dtype, (size_t)(rows * in));
        cuda_gemm_xwt(h, y + r0, (int)out, x, (int)in, tile, (int)in, n, (int)in, (int)rows);
    }
}
