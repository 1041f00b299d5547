/*
 * test_synth.c: the synthetic-data generator (datasets/synth*.c): same seed -> identical bytes,
 * boxes tight around the ink they enclose (checked on the ink layer for every kind and on the
 * pixels themselves for synthdog's flat pages), every answer recoverable as rendered words,
 * perfect answers scoring perfectly, and the loaders reading every file synth writes.
 * Needs the DejaVu fonts (fonts-dejavu-core, installed by scripts/deps.sh).
 */
#include "tests/test_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include "datasets/dataset.h"
#include "datasets/score.h"
#include "datasets/synth.h"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    strcpy(tmpdir, "/tmp/sparsemm_synth_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static const enum synth_kind kinds[] = {SYNTH_TEXTVQA, SYNTH_DOCVQA, SYNTH_OCRBENCH, SYNTH_SYNTHDOG};
static const char *const kind_names[] = {"textvqa", "docvqa", "ocrbench", "synthdog"};

/* Render image i of a kind with default options (seed 7). */
static void render(enum synth_kind kind, int i, struct synth_item *it) {
    struct synth_options o;
    synth_options_init(&o, kind);
    o.seed = 7;
    struct synth *g;
    struct error err;
    CHECK_OK(synth_open(&o, &g, &err), &err);
    CHECK_OK(synth_render(g, i, it, &err), &err);
    synth_close(g);
}

static int inside(const struct ocr_box *b, int x, int y) { return x >= b->x0 && x <= b->x1 && y >= b->y0 && y <= b->y1; }

/* Box invariants on the ink layer: inside the image, ink on all four edges, pairwise
   disjoint, and no ink outside every box. */
static void check_boxes(const struct synth_item *it, const char *what) {
    int w = it->img.w, h = it->img.h;
    assert_true(it->n_boxes > 0);
    for (int k = 0; k < it->n_boxes; k++) {
        const struct ocr_box *b = &it->boxes[k];
        if (b->x0 < 0 || b->y0 < 0 || b->x1 >= w || b->y1 >= h || b->x1 < b->x0 || b->y1 < b->y0)
            fail_msg("%s: box %d '%s' [%g,%g,%g,%g] not inside %dx%d", what, k, b->text, b->x0, b->y0, b->x1, b->y1, w, h);
        int top = 0, bottom = 0, left = 0, right = 0;
        for (int x = (int)b->x0; x <= (int)b->x1; x++) {
            top |= it->ink[(int)b->y0 * w + x] > 0;
            bottom |= it->ink[(int)b->y1 * w + x] > 0;
        }
        for (int y = (int)b->y0; y <= (int)b->y1; y++) {
            left |= it->ink[y * w + (int)b->x0] > 0;
            right |= it->ink[y * w + (int)b->x1] > 0;
        }
        if (!(top && bottom && left && right)) fail_msg("%s: box %d '%s' is not tight (no ink on an edge)", what, k, b->text);
        for (int j = 0; j < k; j++) {
            const struct ocr_box *o = &it->boxes[j];
            if (b->x0 <= o->x1 && o->x0 <= b->x1 && b->y0 <= o->y1 && o->y0 <= b->y1)
                fail_msg("%s: boxes %d '%s' and %d '%s' overlap", what, j, o->text, k, b->text);
        }
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (!it->ink[y * w + x]) continue;
            int k = 0;
            while (k < it->n_boxes && !inside(&it->boxes[k], x, y)) k++;
            if (k == it->n_boxes) fail_msg("%s: ink at (%d,%d) outside every box", what, x, y);
        }
}

/* Each question's answer is the text of its boxes, and answering it scores perfectly. */
static void check_answers(const struct synth_item *it, enum synth_kind kind, const char *what) {
    assert_true(it->n_qas > 0);
    for (int q = 0; q < it->n_qas; q++) {
        const struct synth_qa *qa = &it->qas[q];
        assert_true(qa->n_box > 0 && qa->box >= 0 && qa->box + qa->n_box <= it->n_boxes);
        char joined[4096] = "";
        for (int k = qa->box; k < qa->box + qa->n_box; k++) {
            if (k > qa->box) strcat(joined, " ");
            strcat(joined, it->boxes[k].text);
        }
        if (strcmp(joined, qa->answers[0]))
            fail_msg("%s: question '%s': boxes read '%s', answer is '%s'", what, qa->question, joined, qa->answers[0]);
        if (kind == SYNTH_OCRBENCH) {
            assert_non_null(qa->category);
            assert_non_null(qa->source);
            assert_int_equal(ocrbench_hit(qa->answers[0], qa->answers, qa->n_answers, 0), 1);
        }
        if (kind == SYNTH_DOCVQA) {
            assert_non_null(qa->category);
            assert_true(anls(qa->answers[0], qa->answers, qa->n_answers, 0) == 1.0);
        }
    }
}

