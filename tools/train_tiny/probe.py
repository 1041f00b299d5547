#!/usr/bin/env python3
"""Does a checkpoint read? Three diagnostics behind tools/train_tiny/README.md's "Status":

1. image dependence: the decoder's answer loss on held-out samples with the right image, with
   another sample's image (the batch rolled by one) and with a blank image. A model that reads
   loses much more with another sample's image; one that answers from the prior does not.
2. attention probe: how much attention each decoder layer puts on the patches of the answer
   token it is about to write (what train.py --pointer-weight supervises).
3. glyph probe: per kind, precision/recall of the glyph head (saved as glyph_head.pt next to
   checkpoints) on held-out patches, and its top-1 accuracy on patches holding a single glyph.

    python3 tools/train_tiny/probe.py CHECKPOINT_DIR HELDOUT_DIR    (HELDOUT_DIR: make_data.sh's heldout/)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import (GLYPHS, Encoder, answer_patches, collate, glyph_targets, load_boxes, load_samples,  # noqa: E402
                   pointer_targets, preprocess)


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
            ids, lab, spans, img0 = enc.example(prompt, answer, 96 if kind == "synthdog" else 24)
            batch.append((ids, lab, preprocess(path, size), torch.zeros(1), (answer_patches(answer, boxes[path], spans, size), img0)))
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
    head = torch.nn.Linear(model.config.vision_config.hidden_size, len(GLYPHS))
    head.load_state_dict(torch.load(os.path.join(ckpt, 'glyph_head.pt')))
    return head


def glyph_logits(model, head, px):
    """(images, patches, glyphs): the glyph head on the feature layer the projector reads (-2),
    without the CLS token, as in training."""
    with torch.no_grad():
        return head(model.model.vision_tower(px, output_hidden_states=True).hidden_states[-2][:, 1:])


def glyph_probe(model, ckpt, heldout, n=32):
    """Per kind: precision/recall of the glyph head (saved as glyph_head.pt next to checkpoints)
    and its top-1 accuracy on patches holding a single glyph centre. Large fonts (signs,
    OCRBench-like words) spread a glyph over several patches, which this shows."""
    if not os.path.exists(os.path.join(ckpt, 'glyph_head.pt')):
        print('no glyph_head.pt: glyph probe skipped')
        return
    head = load_glyph_head(model, ckpt)
    size = model.config.vision_config.image_size
    for kind in ['textvqa', 'docvqa', 'ocrbench', 'synthdog']:
        root = os.path.join(heldout, kind)
        boxes = load_boxes(root, kind)
        s = load_samples(root, kind)[:n]
        px = torch.stack([preprocess(p, size) for p, _, _ in s])
        tg = torch.stack([glyph_targets(boxes[p], size) for p, _, _ in s])
        logits = glyph_logits(model, head, px)
        pred = torch.sigmoid(logits) > 0.5
        tp = (pred & (tg > 0)).sum().item()
        one = tg.sum(-1) == 1
        top1 = ((tg.argmax(-1) == logits.argmax(-1)) & one).sum().item() / max(1, one.sum().item())
        print(f'{kind:9s} glyph head: precision {tp / max(1, pred.sum().item()):.3f}, recall {tp / max(1, tg.sum().item()):.3f} '
              f'({int(tg.sum())} glyphs), top-1 on single-glyph patches {top1:.3f}')


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
    glyph_probe(model, ckpt, heldout)


if __name__ == '__main__':
    main()
