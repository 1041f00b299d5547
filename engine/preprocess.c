/*
 * preprocess.c: reading preprocessor_config.json into a struct image_processor, dispatching
 * one image to its pipeline, and the last step every pipeline shares: rescale and normalise
 * into channel-first floats.
 *
 * The arithmetic is transformers' (research/models.md 0.8, image_transforms.py rescale and
 * normalize): rescale multiplies the uint8 value by rescale_factor in float64 and casts to
 * float32; normalise subtracts and divides in float32 with mean and std cast to float32.
 * Doing either in another precision would move values by one ulp and break the 1e-6 golden
 * comparison for no benefit.
 */
#include "engine/preprocess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/json.h"

/* OPENAI_CLIP_MEAN / OPENAI_CLIP_STD (transformers image_utils.py), the class defaults of all
   four processors. */
static const double clip_mean[3] = {0.48145466, 0.4578275, 0.40821073};
static const double clip_std[3] = {0.26862954, 0.26130258, 0.27577711};

/* transformers' LlavaNextImageProcessor.image_grid_pinpoints default, (height, width). */
static const int default_pinpoints[5][2] = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};

struct kind_name {
    const char *name;
    enum image_processor_kind kind;
    int llava_pad; /* do_pad means pad-to-square */
};

static const struct kind_name image_processor_types[] = {
    {"CLIPImageProcessor", IMGPROC_CLIP, 0},
    {"CLIPFeatureExtractor", IMGPROC_CLIP, 0},
    {"LlavaImageProcessor", IMGPROC_CLIP, 1},
    {"LlavaNextImageProcessor", IMGPROC_LLAVA_NEXT, 0},
    {"Qwen2VLImageProcessor", IMGPROC_QWEN2_VL, 0},
};

static const struct kind_name processor_classes[] = {
    {"LlavaProcessor", IMGPROC_CLIP, 0},
    {"LlavaNextProcessor", IMGPROC_LLAVA_NEXT, 0},
    {"Qwen2VLProcessor", IMGPROC_QWEN2_VL, 0},
};

/* Match name against table, allowing the "Fast" / "Pil" suffixes of transformers' backends. */
static const struct kind_name *find_kind(const char *name, const struct kind_name *table, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(table[i].name);
        if (strncmp(name, table[i].name, len) != 0) continue;
        const char *rest = name + len;
        if (!*rest || !strcmp(rest, "Fast") || !strcmp(rest, "Pil")) return &table[i];
    }
    return NULL;
}

static int resolve_kind(struct image_processor *p, const cJSON *root, const char *path, struct error *err) {
    const char *type = json_str(root, "image_processor_type", NULL);
    const char *key = "image_processor_type";
    const struct kind_name *k = NULL;
    if (!type) {
        type = json_str(root, "feature_extractor_type", NULL);
        key = "feature_extractor_type";
    }
    if (type) {
        k = find_kind(type, image_processor_types, sizeof image_processor_types / sizeof image_processor_types[0]);
    } else if ((type = json_str(root, "processor_class", NULL))) {
        key = "processor_class";
        k = find_kind(type, processor_classes, sizeof processor_classes / sizeof processor_classes[0]);
    } else {
        return error_set(err, "%s: none of image_processor_type, feature_extractor_type, processor_class is set",
                         path);
    }
    if (!k)
        return error_set(err, "%s: unsupported %s \"%s\" (supported: CLIPImageProcessor, LlavaImageProcessor, "
                              "LlavaNextImageProcessor, Qwen2VLImageProcessor)",
                         path, key, type);
    p->kind = k->kind;
    snprintf(p->type, sizeof p->type, "%s", type);
    return k->llava_pad;
}

/* A positive integer field, or def when absent. */
static int positive_int(const cJSON *obj, const char *key, int def, const char *where, int *out, struct error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9 || v->valuedouble != (int)v->valuedouble)
        return error_set(err, "%s: field '%s' must be a positive integer", where, key);
    *out = (int)v->valuedouble;
    return 0;
}

/* size / crop_size: an int n means {"shortest_edge": n} for size and {"height": n, "width": n}
   for crop_size (transformers get_size_dict with default_to_square False / True). */
