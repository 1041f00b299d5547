"""Attention for the pointer supervision at the cost of SDPA: the attention output comes from
torch's fused scaled_dot_product_attention, and the attention weights, which the pointer loss
needs, are computed only where it reads them: the first `heads` query heads of the supervised
layers, on the span of query rows that hold answer positions.

Why: eager attention materialises the full (batch, 8 heads, ~300 queries, ~390 keys) weight
tensor in every layer with a float32 softmax, and on the 2-core machine that was ~60% of the
training step (profile of the stage-2 recipe), while the pointer loss reads only a few percent
of it. The weights returned here are the same numbers eager attention would give on those rows
and heads (same scaling, mask, float32 softmax cast back to the query's dtype; dropout is 0), so
the losses and the gradients are the same up to rounding.

Use: register() once, then model.set_attn_implementation({'text_config': NAME}); before each
forward pass that needs weights, set SPAN['rows'] = (first row, end row, heads), SPAN['layers'] =
the supervised layers and SPAN['queries'] = that pass's number of query positions (rows count from
its first query). Layers not listed return an empty tensor; passes of another length (the shared
prefix's, run first) and any call while SPAN['rows'] is None return no weights.
"""
import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = 'sdpa_pointer_rows'
SPAN = {'rows': None, 'layers': (), 'queries': 0}


def row_weights(module, query, key, attention_mask, scaling, r0, r1, heads):
    """Softmax(q k^T * scaling + mask) of query rows r0..r1-1 and query heads 0..heads-1:
    (batch, heads, r1 - r0, keys). attention_mask is SDPA's boolean mask (True: may attend),
    (batch, 1, queries, keys), or None for plain causal attention."""
    n_rep = module.num_key_value_groups
    k = repeat_kv(key[:, :(heads + n_rep - 1) // n_rep], n_rep)[:, :heads]
    w = torch.matmul(query[:, :heads, r0:r1], k.transpose(2, 3)) * scaling
    if attention_mask is None:  # causal: query i sees keys j <= i + (keys - queries)
        nq, nk = query.shape[2], key.shape[2]
        i = torch.arange(r0, r1)[:, None]
        allowed = torch.arange(nk)[None, :] <= i + (nk - nq)
    else:
        allowed = attention_mask[:, :, r0:r1]
        if allowed.dtype != torch.bool:  # an additive float mask: 0 where allowed
            allowed = allowed == 0
    w = w.masked_fill(~allowed, float('-inf'))
    return torch.softmax(w, dim=-1, dtype=torch.float32).to(query.dtype)


def sdpa_pointer_rows(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    out, _ = sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling,
                                    dropout=dropout, **kwargs)
    if SPAN['rows'] is None or query.shape[2] != SPAN['queries']:
        return out, None
    if module.layer_idx not in SPAN['layers']:  # a placeholder keeps the layers' outputs indexed by layer
        return out, query.new_zeros(0)
    r0, r1, heads = SPAN['rows']
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    return out, row_weights(module, query, key, attention_mask, scale, r0, r1, heads)


def register():
    AttentionInterface.register(NAME, sdpa_pointer_rows)
    AttentionMaskInterface.register(NAME, sdpa_mask)
