/*
 * window_score.h: the token scoring and selection every attention-based method shares
 * (SnapKV's observation window, research/baselines.md §1.1, as the official multimodal harness
 * runs it, research/sparsemm.md §2.3):
 *
 *   1. window_attn[h][t] from the engine: mean over the last w queries of the softmax rows.
 *   2. Candidates are t in [0, n - w): the window's own positions are never scored, always kept.
 *   3. GQA: mean over the query heads of each KV head's group (consecutive heads, as repeat_kv
 *      lays them out), before pooling.
 *   4. avg_pool1d(kernel k, stride 1, padding k/2) with PyTorch's count_include_pad=True: the
 *      zero padding counts, so every output is a sum of k (or fewer, at the edges) scores
 *      divided by k.
 *   5. Per KV head: the top-cap candidates (all when cap >= n - w), then the last w positions.
 *
 * Ties are broken toward the lower position, so selections are deterministic (torch.topk leaves
 * tie order unspecified; tests compare sets).
 */
#ifndef SPARSEMM_WINDOW_SCORE_H
#define SPARSEMM_WINDOW_SCORE_H

#include <stdint.h>

/* A score and its candidate position, the element scores_rank sorts. */
struct scored {
    float score;
    int pos;
};

/* GQA mean over each group, candidates only.
   attn: [n_heads][n] (row stride n), out: [n_kv_heads][n_cand], n_cand <= n. */
void scores_group_mean(const float *attn, int n, int n_heads, int n_kv_heads, int n_cand, float *out);

/* avg_pool1d(kernel, stride 1, zero padding kernel/2, count_include_pad) of each row, in place.
   rows: [n_rows][n_cand]; tmp: [n_cand] scratch. kernel is odd. */
void scores_avg_pool(float *rows, int n_rows, int n_cand, int kernel, float *tmp);

/* Steps 2-4 for one layer: out: [n_kv_heads][n - window] from window_attn: [n_heads][n];
   tmp: [n - window] scratch. */
void window_score(const float *window_attn, int n, int n_heads, int n_kv_heads, int window, int kernel, float *out,
                  float *tmp);

/* order: [n_cand] candidate positions by score, best first, ties toward the lower position.
   score: [n_cand]; buf: [n_cand] scratch. */
void scores_rank(const float *score, int n_cand, int *order, struct scored *buf);

/* Step 5 for one head: idx gets order[0 .. min(cap, n_cand)) then the window positions
   n_cand .. n-1. Returns the count. order: [n_cand], idx: [>= min(cap, n_cand) + n - n_cand]. */
int keep_top_and_window(const int *order, int n_cand, int cap, int n, int32_t *idx);

#endif
