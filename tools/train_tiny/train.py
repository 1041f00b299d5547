#!/usr/bin/env python3
"""Train the embedded default model: a small llava-hf LlavaForConditionalGeneration (CLIP vision
tower + 2-layer GELU projector + Llama decoder with GQA) that reads text in images, on data made
by `sparsemm synth`. See tools/train_tiny/README.md for the exact reproduction command.

Everything is seeded; the data comes from the C generator (training seeds disjoint from the
evaluation seeds), the tokenizer is trained here on the training text with the same builder the
golden tests use (tools/golden/make_tokenizers.py), and the result is saved with save_pretrained
in the Hugging Face layout the C engine loads (config.json, model.safetensors in fp16,
tokenizer.json, tokenizer_config.json, preprocessor_config.json).

Prompts are exactly what the C harness sends (datasets/benchmark.c): lmms-eval's Vicuna template,
"<image>\\n" + the benchmark's prompt; TextVQA capitalises the question and, like DocVQA, appends
"\\nAnswer the question using a single word or phrase."; OCRBench sends the bare question; the OCR
task for the head finder asks "Provide all the OCR results of this image.".
Loss is on the answer tokens and the closing </s> only.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'golden'))
from make_tokenizers import build_llama_tokenizer, llama_tokenizer_config, save_tokenizer_dir  # noqa: E402

sys.path.insert(0, HERE)
import row_attention  # noqa: E402
from image_stream import forward_image_stream  # noqa: E402

VICUNA = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
          "detailed, and polite answers to the user's questions. USER: <image>\n{q} ASSISTANT:")
SHORT = "\nAnswer the question using a single word or phrase."
OCR_PROMPT = "Provide all the OCR results of this image."
EVAL_KINDS = ['textvqa', 'docvqa', 'ocrbench']  # the benchmarks with held-out accuracy (synthdog has no metric)
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def py_capitalize(s):
    return s[:1].upper() + s[1:].lower()


def first_existing(root, names):
    for n in names:
        if os.path.exists(os.path.join(root, n)):
            return os.path.join(root, n)
    raise FileNotFoundError(f'{root}: none of {names}')


def load_boxes(root, kind):
    """image path -> [(word, ((x0, y0), (x1, y1)))]: the generator's word boxes (ocr_boxes.json,
    or the synthdog file itself), the targets of the auxiliary glyph loss."""
    name = 'synthdog-en.json' if kind == 'synthdog' else 'ocr_boxes.json'
    return {os.path.join(root, e['image_name']): [(c['chunk'], c['coord']) for c in e['2_coord']]
            for e in json.load(open(os.path.join(root, name)))}


def load_samples(root, kind):
    """(image path, prompt, answer) triples from a `sparsemm synth` output folder (either split)."""
    out = []
    if kind == 'textvqa':
        data = json.load(open(first_existing(root, ['TextVQA_0.5.1_train.json', 'TextVQA_0.5.1_val.json'])))['data']
        for e in data:
            ans = max(set(e['answers']), key=e['answers'].count)
            out.append((os.path.join(root, 'train_images', e['image_id'] + '.jpg'),
                        py_capitalize(e['question']) + SHORT, ans))
    elif kind == 'docvqa':
        data = json.load(open(first_existing(root, ['train_v1.0.json', 'val_v1.0.json'])))['data']
        for e in data:
            out.append((os.path.join(root, e['image']), e['question'] + SHORT, e['answers'][0]))
    elif kind == 'ocrbench':
        for e in json.load(open(os.path.join(root, 'OCRBench.json'))):
            a = e['answers'] if isinstance(e['answers'], str) else e['answers'][0]
            out.append((os.path.join(root, e['image_path']), e['question'].strip(), a))
    elif kind == 'synthdog':
        for e in json.load(open(os.path.join(root, 'synthdog-en.json'))):
            text = ' '.join(c['chunk'] for c in e['2_coord'])
            out.append((os.path.join(root, e['image_name']), OCR_PROMPT, text))
    else:
        raise ValueError(kind)
    return out


def preprocess(path, size):
    """CLIPImageProcessor for a square size: resize shortest edge (PIL bicubic) + center crop,
    rescale, normalise (what the C engine reproduces bit for bit)."""
    img = Image.open(path).convert('RGB')
    w, h = img.size
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    img = img.resize((nw, nh), Image.BICUBIC)
    left, top = (nw - size) // 2, (nh - size) // 2
    img = img.crop((left, top, left + size, top + size))
    x = np.asarray(img, dtype=np.float64) * (1 / 255)
    x = (x.astype(np.float32) - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy())


GLYPHS = [chr(c) for c in range(33, 127)]  # printable ASCII but space: the generator's alphabet


def char_centres(word, box):
    """Per character of a word drawn in `box` ((x0, y0), (x1, y1)): (character, x, y of its
    centre). The generator boxes words, not characters, so the centres are spread evenly over the
    box: exact for the monospace faces, close for the others."""
    (x0, y0), (x1, y1) = box
    return [(ch, x0 + (i + 0.5) * (x1 - x0) / len(word), (y0 + y1) / 2) for i, ch in enumerate(word)]


def char_cells(word, box, size, patch=14, slots=1):
    """Per character of a word: (character, the patch index holding its centre, or None outside
    the size x size image, and which of the patch's `slots` columns the centre is in)."""
    g, out = size // patch, []
    for ch, x, y in char_centres(word, box):
        px, py = int(x // patch), int(y // patch)
        cell = py * g + px if 0 <= px < g and 0 <= py < g else None
        out.append((ch, cell, min(slots - 1, int((x - px * patch) * slots / patch))))
    return out


def glyph_targets(boxes, size, patch=14, slots=1):
    """Per patch, the multi-hot set of glyphs whose centre falls in it (as char_centres() places
    the centres). This dense signal teaches the vision tower to see glyphs long before the answer
    loss alone would; the head that reads it is dropped when the model is saved. The boxes are in
    the image's own pixels, so the images must already be size x size (the recipe draws them so).
    With slots > 1 the patch is cut into that many columns and each column has its own set
    (column s of glyph c at s * len(GLYPHS) + c). Why: a 14-px patch holds two or three characters
    of the 5-7 px wide text, and a set says neither their order nor whether one repeats ("66"), so
    a tower trained on sets need not keep either, yet most misses are a character or two off."""
    g, n = size // patch, len(GLYPHS)
    t = torch.zeros(g * g, slots * n)
    for word, box in boxes:
        for ch, cell, col in char_cells(word, box, size, patch, slots):
            c = ord(ch) - 33
            if 0 <= c < n and cell is not None:
                t[cell, col * n + c] = 1
    return t


def glyph_loss_norm(glyphs, how):
    """What the summed glyph loss of a batch (images x patches x glyphs) is divided by. 'patches':
    all its patches. A scene holds ~10 glyph patches of 256 and a page ~100, so with that norm a
    batch of scenes (batches hold one kind) gives a tenth of a page batch's gradient, and Adam's
    step size, set by the page batches, leaves the scene glyphs barely trained. 'glyphs': the
    patches that hold a glyph, so that every batch weighs about the same."""
    if how == 'glyphs':
        return max(1.0, (glyphs.sum(-1) > 0).sum().item())
    return glyphs.shape[0] * glyphs.shape[1]


def batch_row(enc, path, prompt, answer, max_answer, boxes, size, with_patches=True, slots=1):
    """One sample as collate() and the losses take it: (ids, labels, pixels, glyph targets,
    (answer token patches, position of the first image token, answer token first columns))."""
    ids, lab, spans, img0 = enc.example(prompt, answer, max_answer)
    # the answer tokens' patches feed only the pointer and readout losses
    cells, cols = answer_patches(answer, boxes[path], spans, size, slots=slots) if with_patches else ([], [])
    return ids, lab, preprocess(path, size), glyph_targets(boxes[path], size, slots=slots), (cells, img0, cols)


def answer_patches(answer, boxes, spans, size, patch=14, slots=1):
    """Per answer token, the patches holding its characters in the image (empty if the answer
    is not found among the generator's word boxes). The words of the image are joined with
    spaces in the boxes' order and the answer looked up there, ignoring case, and each character
    is at the patch char_cells() gives it. These are the targets of the attention supervision:
    the decoder is told where the token it is about to write is drawn.
    Returns (those patches, per token the column of its first character as char_cells() numbers a
    patch's `slots` columns, None where it has no patch)."""
    page, where, column = [], [], []
    for word, box in boxes:
        if page:
            page.append(' ')
            where.append(None)
            column.append(None)
        for ch, cell, col in char_cells(word, box, size, patch, slots):
            page.append(ch)
            where.append(cell)
            column.append(col)
    at = ''.join(page).lower().find(answer.lower())
    if at < 0 or not answer:
        return [[] for _ in spans], [None for _ in spans]
    out, first = [], []
    for s, e in spans:
        chars = [at + i for i in range(s, min(e, len(answer))) if where[at + i] is not None]
        cells = [where[i] for i in chars]
        # the first character's patch first (token_patch_loss labels it), the others sorted
        out.append(cells[:1] + sorted(set(cells[1:]) - set(cells[:1])))
        first.append(column[chars[0]] if chars else None)
    return out, first


def save_release(model, out):
    """The shipped form of a model (train.py's end, export.py): fp16 weights and config, and the
    CLIP preprocessor config of its input size. The tokenizer files are written separately."""
    from transformers import CLIPImageProcessorPil
    size = model.config.vision_config.image_size
    model.to(torch.float16).save_pretrained(out, safe_serialization=True)
    CLIPImageProcessorPil(size={'shortest_edge': size}, crop_size={'height': size, 'width': size},
                          do_center_crop=True, resample=3, image_mean=CLIP_MEAN,
                          image_std=CLIP_STD).save_pretrained(out)


def save_checkpoint(model, glyph_head, tok, out, column_maps=None):
    """The training form of a model (fp32, with the glyph head, the readout's column maps if any,
    and the tokenizer): what --init, --init-vision and probe.py read."""
    model.save_pretrained(out, safe_serialization=True)
    torch.save(glyph_head.state_dict(), os.path.join(out, 'glyph_head.pt'))
    if column_maps is not None:
        torch.save(column_maps.detach(), os.path.join(out, 'column_maps.pt'))
    save_tokenizer_dir(tok, out, llama_tokenizer_config(tok))


def new_column_maps(args, ap, slots, d):
    """--token-columns: token_patch_loss's map per column of a patch, (slots, d, d + 1) weight and
    bias, each the identity at first (the plain readout) or --init's; None without the flag."""
    if args.token_columns == 'off':
        return None
    if args.token_weight <= 0 or slots < 2:
        ap.error(f'--token-columns needs --token-weight > 0 and a glyph head of several columns (it has {slots})')
    maps = torch.cat([torch.eye(d), torch.zeros(d, 1)], 1).repeat(slots, 1, 1)
    saved = os.path.join(args.init, 'column_maps.pt') if args.init else ''
    if os.path.exists(saved):
        maps = torch.load(saved)
    return torch.nn.Parameter(maps)


class Encoder:
    """Prompt -> ids with the image token expanded, and the answer's label mask."""

    def __init__(self, tok, image_id, n_image):
        self.tok, self.image_id, self.n_image = tok, image_id, n_image
        self.eos = tok.token_to_id('</s>')

    def prompt_ids(self, prompt):
        ids = self.tok.encode(VICUNA.format(q=prompt)).ids  # BOS from the post-processor
        i = ids.index(self.image_id)
        return ids[:i] + [self.image_id] * self.n_image + ids[i + 1:]

    def example(self, prompt, answer, max_answer):
        """The answer is tokenized as part of the whole text "... ASSISTANT: answer" (what the
        model sees when it reads its own output back), then cut off the prompt's tokens.
        Also returns each answer token's character span within `answer` (for the attention
        supervision), and where the image tokens start."""
        text = VICUNA.format(q=prompt)
        head = self.tok.encode(text).ids
        enc = self.tok.encode(text + ' ' + answer)
        full = enc.ids
        assert full[:len(head)] == head, (text, answer)
        base = len(text) + 1
        spans = [(max(0, s - base), max(0, e - base)) for s, e in enc.offsets[len(head):][:max_answer]]
        a = full[len(head):][:max_answer] + [self.eos]
        p = self.prompt_ids(prompt)
        return p + a, [-100] * len(p) + a, spans, p.index(self.image_id)


def batch_weights(kinds, sizes, mix):
    """Share of batches per kind: the --mix shares for the kinds it names, the rest split in
    proportion to data size."""
    named = {}
    for item in filter(None, mix.split(',')):
        k, v = item.split('=')
        if k not in kinds:
            raise SystemExit(f'--mix: {k} is not one of --kinds {",".join(kinds)}')
        named[k] = float(v)
    rest = 1.0 - sum(named.values())
    if rest < -1e-9:
        raise SystemExit('--mix: shares add up to more than 1')
    others = sum(sizes[k] for k in kinds if k not in named)
    return [named[k] if k in named else rest * sizes[k] / others for k in kinds]


def collate(batch, pad_id):
    n = max(len(b[0]) for b in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    lab = torch.full((len(batch), n), -100, dtype=torch.long)
    att = torch.zeros((len(batch), n), dtype=torch.long)
    for i, (x, y, _, _, _) in enumerate(batch):
        ids[i, :len(x)] = torch.tensor(x)
        lab[i, :len(y)] = torch.tensor(y)
        att[i, :len(x)] = 1
    return ids, lab, att, torch.stack([b[2] for b in batch]), torch.stack([b[3] for b in batch])


def pointer_targets(batch, back=0):
    """(rows, query positions, key positions) of the attention supervision: for answer token j
    of sample b, the position that predicts it (the one before it) and the image positions of
    the patches of token j - back (token 0 when that is before the answer: where reading
    starts). back=1 asks for the token just written, found by its content; back=0 for the next
    one. One row per (token, patch); `qid` numbers the (sample, token) pairs."""
    bs, qs, ks, qid, n = [], [], [], [], 0
    for b, (x, y, _, _, (cells, img0, _)) in enumerate(batch):
        first = next(i for i, v in enumerate(y) if v != -100)
        for j in range(len(cells)):
            cs = cells[max(0, j - back)]
            if not cs or not cells[j]:
                continue
            for c in cs:
                bs.append(b)
                qs.append(first - 1 + j)
                ks.append(img0 + c)
                qid.append(n)
            n += 1
    return (torch.tensor(bs, dtype=torch.long), torch.tensor(qs, dtype=torch.long),
            torch.tensor(ks, dtype=torch.long), torch.tensor(qid, dtype=torch.long), n)


def token_patch_loss(model, image_features, batch, column_maps=None, keep_plain=False):
    """Cross-entropy of the decoder's own output head (final norm + lm_head) read directly on
    the projector's output at the patch where each answer token's first character is drawn,
    against that token. It puts the visual tokens in the space the output head reads, so that
    a head attending to the right patch only has to copy it.
    column_maps (slots, d, d + 1): a linear map per column of a patch, applied first, the one of
    the column of the token's first character. Why: a patch holds 1.5-1.7 characters, so without
    them the tokens of one patch ask its one vector for different tokens and the loss settles on
    their mixture; with them the projector must keep every column's character apart, where a
    decoder head (whose value and output projections are such a map) can pick it out.
    keep_plain: the sum of the plain readout and the one through column_maps. The maps alone
    (README item 25) let the projector's output leave the space the output head reads, and the
    decoder learnt more slowly; the plain term keeps it there."""
    rows, cells_at, cols, tgt = [], [], [], []
    for b, (x, y, _, _, (cells, img0, first)) in enumerate(batch):
        a = [v for v in y if v != -100]
        for j, cs in enumerate(cells):
            if cs:
                rows.append(b)
                cells_at.append(cs[0])
                cols.append(first[j])
                tgt.append(a[j])
    if not rows:
        return torch.zeros(())
    f = image_features[torch.tensor(rows), torch.tensor(cells_at)]
    tgt = torch.tensor(tgt)
    def readout(v):
        return torch.nn.functional.cross_entropy(model.lm_head(model.model.language_model.norm(v)).float(), tgt)
    if column_maps is None:
        return readout(f)
    m = column_maps.to(f.dtype)[torch.tensor(cols)]  # per row its column's (d, d + 1): weight, then bias
    loss = readout(torch.einsum('re,rde->rd', f, m[:, :, :-1]) + m[:, :, -1])
    return loss + readout(f) if keep_plain else loss


def forward_shared_prefix(model, ids, att, px, lab, n_prefix, output_attentions):
    """The model's forward pass with the first n_prefix tokens, the same in every sample (BOS and
    the Vicuna system prompt, 86 of ~390 tokens), run once at batch size 1 and its keys and
    values repeated for the batch; the rest of each sample attends to them as to its own. The
    loss and the gradients are those of the plain forward pass (the repeat sums the prefix's
    gradients over the batch), at about three quarters of the decoder's work. The attentions
    (and the logits) cover the positions from n_prefix on. n_prefix 0: the plain forward pass."""
    if n_prefix == 0:
        return model(input_ids=ids, attention_mask=att, pixel_values=px, labels=lab,
                     output_attentions=output_attentions)
    assert bool((ids[:, :n_prefix] == ids[:1, :n_prefix]).all()), 'the prefix differs between samples'
    cache = model(input_ids=ids[:1, :n_prefix], use_cache=True).cache
    cache.batch_repeat_interleave(ids.shape[0])
    return model(input_ids=ids[:, n_prefix:], attention_mask=att, pixel_values=px, labels=lab[:, n_prefix:],
                 cache=cache, use_cache=False, output_attentions=output_attentions)


def supervised_rows(supervised, n_prefix):
    """The span of query rows the pointer loss reads, counted from the first query of the forward
    pass (n_prefix on with a shared prefix): (first, end), or None when no token is supervised."""
    qs = [t[1] for _, t in supervised if t[4]]
    if not qs:
        return None
    qs = torch.cat(qs)
    return int(qs.min()) - n_prefix, int(qs.max()) + 1 - n_prefix


def pointer_forward(model, ids, att, px, lab, n_prefix, supervised, heads, rows_only):
    """forward_shared_prefix with the attention weights the pointer loss needs: all of them (eager
    attention), or (rows_only, row_attention.py) those of the supervised heads and rows alone.
    Returns the output and the query offset to pass to pointer_loss."""
    span = supervised_rows(supervised, n_prefix) if rows_only else None
    if span is None:
        return forward_shared_prefix(model, ids, att, px, lab, n_prefix, bool(supervised)), n_prefix
    row_attention.SPAN.update(rows=(span[0], span[1], heads), layers=tuple(l for l, _ in supervised),
                              queries=ids.shape[1] - n_prefix)
    try:
        out = forward_shared_prefix(model, ids, att, px, lab, n_prefix, True)
    finally:
        row_attention.SPAN['rows'] = None
    return out, n_prefix + span[0]


def pointer_loss(attentions, supervised, heads, q_offset=0):
    """Mean over the supervised (layer, targets) pairs of: the mean over that target set's
    (sample, token) pairs and the layer's first `heads` heads of -log(attention mass the head
    puts on the token's patches). A target set with no token counts as 0."""
    total = torch.zeros(())
    for layer, (bs, qs, ks, qid, n) in supervised:
        if n == 0:
            continue
        a = attentions[layer][bs, :heads, qs - q_offset, ks].float()  # (rows, heads)
        mass = torch.zeros(n, heads).index_add_(0, qid, a)
        total = total - torch.log(mass + 1e-6).mean()
    return total / max(1, len(supervised))


@torch.no_grad()
def greedy_answer(model, enc, prompt_ids, pixels, max_new):
    ids = torch.tensor([prompt_ids])
    out, past = [], None
    inputs = dict(input_ids=ids, pixel_values=pixels[None])
    for _ in range(max_new):
        r = model(**inputs, past_key_values=past, use_cache=True)
        past = r.past_key_values
        t = int(r.logits[0, -1].argmax())
        if t == enc.eos:
            break
        out.append(t)
        inputs = dict(input_ids=torch.tensor([[t]]))
    return enc.tok.decode(out).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, help='folder with textvqa/ docvqa/ ocrbench/ synthdog/ from sparsemm synth')
    ap.add_argument('--heldout', required=True, help='the same layout, other seeds: held-out accuracy')
    ap.add_argument('--out', required=True)
    ap.add_argument('--minutes', type=float, default=100.0, help='training time budget (when --steps is 0)')
    ap.add_argument('--steps', type=int, default=0, help='train exactly this many steps (reproducible); 0: --minutes')
    ap.add_argument('--init', default=None, help='continue from this saved model (its tokenizer is kept)')
    ap.add_argument('--save-every', type=int, default=1000, help='checkpoint into OUT/checkpoint every N steps')
    ap.add_argument('--kinds', default='textvqa,docvqa,ocrbench,synthdog', help='which data kinds to train on')
    ap.add_argument('--vocab-size', type=int, default=1200,
                    help='BPE vocabulary incl. the 259 fixed entries (~380: nearly one token per character)')
    ap.add_argument('--init-vision', default=None,
                    help='start the vision tower, projector and glyph head from this checkpoint (new tokenizer and decoder)')
    ap.add_argument('--mix', default='', help='share of batches per kind, e.g. synthdog=0.4,textvqa=0.2 '
                    '(kinds not named share the rest by data size); default: by data size')
    ap.add_argument('--total-steps', type=int, default=0,
                    help='length of the cosine schedule (default: --steps, or estimated from --minutes)')
    ap.add_argument('--eval-every', type=int, default=250)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=1.5e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--image-size', type=int, default=224,
                    help='input size of a new vision tower; with --init or --init-vision that tower sets it')
    ap.add_argument('--vision-width', type=int, default=192,
                    help='hidden size of a new vision tower (heads of 32, MLP 4x); --init-vision '
                         'and --init take the tower of their checkpoint instead')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--glyph-weight', type=float, default=0.5, help='weight of the auxiliary per-patch glyph loss')
    ap.add_argument('--glyph-slots', type=int, default=None,
                    help='columns per patch of the glyph targets (glyph_targets); default: what the glyph head '
                    'of --init or --init-vision has, else 1 (a set per patch)')
    ap.add_argument('--glyph-norm', choices=['patches', 'glyphs'], default='patches',
                    help='divide the glyph loss by all patches of the batch, or by those holding a glyph '
                    '(so a batch of sparse scenes weighs as much as one of dense pages)')
    ap.add_argument('--pointer-weight', type=float, default=0.0,
                    help='weight of the attention supervision (answer token -> its patches); 0: off')
    ap.add_argument('--pointer-layers', default='1,2,3', help='decoder layers whose first heads are supervised')
    ap.add_argument('--token-weight', type=float, default=0.0,
                    help='weight of the loss reading answer tokens straight off their patches (token_patch_loss); 0: off')
    ap.add_argument('--token-columns', choices=['off', 'instead', 'also'], default='off',
                    help='with --token-weight and a glyph head of several columns: the readout through a learnt '
                    'map per column of the patch (token_patch_loss), instead of the plain one or as well; the '
                    'maps are training only, not in the model')
    ap.add_argument('--pointer-prev-layers', default='',
                    help='decoder layers whose first heads are pulled onto the token just written (e.g. 1)')
    ap.add_argument('--pointer-heads', type=int, default=4, help='how many heads (from head 0) per supervised layer')
    ap.add_argument('--share-prefix', action='store_true',
                    help='run the system prompt, the same in every sample, once per batch (forward_shared_prefix)')
    ap.add_argument('--freeze-vision', action='store_true',
                    help='keep the vision tower (from --init-vision or --init) fixed: no backward pass through it, '
                    'the projector, decoder and glyph head still train')
    ap.add_argument('--row-attention', action='store_true',
                    help='with --pointer-weight: SDPA attention plus the supervised rows and heads of the '
                    'attention weights only (row_attention.py; same losses, faster) instead of eager attention')
    ap.add_argument('--image-grad-layers', type=int, default=None,
                    help='with --share-prefix: the decoder pass of image_stream.py, whose first N layers carry '
                    'the gradient through the image positions (the number of decoder layers less one: the '
                    'plain gradients, cheaper; fewer: a truncated gradient, cheaper still)')
    ap.add_argument('--vision-only', action='store_true',
                    help='train only the vision tower and glyph head on the glyph loss (no decoder, no answers): '
                    'a cheap first stage whose checkpoint --init-vision takes')
    args = ap.parse_args()
    pointer_layers = [int(v) for v in args.pointer_layers.split(',')]
    prev_layers = [int(v) for v in args.pointer_prev_layers.split(',') if v]
    uses_patches = args.pointer_weight > 0 or args.token_weight > 0
    if args.vision_only and uses_patches:
        ap.error('--vision-only trains no decoder: --pointer-weight and --token-weight must stay 0')
    if args.row_attention and args.pointer_weight <= 0:
        ap.error('--row-attention computes the weights the pointer loss reads: it needs --pointer-weight > 0')
    if args.freeze_vision and (args.vision_only or not (args.init_vision or args.init)):
        ap.error('--freeze-vision keeps a trained tower fixed: it needs --init-vision or --init, and not --vision-only')
    if args.image_grad_layers is not None and (args.vision_only or not args.share_prefix):
        ap.error('--image-grad-layers trains the decoder on the shared-prefix layout: it needs --share-prefix')
    if args.vision_width <= 0 or args.vision_width % 32:
        ap.error(f'--vision-width {args.vision_width}: must be a positive multiple of 32 (heads of 32)')

    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    kinds = args.kinds.split(',')
    train = {k: load_samples(os.path.join(args.data, k), k) for k in kinds}
    boxes = {}
    for k in kinds:
        boxes.update(load_boxes(os.path.join(args.data, k), k))
    held = {k: load_samples(os.path.join(args.heldout, k), k)[:48] for k in EVAL_KINDS}

    os.makedirs(args.out, exist_ok=True)
    if args.init:
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(os.path.join(args.init, 'tokenizer.json'))
    else:
        text_lines = [VICUNA.format(q=p) + ' ' + a for k in kinds for _, p, a in train[k]]
        random.Random(args.seed).shuffle(text_lines)
        tok = build_llama_tokenizer(text_lines[:30000], vocab_size=args.vocab_size, legacy=True)
    save_tokenizer_dir(tok, args.out, llama_tokenizer_config(tok))
    image_id = tok.token_to_id('<image>')
    vocab = (tok.get_vocab_size() + 63) // 64 * 64
    # a trained tower (the one --init keeps, else the one --init-vision brings, whatever its
    # width) fixes the vision config and so the input size
    from_tower = args.init or args.init_vision
    if from_tower:
        vision = LlavaConfig.from_pretrained(from_tower).vision_config
        if args.image_size != vision.image_size:
            print(f'--image-size {args.image_size}: {from_tower} has a {vision.image_size} px tower; '
                  f'using {vision.image_size}', flush=True)
            args.image_size = vision.image_size
    else:
        w = args.vision_width
        vision = CLIPVisionConfig(hidden_size=w, intermediate_size=4 * w, num_hidden_layers=4,
                                  num_attention_heads=w // 32, image_size=args.image_size, patch_size=14,
                                  projection_dim=w)
    n_image = (args.image_size // 14) ** 2
    text = LlamaConfig(hidden_size=256, intermediate_size=704, num_hidden_layers=4, num_attention_heads=8,
                       num_key_value_heads=2, vocab_size=vocab, max_position_embeddings=2048, rms_norm_eps=1e-5,
                       bos_token_id=1, eos_token_id=2, pad_token_id=tok.token_to_id('<pad>'))
    cfg = LlavaConfig(vision_config=vision.to_dict(), text_config=text.to_dict(), image_token_index=image_id,
                      image_seq_length=n_image, vision_feature_layer=-2, vision_feature_select_strategy='default',
                      projector_hidden_act='gelu')
    model = (LlavaForConditionalGeneration.from_pretrained(args.init, torch_dtype=torch.float32) if args.init
             else LlavaForConditionalGeneration(cfg))
    if args.init_vision and not args.init:
        src = LlavaForConditionalGeneration.from_pretrained(args.init_vision, torch_dtype=torch.float32)
        model.model.vision_tower.load_state_dict(src.model.vision_tower.state_dict())
        model.model.multi_modal_projector.load_state_dict(src.model.multi_modal_projector.state_dict())
        del src
    if args.freeze_vision:  # AdamW and the clipping skip parameters without a gradient
        model.model.vision_tower.requires_grad_(False)
    if args.pointer_weight > 0 and args.row_attention:  # the supervision needs (some of) the weights
        row_attention.register()
        model.set_attn_implementation({'text_config': row_attention.NAME})
    elif args.pointer_weight > 0:
        model.set_attn_implementation({'text_config': 'eager'})
    enc = Encoder(tok, image_id, n_image)
    # the tokens before the image (BOS and the system prompt, the same in every sample) that
    # forward_shared_prefix runs once per batch; 0: the plain forward pass
    n_prefix = enc.prompt_ids('?').index(image_id) if args.share_prefix else 0
    glyph_from = args.init or args.init_vision
    head_file = os.path.join(glyph_from, 'glyph_head.pt') if glyph_from else ''
    head_state = torch.load(head_file) if os.path.exists(head_file) else None
    slots = head_state['weight'].shape[0] // len(GLYPHS) if head_state else 1
    if head_state and args.glyph_slots not in (None, slots):
        ap.error(f'--glyph-slots {args.glyph_slots}: the glyph head of {head_file} has {slots} slots')
    slots = args.glyph_slots or slots
    glyph_head = torch.nn.Linear(model.config.vision_config.hidden_size, slots * len(GLYPHS))
    if head_state:
        glyph_head.load_state_dict(head_state)
    column_maps = new_column_maps(args, ap, slots, model.config.text_config.hidden_size)
    trained = list(model.parameters()) + list(glyph_head.parameters()) + ([column_maps] if column_maps is not None else [])
    layers = next(m for n, m in model.model.vision_tower.named_modules() if n.endswith('encoder.layers'))
    feature_layer = layers[model.config.vision_feature_layer]
    captured = {}
    feature_layer.register_forward_hook(lambda mod, inp, out: captured.__setitem__('x', out))
    model.model.multi_modal_projector.register_forward_hook(lambda mod, inp, out: captured.__setitem__('proj', out))
    opt = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    max_answer = {'textvqa': 16, 'docvqa': 24, 'ocrbench': 24, 'synthdog': 96}
    # Each batch holds one kind (so synthdog's long answers do not pad every batch), the kind
    # drawn in proportion to its share of the data; samples within a kind in a seeded shuffle.
    queues = {k: list(train[k]) for k in kinds}
    for i, k in enumerate(kinds):
        random.Random(args.seed + 1 + i).shuffle(queues[k])
    qpos = {k: 0 for k in kinds}
    weights = batch_weights(kinds, {k: len(train[k]) for k in kinds}, args.mix)
    print('batches per kind: ' + ', '.join(f'{k} {w:.3f}' for k, w in zip(kinds, weights)), flush=True)
    kind_rng = random.Random(args.seed + 10)
    log = open(os.path.join(args.out, 'train_log.tsv'), 'w')
    log.write('step\tminutes\tsamples\tloss\tglyph_loss\tlr\theldout_textvqa\theldout_docvqa\theldout_ocrbench\n')
    t0, step, pos, ema, gema, pema, tema = time.time(), 0, 0, None, None, None, None
    budget_s = args.minutes * 60
    est_steps = None
    def done():
        return step >= args.steps if args.steps else time.time() - t0 > budget_s

    last = done()  # asked once per step, so the final checkpoint, evaluation and exit agree
    while not last:
        batch = []
        k = kind_rng.choices(kinds, weights)[0]
        for _ in range(args.batch):
            path, prompt, answer = queues[k][qpos[k] % len(queues[k])]
            qpos[k] += 1
            pos += 1
            if args.vision_only:  # images and their glyphs only
                batch.append(([0], [0], preprocess(path, args.image_size),
                              glyph_targets(boxes[path], args.image_size, slots=slots), ([], 0)))
            else:
                batch.append(batch_row(enc, path, prompt, answer, max_answer[k], boxes, args.image_size, uses_patches,
                                       slots))
        ids, lab, att, px, glyphs = collate(batch, text.pad_token_id)
        supervised = []  # (layer, pointer targets): next token on pointer_layers, previous on prev_layers
        if args.pointer_weight > 0:
            targets = pointer_targets(batch)
            supervised = [(l, targets) for l in pointer_layers]
            if prev_layers:
                prev_targets = pointer_targets(batch, back=1)
                supervised += [(l, prev_targets) for l in prev_layers]
        # warmup 200 steps, then cosine to 5% over the run (with a time budget, its step count is
        # estimated from the speed of the first 20 steps)
        if step == 20 and not args.steps:
            est_steps = int(budget_s / ((time.time() - t0) / 20))
            print(f'schedule: {est_steps} steps (replay this run with --total-steps {est_steps})', flush=True)
        total = args.total_steps or args.steps or est_steps or 10 ** 9
        lr = args.lr * min(1.0, (step + 1) / 200) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / total))))
        for g in opt.param_groups:
            g['lr'] = lr
        with torch.autocast('cpu', dtype=torch.bfloat16):
            if args.vision_only:  # the tower alone; the hook captures its feature layer
                model.model.vision_tower(pixel_values=px)
                attentions, loss = None, torch.zeros(())
            elif args.image_grad_layers is not None:
                loss, attentions, q_offset = forward_image_stream(model, ids, px, lab, n_prefix, n_image,
                                                                  {l for l, _ in supervised}, args.pointer_heads,
                                                                  args.image_grad_layers)
            else:
                out, q_offset = pointer_forward(model, ids, att, px, lab, n_prefix, supervised,
                                                args.pointer_heads, args.row_attention)
                loss, attentions = out.loss, out.attentions
            logits = glyph_head(captured['x'][:, 1:].float())  # patches, not the CLS token
        tok_loss = (token_patch_loss(model, captured['proj'].reshape(len(batch), n_image, -1), batch, column_maps,
                                     args.token_columns == 'also')
                    if args.token_weight > 0 else torch.zeros(()))
        ptr_loss = pointer_loss(attentions, supervised, args.pointer_heads, q_offset) if supervised else torch.zeros(())
        glyph_loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, glyphs, reduction='sum') / glyph_loss_norm(glyphs, args.glyph_norm)
        (loss + args.glyph_weight * glyph_loss + args.pointer_weight * ptr_loss + args.token_weight * tok_loss).backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        tema = tok_loss.item() if tema is None else 0.98 * tema + 0.02 * tok_loss.item()
        pema = ptr_loss.item() if pema is None else 0.98 * pema + 0.02 * ptr_loss.item()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        gema = glyph_loss.item() if gema is None else 0.98 * gema + 0.02 * glyph_loss.item()
        step += 1
        last = done()
        if step % 50 == 0:
            print(f'step {step} {(time.time() - t0) / 60:.1f} min loss {ema:.4f} glyph {gema:.4f} pointer {pema:.4f} token {tema:.4f} lr {lr:.2e}', flush=True)
        if (args.save_every and step % args.save_every == 0) or last:  # the last step's state is kept too
            save_checkpoint(model, glyph_head, tok, os.path.join(args.out, 'checkpoint'), column_maps)
        if step % args.eval_every == 0 or last:
            model.eval()
            accs = []
            for k in EVAL_KINDS if not args.vision_only else []:  # no answers to check without a decoder
                ok = 0
                for path, prompt, answer in held[k][:24]:
                    pred = greedy_answer(model, enc, enc.prompt_ids(prompt), preprocess(path, args.image_size), 24)
                    ok += pred.lower() == answer.lower()
                accs.append(ok / 24)
            model.train()
            line = f'{step}\t{(time.time() - t0) / 60:.1f}\t{pos}\t{ema:.4f}\t{gema:.4f}\t{lr:.2e}\t' + '\t'.join(f'{a:.3f}' for a in accs)
            log.write(line + '\n')
            log.flush()
            print(line, flush=True)
    save_release(model, args.out)
    print(f'saved {args.out}: {step} steps, {pos} samples, {(time.time() - t0) / 60:.1f} min')


if __name__ == '__main__':
    main()
