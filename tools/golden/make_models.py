#!/usr/bin/env python3
"""Golden checkpoints and reference outputs for the C engine's parity tests.

Builds small random-weight checkpoints of each supported architecture with transformers (no
download: the model is constructed from a config and saved with save_pretrained), a tokenizer
trained by tools/golden/make_tokenizers.py, an image processor config and a test image, then
runs transformers (fp32, eager attention) and dumps what the C engine must reproduce:

    input_ids        the processor's prompt ids (image token expanded)
    pixel_values     the processor's output for the image
    vision_hidden    the vision tower's selected features (before the projector)
    image_features   the projector's output (what replaces the image tokens)
    prefill_logits   logits of the prompt's last position
    greedy_tokens    32 greedy tokens continuing the prompt (EOS not treated specially)
    step_logits      the logits that chose each of them

into tests/fixtures/golden/<name>/golden.safetensors (F32 tensors; ids stored as exact floats;
a 'golden_version' tensor the tests check).

Re-run from the repository root (takes under a minute on a laptop CPU):

    python3 tools/golden/make_models.py

Requires torch, transformers (>= 5), tokenizers, pillow, safetensors from PyPI.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tokenizers import (build_llama_tokenizer, build_qwen2_tokenizer, corpus_lines,  # noqa: E402
                             llama_tokenizer_config, qwen2_tokenizer_config, save_tokenizer_dir)

GOLDEN_VERSION = 1
OUT = os.path.join('tests', 'fixtures', 'golden')
N_GREEDY = 32
VICUNA = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
          "detailed, and polite answers to the user's questions. USER: <image>\n{q} ASSISTANT:")
MISTRAL = "[INST] <image>\n{q} [/INST]"
QWEN2 = ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
         "<|vision_start|><|image_pad|><|vision_end|>{q}<|im_end|>\n<|im_start|>assistant\n")
QUESTION = "What is written in the image?"


def test_image(w, h, seed):
    """Gradient + noise + a few sharp rectangles: exercises resampling and colour channels."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 127 // max(w + h - 2, 1)], -1)
    img = img.astype(np.int32) + rng.integers(-30, 31, size=(h, w, 3))
    for _ in range(4):
        x0, y0 = rng.integers(0, w - 4), rng.integers(0, h - 4)
        img[y0:y0 + h // 5, x0:x0 + w // 6] = rng.integers(0, 256, size=3)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), 'RGB')


def randomize(model, seed, std):
    """Random weights with a larger spread than the default init, so logits are far from uniform
    and greedy decoding is not a tie-break lottery. LayerNorm/RMSNorm weights stay near 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'norm' in name or 'layrnorm' in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith('bias'):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(std * torch.randn(p.shape, generator=g))


def round_to(model, dtype):
    """Round every weight to dtype (kept in fp32 for the reference run), so the saved half-precision
    checkpoint and the fp32 reference hold exactly the same values."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def greedy(model, inputs):
    """Prefill, then N_GREEDY greedy steps with the KV cache; returns (prefill logits, tokens, step logits).
    Checked against model.generate, so the manual loop cannot drift from what HF decoding does."""
    with torch.no_grad():
        out = model(**inputs, use_cache=True)
        logits = out.logits[0, -1].clone()
        prefill = logits.clone()
        past = out.past_key_values
        tokens, steps = [], []
        for _ in range(N_GREEDY):
            tok = int(torch.argmax(logits))
            tokens.append(tok)
            steps.append(logits.clone())
            # no attention mask: batch of one, nothing padded (and transformers 5.23's Qwen2-VL
            # mis-sizes a decode-step mask)
            out = model(input_ids=torch.tensor([[tok]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits = out.logits[0, -1].clone()
        ref = model.generate(**inputs, max_new_tokens=N_GREEDY, min_new_tokens=N_GREEDY, do_sample=False,
                             eos_token_id=None, pad_token_id=0)[0, inputs['input_ids'].shape[1]:].tolist()
    assert tokens == ref, (tokens, ref)
    return prefill, tokens, torch.stack(steps)


def save_golden(path, tensors):
    tensors = {k: (v if torch.is_tensor(v) else torch.tensor(v)).to(torch.float32).contiguous() for k, v in tensors.items()}
    tensors['golden_version'] = torch.tensor([float(GOLDEN_VERSION)])
    save_file(tensors, path)


def make_llava(name, seed, dtype, n_heads, n_kv_heads, image_size, patch, img_wh, pad=False):
    from transformers import (AutoTokenizer, CLIPImageProcessorPil, CLIPVisionConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor)
    out_dir = os.path.join(OUT, name)
    shutil.rmtree(out_dir, ignore_errors=True)
    tok = build_llama_tokenizer(corpus_lines(), vocab_size=600, legacy=True)
    save_tokenizer_dir(tok, out_dir, llama_tokenizer_config(tok))
    image_token = tok.token_to_id('<image>')
    vocab = tok.get_vocab_size()
    vocab_padded = (vocab + 63) // 64 * 64  # llava-hf pads the embedding to a multiple of 64
    vision = CLIPVisionConfig(hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                              image_size=image_size, patch_size=patch, projection_dim=32)
    text = LlamaConfig(hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=n_heads,
                       num_key_value_heads=n_kv_heads, vocab_size=vocab_padded, max_position_embeddings=4096,
                       rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, pad_token_id=tok.token_to_id('<pad>'))
    cfg = LlavaConfig(vision_config=vision.to_dict(), text_config=text.to_dict(), image_token_index=image_token,
                      image_seq_length=(image_size // patch) ** 2, vision_feature_layer=-2,
                      vision_feature_select_strategy='default', projector_hidden_act='gelu')
    cfg._attn_implementation = 'eager'
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(cfg).eval()
    randomize(model, seed, std=0.15)
    if dtype != torch.float32:
        round_to(model, dtype)
    model.save_pretrained(out_dir, safe_serialization=True)
    if dtype != torch.float32:  # re-save in the half-precision dtype, as hub checkpoints are
        model.to(dtype).save_pretrained(out_dir, safe_serialization=True)
        model.to(torch.float32)
    model.config._attn_implementation = 'eager'

    ip = CLIPImageProcessorPil(size={'shortest_edge': image_size}, crop_size={'height': image_size, 'width': image_size},
                               do_center_crop=True, resample=3, image_mean=[0.48145466, 0.4578275, 0.40821073],
                               image_std=[0.26862954, 0.26130258, 0.27577711])
    ip.save_pretrained(out_dir)
    if pad:  # LLaVA's pad-to-square variant
        pp = json.load(open(os.path.join(out_dir, 'preprocessor_config.json')))
        pp['image_processor_type'] = 'LlavaImageProcessor'
        pp['do_pad'] = True
        json.dump(pp, open(os.path.join(out_dir, 'preprocessor_config.json'), 'w'), indent=2)
        from transformers import LlavaImageProcessorPil
        ip = LlavaImageProcessorPil.from_pretrained(out_dir)
    hf_tok = AutoTokenizer.from_pretrained(out_dir)
    proc = LlavaProcessor(image_processor=ip, tokenizer=hf_tok, patch_size=patch,
                          vision_feature_select_strategy='default', num_additional_image_tokens=1)
    img = test_image(*img_wh, seed=seed)
    img.save(os.path.join(out_dir, 'image.png'))
    img = Image.open(os.path.join(out_dir, 'image.png')).convert('RGB')
    prompt = VICUNA.format(q=QUESTION)
    inputs = proc(images=img, text=prompt, return_tensors='pt')
    n_img = int((inputs['input_ids'] == image_token).sum())
    assert n_img == (image_size // patch) ** 2, n_img
    model = LlavaForConditionalGeneration.from_pretrained(out_dir, torch_dtype=torch.float32,
                                                          attn_implementation='eager').eval()
    with torch.no_grad():
        vis = model.model.vision_tower(inputs['pixel_values'], output_hidden_states=True)
        hidden = vis.hidden_states[-2][0, 1:]
        feats = model.model.multi_modal_projector(hidden[None])[0]
    prefill, tokens, steps = greedy(model, inputs)
    save_golden(os.path.join(out_dir, 'golden.safetensors'), {
        'input_ids': inputs['input_ids'][0], 'pixel_values': inputs['pixel_values'][0],
        'vision_hidden': hidden, 'image_features': feats, 'prefill_logits': prefill,
        'greedy_tokens': torch.tensor(tokens), 'step_logits': steps})
    with open(os.path.join(out_dir, 'golden.json'), 'w') as f:
        json.dump({'version': GOLDEN_VERSION, 'prompt': prompt, 'question': QUESTION, 'template': 'vicuna',
                   'image': 'image.png', 'n_image_tokens': n_img, 'greedy_text': hf_tok.decode(tokens),
                   'dtype': str(dtype).replace('torch.', '')}, f, indent=2)
    print(f'{name}: {inputs["input_ids"].shape[1]} prompt tokens, {n_img} image tokens, greedy {tokens[:8]}...')


def clip_vision(image_size, patch):
    from transformers import CLIPVisionConfig
    return CLIPVisionConfig(hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                            image_size=image_size, patch_size=patch, projection_dim=32)


def make_llava_next(name, seed, text_kind, img_wh, sliding_window=None):
    """LLaVA-NeXT with 56-px tiles and the default pinpoints scaled by 56/336 (so the anyres grid,
    the unpadding and the newline column are all exercised on a small model)."""
    from transformers import (AutoTokenizer, LlamaConfig, LlavaNextConfig, LlavaNextForConditionalGeneration,
                              LlavaNextImageProcessorPil, LlavaNextProcessor, MistralConfig)
    out_dir = os.path.join(OUT, name)
    shutil.rmtree(out_dir, ignore_errors=True)
    tok = build_llama_tokenizer(corpus_lines(), vocab_size=600, legacy=True)
    save_tokenizer_dir(tok, out_dir, llama_tokenizer_config(tok))
    image_token = tok.token_to_id('<image>')
    vocab = (tok.get_vocab_size() + 63) // 64 * 64
    tile, patch = 56, 14
    pinpoints = [[tile, 2 * tile], [2 * tile, tile], [2 * tile, 2 * tile], [3 * tile, tile], [tile, 3 * tile]]
    common = dict(hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=vocab, max_position_embeddings=4096, rms_norm_eps=1e-5,
                  bos_token_id=1, eos_token_id=2, pad_token_id=tok.token_to_id('<pad>'))
    if text_kind == 'mistral':
        text = MistralConfig(sliding_window=sliding_window, rope_theta=1e6, **common)
        template = MISTRAL
    else:
        text = LlamaConfig(**common)
        template = VICUNA
    cfg = LlavaNextConfig(vision_config=clip_vision(tile, patch).to_dict(), text_config=text.to_dict(),
                          image_token_index=image_token, image_grid_pinpoints=pinpoints, vision_feature_layer=-2,
                          vision_feature_select_strategy='default', projector_hidden_act='gelu')
    torch.manual_seed(seed)
    model = LlavaNextForConditionalGeneration(cfg).eval()
    randomize(model, seed, std=0.15)
    round_to(model, torch.float16)
    model.to(torch.float16).save_pretrained(out_dir, safe_serialization=True)
    ip = LlavaNextImageProcessorPil(size={'shortest_edge': tile}, crop_size={'height': tile, 'width': tile},
                                    image_grid_pinpoints=pinpoints, do_center_crop=True, resample=3,
                                    image_mean=[0.48145466, 0.4578275, 0.40821073],
                                    image_std=[0.26862954, 0.26130258, 0.27577711])
    ip.save_pretrained(out_dir)
    hf_tok = AutoTokenizer.from_pretrained(out_dir)
    proc = LlavaNextProcessor(image_processor=ip, tokenizer=hf_tok, patch_size=patch,
                              vision_feature_select_strategy='default', num_additional_image_tokens=1)
    img = test_image(*img_wh, seed=seed)
    img.save(os.path.join(out_dir, 'image.png'))
    img = Image.open(os.path.join(out_dir, 'image.png')).convert('RGB')
    prompt = template.format(q=QUESTION)
    inputs = proc(images=img, text=prompt, return_tensors='pt')
    n_img = int((inputs['input_ids'] == image_token).sum())
    model = LlavaNextForConditionalGeneration.from_pretrained(out_dir, torch_dtype=torch.float32,
                                                              attn_implementation='eager').eval()
    with torch.no_grad():
        feats = model.model.get_image_features(pixel_values=inputs['pixel_values'], image_sizes=inputs['image_sizes'])
        feats = torch.cat(list(feats if isinstance(feats, (list, tuple)) else feats.pooler_output), 0)
    assert feats.shape[0] == n_img, (feats.shape, n_img)
    prefill, tokens, steps = greedy(model, inputs)
    save_golden(os.path.join(out_dir, 'golden.safetensors'), {
        'input_ids': inputs['input_ids'][0], 'pixel_values': inputs['pixel_values'][0],
        'image_features': feats, 'prefill_logits': prefill, 'greedy_tokens': torch.tensor(tokens),
        'step_logits': steps})
    with open(os.path.join(out_dir, 'golden.json'), 'w') as f:
        json.dump({'version': GOLDEN_VERSION, 'prompt': prompt, 'question': QUESTION,
                   'template': 'mistral_instruct' if text_kind == 'mistral' else 'vicuna', 'image': 'image.png',
                   'n_image_tokens': n_img, 'image_sizes': inputs['image_sizes'][0].tolist(),
                   'greedy_text': hf_tok.decode(tokens), 'dtype': 'float16'}, f, indent=2)
    print(f'{name}: {inputs["input_ids"].shape[1]} prompt tokens, {n_img} image tokens, greedy {tokens[:8]}...')


def make_qwen2vl(name, seed, img_wh, min_pixels, max_pixels):
    from transformers import AutoTokenizer, Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessorPil
    out_dir = os.path.join(OUT, name)
    shutil.rmtree(out_dir, ignore_errors=True)
    tok = build_qwen2_tokenizer(corpus_lines(), vocab_size=700)
    save_tokenizer_dir(tok, out_dir, qwen2_tokenizer_config(tok))
    tid = tok.token_to_id
    vocab = (tok.get_vocab_size() + 63) // 64 * 64
    text = dict(hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=4,
                num_key_value_heads=2, vocab_size=vocab, max_position_embeddings=4096, rms_norm_eps=1e-6,
                rope_theta=1e6, rope_scaling={'type': 'mrope', 'mrope_section': [2, 3, 3]},
                bos_token_id=tid('<|endoftext|>'), eos_token_id=tid('<|im_end|>'), pad_token_id=tid('<|endoftext|>'))
    vision = dict(depth=2, embed_dim=32, num_heads=2, mlp_ratio=4, hidden_size=64, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2, in_channels=3)
    cfg = Qwen2VLConfig(text_config=text, vision_config=vision, image_token_id=tid('<|image_pad|>'),
                        video_token_id=tid('<|video_pad|>'), vision_start_token_id=tid('<|vision_start|>'),
                        vision_end_token_id=tid('<|vision_end|>'), tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(cfg).eval()
    randomize(model, seed, std=0.15)
    round_to(model, torch.bfloat16)
    model.to(torch.bfloat16).save_pretrained(out_dir, safe_serialization=True)
    ip = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels, patch_size=14, merge_size=2,
                                  temporal_patch_size=2)
    ip.save_pretrained(out_dir)
    hf_tok = AutoTokenizer.from_pretrained(out_dir)
    img = test_image(*img_wh, seed=seed)
    img.save(os.path.join(out_dir, 'image.png'))
    img = Image.open(os.path.join(out_dir, 'image.png')).convert('RGB')
    prompt = QWEN2.format(q=QUESTION)
    # What Qwen2VLProcessor does (it cannot be built here without a video processor backend):
    # expand <|image_pad|> to t*h*w / merge^2 copies, then tokenize.
    pix = ip(images=[img], return_tensors='pt')
    n_img = int(pix['image_grid_thw'][0].prod()) // 4
    ids = hf_tok(prompt.replace('<|image_pad|>', '<|image_pad|>' * n_img), return_tensors='pt')
    inputs = {'input_ids': ids['input_ids'], 'attention_mask': ids['attention_mask'],
              'pixel_values': pix['pixel_values'], 'image_grid_thw': pix['image_grid_thw'],
              'mm_token_type_ids': (ids['input_ids'] == cfg.image_token_id).long()}
    assert int((inputs['input_ids'] == cfg.image_token_id).sum()) == n_img
    model = Qwen2VLForConditionalGeneration.from_pretrained(out_dir, torch_dtype=torch.float32,
                                                            attn_implementation='eager').eval()
    with torch.no_grad():
        feats = model.model.get_image_features(pixel_values=inputs['pixel_values'],
                                               image_grid_thw=inputs['image_grid_thw'])
        feats = torch.cat(list(feats if isinstance(feats, (list, tuple)) else feats.pooler_output), 0)
    prefill, tokens, steps = greedy(model, inputs)
    save_golden(os.path.join(out_dir, 'golden.safetensors'), {
        'input_ids': inputs['input_ids'][0], 'pixel_values': inputs['pixel_values'],
        'image_features': feats, 'prefill_logits': prefill, 'greedy_tokens': torch.tensor(tokens),
        'step_logits': steps})
    with open(os.path.join(out_dir, 'golden.json'), 'w') as f:
        json.dump({'version': GOLDEN_VERSION, 'prompt': prompt, 'question': QUESTION, 'template': 'qwen2',
                   'image': 'image.png', 'n_image_tokens': n_img,
                   'image_grid_thw': inputs['image_grid_thw'][0].tolist(), 'greedy_text': hf_tok.decode(tokens),
                   'dtype': 'bfloat16'}, f, indent=2)
    print(f'{name}: {inputs["input_ids"].shape[1]} prompt tokens, {n_img} image tokens, greedy {tokens[:8]}...')


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    make_llava('llava_gqa', seed=1, dtype=torch.float32, n_heads=4, n_kv_heads=2, image_size=112, patch=14,
               img_wh=(97, 71))
    make_llava('llava_mha_bf16', seed=2, dtype=torch.bfloat16, n_heads=4, n_kv_heads=4, image_size=56, patch=14,
               img_wh=(40, 66))
    make_llava('llava_pad_f16', seed=3, dtype=torch.float16, n_heads=4, n_kv_heads=1, image_size=56, patch=14,
               img_wh=(83, 51), pad=True)
    make_llava_next('llava_next_vicuna', seed=4, text_kind='llama', img_wh=(97, 71))
    make_llava_next('llava_next_mistral', seed=5, text_kind='mistral', img_wh=(61, 150), sliding_window=48)
    make_qwen2vl('qwen2vl', seed=6, img_wh=(150, 90), min_pixels=3136, max_pixels=28 * 28 * 40)


if __name__ == '__main__':
    main()
