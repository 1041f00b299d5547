/*
 * attention_prefill.cu: self-attention over a whole prompt (or an image's patches), tiled in
 * the flash-attention manner so no n x n matrix exists anywhere: each block keeps BQ queries
 * of one head in shared memory and streams the keys it may see in tiles of BK, with an online
 * softmax (running max m, running sum l, output rescaled by exp(m_old - m_new) when the max
 * grows). GQA: query head h reads KV head h / (n_heads / n_kv_heads), as HF's repeat_kv.
 * Masks as engine/cpu/attention.c: causal (t <= i) and sliding window (t > i - window).
 *
 * The KV-cache methods need the attention probabilities themselves (engine/kv_policy.h):
 * window_attn[h][t] = mean over the last w queries of P[q][t], accum_attn[h][t] = sum over all
 * queries. The softmax normaliser of a row is only known after its last key tile, so the main
 * kernel leaves each row's log-sum-exp (m + log l) in a scratch, and attention_stats_kernel
 * replays the scores of the queries that count (only the last w when just window_attn is asked
 * for) to sum exp(score - lse) per key. Each key's sum is made by one thread in a fixed order:
 * the statistics are deterministic.
 *
 * Shared memory grows with head_dim (about 35 KiB at 128); above 48 KiB (head_dim > ~180)
 * the launcher opts in to more.
 */
#include "engine/cuda/common.cuh"

#define BQ 16       /* queries per block */
#define BK 32       /* keys per tile: one per lane in the softmax step */
#define THREADS 128 /* 4 warps */

static_assert(BK == WARP_SIZE, "the softmax step gives each lane one key of the tile");

/* May query i see key t? (engine/cpu/attention.c's key_range) */
static __device__ __forceinline__ bool visible(const struct cuda_attn &a, int i, int t) {
    return (!a.causal || t <= i) && (a.sliding_window <= 0 || t > i - a.sliding_window);
}

/* dst[c][0..D) = src[k0 + c][col .. col + D) for c < nk, zero for nk <= c < BK; dst rows are
   DP = D + 1 floats apart so that lanes reading one column each hit distinct banks. */
static __device__ __forceinline__ void load_rows(float *dst, int D, const float *src, int stride, int col, int k0,
                                                 int nk) {
    for (int e = threadIdx.x; e < BK * D; e += blockDim.x) {
        const int c = e / D, d = e % D;
        dst[c * (D + 1) + d] = c < nk ? src[(size_t)(k0 + c) * stride + col + d] : 0.0f;
    }
}

/* q[0..D) . k[0..D) */
static __device__ __forceinline__ float dot(const float *q, const float *k, int D) {
    float s = 0.0f;
    for (int d = 0; d < D; d++) s += q[d] * k[d];
    return s;
}

/* One row of a score tile through the online softmax; every lane of a warp calls it, lane c
   holding key c. s[c] becomes exp(s[c] - m_new); lane 0 updates the running max m and sum l
   and leaves alpha = exp(m_old - m_new), the factor for the output so far. Each lane reads m
   before the warp_sum shuffle and lane 0 writes it after, so no lane sees the new value early. */
static __device__ __forceinline__ void softmax_step(float *s, float *m, float *l, float *alpha, int lane) {
    const float v = s[lane];
    const float m_old = *m;
    const float m_new = fmaxf(m_old, warp_max(v));
    const float p = v == -INFINITY ? 0.0f : expf(v - m_new);
    const float sum = warp_sum(p);
    s[lane] = p;
    if (lane == 0) {
        const float al = m_old == -INFINITY ? 0.0f : expf(m_old - m_new);
        *l = *l * al + sum;
        *m = m_new;
        *alpha = al;
    }
}

static size_t attention_smem(int D) {
    return sizeof(float) * ((size_t)2 * BQ * D + (size_t)BK * (D + 1) + BQ * BK + 3 * BQ);
}

/* grid (ceil(n / BQ), n_heads), block THREADS, attention_smem(head_dim) bytes of shared memory.
   Block (b, h): queries [b*BQ, b*BQ + BQ) of head h. Shared: the query tile (pre-scaled by
   1/sqrt(D)), one K or V tile, the score tile, the output accumulators, m, l, alpha. */
