/*
 * synth.h: the synthetic-data generator behind `sparsemm synth`. It renders text images with
 * FreeType (DejaVu fonts) and writes them in the official layouts the loaders read:
 *
 *   textvqa   scene-like images (signs, labels, brands, numbers) and TextVQA-style questions
 *             with 10 answers: TextVQA_0.5.1_{train,val}.json + train_images/<image_id>.jpg
 *   docvqa    document pages (title, "Key: value" fields, a small table) and DocVQA-style
 *             questions whose answers are spans of the page: {train,val}_v1.0.json +
 *             documents/<doc>_<page>.png
 *   ocrbench  the OCRBench categories that fit synthetic text (Regular Text Recognition, Digit
 *             String Recognition, Scene Text-centric VQA, Doc-oriented VQA, Key Information
 *             Extraction), in turn: OCRBench.json + <dataset_name>/<n>.png
 *   synthdog  pages of text lines with every word's box, the head finder's input:
 *             synthdog-en.json ({id, image_name, 2_coord}) + images/<id>.jpg
 *
 * Each kind also writes <kind>.jsonl (the same entries, one per line) and, except synthdog,
 * ocr_boxes.json: every image's word boxes in the synthdog format.
 *
 * The data also trains the project's small model, so it is meant to be learnable: text is
 * large (pixel sizes ~24-48 on a 336-pixel scene), the vocabulary is modest, and each kind
 * asks a few question templates whose answers are rendered words.
 *
 * Boxes are exact: a word's box is the first and last column and row where its glyphs put ink
 * (inclusive pixel coordinates, what synthdog's 2_coord holds). Glyph coverage below 16/255 is
 * not drawn at all, so the ink the box encloses is exactly what changed in the image (before
 * JPEG compression, for the .jpg kinds).
 *
 * Determinism: image j depends only on (seed, split, kind, j) and the options, never on --n,
 * so a smaller run is a prefix of a larger one and the same arguments give identical bytes
 * (with the same FreeType, libpng and libjpeg). The train and eval splits draw from disjoint
 * random streams: no image is shared, while the vocabulary and templates are, by design (the
 * evaluation measures reading, not memorisation).
 */
#ifndef SPARSEMM_DATASETS_SYNTH_H
#define SPARSEMM_DATASETS_SYNTH_H

#include <stdint.h>
#include "datasets/dataset.h"
#include "engine/image.h"

enum synth_kind { SYNTH_TEXTVQA, SYNTH_DOCVQA, SYNTH_OCRBENCH, SYNTH_SYNTHDOG, SYNTH_KINDS };
enum synth_split { SYNTH_TRAIN, SYNTH_EVAL };

struct synth_options {
    enum synth_kind kind;
    enum synth_split split;
    int n;                    /* questions to write (pages for synthdog) */
    uint64_t seed;
    int width, height;        /* image size, default 336 x 336 */
    int font_min, font_max;   /* font pixel sizes (0: the kind's default, scaled to the image) */
    int words_min, words_max; /* words per sign (textvqa) or per line (synthdog); 0: default */
    int lines_min, lines_max; /* fields per document (docvqa) or lines per page (synthdog) */
    int per_image;            /* questions asked about each image, default 1 */
    const char *font_dir;     /* NULL: $SPARSEMM_FONT_DIR, then the system font folders */
    const char *fonts;        /* comma-separated font files (names or paths); NULL: default set */
    int jpeg_quality;         /* for the .jpg kinds, default 95 */
};

/* One question about an image. Its answer is the text of boxes [box, box + n_box). */
struct synth_qa {
    char *question;
    char **answers;           /* [n_answers]; answers[0] is exactly the rendered text */
    int n_answers;
    const char *category;     /* OCRBench type or DocVQA question type (static), or NULL */
    const char *source;       /* OCRBench dataset_name (static), or NULL */
    int box, n_box;
};

/* One rendered image with everything known about its text. */
struct synth_item {
    struct image img;         /* [height][width][3] */
    uint8_t *ink;             /* [height][width] glyph coverage drawn there, 0 where none */
    struct ocr_box *boxes;    /* [n_boxes] every word drawn, in reading order */
    int n_boxes;
    struct synth_qa *qas;     /* [n_qas] questions about it, in the order they are asked */
    int n_qas;
};

struct synth; /* a generator: options and open fonts */

/* Defaults for a kind: 336 x 336, seed 0, train split, n = 100, one question per image. */
void synth_options_init(struct synth_options *o, enum synth_kind kind);
/* "textvqa" -> SYNTH_TEXTVQA, ...; -1 if unknown. */
int synth_kind_parse(const char *name, enum synth_kind *kind);

/* Check the options and open the fonts (errors name the folders searched). */
int synth_open(const struct synth_options *o, struct synth **out, struct error *err);
void synth_close(struct synth *g);
/* Render image number `index`. Free with synth_item_free. */
int synth_render(struct synth *g, int index, struct synth_item *out, struct error *err);
void synth_item_free(struct synth_item *it);

/* Generate o->n questions into out_dir (created if needed) in the layout above. progress, if
   not NULL, is called after each image with (images done, questions done). */
int synth_write(const struct synth_options *o, const char *out_dir,
                void (*progress)(int images, int questions, void *arg), void *arg, struct error *err);

/* The annotation file synth_write writes for these options, relative to out_dir (static). */
const char *synth_annotation_name(const struct synth_options *o);

#endif