static int parse_size(struct image_processor *p, const cJSON *root, const char *path, struct error *err) {
    char where[600];
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(root, "size");
    if (cJSON_IsNumber(size)) {
        if (positive_int(root, "size", 0, path, &p->shortest_edge, err)) return -1;
    } else if (cJSON_IsObject(size)) {
        snprintf(where, sizeof where, "%s: size", path);
        if (positive_int(size, "shortest_edge", p->shortest_edge, where, &p->shortest_edge, err) ||
            positive_int(size, "height", 0, where, &p->size_h, err) ||
            positive_int(size, "width", 0, where, &p->size_w, err))
            return -1;
        if (p->kind == IMGPROC_QWEN2_VL &&
            (positive_int(size, "shortest_edge", p->min_pixels, where, &p->min_pixels, err) ||
             positive_int(size, "longest_edge", p->max_pixels, where, &p->max_pixels, err)))
            return -1;
        if (!p->size_h != !p->size_w) return error_set(err, "%s: give both height and width, or neither", where);
    } else if (size && !cJSON_IsNull(size)) {
        return error_set(err, "%s: field 'size' must be a number or an object", path);
    }
    const cJSON *crop = cJSON_GetObjectItemCaseSensitive(root, "crop_size");
    if (cJSON_IsNumber(crop)) {
        if (positive_int(root, "crop_size", 0, path, &p->crop_h, err)) return -1;
        p->crop_w = p->crop_h;
    } else if (cJSON_IsObject(crop)) {
        snprintf(where, sizeof where, "%s: crop_size", path);
        if (positive_int(crop, "height", p->crop_h, where, &p->crop_h, err) ||
            positive_int(crop, "width", p->crop_w, where, &p->crop_w, err))
            return -1;
    } else if (crop && !cJSON_IsNull(crop)) {
        return error_set(err, "%s: field 'crop_size' must be a number or an object", path);
    }
    return 0;
}

/* image_mean / image_std: three numbers (or one, broadcast). mean_d keeps the float64 values
   for the pad colour. */
static int parse_triple(const cJSON *root, const char *key, const double def[3], double out[3], const char *path,
                        struct error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        memcpy(out, def, 3 * sizeof(double));
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        out[0] = out[1] = out[2] = v->valuedouble;
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3)
        return error_set(err, "%s: field '%s' must be a list of 3 numbers", path, key);
    for (int c = 0; c < 3; c++) {
        const cJSON *x = cJSON_GetArrayItem(v, c);
        if (!cJSON_IsNumber(x)) return error_set(err, "%s: field '%s'[%d] is not a number", path, key, c);
        out[c] = x->valuedouble;
    }
    return 0;
}

static int parse_pinpoints(struct image_processor *p, const cJSON *root, const char *path, struct error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "image_grid_pinpoints");
    if (!v || cJSON_IsNull(v)) {
        p->n_pinpoints = 5;
        memcpy(p->pinpoints, default_pinpoints, sizeof default_pinpoints);
        return 0;
    }
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n < 1 || n > 32)
        return error_set(err, "%s: image_grid_pinpoints must be a list of 1 to 32 [height, width] pairs", path);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(v, i);
        const cJSON *h = cJSON_GetArrayItem(e, 0), *w = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsNumber(h) || !cJSON_IsNumber(w) ||
            h->valuedouble < 1 || w->valuedouble < 1 || h->valuedouble > 1e6 || w->valuedouble > 1e6)
            return error_set(err, "%s: image_grid_pinpoints[%d] is not a [height, width] pair of positive numbers",
                             path, i);
        p->pinpoints[i][0] = (int)h->valuedouble;
        p->pinpoints[i][1] = (int)w->valuedouble;
    }
    p->n_pinpoints = n;
    return 0;
}

static void set_defaults(struct image_processor *p) {
    /* transformers' class attributes (CLIPImageProcessor and friends; Qwen2VLImageProcessor). */
    p->do_resize = p->do_center_crop = p->do_rescale = p->do_normalize = p->do_convert_rgb = 1;
    p->shortest_edge = 224;
    p->crop_h = p->crop_w = 224;
    p->rescale_factor = 1.0 / 255;
    p->min_pixels = 56 * 56;
    p->max_pixels = 28 * 28 * 1280;
    p->patch_size = 14;
    p->merge_size = 2;
    p->temporal_patch_size = 2;
}

