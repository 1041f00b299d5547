/*
 * unicode.c: see unicode.h. UTF-8 coding, property lookups (binary searches over the range tables
 * that tools/unicode/gen_tables.py generates from Python's unicodedata), Python's case mappings
 * and NFC.
 *
 * Python details reproduced here, because scorers compare strings the way Python does:
 *   - str.lower() maps U+03A3 (capital sigma) to final sigma U+03C2 when it ends a word, using the
 *     Final_Sigma context of Unicode's SpecialCasing (CPython unicodeobject.c handle_capital_sigma);
 *   - full mappings that grow the string ('İ'.lower() == 'i̇', 'ß'.upper() == 'SS').
 * NFC follows UAX #15: full canonical decomposition (Hangul algorithmically), canonical ordering
 * by combining class, then canonical composition of primary composites.
 */
#include "engine/unicode.h"

#include <stdlib.h>
#include <string.h>

#include "engine/unicode_tables.h"
#include "engine/util.h"

#define REPLACEMENT_CHAR 0xFFFD

/* ---- UTF-8 ---------------------------------------------------------------------------- */

/* Well-formed sequences only (Unicode Table 3-7: no overlongs, no surrogates, nothing above
   U+10FFFF). An ill-formed one yields U+FFFD for its maximal subpart: the longest prefix that
   could still begin a well-formed sequence, at least one byte. That is what Python's
   errors="replace" and Rust's String::from_utf8_lossy do (e.g. b"\xe2\x82A" -> "\ufffdA",
   b"\xff\xfe" -> two U+FFFD). */
int utf8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *p = (const unsigned char *)s;
    *cp = REPLACEMENT_CHAR;
    if (n == 0) return 0;
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v;
    unsigned lo2 = 0x80, hi2 = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2, v = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, v = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, v = c & 0x07;
    else return 1;
    if (c == 0xE0) lo2 = 0xA0;
    if (c == 0xED) hi2 = 0x9F;
    if (c == 0xF0) lo2 = 0x90;
    if (c == 0xF4) hi2 = 0x8F;
    for (int i = 1; i < len; i++) {
        unsigned b = (size_t)i < n ? p[i] : 0;
        int ok = i == 1 ? b >= lo2 && b <= hi2 : (b & 0xC0) == 0x80;
        if (!ok) return i;
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return len;
}

int utf8_encode(uint32_t cp, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = REPLACEMENT_CHAR;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t utf8_length(const char *s) {
    size_t n = strlen(s), count = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; count++) i += (size_t)utf8_decode(s + i, n - i, &cp);
    return count;
}

uint32_t *utf8_to_cps(const char *s, size_t len, size_t *n) {
    uint32_t *cps = xmalloc((len + 1) * sizeof *cps); /* never more code points than bytes */
    size_t k = 0;
    for (size_t i = 0; i < len; k++) i += (size_t)utf8_decode(s + i, len - i, &cps[k]);
    *n = k;
    return cps;
}

char *cps_to_utf8(const uint32_t *cps, size_t n) {
    char *out = xmalloc(4 * n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += (size_t)utf8_encode(cps[i], out + k);
    out[k] = 0;
    return out;
}

/* ---- property lookups ------------------------------------------------------------------ */

static int in_ranges(const struct uni_range *r, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo) hi = mid;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

int uni_is_letter(uint32_t cp) {
    if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    return in_ranges(uni_letter, uni_letter_len, cp);
}

int uni_is_number(uint32_t cp) {
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    return in_ranges(uni_number, uni_number_len, cp);
}

int uni_is_space(uint32_t cp) { return in_ranges(uni_white_space, uni_white_space_len, cp); }

int py_is_space(uint32_t cp) { return in_ranges(uni_py_space, uni_py_space_len, cp); }

int uni_is_word(uint32_t cp) {
    if (cp < 0x80) return (cp | 0x20) - 'a' < 26 || cp - '0' < 10 || cp == '_';
    return in_ranges(uni_word, uni_word_len, cp);
}

static int ccc_of(uint32_t cp) {
    if (cp < 0x300) return 0;
    size_t lo = 0, hi = uni_ccc_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < uni_ccc[mid].lo) hi = mid;
        else if (cp > uni_ccc[mid].hi) lo = mid + 1;
        else return uni_ccc[mid].ccc;
    }
    return 0;
}

