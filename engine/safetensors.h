/*
 * safetensors.h: read-only access to *.safetensors files through mmap, single files and
 * sharded checkpoints (model.safetensors.index.json). Tensors are never copied here: a tensor
 * is a pointer into the mapping plus its dtype and shape.
 *
 * Validation follows the reference loader (research/models.md §1): header length sane and within
 * the file, JSON object, every tensor's dtype known, shape * dtype size == END - BEGIN, offsets
 * inside the buffer, tensors contiguous without holes or overlaps, buffer fully used. Any
 * violation is an error naming the file and the tensor.
 */
#ifndef SPARSEMM_SAFETENSORS_H
#define SPARSEMM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "engine/dtype.h"
#include "engine/util.h"

#define ST_MAX_DIMS 8

struct st_tensor {
    char *name;
    enum dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t numel;
    const void *data;   /* into the file's mapping */
    size_t nbytes;
    int file;           /* index into safetensors.files */
};

struct st_file {
    char *path;
    void *map;
    size_t size;
};

struct safetensors {
    int n_files;
    struct st_file *files;
    int n_tensors;
    struct st_tensor *tensors; /* sorted by name, for bsearch */
};

/* Open one .safetensors file. */
int st_open_file(struct safetensors *st, const char *path, struct error *err);
/* Open a model directory: model.safetensors.index.json if present (every shard it lists, and
   every tensor must be where the index says), else model.safetensors. */
int st_open_dir(struct safetensors *st, const char *dir, struct error *err);
void st_close(struct safetensors *st);

/* NULL if absent. */
const struct st_tensor *st_find(const struct safetensors *st, const char *name);
/* Find a tensor and check its shape (ndim entries; -1 = any). Errors name the tensor, the file
   and both shapes. */
int st_get(const struct safetensors *st, const char *name, int ndim, const int64_t *shape,
           const struct st_tensor **out, struct error *err);
/* Total bytes of tensor data. */
size_t st_total_bytes(const struct safetensors *st);

#endif