static int parse(struct image_processor *p, const cJSON *root, const char *path, struct error *err) {
    memset(p, 0, sizeof *p);
    set_defaults(p);
    int llava_pad = resolve_kind(p, root, path, err);
    if (llava_pad < 0) return -1;
    if (p->kind == IMGPROC_QWEN2_VL) p->do_center_crop = 0;
    p->do_resize = json_bool(root, "do_resize", p->do_resize);
    p->do_center_crop = json_bool(root, "do_center_crop", p->do_center_crop);
    p->do_rescale = json_bool(root, "do_rescale", p->do_rescale);
    p->do_normalize = json_bool(root, "do_normalize", p->do_normalize);
    p->do_convert_rgb = json_bool(root, "do_convert_rgb", p->do_convert_rgb);
    p->do_pad = llava_pad && json_bool(root, "do_pad", 0);
    p->rescale_factor = json_num(root, "rescale_factor", p->rescale_factor);
    int resample;
    if (positive_int(root, "resample", 3, path, &resample, err)) return -1;
    if (resample != 3)
        return error_set(err, "%s: resample %d is not supported (only 3, PIL BICUBIC, which all supported models use)",
                         path, resample);
    if (parse_size(p, root, path, err)) return -1;
    if (positive_int(root, "min_pixels", p->min_pixels, path, &p->min_pixels, err) ||
        positive_int(root, "max_pixels", p->max_pixels, path, &p->max_pixels, err) ||
        positive_int(root, "patch_size", p->patch_size, path, &p->patch_size, err) ||
        positive_int(root, "merge_size", p->merge_size, path, &p->merge_size, err) ||
        positive_int(root, "temporal_patch_size", p->temporal_patch_size, path, &p->temporal_patch_size, err))
        return -1;
    if (p->patch_size > 1024 || p->merge_size > 64 || p->temporal_patch_size > 64)
        return error_set(err, "%s: patch_size %d / merge_size %d / temporal_patch_size %d out of range", path,
                         p->patch_size, p->merge_size, p->temporal_patch_size);
    double mean[3], std[3];
    if (parse_triple(root, "image_mean", clip_mean, mean, path, err) ||
        parse_triple(root, "image_std", clip_std, std, path, err))
        return -1;
    for (int c = 0; c < 3; c++) {
        if (std[c] == 0) return error_set(err, "%s: image_std[%d] is zero", path, c);
        p->mean[c] = (float)mean[c];
        p->std[c] = (float)std[c];
        /* tuple(int(x * 255) for x in image_mean): truncation, clamped to a byte */
        double fill = mean[c] * 255;
        p->pad_rgb[c] = (uint8_t)(fill <= 0 ? 0 : fill >= 255 ? 255 : (int)fill);
    }
    if (p->kind == IMGPROC_LLAVA_NEXT && parse_pinpoints(p, root, path, err)) return -1;
    return 0;
}

int image_processor_load(struct image_processor *p, const char *path, struct error *err) {
    cJSON *root = json_load_file(path, err);
    if (!root) return -1;
    int rc = cJSON_IsObject(root) ? parse(p, root, path, err) : error_set(err, "%s: expected a JSON object", path);
    cJSON_Delete(root);
    return rc;
}

int image_processor_run(const struct image_processor *p, const struct image *img, struct pixel_values *out,
                        struct error *err) {
    if (img->w <= 0 || img->h <= 0 || !img->rgb)
        return error_set(err, "%s: empty image (%dx%d)", p->type, img->w, img->h);
    memset(out, 0, sizeof *out);
    int rc;
    switch (p->kind) {
    case IMGPROC_CLIP: rc = preprocess_clip(p, img, out, err); break;
    case IMGPROC_LLAVA_NEXT: rc = preprocess_llava_next(p, img, out, err); break;
    case IMGPROC_QWEN2_VL: rc = preprocess_qwen2vl(p, img, out, err); break;
    default: rc = error_set(err, "image processor of unknown kind %d", (int)p->kind);
    }
    if (rc) {
        pixel_values_free(out);
        return error_wrap(err, "%s on a %dx%d image", p->type, img->w, img->h);
    }
    out->orig_w = img->w;
    out->orig_h = img->h;
    return 0;
}

void pixel_values_free(struct pixel_values *pv) {
    if (!pv) return;
    free(pv->data);
    pv->data = NULL;
}

void preprocess_to_chw(const struct image_processor *p, const struct image *img, float *out) {
    size_t n = (size_t)img->w * img->h;
    for (int c = 0; c < 3; c++) {
        float *o = out + (size_t)c * n;
        const uint8_t *in = img->rgb + c;
        for (size_t i = 0; i < n; i++) {
            float v = p->do_rescale ? (float)((double)in[3 * i] * p->rescale_factor) : (float)in[3 * i];
            o[i] = p->do_normalize ? (v - p->mean[c]) / p->std[c] : v;
        }
    }
}
