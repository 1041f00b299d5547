/*
 * test_box_tokens.c: box -> image-token positions per architecture (methods/box_tokens.h) on
 * hand-made layouts, against index sets worked out by hand from the official rule
 * (research/sparsemm.md §1.2): pixels per cell = size // cells, columns x0 // px .. x1 // px and
 * rows likewise (inclusive), Python slice clipping, LLaVA-NeXT's newline column and skipped base
 * image, Qwen2-VL's scaling by resized / original. The same mapping is also checked against
 * transformers-built token sets on real layouts in test_head_finder.c.
 */
#include "tests/test_util.h"

#include "methods/box_tokens.h"

/* Positions of box ((x0, y0), (x1, y1)) must be exactly want[0..n). */
static void expect_positions(const struct token_grid *g, double x0, double y0, double x1, double y1, const int32_t *want,
                             int n) {
    struct error err = {{0}};
    struct token_rect r;
    CHECK_OK(box_token_rect(g, x0, y0, x1, y1, &r, &err), &err);
    assert_int_equal(token_rect_count(&r), n);
    int32_t got[256];
    assert_int_equal(token_rect_positions(g, &r, got), n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(got[i], want[i]);
        assert_true(token_rect_contains(g, &r, want[i]));
    }
}

/* LLaVA-1.5: 24 x 24 grid from a 500 x 400 image: 20 px per column (500 // 24), 16 per row. */
static struct token_grid llava_grid(void) {
    struct image_features f = {.orig_w = 500, .orig_h = 400, .grid_h = 24, .grid_w = 24, .n_tokens = 576};
    struct token_grid g;
    struct error err = {{0}};
    CHECK_OK(token_grid_init(&g, ARCH_LLAVA, &f, 35, &err), &err);
    return g;
}

static void test_llava_grid(void **state) {
    (void)state;
    struct token_grid g = llava_grid();
    assert_int_equal(g.first, 35);
    assert_int_equal(g.row_stride, 24);
    assert_int_equal(g.px_w, 20);
    assert_int_equal(g.px_h, 16);
    /* columns 45.5 // 20 = 2 .. 61 // 20 = 3, rows 10 // 16 = 0 .. 33 // 16 = 2 */
    const int32_t a[] = {37, 38, 61, 62, 85, 86};
    expect_positions(&g, 45.5, 10, 61, 33, a, 6);
    /* floor, not rounding: just below the column-2 edge stays in column 1 */
    const int32_t b[] = {36};
    expect_positions(&g, nextafter(40, 0), 0, nextafter(40, 0), 15.9, b, 1);
}

static void test_llava_edges(void **state) {
    (void)state;
    struct token_grid g = llava_grid();
    /* 24 cells x 20 px = 480: the image's last 20 px map past the grid; a box there has no token */
    expect_positions(&g, 480, 390, 520, 420, NULL, 0);
    /* clipped at the right edge: columns 23 .. 26 -> 23 */
    const int32_t a[] = {35 + 23, 35 + 24 + 23};
    expect_positions(&g, 479.9, 0, 520, 16, a, 2);
    /* Python slices: a negative start counts from the end. [-1 : 24] is column 23 ... */
    const int32_t b[] = {35 + 23};
    expect_positions(&g, -10, 0, 479, 0, b, 1);
    /* ... and [-2 : 1] is empty */
    expect_positions(&g, -30, 0, 10, 0, NULL, 0);
}

/* LLaVA-NeXT: base image of 16 tokens, then 3 rows x 4 columns, each row + 1 newline token;
   90 x 61 image: 22 px per column (90 // 4), 20 per row (61 // 3). */
