/*
 * synth_font.c: finding the fonts and rendering words with FreeType (anti-aliased 8-bit
 * coverage, the font's own hinting, no kerning, one word at a time).
 *
 * Font search, first hit wins: the folder given (--font-dir), $SPARSEMM_FONT_DIR, then the
 * usual system folders of Debian/Ubuntu (fonts-dejavu-core), Fedora, Arch and local installs.
 * The default set is the six faces of Debian's fonts-dejavu-core (sans, serif and mono, each
 * regular and bold): plain, clear shapes a small model can learn to read.
 *
 * Ink threshold: coverage below INK_MIN is set to zero before anything is drawn. Those faint
 * edge pixels would barely change the image (and not at all after rounding on a low-contrast
 * pair of colours), so dropping them makes "the pixels a word changes" and "the pixels its box
 * encloses" one and the same set.
 */
#include "datasets/synth_internal.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/unicode.h"

#define INK_MIN 16

struct font {
    FT_Face face;
    int px; /* the pixel size last set */
};

static const char *const search_dirs[] = {
    "/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF",
    "/usr/share/fonts/dejavu-sans-fonts", "/usr/local/share/fonts", "/usr/share/fonts/truetype", NULL,
};

static const char default_fonts[] =
    "DejaVuSans.ttf,DejaVuSans-Bold.ttf,DejaVuSerif.ttf,DejaVuSerif-Bold.ttf,DejaVuSansMono.ttf,"
    "DejaVuSansMono-Bold.ttf";

/* Where the font file `name` is; NULL (and a message listing the folders) if nowhere. */
static char *find_font(const char *name, const char *dir, struct error *err) {
    if (strchr(name, '/')) {
        if (file_exists(name)) return xstrdup(name);
        error_set(err, "font file '%s' not found", name);
        return NULL;
    }
    const char *env = getenv("SPARSEMM_FONT_DIR");
    const char *first[2] = {dir, env};
    char tried[700] = "";
    for (int i = 0; i < 2 + (int)(sizeof search_dirs / sizeof *search_dirs) - 1; i++) {
        const char *d = i < 2 ? first[i] : search_dirs[i - 2];
        if (!d || !*d) continue;
        char *path = path_join(d, name);
        if (file_exists(path)) return path;
        free(path);
        size_t used = strlen(tried);
        snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", d);
    }
    error_set(err, "font '%s' not found in: %s (install the DejaVu fonts, e.g. Debian's fonts-dejavu-core, "
              "or pass --font-dir DIR / set SPARSEMM_FONT_DIR)", name, tried);
    return NULL;
}

static int open_one(struct fontset *fs, const char *name, const char *dir, struct error *err) {
    char *path = find_font(name, dir, err);
    if (!path) return -1;
    FT_Face face;
    int rc = FT_New_Face((FT_Library)fs->library, path, 0, &face);
    if (rc) {
        error_set(err, "%s: FreeType cannot open this font (error %d)", path, rc);
        free(path);
        return -1;
    }
    free(path);
    struct font *f = xcalloc(1, sizeof *f);
    f->face = face;
    fs->fonts = xrealloc(fs->fonts, (size_t)(fs->n + 1) * sizeof *fs->fonts);
    fs->fonts[fs->n++] = f;
    return 0;
}

int fontset_open(struct fontset *fs, const char *dir, const char *list, struct error *err) {
    memset(fs, 0, sizeof *fs);
    FT_Library lib;
    if (FT_Init_FreeType(&lib)) return error_set(err, "FreeType failed to initialise");
    fs->library = lib;
    char *names = xstrdup(list && *list ? list : default_fonts);
    int rc = 0;
    for (char *save = NULL, *name = strtok_r(names, ",", &save); name && !rc; name = strtok_r(NULL, ",", &save))
        rc = open_one(fs, name, dir, err);
    free(names);
    if (!rc && fs->n == 0) rc = error_set(err, "no fonts given");
    if (rc) fontset_close(fs);
    return rc;
}

