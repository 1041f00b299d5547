/* test_image.c: decoding, encoding and Pillow-exact bicubic resizing against PIL. The
   references (tests/fixtures/images/manifest.json) come from tools/golden/make_images.py:
   FNV-1a hashes of PIL's decoded and resized RGB bytes, so any single differing byte fails. */
#include "tests/test_util.h"
#include "engine/image.h"
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

static uint64_t image_hash(const struct image *img) {
    return fnv1a64(img->rgb, (size_t)img->w * img->h * 3, FNV1A64_INIT);
}

static uint64_t hex64(const char *s) { return strtoull(s, NULL, 16); }

static void load_src(const char *file, struct image *img) {
    struct error err;
    char path[512];
    snprintf(path, sizeof path, FIXTURES "/src/%s", file);
    CHECK_OK(image_load(img, path, &err), &err);
}

static void test_decode_matches_pil(void **state) {
    (void)state;
    const cJSON *rows = cJSON_GetObjectItem(manifest, "decode"), *r;
    assert_true(cJSON_GetArraySize(rows) >= 20);
    cJSON_ArrayForEach(r, rows) {
        const char *file = json_str(r, "file", "");
        struct image img;
        load_src(file, &img);
        if (img.w != json_int(r, "w", -1) || img.h != json_int(r, "h", -1))
            fail_msg("%s: decoded %dx%d, PIL %dx%d", file, img.w, img.h, json_int(r, "w", -1), json_int(r, "h", -1));
        if (image_hash(&img) != hex64(json_str(r, "rgb_fnv1a64", "")))
            fail_msg("%s: decoded pixels differ from PIL's convert(\"RGB\")", file);
        image_free(&img);
    }
}

/* Hand-checked pixels: the 16-bit gray file's first row is 0, 1, 200, 255, 256, 65535, which
   PIL's I;16 -> RGB conversion clamps (not shifts) to 0, 1, 200, 255, 255, 255. */
static void test_decode_gray16_clamps(void **state) {
    (void)state;
    struct image img;
    load_src("gray16_13x9.png", &img);
    const uint8_t want[6] = {0, 1, 200, 255, 255, 255};
    for (int x = 0; x < 6; x++) {
        assert_int_equal(img.rgb[3 * x], want[x]);
        assert_int_equal(img.rgb[3 * x + 2], want[x]);
    }
    image_free(&img);
}

static void test_load_mem_sniffs_magic(void **state) {
    (void)state;
    struct error err;
    char *data;
    size_t len;
    CHECK_OK(read_file(FIXTURES "/src/rgb_37x23.png", &data, &len, &err), &err);
    struct image a, b;
    CHECK_OK(image_load_mem(&a, data, len, "named.jpg", &err), &err); /* the name does not matter */
    load_src("rgb_37x23.png", &b);
    assert_int_equal(image_hash(&a), image_hash(&b));
    image_free(&a);
    image_free(&b);
    free(data);
}

static void expect_load_error(const void *data, size_t len, const char *what, const char *sub) {
    struct error err = {""};
    struct image img = {0, 0, NULL};
    assert_int_equal(image_load_mem(&img, data, len, what, &err), -1);
    assert_null(img.rgb);
    assert_msg_contains(err.msg, what);
    assert_msg_contains(err.msg, sub);
}

static void test_decode_errors(void **state) {
    (void)state;
    struct error err;
    expect_load_error("", 0, "empty.png", "empty");
    expect_load_error("GIF89a....", 10, "anim.gif", "not a JPEG or PNG");
    char *data;
    size_t len;
    CHECK_OK(read_file(FIXTURES "/src/photo_640x480.jpg", &data, &len, &err), &err);
    expect_load_error(data, len / 2, "half.jpg", "truncated");
    expect_load_error(data, 200, "header_only.jpg", "JPEG");
    free(data);
    CHECK_OK(read_file(FIXTURES "/src/tall_40x300.png", &data, &len, &err), &err);
    expect_load_error(data, len / 2, "half.png", "PNG");
    data[40] ^= 0x55; /* inside IHDR/first chunk: CRC mismatch */
    expect_load_error(data, len, "crc.png", "PNG");
    free(data);
    struct image img;
    assert_int_equal(image_load(&img, FIXTURES "/src/does_not_exist.png", &err), -1);
    assert_msg_contains(err.msg, "does_not_exist.png");
}

