/*
 * util.h: the few things every module needs: an error value with a message, checked
 * allocation, whole-file reads, wall-clock time and the process's peak memory.
 *
 * Errors follow one convention across the project: a function that can fail on bad input
 * returns 0 on success and -1 on failure, after writing a message into a caller-owned
 * `struct error` that names the file, field or shape at fault. The CLI prints the message and
 * exits non-zero. Programmer errors (broken invariants) abort via assert; out-of-memory aborts
 * with a message in xmalloc, since nothing sensible can continue.
 */
#ifndef SPARSEMM_UTIL_H
#define SPARSEMM_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct error {
    char msg[1024];
};

/* printf-style: fill err (may be NULL) and return -1, so callers can `return error_set(...)`. */
int error_set(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix an existing message with more context: "context: old message". Returns -1. */
int error_wrap(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file into a NUL-terminated buffer; *len gets the size without the NUL.
   Caller frees. */
int read_file(const char *path, char **data, size_t *len, struct error *err);
int file_exists(const char *path);
/* dir + "/" + name, caller frees. */
char *path_join(const char *dir, const char *name);
/* Directory part of a path ("." if none), caller frees. */
char *path_dirname(const char *path);

double now_ms(void);
/* Peak resident set size of this process so far, in bytes (VmHWM). */
int64_t peak_rss_bytes(void);
/* Current resident set size in bytes (VmRSS). */
int64_t current_rss_bytes(void);

/* 64-bit FNV-1a, for configuration hashes (not for security). */
uint64_t fnv1a64(const void *data, size_t n, uint64_t seed);
#define FNV1A64_INIT 0xcbf29ce484222325ULL
/* Hash a whole file's bytes; 0 on error. */
int hash_file(const char *path, uint64_t *out, struct error *err);

#endif
