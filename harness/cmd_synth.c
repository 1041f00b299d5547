/*
 * cmd_synth.c: `sparsemm synth`: write a synthetic data set in one of the official layouts
 * (datasets/synth.h describes the kinds, files, boxes and determinism).
 */
#include <stdio.h>
#include <string.h>

#include "datasets/synth.h"
#include "engine/util.h"
#include "harness/args.h"
#include "harness/commands.h"

static const char help_tail[] =
    "\nkinds and what they write in --out:\n"
    "  textvqa   TextVQA_0.5.1_{train,val}.json, textvqa_{train,val}.jsonl, train_images/<id>.jpg\n"
    "  docvqa    {train,val}_v1.0.json, docvqa_{train,val}.jsonl, documents/<doc>_<n>.png\n"
    "  ocrbench  OCRBench.json, ocrbench.jsonl, <dataset_name>/<n>.png\n"
    "  synthdog  synthdog-en.json ({id, image_name, 2_coord}), synthdog.jsonl, images/<n>.jpg\n"
    "  All but synthdog also write ocr_boxes.json: each image's word boxes in the synthdog format.\n"
    "\n"
    "Image j is a function of (--seed, --split, --kind, j) and the options only: the same command\n"
    "writes the same bytes, and a smaller --n is a prefix of a larger one. --split train and eval\n"
    "use disjoint random streams (no image shared; vocabulary and templates shared by design).\n"
    "Write each split to its own --out folder. Fonts: --fonts names files looked up in --font-dir,\n"
    "then $SPARSEMM_FONT_DIR, then the system font folders (DejaVu: Debian's fonts-dejavu-core).\n";

struct progress {
    int total;
    double start, last;
};

static void show(int images, int questions, void *arg) {
    struct progress *p = arg;
    double now = now_ms();
    if (now - p->last < 500 && questions < p->total) return;
    p->last = now;
    double rate = questions / ((now - p->start) / 1000 + 1e-9);
    double eta = rate > 0 ? (p->total - questions) / rate : 0;
    fprintf(stderr, "\rsynth: %d/%d questions, %d images, %.0f/s, ETA %.0fs   ", questions, p->total, images, rate, eta);
    if (questions >= p->total) fprintf(stderr, "\n");
}

int cmd_synth(int argc, char **argv) {
    struct synth_options o;
    synth_options_init(&o, SYNTH_TEXTVQA);
    const char *kind = NULL, *split = "train", *out = NULL;
    int seed = 0, quiet = 0;
    struct arg_spec specs[] = {
        {"kind", ARG_STR, &kind, "K", "textvqa | docvqa | ocrbench | synthdog (required)"},
        {"out", ARG_STR, &out, "DIR", "output folder, created if needed (required)"},
        {"n", ARG_INT, &o.n, "N", "questions to write (pages for synthdog), default 100"},
        {"seed", ARG_INT, &seed, "S", "random seed, default 0"},
        {"split", ARG_STR, &split, "train|eval", "which random stream (and split name in the files), default train"},
        {"width", ARG_INT, &o.width, "PX", "image width, default 336"},
        {"height", ARG_INT, &o.height, "PX", "image height, default 336"},
        {"font-min", ARG_INT, &o.font_min, "PX", "smallest font pixel size (default: per kind, scaled to the image)"},
        {"font-max", ARG_INT, &o.font_max, "PX", "largest font pixel size"},
        {"words-min", ARG_INT, &o.words_min, "N", "fewest words per sign (textvqa) or line (synthdog); default 1, 2"},
        {"words-max", ARG_INT, &o.words_max, "N", "most words per sign or line (default 2 for textvqa, 5 for synthdog)"},
        {"lines-min", ARG_INT, &o.lines_min, "N", "fewest fields (docvqa) or lines (synthdog); default 3, 4"},
        {"lines-max", ARG_INT, &o.lines_max, "N", "most fields or lines (default 6 for docvqa, 9 for synthdog)"},
        {"per-image", ARG_INT, &o.per_image, "K", "questions asked per image, default 1"},
        {"font-dir", ARG_STR, &o.font_dir, "DIR", "folder to look for fonts in first"},
        {"fonts", ARG_STR, &o.fonts, "LIST", "comma-separated font files (default: six DejaVu faces)"},
        {"jpeg-quality", ARG_INT, &o.jpeg_quality, "Q", "quality of the .jpg images, default 95"},
        {"quiet", ARG_FLAG, &quiet, NULL, "no progress on stderr"},
    };
    int n_specs = (int)(sizeof specs / sizeof specs[0]);
    int rc = args_parse("synth", "--kind K --n N --out DIR [options]", specs, n_specs, argc, argv, NULL);
    if (rc > 0) {
        fputs(help_tail, stdout);
        return 0;
    }
    if (rc) return 2;
    if (!kind || !out) {
        fprintf(stderr, "sparsemm synth: --kind and --out are required (see --help)\n");
        return 2;
    }
    enum synth_kind k;
    if (synth_kind_parse(kind, &k)) {
        fprintf(stderr, "sparsemm synth: unknown kind '%s' (textvqa, docvqa, ocrbench, synthdog)\n", kind);
        return 2;
    }
    if (strcmp(split, "train") && strcmp(split, "eval")) {
        fprintf(stderr, "sparsemm synth: --split must be train or eval\n");
        return 2;
    }
    o.kind = k;
    o.split = strcmp(split, "eval") ? SYNTH_TRAIN : SYNTH_EVAL;
    o.seed = (uint64_t)(int64_t)seed;
    struct progress p = {o.n, now_ms(), 0};
    struct error err;
    if (synth_write(&o, out, quiet ? NULL : show, &p, &err)) {
        fprintf(stderr, "\nsparsemm synth: %s\n", err.msg);
        return 1;
    }
    if (!quiet) fprintf(stderr, "synth: wrote %s/%s in %.1f s\n", out, synth_annotation_name(&o), (now_ms() - p.start) / 1000);
    return 0;
}