/* ---- case mapping ------------------------------------------------------------------------ */

/* Map cp through a case table into out (room for 3); returns the number of code points written. */
static int case_map(const struct uni_case_run *runs, size_t n_runs, const struct uni_case_multi *multi,
                    size_t n_multi, uint32_t cp, uint32_t out[3]) {
    size_t lo = 0, hi = n_multi;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < multi[mid].cp) hi = mid;
        else if (cp > multi[mid].cp) lo = mid + 1;
        else {
            int k = 0;
            for (; k < 3 && multi[mid].to[k]; k++) out[k] = multi[mid].to[k];
            return k;
        }
    }
    /* Last run starting at or before cp. */
    lo = 0, hi = n_runs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (runs[mid].lo <= cp) lo = mid + 1;
        else hi = mid;
    }
    out[0] = cp;
    if (lo > 0) {
        const struct uni_case_run *r = &runs[lo - 1];
        uint32_t off = cp - r->lo;
        if (off % r->stride == 0 && off / r->stride < r->count) out[0] = (uint32_t)((int64_t)cp + r->delta);
    }
    return 1;
}

static int lower_map(uint32_t cp, uint32_t out[3]) {
    return case_map(uni_lower_runs, uni_lower_runs_len, uni_lower_multi, uni_lower_multi_len, cp, out);
}

static int upper_map(uint32_t cp, uint32_t out[3]) {
    return case_map(uni_upper_runs, uni_upper_runs_len, uni_upper_multi, uni_upper_multi_len, cp, out);
}

/* CPython's Final_Sigma test for the capital sigma at cps[i]: a cased letter before it (skipping
   case-ignorable ones) and none after it. uni_cased is exact for code points that are not
   case-ignorable, which are the only ones this test asks about. */
static int is_final_sigma(const uint32_t *cps, size_t n, size_t i) {
    size_t j = i;
    uint32_t c = 0;
    int found = 0;
    while (j > 0) {
        c = cps[--j];
        if (!in_ranges(uni_case_ignorable, uni_case_ignorable_len, c)) {
            found = 1;
            break;
        }
    }
    if (!found || !in_ranges(uni_cased, uni_cased_len, c)) return 0;
    for (j = i + 1; j < n; j++) {
        c = cps[j];
        if (!in_ranges(uni_case_ignorable, uni_case_ignorable_len, c))
            return !in_ranges(uni_cased, uni_cased_len, c);
    }
    return 1;
}

char *py_lower(const char *s) {
    size_t n;
    uint32_t *cps = utf8_to_cps(s, strlen(s), &n);
    uint32_t *out = xmalloc((3 * n + 1) * sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (cps[i] == 0x3A3) out[k++] = is_final_sigma(cps, n, i) ? 0x3C2 : 0x3C3;
        else k += (size_t)lower_map(cps[i], out + k);
    }
    char *r = cps_to_utf8(out, k);
    free(cps);
    free(out);
    return r;
}

char *py_upper(const char *s) {
    size_t n;
    uint32_t *cps = utf8_to_cps(s, strlen(s), &n);
    uint32_t *out = xmalloc((3 * n + 1) * sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += (size_t)upper_map(cps[i], out + k);
    char *r = cps_to_utf8(out, k);
    free(cps);
    free(out);
    return r;
}

size_t py_upper_len(const char *s) {
    size_t n = strlen(s), count = 0;
    uint32_t cp, tmp[3];
    for (size_t i = 0; i < n;) {
        i += (size_t)utf8_decode(s + i, n - i, &cp);
        count += (size_t)upper_map(cp, tmp);
    }
    return count;
}

/* ---- NFC ---------------------------------------------------------------------------------- */

/* Hangul syllables decompose and compose arithmetically (Unicode ch. 3.12). */
enum {
    HANGUL_S = 0xAC00, HANGUL_L = 0x1100, HANGUL_V = 0x1161, HANGUL_T = 0x11A7,
    HANGUL_LCOUNT = 19, HANGUL_VCOUNT = 21, HANGUL_TCOUNT = 28,
    HANGUL_NCOUNT = HANGUL_VCOUNT * HANGUL_TCOUNT, HANGUL_SCOUNT = HANGUL_LCOUNT * HANGUL_NCOUNT,
};

struct cp_buf {
    uint32_t *v;
    size_t n, cap;
};

static void buf_push(struct cp_buf *b, uint32_t cp) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n++] = cp;
}

