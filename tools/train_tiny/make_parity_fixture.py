#!/usr/bin/env python3
"""Transformers' greedy answers of the shipped model on evaluation samples, for the C parity test
(tests/test_tiny_model.c): the C engine must produce exactly the same answers.

The samples are drawn by `sparsemm synth` (eval split, seed 0, the options of
scripts/synth-options.sh), which is deterministic, so the C test regenerates the same images
instead of committing them. Run from the repository root after `make` and training:

    python3 tools/train_tiny/make_parity_fixture.py

writes tests/fixtures/tiny_model/parity.json.
"""
import json
import os
import subprocess
import sys

import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import VICUNA, load_samples  # noqa: E402

MODEL = os.path.join('models', 'tiny-llava')
OUT = os.path.join('tests', 'fixtures', 'tiny_model', 'parity.json')
# kind -> (samples, max new tokens); the synth options must match tests/test_tiny_model.c
KINDS = {'textvqa': (17, 16), 'docvqa': (17, 32), 'ocrbench': (16, 32)}


def synth_opts(kind):
    """The kind's `sparsemm synth` options from scripts/synth-options.sh (what training and the
    demo use), so the parity samples are drawn like the evaluation sets."""
    out = subprocess.run(['bash', '-c', f'. scripts/synth-options.sh; synth_opts {kind}'],
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def main():
    from transformers import AutoTokenizer, CLIPImageProcessorPil, LlavaForConditionalGeneration
    torch.set_num_threads(2)
    model = LlavaForConditionalGeneration.from_pretrained(MODEL, torch_dtype=torch.float32,
                                                          attn_implementation='eager').eval()
    tok = AutoTokenizer.from_pretrained(MODEL)
    improc = CLIPImageProcessorPil.from_pretrained(MODEL)
    image_id = model.config.image_token_index
    n_image = (model.config.vision_config.image_size // model.config.vision_config.patch_size) ** 2
    out = {'version': 1, 'model_hash_note': 'regenerate after retraining the model', 'samples': []}
    tmp = '/tmp/sparsemm-parity'
    for kind, (n, max_new) in KINDS.items():
        d = os.path.join(tmp, kind)
        subprocess.run(['build/sparsemm', 'synth', '--kind', kind, '--n', str(n), '--seed', '0', '--split', 'eval',
                        *synth_opts(kind), '--out', d, '--quiet'], check=True)
        for index, (path, prompt, answer) in enumerate(load_samples(d, kind)[:n]):
            ids = tok(VICUNA.format(q=prompt)).input_ids
            i = ids.index(image_id)
            ids = ids[:i] + [image_id] * n_image + ids[i + 1:]
            px = improc(images=Image.open(path).convert('RGB'), return_tensors='pt')['pixel_values']
            with torch.no_grad():
                gen = model.generate(input_ids=torch.tensor([ids]), pixel_values=px, max_new_tokens=max_new,
                                     do_sample=False, eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id)
            new = gen[0, len(ids):].tolist()
            if new and new[-1] == tok.eos_token_id:
                new = new[:-1]
            out['samples'].append({'kind': kind, 'index': index, 'max_new_tokens': max_new, 'image': os.path.relpath(path, tmp), 'prompt': prompt,
                                   'answer': answer, 'tokens': new,
                                   'text': tok.decode(new, skip_special_tokens=True)})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
    ok = sum(s['text'].strip().lower() == s['answer'].lower() for s in out['samples'])
    print(f'{OUT}: {len(out["samples"])} samples, {ok} exact answers')


if __name__ == '__main__':
    main()
