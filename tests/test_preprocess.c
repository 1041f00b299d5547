/* test_preprocess.c: the HF image processors against transformers' slow (PIL) processors.
   Fixtures from tools/golden/make_images.py: for each case directory a preprocessor_config.json
   and, per image, transformers' pixel_values (whole, or a strided subsample plus the FNV-1a
   hash of the whole f32 array). Token-count and smart_resize tables come from transformers'
   own functions; the worked examples of research/models.md are checked by hand as well. */
#include "tests/test_util.h"
#include "engine/preprocess.h"
#include "engine/json.h"

#include <unistd.h>

#define FIXTURES "tests/fixtures/images"

static cJSON *manifest;

static int load_manifest(void **state) {
    (void)state;
    struct error err;
    manifest = json_load_file(FIXTURES "/manifest.json", &err);
    if (!manifest) {
        fprintf(stderr, "%s (regenerate with: python3 tools/golden/make_images.py)\n", err.msg);
        return -1;
    }
    return 0;
}

static int free_manifest(void **state) {
    (void)state;
    cJSON_Delete(manifest);
    return 0;
}

/* A golden .f32 file: header line, then `count` floats. */
struct golden {
    cJSON *header;
    float *values;
    int count, stride, full;
    uint64_t hash;
};

static void golden_load(const char *rel, struct golden *g) {
    struct error err;
    char path[512], *data;
    size_t len;
    snprintf(path, sizeof path, FIXTURES "/%s", rel);
    CHECK_OK(read_file(path, &data, &len, &err), &err);
    char *nl = memchr(data, '\n', len);
    assert_non_null(nl);
    g->header = json_parse(data, (size_t)(nl - data), path, &err);
    assert_non_null(g->header);
    if (strcmp(json_str(g->header, "magic", ""), "sparsemm-f32") || json_int(g->header, "version", 0) != 1)
        fail_msg("%s: not a version 1 sparsemm-f32 file (regenerate with python3 tools/golden/make_images.py)", path);
    g->count = json_int(g->header, "count", -1);
    g->stride = json_int(g->header, "stride", 0);
    g->full = json_bool(g->header, "full", 0);
    g->hash = strtoull(json_str(g->header, "fnv1a64", ""), NULL, 16);
    assert_int_equal(len - (size_t)(nl + 1 - data), (size_t)g->count * 4);
    g->values = xmalloc((size_t)g->count * 4);
    memcpy(g->values, nl + 1, (size_t)g->count * 4);
    free(data);
}

static void golden_free(struct golden *g) {
    cJSON_Delete(g->header);
    free(g->values);
}

static int shape_dim(const struct golden *g, int i) {
    return cJSON_GetArrayItem(cJSON_GetObjectItem(g->header, "shape"), i)->valueint;
}

static void load_case(const char *name, struct image_processor *p) {
    struct error err;
    char path[512];
    snprintf(path, sizeof path, FIXTURES "/proc/%s/preprocessor_config.json", name);
    CHECK_OK(image_processor_load(p, path, &err), &err);
}

static void load_image(const char *file, struct image *img) {
    struct error err;
    char path[512];
    snprintf(path, sizeof path, FIXTURES "/src/%s", file);
    CHECK_OK(image_load(img, path, &err), &err);
}

/* Compare our pixel_values with one golden file: shape, every stored value within 1e-6, and
   the hash of the whole array (bit-exact). */