static void test_llava_next_grid(void **state) {
    (void)state;
    struct image_features f = {.orig_w = 90, .orig_h = 61, .grid_h = 3, .grid_w = 4, .base_tokens = 16,
                               .has_newline = 1, .n_tokens = 16 + 3 * 5};
    struct token_grid g;
    struct error err = {{0}};
    CHECK_OK(token_grid_init(&g, ARCH_LLAVA_NEXT, &f, 5, &err), &err);
    assert_int_equal(g.first, 21); /* image_start + base tokens: the base image is skipped */
    assert_int_equal(g.row_stride, 5);
    assert_int_equal(g.px_w, 22);
    assert_int_equal(g.px_h, 20);
    /* columns 22 // 22 = 1 .. 65.9 // 22 = 2, rows 19.99 // 20 = 0 .. 40 // 20 = 2 */
    const int32_t a[] = {22, 23, 27, 28, 32, 33};
    expect_positions(&g, 22, 19.99, 65.9, 40, a, 6);
    /* the whole image: every cell, never the newline column (25, 30, 35) or a base token */
    const int32_t all[] = {21, 22, 23, 24, 26, 27, 28, 29, 31, 32, 33, 34};
    expect_positions(&g, 0, 0, 89, 60, all, 12);
    struct token_rect r;
    CHECK_OK(box_token_rect(&g, 0, 0, 89, 60, &r, &err), &err);
    for (int32_t pos = 0; pos < 40; pos++) {
        int newline = pos >= 21 && (pos - 21) % 5 == 4;
        assert_int_equal(token_rect_contains(&g, &r, pos), pos >= 21 && pos < 36 && !newline);
    }
}

/* Qwen2-VL: 300 x 220 resized to 308 x 224, merged grid 8 rows x 11 columns of 28 px; boxes
   scale by 308/300 and 224/220 first. */
static void test_qwen2vl_grid(void **state) {
    (void)state;
    struct image_features f = {.orig_w = 300, .orig_h = 220, .resized_w = 308, .resized_h = 224, .grid_h = 8,
                               .grid_w = 11, .n_tokens = 88};
    struct token_grid g;
    struct error err = {{0}};
    CHECK_OK(token_grid_init(&g, ARCH_QWEN2_VL, &f, 22, &err), &err);
    assert_int_equal(g.first, 22);
    assert_int_equal(g.row_stride, 11);
    assert_int_equal(g.px_w, 28);
    assert_int_equal(g.px_h, 28);
    /* x: 102.67 // 28 = 3 .. 164.78 // 28 = 5; y: 50.91 // 28 = 1 .. 81.45 // 28 = 2 */
    const int32_t a[] = {36, 37, 38, 47, 48, 49};
    expect_positions(&g, 100, 50, 160.5, 80, a, 6);
    /* 27.5 px is in column 0 of the original but column 1 once scaled (28.23) */
    const int32_t b[] = {23};
    expect_positions(&g, 27.5, 0, 27.5, 0, b, 1);
}

static void test_grid_errors(void **state) {
    (void)state;
    struct error err = {{0}};
    struct token_grid g;
    /* 20 px wide, 24 columns: 20 // 24 = 0 px per cell, the official rule divides by zero */
    struct image_features tiny = {.orig_w = 20, .orig_h = 400, .grid_h = 24, .grid_w = 24};
    assert_int_equal(token_grid_init(&g, ARCH_LLAVA, &tiny, 3, &err), -1);
    assert_msg_contains(err.msg, "20x400");
    assert_msg_contains(err.msg, "24 x 24");
    struct image_features none = {.orig_w = 20, .orig_h = 20};
    assert_int_equal(token_grid_init(&g, ARCH_LLAVA, &none, 3, &err), -1);
    g = llava_grid();
    struct token_rect r;
    assert_int_equal(box_token_rect(&g, 0, NAN, 10, 10, &r, &err), -1);
    assert_msg_contains(err.msg, "non-finite");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llava_grid),
        cmocka_unit_test(test_llava_edges),
        cmocka_unit_test(test_llava_next_grid),
        cmocka_unit_test(test_qwen2vl_grid),
        cmocka_unit_test(test_grid_errors),
    };
    return cmocka_run_group_tests_name("box_tokens", tests, NULL, NULL);
}
