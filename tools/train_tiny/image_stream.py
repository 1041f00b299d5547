"""The decoder's training forward pass written out layer by layer, with the prefix and image
positions kept apart from the text (train.py --image-grad-layers N): the same loss and
gradients as transformers' pass for less work, or a truncated gradient for less still.

Why: in the stage-2 recipe every sample is ~290 positions after the shared prefix, of which 256
are image tokens and ~35 the question and answer, and the loss sits on the answer alone. The
image positions are needed only as the keys and values the text reads in each layer. So:
  - exact (N = the decoder's layers less one, or None): the last layer's attention and MLP on
    the image positions feed nothing, and neither does the output head there; transformers'
    pass computes them and carries a zero gradient back through them, this one skips them. The
    gradients are transformers' to rounding (check_image_stream.py).
  - truncated (smaller N): layers N and above process the prefix and image streams without
    gradient. The gradient reaches those positions only through the keys and values each layer
    projects from them (k_proj and v_proj still learn what to read; the projector learns through
    layer 0's keys and values and the patch readout loss), and the layers learn nothing of what
    they do to the image positions. The README's item 22 measured N = 0: per step and per minute
    it learns far more slowly (the attention supervision barely moves), so it is not used.

Layout assumed (train.py's Encoder): [prefix, the same in every sample][n_image image tokens][the
question, the answer and right padding]. Positions are absolute, as in the plain pass. The
prefix runs at batch size 1 and its keys and values are repeated for the batch, as in
train.py's forward_shared_prefix.
"""
import contextlib

import torch
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb, repeat_kv


def heads(linear, x, head_dim):
    """linear(x) for x (batch, n, d), split into heads: (batch, heads, n, head_dim)."""
    return linear(x).view(*x.shape[:2], -1, head_dim).transpose(1, 2)


def project(attn, x, cos, sin):
    """Queries, keys and values of the normed hidden states x (batch, n, d), RoPE applied:
    (batch, heads, n, head_dim) and (batch, kv_heads, n, head_dim) twice."""
    q, k = apply_rotary_pos_emb(heads(attn.q_proj, x, attn.head_dim), heads(attn.k_proj, x, attn.head_dim), cos, sin)
    return q, k, heads(attn.v_proj, x, attn.head_dim)


def keys_values(layer, h, cos, sin):
    """The keys and values layer `layer` projects from the hidden states h at its input."""
    attn, x = layer.self_attn, layer.input_layernorm(h)
    k = heads(attn.k_proj, x, attn.head_dim)
    k, _ = apply_rotary_pos_emb(k, k, cos, sin)
    return k, heads(attn.v_proj, x, attn.head_dim)


def layer_forward(layer, h, past_k, past_v, cos, sin, weight_heads=0):
    """One decoder layer for the query positions h (batch, n, d) that come right after the
    past_k/past_v positions (batch, kv_heads, p, head_dim; p may be 0), causal within h.
    Returns the new h, h's own keys and values, and when weight_heads > 0 the attention weights
    of query heads 0..weight_heads-1 (batch, weight_heads, n, p + n) in float32 softmax cast to
    the queries' dtype, as eager attention computes them."""
    attn = layer.self_attn
    q, k, v = project(attn, layer.input_layernorm(h), cos, sin)
    keys, values = torch.cat([past_k, k.to(past_k.dtype)], 2), torch.cat([past_v, v.to(past_v.dtype)], 2)
    n, p = h.shape[1], past_k.shape[2]
    allowed = torch.arange(p + n)[None, :] <= torch.arange(n)[:, None] + p
    kr, vr = repeat_kv(keys, attn.num_key_value_groups), repeat_kv(values, attn.num_key_value_groups)
    o = torch.nn.functional.scaled_dot_product_attention(q, kr.to(q.dtype), vr.to(q.dtype), attn_mask=allowed,
                                                         scale=attn.scaling)
    weights = None
    if weight_heads:
        w = torch.matmul(q[:, :weight_heads], kr[:, :weight_heads].to(q.dtype).transpose(2, 3)) * attn.scaling
        w = w.masked_fill(~allowed, float('-inf'))
        weights = torch.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
    h = h + attn.o_proj(o.transpose(1, 2).reshape(*h.shape[:2], -1))
    h = h + layer.mlp(layer.post_attention_layernorm(h))
    return h, k, v, weights


