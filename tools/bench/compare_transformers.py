#!/usr/bin/env python3
"""Prefill and decode speed of the C engine next to transformers (torch on the CPU) on the same
small model, the same prompts and the same thread count (issue 10). Developer tool: nothing here
is part of the product or its tests.

Prompts follow the paper's efficiency experiment (research/sparsemm.md §5.4): input_ids =
arange(n) mod the vocabulary, a 123-token warm-up forward, one timed prefill, then the mean of
`--steps` single-token greedy decode steps. Both sides keep an f32 KV cache and compute logits for
the last position only at prefill (transformers: logits_to_keep=1, as generate() does; the engine
always does). The C side is `sparsemm bench --model DIR --methods fullkv --kv-dtype f32 --json`;
it inherits the environment, OPENBLAS_CORETYPE included (the line printed says which kernels ran).

    python3 tools/bench/compare_transformers.py                       # builds the model below
    python3 tools/bench/compare_transformers.py --model tests/fixtures/golden/llava_gqa

Both sides use libgomp: on a machine shared with other jobs run with OMP_WAIT_POLICY=passive (or
--threads 1), or spinning threads of either side wait out scheduler slices at every barrier.

Without --model it builds (and reuses) a random LLaVA-1.5-architecture checkpoint in /tmp, saved
with save_pretrained: Llama text model with hidden 768, 12 heads, MLP 2048, 6 layers, vocabulary
32064, f32 (about 370 MB); vision tower tiny (unused by text prompts). The tokenizer and image
processor files are copied from the golden LLaVA fixture (the engine loads them; prompts are ids).

Requires torch and transformers (>= 5) from PyPI.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import torch

GOLDEN = os.path.join('tests', 'fixtures', 'golden', 'llava_gqa')
WARMUP = 123


def build_model(out):
    from transformers import LlavaConfig, LlavaForConditionalGeneration
    if os.path.exists(os.path.join(out, 'config.json')):
        return out
    text = {'model_type': 'llama', 'hidden_size': 768, 'intermediate_size': 2048, 'num_hidden_layers': 6,
            'num_attention_heads': 12, 'num_key_value_heads': 12, 'vocab_size': 32064, 'rms_norm_eps': 1e-5,
            'max_position_embeddings': 8192}
    vision = {'model_type': 'clip_vision_model', 'hidden_size': 48, 'intermediate_size': 96, 'num_hidden_layers': 2,
              'num_attention_heads': 4, 'image_size': 112, 'patch_size': 14, 'projection_dim': 48}
    cfg = LlavaConfig(text_config=text, vision_config=vision, image_token_index=32000, pad_token_id=32001,
                      vocab_size=32064, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(cfg).eval()
    model.save_pretrained(out, safe_serialization=True)
    for f in ['tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json']:
        shutil.copy(os.path.join(GOLDEN, f), out)
    return out


def time_torch(model_dir, lengths, steps, threads):
    from transformers import AutoConfig, LlavaForConditionalGeneration
    torch.set_num_threads(threads)
    model = LlavaForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32, attn_implementation='sdpa')
    model.eval()
    vocab = AutoConfig.from_pretrained(model_dir).text_config.vocab_size
    rows = {}
    with torch.inference_mode():
        for n in lengths:
            ids = (torch.arange(max(n, WARMUP)) % vocab)[None]
            model(input_ids=ids[:, :WARMUP], use_cache=True, logits_to_keep=1)
            t0 = time.perf_counter()
            out = model(input_ids=ids[:, :n], use_cache=True, logits_to_keep=1)
            prefill = time.perf_counter() - t0
            past, tok = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
            total = 0.0
            for _ in range(steps):
                t0 = time.perf_counter()
                out = model(input_ids=tok, past_key_values=past, use_cache=True)
                total += time.perf_counter() - t0
                past, tok = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
            rows[n] = (prefill * 1000, total / steps * 1000)
    return rows


def time_engine(model_dir, lengths, steps, threads, binary):
    cmd = [binary, 'bench', '--model', model_dir, '--context', ','.join(map(str, lengths)), '--methods', 'fullkv',
           '--steps', str(steps), '--threads', str(threads), '--kv-dtype', 'f32', '--json']
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    rows = {}
    for line in res.stdout.splitlines():
        r = json.loads(line)
        rows[r['context']] = (r['prefill_ms'], r['decode_ms_per_token'])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', help='checkpoint directory (default: build the small model in --out)')
    ap.add_argument('--out', default='/tmp/sparsemm-compare-model', help='where the built model goes')
    ap.add_argument('--lengths', default='128,512,2048', help='prompt lengths')
    ap.add_argument('--steps', type=int, default=32, help='timed decode steps')
    ap.add_argument('--threads', type=int, default=os.cpu_count(), help='threads on both sides')
    ap.add_argument('--binary', default='build/sparsemm')
    a = ap.parse_args()
    model_dir = a.model or build_model(a.out)
    lengths = [int(x) for x in a.lengths.split(',')]
    c = time_engine(model_dir, lengths, a.steps, a.threads, a.binary)
    t = time_torch(model_dir, lengths, a.steps, a.threads)
    print(f'model {model_dir}, {a.threads} threads, torch {torch.__version__}, f32 weights and KV cache, '
          f'OPENBLAS_CORETYPE={os.environ.get("OPENBLAS_CORETYPE", "(auto)")}, '
          f'OMP_WAIT_POLICY={os.environ.get("OMP_WAIT_POLICY", "(default)")}')
    print(f'{"tokens":>7}  {"prefill tok/s":>27}  {"decode tok/s":>27}')
    print(f'{"":>7}  {"torch":>8} {"engine":>8} {"ratio":>8}  {"torch":>8} {"engine":>8} {"ratio":>8}')
    ok = True
    for n in lengths:
        tp, td = n / t[n][0] * 1000, 1000 / t[n][1]
        cp, cd = n / c[n][0] * 1000, 1000 / c[n][1]
        ok &= cp > tp and cd > td
        print(f'{n:>7}  {tp:>8.0f} {cp:>8.0f} {cp / tp:>8.2f}  {td:>8.1f} {cd:>8.1f} {cd / td:>8.2f}')
    print('engine faster at every length' if ok else 'engine NOT faster at every length')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
