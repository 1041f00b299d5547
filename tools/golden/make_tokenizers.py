#!/usr/bin/env python3
"""Small tokenizers shaped exactly like the real ones, trained with HF `tokenizers`, and golden
encode/decode cases for tests/test_tokenizer.c.

Re-run from the repository root (deterministic; no downloads):
    python3 tools/golden/make_tokenizers.py
It writes tests/fixtures/tokenizers/<name>/{tokenizer.json, tokenizer_config.json, cases.json} for
  llama_legacy    SentencePiece-converted Llama BPE, legacy form (normalizer Prepend+Replace, no
                  pre-tokenizer; merges as "a b" strings like older conversions)
  llama_metaspace the same model, legacy=False form (Metaspace pre-tokenizer, prepend_scheme
                  "first", split false; merges as [a, b] pairs)
  llama_added     llama_legacy plus added tokens with lstrip/rstrip/single_word/normalized set
  metaspace_always_unk, metaspace_never_nofuse
                  the llama_metaspace vocabulary without byte fallback (unk, fused or not),
                  Metaspace "always"/"never" with split, other decoders and post-processors
  qwen2           Qwen2-style byte-level BPE: NFC, the Qwen2 split regex (isolated), ByteLevel,
                  and the Qwen2-VL special tokens
(the layouts are those of shared/research/models.md sections 6.3, 6.4 and 5.6).

Other tools import the builders: build_llama_tokenizer(), build_qwen2_tokenizer() and
save_tokenizer_dir() return/save `tokenizers.Tokenizer` objects for the golden models and the
small-model training recipe.

Reference outputs come from `tokenizers.Tokenizer`, and the script asserts that transformers'
AutoTokenizer loaded from each directory gives the same ids and strings; ids with special tokens
come from transformers, which applies tokenizer_config.json's add_bos_token/add_eos_token.
"""
import json
import os
import random
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures', 'tokenizers')
SPIECE = '\u2581'

# The Qwen2 pre-tokenizer regex, verbatim from the Qwen2 tokenizer.json (research/models.md 6.4).
QWEN2_SPLIT_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                     r"|\s*[\r\n]+|\s+(?!\S)|\s+")

# Qwen2-VL's added tokens in id order (research/models.md 5.6): all special, not normalized.
QWEN2_SPECIAL_TOKENS = [
    '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>',
    '<|box_start|>', '<|box_end|>', '<|quad_start|>', '<|quad_end|>', '<|vision_start|>',
    '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>',
]

# The Qwen2-VL Instruct chat template (research/models.md 5.6, video branch included as shipped).
QWEN2_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture "
    "{{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video "
    "{{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

# Built-in training text: plain English prose plus some accented European words and numbers,
# so the vocabulary covers common words while CJK, emoji and rare letters need byte fallback.
CORPUS = """\
The quick brown fox jumps over the lazy dog while the cat sleeps in the sun.
What is written on the sign in the picture? The sign says that the store is open today.
A chat between a curious user and an artificial intelligence assistant.
The assistant gives helpful, detailed, and polite answers to the user's questions.
USER: What's the content of the image? ASSISTANT: The image shows a red car parked on a street.
Please answer the question using a single word or phrase.
What is the title of this document? What is the total amount on the receipt?
The invoice number is 12345 and the date is 2023-10-05; the total is $1,234.56.
She said: "I don't know, but we'll see." They've been there since 1999.
He's reading a book about the history of mathematics, physics and chemistry.
Numbers like 3.14159, 2.71828 and 1,000,000 appear in many documents and tables.
The train leaves at 10:45 from platform 9 and arrives at 14:30 in the city center.
Visual question answering needs the model to read text in images: signs, labels, posters.
The menu lists coffee, tea, juice, water, bread, cheese, salad and soup with their prices.
In the morning the weather was cold, but in the afternoon it became warm and sunny.
Researchers compress the key value cache to save memory during long generation.
Only a few attention heads look at the image; these visual heads matter the most.
The café on the corner serves crème brûlée, and the naïve tourist ordered a piña colada.
Über den Wolken muss die Freiheit wohl grenzenlos sein, sagte der Mann aus München.
El niño comió una manzana y la señora bebió café en la estación de España.
Le garçon a lu un livre à la bibliothèque près de l'école où travaille sa sœur.
Write the answer in lower case letters. Do not include any punctuation in the answer.
The bottle label reads ORGANIC OLIVE OIL, 500 ml, produced in Italy.
Question: Which brand is shown on the shirt? Answer: The brand is shown in large letters.
The page number at the bottom of the form is 17 of 42, and the form was signed in blue ink.
OCR reads the characters, words and lines on the page and returns their bounding boxes.
The price tag shows 19.99 dollars, and the discount is twenty percent off for members.
Is this a photo of a kitchen or a living room? It looks like a kitchen with a white table.
Thank you very much! You're welcome; I'm happy to help with anything else you need.
The year 2024 had 366 days, and the next leap year will be 2028 according to the calendar.
"""


