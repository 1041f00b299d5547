#!/usr/bin/env python3
"""Checks train.py's --share-prefix against the plain forward pass and measures what it saves.

On one batch of held-out questions (with the attention supervision of the shipped recipe), it
runs the forward and backward pass both ways: the answer loss and the pointer loss must be equal
and the gradients agree (fp32: to rounding; bf16 autocast, as in training: to bf16 noise), and it
prints the ratio of the two step times measured in this run. Usage, from the repository root:

    python3 tools/train_tiny/check_shared_prefix.py CHECKPOINT HELDOUT_DIR [KIND]

CHECKPOINT is a training checkpoint (OUT/checkpoint of train.py), HELDOUT_DIR the held-out data
of make_data.sh. Exits 1 if the two passes disagree.
"""
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import (Encoder, batch_row, collate, forward_shared_prefix, load_boxes, load_samples,  # noqa: E402
                   pointer_loss, pointer_targets)


def make_batch(enc, heldout, kind, n):
    """The first n held-out questions of `kind`, as training rows."""
    boxes = load_boxes(os.path.join(heldout, kind), kind)
    return [batch_row(enc, path, prompt, answer, 24, boxes, 224)
            for path, prompt, answer in load_samples(os.path.join(heldout, kind), kind)[:n]]


def step(model, batch, pad_id, n_prefix, share):
    """Loss, pointer loss, one weight's gradient and the seconds of a forward + backward pass,
    with the prefix shared or (share False) the plain pass."""
    ids, lab, att, px, _ = collate(batch, pad_id)
    n_prefix = n_prefix if share else 0
    targets = pointer_targets(batch)
    supervised = [(2, targets), (3, targets)]
    model.zero_grad(set_to_none=True)
    t = time.time()
    out = forward_shared_prefix(model, ids, att, px, lab, n_prefix, True)
    ptr = pointer_loss(out.attentions, supervised, 4, n_prefix)
    (out.loss + ptr).backward()
    grad = model.model.language_model.layers[1].self_attn.q_proj.weight.grad.clone()
    return out.loss.item(), ptr.item(), grad, time.time() - t


def relative(a, b):
    """The relative difference of tensor a from tensor b (norm of a - b over norm of b)."""
    return ((a - b).norm() / b.norm()).item()


def losses_agree(ref, other, tol):
    """Whether step() result other's loss and pointer loss are within relative tol of ref's."""
    return all(abs(other[i] - ref[i]) <= tol * abs(ref[i]) for i in (0, 1))


def compare(model, batch, pad_id, n_prefix, label, tol):
    plain, shared = step(model, batch, pad_id, n_prefix, False), step(model, batch, pad_id, n_prefix, True)
    rel = relative(shared[2], plain[2])
    print(f'{label}: loss {plain[0]:.6f} / {shared[0]:.6f}, pointer {plain[1]:.6f} / {shared[1]:.6f}, '
          f'gradient relative difference {rel:.2e}')
    return losses_agree(plain, shared, tol) and rel <= tol


def load_checkpoint(ckpt):
    """The checkpoint's model (fp32, 2 threads), its prompt encoder, the pad id and the number of
    prompt tokens before the image: with make_batch(), what step() here and in
    check_row_attention.py takes."""
    from tokenizers import Tokenizer
    from transformers import LlavaForConditionalGeneration
    torch.set_num_threads(2)
    model = LlavaForConditionalGeneration.from_pretrained(ckpt)
    tok = Tokenizer.from_file(os.path.join(ckpt, 'tokenizer.json'))
    image_id = tok.token_to_id('<image>')
    enc = Encoder(tok, image_id, (model.config.vision_config.image_size // 14) ** 2)
    n_prefix = enc.prompt_ids('?').index(image_id)
    return model, enc, tok.token_to_id('<pad>'), n_prefix


def median_seconds(step_seconds):
    """Median seconds of step_seconds(False) and of step_seconds(True) under bf16 autocast, as in
    training: 4 alternating rounds, the first a warm-up."""
    times = {False: [], True: []}
    with torch.autocast('cpu', dtype=torch.bfloat16):
        for _ in range(4):
            for flag in (False, True):
                times[flag].append(step_seconds(flag))
    return statistics.median(times[False][1:]), statistics.median(times[True][1:])


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    kind = sys.argv[3] if len(sys.argv) == 4 else 'textvqa'
    model, enc, pad_id, n_prefix = load_checkpoint(sys.argv[1])
    batch = make_batch(enc, sys.argv[2], kind, 16)
    model.set_attn_implementation({'text_config': 'eager'})
    ok = compare(model, batch, pad_id, n_prefix, 'fp32', 1e-4)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        ok = compare(model, batch, pad_id, n_prefix, 'bf16', 2e-2) and ok
    plain, shared = median_seconds(lambda share: step(model, batch, pad_id, n_prefix, share)[3])
    print(f'{n_prefix} shared prefix tokens of {len(batch[0][0])}; forward + backward, batch 16, bf16: '
          f'plain {plain:.3f} s, shared prefix {shared:.3f} s, {plain / shared:.2f}x')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
