/*
 * unicode.h: UTF-8 and the Unicode properties the project needs to behave exactly like Python
 * and Hugging Face tokenizers: general categories (letters, numbers, for the Qwen2 pre-tokenizer
 * regex), Python's whitespace set (str.split/strip), Python's full case mappings (str.lower,
 * len(str.upper())), and NFC composition (the Qwen2 normalizer).
 *
 * Tables are generated from Python's unicodedata by tools/unicode/gen_tables.py and committed
 * as engine/unicode_tables.c; the product never needs Python.
 *
 * Strings are UTF-8 in and out. Invalid UTF-8 decodes to U+FFFD per maximal ill-formed subpart
 * (usually one per byte; a truncated sequence such as E2 82 gives one), exactly what Python's
 * errors="replace" and Rust's from_utf8_lossy do, so no input can crash the decoder.
 */
#ifndef SPARSEMM_UNICODE_H
#define SPARSEMM_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Decode one code point from s (at most n bytes); returns bytes consumed (>= 1 when n > 0). */
int utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Encode cp into out (needs 4 bytes); returns bytes written. */
int utf8_encode(uint32_t cp, char *out);
/* Number of code points in a NUL-terminated UTF-8 string. */
size_t utf8_length(const char *s);
/* Decode a whole string into a freshly allocated code-point array; *n gets its length.
   Caller frees. */
uint32_t *utf8_to_cps(const char *s, size_t len, size_t *n);
/* Encode code points into a freshly allocated NUL-terminated UTF-8 string. Caller frees. */
char *cps_to_utf8(const uint32_t *cps, size_t n);

/* General category tests (Unicode version of the generating Python). */
int uni_is_letter(uint32_t cp);      /* \p{L}: Lu Ll Lt Lm Lo */
int uni_is_number(uint32_t cp);      /* \p{N}: Nd Nl No */
int uni_is_space(uint32_t cp);       /* \s as the regex engines treat it (White_Space) */
int py_is_space(uint32_t cp);        /* Python str.isspace(): what split()/strip() use */
int uni_is_word(uint32_t cp);        /* \w of Rust's regex crate: Alphabetic, M, Nd, Pc, Join_Control */

/* Python str.lower() / str.upper() on UTF-8 (full mappings: 'İ' lowers to 2 code points,
   'ß' uppers to "SS"). Caller frees. */
char *py_lower(const char *s);
char *py_upper(const char *s);
/* len(s.upper()) in code points, without building the string. */
size_t py_upper_len(const char *s);

/* NFC normalisation (canonical decomposition, reorder, canonical composition). Caller frees. */
char *uni_nfc(const char *s);

#endif