# Multi-line documents, so that whitespace runs, indentation and newlines get merges too (and the
# tests see whether the pre-tokenizer cut them where the reference does).
DOCUMENTS = [
    "def area(width, height):\n    return width * height\n\n\nprint(area(3, 4))  # 12\n",
    "Name:    Alice\nAge:     30\nCity:    Paris\n\nName:    Bob\nAge:     25\n",
    "  Item\tQty\tPrice\n  Apple\t3\t1.20\n  Pear\t10\t0.95\n\n  Total:\t\t13.35\n",
    "Dear Sir,\r\n\r\nThank you for your letter.  We will reply soon.\r\n\r\nRegards,\r\n  The Team\r\n",
    "Q: What's on the sign?\nA: It's a STOP sign.\n\nQ: What color is it?\nA: Red!!\n",
]


def corpus_lines(repeat=8, seed=0):
    """The built-in corpus (lines and multi-line documents), repeated in seeded shuffled orders
    (BPE needs counts above 1)."""
    base = [line for line in CORPUS.splitlines() if line] + DOCUMENTS
    rng = random.Random(seed)
    lines = []
    for _ in range(repeat):
        order = base[:]
        rng.shuffle(order)
        lines.extend(order)
    return lines


def _trained_vocab_and_merges(tok):
    model = json.loads(tok.to_str())['model']
    merges = [tuple(m.split(' ')) if isinstance(m, str) else tuple(m) for m in model['merges']]
    vocab = sorted(model['vocab'].items(), key=lambda kv: kv[1])
    return [t for t, _ in vocab], merges


