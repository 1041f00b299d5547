/*
 * simd.h: the few vector building blocks the CPU kernels share (AVX2 + FMA + F16C): widening
 * f16/bf16 to f32, a horizontal sum, and exp for softmax and SiLU.
 *
 * These are compiled for AVX2 whatever the build's -march (the `target` pragma below), and the
 * kernels that use them run only when the CPU has AVX2, FMA and F16C (cpu_simd(be)), so one
 * binary runs everywhere and the sanitizer build exercises the same vector code. Each vector
 * kernel sits next to the plain loop it replaces; tests/test_backend_ops.c runs both against
 * naive references (SPARSEMM_CPU_SIMD=0 selects the plain loops).
 *
 * exp8 follows the classic Cephes expf: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two
 * constants so n*ln2 is exact enough), e^r by a degree-7 polynomial, times 2^n built in the
 * exponent bits. Relative error is about 1 ulp of f32 over the range softmax and SiLU use;
 * inputs below -87.3 (where e^x is no longer a normal f32) give exactly 0, so -inf masks
 * become exact zeros, and inputs above 88 saturate at e^88 instead of overflowing.
 */
#ifndef SPARSEMM_CPU_SIMD_H
#define SPARSEMM_CPU_SIMD_H

#include <immintrin.h>
#include <stdint.h>

#include "engine/dtype.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

#define SIMD_FN __attribute__((target("avx2,fma,f16c")))

/* Streaming kernels (decode GEMV, decode attention) ask for the cache line this far ahead of
   the one they read: the hardware prefetchers alone keep too few lines in flight for one core
   to reach memory bandwidth (measured here: 43.8 -> 32 ms for a 1 GB f16 GEMV pass on one core,
   against 31 ms for a bare read loop). */
#define PREFETCH_AHEAD 4096

/* Prefetch the lines of [p + PREFETCH_AHEAD, p + PREFETCH_AHEAD + bytes). Prefetches never fault,
   so running past the end of a buffer is harmless. */
static inline void prefetch_ahead(const void *p, int bytes) {
    for (int b = 0; b < bytes; b += 64) _mm_prefetch((const char *)p + PREFETCH_AHEAD + b, _MM_HINT_T0);
}

/* 8 f16 or bf16 values widened to f32 (bf16 is the top half of an f32). */
static inline __m256 load8_half(const uint16_t *p, enum dtype t) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return t == DT_F16 ? _mm256_cvtph_ps(h) : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Sum of 8 floats into a double accumulator pair (softmax denominators are kept in double). */
static inline __m256d add8_pd(__m256d acc, __m256 v) {
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

static inline double hsum4d(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static inline __m256 exp8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.33654f), hi = _mm256_set1_ps(88.0f);
    const __m256 zero_mask = _mm256_cmp_ps(x, lo, _CMP_LT_OQ); /* also catches -inf */
    x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(zero_mask, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

#pragma GCC pop_options

#endif
