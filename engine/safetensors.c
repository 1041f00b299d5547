/* safetensors.c: see safetensors.h. */
#include "engine/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/json.h"

#define ST_MAX_HEADER 100000000ULL /* the reference loader's MAX_HEADER_SIZE */

static int parse_dtype(const char *s, enum dtype *out) {
    if (!strcmp(s, "F32")) *out = DT_F32;
    else if (!strcmp(s, "F16")) *out = DT_F16;
    else if (!strcmp(s, "BF16")) *out = DT_BF16;
    else return -1;
    return 0;
}

static int cmp_offset(const void *a, const void *b) {
    const struct st_tensor *x = *(struct st_tensor *const *)a, *y = *(struct st_tensor *const *)b;
    uintptr_t p = (uintptr_t)x->data, q = (uintptr_t)y->data;
    return p < q ? -1 : p > q;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const struct st_tensor *)a)->name, ((const struct st_tensor *)b)->name);
}

/* Parse one tensor entry of the header. buf = start of the data buffer, buf_len its size. */
static int parse_entry(const cJSON *e, const char *path, const uint8_t *buf, size_t buf_len,
                       struct st_tensor *t, size_t *begin, struct error *err) {
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return error_set(err, "%s: tensor '%s': entry is not an object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) return error_set(err, "%s: tensor '%s': missing dtype", path, name);
    if (parse_dtype(dt->valuestring, &t->dtype))
        return error_set(err, "%s: tensor '%s': unsupported dtype '%s' (supported: F32, F16, BF16)",
                         path, name, dt->valuestring);
    if (!cJSON_IsArray(shape)) return error_set(err, "%s: tensor '%s': missing shape", path, name);
    t->ndim = cJSON_GetArraySize(shape);
    if (t->ndim > ST_MAX_DIMS) return error_set(err, "%s: tensor '%s': %d dims (max %d)", path, name, t->ndim, ST_MAX_DIMS);
    t->numel = 1;
    for (int i = 0; i < t->ndim; i++) {
        const cJSON *d = cJSON_GetArrayItem(shape, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1e15)
            return error_set(err, "%s: tensor '%s': bad shape entry %d", path, name, i);
        t->shape[i] = (int64_t)d->valuedouble;
        t->numel *= t->shape[i];
    }
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return error_set(err, "%s: tensor '%s': data_offsets must be [begin, end]", path, name);
    double b = cJSON_GetArrayItem(offs, 0)->valuedouble, en = cJSON_GetArrayItem(offs, 1)->valuedouble;
    if (b < 0 || en < b || en > (double)buf_len)
        return error_set(err, "%s: tensor '%s': data_offsets [%.0f, %.0f] out of range (buffer holds %zu bytes)",
                         path, name, b, en, buf_len);
    t->nbytes = (size_t)en - (size_t)b;
    if ((size_t)t->numel * dtype_size(t->dtype) != t->nbytes)
        return error_set(err, "%s: tensor '%s': %zu bytes for %lld elements of %s", path, name, t->nbytes,
                         (long long)t->numel, dtype_name(t->dtype));
    t->data = buf + (size_t)b;
    t->name = xstrdup(name);
    *begin = (size_t)b;
    return 0;
}

/* Check that tensors tile the buffer exactly (sorted by offset, no holes, no overlap). */
static int check_tiling(struct st_tensor *ts, int n, const uint8_t *buf, size_t buf_len, const char *path,
                        struct error *err) {
    struct st_tensor **order = xmalloc(sizeof *order * (n ? n : 1));
    for (int i = 0; i < n; i++) order[i] = &ts[i];
    qsort(order, n, sizeof *order, cmp_offset);
    size_t expect = 0;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        size_t begin = (size_t)((const uint8_t *)order[i]->data - buf);
        if (begin != expect)
            rc = error_set(err, "%s: tensor '%s' starts at byte %zu of the buffer, expected %zu (%s)", path,
                           order[i]->name, begin, expect, begin < expect ? "overlap" : "hole");
        expect = begin + order[i]->nbytes;
    }
    if (!rc && expect != buf_len)
        rc = error_set(err, "%s: tensors cover %zu bytes but the buffer holds %zu (truncated or trailing data)",
                       path, expect, buf_len);
    free(order);
    return rc;
}