def build_llama_tokenizer(lines, vocab_size=1000, legacy=True, extra_special_tokens=('<image>', '<pad>')):
    """A tokenizer shaped like HF's conversion of a Llama SentencePiece model (LlamaConverter):
    <unk>=0 <s>=1 </s>=2, <0x00>..<0xFF> at 3..258, then the trained pieces ("▁" among them);
    BPE with byte_fallback and fuse_unk; decoder Replace("▁"," "), ByteFallback, Fuse, Strip;
    post-processor "<s> $A"; extra_special_tokens appended after the vocabulary like llava-hf's
    <image> (32000) and <pad> (32001). legacy picks the normalizer form (Prepend("▁") +
    Replace(" ","▁"), no pre-tokenizer) or the Metaspace(prepend_scheme="first", split=False) form.
    vocab_size counts the 259 fixed entries, not the extra special tokens."""
    trainer_tok = Tokenizer(BPE(unk_token='<unk>', byte_fallback=True, fuse_unk=True))
    # SentencePiece never merges across word starts: train on "▁word" units.
    trainer_tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPIECE, prepend_scheme='always', split=True)
    trainer = BpeTrainer(vocab_size=vocab_size - 259, min_frequency=2, show_progress=False,
                         special_tokens=[], initial_alphabet=[SPIECE])
    trainer_tok.train_from_iterator(lines, trainer=trainer)
    pieces, merges = _trained_vocab_and_merges(trainer_tok)

    vocab = {'<unk>': 0, '<s>': 1, '</s>': 2}
    for b in range(256):
        vocab['<0x%02X>' % b] = 3 + b
    for p in pieces:
        if p not in vocab:
            vocab[p] = len(vocab)
    assert SPIECE in vocab

    tok = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token='<unk>', fuse_unk=True, byte_fallback=True,
                        dropout=None))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ('<unk>', '<s>', '</s>')])
    if legacy:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend(SPIECE), normalizers.Replace(' ', SPIECE)])
        tok.pre_tokenizer = None
    else:
        tok.normalizer = None
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPIECE, prepend_scheme='first', split=False)
    tok.decoder = decoders.Sequence([decoders.Replace(SPIECE, ' '), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(' ', 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single='<s> $A', pair='<s> $A <s> $B',
                                                       special_tokens=[('<s>', 1)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in extra_special_tokens])
    return tok


def build_qwen2_tokenizer(lines, vocab_size=1000, special_tokens=tuple(QWEN2_SPECIAL_TOKENS)):
    """A Qwen2-style byte-level BPE (HF Qwen2Converter layout): no unk, no byte fallback, NFC
    normalizer, Split(Qwen2 regex, isolated) + ByteLevel(add_prefix_space=False, use_regex=False),
    ByteLevel decoder and post-processor; special_tokens appended after the vocabulary.
    vocab_size counts the 256 byte symbols, not the special tokens."""
    split = pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior='isolated', invert=False)
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok = Tokenizer(BPE(unk_token=None, continuing_subword_prefix='', end_of_word_suffix='', fuse_unk=False,
                        byte_fallback=False, dropout=None))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([split, byte_level])
    trainer = BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False, special_tokens=[],
                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer=trainer)
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special_tokens])
    return tok


def llama_tokenizer_config(tok, extra_special_tokens=('<image>', '<pad>')):
    """tokenizer_config.json as llava-hf ships it, minus the chat template, and with
    tokenizer_class TokenizersBackend (the real files say LlamaTokenizer). transformers 5's
    LlamaTokenizer class rebuilds the pipeline from vocab and merges with a Metaspace
    pre-tokenizer, so it ignores a legacy file's Prepend/Replace normalizer and encodes
    differently (spaces, text after special tokens); TokenizersBackend runs tokenizer.json as is,
    like `tokenizers` and the C code."""
    added = {}
    for t in ['<unk>', '<s>', '</s>'] + list(extra_special_tokens):
        added[str(tok.token_to_id(t))] = {'content': t, 'lstrip': False, 'normalized': False, 'rstrip': False,
                                          'single_word': False, 'special': True}
    return {'add_bos_token': True, 'add_eos_token': False, 'added_tokens_decoder': added,
            'bos_token': '<s>', 'eos_token': '</s>', 'unk_token': '<unk>',
            'pad_token': '<pad>' if '<pad>' in extra_special_tokens else None,
            'clean_up_tokenization_spaces': False, 'model_max_length': 4096,
            'tokenizer_class': 'TokenizersBackend'}


def qwen2_tokenizer_config(tok):
    """tokenizer_config.json as Qwen2-VL-Instruct ships it (research/models.md 5.6)."""
    added = {str(tok.token_to_id(t)): {'content': t, 'lstrip': False, 'normalized': False, 'rstrip': False,
                                       'single_word': False, 'special': True} for t in QWEN2_SPECIAL_TOKENS}
    return {'add_prefix_space': False, 'added_tokens_decoder': added, 'bos_token': None,
            'eos_token': '<|im_end|>', 'pad_token': '<|endoftext|>', 'errors': 'replace',
            'clean_up_tokenization_spaces': False, 'model_max_length': 32768, 'split_special_tokens': False,
            'chat_template': QWEN2_VL_CHAT_TEMPLATE, 'tokenizer_class': 'TokenizersBackend'}