static void test_boxes_and_answers(void **state) {
    (void)state;
    for (size_t k = 0; k < 4; k++)
        for (int i = 0; i < 15; i++) { /* 15 images: every OCRBench category three times */
            struct synth_item it;
            render(kinds[k], i, &it);
            char what[64];
            snprintf(what, sizeof what, "%s image %d", kind_names[k], i);
            assert_int_equal(it.img.w, 336);
            assert_int_equal(it.img.h, 336);
            check_boxes(&it, what);
            check_answers(&it, kinds[k], what);
            synth_item_free(&it);
        }
    synth_item_free(NULL);
}

/* synthdog pages are flat paper: every pixel that differs from it is inside a box, and every
   box edge holds a pixel that differs (the image itself, not only the ink layer). */
static void test_synthdog_pixels(void **state) {
    (void)state;
    for (int i = 0; i < 10; i++) {
        struct synth_item it;
        render(SYNTH_SYNTHDOG, i, &it);
        int w = it.img.w;
        const uint8_t *bg = it.img.rgb; /* the top-left corner lies in the margin */
        for (int y = 0; y < it.img.h; y++)
            for (int x = 0; x < w; x++) {
                int differs = memcmp(it.img.rgb + 3 * (y * w + x), bg, 3) != 0;
                assert_int_equal(differs, it.ink[y * w + x] > 0); /* ink <=> changed pixel */
            }
        assert_string_equal(it.qas[0].question, "Provide all the OCR results of this image.");
        synth_item_free(&it);
    }
}

/* Options change what is rendered: image size, font sizes, words per line. */
static void test_options(void **state) {
    (void)state;
    struct synth_options o;
    synth_options_init(&o, SYNTH_SYNTHDOG);
    o.width = 448, o.height = 224, o.font_min = o.font_max = 20, o.words_min = o.words_max = 1;
    o.lines_min = o.lines_max = 3;
    struct synth *g;
    struct error err;
    CHECK_OK(synth_open(&o, &g, &err), &err);
    struct synth_item it;
    CHECK_OK(synth_render(g, 0, &it, &err), &err);
    assert_int_equal(it.img.w, 448);
    assert_int_equal(it.img.h, 224);
    assert_int_equal(it.n_boxes, 3); /* 3 lines of 1 word */
    check_boxes(&it, "448x224 page");
    synth_item_free(&it);
    synth_close(g);

    o.fonts = "NoSuchFont.ttf";
    assert_int_equal(synth_open(&o, &g, &err), -1);
    assert_msg_contains(err.msg, "font 'NoSuchFont.ttf' not found in:");
    assert_msg_contains(err.msg, "/usr/share/fonts/truetype/dejavu");
    o.fonts = "/nowhere/x.ttf";
    assert_int_equal(synth_open(&o, &g, &err), -1);
    assert_msg_contains(err.msg, "'/nowhere/x.ttf' not found");
    o.fonts = NULL;
    o.width = 10;
    assert_int_equal(synth_open(&o, &g, &err), -1);
    assert_msg_contains(err.msg, "image size 10x224");
    /* Fonts too big for the image: a clear error, not an overflowing page. */
    synth_options_init(&o, SYNTH_TEXTVQA);
    o.width = o.height = 64, o.font_min = o.font_max = 200;
    CHECK_OK(synth_open(&o, &g, &err), &err);
    assert_int_equal(synth_render(g, 0, &it, &err), -1);
    assert_msg_contains(err.msg, "does not fit a 64x64 image");
    synth_close(g);
}

/* Bytes of a file (caller frees), or NULL. */
static char *slurp(const char *path, size_t *n) {
    char *data;
    struct error err;
    return read_file(path, &data, n, &err) ? NULL : data;
}

