#!/usr/bin/env python3
"""Does a vision tower keep the order of the glyphs inside a patch? A fresh linear head with
columns (train.py --glyph-slots) is fitted on the fixed tower's feature layer, the one the
projector reads, and probe.py's column_probe scores it on held-out patches holding two or more
glyph centres: "set exact" (which glyphs) and "columns exact" (which glyphs in which column of
the patch: their order and repeats). Towers trained on sets (--glyph-slots 1) and on columns are
measured alike, with the same images in the same order, so the two numbers compare towers.

    python3 tools/train_tiny/fit_columns.py CHECKPOINT TRAIN_DIR HELDOUT_DIR [STEPS [COLUMNS]]

STEPS defaults to 600 (batch 16, stage 1's mix of kinds), COLUMNS to 3.
"""
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe import column_probe, tower_features  # noqa: E402
from train import GLYPHS, batch_weights, glyph_loss_norm, glyph_targets, load_boxes, load_samples, preprocess  # noqa: E402

KINDS = ['textvqa', 'docvqa', 'ocrbench', 'synthdog']


def fit(model, train_dir, steps, cols, size):
    """A linear head with `cols` columns per patch, fitted with AdamW on the glyph loss of
    stage 1 (divided by the glyph-bearing patches) over `steps` seeded batches of 16 images."""
    paths = {k: sorted({p for p, _, _ in load_samples(os.path.join(train_dir, k), k)}) for k in KINDS}
    boxes = {k: load_boxes(os.path.join(train_dir, k), k) for k in KINDS}
    weights = batch_weights(KINDS, {k: len(paths[k]) for k in KINDS}, 'textvqa=0.4')
    rng = random.Random(0)
    torch.manual_seed(0)
    head = torch.nn.Linear(model.config.vision_config.hidden_size, cols * len(GLYPHS))
    opt = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=0.01)
    for step in range(steps):
        k = rng.choices(KINDS, weights)[0]
        batch = rng.sample(paths[k], 16)
        x = tower_features(model, torch.stack([preprocess(p, size) for p in batch]))
        tg = torch.stack([glyph_targets(boxes[k][p], size, slots=cols) for p in batch])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            head(x), tg, reduction='sum') / glyph_loss_norm(tg, 'glyphs')
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if (step + 1) % 100 == 0:
            print(f'step {step + 1} loss {loss.item():.3f}', flush=True)
    return head


def main():
    if len(sys.argv) not in (4, 5, 6):
        sys.exit(__doc__)
    ckpt, train_dir, heldout = sys.argv[1:4]
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 600
    cols = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    from transformers import LlavaForConditionalGeneration
    torch.set_num_threads(2)
    model = LlavaForConditionalGeneration.from_pretrained(ckpt, torch_dtype=torch.float32).eval()
    size = model.config.vision_config.image_size
    head = fit(model, train_dir, steps, cols, size)
    for k in KINDS:
        root = os.path.join(heldout, k)
        paths = [p for p, _, _ in load_samples(root, k)[:32]]
        with torch.no_grad():
            logits = head(tower_features(model, torch.stack([preprocess(p, size) for p in paths])))
        print(f'{k:9s} ' + column_probe(logits, load_boxes(root, k), paths, size))


if __name__ == '__main__':
    main()
