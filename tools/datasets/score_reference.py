#!/usr/bin/env python3
"""Reference scores for the C scorers in datasets/score_*.c.

Re-implements, in plain Python, the official per-question metrics as
shared/research/datasets.md describes them (MMF's EvalAIAnswerProcessor and
TextVQAAccuracyEvaluator, the RRC DocVQA ANLS script, OCRBench's example.py), then scores
hand-written edge cases and a few hundred random strings built from the characters the
rules care about. The C tests compare against the committed output.

Re-run (from the repository root):
    python3 tools/datasets/score_reference.py > tests/fixtures/datasets/score_cases.jsonl
"""
import json
import random
import re

# ---- EvalAI answer normalisation (m4c_evaluators.py) -------------------------------------
CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've",
    "couldnt": "couldn't", "couldn'tve": "couldn't've", "couldnt've": "couldn't've",
    "didnt": "didn't", "doesnt": "doesn't", "dont": "don't", "hadnt": "hadn't",
    "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't", "havent": "haven't",
    "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's", "howd": "how'd",
    "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm",
    "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've",
    "itll": "it'll", "let's": "let's", "maam": "ma'am", "mightnt": "mightn't",
    "mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve": "might've",
    "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've",
    "oclock": "o'clock", "oughtnt": "oughtn't", "ow's'at": "'ow's'at", "'ows'at": "'ow's'at",
    "'ow'sat": "'ow's'at", "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've",
    "she's": "she's", "shouldve": "should've", "shouldnt": "shouldn't",
    "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've", "somebody'd": "somebodyd",
    "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
    "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
    "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
    "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's",
    "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've",
    "therere": "there're", "theres": "there's", "theyd": "they'd", "theyd've": "they'd've",
    "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're", "theyve": "they've",
    "twas": "'twas", "wasnt": "wasn't", "wed've": "we'd've", "we'dve": "we'd've",
    "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre": "what're",
    "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
    "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've",
    "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've",
    "whyll": "why'll", "whyre": "why're", "whys": "why's", "wont": "won't",
    "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've",
    "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll",
    "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
    "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll",
    "youre": "you're", "youve": "you've",
}
NUMBERS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
           "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
ARTICLES = ("a", "an", "the")
PUNCT = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@",
         "`", ",", "?", "!"]
PERIOD = re.compile(r"(?!<=\d)(\.)(?!\d)")
COMMA = re.compile(r"(?<=\d)(\,)+(?=\d)")


def vqa_normalize(s):
    s = s.lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()
    s = s.replace("\n", " ").replace("\t", " ").strip()
    out = s
    for p in PUNCT:
        if (p + " " in s or " " + p in s) or COMMA.search(s) is not None:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    out = PERIOD.sub("", out, re.UNICODE)  # count = 32, the official quirk
    words = []
    for w in out.lower().split():
        w = NUMBERS.get(w, w)
        if w not in ARTICLES:
            words.append(CONTRACTIONS.get(w, w))
    return " ".join(words)


def vqa_accuracy(pred, answers):
    gts = [vqa_normalize(a) for a in answers]
    p = vqa_normalize(pred)
    accs = []
    for i in range(len(gts)):
        others = [g for j, g in enumerate(gts) if j != i]
        accs.append(min(1, float(sum(1 for g in others if g == p)) / 3))
    return sum(accs) / len(accs)


# ---- ANLS (RRC DocVQA script) ------------------------------------------------------------
def levenshtein(a, b):
    prev = list(range(len(a) + 1))
    for j in range(1, len(b) + 1):
        cur = [j] + [0] * len(a)
        for i in range(1, len(a) + 1):
            cur[i] = min(prev[i - 1] + (a[i - 1] != b[j - 1]), prev[i] + 1, cur[i - 1] + 1)
        prev = cur
    return prev[len(a)]


