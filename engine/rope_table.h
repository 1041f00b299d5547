/*
 * rope_table.h: rotary angles, computed on the host exactly as transformers does in f32
 * (inv_freq = 1 / theta^(2i/d), angle = position * inv_freq, then cos/sin), for the rope op's
 * [rows][head_dim/2] tables. Three layouts share one op:
 *   plain RoPE      every frequency uses the token position (Llama, Mistral, Qwen2 text-only)
 *   M-RoPE          frequency i uses the t, h or w position stream by mrope_section
 *                   (Qwen2-VL, research/models.md §5.5)
 *   vision 2-D RoPE first quarter of frequencies from the patch row, next from the column
 *                   (Qwen2-VL vision tower, §5.4)
 */
#ifndef SPARSEMM_ROPE_TABLE_H
#define SPARSEMM_ROPE_TABLE_H

#include <stdint.h>

/* pos: [n]. cos, sin: [n][head_dim/2]. */
void rope_angles(float *cos, float *sin, const int32_t *pos, int n, int head_dim, double theta);
/* pos3: [3][n] (t, h, w streams); section: frequencies per stream, summing to head_dim/2. */
void mrope_angles(float *cos, float *sin, const int32_t *pos3, int n, int head_dim, double theta, const int section[3]);
/* hpos, wpos: [n] patch row and column; head_dim/2 angles: the first head_dim/4 from hpos, the
   next head_dim/4 from wpos, with inv_freq over a rotary dim of head_dim/2. */
void vision_rope_angles(float *cos, float *sin, const int32_t *hpos, const int32_t *wpos, int n, int head_dim,
                        double theta);

#endif
