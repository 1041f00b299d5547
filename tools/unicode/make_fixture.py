#!/usr/bin/env python3
"""Write tests/fixtures/unicode/cases.json: what Python says, for tests/test_unicode.c.

Re-run from the repository root:  python3 tools/unicode/make_fixture.py
  - "blocks": for every 4096-code-point block, an FNV-1a-64 digest over each code point c
    (surrogates and U+0000, which C strings cannot hold, skipped) of: one flags byte (bit0 \\p{L}, bit1 \\p{N}, bit2 c.isspace()), then
    the UTF-8 of c.lower(), 0xFF, c.upper(), 0xFF, NFC(c), 0xFF. The C test recomputes it, so every
    code point's properties are checked while the file stays small.
  - "strings": seeded random strings (mixed scripts, combining marks in random order, Hangul
    jamo, Greek sigmas) with their lower(), upper(), len(upper()) and NFC forms.
  - "utf8": byte strings (hex), valid and not, with the code points of
    bytes.decode('utf-8', 'replace').
"""
import json
import os
import random
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'unicode', 'cases.json')
FNV_OFFSET, FNV_PRIME = 0xcbf29ce484222325, 0x100000001b3


def fnv(h, data):
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def block_digests():
    out = []
    for base in range(0, 0x110000, 0x1000):
        h = FNV_OFFSET
        for cp in range(base, base + 0x1000):
            if 0xD800 <= cp <= 0xDFFF or cp == 0:
                continue
            c = chr(cp)
            cat = unicodedata.category(c)
            flags = (cat[0] == 'L') | (cat[0] == 'N') << 1 | c.isspace() << 2
            data = bytes([flags]) + c.lower().encode() + b'\xff' + c.upper().encode() + b'\xff' \
                + unicodedata.normalize('NFC', c).encode() + b'\xff'
            h = fnv(h, data)
        out.append('%016x' % h)
    return out


def random_strings(rng):
    pools = [
        'abcXYZ019 ,.!?\t\n',
        'àéîõüÀÉÎÕÜçÇñÑßẞİıſﬁﬃŉǅǰ',
        'ΑΒΓΣσςΩωάΰΐ',
        'АБВгдеЁё',
        '\u0300\u0301\u0302\u0308\u0323\u0327\u0328\u031b\u0345\u05b0\u0591\u093c\u0f71\u0f72\u302a\u3099',
        '\u1100\u1101\u1161\u1162\u11a8\u11a9\uac00\uac01\ud55c',
        '中文日本語カタカナひらがな',
        '\u0915\u093c\u0928\u093c\u0b47\u0b3e\u0b56\u09c7\u09be',
        '\u2126\u212b\u1e9b\u0958\u0344\u0340\u0f73\u0f75',
        '\U0001F600\U0001D400\U0001D7CE\u2160\u00bd\u3000\u00a0\u2028\u0085\u001c',
    ]
    out = []
    for _ in range(300):
        n = rng.randint(1, 12)
        s = ''.join(rng.choice(rng.choice(pools)) for _ in range(n))
        out.append(s)
    out += ['ΟΔΟΣ', 'ΟΔΟΣ ΣΑΣ', 'Σ', 'ΑΣ.', 'Α\u0345Σ', 'ΑΣ\u0345Α', 'A\u00adΣ', "'Σ'", 'İstanbul',
            'Straße', 'ﬃ', '', 'e\u0301', 'e\u0301\u0323', 'q\u0307\u0323', '\u1100\u1161\u11a8']
    for s in [unicodedata.normalize('NFD', x) for x in ('Ĉàfé Ωmega 한국어 Ǻ ḉ ỗ', 'Việt Nam')]:
        out.append(s)
    return [{'s': s, 'lower': s.lower(), 'upper': s.upper(), 'upper_len': len(s.upper()),
             'nfc': unicodedata.normalize('NFC', s)} for s in out]


def utf8_cases():
    raw = [b'abc', b'\xc3\xa9', b'\xe2\x82\xac', b'\xf0\x9f\x98\x80', b'\xff', b'a\xffb', b'\x80\x80',
           b'\xc0\xaf', b'\xc1\xbf', b'\xe0\x80\xaf', b'\xe0\xa0', b'\xe2\x82', b'\xe2\x82A',
           b'\xed\xa0\x80', b'\xed\x9f\xbf', b'\xf0\x9f\x98', b'\xf0\x9f\x98A', b'\xf4\x8f\xbf\xbf',
           b'\xf4\x90\x80\x80', b'\xf5\x80', b'\xfe\xff', b'\xc3', b'\xc3(', b'\xe2(\xa1']
    return [{'hex': b.hex(), 'cps': [ord(c) for c in b.decode('utf-8', 'replace')]} for b in raw]


def main():
    rng = random.Random(1234)
    data = {'unicode_version': unicodedata.unidata_version, 'blocks': block_digests(),
            'strings': random_strings(rng), 'utf8': utf8_cases()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(data, f, ensure_ascii=False, indent=0)
        f.write('\n')


if __name__ == '__main__':
    main()
