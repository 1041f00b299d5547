/*
 * attention_decode.cu: one new query per head against the head-wise flattened KV cache
 * (AdaKV's layout, research/baselines.md §3.2): KV head j's rows are contiguous at off[j] with
 * len[j] rows, in the cache's dtype, and heads may hold different numbers of rows.
 *
 * Split-K (flash-decoding): a head's rows are cut into chunks of CHUNK; block (c, j) attends
 * the G = n_heads / n_kv_heads query heads of KV head j (GQA: K/V rows are read once for all G)
 * over chunk c, keeping for each query head an unnormalised output, its running max and sum
 * (online softmax over tiles of BK rows, as in attention_prefill.cu), and the chunk's best
 * score with its row. decode_combine_kernel merges the chunks of each head:
 *   M = max_c m_c,  L = sum_c l_c e^(m_c - M),  out = sum_c o_c e^(m_c - M) / L.
 * Chunks past a head's length are empty (m = -inf) and drop out of the merge.
 *
 * argmax_pos (the head finder): the position of the row with the largest score, the first such
 * row on ties, as engine/cpu/attention_decode.c (torch.argmax): rows are visited in order,
 * within a tile the lowest lane wins, across tiles and chunks only a strictly larger score
 * replaces the best.
 *
 * The sliding window skips rows whose position is <= query_pos - sliding_window. A head with
 * no visible row (cannot happen: the query's own row is always there) outputs zeros.
 */
#include "engine/cuda/common.cuh"

#define CHUNK 256   /* rows per block: splits long caches across the GPU */
#define BK 32       /* rows per tile: one per lane in the softmax step */
#define THREADS 128 /* 4 warps */

static_assert(BK == WARP_SIZE, "the softmax step gives each lane one row of the tile");
static_assert(CHUNK % BK == 0, "chunks are whole tiles");

/* Partial results, per (head h, chunk c), carved out of the scratch: o [H][C][D], then m, l,
   best score [H][C] each, then best row [H][C] (int32). */
struct partials {
    float *o, *m, *l, *best;
    int32_t *row;
};
static __host__ __device__ __forceinline__ struct partials carve(float *p, int H, int C, int D) {
    struct partials q;
    q.o = p;
    q.m = q.o + (size_t)H * C * D;
    q.l = q.m + (size_t)H * C;
    q.best = q.l + (size_t)H * C;
    q.row = (int32_t *)(q.best + (size_t)H * C);
    return q;
}

static int n_chunks(int max_len) { return max_len > 0 ? (int)ceil_div((size_t)max_len, CHUNK) : 1; }

extern "C" size_t cuda_attention_decode_scratch(int n_heads, int head_dim, int max_len) {
    const size_t hc = (size_t)n_heads * n_chunks(max_len);
    return hc * (size_t)head_dim + 4 * hc;
}

template <typename T>
static __device__ __forceinline__ void load_tile(float *dst, const T *src, size_t row0, int nk, int D) {
    for (int e = threadIdx.x; e < BK * D; e += blockDim.x) {
        const int c = e / D, d = e % D;
        dst[c * (D + 1) + d] = c < nk ? to_f32(src[(row0 + c) * D + d]) : 0.0f;
    }
}

static size_t partial_smem(int G, int D) {
    return sizeof(float) * ((size_t)2 * G * D + (size_t)BK * (D + 1) + (size_t)G * BK + 5 * (size_t)G);
}

/* grid (n_chunks, n_kv_heads), block THREADS, partial_smem(G, head_dim) bytes of shared memory.
   Shared: the G queries (pre-scaled), one K or V tile (rows D + 1 apart), the G x BK scores,
   the G output accumulators, and per query head m, l, alpha, best score, best row. */
