#!/usr/bin/env python3
"""Checks train.py's --row-attention (row_attention.py) against eager attention and measures
what it saves.

On one batch of held-out questions with the shipped recipe's attention supervision (next token on
layers 2-3, previous token on layer 1) and its shared prefix, it runs the forward and backward
pass with eager attention and with SDPA plus the supervised rows of the weights: the answer loss,
the pointer loss and the gradients must agree (fp32: to rounding; bf16 autocast, as in training:
row attention's gradient no farther from the fp32 one than eager attention's), and it prints the ratio of the two step times measured in this run. Usage, from
the repository root:

    python3 tools/train_tiny/check_row_attention.py CHECKPOINT HELDOUT_DIR [KIND]

CHECKPOINT is a training checkpoint (OUT/checkpoint of train.py), HELDOUT_DIR the held-out data
of make_data.sh. Exits 1 if the two disagree.
"""
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import row_attention  # noqa: E402
from check_shared_prefix import load_checkpoint_batch, median_seconds  # noqa: E402
from train import collate, pointer_forward, pointer_loss, pointer_targets  # noqa: E402


def step(model, batch, pad_id, n_prefix, rows_only):
    """Loss, pointer loss, two weights' gradients and the seconds of a forward + backward pass."""
    model.set_attn_implementation({'text_config': row_attention.NAME if rows_only else 'eager'})
    ids, lab, att, px, _ = collate(batch, pad_id)
    nxt, prev = pointer_targets(batch), pointer_targets(batch, back=1)
    supervised = [(2, nxt), (3, nxt), (1, prev)]
    model.zero_grad(set_to_none=True)
    t = time.time()
    out, q_offset = pointer_forward(model, ids, att, px, lab, n_prefix, supervised, 4, rows_only)
    ptr = pointer_loss(out.attentions, supervised, 4, q_offset)
    (out.loss + ptr).backward()
    layers = model.model.language_model.layers
    grad = torch.cat([layers[1].self_attn.q_proj.weight.grad.flatten(), layers[3].self_attn.k_proj.weight.grad.flatten()])
    return out.loss.item(), ptr.item(), grad, time.time() - t


def relative(a, b):
    return ((a - b).norm() / b.norm()).item()


def compare(model, batch, pad_id, n_prefix):
    """fp32: both ways agree to rounding. bf16 (autocast, as in training): SDPA rounds differently
    from eager attention, so each is compared with the fp32 gradient and row attention must be no
    farther from it than eager attention is (x1.25, for noise)."""
    eager, rows = step(model, batch, pad_id, n_prefix, False), step(model, batch, pad_id, n_prefix, True)
    rel = relative(rows[2], eager[2])
    print(f'fp32: loss {eager[0]:.6f} / {rows[0]:.6f}, pointer {eager[1]:.6f} / {rows[1]:.6f}, '
          f'gradient relative difference {rel:.2e}')
    ok = abs(eager[0] - rows[0]) <= 1e-4 * abs(eager[0]) and abs(eager[1] - rows[1]) <= 1e-4 * abs(eager[1]) \
        and rel <= 1e-4
    with torch.autocast('cpu', dtype=torch.bfloat16):
        e16, r16 = step(model, batch, pad_id, n_prefix, False), step(model, batch, pad_id, n_prefix, True)
    print(f'bf16: loss {e16[0]:.6f} / {r16[0]:.6f}, pointer {e16[1]:.6f} / {r16[1]:.6f}, gradient relative '
          f'difference from fp32: eager {relative(e16[2], eager[2]):.2e}, row attention {relative(r16[2], eager[2]):.2e}')
    return ok and all(abs(x[0] - eager[0]) <= 1e-2 * abs(eager[0]) and abs(x[1] - eager[1]) <= 1e-2 * abs(eager[1])
                      for x in (e16, r16)) and relative(r16[2], eager[2]) <= 1.25 * relative(e16[2], eager[2])


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    kind = sys.argv[3] if len(sys.argv) == 4 else 'textvqa'
    model, batch, pad_id, n_prefix = load_checkpoint_batch(sys.argv[1], sys.argv[2], kind)
    row_attention.register()
    ok = compare(model, batch, pad_id, n_prefix)
    eager, rows = median_seconds(lambda rows_only: step(model, batch, pad_id, n_prefix, rows_only)[3])
    print(f'forward + backward, batch 16 ({kind}), shared prefix, bf16: eager {eager:.3f} s, '
          f'row attention {rows:.3f} s, {eager / rows:.2f}x')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
