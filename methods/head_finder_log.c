/*
 * head_finder_log.c: see head_finder_log.h. Scores are written by cJSON, which prints a double
 * with 17 significant digits whenever 15 do not read back to the same value, so a resumed run
 * gives the same bits as an uninterrupted one.
 */
#include "methods/head_finder_log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void keep(struct head_log *log, const char *key, double *score, int generated, int matched, int hits) {
    if (log->n == log->cap) {
        log->cap = log->cap ? 2 * log->cap : 64;
        log->entries = xrealloc(log->entries, sizeof *log->entries * (size_t)log->cap);
    }
    log->entries[log->n++] = (struct head_log_entry){xstrdup(key), score, generated, matched, hits};
}

/* The header's config against this run's: the first field that differs, named with both values. */
static int check_config(const char *path, const cJSON *stored, const cJSON *want, struct error *err) {
    if (!cJSON_IsObject(stored)) return error_set(err, "%s: line 1: no \"config\" object", path);
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(stored, w->string);
        if (s && cJSON_Compare(s, w, 1)) continue;
        char *sv = s ? cJSON_PrintUnformatted(s) : xstrdup("(absent)"), *wv = cJSON_PrintUnformatted(w);
        error_set(err, "%s was written with %s = %s, this run has %s: delete it to start over, or run with the "
                       "same settings to continue",
                  path, w->string, sv, wv);
        cJSON_free(sv);
        cJSON_free(wv);
        return -1;
    }
    return 0;
}

/* One sample line (lineno 1-based, for messages). */
static int parse_entry(struct head_log *log, const char *text, size_t len, int lineno, struct error *err) {
    char *where = xasprintf("%s: line %d", log->path, lineno);
    cJSON *o = json_parse(text, len, where, err);
    int rc = -1;
    const char *key;
    long long gen, matched, hits;
    const cJSON *scores = o ? cJSON_GetObjectItemCaseSensitive(o, "scores") : NULL;
    const int n = log->n_layers * log->n_heads;
    if (!o || json_req_str(o, "key", where, &key, err) || json_req_int(o, "generated", where, &gen, err) ||
        json_req_int(o, "matched", where, &matched, err) || json_req_int(o, "hits", where, &hits, err))
        goto done;
    if (!cJSON_IsArray(scores) || cJSON_GetArraySize(scores) != n) {
        error_set(err, "%s: field 'scores' is not a list of %d numbers (%d layers x %d heads)", where, n,
                  log->n_layers, log->n_heads);
        goto done;
    }
    if (head_log_find(log, key)) { /* never written twice; a hand-edited copy keeps its first */
        rc = 0;
        goto done;
    }
    double *score = xmalloc(sizeof *score * (size_t)n);
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, scores) {
        if (!cJSON_IsNumber(v)) {
            free(score);
            error_set(err, "%s: field 'scores': item %d is not a number", where, i);
            goto done;
        }
        score[i++] = v->valuedouble;
    }
    keep(log, key, score, (int)gen, (int)matched, (int)hits);
    rc = 0;
done:
    cJSON_Delete(o);
    free(where);
    return rc;
}

/* Read an existing log; *valid gets the length of its complete lines. */
static int load(struct head_log *log, const cJSON *config, size_t *valid, struct error *err) {
    char *data;
    size_t len;
    if (read_file(log->path, &data, &len, err)) return -1;
    *valid = len;
    while (*valid > 0 && data[*valid - 1] != '\n') (*valid)--;
    int rc = 0, lineno = 0;
    for (size_t pos = 0; pos < *valid && !rc;) {
        const char *nl = memchr(data + pos, '\n', *valid - pos);
        size_t n = (size_t)(nl - (data + pos));
        lineno++;
        if (lineno == 1) {
            char *where = xasprintf("%s: line 1", log->path);
            cJSON *h = json_parse(data + pos, n, where, err);
            free(where);
            if (!h) rc = -1;
            else if (json_int(h, "sparsemm_heads_log", 0) != HEAD_LOG_VERSION)
                rc = error_set(err, "%s: not a head-finder log of version %d (line 1 lacks \"sparsemm_heads_log\": %d)",
                               log->path, HEAD_LOG_VERSION, HEAD_LOG_VERSION);
            else rc = check_config(log->path, cJSON_GetObjectItemCaseSensitive(h, "config"), config, err);
            cJSON_Delete(h);
        } else if (n > 0) {
            rc = parse_entry(log, data + pos, n, lineno, err);
        }
        pos += n + 1;
    }
    free(data);
    return rc;
}

static int write_line(struct head_log *log, cJSON *o, struct error *err) {
    char *text = cJSON_PrintUnformatted(o);
    size_t n = strlen(text);
    text[n] = '\n'; /* one write per line: a kill leaves at most this line unterminated */
    int bad = fwrite(text, 1, n + 1, log->f) != n + 1 || fflush(log->f) || fsync(fileno(log->f));
    text[n] = 0;
    cJSON_free(text);
    return bad ? error_set(err, "%s: write failed", log->path) : 0;
}

int head_log_open(struct head_log *log, const char *path, const cJSON *config, int n_layers, int n_heads,
                  struct error *err) {
    memset(log, 0, sizeof *log);
    log->path = xstrdup(path);
    log->n_layers = n_layers;
    log->n_heads = n_heads;
    size_t valid = 0;
    const int exists = file_exists(path);
    if (exists && load(log, config, &valid, err)) {
        head_log_close(log);
        return -1;
    }
    if (exists && truncate(path, (off_t)valid)) {
        error_set(err, "%s: cannot cut off its unfinished last line", path);
        head_log_close(log);
        return -1;
    }
    log->f = fopen(path, "a");
    if (!log->f) {
        error_set(err, "%s: cannot open for appending", path);
        head_log_close(log);
        return -1;
    }
    if (valid == 0) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddNumberToObject(h, "sparsemm_heads_log", HEAD_LOG_VERSION);
        cJSON_AddItemToObject(h, "config", cJSON_Duplicate(config, 1));
        int rc = write_line(log, h, err);
        cJSON_Delete(h);
        if (rc) {
            head_log_close(log);
            return -1;
        }
    }
    return 0;
}

const struct head_log_entry *head_log_find(const struct head_log *log, const char *key) {
    for (int i = 0; i < log->n; i++)
        if (!strcmp(log->entries[i].key, key)) return &log->entries[i];
    return NULL;
}

int head_log_append(struct head_log *log, const char *key, const struct head_sample *s, struct error *err) {
    const int n = log->n_layers * log->n_heads;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddNumberToObject(o, "generated", s->n_generated);
    cJSON_AddNumberToObject(o, "matched", s->n_matched);
    cJSON_AddNumberToObject(o, "hits", s->n_hits);
    cJSON_AddItemToObject(o, "scores", cJSON_CreateDoubleArray(s->score, n));
    int rc = write_line(log, o, err);
    cJSON_Delete(o);
    if (rc) return -1;
    double *copy = xmalloc(sizeof *copy * (size_t)n);
    memcpy(copy, s->score, sizeof *copy * (size_t)n);
    keep(log, key, copy, s->n_generated, s->n_matched, s->n_hits);
    return 0;
}

void head_log_close(struct head_log *log) {
    if (!log) return;
    if (log->f) fclose(log->f);
    for (int i = 0; i < log->n; i++) {
        free(log->entries[i].key);
        free(log->entries[i].score);
    }
    free(log->entries);
    free(log->path);
    memset(log, 0, sizeof *log);
}
