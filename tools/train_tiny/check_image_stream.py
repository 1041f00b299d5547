#!/usr/bin/env python3
"""Checks train.py's --image-grad-layers (image_stream.py) against transformers' forward pass
and measures what it saves.

On batches of held-out questions with the shipped recipe's attention supervision (next token on
layers 2-3, previous token on layer 1) and shared prefix, it runs train.py's pass (transformers'
model with row_attention.py, "plain") and image_stream's with every count of image-gradient
layers. fp32: the answer and pointer losses must equal plain's for every count (the forward values
are the same), and so must the output head's gradient (it sits after the text positions only);
with all layers but the last ("exact", the last layer's image outputs feed nothing) every
gradient must equal plain's to rounding. With fewer layers the other gradients differ by design:
it prints how far (q_proj of layer 1 and k_proj of layer 3). bf16 autocast, as in training: the
exact pass's losses must stay within 3% of fp32, as plain's must. It also prints the step times
(bf16, fixed tower as with --freeze-vision) of plain, exact and the cheapest (0 layers), measured
in this run on the first batch. Usage, from the repository root:

    python3 tools/train_tiny/check_image_stream.py CHECKPOINT HELDOUT_DIR [KIND ...]

CHECKPOINT is a training checkpoint (OUT/checkpoint of train.py), HELDOUT_DIR the held-out data of
make_data.sh; KIND (default: textvqa docvqa ocrbench) picks the held-out sets, one 16-question
batch from each. Exits 1 if they disagree.
"""
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import row_attention  # noqa: E402
from check_row_attention import load_for_check  # noqa: E402
from check_shared_prefix import losses_agree, make_batch, relative  # noqa: E402
from image_stream import forward_image_stream  # noqa: E402
from train import collate, pointer_forward, pointer_loss, pointer_targets  # noqa: E402

def grads(model):
    """The gradients compared: q_proj of layer 1, k_proj of layer 3, and the output head."""
    layers = model.model.language_model.layers
    return (torch.cat([layers[1].self_attn.q_proj.weight.grad.flatten(),
                       layers[3].self_attn.k_proj.weight.grad.flatten()]), model.lm_head.weight.grad.clone())


def step(model, batch, pad_id, n_prefix, grad_layers='plain'):
    """grad_layers: 'plain' (train.py's pass) or image_stream's count (None: exact). Returns the
    answer loss, the pointer loss, grads() and the seconds of the forward + backward pass."""
    ids, lab, att, px, _ = collate(batch, pad_id)
    nxt, prev = pointer_targets(batch), pointer_targets(batch, back=1)
    supervised = [(2, nxt), (3, nxt), (1, prev)]
    model.zero_grad(set_to_none=True)
    t = time.time()
    if grad_layers == 'plain':
        out, q_offset = pointer_forward(model, ids, att, px, lab, n_prefix, supervised, 4, True)
        loss, attentions = out.loss, out.attentions
    else:
        loss, attentions, q_offset = forward_image_stream(model, ids, px, lab, n_prefix, model.config.image_seq_length,
                                                          {l for l, _ in supervised}, 4, grad_layers)
    ptr = pointer_loss(attentions, supervised, 4, q_offset)
    (loss + ptr).backward()
    return loss.item(), ptr.item(), grads(model), time.time() - t


def compare(model, batch, pad_id, n_prefix, label):
    """Whether image_stream agrees with plain on this batch (see the module's docstring)."""
    n_layers = len(model.model.language_model.layers)
    plain, exact = step(model, batch, pad_id, n_prefix), step(model, batch, pad_id, n_prefix, None)
    rel = relative(exact[2][0], plain[2][0])
    print(f'{label} fp32: plain loss {plain[0]:.6f}, pointer {plain[1]:.6f}; exact loss {exact[0]:.6f}, pointer '
          f'{exact[1]:.6f}, gradient relative difference {rel:.2e}')
    ok = losses_agree(plain, exact, 1e-4) and rel <= 1e-4
    for g in range(n_layers - 1):
        cut = step(model, batch, pad_id, n_prefix, g)
        head, other = relative(cut[2][1], plain[2][1]), relative(cut[2][0], plain[2][0])
        print(f'{label} fp32, {g} image-gradient layers: loss {cut[0]:.6f}, pointer {cut[1]:.6f}; gradient '
              f'relative difference: output head {head:.2e}, q/k_proj {other:.2e} (by design)')
        ok = ok and losses_agree(plain, cut, 1e-4) and head <= 1e-4
    with torch.autocast('cpu', dtype=torch.bfloat16):
        p16, e16 = step(model, batch, pad_id, n_prefix), step(model, batch, pad_id, n_prefix, None)
    print(f'{label} bf16: plain loss {p16[0]:.6f}, pointer {p16[1]:.6f}; exact loss {e16[0]:.6f}, pointer '
          f'{e16[1]:.6f}; gradient relative difference from fp32: plain {relative(p16[2][0], plain[2][0]):.2e}, '
          f'exact {relative(e16[2][0], plain[2][0]):.2e}')
    return ok and losses_agree(plain, p16, 3e-2) and losses_agree(plain, e16, 3e-2)


def median_times(model, batch, pad_id, n_prefix, rounds=4):
    """Median seconds of plain, exact and 0-layer steps under bf16, alternating, first round a warm-up."""
    times = {'plain': [], None: [], 0: []}
    with torch.autocast('cpu', dtype=torch.bfloat16):
        for _ in range(rounds):
            for how in times:
                times[how].append(step(model, batch, pad_id, n_prefix, how)[3])
    return [statistics.median(t[1:]) for t in times.values()]


def main():
    model, enc, pad_id, n_prefix, heldout, kinds = load_for_check(__doc__)
    model.set_attn_implementation({'text_config': row_attention.NAME})
    batches = [(f'{kind} 0-15', make_batch(enc, heldout, kind, 16)) for kind in kinds]
    ok = all([compare(model, batch, pad_id, n_prefix, label) for label, batch in batches])
    model.model.vision_tower.requires_grad_(False)  # as with --freeze-vision in the recipe
    label, batch = batches[0]
    plain, exact, cheapest = median_times(model, batch, pad_id, n_prefix)
    print(f'forward + backward, batch 16 ({label}), shared prefix, fixed tower, bf16: plain {plain:.3f} s, '
          f'exact {exact:.3f} s ({plain / exact:.2f}x), 0 image-gradient layers {cheapest:.3f} s '
          f'({plain / cheapest:.2f}x)')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
