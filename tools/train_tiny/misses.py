"""What kind of wrong answers does the model give? Reads the full-cache runs of an evaluate.sh work
folder (eval.sqlite and the data it drew) and sorts every answer that did not score full marks:

  near miss      the answer is one or two characters off the right one (difflib ratio >= 0.6
                 with one of the reference answers): the model found the text but misread it;
  other text     it resembles a word of the image that is not in the answer (ratio >= 0.6):
                 it read the wrong place;
  unrelated      it resembles nothing in the image: the decoder answered from its prior.

The split says where to work next: near misses are per-glyph reading (the vision tower), the
other two are finding the text (the decoder's attention, or glyphs the tower does not see).

Usage: python3 tools/train_tiny/misses.py WORK_DIR   (after tools/train_tiny/evaluate.sh)
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
    with open(os.path.join(folder, "TextVQA_0.5.1_val.json")) as f:
        data = json.load(f)["data"]
    words = boxes_by_image(os.path.join(folder, "ocr_boxes.json"))
    return {str(q["question_id"]): (q["answers"], words[f"train_images/{q['image_id']}.jpg"])
            for q in data}


def docvqa_items(folder):
    with open(os.path.join(folder, "val_v1.0.json")) as f:
        data = json.load(f)["data"]
    words = boxes_by_image(os.path.join(folder, "ocr_boxes.json"))
    return {str(q["questionId"]): (q["answers"], words[q["image"]]) for q in data}


def ocrbench_items(folder):
    with open(os.path.join(folder, "OCRBench.json")) as f:
        data = json.load(f)
    words = boxes_by_image(os.path.join(folder, "ocr_boxes.json"))
    out = {}
    for i, q in enumerate(data):  # the harness keys OCRBench samples by position in the file
        answers = q["answers"] if isinstance(q["answers"], list) else [q["answers"]]
        out[str(i)] = (answers, words[q["image_path"]])
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


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    work = sys.argv[1]
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
            answers, image_words = items[key]
            if score is not None and score >= 1.0:
                counts["full marks"] += 1
            else:
                counts[kind_of_miss((prediction or "").strip(), answers, image_words)] += 1
        print(f"| {name} | {len(rows)} | {counts['full marks']} | "
              + " | ".join(str(counts[k]) for k in kinds) + " |")


if __name__ == "__main__":
    main()