def save_tokenizer_dir(tok, out_dir, config, merges_as_strings=False):
    """Write tokenizer.json (merges as "a b" strings when asked, the older on-disk form) and
    tokenizer_config.json into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    data = json.loads(tok.to_str())
    if merges_as_strings:
        data['model']['merges'] = [' '.join(m) for m in data['model']['merges']]
    with open(os.path.join(out_dir, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write('\n')
    with open(os.path.join(out_dir, 'tokenizer_config.json'), 'w', encoding='utf-8') as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write('\n')


# ---- golden cases -------------------------------------------------------------------------------

COMMON_CASES = [
    '', ' ', '  ', 'Hello world', 'hello', ' leading space', '   three leading', 'trailing space ',
    'trailing  two  ', 'multiple   spaces   between', 'tab\there', '\ttab first', 'line1\nline2',
    'line1\r\nline2\r\n\r\nline3', '\n\nstarts with newlines', 'ends with newlines\n\n', '\n', ' \n ',
    'a \n b', 'digits 0123456789', 'long number 12345678901234567890', '3.14159 and 1,000,000',
    'price: $19.99!', 'Punctuation: ,.;:!?()[]{}<>@#%^&*-_=+/\\|~`"\'',
    "don't, I'LL, we've, she's, they'd, you're, I'm", "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'Ll", "it's'", "''",
    'café naïve résumé crème brûlée', 'cafe\u0301 nai\u0308ve re\u0301sume\u0301',
    'Ångström ﬁ ß ẞ İstanbul ǅ', 'Ünïcödé ÀÉÎÕÜ',
    '中文字符测试', '日本語のテキストです。', '한국어 텍스트', 'Русский текст', 'Ελληνικά ΟΔΟΣ', 'العربية',
    'हिन्दी', 'emoji 😀👍🏽 family 👨\u200d👩\u200d👧 flag 🇫🇷', '😀', 'absent letters: ƛ Ꙃ ᚠ ⅷ ①',
    'nbsp\u00a0here and ideographic\u3000space', 'nel\u0085char and ls\u2028sep', 'zero\u200bwidth',
    'mixed CASE Words And UPPER', 'a', 'I', 'x' * 60, 'the the the the', '▁already▁has▁spiece',
    '<0x41> is not a byte token in text', 'U+FFFD \ufffd replacement', 'ſ long s and \'ſ',
]

LLAMA_CASES = COMMON_CASES + [
    '<image>\nWhat is this?', 'USER: <image>\nWhat\'s the content of the image? ASSISTANT:',
    '[INST] <image>\nWhat is shown in this image? [/INST]',
    'A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, '
    'detailed, and polite answers to the user\'s questions. USER: <image>\nWhat is written on the sign? '
    'Answer the question using a single word or phrase. ASSISTANT:',
    '<image>', '<image><image><image>', ' <image> ', 'a<image>b', '<s>hello</s>', '<s> hello </s>',
    'text <pad> more <unk> end', '<imag', '<image', '<<image>>', 'no special <im age> here',
]

ADDED_CASES = LLAMA_CASES + [
    'x <mask> y', 'x<mask>y', '  <mask>  ', '<mask>', 'a [R]   b', '[R]', 'a[R]b',
    'word', 'a word here', 'awordb', 'word.', '(word)', 'words', 'sword', '_word_', 'é word é', 'word1',
    'hello world', 'say hello world!', 'helloworld', 'hello  world', 'Hello world', '<mask>hello world[R]',
]

QWEN2_CHAT = ('<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n'
              '<|vision_start|><|image_pad|><|vision_end|>What is written on the sign?<|im_end|>\n'
              '<|im_start|>assistant\n')

QWEN2_CASES = COMMON_CASES + [
    QWEN2_CHAT, QWEN2_CHAT + 'The sign says OPEN.<|im_end|>',
    '<|vision_start|>' + '<|image_pad|>' * 8 + '<|vision_end|>', '<|endoftext|>', 'a<|im_end|>b',
    '<|im_start|', '<|im_start|><|im_end|><|im_start|>', 'text <|box_start|>(10,20),(30,40)<|box_end|>',
    '   \n\n   x', 'x   \n', '  \t  y', 'a\r\rb', 'word!!!\n\n', ' ?!\n', 'A1B2C3 ４５ ٣', 'x\u3000\u3000y',
    '\u00a0\u00a0z', '\x1c\x1dq', "I'M HE'S 'VE", "Don'T", "'ſ", "'ſx", "'lLx", "'\u0345x", 'e\u0301\u0301',
    '\u1100\u1161\u11a8', '!!\n\n x', 'a \u00a0b', '\u0085\u0085w', 'x \n\n y', 'def f():\n    return 1\n\n',
]


def random_cases(specials, seed, n=60):
    """Seeded random strings mixing words, whitespace runs, digits, accents, CJK, emoji, added
    tokens, contractions and combining marks: coverage beyond the hand-written list."""
    rng = random.Random(seed)
    parts = ['the', 'The', ' cat', 'sign', 'OPEN', 'é', 'e\u0301', 'ß', '中', '文', '😀', '🏽', ' ', '  ', '\t', '\n',
             '\r\n', '0', '42', '1999', '.', ',', '!?', "'s", "'LL", "'", '"', '-', '_', '\u00a0', '\u3000', 'ǅ', 'ƛ',
             '\u0300', 'Ω', 'я', '$', '%', '<', '>', '|'] + list(specials)
    out = []
    for _ in range(n):
        k = rng.randint(1, 14)
        out.append(''.join(rng.choice(parts) for _ in range(k)))
    return out


def reference_cases(tok, hf, texts, specials, config_suffix=()):
    """Ids and strings from `tokenizers` (tok), except ids_special, which come from transformers
    (hf) because its tokenizer_config.json handling is what the C code follows; they must equal
    tok's ids plus config_suffix. transformers must agree with tok on everything else."""
    cases = []
    for text in texts:
        entry = {'text': text}
        # The words BPE sees, where no added token is involved (checks the pre-tokenizer alone).
        if tok.pre_tokenizer is not None and not any(sp in text for sp in specials):
            normalized = tok.normalizer.normalize_str(text) if tok.normalizer else text
            entry['words'] = [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(normalized)]
        entry['ids'] = tok.encode(text, add_special_tokens=False).ids
        ids_special = hf(text, add_special_tokens=True)['input_ids']
        assert ids_special == tok.encode(text, add_special_tokens=True).ids + list(config_suffix), text
        assert hf(text, add_special_tokens=False)['input_ids'] == entry['ids'], text
        entry['ids_special'] = ids_special
        entry['decode'] = tok.decode(ids_special, skip_special_tokens=False)
        entry['decode_skip'] = tok.decode(ids_special, skip_special_tokens=True)
        assert hf.decode(ids_special, skip_special_tokens=False) == entry['decode'], text
        assert hf.decode(ids_special, skip_special_tokens=True) == entry['decode_skip'], text
        entry['decode_each'] = [tok.decode([i], skip_special_tokens=False) for i in ids_special]
        cases.append(entry)
    return cases