static void test_resize_matches_pil(void **state) {
    (void)state;
    const cJSON *rows = cJSON_GetObjectItem(manifest, "resize"), *r;
    assert_true(cJSON_GetArraySize(rows) >= 50);
    cJSON_ArrayForEach(r, rows) {
        const char *file = json_str(r, "file", "");
        int w = json_int(r, "w", 0), h = json_int(r, "h", 0);
        struct image src, dst;
        load_src(file, &src);
        int legacy = strcmp(json_str(r, "passes", ""), "horizontal_first") == 0;
        image_resize_bicubic_passes(&src, &dst, w, h, legacy ? IMAGE_PASSES_HORIZONTAL_FIRST : IMAGE_PASSES_PILLOW);
        assert_int_equal(dst.w, w);
        assert_int_equal(dst.h, h);
        if (image_hash(&dst) != hex64(json_str(r, "rgb_fnv1a64", "")))
            fail_msg("%s -> %dx%d (%s passes): resized pixels differ from PIL's BICUBIC", file, w, h,
                     json_str(r, "passes", ""));
        image_free(&src);
        image_free(&dst);
    }
}

static void test_resize_same_size_is_copy(void **state) {
    (void)state;
    struct image src, dst;
    load_src("rgb_37x23.png", &src);
    image_resize_bicubic(&src, &dst, src.w, src.h);
    assert_ptr_not_equal(dst.rgb, src.rgb);
    assert_memory_equal(dst.rgb, src.rgb, (size_t)src.w * src.h * 3);
    image_free(&src);
    image_free(&dst);
}

/* PIL's JPEG encoder with default options on the same pixels: identical bytes. */
static void test_jpeg_encode_matches_pil(void **state) {
    (void)state;
    const cJSON *rows = cJSON_GetObjectItem(manifest, "jpeg_encode"), *r;
    assert_true(cJSON_GetArraySize(rows) >= 3);
    cJSON_ArrayForEach(r, rows) {
        struct error err;
        struct image src, back;
        uint8_t *buf;
        size_t len;
        load_src(json_str(r, "file", ""), &src);
        CHECK_OK(image_encode_jpeg(&src, json_int(r, "quality", 0), &buf, &len, &err), &err);
        assert_int_equal(len, json_int(r, "bytes", -1));
        assert_int_equal(fnv1a64(buf, len, FNV1A64_INIT), hex64(json_str(r, "jpeg_fnv1a64", "")));
        CHECK_OK(image_load_mem(&back, buf, len, "encoded", &err), &err);
        assert_int_equal(image_hash(&back), hex64(json_str(r, "decoded_fnv1a64", "")));
        free(buf);
        image_free(&src);
        image_free(&back);
    }
}

static void test_save_roundtrip(void **state) {
    (void)state;
    struct error err;
    struct image src, back;
    load_src("rgb_37x23.png", &src);
    char png[] = "/tmp/sparsemm_test_image_XXXXXX";
    int fd = mkstemp(png);
    assert_true(fd >= 0);
    close(fd);
    CHECK_OK(image_save_png(&src, png, &err), &err);
    CHECK_OK(image_load(&back, png, &err), &err);
    assert_int_equal(image_hash(&back), image_hash(&src));
    image_free(&back);
    CHECK_OK(image_save_jpeg(&src, png, 95, &err), &err); /* content decides, not the name */
    CHECK_OK(image_load(&back, png, &err), &err);
    assert_int_equal(back.w, src.w);
    assert_true(fabs((double)back.rgb[0] - src.rgb[0]) < 40);
    image_free(&back);
    unlink(png);
    assert_int_equal(image_save_jpeg(&src, png, 0, &err), -1);
    assert_msg_contains(err.msg, "quality");
    assert_int_equal(image_save_png(&src, "/nonexistent_dir/x.png", &err), -1);
    assert_msg_contains(err.msg, "/nonexistent_dir/x.png");
    image_free(&src);
}

static void test_reframe(void **state) {
    (void)state;
    struct image src, dst;
    image_alloc(&src, 2, 2, 0, 0, 0);
    for (int i = 0; i < 4; i++) src.rgb[3 * i] = (uint8_t)(10 + i); /* R = 10 11 / 12 13 */
    const uint8_t fill[3] = {7, 8, 9};
    image_reframe(&src, &dst, 3, 2, 1, -1, fill); /* src row 1 lands on dst row 0, cols 1..2 */
    const uint8_t want_r[6] = {7, 12, 13, 7, 7, 7};
    for (int i = 0; i < 6; i++) assert_int_equal(dst.rgb[3 * i], want_r[i]);
    assert_int_equal(dst.rgb[3 * 3 + 2], 9);
    image_free(&dst);
    image_reframe(&src, &dst, 2, 2, 5, 5, fill); /* entirely outside: just the fill */
    assert_int_equal(dst.rgb[0], 7);
    image_free(&dst);
    image_free(&src);
    image_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_matches_pil),
        cmocka_unit_test(test_decode_gray16_clamps),
        cmocka_unit_test(test_load_mem_sniffs_magic),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_resize_matches_pil),
        cmocka_unit_test(test_resize_same_size_is_copy),
        cmocka_unit_test(test_jpeg_encode_matches_pil),
        cmocka_unit_test(test_save_roundtrip),
        cmocka_unit_test(test_reframe),
    };
    return cmocka_run_group_tests_name("image", tests, load_manifest, free_manifest);
}
