/* test_dtype.c: f16/bf16 <-> f32 conversions against values computed with torch. */
#include "tests/test_util.h"
#include "engine/dtype.h"

static void test_f16_known_values(void **state) {
    (void)state;
    /* torch.tensor([...], dtype=torch.float16).view(torch.int16) */
    struct { uint16_t h; float f; } cases[] = {
        {0x0000, 0.0f}, {0x3c00, 1.0f}, {0xc000, -2.0f}, {0x3555, 0.333251953125f},
        {0x7bff, 65504.0f}, {0x0001, 5.960464477539063e-08f}, {0x03ff, 6.097555160522461e-05f},
        {0x0400, 6.103515625e-05f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(f16_to_f32(cases[i].h) == cases[i].f);
        assert_int_equal(f32_to_f16(cases[i].f), cases[i].h);
    }
    assert_true(isinf(f16_to_f32(0x7c00)));
    assert_int_equal(f32_to_f16(65520.0f), 0x7c00);   /* rounds up to inf */
    assert_int_equal(f32_to_f16(65519.0f), 0x7bff);
    assert_int_equal(f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie -> even */
    assert_int_equal(f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);
}

static void test_f16_roundtrip_all(void **state) {
    (void)state;
    for (uint32_t h = 0; h < 0x10000; h++) {
        uint16_t x = (uint16_t)h;
        if ((x & 0x7c00) == 0x7c00 && (x & 0x3ff)) continue; /* NaN payloads */
        assert_int_equal(f32_to_f16(f16_to_f32(x)), x);
    }
}

static void test_bf16(void **state) {
    (void)state;
    assert_true(bf16_to_f32(0x3f80) == 1.0f);
    assert_int_equal(f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(f32_to_bf16(1.00390625f), 0x3f80);  /* exact tie -> even */
    assert_int_equal(f32_to_bf16(1.01171875f), 0x3f82);  /* tie -> even (up) */
    float f = 3.14159265f;
    assert_true(fabsf(bf16_to_f32(f32_to_bf16(f)) - f) < 0.01f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_known_values),
        cmocka_unit_test(test_f16_roundtrip_all),
        cmocka_unit_test(test_bf16),
    };
    return cmocka_run_group_tests_name("dtype", tests, NULL, NULL);
}