/* Compare every file under a and b (same relative names); returns the number compared. */
static int same_tree(const char *a, const char *b, const char *rel) {
    char *da = rel ? path_join(a, rel) : xstrdup(a);
    DIR *d = opendir(da);
    assert_non_null(d);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *r = rel ? path_join(rel, e->d_name) : xstrdup(e->d_name);
        char *pa = path_join(a, r), *pb = path_join(b, r);
        struct stat st;
        stat(pa, &st);
        if (S_ISDIR(st.st_mode)) {
            count += same_tree(a, b, r);
        } else {
            size_t na, nb;
            char *x = slurp(pa, &na), *y = slurp(pb, &nb);
            if (!x || !y || na != nb || memcmp(x, y, na)) fail_msg("%s differs between runs", r);
            free(x);
            free(y);
            count++;
        }
        free(pa);
        free(pb);
        free(r);
    }
    closedir(d);
    free(da);
    return count;
}

static char *write_set(enum synth_kind kind, enum synth_split split, int n, uint64_t seed, const char *name) {
    struct synth_options o;
    synth_options_init(&o, kind);
    o.n = n, o.seed = seed, o.split = split;
    char *out = path_join(tmpdir, name);
    struct error err;
    CHECK_OK(synth_write(&o, out, NULL, NULL, &err), &err);
    return out;
}

static void test_determinism(void **state) {
    (void)state;
    for (size_t k = 0; k < 4; k++) {
        char name[64];
        snprintf(name, sizeof name, "det_%s_a", kind_names[k]);
        char *a = write_set(kinds[k], SYNTH_EVAL, 12, 3, name);
        name[strlen(name) - 1] = 'b';
        char *b = write_set(kinds[k], SYNTH_EVAL, 12, 3, name);
        assert_true(same_tree(a, b, NULL) >= 3 + 12 / 2);
        free(a);
        free(b);
    }
    /* Another seed, or the other split, gives other images. */
    struct synth_item x, y;
    struct synth_options o;
    struct synth *g;
    struct error err;
    synth_options_init(&o, SYNTH_TEXTVQA);
    CHECK_OK(synth_open(&o, &g, &err), &err);
    CHECK_OK(synth_render(g, 0, &x, &err), &err);
    synth_close(g);
    o.split = SYNTH_EVAL;
    CHECK_OK(synth_open(&o, &g, &err), &err);
    CHECK_OK(synth_render(g, 0, &y, &err), &err);
    synth_close(g);
    assert_true(memcmp(x.img.rgb, y.img.rgb, (size_t)x.img.w * x.img.h * 3) != 0);
    synth_item_free(&x);
    synth_item_free(&y);
}

/* A prediction list where every answer is right: TextVQA 1.0, DocVQA 1.0, OCRBench 1000. */
static void check_perfect(const struct dataset *ds) {
    double *scores = malloc(sizeof(double) * ds->n);
    for (int i = 0; i < ds->n; i++) scores[i] = dataset_score(ds, i, ds->samples[i].answers[0]);
    struct aggregate agg;
    dataset_aggregate(ds, scores, &agg);
    if (ds->bench->metric == METRIC_OCRBENCH) assert_true(agg.value == 1000.0);
    else assert_true(fabs(agg.value - 1.0) < 1e-12);
    aggregate_free(&agg);
    free(scores);
}

static void load(const char *kind, const char *dir, const char *file, struct dataset *ds) {
    char *path = path_join(dir, file);
    char *text = xasprintf("%s=%s", kind, path);
    struct dataset_spec spec;
    struct error err;
    CHECK_OK(dataset_spec_parse(text, &spec, &err), &err);
    CHECK_OK(dataset_load(&spec, ds, &err), &err);
    assert_int_equal(ds->n_broken, 0);
    dataset_spec_free(&spec);
    free(text);
    free(path);
}