template <typename T>
static __global__ void __launch_bounds__(THREADS) decode_partial_kernel(const struct cuda_attn_decode a) {
    DYNAMIC_SMEM(float, smem);
    const int D = a.head_dim, G = a.n_heads / a.n_kv_heads, C = gridDim.x, c = blockIdx.x, j = blockIdx.y;
    const int tid = threadIdx.x, lane = tid % WARP_SIZE, warp = tid / WARP_SIZE, nwarps = blockDim.x / WARP_SIZE;
    const T *K = (const T *)a.k, *V = (const T *)a.v;
    float *qs = smem, *kv = qs + G * D, *s = kv + BK * (D + 1), *o = s + G * BK;
    float *m = o + G * D, *l = m + G, *alpha = l + G, *best = alpha + G, *best_row = best + G;
    const size_t off = (size_t)a.off[j];
    const int len = a.len[j], r_begin = c * CHUNK, r_end = imin(len, r_begin + CHUNK);
    const float scale = 1.0f / sqrtf((float)D);
    for (int e = tid; e < G * D; e += blockDim.x) {
        qs[e] = a.q[(size_t)j * G * D + e] * scale;
        o[e] = 0.0f;
    }
    for (int g = tid; g < G; g += blockDim.x) {
        m[g] = -INFINITY;
        l[g] = 0.0f;
        best[g] = -INFINITY;
        best_row[g] = __int_as_float(-1);
    }
    for (int r0 = r_begin; r0 < r_end; r0 += BK) {
        const int nk = imin(BK, r_end - r0);
        __syncthreads(); /* init visible; the previous tile's P.V is done */
        load_tile(kv, K, off + r0, nk, D);
        __syncthreads();
        for (int e = tid; e < G * BK; e += blockDim.x) {
            const int g = e / BK, cc = e % BK;
            float v = -INFINITY;
            if (cc < nk && !(a.sliding_window > 0 && a.pos[off + r0 + cc] <= a.query_pos - a.sliding_window)) {
                v = 0.0f;
                for (int d = 0; d < D; d++) v += qs[g * D + d] * kv[cc * (D + 1) + d];
            }
            s[e] = v;
        }
        __syncthreads();
        for (int g = warp; g < G; g += nwarps) {
            const float v = s[g * BK + lane];
            const float tile_max = warp_max(v);
            const int first = warp_min_int(v == tile_max && tile_max != -INFINITY ? lane : BK);
            const float m_old = m[g];
            const float m_new = fmaxf(m_old, tile_max);
            const float p = v == -INFINITY ? 0.0f : expf(v - m_new);
            const float sum = warp_sum(p);
            s[g * BK + lane] = p;
            if (lane == 0) {
                const float al = m_old == -INFINITY ? 0.0f : expf(m_old - m_new);
                l[g] = l[g] * al + sum;
                m[g] = m_new;
                alpha[g] = al;
                if (tile_max > best[g]) {
                    best[g] = tile_max;
                    best_row[g] = __int_as_float(r0 + first);
                }
            }
        }
        __syncthreads();
        load_tile(kv, V, off + r0, nk, D);
        __syncthreads();
        for (int e = tid; e < G * D; e += blockDim.x) {
            const int g = e / D, d = e % D;
            float acc = o[e] * alpha[g];
            for (int cc = 0; cc < nk; cc++) acc += s[g * BK + cc] * kv[cc * (D + 1) + d];
            o[e] = acc;
        }
    }
    __syncthreads();
    const struct partials P = carve(a.partial, a.n_heads, C, D);
    for (int e = tid; e < G * D; e += blockDim.x) {
        const int g = e / D, d = e % D;
        P.o[((size_t)(j * G + g) * C + c) * D + d] = o[e];
    }
    for (int g = tid; g < G; g += blockDim.x) {
        const size_t hc = (size_t)(j * G + g) * C + c;
        P.m[hc] = m[g];
        P.l[hc] = l[g];
        P.best[hc] = best[g];
        P.row[hc] = __float_as_int(best_row[g]);
    }
}

/* grid n_heads, block up to 128 threads striding over head_dim. */
static __global__ void decode_combine_kernel(const struct cuda_attn_decode a, int C) {
    const int h = blockIdx.x, D = a.head_dim, j = h / (a.n_heads / a.n_kv_heads);
    const struct partials P = carve(a.partial, a.n_heads, C, D);
    const size_t h0 = (size_t)h * C;
    float M = -INFINITY;
    for (int c = 0; c < C; c++) M = fmaxf(M, P.m[h0 + c]);
    float L = 0.0f;
    for (int c = 0; c < C; c++)
        if (P.m[h0 + c] != -INFINITY) L += P.l[h0 + c] * expf(P.m[h0 + c] - M);
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float acc = 0.0f;
        for (int c = 0; c < C; c++)
            if (P.m[h0 + c] != -INFINITY) acc += P.o[(h0 + c) * D + d] * expf(P.m[h0 + c] - M);
        a.out[(size_t)h * D + d] = L > 0.0f ? acc / L : 0.0f;
    }
    if (a.argmax_pos && threadIdx.x == 0) {
        float b = -INFINITY;
        int row = -1;
        for (int c = 0; c < C; c++)
            if (P.best[h0 + c] > b) {
                b = P.best[h0 + c];
                row = P.row[h0 + c];
            }
        a.argmax_pos[h] = row >= 0 ? a.pos[(size_t)a.off[j] + row] : -1;
    }
}

template <typename T> static void decode(cudaStream_t st, const struct cuda_attn_decode *a) {
    const int G = a->n_heads / a->n_kv_heads, C = n_chunks(a->max_len);
    const size_t smem = partial_smem(G, a->head_dim);
    smem_opt_in((const void *)decode_partial_kernel<T>, "decode_partial_kernel", smem);
    LAUNCH(decode_partial_kernel<T>, dim3((unsigned int)C, (unsigned int)a->n_kv_heads), THREADS, smem, st, (*a));
    LAUNCH(decode_combine_kernel, a->n_heads, block_threads((size_t)a->head_dim, 128), 0, st, (*a, C));
}

extern "C" void cuda_attention_decode(cudaStream_t st, const struct cuda_attn_decode *a) {
    if (a->kv_dtype == CUDA_F16) decode<f16_t>(st, a);
    else if (a->kv_dtype == CUDA_BF16) decode<bf16_t>(st, a);
    else decode<float>(st, a);
}
