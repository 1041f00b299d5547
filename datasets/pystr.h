/*
 * pystr.h: the few Python str methods the official scorers and lmms-eval's prompts use,
 * reproduced on UTF-8 strings with Python's semantics: they work on code points, and "space"
 * means str.isspace() (engine/unicode.h), not C's isspace. Every function returns a freshly
 * allocated string the caller frees.
 */
#ifndef SPARSEMM_DATASETS_PYSTR_H
#define SPARSEMM_DATASETS_PYSTR_H

/* s.strip() */
char *pystr_strip(const char *s);
/* " ".join(s.split()): runs of whitespace become one space, none at the ends. */
char *pystr_collapse(const char *s);
/* s.capitalize(): the first code point upper-cased, the rest lower-cased. Python (>= 3.8)
   title-cases the first character; title and upper case differ only for a handful of
   digraphs and ligatures (e.g. U+01C6, U+FB01), which never start a benchmark question. */
char *pystr_capitalize(const char *s);
/* s.replace(from, to) for a non-empty `from`. */
char *pystr_replace(const char *s, const char *from, const char *to);

#endif
