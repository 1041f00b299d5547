#!/usr/bin/env python3
"""Checks train.py's --row-attention (row_attention.py) against eager attention and measures
what it saves.

On batches of held-out questions with the shipped recipe's attention supervision (next token on
layers 2-3, previous token on layer 1) and its shared prefix, it runs the forward and backward
pass with eager attention and with SDPA plus the supervised rows of the weights. fp32: the answer
loss, the pointer loss and the gradients must agree to rounding on every batch. bf16 autocast, as
in training: the two round differently, so each is compared with fp32. Both losses must stay
within 3% of fp32 on every batch (a sanity bound: bf16 moves a loss of 0.2 by up to 1.7% with
eager attention itself), and row attention's gradient error must be no larger than eager
attention's (x1.25) in geometric mean over the batches: which way bf16 rounding falls changes
from batch to batch, so one batch is too few to judge. It also prints the ratio of
the two step times, measured in this run on the first batch. Usage, from the repository root:

    python3 tools/train_tiny/check_row_attention.py CHECKPOINT HELDOUT_DIR [KIND ...]

CHECKPOINT is a training checkpoint (OUT/checkpoint of train.py), HELDOUT_DIR the held-out data
of make_data.sh; KIND (default: textvqa docvqa ocrbench) picks the held-out sets, two 16-question
batches from each. Exits 1 if the two disagree.
"""
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import row_attention  # noqa: E402
from check_shared_prefix import load_checkpoint, losses_agree, make_batch, median_seconds, relative  # noqa: E402
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


def compare(model, batch, pad_id, n_prefix, label):
    """Whether the two agree on this batch (fp32: to rounding; bf16: losses within 3% of fp32) and
    the bf16 gradient errors of eager attention and of row attention, each against the fp32 one."""
    eager, rows = step(model, batch, pad_id, n_prefix, False), step(model, batch, pad_id, n_prefix, True)
    rel = relative(rows[2], eager[2])
    print(f'{label} fp32: loss {eager[0]:.6f} / {rows[0]:.6f}, pointer {eager[1]:.6f} / {rows[1]:.6f}, '
          f'gradient relative difference {rel:.2e}')
    ok = losses_agree(eager, rows, 1e-4) and rel <= 1e-4
    with torch.autocast('cpu', dtype=torch.bfloat16):
        e16, r16 = step(model, batch, pad_id, n_prefix, False), step(model, batch, pad_id, n_prefix, True)
    err_eager, err_rows = relative(e16[2], eager[2]), relative(r16[2], eager[2])
    print(f'{label} bf16: loss {e16[0]:.6f} / {r16[0]:.6f}, pointer {e16[1]:.6f} / {r16[1]:.6f}, gradient '
          f'relative difference from fp32: eager {err_eager:.2e}, row attention {err_rows:.2e}')
    ok = ok and losses_agree(eager, e16, 3e-2) and losses_agree(eager, r16, 3e-2)
    return ok, err_eager, err_rows


def load_for_check(usage):
    """The command line CHECKPOINT HELDOUT_DIR [KIND ...] of this check and check_image_stream.py:
    load_checkpoint()'s four values, the held-out folder and the kinds (default: the three
    benchmarks), with row_attention.py registered. Exits with `usage` when arguments are missing."""
    if len(sys.argv) < 3:
        raise SystemExit(usage)
    row_attention.register()
    return (*load_checkpoint(sys.argv[1]), sys.argv[2], sys.argv[3:] or ['textvqa', 'docvqa', 'ocrbench'])


def main():
    model, enc, pad_id, n_prefix, heldout, kinds = load_for_check(__doc__)
    batches = []
    for kind in kinds:
        rows = make_batch(enc, heldout, kind, 32)
        batches += [(f'{kind} 0-15', rows[:16]), (f'{kind} 16-31', rows[16:])]
    ok, log_ratio = True, 0.0
    for label, batch in batches:
        same, err_eager, err_rows = compare(model, batch, pad_id, n_prefix, label)
        ok, log_ratio = ok and same, log_ratio + math.log(err_rows / err_eager)
    ratio = math.exp(log_ratio / len(batches))
    print(f'bf16 gradient error, row attention / eager, geometric mean over {len(batches)} batches: '
          f'{ratio:.2f} (must be <= 1.25)')
    ok = ok and ratio <= 1.25
    label, batch = batches[0]
    eager, rows = median_seconds(lambda rows_only: step(model, batch, pad_id, n_prefix, rows_only)[3])
    print(f'forward + backward, batch 16 ({label}), shared prefix, bf16: eager {eager:.3f} s, '
          f'row attention {rows:.3f} s, {eager / rows:.2f}x')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