static void check_case(const char *name, const char *file, const char *pixels) {
    struct image_processor p;
    struct image img;
    struct pixel_values pv;
    struct golden g;
    struct error err;
    load_case(name, &p);
    load_image(file, &img);
    CHECK_OK(image_processor_run(&p, &img, &pv, &err), &err);
    golden_load(pixels, &g);
    size_t n;
    if (p.kind == IMGPROC_QWEN2_VL) {
        if (pv.n_rows != shape_dim(&g, 0) || pv.row_len != shape_dim(&g, 1))
            fail_msg("%s/%s: %d x %d patch rows, transformers %d x %d", name, file, pv.n_rows, pv.row_len,
                     shape_dim(&g, 0), shape_dim(&g, 1));
        const cJSON *thw = cJSON_GetObjectItem(g.header, "grid_thw");
        assert_int_equal(pv.grid_t, cJSON_GetArrayItem(thw, 0)->valueint);
        assert_int_equal(pv.grid_h, cJSON_GetArrayItem(thw, 1)->valueint);
        assert_int_equal(pv.grid_w, cJSON_GetArrayItem(thw, 2)->valueint);
        n = (size_t)pv.n_rows * pv.row_len;
    } else {
        if (pv.n_crops != shape_dim(&g, 0) || pv.channels != shape_dim(&g, 1) || pv.height != shape_dim(&g, 2) ||
            pv.width != shape_dim(&g, 3))
            fail_msg("%s/%s: pixel_values [%d,%d,%d,%d], transformers [%d,%d,%d,%d]", name, file, pv.n_crops,
                     pv.channels, pv.height, pv.width, shape_dim(&g, 0), shape_dim(&g, 1), shape_dim(&g, 2),
                     shape_dim(&g, 3));
        n = (size_t)pv.n_crops * pv.channels * pv.height * pv.width;
    }
    assert_int_equal(pv.orig_w, img.w);
    assert_int_equal(pv.orig_h, img.h);
    double worst = 0;
    size_t worst_at = 0;
    for (int i = 0; i < g.count; i++) {
        size_t at = (size_t)i * g.stride;
        assert_true(at < n);
        double d = fabs((double)pv.data[at] - g.values[i]);
        if (d > worst || isnan(d)) worst = isnan(d) ? INFINITY : d, worst_at = at;
    }
    if (worst > 1e-6)
        fail_msg("%s/%s: value %zu is %.9g, transformers %.9g (|diff| %.3g)", name, file, worst_at,
                 pv.data[worst_at], g.values[worst_at / g.stride], worst);
    if (fnv1a64(pv.data, n * sizeof(float), FNV1A64_INIT) != g.hash)
        fail_msg("%s/%s: pixel_values not bit-identical to transformers' (stored values agree to 1e-6)", name, file);
    golden_free(&g);
    pixel_values_free(&pv);
    image_free(&img);
}

static void test_processors_match_transformers(void **state) {
    (void)state;
    const cJSON *rows = cJSON_GetObjectItem(manifest, "processors"), *r;
    int kinds[3] = {0, 0, 0};
    cJSON_ArrayForEach(r, rows) {
        const char *name = json_str(r, "case", "");
        check_case(name, json_str(r, "file", ""), json_str(r, "pixels", ""));
        struct image_processor p;
        load_case(name, &p);
        kinds[p.kind]++;
    }
    assert_true(kinds[IMGPROC_CLIP] >= 10 && kinds[IMGPROC_LLAVA_NEXT] >= 5 && kinds[IMGPROC_QWEN2_VL] >= 5);
}

static void test_llava_next_tokens(void **state) {
    (void)state;
    static const int pinpoints[5][2] = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
    int bh, bw, rows, cols;
    /* research/models.md 4.4 worked examples */
    llava_next_select_best_resolution(336, 336, pinpoints, 5, &bh, &bw);
    assert_int_equal(bh, 336);
    assert_int_equal(bw, 672);
    assert_int_equal(llava_next_num_image_tokens(336, 336, bh, bw, 336, 24, &rows, &cols), 1176);
    llava_next_select_best_resolution(899, 1024, pinpoints, 5, &bh, &bw);
    assert_int_equal(bh, 672);
    assert_int_equal(bw, 672);
    assert_int_equal(llava_next_num_image_tokens(899, 1024, bh, bw, 336, 24, &rows, &cols), 2634);
    assert_int_equal(rows, 42);
    assert_int_equal(cols, 48);
    const cJSON *t = cJSON_GetObjectItem(manifest, "llava_next_tokens"), *r;
    assert_true(cJSON_GetArraySize(t) >= 20);
    cJSON_ArrayForEach(r, t) {
        int h = json_int(r, "h", 0), w = json_int(r, "w", 0);
        llava_next_select_best_resolution(h, w, pinpoints, 5, &bh, &bw);
        if (bh != json_int(r, "best_h", -1) || bw != json_int(r, "best_w", -1))
            fail_msg("%dx%d: best (%d, %d), transformers (%d, %d)", h, w, bh, bw, json_int(r, "best_h", -1),
                     json_int(r, "best_w", -1));
        int n = llava_next_num_image_tokens(h, w, bh, bw, 336, 24, &rows, &cols);
        if (n != json_int(r, "tokens", -1) || rows != json_int(r, "rows", -1) || cols != json_int(r, "cols", -1))
            fail_msg("%dx%d: %d tokens (%d x %d), transformers %d (%d x %d)", h, w, n, rows, cols,
                     json_int(r, "tokens", -1), json_int(r, "rows", -1), json_int(r, "cols", -1));
    }
}

