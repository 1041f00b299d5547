/* head_scores.c: see head_scores.h. */
#include "methods/head_scores.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"

/* numpy's pairwise summation (np.add.reduce on a contiguous float64 array: blocks of up to 128
   summed with 8 running partial sums, larger arrays split in halves at a multiple of 8), so the
   means equal the official np.mean bit for bit and allocations round the same way. */
static double pairwise_sum(const double *a, size_t n) {
    if (n < 8) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += a[i];
        return s;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        size_t i;
        for (i = 8; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) s += a[i];
        return s;
    }
    size_t half = n / 2;
    half -= half % 8;
    return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

void head_scores_means(const struct head_scores *hs, double *out) {
    for (int i = 0; i < hs->n_layers * hs->n_heads; i++)
        out[i] = hs->n_samples
                     ? pairwise_sum(hs->samples + (size_t)i * hs->stride, (size_t)hs->n_samples) / hs->n_samples
                     : 0.0;
}

struct head_scores *head_scores_new(int n_layers, int n_heads) {
    struct head_scores *hs = xcalloc(1, sizeof *hs);
    hs->n_layers = n_layers;
    hs->n_heads = n_heads;
    return hs;
}

void head_scores_free(struct head_scores *hs) {
    if (!hs) return;
    free(hs->samples);
    free(hs);
}

/* Room for at least `want` samples per head; doubling keeps appends amortised O(heads). */
static void reserve(struct head_scores *hs, int want) {
    if (want <= hs->stride) return;
    const int heads = hs->n_layers * hs->n_heads;
    int stride = hs->stride ? hs->stride : 16;
    while (stride < want) stride *= 2;
    double *rows = xmalloc((size_t)heads * stride * sizeof *rows);
    for (int i = 0; i < heads && hs->n_samples; i++)
        memcpy(rows + (size_t)i * stride, hs->samples + (size_t)i * hs->stride, (size_t)hs->n_samples * sizeof *rows);
    free(hs->samples);
    hs->samples = rows;
    hs->stride = stride;
}

void head_scores_add_sample(struct head_scores *hs, const double *score) {
    reserve(hs, hs->n_samples + 1);
    for (int i = 0; i < hs->n_layers * hs->n_heads; i++) hs->samples[(size_t)i * hs->stride + hs->n_samples] = score[i];
    hs->n_samples++;
}

/* "12-7" -> 12, 7. Strict: two non-negative decimal integers joined by one '-'. */
static int parse_key(const char *key, int *layer, int *head) {
    const char *p = key;
    long v[2];
    for (int part = 0; part < 2; part++) {
        if (!isdigit((unsigned char)*p)) return -1;
        char *end;
        v[part] = strtol(p, &end, 10);
        if (v[part] > 4095) return -1; /* no model has more layers or heads; bounds the table */
        p = end;
        if (part == 0 && *p++ != '-') return -1;
    }
    if (*p) return -1;
    *layer = (int)v[0];
    *head = (int)v[1];
    return 0;
}

/* First pass: the shape from the largest layer and head indices, and the samples per head.
   The number of keys must match the shape before anything that size is allocated. */
static int scan_shape(const cJSON *root, const char *path, int *n_layers, int *n_heads, int *n_samples,
                      struct error *err) {
    int max_l = -1, max_h = -1, count = -1, n_keys = 0;
    const char *count_key = NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        int l, h;
        if (parse_key(item->string, &l, &h))
            return error_set(err, "%s: key '%s' is not \"layer-head\"", path, item->string);
        if (!cJSON_IsArray(item))
            return error_set(err, "%s: key '%s': expected a list of per-sample scores", path, item->string);
        int size = cJSON_GetArraySize(item);
        if (size == 0) return error_set(err, "%s: key '%s' has no scores", path, item->string);
        if (count >= 0 && size != count)
            return error_set(err, "%s: key '%s' has %d scores but key '%s' has %d", path, item->string, size,
                             count_key, count);
        count = size;
        count_key = item->string;
        if (l > max_l) max_l = l;
        if (h > max_h) max_h = h;
        n_keys++;
    }
    if (count < 0) return error_set(err, "%s: no head scores", path);
    if ((long long)(max_l + 1) * (max_h + 1) != n_keys)
        return error_set(err, "%s: %d keys, but layers 0-%d x heads 0-%d make %lld heads", path, n_keys, max_l, max_h,
                         (long long)(max_l + 1) * (max_h + 1));
    *n_layers = max_l + 1;
    *n_heads = max_h + 1;
    *n_samples = count;
    return 0;
}

static int fill_scores(const cJSON *root, const char *path, struct head_scores *hs, struct error *err) {
    const int heads = hs->n_layers * hs->n_heads;
    char *seen = xcalloc((size_t)heads, 1);
    const cJSON *item;
    int rc = 0;
    cJSON_ArrayForEach(item, root) {
        int l, h;
        parse_key(item->string, &l, &h);
        const int i = l * hs->n_heads + h;
        if (seen[i]) { rc = error_set(err, "%s: head '%s' appears twice", path, item->string); break; }
        seen[i] = 1;
        int s = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, item) {
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0) {
                rc = error_set(err, "%s: key '%s' sample %d: expected a finite score >= 0", path, item->string, s);
                break;
            }
            hs->samples[(size_t)i * hs->stride + s++] = v->valuedouble;
        }
        if (rc) break;
    }
    for (int i = 0; !rc && i < heads; i++)
        if (!seen[i])
            rc = error_set(err, "%s: head '%d-%d' is missing (the keys span %d layers x %d heads)", path,
                           i / hs->n_heads, i % hs->n_heads, hs->n_layers, hs->n_heads);
    free(seen);
    return rc;
}

int head_scores_load(const char *path, struct head_scores **out, struct error *err) {
    *out = NULL;
    cJSON *root = json_load_file(path, err);
    if (!root) return -1;
    int n_layers = 0, n_heads = 0, n_samples = 0;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return error_set(err, "%s: expected a JSON object of \"layer-head\": [scores]", path);
    }
    if (scan_shape(root, path, &n_layers, &n_heads, &n_samples, err)) {
        cJSON_Delete(root);
        return -1;
    }
    struct head_scores *hs = head_scores_new(n_layers, n_heads);
    reserve(hs, n_samples);
    hs->n_samples = n_samples;
    int rc = fill_scores(root, path, hs, err);
    cJSON_Delete(root);
    if (rc) {
        head_scores_free(hs);
        return -1;
    }
    *out = hs;
    return 0;
}

int head_scores_save(const struct head_scores *hs, const char *path, struct error *err) {
    if (!hs->n_samples) return error_set(err, "%s: no samples to write", path);
    cJSON *root = cJSON_CreateObject();
    for (int l = 0; l < hs->n_layers; l++)
        for (int h = 0; h < hs->n_heads; h++) {
            char key[32];
            snprintf(key, sizeof key, "%d-%d", l, h);
            const double *row = hs->samples + ((size_t)l * hs->n_heads + h) * hs->stride;
            cJSON_AddItemToObject(root, key, cJSON_CreateDoubleArray(row, hs->n_samples));
        }
    int rc = json_save_file(root, path, 0, err);
    cJSON_Delete(root);
    return rc;
}

int head_scores_check_shape(const struct head_scores *hs, const char *what, int n_layers, int n_heads,
                            struct error *err) {
    if (hs->n_layers == n_layers && hs->n_heads == n_heads) return 0;
    return error_set(err, "%s: %d layers x %d heads of scores, but the model has %d layers x %d query heads",
                     what, hs->n_layers, hs->n_heads, n_layers, n_heads);
}
