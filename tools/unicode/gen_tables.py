#!/usr/bin/env python3
"""Generate engine/unicode_tables.c and engine/unicode_tables.h from Python's unicodedata.

Re-run from the repository root:  python3 tools/unicode/gen_tables.py
The C side (engine/unicode.c) then behaves like the generating Python for: general categories
L and N, White_Space (regex \\s), str.isspace, str.lower/str.upper (full mappings, plus the data
for Python's final-sigma rule), and NFC. Every property is read from Python itself (unicodedata or
str methods), so C and Python agree by construction for this Unicode version.
"""
import os
import sys
import unicodedata

MAX_CP = 0x110000
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Unicode PropList.txt White_Space: what Oniguruma's \s matches in UTF-8 mode (the engine HF
# tokenizers runs the Qwen2 pre-tokenizer regex with). Python exposes no White_Space query and
# this set has been stable since Unicode 6.3.
WHITE_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
               (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
               (0x3000, 0x3000)]


# Other_Alphabetic code points whose general category is So (the circled and squared Latin
# letters; Unicode PropList.txt). The rest of Other_Alphabetic is Mn/Mc, already inside \p{M}.
OTHER_ALPHABETIC_SO = [(0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189)]


def is_word(cp):
    """Rust regex's Unicode \\w (what TK's single_word test uses): Alphabetic, \\p{M},
    \\p{Nd}, \\p{Pc}, Join_Control. Alphabetic = L + Nl + Other_Alphabetic."""
    cat = unicodedata.category(chr(cp))
    if cat[0] in 'LM' or cat in ('Nd', 'Nl', 'Pc') or cp in (0x200C, 0x200D):
        return True
    return any(lo <= cp <= hi for lo, hi in OTHER_ALPHABETIC_SO)


def is_surrogate(cp):
    return 0xD800 <= cp <= 0xDFFF


def ranges(pred):
    """Inclusive [lo, hi] runs of code points where pred holds."""
    out, start = [], None
    for cp in range(MAX_CP):
        if pred(cp):
            if start is None:
                start = cp
        elif start is not None:
            out.append((start, cp - 1))
            start = None
    if start is not None:
        out.append((start, MAX_CP - 1))
    return out


def category_ranges(prefix):
    return ranges(lambda cp: unicodedata.category(chr(cp)).startswith(prefix))


def ccc_runs():
    out = []
    for cp in range(MAX_CP):
        c = unicodedata.combining(chr(cp))
        if not c:
            continue
        if out and out[-1][1] == cp - 1 and out[-1][2] == c:
            out[-1][1] = cp
        else:
            out.append([cp, cp, c])
    return out


def case_tables(fn):
    """Single-code-point mappings as runs {lo, count, stride, delta}; longer ones listed apart.
    A run holds code points lo, lo+stride, ... that all map by the same delta."""
    singles, multi = [], []
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        m = fn(chr(cp))
        if m == chr(cp):
            continue
        if len(m) == 1:
            singles.append((cp, ord(m) - cp))
        else:
            assert len(m) <= 3
            multi.append((cp, [ord(x) for x in m]))
    runs = []
    for cp, delta in singles:
        if runs:
            lo, count, stride, d = runs[-1]
            last = lo + (count - 1) * stride
            if d == delta and count == 1 and cp - lo in (1, 2):
                runs[-1] = [lo, 2, cp - lo, d]
                continue
            if d == delta and count > 1 and cp - last == stride and count < 65535:
                runs[-1][1] += 1
                continue
        runs.append([cp, 1, 1, delta])
    return runs, multi


def sigma_tables():
    """The two properties Python's final-sigma rule reads (unicodeobject.c handle_capital_sigma):
    Case_Ignorable, and Cased for code points that are not Case_Ignorable (the only ones where the
    rule looks at Cased). Observed through str.lower itself:
      ('A'+c+'Σ').lower() ends in 'ς'  <=>  ignorable(c) or cased(c)
      (' '+c+'Σ').lower() ends in 'ς'  <=>  not ignorable(c) and cased(c)"""
    ign, cased = [], []
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        c = chr(cp)
        t1 = ('A' + c + '\u03a3').lower()[-1] == '\u03c2'
        t2 = (' ' + c + '\u03a3').lower()[-1] == '\u03c2'
        if t1 and not t2:
            ign.append(cp)
        if t2:
            cased.append(cp)
    return runs_of(ign), runs_of(cased)


