#!/usr/bin/env python3
"""Does a checkpoint read? Three diagnostics behind tools/train_tiny/README.md's "Status":

1. image dependence: the decoder's answer loss on held-out samples with the right image, with
   another sample's image (the batch rolled by one) and with a blank image. A model that reads
   loses much more with another sample's image; one that answers from the prior does not.
2. attention probe: how much attention each decoder layer puts on the patches of the answer
   token it is about to write (what train.py --pointer-weight supervises).
3. glyph probe: per kind, precision/recall of the glyph head (saved as glyph_head.pt next to
   checkpoints) on held-out patches, and its top-1 accuracy on patches holding a single glyph;
   for a head with columns (train.py --glyph-slots), how often it gets a patch of several glyphs
   exactly right, as a set and column by column.
4. glyph misses: per kind, which characters the glyph head misses. Its recall per character,
   and within one patch of the character (a bound on what a more exact character position in
   the glyph targets could buy); then the recall split by the word's ink contrast, its
   character width (quartiles of the kind's characters) and whether the ink is lighter than its
   ground.
5. answer errors: per kind, the answers read with the right answer fed back (teacher forcing).
   Greedy decoding gets an answer exactly right if and only if every one of its tokens is the
   argmax here, so this says where exact matches are lost: the share of tokens wrong by position
   in the answer, and for each answer's first wrong token whether the glyph head names that
   token's first character in its column of the patch (its most likely glyph there, and whether
   with p > 0.5): misread in the tower, or lost in the decoder.

    python3 tools/train_tiny/probe.py CHECKPOINT_DIR HELDOUT_DIR    (HELDOUT_DIR: make_data.sh's heldout/)
"""
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import (GLYPHS, Encoder, batch_row, char_cells, collate, glyph_targets, load_boxes,  # noqa: E402
                   load_samples, pointer_targets, preprocess)


def image_dependence(model, enc, pad_id, heldout, n=12):
    size = model.config.vision_config.image_size
    for kind in ['textvqa', 'docvqa', 'ocrbench', 'synthdog']:
        batch = []
        for path, prompt, answer in load_samples(os.path.join(heldout, kind), kind)[:n]:
            ids, lab = enc.example(prompt, answer, 96 if kind == "synthdog" else 24)[:2]
            batch.append((ids, lab, preprocess(path, size), torch.zeros(1), None))
        ids, lab, att, px, _ = collate(batch, pad_id)
        with torch.no_grad():
            loss = [model(input_ids=ids, attention_mask=att, pixel_values=p, labels=lab).loss.item()
                    for p in (px, px.roll(1, 0), torch.zeros_like(px))]
        print(f'{kind:9s} answer loss (nats/token): right image {loss[0]:.3f}, '
              f'another sample\'s {loss[1]:.3f}, blank {loss[2]:.3f}')


def pointer_probe(model, enc, pad_id, heldout, n=12):
    """Per decoder layer, the attention mass the heads put on the patches of the answer token
    they are about to write (the geometric mean over tokens, as the training loss sees it; the
    answer's first token included), for the first 4 heads and for all 8. Uniform attention over
    the image would give about 1-2/256."""
    model.set_attn_implementation({'text_config': 'eager'})
    size = model.config.vision_config.image_size
    for kind in ['textvqa', 'docvqa', 'ocrbench', 'synthdog']:
        root = os.path.join(heldout, kind)
        boxes = load_boxes(root, kind)
        batch = []
        for path, prompt, answer in load_samples(root, kind)[:n]:
            batch.append(batch_row(enc, path, prompt, answer, 96 if kind == "synthdog" else 24, boxes, size))
        ids, lab, att, px, _ = collate(batch, pad_id)
        bs, qs, ks, qid, m = pointer_targets(batch)
        with torch.no_grad():
            attn = model(input_ids=ids, attention_mask=att, pixel_values=px, output_attentions=True).attentions
        cells = []
        for l, a in enumerate(attn):
            mass = torch.zeros(m, a.shape[1]).index_add_(0, qid, a[bs, :, qs, ks].float())
            logm = torch.log(mass + 1e-6)
            cells.append(f'L{l} {logm[:, :4].mean().exp():.3f}/{logm.mean().exp():.3f}')
        print(f'{kind:9s} attention on the next token\'s patches (heads 0-3 / all): ' + ', '.join(cells))


def load_glyph_head(model, ckpt):
    """The glyph head train.py saves next to a checkpoint (glyph_head.pt; not in the release)."""
    state = torch.load(os.path.join(ckpt, 'glyph_head.pt'))
    head = torch.nn.Linear(model.config.vision_config.hidden_size, state['weight'].shape[0])
    head.load_state_dict(state)
    return head


def tower_features(model, px):
    """(images, patches, hidden): the feature layer the projector reads (-2), without the CLS
    token, as the glyph head sees it in training."""
    with torch.no_grad():
        return model.model.vision_tower(px, output_hidden_states=True).hidden_states[-2][:, 1:]


