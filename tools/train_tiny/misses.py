"""What kind of wrong answers does the model give? Reads the full-cache runs of an evaluate.sh work
folder (eval.sqlite and the data it drew) and sorts every answer that did not score full marks:

  near miss      the answer is one or two characters off the right one (difflib ratio >= 0.6
                 with one of the reference answers): the model found the text but misread it;
  other text     it resembles a word of the image that is not in the answer (ratio >= 0.6):
                 it read the wrong place;
  unrelated      it resembles nothing in the image: the decoder answered from its prior.

The split says where to work next: near misses are per-glyph reading (the vision tower), the
other two are finding the text (the decoder's attention, or glyphs the tower does not see).

With a training checkpoint (one holding glyph_head.pt), it also asks whether the vision tower saw
the answer: per kind of TextVQA-like answer, the share of the answer's glyphs that the glyph head
detects in their patch (sigmoid > 0.5) and names first (top-1 over all patches holding one, so
below probe.py's single-glyph figure).

Usage: python3 tools/train_tiny/misses.py WORK_DIR [CHECKPOINT]   (after tools/train_tiny/evaluate.sh)
"""
import collections
import difflib
import json
import os
import sqlite3
import sys

NEAR = 0.6  # difflib ratio: "HOSPEAL" vs "HOSPITAL" is 0.80, "lumen" vs "sprout" 0.18


def similar(a, b):
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def boxes_by_image(path):
    """image name -> the OCR words of that image (the generator's ocr_boxes.json)."""
    with open(path) as f:
        return {b["image_name"]: [c["chunk"] for c in b["2_coord"]] for b in json.load(f)}


def textvqa_items(folder):
    """sample key -> (reference answers, the image's OCR words, image name); likewise below."""
    with open(os.path.join(folder, "TextVQA_0.5.1_val.json")) as f:
        data = json.load(f)["data"]
    words = boxes_by_image(os.path.join(folder, "ocr_boxes.json"))
    return {str(q["question_id"]): (q["answers"], words[image_name(q)], image_name(q)) for q in data}


def image_name(question):
    """A TextVQA-like question's image, relative to its folder (how ocr_boxes.json names it)."""
    return f"train_images/{question['image_id']}.jpg"


def docvqa_items(folder):
    with open(os.path.join(folder, "val_v1.0.json")) as f:
        data = json.load(f)["data"]
    words = boxes_by_image(os.path.join(folder, "ocr_boxes.json"))
    return {str(q["questionId"]): (q["answers"], words[q["image"]], q["image"]) for q in data}


def ocrbench_items(folder):
    with open(os.path.join(folder, "OCRBench.json")) as f:
        data = json.load(f)
    words = boxes_by_image(os.path.join(folder, "ocr_boxes.json"))
    out = {}
    for i, q in enumerate(data):  # the harness keys OCRBench samples by position in the file
        answers = q["answers"] if isinstance(q["answers"], list) else [q["answers"]]
        out[str(i)] = (answers, words[q["image_path"]], q["image_path"])
    return out


def kind_of_miss(prediction, answers, image_words):
    if max(similar(prediction, a) for a in answers) >= NEAR:
        return "near miss"
    answer_words = {w.lower() for a in answers for w in a.split()}
    others = [w for w in image_words if w.lower() not in answer_words]
    guesses = [prediction] + prediction.split()
    if any(similar(g, w) >= NEAR for g in guesses for w in others):
        return "other text"
    return "unrelated"


def answer_glyph_reading(ckpt, root, answers_by_kind):
    """Per kind of answer: [answer glyphs, detected by the glyph head, named first by it].
    answers_by_kind: kind -> [(reference answers, image name)] of the questions in folder root."""
    import torch
    from transformers import LlavaForConditionalGeneration
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from probe import glyph_logits, load_glyph_head
    from train import GLYPHS, glyph_targets, load_boxes, preprocess
    torch.set_num_threads(2)
    model = LlavaForConditionalGeneration.from_pretrained(ckpt, torch_dtype=torch.float32).eval()
    head = load_glyph_head(model, ckpt)
    boxes = load_boxes(root, "textvqa")
    size = model.config.vision_config.image_size
    counts = {}
    for kind, questions in answers_by_kind.items():
        n = seen = first = 0
        for answers, name in questions:
            path = os.path.join(root, name)
            answer = collections.Counter(answers).most_common(1)[0][0].lower().split()
            # the glyph targets of the answer's words only
            hit = glyph_targets([(w, c) for w, c in boxes[path] if w.lower() in answer], size) > 0
            logits = glyph_logits(model, head, preprocess(path, size)[None])[0]
            n += int(hit.sum())
            seen += int((hit & (logits > 0)).sum())  # sigmoid > 0.5
            first += int((hit & torch.nn.functional.one_hot(logits.argmax(-1), len(GLYPHS)).bool()).sum())
        counts[kind] = (n, seen, first)
    return counts


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    work = sys.argv[1]
    textvqa_answers = collections.defaultdict(list)  # kind -> [(answers, image name)]
    db = sqlite3.connect(os.path.join(work, "eval.sqlite"))
    readers = {"textvqa": textvqa_items, "docvqa": docvqa_items, "ocrbench": ocrbench_items}
    kinds = ["near miss", "other text", "unrelated"]
    print("| benchmark | questions | full marks | " + " | ".join(kinds) + " |")
    print("|:---|---:|---:|" + "---:|" * len(kinds))
    for name, reader in readers.items():
        run = db.execute("SELECT id FROM runs WHERE dataset = ? AND method = 'fullkv'",
                         (name,)).fetchone()
        if run is None:
            continue
        items = reader(os.path.join(work, "data", name))
        counts = collections.Counter()
        rows = db.execute("SELECT sample_key, prediction, score FROM samples WHERE run_id = ?",
                          (run[0],)).fetchall()
        for key, prediction, score in rows:
            if key not in items:
                sys.exit(f"{work}/eval.sqlite: sample {key} of {name} is not in the data folder")
            answers, image_words, image = items[key]
            if score is not None and score >= 1.0:
                kind = "full marks"
            else:
                kind = kind_of_miss((prediction or "").strip(), answers, image_words)
            counts[kind] += 1
            if name == "textvqa":
                textvqa_answers[kind].append((answers, image))
        print(f"| {name} | {len(rows)} | {counts['full marks']} | "
              + " | ".join(str(counts[k]) for k in kinds) + " |")
    if len(sys.argv) == 3 and textvqa_answers:
        print("\n| TextVQA-like answers | answer glyphs | detected by the glyph head | named first |")
        print("|:---|---:|---:|---:|")
        for kind, (n, seen, first) in answer_glyph_reading(sys.argv[2], os.path.join(work, "data", "textvqa"),
                                                            textvqa_answers).items():
            print(f"| {kind} | {n} | {seen / max(1, n):.3f} | {first / max(1, n):.3f} |")


if __name__ == "__main__":
    main()
