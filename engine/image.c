/*
 * image.c: the image value itself (allocation, copies, reframing) and the format-neutral
 * entry points: image_load reads a file and image_load_mem picks the decoder by magic bytes,
 * never by file extension, as PIL's Image.open does.
 */
#include "engine/image.h"

#include <stdlib.h>
#include <string.h>

void image_alloc(struct image *img, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
    size_t n = (size_t)w * (size_t)h;
    img->w = w;
    img->h = h;
    img->rgb = xmalloc(n * 3);
    if (r == g && g == b) {
        memset(img->rgb, r, n * 3);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        img->rgb[3 * i + 0] = r;
        img->rgb[3 * i + 1] = g;
        img->rgb[3 * i + 2] = b;
    }
}

void image_free(struct image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->w = img->h = 0;
}

void image_copy(const struct image *src, struct image *dst) {
    size_t n = (size_t)src->w * (size_t)src->h * 3;
    dst->w = src->w;
    dst->h = src->h;
    dst->rgb = xmalloc(n);
    memcpy(dst->rgb, src->rgb, n);
}

void image_reframe(const struct image *src, struct image *dst, int w, int h, int x, int y, const uint8_t fill[3]) {
    image_alloc(dst, w, h, fill[0], fill[1], fill[2]);
    /* Intersection of the pasted rectangle [x, x+src->w) x [y, y+src->h) with the canvas. */
    int x0 = x > 0 ? x : 0, y0 = y > 0 ? y : 0;
    int x1 = x + src->w < w ? x + src->w : w;
    int y1 = y + src->h < h ? y + src->h : h;
    if (x1 <= x0 || y1 <= y0) return;
    size_t row_bytes = (size_t)(x1 - x0) * 3;
    for (int yy = y0; yy < y1; yy++) {
        const uint8_t *s = src->rgb + ((size_t)(yy - y) * src->w + (x0 - x)) * 3;
        memcpy(dst->rgb + ((size_t)yy * w + x0) * 3, s, row_bytes);
    }
}

int image_load_mem(struct image *img, const void *data, size_t len, const char *what, struct error *err) {
    const uint8_t *p = data;
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return image_decode_jpeg(img, data, len, what, err);
    if (len >= 8 && memcmp(p, png_magic, 8) == 0)
        return image_decode_png(img, data, len, what, err);
    if (len == 0) return error_set(err, "%s: empty file, expected a JPEG or PNG image", what);
    return error_set(err, "%s: not a JPEG or PNG image (unrecognised first bytes %02x %02x %02x %02x)", what,
                     p[0], len > 1 ? p[1] : 0, len > 2 ? p[2] : 0, len > 3 ? p[3] : 0);
}

int image_load(struct image *img, const char *path, struct error *err) {
    char *data;
    size_t len;
    if (read_file(path, &data, &len, err)) return -1;
    int rc = image_load_mem(img, data, len, path, err);
    free(data);
    return rc;
}