/* Map a file and append its tensors to st. */
static int add_file(struct safetensors *st, const char *path, struct error *err) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return error_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return error_set(err, "%s: cannot stat", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return error_set(err, "%s: file too short for a safetensors header (%zu bytes)", path, size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return error_set(err, "%s: mmap failed: %s", path, strerror(errno));

    st->files = xrealloc(st->files, sizeof *st->files * (st->n_files + 1));
    int fi = st->n_files++;
    st->files[fi] = (struct st_file){xstrdup(path), map, size};

    const uint8_t *bytes = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | bytes[i];
    if (hlen > ST_MAX_HEADER || hlen > size - 8)
        return error_set(err, "%s: bad header length %llu (file is %zu bytes)", path, (unsigned long long)hlen, size);
    if (hlen == 0 || bytes[8] != '{') return error_set(err, "%s: header does not start with '{'", path);
    cJSON *hdr = json_parse((const char *)bytes + 8, (size_t)hlen, path, err);
    if (!hdr) return -1;
    if (!cJSON_IsObject(hdr)) {
        cJSON_Delete(hdr);
        return error_set(err, "%s: header is not a JSON object", path);
    }
    const uint8_t *buf = bytes + 8 + hlen;
    size_t buf_len = size - 8 - (size_t)hlen;
    int first = st->n_tensors, rc = 0;
    for (const cJSON *e = hdr->child; e && !rc; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) continue;
        st->tensors = xrealloc(st->tensors, sizeof *st->tensors * (st->n_tensors + 1));
        struct st_tensor *t = &st->tensors[st->n_tensors];
        memset(t, 0, sizeof *t);
        size_t begin;
        rc = parse_entry(e, path, buf, buf_len, t, &begin, err);
        if (!rc) {
            t->file = fi;
            st->n_tensors++;
        }
    }
    cJSON_Delete(hdr);
    if (!rc) rc = check_tiling(st->tensors + first, st->n_tensors - first, buf, buf_len, path, err);
    return rc;
}

static int finish(struct safetensors *st, struct error *err) {
    qsort(st->tensors, st->n_tensors, sizeof *st->tensors, cmp_name);
    for (int i = 1; i < st->n_tensors; i++)
        if (!strcmp(st->tensors[i].name, st->tensors[i - 1].name))
            return error_set(err, "tensor '%s' appears twice (%s and %s)", st->tensors[i].name,
                             st->files[st->tensors[i - 1].file].path, st->files[st->tensors[i].file].path);
    return 0;
}

int st_open_file(struct safetensors *st, const char *path, struct error *err) {
    memset(st, 0, sizeof *st);
    if (add_file(st, path, err) || finish(st, err)) {
        st_close(st);
        return -1;
    }
    return 0;
}

/* Shards named in the index, each once, in first-seen order. */
static int index_shards(const cJSON *map, const char *index_path, char ***names, int *n, struct error *err) {
    *names = NULL;
    *n = 0;
    for (const cJSON *e = map->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return error_set(err, "%s: weight_map['%s'] is not a file name", index_path, e->string);
        int seen = 0;
        for (int i = 0; i < *n && !seen; i++) seen = !strcmp((*names)[i], e->valuestring);
        if (seen) continue;
        if (strchr(e->valuestring, '/'))
            return error_set(err, "%s: shard name '%s' must be a file in the same directory", index_path, e->valuestring);
        *names = xrealloc(*names, sizeof **names * (*n + 1));
        (*names)[(*n)++] = e->valuestring;
    }
    return 0;
}