def write_fixture(name, tok, config, texts, specials, merges_as_strings=False, config_suffix=()):
    from transformers import AutoTokenizer
    out_dir = os.path.join(FIXTURES, name)
    save_tokenizer_dir(tok, out_dir, config, merges_as_strings)
    # References from the saved files, exactly what the C code will read.
    saved = Tokenizer.from_file(os.path.join(out_dir, 'tokenizer.json'))
    hf = AutoTokenizer.from_pretrained(out_dir)
    cases = reference_cases(saved, hf, texts, specials, config_suffix)
    with open(os.path.join(out_dir, 'cases.json'), 'w', encoding='utf-8') as f:
        json.dump({'generator': 'tools/golden/make_tokenizers.py', 'cases': cases}, f, ensure_ascii=False,
                  indent=0)
        f.write('\n')
    print('%s: vocab %d, %d cases' % (name, saved.get_vocab_size(), len(cases)), file=sys.stderr)


def variant(tok, byte_fallback, fuse_unk, pre_tokenizer, decoder, post_processor):
    """The same vocabulary and merges with other model flags and pipeline pieces: the
    tokenizer.json options real files use beyond the two Llama forms."""
    data = json.loads(tok.to_str())
    data['model']['byte_fallback'] = byte_fallback
    data['model']['fuse_unk'] = fuse_unk
    out = Tokenizer.from_str(json.dumps(data))
    out.normalizer = None
    out.pre_tokenizer = pre_tokenizer
    out.decoder = decoder
    out.post_processor = post_processor
    return out


