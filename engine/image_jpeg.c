/*
 * image_jpeg.c: JPEG in and out through libjpeg-turbo, with the settings PIL uses, so that the
 * decoded pixels are the ones PIL's Image.open(f).convert("RGB") gives.
 *
 * PIL's decoder (Pillow src/libImaging/JpegDecode.c, JpegImagePlugin.py) keeps libjpeg's
 * defaults: the accurate integer IDCT (JDCT_ISLOW) and fancy (triangle-filter) chroma
 * upsampling; it asks for RGB when there are 3 components, grayscale for 1, and raw CMYK for
 * 4, which it reads as Adobe-inverted ("CMYK;I"). convert("RGB") then replicates gray and
 * maps CMYK to RGB with Pillow's integer formula (cmyk_to_rgb below). PIL refuses anything
 * but 8-bit samples and 1, 3 or 4 components, and so do we. A file that ends early is an
 * error in PIL ("image file is truncated"); libjpeg's memory source would silently pad it
 * with grey, so the end-of-data warning is turned into an error here.
 */
#include "engine/image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

/* libjpeg reports fatal errors through error_exit, which must not return: we longjmp back to
   the caller's setjmp with the formatted message saved. Warnings go to emit_message. */
struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int hit_eof; /* the data ended before the image did */
};

static void on_jpeg_error(j_common_ptr c) {
    struct jpeg_err *e = (struct jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jump, 1);
}

static void on_jpeg_message(j_common_ptr c, int level) {
    struct jpeg_err *e = (struct jpeg_err *)c->err;
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) e->hit_eof = 1;
}

static void jpeg_err_init(struct jpeg_err *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = on_jpeg_error;
    e->pub.emit_message = on_jpeg_message;
    e->msg[0] = 0;
    e->hit_eof = 0;
}

/* Pillow's MULDIV255: a*b/255 rounded, with integer shifts. */
static inline int muldiv255(int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

static inline uint8_t clip8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* One row of libjpeg CMYK output (Adobe convention: stored inverted) to RGB, exactly as PIL
   does it: unpack "CMYK;I" inverts every byte, then Convert.c cmyk2rgb computes
   R = (255-K) - C*(255-K)/255 in integers. row: [w][4] -> out: [w][3]. */
static void cmyk_to_rgb(const uint8_t *row, uint8_t *out, int w) {
    for (int x = 0; x < w; x++, row += 4, out += 3) {
        int nk = row[3]; /* 255 - (255 - raw K) */
        for (int c = 0; c < 3; c++) out[c] = clip8(nk - muldiv255(255 - row[c], nk));
    }
}

int image_decode_jpeg(struct image *img, const void *data, size_t len, const char *what, struct error *err) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err jerr;
    uint8_t *volatile pixels = NULL; /* volatile: freed after a longjmp */
    uint8_t *volatile row = NULL;

    jpeg_err_init(&jerr);
    cinfo.err = &jerr.pub;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return error_set(err, "%s: corrupt JPEG: %s", what, jerr.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);

    int nc = cinfo.num_components;
    const char *why = NULL;
    if (cinfo.data_precision != 8) why = "only 8-bit samples are supported (as in PIL)";
    else if (nc == 1) cinfo.out_color_space = JCS_GRAYSCALE;
    else if (nc == 3) cinfo.out_color_space = JCS_RGB;
    else if (nc == 4) cinfo.out_color_space = JCS_CMYK;
    else why = "only 1, 3 or 4 components are supported (as in PIL)";
    if (!why && (long long)cinfo.image_width * cinfo.image_height > IMAGE_MAX_PIXELS)
        why = "image too large (more than 178956970 pixels, PIL's decompression-bomb limit)";
    if (why) {
        int bits = cinfo.data_precision;
        jpeg_destroy_decompress(&cinfo);
        return error_set(err, "%s: JPEG with %d components of %d bits: %s", what, nc, bits, why);
    }

    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, oc = cinfo.output_components;
    pixels = xmalloc((size_t)w * h * 3);
    row = xmalloc((size_t)w * oc);
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *out = pixels + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW rows[1] = {oc == 3 ? out : row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        if (oc == 1) {
            for (int x = 0; x < w; x++) out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = row[x];
        } else if (oc == 4) {
            cmyk_to_rgb(row, out, w);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    if (jerr.hit_eof) {
        free(pixels);
        return error_set(err, "%s: JPEG data ends before the image does (truncated file)", what);
    }
    img->w = w;
    img->h = h;
    img->rgb = pixels;
    return 0;
}

int image_encode_jpeg(const struct image *img, int quality, uint8_t **out, size_t *out_len, struct error *err) {
    if (quality < 1 || quality > 100)
        return error_set(err, "JPEG quality %d out of range 1..100", quality);
    if (img->w <= 0 || img->h <= 0 || img->w > 65500 || img->h > 65500)
        return error_set(err, "cannot encode a %dx%d image as JPEG (sides must be 1..65500)", img->w, img->h);
    struct jpeg_compress_struct cinfo;
    struct jpeg_err jerr;
    unsigned char *volatile buf = NULL;
    unsigned long size = 0;

    jpeg_err_init(&jerr);
    cinfo.err = &jerr.pub;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buf);
        return error_set(err, "JPEG encoder: %s", jerr.msg);
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buf, &size);
    cinfo.image_width = (JDIMENSION)img->w;
    cinfo.image_height = (JDIMENSION)img->h;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    /* The same calls, in the same order, as Pillow's JpegEncode.c with default options. */
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = {img->rgb + (size_t)cinfo.next_scanline * img->w * 3};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buf;
    *out_len = size;
    return 0;
}

int image_save_jpeg(const struct image *img, const char *path, int quality, struct error *err) {
    uint8_t *buf;
    size_t len;
    if (image_encode_jpeg(img, quality, &buf, &len, err)) return error_wrap(err, "%s", path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(buf);
        return error_set(err, "%s: cannot open for writing", path);
    }
    size_t n = fwrite(buf, 1, len, f);
    int bad = fclose(f) != 0 || n != len;
    free(buf);
    if (bad) return error_set(err, "%s: write failed (disk full?)", path);
    return 0;
}
