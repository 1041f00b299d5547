/*
 * sparsemm.h: SparseMM's global head-wise allocation (research/sparsemm.md §2.2), shared by the
 * sparsemm method (visual-head scores) and its random ablation (random head scores).
 */
#ifndef SPARSEMM_SPARSEMM_H
#define SPARSEMM_SPARSEMM_H

#include "methods/policy.h"

/* cap: [L][H_kv] selected tokens per KV head from head scores score: [L*H] (layer-major,
   non-negative, not all zero), for base = B - w and the uniform ratio r:
     s = score / sum(score) over all L*H query heads;  S[l][j] = sum of s over j's group
     min = int(base * r);  pool = (base - min) * L * H_kv;  cap = round_half_even(S * pool + min)
   Returns 0, or -1 with err when the scores cannot be normalised. */
int sparsemm_allocation(const double *score, int n_layers, int n_heads, int n_kv_heads, int base, double ratio,
                        int *cap, struct error *err);

/* For methods built on the allocation: store it as p->state from head scores [L*H] (init), and
   read a layer's row of it (capacity). */
int sparsemm_init_with_scores(struct policy *p, const double *score, struct error *err);
int sparsemm_capacity(struct policy *p, int layer, int n_tokens, int *cap, struct error *err);

#endif