def runs_of(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def decomp_tables():
    """Canonical one-level decompositions {cp, a, b} (b = 0 for singletons; Hangul syllables are
    algorithmic and left out) and the primary composites {a, b, c}: pairs that NFC recomposes,
    which leaves out composition exclusions, singletons and non-starter decompositions."""
    decomp, comp = [], []
    for cp in range(MAX_CP):
        if 0xAC00 <= cp <= 0xD7A3:
            continue
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith('<'):
            continue
        parts = [int(x, 16) for x in d.split()]
        assert len(parts) in (1, 2)
        a, b = parts[0], parts[1] if len(parts) == 2 else 0
        decomp.append((cp, a, b))
        if b and unicodedata.normalize('NFC', chr(a) + chr(b)) == chr(cp):
            comp.append((a, b, cp))
    comp.sort()
    # engine/unicode.c skips NFC for text below U+0300; these two facts make that exact.
    assert all(b >= 0x300 for _, b, _ in comp)
    assert all(unicodedata.is_normalized('NFC', chr(cp)) for cp in range(0x300))
    return decomp, comp


def fmt_rows(items, per_line):
    lines = []
    for i in range(0, len(items), per_line):
        lines.append('    ' + ' '.join(items[i:i + per_line]))
    return '\n'.join(lines)


def emit_ranges(name, rs):
    items = ['{0x%X, 0x%X},' % (lo, hi) for lo, hi in rs]
    return ('const struct uni_range %s[] = {\n%s\n};\nconst size_t %s_len = %d;\n'
            % (name, fmt_rows(items, 5), name, len(rs)))


HEADER = '''/*
 * unicode_tables.h: the tables behind engine/unicode.c, generated from Python %s's unicodedata
 * (Unicode %s) by tools/unicode/gen_tables.py. Do not edit; re-run the script.
 * Every table is sorted by its first field so lookups are binary searches.
 */
#ifndef SPARSEMM_UNICODE_TABLES_H
#define SPARSEMM_UNICODE_TABLES_H

#include <stddef.h>
#include <stdint.h>

struct uni_range { uint32_t lo, hi; };                    /* inclusive */
struct uni_ccc_range { uint32_t lo, hi; uint8_t ccc; };   /* canonical combining class */
/* Code points lo, lo+stride, ... (count of them) map to cp + delta. */
struct uni_case_run { uint32_t lo; uint16_t count; uint8_t stride; int32_t delta; };
/* A mapping to 2 or 3 code points (to[2] is 0 when there are only 2). */
struct uni_case_multi { uint32_t cp; uint32_t to[3]; };
struct uni_decomp { uint32_t cp, a, b; };                 /* cp -> a b (b = 0: singleton) */
struct uni_comp { uint32_t a, b, c; };                    /* a b -> c, sorted by (a, b) */

#define UNI_TABLE(type, name) extern const type name[]; extern const size_t name##_len;
UNI_TABLE(struct uni_range, uni_letter)
UNI_TABLE(struct uni_range, uni_number)
UNI_TABLE(struct uni_range, uni_word)
UNI_TABLE(struct uni_range, uni_white_space)
UNI_TABLE(struct uni_range, uni_py_space)
UNI_TABLE(struct uni_range, uni_case_ignorable)
UNI_TABLE(struct uni_range, uni_cased)
UNI_TABLE(struct uni_ccc_range, uni_ccc)
UNI_TABLE(struct uni_case_run, uni_lower_runs)
UNI_TABLE(struct uni_case_multi, uni_lower_multi)
UNI_TABLE(struct uni_case_run, uni_upper_runs)
UNI_TABLE(struct uni_case_multi, uni_upper_multi)
UNI_TABLE(struct uni_decomp, uni_decomp)
UNI_TABLE(struct uni_comp, uni_comp)
#undef UNI_TABLE

#endif
'''


def main():
    ver = sys.version.split()[0]
    out = ['/* unicode_tables.c: generated by tools/unicode/gen_tables.py from Python %s '
           '(Unicode %s). Do not edit. */' % (ver, unicodedata.unidata_version),
           '#include "engine/unicode_tables.h"', '']
    out.append(emit_ranges('uni_letter', category_ranges('L')))
    out.append(emit_ranges('uni_number', category_ranges('N')))
    out.append(emit_ranges('uni_word', ranges(is_word)))
    out.append(emit_ranges('uni_white_space', WHITE_SPACE))
    out.append(emit_ranges('uni_py_space', ranges(lambda cp: chr(cp).isspace())))
    ign, cased = sigma_tables()
    out.append(emit_ranges('uni_case_ignorable', ign))
    out.append(emit_ranges('uni_cased', cased))

    ccc = ccc_runs()
    items = ['{0x%X, 0x%X, %d},' % tuple(r) for r in ccc]
    out.append('const struct uni_ccc_range uni_ccc[] = {\n%s\n};\nconst size_t uni_ccc_len = %d;\n'
               % (fmt_rows(items, 4), len(ccc)))

    for name, fn in (('lower', str.lower), ('upper', str.upper)):
        runs, multi = case_tables(fn)
        items = ['{0x%X, %d, %d, %d},' % tuple(r) for r in runs]
        out.append('const struct uni_case_run uni_%s_runs[] = {\n%s\n};\n'
                   'const size_t uni_%s_runs_len = %d;\n' % (name, fmt_rows(items, 4), name, len(runs)))
        items = ['{0x%X, {%s}},' % (cp, ', '.join('0x%X' % x for x in (to + [0])[:3]))
                 for cp, to in multi]
        out.append('const struct uni_case_multi uni_%s_multi[] = {\n%s\n};\n'
                   'const size_t uni_%s_multi_len = %d;\n' % (name, fmt_rows(items, 3), name, len(multi)))

    decomp, comp = decomp_tables()
    items = ['{0x%X, 0x%X, 0x%X},' % d for d in decomp]
    out.append('const struct uni_decomp uni_decomp[] = {\n%s\n};\nconst size_t uni_decomp_len = %d;\n'
               % (fmt_rows(items, 4), len(decomp)))
    items = ['{0x%X, 0x%X, 0x%X},' % c for c in comp]
    out.append('const struct uni_comp uni_comp[] = {\n%s\n};\nconst size_t uni_comp_len = %d;\n'
               % (fmt_rows(items, 4), len(comp)))

    with open(os.path.join(ROOT, 'engine', 'unicode_tables.c'), 'w') as f:
        f.write('\n'.join(out))
    with open(os.path.join(ROOT, 'engine', 'unicode_tables.h'), 'w') as f:
        f.write(HEADER % (ver, unicodedata.unidata_version))


if __name__ == '__main__':
    main()
