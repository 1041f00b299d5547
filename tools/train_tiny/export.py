#!/usr/bin/env python3
"""Export a training checkpoint (OUT/checkpoint, fp32, with its tokenizer) as the shipped model:
fp16 weights, tokenizer, CLIP preprocessor config, the training log. What train.py writes at the
end of a run, for a checkpoint taken part-way (see README.md).

    python3 tools/train_tiny/export.py /tmp/stage2/checkpoint models/tiny-llava [--log train_log.tsv]
"""
import argparse
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import save_release  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('checkpoint')
    ap.add_argument('out')
    ap.add_argument('--log', nargs='*', default=[], help='training logs copied next to the weights')
    args = ap.parse_args()
    from transformers import LlavaForConditionalGeneration
    model = LlavaForConditionalGeneration.from_pretrained(args.checkpoint, torch_dtype=torch.float32)
    os.makedirs(args.out, exist_ok=True)
    save_release(model, args.out)
    for f in ('tokenizer.json', 'tokenizer_config.json'):
        shutil.copy(os.path.join(args.checkpoint, f), os.path.join(args.out, f))
    for log in args.log:
        shutil.copy(log, os.path.join(args.out, os.path.basename(log)))
    print(f'exported {args.checkpoint} -> {args.out}')


if __name__ == '__main__':
    main()
