/* test_unicode.c: UTF-8, categories, Python whitespace/case mappings and NFC against values
   produced by Python (tests/fixtures/unicode/cases.json, from tools/unicode/make_fixture.py) and
   hand-picked cases. */
#include "tests/test_util.h"
#include "engine/json.h"
#include "engine/unicode.h"

#define FIXTURE "tests/fixtures/unicode/cases.json"

static cJSON *load_fixture(void) {
    struct error err;
    cJSON *root = json_load_file(FIXTURE, &err);
    if (!root) fail_msg("%s", err.msg);
    return root;
}

static void test_utf8_roundtrip(void **state) {
    (void)state;
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* a é € 😀 */
    size_t n;
    uint32_t *cps = utf8_to_cps(s, strlen(s), &n);
    assert_int_equal(n, 4);
    assert_int_equal(cps[0], 'a');
    assert_int_equal(cps[1], 0xE9);
    assert_int_equal(cps[2], 0x20AC);
    assert_int_equal(cps[3], 0x1F600);
    char *back = cps_to_utf8(cps, n);
    assert_string_equal(back, s);
    assert_int_equal(utf8_length(s), 4);
    free(cps);
    free(back);
    char buf[4];
    assert_int_equal(utf8_encode(0x10FFFF, buf), 4);
    assert_int_equal(utf8_encode(0xD800, buf), 3); /* not encodable: U+FFFD */
    assert_memory_equal(buf, "\xef\xbf\xbd", 3);
}

static int hex_nibble(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

/* bytes.decode('utf-8', 'replace') for valid and ill-formed inputs. */
static void test_utf8_invalid_like_python(void **state) {
    (void)state;
    cJSON *root = load_fixture();
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "utf8")) {
        const char *hex = json_str(c, "hex", "");
        size_t nb = strlen(hex) / 2;
        char bytes[64];
        for (size_t i = 0; i < nb; i++) bytes[i] = (char)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
        size_t n;
        uint32_t *cps = utf8_to_cps(bytes, nb, &n);
        const cJSON *want = cJSON_GetObjectItem(c, "cps");
        if ((int)n != cJSON_GetArraySize(want)) fail_msg("%s: %zu code points, want %d", hex, n, cJSON_GetArraySize(want));
        for (size_t i = 0; i < n; i++)
            if (cps[i] != (uint32_t)cJSON_GetArrayItem(want, (int)i)->valuedouble)
                fail_msg("%s: code point %zu is U+%04X", hex, i, cps[i]);
        free(cps);
    }
    cJSON_Delete(root);
}

static uint64_t fnv(uint64_t h, const char *s, size_t n) { return fnv1a64(s, n, h); }

/* Every code point: categories, isspace, lower, upper and NFC, digested per 4096-block. */
static void test_every_code_point(void **state) {
    (void)state;
    cJSON *root = load_fixture();
    const cJSON *blocks = cJSON_GetObjectItem(root, "blocks");
    assert_int_equal(cJSON_GetArraySize(blocks), 0x110);
    for (uint32_t b = 0; b < 0x110; b++) {
        uint64_t h = FNV1A64_INIT;
        for (uint32_t cp = b << 12; cp < (b + 1) << 12; cp++) {
            if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) continue;
            char s[5] = {0};
            s[utf8_encode(cp, s)] = 0;
            char flags = (char)(uni_is_letter(cp) | uni_is_number(cp) << 1 | py_is_space(cp) << 2);
            char *lo = py_lower(s), *up = py_upper(s), *nfc = uni_nfc(s);
            h = fnv(h, &flags, 1);
            h = fnv(h, lo, strlen(lo));
            h = fnv(h, "\xff", 1);
            h = fnv(h, up, strlen(up));
            h = fnv(h, "\xff", 1);
            h = fnv(h, nfc, strlen(nfc));
            h = fnv(h, "\xff", 1);
            if (py_upper_len(s) != utf8_length(up)) fail_msg("py_upper_len(U+%04X)", cp);
            free(lo);
            free(up);
            free(nfc);
        }
        char got[17];
        snprintf(got, sizeof got, "%016llx", (unsigned long long)h);
        const char *want = cJSON_GetArrayItem(blocks, (int)b)->valuestring;
        if (strcmp(got, want)) fail_msg("block U+%04X..U+%04X differs from Python", b << 12, ((b + 1) << 12) - 1);
    }
    cJSON_Delete(root);
}