static void test_qwen2vl_smart_resize(void **state) {
    (void)state;
    int h, w;
    /* research/models.md 5.3: 640x480 -> 476x644, 34 x 46 patches, 391 merged tokens */
    assert_int_equal(qwen2vl_smart_resize(480, 640, 28, 3136, 12845056, &h, &w), 0);
    assert_int_equal(h, 476);
    assert_int_equal(w, 644);
    assert_int_equal((h / 14) * (w / 14) / 4, 391);
    /* round half to even: 42/28 = 1.5 -> 2, 70/28 = 2.5 -> 2 */
    assert_int_equal(qwen2vl_smart_resize(42, 70, 28, 10, 1 << 30, &h, &w), 0);
    assert_int_equal(h, 56);
    assert_int_equal(w, 56);
    assert_int_equal(qwen2vl_smart_resize(10, 2001, 28, 3136, 12845056, &h, &w), -1);
    const cJSON *t = cJSON_GetObjectItem(manifest, "qwen2vl_smart_resize"), *r;
    assert_true(cJSON_GetArraySize(t) >= 10);
    cJSON_ArrayForEach(r, t) {
        int ih = json_int(r, "h", 0), iw = json_int(r, "w", 0);
        int rc = qwen2vl_smart_resize(ih, iw, 28, json_int(r, "min_pixels", 0), json_int(r, "max_pixels", 0), &h, &w);
        if (json_bool(r, "error", 0)) {
            assert_int_equal(rc, -1);
            continue;
        }
        assert_int_equal(rc, 0);
        if (h != json_int(r, "out_h", -1) || w != json_int(r, "out_w", -1))
            fail_msg("smart_resize(%d, %d): %dx%d, transformers %dx%d", ih, iw, h, w, json_int(r, "out_h", -1),
                     json_int(r, "out_w", -1));
    }
}

/* Hand-made layout check: with rescale and normalise off, each value is the source pixel, so
   the row order (2x2 merge windows) and the [c][t][y][x] layout can be read off directly. */