static __global__ void __launch_bounds__(THREADS) attention_kernel(const struct cuda_attn a) {
    DYNAMIC_SMEM(float, smem);
    const int D = a.head_dim, h = blockIdx.y, kvh = h / (a.n_heads / a.n_kv_heads);
    const int q0 = blockIdx.x * BQ, nq = imin(BQ, a.n - q0);
    const int tid = threadIdx.x, lane = tid % WARP_SIZE, warp = tid / WARP_SIZE, nwarps = blockDim.x / WARP_SIZE;
    float *qs = smem, *kv = qs + BQ * D, *s = kv + BK * (D + 1), *o = s + BQ * BK;
    float *m = o + BQ * D, *l = m + BQ, *alpha = l + BQ;
    const float scale = 1.0f / sqrtf((float)D);
    for (int e = tid; e < BQ * D; e += blockDim.x) {
        const int r = e / D, d = e % D;
        qs[e] = r < nq ? a.q[(size_t)(q0 + r) * a.q_stride + (size_t)h * D + d] * scale : 0.0f;
        o[e] = 0.0f;
    }
    for (int r = tid; r < BQ; r += blockDim.x) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }
    /* keys any query of the tile may see */
    const int k_end = a.causal ? q0 + nq : a.n;
    const int k_begin = a.sliding_window > 0 && q0 - a.sliding_window + 1 > 0 ? q0 - a.sliding_window + 1 : 0;
    for (int k0 = k_begin; k0 < k_end; k0 += BK) {
        const int nk = imin(BK, k_end - k0);
        __syncthreads(); /* the previous tile's P.V is done with kv and s */
        load_rows(kv, D, a.k, a.kv_stride, kvh * D, k0, nk);
        __syncthreads();
        for (int e = tid; e < BQ * BK; e += blockDim.x) {
            const int r = e / BK, c = e % BK;
            s[e] = r < nq && c < nk && visible(a, q0 + r, k0 + c) ? dot(qs + r * D, kv + c * (D + 1), D) : -INFINITY;
        }
        __syncthreads();
        for (int r = warp; r < BQ; r += nwarps) softmax_step(s + r * BK, m + r, l + r, alpha + r, lane);
        __syncthreads(); /* probabilities and alpha ready; K no longer needed */
        load_rows(kv, D, a.v, a.kv_stride, kvh * D, k0, nk);
        __syncthreads();
        for (int e = tid; e < BQ * D; e += blockDim.x) {
            const int r = e / D, d = e % D;
            float acc = o[e] * alpha[r];
            for (int c = 0; c < nk; c++) acc += s[r * BK + c] * kv[c * (D + 1) + d];
            o[e] = acc;
        }
    }
    __syncthreads();
    for (int e = tid; e < nq * D; e += blockDim.x) {
        const int r = e / D, d = e % D;
        a.out[(size_t)(q0 + r) * a.out_stride + (size_t)h * D + d] = l[r] > 0.0f ? o[e] / l[r] : 0.0f;
    }
    if (a.lse)
        for (int r = tid; r < nq; r += blockDim.x) a.lse[(size_t)h * a.n + q0 + r] = m[r] + logf(l[r]);
}

static size_t stats_smem(int D) { return sizeof(float) * ((size_t)BK * (D + 1) + (size_t)BQ * D + BQ * BK); }

/* grid (ceil(n / BK), n_heads), block THREADS, stats_smem(head_dim) bytes of shared memory.
   Block (b, h) owns keys [b*BK, b*BK + BK) of head h and walks, BQ at a time, the queries that
   can contribute to them; thread c < BK sums key c's probabilities. */
static __global__ void __launch_bounds__(THREADS) attention_stats_kernel(const struct cuda_attn a) {
    DYNAMIC_SMEM(float, smem);
    const int D = a.head_dim, h = blockIdx.y, kvh = h / (a.n_heads / a.n_kv_heads), n = a.n;
    const int t0 = blockIdx.x * BK, nk = imin(BK, n - t0), tid = threadIdx.x;
    float *kt = smem, *qs = kt + BK * (D + 1), *s = qs + BQ * D;
    const float scale = 1.0f / sqrtf((float)D);
    const int w = a.window > 0 ? imin(a.window, n) : 0;
    int q_begin = a.accum_attn ? 0 : n - w;
    if (a.causal && q_begin < t0) q_begin = t0;                                 /* earlier queries cannot see them */
    const int q_end = a.sliding_window > 0 ? imin(n, t0 + nk - 1 + a.sliding_window) : n; /* later ones neither */
    load_rows(kt, D, a.k, a.kv_stride, kvh * D, t0, nk);
    float win = 0.0f, acc = 0.0f;
    for (int i0 = q_begin; i0 < q_end; i0 += BQ) {
        const int nq = imin(BQ, q_end - i0);
        __syncthreads(); /* kt loaded; the previous chunk's s consumed */
        for (int e = tid; e < BQ * D; e += blockDim.x) {
            const int r = e / D, d = e % D;
            qs[e] = r < nq ? a.q[(size_t)(i0 + r) * a.q_stride + (size_t)h * D + d] * scale : 0.0f;
        }
        __syncthreads();
        for (int e = tid; e < BQ * BK; e += blockDim.x) {
            const int r = e / BK, c = e % BK, i = i0 + r;
            s[e] = r < nq && c < nk && visible(a, i, t0 + c)
                       ? expf(dot(qs + r * D, kt + c * (D + 1), D) - a.lse[(size_t)h * n + i])
                       : 0.0f;
        }
        __syncthreads();
        if (tid < BK)
            for (int r = 0; r < nq; r++) {
                const float p = s[r * BK + tid];
                acc += p;
                if (i0 + r >= n - w) win += p;
            }
    }
    if (tid < nk) {
        if (a.window_attn) a.window_attn[(size_t)h * n + t0 + tid] = w > 0 ? win / (float)w : 0.0f;
        if (a.accum_attn) a.accum_attn[(size_t)h * n + t0 + tid] = acc;
    }
}

extern "C" void cuda_attention(cudaStream_t st, const struct cuda_attn *a) {
    if (a->n <= 0) return;
    struct cuda_attn b = *a;
    const int stats = a->window_attn || a->accum_attn;
    if (!stats) b.lse = NULL;
    const size_t smem = attention_smem(a->head_dim);
    smem_opt_in((const void *)attention_kernel, "attention_kernel", smem);
    LAUNCH(attention_kernel, dim3(ceil_div((size_t)a->n, BQ), (unsigned int)a->n_heads), THREADS, smem, st, (b));
    if (!stats) return;
    const size_t smem2 = stats_smem(a->head_dim);
    smem_opt_in((const void *)attention_stats_kernel, "attention_stats_kernel", smem2);
    LAUNCH(attention_stats_kernel, dim3(ceil_div((size_t)a->n, BK), (unsigned int)a->n_heads), THREADS, smem2, st, (b));
}