def anls(pred, answers, strip):
    if strip:
        pred = pred.strip()
    values = []
    for a in answers:
        g = " ".join(a.strip().lower().split())
        d = " ".join(pred.strip().lower().split())
        length = max(len(a.upper()), len(pred.upper()))
        values.append(0.0 if length == 0 else float(levenshtein(g, d)) / float(length))
    s = 1 - min(values)
    return 0 if s < 0.5 else s


# ---- OCRBench (example.py) ---------------------------------------------------------------
def ocrbench(pred, answers, hme):
    for a in answers:
        if hme:
            a = a.strip().replace("\n", " ").replace(" ", "")
            p = pred.strip().replace("\n", " ").replace(" ", "")
        else:
            a = a.lower().strip().replace("\n", " ")
            p = pred.lower().strip().replace("\n", " ")
        if a in p:
            return 1
    return 0


# ---- cases -------------------------------------------------------------------------------
PIECES = ["a", "an", "the", "one", "Two", "TEN", "none", "dont", "whats", "Im", "yall'll",
          "it's", "cat's", "3", "3.14", "1,000", "x", "ab", "Coca-Cola", "e-mail", "...", ".",
          ". ", " .", "5.", "A.B.", ";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\",
          "_", "-", ">", "<", "@", "`", ",", "?", "!", ":", "'", "#", "$", "%", "&", "*", "~",
          "^", "|", " ", "  ", "\n", "\t", "\r", "\x0b", "\x1c", "\x85", "\xa0", "\u2003",
          "\u3000", "\u2028", "caf\u00e9", "stra\u00dfe", "\u0130stanbul", "\u03a3\u039f\u03a3",
          "\uff11\uff12", "\u0663", "\U0001F600", "\u00c9T\u00c9",
          "\ufb01", "0.28", "0.29", "$506 million", "y _ { 2 } = - 1\n", "y_2=-1", "HELLO",
          "hello", "Hello World", "x > - \\frac { 7 } { 3 }\n"]


# Not in PIECES: Nl/No numbers (U+00B2, U+00BD, U+2167, ...). After a period they are where
# the C side's digit test (\p{N}) is wider than Python's \d (Nd); see score_vqa.c.


def rand_string(rng, max_pieces=6):
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, max_pieces)))


def main():
    rng = random.Random(20240601)
    cases = []
    for _ in range(500):
        s = rand_string(rng, 8)
        cases.append({"metric": "vqa_norm", "in": s, "out": vqa_normalize(s)})
    # Many periods: the 32-period cap.
    for n in (31, 32, 33, 40):
        s = "a." * n
        cases.append({"metric": "vqa_norm", "in": s, "out": vqa_normalize(s)})
    for _ in range(300):
        pool = [rand_string(rng, 3) for _ in range(3)]
        answers = [rng.choice(pool) for _ in range(10)]
        pred = rng.choice(pool + [rand_string(rng, 3)])
        cases.append({"metric": "vqa", "pred": pred, "answers": answers,
                      "score": vqa_accuracy(pred, answers)})
    for _ in range(400):
        answers = [rand_string(rng, 4) for _ in range(rng.randint(1, 3))]
        base = rng.choice(answers)
        pred = base
        for _ in range(rng.randint(0, 3)):  # a few edits keep scores near the threshold
            k = rng.randint(0, len(pred))
            pred = pred[:k] + rng.choice(["", "x", " ", "\u00df", "  "]) + pred[k + 1:]
        strip = rng.randint(0, 1)
        cases.append({"metric": "anls", "pred": pred, "answers": answers, "strip": strip,
                      "score": anls(pred, answers, strip)})
    for _ in range(300):
        answers = [rand_string(rng, 2) for _ in range(rng.randint(1, 3))]
        pred = rand_string(rng, 2) + rng.choice(answers + ["zz"]) + rand_string(rng, 2)
        if rng.random() < 0.3:
            pred = pred.upper()
        hme = rng.randint(0, 1)
        cases.append({"metric": "ocrbench", "pred": pred, "answers": answers, "hme": hme,
                      "score": ocrbench(pred, answers, hme)})
    for c in cases:
        print(json.dumps(c, ensure_ascii=False))


if __name__ == "__main__":
    main()