static const struct uni_decomp *find_decomp(uint32_t cp) {
    size_t lo = 0, hi = uni_decomp_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < uni_decomp[mid].cp) hi = mid;
        else if (cp > uni_decomp[mid].cp) lo = mid + 1;
        else return &uni_decomp[mid];
    }
    return NULL;
}

/* Full canonical decomposition of one code point (the table holds one level; recursion depth is
   bounded by the data, at most 4). */
static void decompose(uint32_t cp, struct cp_buf *out) {
    if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SCOUNT) {
        uint32_t s = cp - HANGUL_S;
        buf_push(out, HANGUL_L + s / HANGUL_NCOUNT);
        buf_push(out, HANGUL_V + (s % HANGUL_NCOUNT) / HANGUL_TCOUNT);
        if (s % HANGUL_TCOUNT) buf_push(out, HANGUL_T + s % HANGUL_TCOUNT);
        return;
    }
    const struct uni_decomp *d = cp >= 0xC0 ? find_decomp(cp) : NULL;
    if (!d) {
        buf_push(out, cp);
        return;
    }
    decompose(d->a, out);
    if (d->b) decompose(d->b, out);
}

/* Stable insertion sort of each run of non-starters by combining class (canonical ordering). */
static void canonical_order(uint32_t *v, size_t n) {
    for (size_t i = 1; i < n; i++) {
        int cc = ccc_of(v[i]);
        if (cc == 0) continue;
        uint32_t x = v[i];
        size_t j = i;
        while (j > 0) {
            int pc = ccc_of(v[j - 1]);
            if (pc == 0 || pc <= cc) break;
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* Primary composite of (a, b), or 0. */
static uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= HANGUL_L && a < HANGUL_L + HANGUL_LCOUNT && b >= HANGUL_V && b < HANGUL_V + HANGUL_VCOUNT)
        return HANGUL_S + ((a - HANGUL_L) * HANGUL_VCOUNT + (b - HANGUL_V)) * HANGUL_TCOUNT;
    if (a >= HANGUL_S && a < HANGUL_S + HANGUL_SCOUNT && (a - HANGUL_S) % HANGUL_TCOUNT == 0 &&
        b > HANGUL_T && b < HANGUL_T + HANGUL_TCOUNT)
        return a + (b - HANGUL_T);
    size_t lo = 0, hi = uni_comp_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct uni_comp *c = &uni_comp[mid];
        if (a < c->a || (a == c->a && b < c->b)) hi = mid;
        else if (a > c->a || b > c->b) lo = mid + 1;
        else return c->c;
    }
    return 0;
}

/* Canonical composition in place; returns the new length. Between the last starter and the
   current character only non-starters remain (an uncomposed starter becomes the new last
   starter) and they are in canonical order, so the current character is blocked exactly when it
   is not adjacent to the starter and the previous kept character's class is >= its own. */
static size_t compose(uint32_t *v, size_t n) {
    size_t k = 0;
    long starter = -1;
    int prev_cc = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = v[i];
        int cc = ccc_of(c);
        if (starter >= 0) {
            int blocked = (long)k - 1 != starter && prev_cc >= cc;
            uint32_t p = blocked ? 0 : compose_pair(v[starter], c);
            if (p) {
                v[starter] = p;
                continue;
            }
        }
        if (cc == 0) starter = (long)k;
        v[k++] = c;
        prev_cc = cc;
    }
    return k;
}

char *uni_nfc(const char *s) {
    size_t len = strlen(s), n;
    uint32_t *cps = utf8_to_cps(s, len, &n);
    /* Below U+0300 every code point is NFC-stable and none starts to compose with another one
       from that range (every second element of a primary composite is >= U+0300). */
    int simple = 1;
    for (size_t i = 0; i < n && simple; i++) simple = cps[i] < 0x300;
    if (simple) {
        char *r = cps_to_utf8(cps, n);
        free(cps);
        return r;
    }
    struct cp_buf d = {0};
    for (size_t i = 0; i < n; i++) decompose(cps[i], &d);
    free(cps);
    canonical_order(d.v, d.n);
    size_t m = compose(d.v, d.n);
    char *r = cps_to_utf8(d.v, m);
    free(d.v);
    return r;
}