def image_features(model, px):
    """The projector's output for the batch's images: (batch, n_image, d)."""
    out = model.model.get_image_features(pixel_values=px, vision_feature_layer=model.config.vision_feature_layer,
                                         vision_feature_select_strategy=model.config.vision_feature_select_strategy,
                                         return_dict=True).pooler_output
    return torch.stack(list(out)) if isinstance(out, (list, tuple)) else out


def forward_image_stream(model, ids, px, lab, n_prefix, n_image, weight_layers=(), weight_heads=0, grad_layers=None):
    """Loss of the answer tokens (mean cross-entropy over labels != -100, as transformers'), and
    per layer the attention weights of the text queries (for weight_layers; an empty tensor for
    the others) over all positions. Returns (loss, attentions, q_offset): the attentions' query
    row i is position q_offset + i, their key column j is position j, as pointer_loss reads them.

    grad_layers: how many layers, from the first, process the prefix and image streams with
    gradient; the layers above do it without. None (or the number of layers less one, or more):
    the plain pass's gradients exactly, since the last layer's image outputs feed nothing and are
    not computed at all; 0: the cheapest step, the gradient reaching the image only through each
    layer's keys and values (and the projector through layer 0's)."""
    lm = model.model.language_model
    batch, t0, n_layers = ids.shape[0], n_prefix + n_image, len(lm.layers)
    grad_layers = n_layers if grad_layers is None else grad_layers
    assert bool((ids[:, :n_prefix] == ids[:1, :n_prefix]).all()), 'the prefix differs between samples'
    assert bool((ids[:, n_prefix:t0] == model.config.image_token_index).all()), 'image tokens not where expected'
    prefix = lm.embed_tokens(ids[:1, :n_prefix])
    image = image_features(model, px).to(prefix.dtype)
    text = lm.embed_tokens(ids[:, t0:])
    cos, sin = lm.rotary_emb(prefix, torch.arange(ids.shape[1])[None])
    at = {'prefix': slice(0, n_prefix), 'image': slice(n_prefix, t0), 'text': slice(t0, None)}
    rope = {name: (cos[:, s], sin[:, s]) for name, s in at.items()}

    # The prefix and image streams, layer by layer up to the last layer's input. What the text
    # reads of them in each layer, in the pass below, is that layer's keys and values: those of
    # the layers run with gradient are kept; the others are projected again, with gradient, from
    # the stream's (gradient-free) input to the layer.
    inputs, kept = [(prefix, image)], {}
    for li, layer in enumerate(lm.layers[:-1]):
        hp, hi = inputs[-1]
        with contextlib.nullcontext() if li < grad_layers else torch.no_grad():
            empty = _empty(layer, hp)
            hp, kp, vp, _ = layer_forward(layer, hp, empty, empty, *rope['prefix'])
            hi, ki, vi, _ = layer_forward(layer, hi, kp.expand(batch, -1, -1, -1), vp.expand(batch, -1, -1, -1),
                                          *rope['image'])
        if li < grad_layers:
            kept[li] = kp, vp, ki, vi
        inputs.append((hp, hi))

    attentions = []
    ht = text
    for li, layer in enumerate(lm.layers):
        if li in kept:
            kp, vp, ki, vi = kept[li]
        else:
            hp, hi = inputs[li]
            kp, vp = keys_values(layer, hp, *rope['prefix'])
            ki, vi = keys_values(layer, hi, *rope['image'])
        past_k = torch.cat([kp.expand(batch, -1, -1, -1), ki.to(kp.dtype)], 2)
        past_v = torch.cat([vp.expand(batch, -1, -1, -1), vi.to(vp.dtype)], 2)
        heads = weight_heads if li in weight_layers else 0
        ht, _, _, w = layer_forward(layer, ht, past_k, past_v, *rope['text'], heads)
        attentions.append(w if w is not None else ht.new_zeros(0))
    logits = model.lm_head(lm.norm(ht)).float()
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                             lab[:, t0 + 1:].reshape(-1), ignore_index=-100)
    return loss, attentions, t0


def _empty(layer, h):
    """No past positions: keys/values of length 0 in h's batch and the layer's kv heads."""
    attn = layer.self_attn
    kv_heads = attn.k_proj.out_features // attn.head_dim
    return h.new_zeros(h.shape[0], kv_heads, 0, attn.head_dim)