static void test_strings_like_python(void **state) {
    (void)state;
    cJSON *root = load_fixture();
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "strings")) {
        const char *s = json_str(c, "s", NULL);
        char *lo = py_lower(s), *up = py_upper(s), *nfc = uni_nfc(s);
        if (strcmp(lo, json_str(c, "lower", ""))) fail_msg("lower(\"%s\") = \"%s\"", s, lo);
        if (strcmp(up, json_str(c, "upper", ""))) fail_msg("upper(\"%s\") = \"%s\"", s, up);
        if (strcmp(nfc, json_str(c, "nfc", ""))) fail_msg("nfc(\"%s\") = \"%s\"", s, nfc);
        assert_int_equal(py_upper_len(s), json_int(c, "upper_len", -1));
        free(lo);
        free(up);
        free(nfc);
        count++;
    }
    assert_true(count > 300);
    cJSON_Delete(root);
}

/* Cases checked by hand in Python 3.11. */
static void test_hand_picked(void **state) {
    (void)state;
    char *s = py_lower("\xc4\xb0"); /* 'İ'.lower() == 'i̇' (2 code points) */
    assert_string_equal(s, "i\xcc\x87");
    assert_int_equal(utf8_length(s), 2);
    free(s);
    s = py_upper("stra\xc3\x9f" "e"); /* 'straße'.upper() == 'STRASSE' */
    assert_string_equal(s, "STRASSE");
    free(s);
    assert_int_equal(py_upper_len("\xc3\x9f"), 2);
    s = py_lower("\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3"); /* 'ΟΔΟΣ Σ'.lower() == 'οδος σ' */
    assert_string_equal(s, "\xce\xbf\xce\xb4\xce\xbf\xcf\x82 \xcf\x83");
    free(s);
    assert_true(py_is_space(0x3000));
    assert_true(py_is_space(0x1C)); /* Python counts the information separators */
    assert_false(uni_is_space(0x1C)); /* White_Space (regex \s) does not */
    assert_true(uni_is_space(0x85) && py_is_space(0x85));
    assert_false(py_is_space(0x200B));
    s = uni_nfc("e\xcc\x81"); /* e + U+0301 -> é */
    assert_string_equal(s, "\xc3\xa9");
    free(s);
    s = uni_nfc("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"); /* jamo ᄒ ᅡ ᆫ -> 한 */
    assert_string_equal(s, "\xed\x95\x9c");
    free(s);
    assert_true(uni_is_letter(0x4E2D));   /* 中 Lo */
    assert_true(uni_is_letter(0x3042));   /* あ Lo */
    assert_true(uni_is_letter(0x0416));   /* Ж Lu */
    assert_true(uni_is_letter(0x05D0));   /* א Lo */
    assert_false(uni_is_letter(0x0301));  /* combining acute: Mn */
    assert_true(uni_is_number(0x0663));   /* Arabic-Indic three: Nd */
    assert_true(uni_is_number(0x2160));   /* Roman numeral one: Nl */
    assert_true(uni_is_number(0x00BD));   /* ½: No */
    assert_false(uni_is_number(0x1F600));
    /* Rust regex \w (used for added tokens' single_word): letters, marks, Nd, Nl, Pc, ZWJ. */
    assert_true(uni_is_word('_') && uni_is_word('7') && uni_is_word(0xE9) && uni_is_word(0x301));
    assert_true(uni_is_word(0x0663) && uni_is_word(0x2160) && uni_is_word(0x200D) && uni_is_word(0x24B6));
    assert_false(uni_is_word('-') || uni_is_word(' ') || uni_is_word(0x00BD) || uni_is_word(0x1F600));
    assert_false(uni_is_letter(0x1F600));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_roundtrip),
        cmocka_unit_test(test_utf8_invalid_like_python),
        cmocka_unit_test(test_every_code_point),
        cmocka_unit_test(test_strings_like_python),
        cmocka_unit_test(test_hand_picked),
    };
    return cmocka_run_group_tests_name("unicode", tests, NULL, NULL);
}