static int open_index(struct safetensors *st, const char *dir, const char *index_path, struct error *err) {
    cJSON *idx = json_load_file(index_path, err);
    if (!idx) return -1;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(idx, "weight_map");
    char **shards = NULL;
    int n = 0, rc = 0;
    if (!cJSON_IsObject(map)) rc = error_set(err, "%s: field 'weight_map' missing", index_path);
    if (!rc) rc = index_shards(map, index_path, &shards, &n, err);
    for (int i = 0; i < n && !rc; i++) {
        char *p = path_join(dir, shards[i]);
        rc = add_file(st, p, err);
        free(p);
    }
    if (!rc) rc = finish(st, err);
    /* Every tensor the index names must be in the shard it names. */
    for (const cJSON *e = map ? map->child : NULL; e && !rc; e = e->next) {
        const struct st_tensor *t = st_find(st, e->string);
        if (!t)
            rc = error_set(err, "%s: tensor '%s' is listed in the index but missing from %s", index_path,
                           e->string, e->valuestring);
        else if (strcmp(strrchr(st->files[t->file].path, '/') ? strrchr(st->files[t->file].path, '/') + 1
                                                              : st->files[t->file].path, e->valuestring))
            rc = error_set(err, "%s: tensor '%s' is in %s, not in %s as the index says", index_path, e->string,
                           st->files[t->file].path, e->valuestring);
    }
    free(shards);
    cJSON_Delete(idx);
    return rc;
}

int st_open_dir(struct safetensors *st, const char *dir, struct error *err) {
    memset(st, 0, sizeof *st);
    char *index = path_join(dir, "model.safetensors.index.json");
    int rc;
    if (file_exists(index)) {
        rc = open_index(st, dir, index, err);
    } else {
        char *single = path_join(dir, "model.safetensors");
        if (file_exists(single)) {
            rc = add_file(st, single, err);
            if (!rc) rc = finish(st, err);
        } else {
            rc = error_set(err, "%s: no model.safetensors.index.json or model.safetensors", dir);
        }
        free(single);
    }
    free(index);
    if (rc) st_close(st);
    return rc;
}

void st_close(struct safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    for (int i = 0; i < st->n_files; i++) {
        if (st->files[i].map) munmap(st->files[i].map, st->files[i].size);
        free(st->files[i].path);
    }
    free(st->files);
    memset(st, 0, sizeof *st);
}

const struct st_tensor *st_find(const struct safetensors *st, const char *name) {
    struct st_tensor key = {.name = (char *)name};
    return bsearch(&key, st->tensors, st->n_tensors, sizeof key, cmp_name);
}

static void shape_str(char *out, size_t n, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(out, n, "[");
    for (int i = 0; i < ndim && k < n; i++) k += (size_t)snprintf(out + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(out + k, n - k, "]");
}

int st_get(const struct safetensors *st, const char *name, int ndim, const int64_t *shape,
           const struct st_tensor **out, struct error *err) {
    const struct st_tensor *t = st_find(st, name);
    if (!t) {
        const char *where = st->n_files == 1 ? st->files[0].path : "the checkpoint's shards";
        return error_set(err, "tensor '%s' missing from %s", name, where);
    }
    int ok = t->ndim == ndim;
    for (int i = 0; i < ndim && ok; i++) ok = shape[i] < 0 || shape[i] == t->shape[i];
    if (!ok) {
        char want[128], got[128];
        shape_str(want, sizeof want, ndim, shape);
        shape_str(got, sizeof got, t->ndim, t->shape);
        return error_set(err, "%s: tensor '%s' has shape %s, expected %s", st->files[t->file].path, name, got, want);
    }
    *out = t;
    return 0;
}

size_t st_total_bytes(const struct safetensors *st) {
    size_t n = 0;
    for (int i = 0; i < st->n_tensors; i++) n += st->tensors[i].nbytes;
    return n;
}