void fontset_close(struct fontset *fs) {
    if (!fs) return;
    for (int i = 0; i < fs->n; i++) {
        FT_Done_Face(fs->fonts[i]->face);
        free(fs->fonts[i]);
    }
    free(fs->fonts);
    if (fs->library) FT_Done_FreeType((FT_Library)fs->library);
    memset(fs, 0, sizeof *fs);
}

static void set_size(struct font *f, int px) {
    if (f->px == px) return;
    FT_Set_Pixel_Sizes(f->face, 0, (FT_UInt)px);
    f->px = px;
}

void font_metrics(struct font *f, int px, int *ascent, int *descent) {
    set_size(f, px);
    const FT_Size_Metrics *m = &f->face->size->metrics;
    *ascent = (int)((m->ascender + 63) >> 6);
    *descent = (int)((-m->descender + 63) >> 6);
}

int font_space(struct font *f, int px) {
    set_size(f, px);
    if (FT_Load_Char(f->face, ' ', FT_LOAD_DEFAULT)) return px / 3;
    return (int)((f->face->glyph->advance.x + 32) >> 6);
}

/* A rendered glyph, copied out of FreeType's slot. */
struct glyph {
    int x, y, w, h; /* bitmap position from the word's pen origin (y down from the baseline) */
    uint8_t *a;
};

void font_render(struct font *f, int px, const char *text, struct glyph_run *out) {
    set_size(f, px);
    memset(out, 0, sizeof *out);
    size_t len = strlen(text), n = 0;
    struct glyph *gl = xcalloc(len + 1, sizeof *gl);
    int pen = 0, x0 = 1 << 30, y0 = 1 << 30, x1 = -(1 << 30), y1 = -(1 << 30);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += (size_t)utf8_decode(text + i, len - i, &cp);
        if (FT_Load_Char(f->face, cp, FT_LOAD_RENDER)) continue;
        FT_GlyphSlot s = f->face->glyph;
        struct glyph *g = &gl[n++];
        g->x = pen + s->bitmap_left;
        g->y = -s->bitmap_top;
        g->w = (int)s->bitmap.width;
        g->h = (int)s->bitmap.rows;
        g->a = xmalloc((size_t)(g->w * g->h) + 1);
        for (int r = 0; r < g->h; r++)
            memcpy(g->a + r * g->w, s->bitmap.buffer + r * s->bitmap.pitch, (size_t)g->w);
        pen += (int)((s->advance.x + 32) >> 6);
        for (int r = 0; r < g->h; r++)
            for (int c = 0; c < g->w; c++) {
                if (g->a[r * g->w + c] < INK_MIN) continue;
                if (g->x + c < x0) x0 = g->x + c;
                if (g->x + c > x1) x1 = g->x + c;
                if (g->y + r < y0) y0 = g->y + r;
                if (g->y + r > y1) y1 = g->y + r;
            }
    }
    out->advance = pen;
    if (x1 >= x0) { /* some ink: paste the glyphs into one mask cropped to it */
        out->x0 = x0, out->y0 = y0, out->w = x1 - x0 + 1, out->h = y1 - y0 + 1;
        out->a = xcalloc((size_t)(out->w * out->h), 1);
        for (size_t k = 0; k < n; k++)
            for (int r = 0; r < gl[k].h; r++)
                for (int c = 0; c < gl[k].w; c++) {
                    uint8_t v = gl[k].a[r * gl[k].w + c];
                    if (v < INK_MIN) continue;
                    uint8_t *d = &out->a[(gl[k].y + r - y0) * out->w + gl[k].x + c - x0];
                    if (v > *d) *d = v;
                }
    }
    for (size_t k = 0; k < n; k++) free(gl[k].a);
    free(gl);
}

void glyph_run_free(struct glyph_run *g) {
    if (!g) return;
    free(g->a);
    memset(g, 0, sizeof *g);
}
