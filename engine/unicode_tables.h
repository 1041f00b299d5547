/*
 * unicode_tables.h: the tables behind engine/unicode.c, generated from Python 3.11.7's unicodedata
 * (Unicode 14.0.0) by tools/unicode/gen_tables.py. Do not edit; re-run the script.
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
