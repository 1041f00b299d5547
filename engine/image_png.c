/*
 * image_png.c: PNG in and out through libpng, giving the pixels of PIL's
 * Image.open(f).convert("RGB").
 *
 * libpng is asked for the stored samples untouched (no gamma, no tRNS expansion, no 16-to-8
 * scaling); the conversion to RGB is done here, one rule per PNG colour type, each one what
 * Pillow's PngImagePlugin modes and Convert.c do (checked against PIL in tests/test_image.c):
 *   gray 1/2/4-bit   "1", "L;2", "L;4": values scaled by 255, 85, 17, then replicated
 *   gray 8-bit       "L": replicated
 *   gray 16-bit      "I;16": values above 255 clamp to 255 (Pillow's I;16 -> RGB), not >> 8
 *   gray+alpha       "LA" (16-bit: the high byte): gray replicated, alpha dropped
 *   RGB, RGBA        the high byte of 16-bit samples; alpha dropped, never composited
 *   palette          expanded through PLTE; tRNS ignored (convert("RGB") drops it)
 * Gamma (gAMA), colour profiles (iCCP, sRGB) and sBIT are ignored, as PIL ignores them.
 */
#include "engine/image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

struct png_src {
    const uint8_t *data;
    size_t len, off;
};

struct png_err {
    char msg[256];
};

static void on_png_error(png_structp png, png_const_charp msg) {
    struct png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void read_from_memory(png_structp png, png_bytep out, png_size_t n) {
    struct png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->off) png_error(png, "data ends before the image does (truncated file)");
    memcpy(out, s->data + s->off, n);
    s->off += n;
}

/* The palette as PIL holds it: PLTE entries, and black beyond them. palette: [256][3]. */
static void read_palette(png_structp png, png_infop info, uint8_t palette[256][3]) {
    png_colorp plte = NULL;
    int n = 0;
    memset(palette, 0, 256 * 3);
    if (!png_get_PLTE(png, info, &plte, &n)) return;
    for (int i = 0; i < n && i < 256; i++) {
        palette[i][0] = plte[i].red;
        palette[i][1] = plte[i].green;
        palette[i][2] = plte[i].blue;
    }
}

/* One decoded row (after png_set_packing: one byte per sample below 8 bits, big-endian pairs
   at 16 bits) to RGB. row: [w][channels * bytes per sample] -> out: [w][3]. */
static void row_to_rgb(const uint8_t *row, uint8_t *out, int w, int color_type, int depth,
                       const uint8_t palette[256][3]) {
    int bps = depth == 16 ? 2 : 1; /* bytes per sample */
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
        for (int x = 0; x < w; x++) {
            int v;
            if (depth == 16) v = row[2 * x] ? 255 : row[2 * x + 1];
            else v = row[x] * (depth == 1 ? 255 : depth == 2 ? 85 : depth == 4 ? 17 : 1);
            out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = (uint8_t)v;
        }
        break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        for (int x = 0; x < w; x++) out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = row[2 * bps * x];
        break;
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_RGB_ALPHA: {
        int stride = (color_type == PNG_COLOR_TYPE_RGB ? 3 : 4) * bps;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) out[3 * x + c] = row[stride * x + bps * c];
        break;
    }
    case PNG_COLOR_TYPE_PALETTE:
        for (int x = 0; x < w; x++) memcpy(out + 3 * x, palette[row[x]], 3);
        break;
    }
}

int image_decode_png(struct image *img, const void *data, size_t len, const char *what, struct error *err) {
    struct png_src src = {data, len, 0};
    struct png_err perr = {""};
    uint8_t palette[256][3];
    uint8_t *volatile raw = NULL; /* volatile: freed after a longjmp */
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    png_infop info = NULL;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &perr, on_png_error, on_png_warning);
    if (!png) return error_set(err, "%s: cannot initialise libpng", what);
    info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(raw);
        free(pixels);
        free(rows);
        return error_set(err, "%s: corrupt PNG: %s", what, perr.msg[0] ? perr.msg : "out of memory");
    }
    png_set_read_fn(png, &src, read_from_memory);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), color_type = png_get_color_type(png, info);
    if ((long long)w * h > IMAGE_MAX_PIXELS)
        png_error(png, "image too large (more than 178956970 pixels, PIL's decompression-bomb limit)");
    if (color_type == PNG_COLOR_TYPE_PALETTE) read_palette(png, info, palette);
    if (depth < 8) png_set_packing(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t rowbytes = png_get_rowbytes(png, info);
    raw = xmalloc(rowbytes * h);
    rows = xmalloc(sizeof(png_bytep) * h);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = raw + rowbytes * y;
    png_read_image(png, rows);
    png_read_end(png, NULL);

    pixels = xmalloc((size_t)w * h * 3);
    for (png_uint_32 y = 0; y < h; y++)
        row_to_rgb(rows[y], pixels + (size_t)y * w * 3, (int)w, color_type, depth, (const uint8_t(*)[3])palette);
    png_destroy_read_struct(&png, &info, NULL);
    free(raw);
    free(rows);
    img->w = (int)w;
    img->h = (int)h;
    img->rgb = pixels;
    return 0;
}

int image_save_png(const struct image *img, const char *path, struct error *err) {
    FILE *volatile f = fopen(path, "wb");
    if (!f) return error_set(err, "%s: cannot open for writing", path);
    struct png_err perr = {""};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &perr, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return error_set(err, "%s: cannot write PNG: %s", path, perr.msg[0] ? perr.msg : "out of memory");
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->h; y++) png_write_row(png, img->rgb + (size_t)y * img->w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) return error_set(err, "%s: write failed (disk full?)", path);
    return 0;
}
