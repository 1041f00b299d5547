/*
 * image_resize.c: Pillow's Image.resize(size, Image.BICUBIC) for 8-bit RGB, bit for bit.
 *
 * Every HF "slow" image processor resizes through Pillow (research/models.md 0.6), so the
 * golden pixel tests only pass if this reproduces Pillow's ImagingResample (Pillow
 * src/libImaging/Resample.c) exactly. The algorithm, in Pillow's terms:
 *   - a separable filter, bicubic with a = -0.5 and support 2; when shrinking, the filter is
 *     stretched by the scale (filterscale = max(in/out, 1)), which is Pillow's antialiasing;
 *   - per output pixel, the taps [xmin, xmin + n) and their weights, normalised to sum 1 in
 *     double, then turned into 22-bit fixed point (PRECISION_BITS = 32 - 8 - 2) rounding half
 *     away from zero;
 *   - integer accumulation starting at 1 << 21 (so the final >> 22 rounds), clamped to 0..255;
 *   - two passes through an 8-bit temporary: horizontal first (computing only the source rows
 *     the vertical pass reads), except that Pillow 13 goes vertical first when the height
 *     shrinks much more than the width (see horizontal_first); a pass is skipped when its
 *     dimension is unchanged; same size = plain copy.
 * The weights are computed in double exactly as Pillow writes the expressions. Contraction
 * into fused multiply-adds would round differently from Pillow's (non-FMA) build, so it is
 * switched off for this file.
 */
#pragma GCC optimize("fp-contract=off")

#include "engine/image.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)

/* The taps of a 1-D resampling from in_size to out_size samples: output i reads inputs
   [first[i], first[i] + count[i]) with fixed-point weights k[i * ksize + j]. */
struct taps {
    int ksize;
    int *first, *count; /* [out_size] */
    int32_t *k;         /* [out_size][ksize] */
};

static double bicubic(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bicubic filter over the whole
   input range (box = (0, in_size)). */
static void taps_init(struct taps *t, int in_size, int out_size) {
    const double support_unit = 2.0;
    double scale = (double)(float)in_size / out_size; /* Pillow's box edges are floats */
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = support_unit * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *w = xmalloc(sizeof(double) * ksize);
    t->ksize = ksize;
    t->first = xmalloc(sizeof(int) * out_size);
    t->count = xmalloc(sizeof(int) * out_size);
    t->k = xcalloc((size_t)out_size * ksize, sizeof(int32_t));
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ss = 1.0 / filterscale, ww = 0.0;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            w[x] = bicubic((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        int32_t *k = t->k + (size_t)xx * ksize;
        for (int x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS)) : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        t->first[xx] = xmin;
        t->count[xx] = xmax;
    }
    free(w);
}

static void taps_free(struct taps *t) {
    free(t->first);
    free(t->count);
    free(t->k);
}

/* Pillow's clip8: the accumulator's integer part, clamped to a byte (arithmetic shift). */
static inline uint8_t clip8(int32_t acc) {
    int32_t v = acc >> PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Horizontal pass over n_rows rows. src: [n_rows][src_w][3] -> dst: [n_rows][t->out][3]. */
static void resample_rows(const uint8_t *src, int src_w, uint8_t *dst, int dst_w, int n_rows, const struct taps *t) {
    for (int y = 0; y < n_rows; y++) {
        const uint8_t *row = src + (size_t)y * src_w * 3;
        uint8_t *out = dst + (size_t)y * dst_w * 3;
        for (int xx = 0; xx < dst_w; xx++) {
            const int32_t *k = t->k + (size_t)xx * t->ksize;
            const uint8_t *p = row + (size_t)t->first[xx] * 3;
            int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
            for (int x = 0; x < t->count[xx]; x++) {
                s0 += p[3 * x + 0] * k[x];
                s1 += p[3 * x + 1] * k[x];
                s2 += p[3 * x + 2] * k[x];
            }
            out[3 * xx + 0] = clip8(s0);
            out[3 * xx + 1] = clip8(s1);
            out[3 * xx + 2] = clip8(s2);
        }
    }
}

/* Vertical pass; row r of src is source row (r + row0). src: [*][w][3] -> dst: [dst_h][w][3].
   Integer sums are exact, so accumulating a whole row tap by tap gives Pillow's result. */
static void resample_cols(const uint8_t *src, int row0, int w, uint8_t *dst, int dst_h, const struct taps *t) {
    size_t n = (size_t)w * 3;
    int32_t *acc = xmalloc(sizeof(int32_t) * n);
    for (int yy = 0; yy < dst_h; yy++) {
        const int32_t *k = t->k + (size_t)yy * t->ksize;
        for (size_t i = 0; i < n; i++) acc[i] = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < t->count[yy]; y++) {
            const uint8_t *row = src + (size_t)(t->first[yy] + y - row0) * n;
            int32_t ky = k[y];
            for (size_t i = 0; i < n; i++) acc[i] += row[i] * ky;
        }
        uint8_t *out = dst + (size_t)yy * n;
        for (size_t i = 0; i < n; i++) out[i] = clip8(acc[i]);
    }
    free(acc);
}

/* Pillow 13 (Pillow PR #9549) runs the vertical pass first when the height shrinks by more
   than twice as many pixels as the width does; Pillow 12 and older always go horizontal first.
   The 8-bit intermediate makes the two orders differ by one level in some pixels. */
static int horizontal_first(const struct image *src, int w, int h, enum image_resize_passes passes) {
    if (passes == IMAGE_PASSES_HORIZONTAL_FIRST) return 1;
    int dh = src->h - h, dw = src->w - w;
    return !(dh > 0 && dh > dw * 2);
}

void image_resize_bicubic_passes(const struct image *src, struct image *dst, int w, int h,
                                 enum image_resize_passes passes) {
    assert(w > 0 && h > 0 && src->w > 0 && src->h > 0);
    if (w == src->w && h == src->h) {
        image_copy(src, dst);
        return;
    }
    dst->w = w;
    dst->h = h;
    dst->rgb = xmalloc((size_t)w * h * 3);
    struct taps tv, th;
    if (w == src->w) {
        taps_init(&tv, src->h, h);
        resample_cols(src->rgb, 0, w, dst->rgb, h, &tv);
        taps_free(&tv);
        return;
    }
    taps_init(&th, src->w, w);
    if (h == src->h) {
        resample_rows(src->rgb, src->w, dst->rgb, w, h, &th);
        taps_free(&th);
        return;
    }
    taps_init(&tv, src->h, h);
    if (horizontal_first(src, w, h, passes)) {
        /* Only the source rows some output row reads: [row0, row1). */
        int row0 = tv.first[0], row1 = tv.first[h - 1] + tv.count[h - 1];
        uint8_t *tmp = xmalloc((size_t)w * (row1 - row0) * 3);
        resample_rows(src->rgb + (size_t)row0 * src->w * 3, src->w, tmp, w, row1 - row0, &th);
        resample_cols(tmp, row0, w, dst->rgb, h, &tv);
        free(tmp);
    } else {
        uint8_t *tmp = xmalloc((size_t)src->w * h * 3);
        resample_cols(src->rgb, 0, src->w, tmp, h, &tv);
        resample_rows(tmp, src->w, dst->rgb, w, h, &th);
        free(tmp);
    }
    taps_free(&th);
    taps_free(&tv);
}

void image_resize_bicubic(const struct image *src, struct image *dst, int w, int h) {
    image_resize_bicubic_passes(src, dst, w, h, IMAGE_PASSES_PILLOW);
}