def main():
    lines = corpus_lines()
    llama_specials = ['<image>', '<s>', '</s>', '<unk>', '<pad>']
    llama_texts = LLAMA_CASES + random_cases(llama_specials, seed=1)

    legacy = build_llama_tokenizer(lines, legacy=True)
    write_fixture('llama_legacy', legacy, llama_tokenizer_config(legacy), llama_texts, llama_specials,
                  merges_as_strings=True)

    meta = build_llama_tokenizer(lines, legacy=False)
    write_fixture('llama_metaspace', meta, llama_tokenizer_config(meta), llama_texts, llama_specials)

    added = build_llama_tokenizer(lines, legacy=True)
    added.add_tokens([AddedToken('<mask>', lstrip=True, special=True, normalized=False),
                      AddedToken('[R]', rstrip=True, special=False, normalized=False),
                      AddedToken('word', single_word=True, special=False, normalized=False),
                      AddedToken('hello world', special=False, normalized=True)])
    added_specials = llama_specials + ['<mask>', '[R]', 'word', 'hello world']
    texts = ADDED_CASES + random_cases(added_specials, seed=2)
    write_fixture('llama_added', added, llama_tokenizer_config(added), texts, added_specials, merges_as_strings=True)

    # No byte fallback, so characters outside the vocabulary become <unk> (fused, then not);
    # Metaspace "always" and "never" with split=true; the Metaspace decoder; a
    # file template with "</s>". The first config asks for add_eos_token, which transformers 5
    # ignores because tokenizer.json exists (tokenization_utils_base.py pops add_bos_token and
    # add_eos_token): the reference check below fails if that ever changes.
    short_texts = COMMON_CASES + LLAMA_CASES[-15:] + random_cases(llama_specials, seed=4, n=30)
    always = variant(meta, False, True,
                     pre_tokenizers.Metaspace(replacement=SPIECE, prepend_scheme='always', split=True),
                     decoders.Metaspace(replacement=SPIECE, prepend_scheme='always', split=True),
                     processors.TemplateProcessing(single='<s> $A', special_tokens=[('<s>', 1)]))
    config = llama_tokenizer_config(always)
    config['add_eos_token'] = True
    write_fixture('metaspace_always_unk', always, config, short_texts, llama_specials)

    never = variant(meta, False, False,
                    pre_tokenizers.Metaspace(replacement=SPIECE, prepend_scheme='never', split=True),
                    decoders.Sequence([decoders.Replace(SPIECE, ' '), decoders.Fuse(), decoders.Strip(' ', 1, 0)]),
                    processors.TemplateProcessing(single='<s> $A </s>', special_tokens=[('<s>', 1), ('</s>', 2)]))
    config = llama_tokenizer_config(never)
    del config['add_bos_token'], config['add_eos_token']
    write_fixture('metaspace_never_nofuse', never, config, short_texts, llama_specials)

    qwen = build_qwen2_tokenizer(lines)
    write_fixture('qwen2', qwen, qwen2_tokenizer_config(qwen), QWEN2_CASES + random_cases(QWEN2_SPECIAL_TOKENS, 3),
                  QWEN2_SPECIAL_TOKENS)


if __name__ == '__main__':
    main()
