#!/usr/bin/env python3
"""Write a random-weight checkpoint with the exact shapes, names and dtype of a real 7B model,
for memory and speed measurements without downloading one. Nothing here is committed: the
output is several GB.

    python3 tools/make_random_checkpoint.py --shape llava-1.5-7b --out /tmp/llava-7b-random
    build/sparsemm generate --model /tmp/llava-7b-random --image tests/fixtures/golden/llava_gqa/image.png \\
        --prompt "What is written?" --max-new-tokens 4

Shapes (research/models.md §2.1, §5.1): llava-1.5-7b (CLIP ViT-L/14-336 + 2-layer projector +
Llama-2-7B, 32 layers, hidden 4096, MLP 11008, vocab 32064, F16 like llava-hf) and
qwen2-vl-7b (675M vision tower + Qwen2-7B, BF16). --layers reduces the decoder depth for timing
runs (`sparsemm bench` can also build random weights in memory).

Values are random bit patterns of magnitude ~0.004-0.03 with random signs (normalisation weights
~1), written shard by shard (at most 2 GB each) with a model.safetensors.index.json, so the
generator itself needs little memory. The tokenizer and image processor are copied from the
golden fixtures (a small vocabulary; ids stay below the checkpoint's vocabulary).
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np

GOLDEN = os.path.join('tests', 'fixtures', 'golden')


def llava_tensors(layers):
    t = []
    v = 'vision_tower.vision_model.'
    t += [(v + 'embeddings.class_embedding', [1024]), (v + 'embeddings.patch_embedding.weight', [1024, 3, 14, 14]),
          (v + 'embeddings.position_embedding.weight', [577, 1024]), (v + 'pre_layrnorm.weight', [1024]),
          (v + 'pre_layrnorm.bias', [1024]), (v + 'post_layernorm.weight', [1024]), (v + 'post_layernorm.bias', [1024])]
    for i in range(24):
        p = f'{v}encoder.layers.{i}.'
        for n in ['q_proj', 'k_proj', 'v_proj', 'out_proj']:
            t += [(p + f'self_attn.{n}.weight', [1024, 1024]), (p + f'self_attn.{n}.bias', [1024])]
        t += [(p + 'layer_norm1.weight', [1024]), (p + 'layer_norm1.bias', [1024]), (p + 'layer_norm2.weight', [1024]),
              (p + 'layer_norm2.bias', [1024]), (p + 'mlp.fc1.weight', [4096, 1024]), (p + 'mlp.fc1.bias', [4096]),
              (p + 'mlp.fc2.weight', [1024, 4096]), (p + 'mlp.fc2.bias', [1024])]
    t += [('multi_modal_projector.linear_1.weight', [4096, 1024]), ('multi_modal_projector.linear_1.bias', [4096]),
          ('multi_modal_projector.linear_2.weight', [4096, 4096]), ('multi_modal_projector.linear_2.bias', [4096])]
    m = 'language_model.model.'
    t += [(m + 'embed_tokens.weight', [32064, 4096]), (m + 'norm.weight', [4096]),
          ('language_model.lm_head.weight', [32064, 4096])]
    for i in range(layers):
        p = f'{m}layers.{i}.'
        t += [(p + f'self_attn.{n}_proj.weight', [4096, 4096]) for n in 'qkvo']
        t += [(p + 'mlp.gate_proj.weight', [11008, 4096]), (p + 'mlp.up_proj.weight', [11008, 4096]),
              (p + 'mlp.down_proj.weight', [4096, 11008]), (p + 'input_layernorm.weight', [4096]),
              (p + 'post_attention_layernorm.weight', [4096])]
    config = {'model_type': 'llava', 'image_token_index': 32000, 'pad_token_id': 32001, 'vocab_size': 32064,
              'projector_hidden_act': 'gelu', 'vision_feature_layer': -2, 'vision_feature_select_strategy': 'default',
              'tie_word_embeddings': False,
              'text_config': {'model_type': 'llama', 'max_position_embeddings': 4096, 'rms_norm_eps': 1e-05,
                              'vocab_size': 32064, 'num_hidden_layers': layers, 'torch_dtype': 'float16'},
              'vision_config': {'model_type': 'clip_vision_model', 'hidden_size': 1024, 'intermediate_size': 4096,
                                'num_hidden_layers': 24, 'num_attention_heads': 16, 'image_size': 336,
                                'patch_size': 14, 'projection_dim': 768}}
    return t, config, 'F16', 'llava_gqa'


def qwen_tensors(layers):
    t = [('visual.patch_embed.proj.weight', [1280, 3, 2, 14, 14])]
    for i in range(32):
        p = f'visual.blocks.{i}.'
        t += [(p + 'norm1.weight', [1280]), (p + 'norm1.bias', [1280]), (p + 'norm2.weight', [1280]),
              (p + 'norm2.bias', [1280]), (p + 'attn.qkv.weight', [3840, 1280]), (p + 'attn.qkv.bias', [3840]),
              (p + 'attn.proj.weight', [1280, 1280]), (p + 'attn.proj.bias', [1280]),
              (p + 'mlp.fc1.weight', [5120, 1280]), (p + 'mlp.fc1.bias', [5120]), (p + 'mlp.fc2.weight', [1280, 5120]),
              (p + 'mlp.fc2.bias', [1280])]
    t += [('visual.merger.ln_q.weight', [1280]), ('visual.merger.ln_q.bias', [1280]),
          ('visual.merger.mlp.0.weight', [5120, 5120]), ('visual.merger.mlp.0.bias', [5120]),
          ('visual.merger.mlp.2.weight', [3584, 5120]), ('visual.merger.mlp.2.bias', [3584])]
    t += [('model.embed_tokens.weight', [152064, 3584]), ('model.norm.weight', [3584]), ('lm_head.weight', [152064, 3584])]
    for i in range(layers):
        p = f'model.layers.{i}.'
        t += [(p + 'self_attn.q_proj.weight', [3584, 3584]), (p + 'self_attn.q_proj.bias', [3584]),
              (p + 'self_attn.k_proj.weight', [512, 3584]), (p + 'self_attn.k_proj.bias', [512]),
              (p + 'self_attn.v_proj.weight', [512, 3584]), (p + 'self_attn.v_proj.bias', [512]),
              (p + 'self_attn.o_proj.weight', [3584, 3584]), (p + 'mlp.gate_proj.weight', [18944, 3584]),
              (p + 'mlp.up_proj.weight', [18944, 3584]), (p + 'mlp.down_proj.weight', [3584, 18944]),
              (p + 'input_layernorm.weight', [3584]), (p + 'post_attention_layernorm.weight', [3584])]
    config = {'model_type': 'qwen2_vl', 'hidden_size': 3584, 'intermediate_size': 18944, 'num_hidden_layers': layers,
              'num_attention_heads': 28, 'num_key_value_heads': 4, 'rms_norm_eps': 1e-06, 'rope_theta': 1000000.0,
              'max_position_embeddings': 32768, 'sliding_window': 32768, 'use_sliding_window': False,
              'tie_word_embeddings': False, 'vocab_size': 152064, 'torch_dtype': 'bfloat16', 'bos_token_id': 151643,
              'eos_token_id': 151645, 'vision_start_token_id': 151652, 'vision_end_token_id': 151653,
              'vision_token_id': 151654, 'image_token_id': 151655, 'video_token_id': 151656,
              'rope_scaling': {'type': 'mrope', 'mrope_section': [16, 24, 24]},
              'vision_config': {'depth': 32, 'embed_dim': 1280, 'mlp_ratio': 4, 'num_heads': 16, 'in_chans': 3,
                                'hidden_size': 3584, 'patch_size': 14, 'spatial_merge_size': 2,
                                'temporal_patch_size': 2}}
    return t, config, 'BF16', 'qwen2vl'


def random_half(n, dtype, rng, norm):
    """n random f16/bf16 bit patterns: magnitudes ~[2^-8, 2^-5), random signs; ~1.0 for norms."""
    if norm:
        return np.full(n, 0x3c00 if dtype == 'F16' else 0x3f80, np.uint16)
    if dtype == 'F16':  # exponent 7..9 (2^-8..2^-6) + mantissa
        bits = rng.integers(7 << 10, 10 << 10, size=n, dtype=np.uint16)
    else:  # bf16 exponent 119..121
        bits = rng.integers(119 << 7, 122 << 7, size=n, dtype=np.uint16)
    return bits | (rng.integers(0, 2, size=n, dtype=np.uint16) << 15)


def write_shards(tensors, dtype, out, shard_bytes=2 << 30):
    rng = np.random.default_rng(0)
    shards, cur, size = [], [], 0
    for name, shape in tensors:
        nbytes = int(np.prod(shape)) * 2
        if cur and size + nbytes > shard_bytes:
            shards.append(cur)
            cur, size = [], 0
        cur.append((name, shape))
        size += nbytes
    shards.append(cur)
    weight_map, total = {}, 0
    for si, shard in enumerate(shards):
        fname = f'model-{si + 1:05d}-of-{len(shards):05d}.safetensors'
        header, off = {}, 0
        for name, shape in shard:
            n = int(np.prod(shape)) * 2
            header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [off, off + n]}
            off += n
            weight_map[name] = fname
        header['__metadata__'] = {'format': 'pt'}
        hb = json.dumps(header).encode()
        hb += b' ' * ((8 - len(hb) % 8) % 8)
        with open(os.path.join(out, fname), 'wb') as f:
            f.write(struct.pack('<Q', len(hb)))
            f.write(hb)
            for name, shape in shard:
                n = int(np.prod(shape))
                norm = 'norm' in name or 'layrnorm' in name or name.endswith('ln_q.weight')
                for start in range(0, n, 1 << 26):
                    f.write(random_half(min(1 << 26, n - start), dtype, rng, norm and name.endswith('weight')).tobytes())
        total += off
        print(f'{fname}: {off / 2**30:.2f} GiB')
    with open(os.path.join(out, 'model.safetensors.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=1)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--shape', choices=['llava-1.5-7b', 'qwen2-vl-7b'], default='llava-1.5-7b')
    ap.add_argument('--layers', type=int, default=None, help='decoder layers (default: the full 32 / 28)')
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    if args.shape == 'llava-1.5-7b':
        tensors, config, dtype, donor = llava_tensors(args.layers or 32)
    else:
        tensors, config, dtype, donor = qwen_tensors(args.layers or 28)
    os.makedirs(args.out, exist_ok=True)
    src = os.path.join(GOLDEN, donor)
    # the special tokens' ids come from the donor tokenizer (its vocabulary is small)
    added = {t['content']: t['id'] for t in json.load(open(os.path.join(src, 'tokenizer.json')))['added_tokens']}
    if args.shape == 'llava-1.5-7b':
        config['image_token_index'] = added['<image>']
    else:
        for key, tok in [('image_token_id', '<|image_pad|>'), ('vision_start_token_id', '<|vision_start|>'),
                         ('vision_end_token_id', '<|vision_end|>'), ('eos_token_id', '<|im_end|>')]:
            config[key] = added[tok]
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    for name in ['tokenizer.json', 'tokenizer_config.json']:
        shutil.copy(os.path.join(src, name), args.out)
    pp = json.load(open(os.path.join(src, 'preprocessor_config.json')))
    if args.shape == 'llava-1.5-7b':
        pp.update({'size': {'shortest_edge': 336}, 'crop_size': {'height': 336, 'width': 336}})
    else:
        pp.update({'min_pixels': 3136, 'max_pixels': 602112})
    with open(os.path.join(args.out, 'preprocessor_config.json'), 'w') as f:
        json.dump(pp, f, indent=2)
    total = write_shards(tensors, dtype, args.out)
    print(f'{args.out}: {len(tensors)} tensors, {total / 2**30:.2f} GiB of {dtype} weights')


if __name__ == '__main__':
    main()