def by_column(x):
    """(..., columns * glyphs) -> (..., columns, glyphs): a column head's output (train.py
    --glyph-slots) or targets, one row per column."""
    return x.reshape(*x.shape[:-1], -1, len(GLYPHS))


def glyph_logits(model, head, px):
    """(images, patches, glyphs): whether the patch holds the glyph, in any of the head's columns,
    so that heads with and without columns are probed alike."""
    with torch.no_grad():
        return by_column(head(tower_features(model, px))).amax(-2)


def glyph_probe(model, head, heldout, n=32):
    """Per kind: precision/recall of the glyph head and its top-1 accuracy on patches holding a
    single glyph centre. Large fonts (signs, OCRBench-like words) spread a glyph over several
    patches, which this shows."""
    size = model.config.vision_config.image_size
    for kind in ['textvqa', 'docvqa', 'ocrbench', 'synthdog']:
        root = os.path.join(heldout, kind)
        boxes = load_boxes(root, kind)
        s = load_samples(root, kind)[:n]
        px = torch.stack([preprocess(p, size) for p, _, _ in s])
        tg = torch.stack([glyph_targets(boxes[p], size) for p, _, _ in s])
        with torch.no_grad():
            column_logits = head(tower_features(model, px))
        logits = by_column(column_logits).amax(-2)  # as glyph_logits(), the tower run once
        pred = torch.sigmoid(logits) > 0.5
        tp = (pred & (tg > 0)).sum().item()
        one = tg.sum(-1) == 1
        top1 = ((tg.argmax(-1) == logits.argmax(-1)) & one).sum().item() / max(1, one.sum().item())
        print(f'{kind:9s} glyph head: precision {tp / max(1, pred.sum().item()):.3f}, recall {tp / max(1, tg.sum().item()):.3f} '
              f'({int(tg.sum())} glyphs), top-1 on single-glyph patches {top1:.3f}')
        if head.out_features > len(GLYPHS):
            print(f'{kind:9s} ' + column_probe(column_logits, boxes, [p for p, _, _ in s], size))


def column_probe(logits, boxes, paths, size):
    """For a head with columns (train.py --glyph-slots): on patches holding two or more glyph
    centres, the share whose predicted set is exactly right, and the share whose columns are all
    exactly right too (the characters' order and repeats, which a set does not say)."""
    cols = logits.shape[-1] // len(GLYPHS)
    tg = torch.stack([glyph_targets(boxes[p], size, slots=cols) for p in paths]) > 0
    pred = logits > 0
    many = tg.sum(-1) >= 2
    by_col = (pred == tg).all(-1)
    as_set = (by_column(pred).any(-2) == by_column(tg).any(-2)).all(-1)
    n = max(1, int(many.sum()))
    return (f'{int(many.sum())} patches with 2+ glyphs: set exact {int((as_set & many).sum()) / n:.3f}, '
            f'columns exact {int((by_col & many).sum()) / n:.3f}')


def word_looks(path, boxes):
    """Per word box of an image: (contrast, character width, light ink). Contrast: the spread
    between the 5th and 95th percentile of the box's grey levels, which the ink and its ground
    set; light ink: the box's mean above its median, as when a few bright pixels (thin strokes)
    sit on a darker ground."""
    grey = np.asarray(Image.open(path).convert('L'), dtype=np.float32)
    out = []
    for word, ((x0, y0), (x1, y1)) in boxes:
        crop = grey[int(y0):int(y1) + 1, int(x0):int(x1) + 1]
        if crop.size == 0:
            out.append((0.0, 0.0, False))
            continue
        out.append((float(np.percentile(crop, 95) - np.percentile(crop, 5)), (x1 - x0) / max(1, len(word)),
                    bool(crop.mean() > np.median(crop))))
    return out


def share(rows, col=-1):
    """The share of `rows` whose column `col` (by default the last: hit) is true."""
    return sum(r[col] for r in rows) / max(1, len(rows))


def recall_by(rows, key, label, fmt):
    """Recall of `rows` (..., hit) in quartiles of `key`, as one printed line."""
    rows = sorted(rows, key=key)
    q = len(rows) // 4
    parts = [rows[j * q:(j + 1) * q if j < 3 else len(rows)] for j in range(4)]
    return f'{label} ' + ', '.join(f'{key(p[0]):{fmt}}-{key(p[-1]):{fmt}}: {share(p):.3f}' for p in parts if p)


