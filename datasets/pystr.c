/* pystr.c: see pystr.h. */
#include "datasets/pystr.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine/unicode.h"
#include "engine/util.h"

/* Byte length of the leading whitespace of s[0..n). */
static size_t lead_space(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (!py_is_space(cp)) break;
        i += (size_t)k;
    }
    return i;
}

/* Byte offset just past the last non-space code point of s[0..n). */
static size_t end_nonspace(const char *s, size_t n) {
    size_t end = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        i += (size_t)k;
        if (!py_is_space(cp)) end = i;
    }
    return end;
}

char *pystr_strip(const char *s) {
    size_t n = strlen(s);
    size_t a = lead_space(s, n);
    size_t b = end_nonspace(s, n);
    return b > a ? xstrndup(s + a, b - a) : xstrdup("");
}

char *pystr_collapse(const char *s) {
    size_t n = strlen(s);
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = lead_space(s, n); i < n;) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (py_is_space(cp)) {
            i += lead_space(s + i, n - i);
            if (i < n) out[o++] = ' ';
        } else {
            memcpy(out + o, s + i, (size_t)k);
            o += (size_t)k;
            i += (size_t)k;
        }
    }
    out[o] = 0;
    return out;
}

char *pystr_capitalize(const char *s) {
    size_t n = strlen(s);
    if (n == 0) return xstrdup("");
    uint32_t cp;
    int k = utf8_decode(s, n, &cp);
    char first[5] = {0};
    first[utf8_encode(cp, first)] = 0;
    char *head = py_upper(first);
    char *tail = py_lower(s + k);
    char *out = xasprintf("%s%s", head, tail);
    free(head);
    free(tail);
    return out;
}

char *pystr_replace(const char *s, const char *from, const char *to) {
    size_t nf = strlen(from), nt = strlen(to);
    assert(nf > 0);
    size_t count = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + nf, from)) count++;
    size_t n = strlen(s);
    char *out = xmalloc(n + count * nt + 1);
    char *o = out;
    const char *p = s;
    for (const char *q = strstr(p, from); q; q = strstr(p, from)) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, nt);
        o += nt;
        p = q + nf;
    }
    strcpy(o, p);
    return out;
}