/* The loaders read the official file and the JSONL twin (images checked), and agree. */
static void test_loaders_read_synth(void **state) {
    (void)state;
    static const struct { enum synth_kind kind; const char *bench, *json, *jsonl; } sets[] = {
        {SYNTH_TEXTVQA, "textvqa", "TextVQA_0.5.1_val.json", "textvqa_val.jsonl"},
        {SYNTH_DOCVQA, "docvqa", "val_v1.0.json", "docvqa_val.jsonl"},
        {SYNTH_OCRBENCH, "ocrbench", "OCRBench.json", "ocrbench.jsonl"},
        {SYNTH_SYNTHDOG, "synthdog", "synthdog-en.json", "synthdog.jsonl"},
    };
    for (size_t k = 0; k < 4; k++) {
        char name[64];
        snprintf(name, sizeof name, "load_%s", sets[k].bench);
        char *dir = write_set(sets[k].kind, SYNTH_EVAL, 25, 11, name);
        struct dataset a, b;
        load(sets[k].bench, dir, sets[k].json, &a);
        load(sets[k].bench, dir, sets[k].jsonl, &b);
        assert_int_equal(a.n, 25);
        assert_int_equal(b.n, 25);
        for (int i = 0; i < a.n; i++) {
            assert_string_equal(a.samples[i].key, b.samples[i].key);
            assert_string_equal(a.samples[i].image, b.samples[i].image);
            assert_string_equal(a.samples[i].prompt, b.samples[i].prompt);
            assert_string_equal(a.samples[i].answers[0], b.samples[i].answers[0]);
        }
        if (sets[k].kind == SYNTH_TEXTVQA) {
            for (int i = 0; i < a.n; i++) { /* the ten answers fold into one under EvalAI */
                char *want = vqa_normalize(a.samples[i].answers[0]);
                for (int j = 1; j < 10; j++) {
                    char *got = vqa_normalize(a.samples[i].answers[j]);
                    assert_string_equal(got, want);
                    free(got);
                }
                free(want);
            }
        }
        if (sets[k].kind == SYNTH_OCRBENCH) {
            int types = 0;
            for (int i = 0; i < a.n; i++) types += i < 5 && strcmp(a.samples[i].categories[0], a.samples[(i + 1) % 5].categories[0]);
            assert_int_equal(types, 5); /* five categories in turn */
        }
        if (sets[k].kind == SYNTH_SYNTHDOG) assert_true(a.samples[0].n_boxes > 0);
        else {
            struct dataset boxes;
            load("synthdog", dir, "ocr_boxes.json", &boxes);
            assert_true(boxes.n > 0 && boxes.samples[0].n_boxes > 0);
            dataset_free(&boxes);
            check_perfect(&a);
        }
        dataset_free(&a);
        dataset_free(&b);
        free(dir);
    }
}

/* Several questions per image, and a smaller run is a prefix of a larger one. */
static void test_per_image_and_prefix(void **state) {
    (void)state;
    struct synth_options o;
    synth_options_init(&o, SYNTH_DOCVQA);
    o.n = 9, o.per_image = 3, o.seed = 5;
    char *dir = path_join(tmpdir, "per_image");
    struct error err;
    CHECK_OK(synth_write(&o, dir, NULL, NULL, &err), &err);
    struct dataset ds;
    load("docvqa", dir, "train_v1.0.json", &ds);
    assert_int_equal(ds.n, 9);
    assert_string_equal(ds.samples[0].image, ds.samples[1].image);
    dataset_free(&ds);
    free(dir);

    char *small = write_set(SYNTH_TEXTVQA, SYNTH_TRAIN, 4, 9, "prefix_small");
    char *large = write_set(SYNTH_TEXTVQA, SYNTH_TRAIN, 8, 9, "prefix_large");
    struct dataset s, l;
    load("textvqa", small, "TextVQA_0.5.1_train.json", &s);
    load("textvqa", large, "TextVQA_0.5.1_train.json", &l);
    for (int i = 0; i < s.n; i++) {
        assert_string_equal(s.samples[i].question, l.samples[i].question);
        size_t na, nb;
        char *x = slurp(s.samples[i].image, &na), *y = slurp(l.samples[i].image, &nb);
        assert_true(x && y && na == nb && !memcmp(x, y, na));
        free(x);
        free(y);
    }
    dataset_free(&s);
    dataset_free(&l);
    free(small);
    free(large);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boxes_and_answers),
        cmocka_unit_test(test_synthdog_pixels),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_loaders_read_synth),
        cmocka_unit_test(test_per_image_and_prefix),
    };
    return cmocka_run_group_tests_name("synth", tests, setup, teardown);
}