static void test_qwen2vl_patch_order(void **state) {
    (void)state;
    struct image_processor p;
    load_case("qwen2vl_p2", &p);
    p.do_resize = p.do_rescale = p.do_normalize = 0;
    struct image img;
    image_alloc(&img, 8, 4, 0, 0, 0); /* 4 x 2 patches of 2x2 -> 2 x 1 merge windows */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++) {
            uint8_t *px = img.rgb + (y * 8 + x) * 3;
            px[0] = (uint8_t)(10 * y + x);
            px[1] = (uint8_t)(100 + 10 * y + x);
            px[2] = 7;
        }
    struct pixel_values pv;
    struct error err;
    CHECK_OK(image_processor_run(&p, &img, &pv, &err), &err);
    assert_int_equal(pv.n_rows, 8);
    assert_int_equal(pv.row_len, 24);
    assert_int_equal(pv.grid_h, 2);
    assert_int_equal(pv.grid_w, 4);
    /* row 0: patch (0,0); row 1: (0,1); row 2: (1,0); row 3: (1,1); row 4: (0,2) (next window) */
    const int top_left[8][2] = {{0, 0}, {0, 2}, {2, 0}, {2, 2}, {0, 4}, {0, 6}, {2, 4}, {2, 6}};
    for (int r = 0; r < 8; r++) {
        const float *row = pv.data + r * 24;
        int y0 = top_left[r][0], x0 = top_left[r][1];
        for (int t = 0; t < 2; t++) {
            assert_true(row[t * 4 + 0] == 10 * y0 + x0);            /* c0, this t, (0,0) */
            assert_true(row[t * 4 + 3] == 10 * (y0 + 1) + x0 + 1); /* c0, (1,1) */
            assert_true(row[8 + t * 4 + 1] == 100 + 10 * y0 + x0 + 1); /* c1, (0,1) */
            assert_true(row[16 + t * 4 + 2] == 7);
        }
    }
    pixel_values_free(&pv);
    image_free(&img);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_config_errors_and_defaults(void **state) {
    (void)state;
    char path[] = "/tmp/sparsemm_test_preprocess_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct image_processor p;
    struct error err;

    write_text(path, "{\"image_processor_type\": \"SiglipImageProcessor\"}");
    assert_int_equal(image_processor_load(&p, path, &err), -1);
    assert_msg_contains(err.msg, path);
    assert_msg_contains(err.msg, "SiglipImageProcessor");

    write_text(path, "{\"do_resize\": true}");
    assert_int_equal(image_processor_load(&p, path, &err), -1);
    assert_msg_contains(err.msg, "image_processor_type");

    write_text(path, "{\"image_processor_type\": \"CLIPImageProcessor\", \"resample\": 2}");
    assert_int_equal(image_processor_load(&p, path, &err), -1);
    assert_msg_contains(err.msg, "resample");

    write_text(path, "{\"image_processor_type\": \"LlavaNextImageProcessor\", \"image_grid_pinpoints\": [[336]]}");
    assert_int_equal(image_processor_load(&p, path, &err), -1);
    assert_msg_contains(err.msg, "image_grid_pinpoints[0]");

    write_text(path, "{\"image_processor_type\": \"CLIPImageProcessor\", \"size\": {\"shortest_edge\": -3}}");
    assert_int_equal(image_processor_load(&p, path, &err), -1);
    assert_msg_contains(err.msg, "shortest_edge");

    /* class defaults; an old-style config with ints for size and crop_size */
    write_text(path, "{\"feature_extractor_type\": \"CLIPFeatureExtractor\", \"size\": 336, \"crop_size\": 336}");
    CHECK_OK(image_processor_load(&p, path, &err), &err);
    assert_int_equal(p.kind, IMGPROC_CLIP);
    assert_int_equal(p.shortest_edge, 336);
    assert_int_equal(p.crop_h, 336);
    assert_int_equal(p.crop_w, 336);
    assert_true(p.mean[0] == 0.48145466f && p.std[2] == 0.27577711f);

    write_text(path, "{\"processor_class\": \"LlavaNextProcessor\"}");
    CHECK_OK(image_processor_load(&p, path, &err), &err);
    assert_int_equal(p.kind, IMGPROC_LLAVA_NEXT);
    assert_int_equal(p.n_pinpoints, 5);
    assert_int_equal(p.pinpoints[3][0], 1008);

    /* do_pad means pad-to-square only for LlavaImageProcessor; the fill is int(255 * mean) */
    write_text(path, "{\"image_processor_type\": \"CLIPImageProcessorFast\", \"do_pad\": true}");
    CHECK_OK(image_processor_load(&p, path, &err), &err);
    assert_int_equal(p.do_pad, 0);
    write_text(path, "{\"image_processor_type\": \"LlavaImageProcessor\", \"do_pad\": true}");
    CHECK_OK(image_processor_load(&p, path, &err), &err);
    assert_int_equal(p.do_pad, 1);
    assert_int_equal(p.pad_rgb[0], 122);
    assert_int_equal(p.pad_rgb[1], 116);
    assert_int_equal(p.pad_rgb[2], 104);

    write_text(path, "{\"image_processor_type\": \"Qwen2VLImageProcessor\", \"size\": {\"shortest_edge\": 100, "
                     "\"longest_edge\": 5000}, \"max_pixels\": 602112}");
    CHECK_OK(image_processor_load(&p, path, &err), &err);
    assert_int_equal(p.kind, IMGPROC_QWEN2_VL);
    assert_int_equal(p.min_pixels, 100);
    assert_int_equal(p.max_pixels, 602112); /* the top-level key wins, as in transformers */
    assert_int_equal(p.patch_size, 14);
    unlink(path);

    assert_int_equal(image_processor_load(&p, FIXTURES "/no_such_config.json", &err), -1);
    assert_msg_contains(err.msg, "no_such_config.json");
    pixel_values_free(NULL);
}

/* CLIP-336 on a 640x480 photo must cost a few milliseconds (resize 640x480 -> 448x336, crop,
   normalise), not hundreds. The bound is loose for a shared machine. */
static void test_clip_speed(void **state) {
    (void)state;
    struct image_processor p;
    struct image img;
    struct pixel_values pv;
    struct error err;
    load_case("clip336", &p);
    load_image("photo_640x480.jpg", &img);
    double best = 1e9;
    for (int i = 0; i < 5; i++) {
        double t0 = now_ms();
        CHECK_OK(image_processor_run(&p, &img, &pv, &err), &err);
        double dt = now_ms() - t0;
        if (dt < best) best = dt;
        pixel_values_free(&pv);
    }
    printf("CLIP-336 preprocessing of 640x480: %.2f ms\n", best);
    assert_true(best < 50);
    image_free(&img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_processors_match_transformers),
        cmocka_unit_test(test_llava_next_tokens),
        cmocka_unit_test(test_qwen2vl_smart_resize),
        cmocka_unit_test(test_qwen2vl_patch_order),
        cmocka_unit_test(test_config_errors_and_defaults),
        cmocka_unit_test(test_clip_speed),
    };
    return cmocka_run_group_tests_name("preprocess", tests, load_manifest, free_manifest);
}