def glyph_misses(model, head, heldout, n=96):
    """Per kind: which characters the glyph head misses (see the module docstring). Each
    character of each word is one row, at the patch char_cells() gives it."""
    size = model.config.vision_config.image_size
    g = size // 14
    for kind in ['textvqa', 'docvqa', 'ocrbench', 'synthdog']:
        root = os.path.join(heldout, kind)
        boxes = load_boxes(root, kind)
        paths = [p for p, _, _ in load_samples(root, kind)[:n]]
        px = torch.stack([preprocess(p, size) for p in paths])
        pred = torch.sigmoid(glyph_logits(model, head, px)) > 0.5
        rows = []  # (contrast, width, light ink, near, hit)
        for i, p in enumerate(paths):
            for (word, box), (contrast, width, light) in zip(boxes[p], word_looks(p, boxes[p])):
                for ch, cell, _ in char_cells(word, box, size):
                    c = ord(ch) - 33
                    if not 0 <= c < len(GLYPHS) or cell is None:
                        continue
                    cy, cx = divmod(cell, g)
                    near = any(pred[i, y * g + x, c] for y in range(max(0, cy - 1), min(g, cy + 2))
                               for x in range(max(0, cx - 1), min(g, cx + 2)))
                    rows.append((contrast, width, light, near, bool(pred[i, cell, c])))
        if not rows:
            continue
        light = [r for r in rows if r[2]]
        dark = [r for r in rows if not r[2]]
        print(f'{kind:9s} glyph misses: {len(rows)} characters, recall {share(rows):.3f}, within one patch '
              f'{share(rows, 3):.3f}; light ink {share(light):.3f} ({len(light)}), '
              f'dark ink {share(dark):.3f} ({len(dark)})')
        print('          ' + recall_by(rows, lambda r: r[0], 'by contrast', '.0f'))
        print('          ' + recall_by(rows, lambda r: r[1], 'by character width (px)', '.1f'))


def answer_errors(model, enc, pad_id, head, heldout, n=192):
    """Per kind: teacher-forced answer tokens against the decoder's argmax (see the module
    docstring, 5). The glyph head's reading of a token is the most likely glyph of the column
    (train.py --glyph-slots) of the patch that holds the token's first character."""
    size = model.config.vision_config.image_size
    slots = head.out_features // len(GLYPHS)
    for kind in ['textvqa', 'docvqa', 'ocrbench']:
        root = os.path.join(heldout, kind)
        boxes = load_boxes(root, kind)
        samples = load_samples(root, kind)[:n]
        exact, wrong, seen = 0, [0] * 7, [0] * 7
        first = {'tower': 0, 'unsure': 0, 'decoder': 0, 'no patch': 0}
        for i in range(0, len(samples), 16):
            rows = [batch_row(enc, p, q, a, 24, boxes, size, slots=slots) for p, q, a in samples[i:i + 16]]
            ids, lab, att, px, _ = collate(rows, pad_id)
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=att, pixel_values=px).logits
                glyphs = by_column(head(tower_features(model, px)))
            for b, (_, _, _, _, (cells, _, columns)) in enumerate(rows):
                at = (lab[b] != -100).nonzero().flatten()
                ok = (logits[b, at - 1].argmax(-1) == lab[b, at]).tolist()
                exact += all(ok)
                for j, right in enumerate(ok):
                    seen[min(j, 6)] += 1
                    wrong[min(j, 6)] += not right
                if all(ok):
                    continue
                j = ok.index(False)
                text = enc.tok.id_to_token(int(lab[b, at[j]])).replace('\u2581', '')
                if j >= len(cells) or not cells[j] or columns[j] is None or not text:
                    first['no patch'] += 1
                else:
                    column = glyphs[b, cells[j][0], columns[j]]
                    if GLYPHS[int(column.argmax())] != text[0]:
                        first['tower'] += 1
                    else:
                        first['decoder' if column.max() > 0 else 'unsure'] += 1
        by_pos = ', '.join(f'{j if j < 6 else "6+"}: {wrong[j] / max(1, seen[j]):.2f}' for j in range(7) if seen[j])
        print(f'{kind:9s} answer errors: {exact}/{len(samples)} answers every token right; share of tokens '
              f'wrong by position ({by_pos}); first wrong token: glyph head misreads it {first["tower"]}, '
              f'reads it but under p 0.5 {first["unsure"]}, reads it {first["decoder"]}, no patch {first["no patch"]}')


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ckpt, heldout = sys.argv[1], sys.argv[2]
    from tokenizers import Tokenizer
    from transformers import LlavaForConditionalGeneration
    torch.set_num_threads(2)
    model = LlavaForConditionalGeneration.from_pretrained(ckpt, torch_dtype=torch.float32).eval()
    tok = Tokenizer.from_file(os.path.join(ckpt, 'tokenizer.json'))
    enc = Encoder(tok, tok.token_to_id('<image>'), (model.config.vision_config.image_size // 14) ** 2)
    image_dependence(model, enc, tok.token_to_id('<pad>'), heldout)
    pointer_probe(model, enc, tok.token_to_id('<pad>'), heldout)
    if not os.path.exists(os.path.join(ckpt, 'glyph_head.pt')):
        print('no glyph_head.pt: glyph probes skipped')
        return
    head = load_glyph_head(model, ckpt)  # saved next to training checkpoints, not in the release
    glyph_probe(model, head, heldout)
    glyph_misses(model, head, heldout)
    answer_errors(model, enc, tok.token_to_id('<pad>'), head, heldout)


if __name__ == '__main__':
    main()
