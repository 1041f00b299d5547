/*
 * test_datasets_load.c: the loaders (datasets/dataset.c and one parser per benchmark) on
 * small files written by the test in the official layouts and as JSONL, plus the official
 * OCRBench.json (tests/fixtures/datasets/, MIT, 1000 items, no images). Checks what each
 * sample holds (key, resolved image, lmms-eval prompt, answers, categories), the messages for
 * broken input (file, entry, key, field) and skip mode.
 */
#include "tests/test_util.h"

#include <sys/stat.h>
#include <unistd.h>
#include "datasets/dataset.h"

#define OCRBENCH_JSON "tests/fixtures/datasets/OCRBench.json"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    strcpy(tmpdir, "/tmp/sparsemm_ds_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* Write text to tmpdir/rel (creating folders); returns the full path (caller frees). */
static char *put(const char *rel, const char *text) {
    char *path = path_join(tmpdir, rel);
    for (char *p = strchr(path + strlen(tmpdir) + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = 0;
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Load kind=path[:options] and expect success. */
static void load_ok(const char *spec_text, struct dataset *ds) {
    struct dataset_spec spec;
    struct error err;
    CHECK_OK(dataset_spec_parse(spec_text, &spec, &err), &err);
    CHECK_OK(dataset_load(&spec, ds, &err), &err);
    dataset_spec_free(&spec);
}

/* Load and expect failure; the message must contain every string in want (NULL-ended). */
static void load_fails(const char *spec_text, const char *const *want) {
    struct dataset_spec spec;
    struct dataset ds;
    struct error err;
    CHECK_OK(dataset_spec_parse(spec_text, &spec, &err), &err);
    if (dataset_load(&spec, &ds, &err) == 0) fail_msg("loading %s should fail", spec_text);
    for (int i = 0; want[i]; i++) assert_msg_contains(err.msg, want[i]);
    assert_int_equal(ds.n, 0);
    dataset_spec_free(&spec);
}

/* s without spaces and newlines (how the HME100k rule reads a formula). Caller frees. */
static char *nospace(const char *s) {
    char *out = xstrdup(s), *o = out;
    for (; *s; s++)
        if (*s != ' ' && *s != '\n') *o++ = *s;
    *o = 0;
    return out;
}

#define TEN(a) "[\"" a "\",\"" a "\",\"" a "\",\"" a "\",\"" a "\",\"" a "\",\"" a "\",\"" a "\",\"" a "\",\"" a "\"]"

static void test_spec_grammar(void **state) {
    (void)state;
    struct dataset_spec s;
    struct error err;
    CHECK_OK(dataset_spec_parse("docvqa=/d/val_v1.0.json", &s, &err), &err);
    assert_int_equal(s.bench->kind, BENCH_DOCVQA);
    assert_string_equal(s.path, "/d/val_v1.0.json");
    assert_null(s.images);
    assert_int_equal(s.limit, 0);
    assert_int_equal(s.check_images, 1);
    assert_int_equal(s.jsonl, -1);
    dataset_spec_free(&s);
    CHECK_OK(dataset_spec_parse("ocrbench=C:/x:y/O.json:images=/img:limit=50:skip_broken:no_image_check"
                                ":format=jsonl:max_new_tokens=7:variant=lmms-eval",
                                &s, &err),
             &err);
    assert_int_equal(s.bench->kind, BENCH_OCRBENCH);
    assert_string_equal(s.path, "C:/x:y/O.json"); /* colons not followed by an option stay */
    assert_string_equal(s.images, "/img");
    assert_int_equal(s.limit, 50);
    assert_int_equal(s.skip_broken, 1);
    assert_int_equal(s.check_images, 0);
    assert_int_equal(s.jsonl, 1);
    assert_int_equal(s.max_new_tokens, 7);
    assert_int_equal(s.variant, VARIANT_LMMS_EVAL);
    dataset_spec_free(&s);
    static const struct { const char *spec, *msg; } bad[] = {
        {"vqav2=x.json", "unknown dataset kind"}, {"x.json", "expected KIND=PATH"},
        {"textvqa=", "empty PATH"}, {"textvqa=a.json:limit=0", "limit must be a positive integer"},
        {"textvqa=a.json:limit=ten", "limit must be"}, {"textvqa=a.json:colour=red", "unknown option 'colour=red'"},
        {"textvqa=a.json:format=csv", "format must be json or jsonl"}, {"docvqa=a.json:variant=x", "variant must be"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (dataset_spec_parse(bad[i].spec, &s, &err) == 0) fail_msg("'%s' should not parse", bad[i].spec);
        assert_msg_contains(err.msg, bad[i].msg);
    }
}

static void test_benchmarks(void **state) {
    (void)state;
    const struct benchmark *t = benchmark_find("textvqa"), *d = benchmark_find("docvqa"),
                           *o = benchmark_find("ocrbench"), *s = benchmark_find("synthdog");
    assert_string_equal(t->prompt_suffix, "\nAnswer the question using a single word or phrase.");
    assert_string_equal(d->prompt_suffix, t->prompt_suffix);
    assert_string_equal(o->prompt_suffix, "");
    assert_int_equal(d->max_new_tokens, 32);
    assert_int_equal(o->max_new_tokens, 128);
    assert_int_equal(s->metric, METRIC_NONE);
    assert_string_equal(t->metric_name, "vqa_accuracy");
    assert_null(benchmark_find("vqav2"));
}

static const char textvqa_json[] =
    "{\"dataset_name\": \"textvqa\", \"dataset_type\": \"val\", \"dataset_version\": \"0.5.1\", \"data\": ["
    "{\"question\": \"what does the sign by 'ABC' say?\", \"question_id\": 34602, \"image_id\": \"003a8ae2ef43b901\","
    " \"answers\": " TEN("stop") ", \"set_name\": \"val\"},"
    "{\"question\": \"what brand?\", \"question_id\": 34603, \"image_id\": \"00b2\", \"answers\": " TEN("Nova") "}]}";

static void test_textvqa_official(void **state) {
    (void)state;
    char *path = put("tv/TextVQA_0.5.1_val.json", textvqa_json);
    free(put("tv/train_images/003a8ae2ef43b901.jpg", "x"));
    free(put("tv/train_images/00b2.jpg", "x"));
    char *spec = xasprintf("textvqa=%s", path);
    struct dataset ds;
    load_ok(spec, &ds);
    assert_int_equal(ds.n, 2);
    assert_int_equal(ds.max_new_tokens, 1024);
    const struct sample *s = &ds.samples[0];
    assert_string_equal(s->key, "34602");
    assert_string_equal(s->question, "what does the sign by 'ABC' say?");
    /* capitalize() lower-cases the rest: 'ABC' becomes 'abc' in the prompt. */
    assert_string_equal(s->prompt, "What does the sign by 'abc' say?\nAnswer the question using a single word or phrase.");
    char *img = path_join(tmpdir, "tv/train_images/003a8ae2ef43b901.jpg");
    assert_string_equal(s->image, img);
    free(img);
    assert_int_equal(s->n_answers, 10);
    assert_int_equal(s->n_categories, 0);
    assert_int_equal(dataset_find(&ds, "34603"), 1);
    assert_int_equal(dataset_find(&ds, "999"), -1);
    assert_true(dataset_score(&ds, 0, "STOP.") == 1.0);
    assert_true(dataset_score(&ds, 0, "go") == 0.0);
    assert_true(isnan(dataset_score(&ds, 0, NULL)));
    dataset_free(&ds);
    dataset_free(&ds); /* freeing twice (an emptied struct) is harmless */
    free(spec);

    /* LLaVA's flat folder: images=<dir holding <id>.jpg directly>. */
    free(put("flat/003a8ae2ef43b901.jpg", "x"));
    free(put("flat/00b2.jpg", "x"));
    spec = xasprintf("textvqa=%s:images=%s/flat", path, tmpdir);
    load_ok(spec, &ds);
    char *flat = path_join(tmpdir, "flat/00b2.jpg");
    assert_string_equal(ds.samples[1].image, flat);
    free(flat);
    dataset_free(&ds);
    free(spec);
    free(path);
}

static void test_textvqa_broken(void **state) {
    (void)state;
    char *path = put("tvb/val.json",
                     "{\"data\": [{\"question\": \"q0?\", \"question_id\": 1, \"image_id\": \"a\", \"answers\": " TEN("x") "},"
                     "{\"question\": \"q1?\", \"question_id\": 2, \"image_id\": \"b\", \"answers\": [\"x\", \"y\"]},"
                     "{\"question_id\": 3, \"image_id\": \"a\", \"answers\": " TEN("x") "},"
                     "{\"question\": \"q3?\", \"question_id\": 4, \"image_id\": \"zzz\", \"answers\": " TEN("x") "},"
                     "{\"question\": \"q4?\", \"question_id\": 1, \"image_id\": \"a\", \"answers\": " TEN("x") "},"
                     "[1, 2]]}");
    free(put("tvb/train_images/a.jpg", "x"));
    free(put("tvb/train_images/b.jpg", "x"));
    char *spec = xasprintf("textvqa=%s", path);
    load_fails(spec, (const char *const[]){path, "entry 1 (question_id 2)", "field 'answers' has 2 entries", NULL});
    free(spec);

    spec = xasprintf("textvqa=%s:skip_broken", path);
    struct dataset ds;
    load_ok(spec, &ds);
    assert_int_equal(ds.n, 1);
    assert_string_equal(ds.samples[0].key, "1");
    assert_int_equal(ds.n_broken, 5);
    static const struct { int index; const char *msg; } want[] = {
        {1, "entry 1 (question_id 2): field 'answers' has 2 entries"},
        {2, "entry 2 (question_id 3): field 'question' missing"},
        {3, "entry 3 (question_id 4): image 'train_images/zzz.jpg' not found"},
        {5, "entry 5: entry is not a JSON object"},
        {4, "entry 4 (question_id 1): duplicate key (also entry 0)"},
    };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ds.broken[i].index, want[i].index);
        assert_msg_contains(ds.broken[i].msg, want[i].msg);
        assert_msg_contains(ds.broken[i].msg, path);
    }
    assert_null(ds.broken[3].key);
    assert_string_equal(ds.broken[0].key, "2");
    dataset_free(&ds);
    free(spec);

    /* limit counts entries of the file, broken or not. */
    spec = xasprintf("textvqa=%s:skip_broken:limit=2", path);
    load_ok(spec, &ds);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.n_broken, 1);
    dataset_free(&ds);
    free(spec);
    free(path);
}

static void test_file_errors(void **state) {
    (void)state;
    char *missing = xasprintf("textvqa=%s/nope.json", tmpdir);
    load_fails(missing, (const char *const[]){"nope.json", "cannot open", NULL});
    free(missing);
    char *bad = put("bad.json", "{\"data\": [\n{\"question\": 1,,}\n]}");
    char *spec = xasprintf("docvqa=%s", bad);
    load_fails(spec, (const char *const[]){bad, ":2:", "malformed JSON", NULL});
    free(spec);
    free(bad);
    char *obj = put("obj.json", "{\"rows\": []}");
    spec = xasprintf("docvqa=%s", obj);
    load_fails(spec, (const char *const[]){obj, "'data' array", NULL});
    free(spec);
    free(obj);
    char *empty = put("empty.json", "[]");
    spec = xasprintf("docvqa=%s:images=%s/no_such_dir", empty, tmpdir);
    load_fails(spec, (const char *const[]){"no_such_dir", "does not exist", NULL});
    free(spec);
    free(empty);
}

static void test_docvqa_official_and_jsonl(void **state) {
    (void)state;
    char *path = put("dv/val_v1.0.json",
                     "{\"dataset_name\": \"docvqa\", \"dataset_split\": \"val\", \"data\": ["
                     "{\"questionId\": 49153, \"question\": \"What is the \xe2\x80\x98" "actual\xe2\x80\x99 value?\","
                     " \"image\": \"documents/pybv0228_81.png\", \"answers\": [\"0.28\"],"
                     " \"question_types\": [\"figure/diagram\", \"table/list\"]},"
                     "{\"questionId\": 49154, \"question\": \"Who?\", \"image\": \"documents/pybv0228_81.png\","
                     " \"answers\": [\"Nan Allison\", \"nan allison\"]}]}");
    free(put("dv/documents/pybv0228_81.png", "x"));
    char *spec = xasprintf("docvqa=%s", path);
    struct dataset ds;
    load_ok(spec, &ds);
    assert_int_equal(ds.n, 2);
    assert_int_equal(ds.max_new_tokens, 32);
    const struct sample *s = &ds.samples[0];
    assert_string_equal(s->key, "49153");
    assert_string_equal(s->prompt, "What is the \xe2\x80\x98" "actual\xe2\x80\x99 value?\nAnswer the question using a single word or phrase.");
    assert_int_equal(s->n_categories, 2);
    assert_string_equal(s->categories[1], "table/list");
    assert_int_equal(ds.samples[1].n_categories, 0);
    /* The official reading keeps the raw denominator, lmms-eval strips first. */
    assert_true(fabs(dataset_score(&ds, 0, "0.29  ") - (1.0 - 1.0 / 6)) < 1e-12);
    dataset_free(&ds);
    free(spec);
    spec = xasprintf("docvqa=%s:variant=lmms-eval", path);
    load_ok(spec, &ds);
    assert_true(fabs(dataset_score(&ds, 0, "0.29  ") - 0.75) < 1e-12);
    dataset_free(&ds);
    free(spec);
    free(path);

    /* JSONL export (lmms-lab parquet: questionId as a string), blank lines, a bad line. */
    path = put("dv/docvqa.jsonl",
               "{\"questionId\": \"57344\", \"question\": \"Q?\", \"image\": \"documents/pybv0228_81.png\", \"answers\": [\"a\"]}\n"
               "\n"
               "{\"questionId\": \"57345\", \"question\": \"Q2?\", \"image\": \"documents/pybv0228_81.png\", \"answers\": []}\n"
               "{\"questionId\": 57346, oops}\n");
    spec = xasprintf("docvqa=%s:skip_broken", path);
    load_ok(spec, &ds);
    assert_int_equal(ds.n, 1);
    assert_string_equal(ds.samples[0].key, "57344");
    assert_int_equal(ds.n_broken, 2);
    assert_msg_contains(ds.broken[0].msg, "docvqa.jsonl:3: entry 1 (questionId 57345): field 'answers' is an empty list");
    assert_msg_contains(ds.broken[1].msg, "docvqa.jsonl:4:");
    assert_msg_contains(ds.broken[1].msg, "malformed JSON line");
    dataset_free(&ds);
    free(spec);
    free(path);
}

/* The official OCRBench.json: 1000 items in 10 categories, answers str or list, ids repeated. */
static void test_ocrbench_official(void **state) {
    (void)state;
    struct dataset ds;
    load_ok("ocrbench=" OCRBENCH_JSON ":no_image_check", &ds);
    assert_int_equal(ds.n, 1000);
    assert_int_equal(ds.n_broken, 0);
    static const struct { const char *type; int n; } counts[] = {
        {"Regular Text Recognition", 50}, {"Irregular Text Recognition", 50},
        {"Artistic Text Recognition", 50}, {"Handwriting Recognition", 50},
        {"Digit String Recognition", 50}, {"Non-Semantic Text Recognition", 50},
        {"Scene Text-centric VQA", 200}, {"Doc-oriented VQA", 200},
        {"Key Information Extraction", 200}, {"Handwritten Mathematical Expression Recognition", 100},
    };
    int n_list = 0, n_multi = 0;
    for (size_t c = 0; c < 10; c++) {
        int n = 0;
        for (int i = 0; i < ds.n; i++) n += !strcmp(ds.samples[i].categories[0], counts[c].type);
        if (n != counts[c].n) fail_msg("%s: %d items, want %d", counts[c].type, n, counts[c].n);
    }
    for (int i = 0; i < ds.n; i++) {
        n_list += ds.samples[i].n_answers >= 1;
        n_multi += ds.samples[i].n_answers > 1;
    }
    assert_int_equal(n_list, 1000);
    assert_true(n_multi > 0 && n_multi <= 149);
    const struct sample *s = &ds.samples[0];
    assert_string_equal(s->key, "0");
    assert_string_equal(s->source, "IIIT5K");
    assert_string_equal(s->prompt, "what is written in the image?");
    assert_string_equal(s->answers[0], "CENTRE");
    char *img = path_join("tests/fixtures/datasets", "IIIT5K/test/918_1.png");
    assert_string_equal(s->image, img);
    free(img);
    /* The HME100k rule is case-sensitive and ignores spaces; other sources are not. */
    int hme = -1;
    for (int i = 0; i < ds.n && hme < 0; i++)
        if (!strcmp(ds.samples[i].source, "HME100k")) hme = i;
    assert_true(hme >= 0);
    char *formula = nospace(ds.samples[hme].answers[0]);
    assert_true(dataset_score(&ds, hme, formula) == 1.0);
    char *letter = formula;
    while (*letter && !((*letter | 32) >= 'a' && (*letter | 32) <= 'z')) letter++;
    assert_true(*letter);
    *letter ^= 32; /* flip the case of one letter */
    assert_true(dataset_score(&ds, hme, formula) == 0.0);
    free(formula);
    assert_true(dataset_score(&ds, 0, "the text reads centre") == 1.0);

    /* Perfect predictions: 1000/1000 and the official report lines. */
    double *scores = malloc(sizeof(double) * ds.n);
    for (int i = 0; i < ds.n; i++) scores[i] = dataset_score(&ds, i, ds.samples[i].answers[0]);
    struct aggregate agg;
    dataset_aggregate(&ds, scores, &agg);
    assert_true(agg.value == 1000.0);
    assert_int_equal(agg.n_categories, 10);
    assert_int_equal(agg.n_groups, 5);
    assert_string_equal(agg.groups[0].name, "Text Recognition");
    assert_int_equal(agg.groups[0].n, 300);
    assert_true(agg.groups[0].value == 300.0);
    aggregate_free(&agg);
    /* Half of them right, the rest unscored: scaled to 1000 over the scored ones. */
    for (int i = 0; i < ds.n; i++) scores[i] = i < 100 ? (i % 2) : NAN;
    dataset_aggregate(&ds, scores, &agg);
    assert_int_equal(agg.n_scored, 100);
    assert_true(agg.sum == 50.0);
    assert_true(agg.value == 500.0);
    aggregate_free(&agg);
    aggregate_free(NULL);
    free(scores);
    dataset_free(&ds);

    /* With images required and absent: a clear error, or every entry listed in skip mode. */
    load_fails("ocrbench=" OCRBENCH_JSON,
               (const char *const[]){OCRBENCH_JSON, "entry 0 (position 0)", "image 'IIIT5K/test/918_1.png' not found", NULL});
    load_ok("ocrbench=" OCRBENCH_JSON ":skip_broken", &ds);
    assert_int_equal(ds.n, 0);
    assert_int_equal(ds.n_broken, 1000);
    assert_msg_contains(ds.broken[999].msg, "entry 999 (position 999)");
    dataset_free(&ds);
}

/* lmms-lab's parquet column names (dataset, question_type, answer, image) load too. */
static void test_ocrbench_jsonl_aliases(void **state) {
    (void)state;
    char *path = put("ob/ocrbench.jsonl",
                     "{\"dataset\": \"HME100k\", \"question_type\": \"Handwritten Mathematical Expression Recognition\","
                     " \"image\": \"h.png\", \"question\": \"  Write it. \", \"answer\": [\"x ^ { 2 }\\n\"]}\n"
                     "{\"dataset_name\": \"IIIT5K\", \"type\": \"Regular Text Recognition\", \"image_path\": \"w.png\","
                     " \"question\": \"what is written in the image?\", \"answers\": \"CENTRE\"}\n");
    char *spec = xasprintf("ocrbench=%s:no_image_check", path);
    struct dataset ds;
    load_ok(spec, &ds);
    assert_int_equal(ds.n, 2);
    assert_string_equal(ds.samples[0].prompt, "Write it.");   /* question.strip() */
    assert_string_equal(ds.samples[0].source, "HME100k");
    assert_true(dataset_score(&ds, 0, "$x^{2}$") == 1.0);
    assert_true(dataset_score(&ds, 0, "$X^{2}$") == 0.0);
    assert_true(dataset_score(&ds, 1, "Centre") == 1.0);
    assert_int_equal(ds.samples[1].n_answers, 1);
    dataset_free(&ds);
    free(spec);
    free(path);
}

static void test_synthdog(void **state) {
    (void)state;
    char *path = put("sd/synthdog-en.json",
                     "[{\"id\": 0, \"image_name\": \"images/0.jpg\", \"2_coord\": ["
                     "{\"chunk\": \"Hello\", \"coord\": [[10.5, 20], [60, 41]]},"
                     "{\"chunk\": \"world\", \"coord\": [[70, 20], [130, 41]]}]},"
                     "{\"id\": 1, \"image_name\": \"images/0.jpg\", \"2_coord\": [{\"chunk\": \"x\", \"coord\": [[1, 2]]}]}]");
    free(put("sd/images/0.jpg", "x"));
    char *spec = xasprintf("synthdog=%s:skip_broken", path);
    struct dataset ds;
    load_ok(spec, &ds);
    assert_int_equal(ds.n, 1);
    const struct sample *s = &ds.samples[0];
    assert_string_equal(s->key, "0");
    assert_string_equal(s->prompt, "Provide all the OCR results of this image.");
    assert_int_equal(s->n_boxes, 2);
    assert_string_equal(s->boxes[1].text, "world");
    assert_true(s->boxes[0].x0 == 10.5 && s->boxes[0].y0 == 20 && s->boxes[0].x1 == 60 && s->boxes[0].y1 == 41);
    assert_string_equal(s->answers[0], "Hello world");
    assert_true(isnan(dataset_score(&ds, 0, "Hello world")));
    assert_int_equal(ds.n_broken, 1);
    assert_msg_contains(ds.broken[0].msg, "entry 1 (id 1): field '2_coord': item 0: 'coord' is not [[x0, y0], [x1, y1]]");
    dataset_free(&ds);
    free(spec);
    free(path);
}

/* Means over scored samples, a sample counted in each of its categories. */
static void test_aggregate_mean(void **state) {
    (void)state;
    char *path = put("ag/val.json",
                     "{\"data\": [{\"questionId\": 1, \"question\": \"a\", \"image\": \"i.png\", \"answers\": [\"x\"], \"question_types\": [\"form\"]},"
                     "{\"questionId\": 2, \"question\": \"b\", \"image\": \"i.png\", \"answers\": [\"x\"], \"question_types\": [\"form\", \"layout\"]},"
                     "{\"questionId\": 3, \"question\": \"c\", \"image\": \"i.png\", \"answers\": [\"x\"], \"question_types\": [\"layout\"]}]}");
    char *spec = xasprintf("docvqa=%s:no_image_check", path);
    struct dataset ds;
    load_ok(spec, &ds);
    double scores[3] = {1.0, 0.5, NAN};
    struct aggregate agg;
    dataset_aggregate(&ds, scores, &agg);
    assert_string_equal(agg.metric, "anls");
    assert_int_equal(agg.n_scored, 2);
    assert_true(agg.value == 0.75);
    assert_int_equal(agg.n_categories, 2);
    assert_string_equal(agg.categories[0].name, "form");
    assert_true(agg.categories[0].value == 0.75);
    assert_int_equal(agg.categories[1].n, 1);
    assert_true(agg.categories[1].value == 0.5);
    assert_int_equal(agg.n_groups, 0);
    aggregate_free(&agg);
    dataset_free(&ds);
    free(spec);
    free(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_grammar),
        cmocka_unit_test(test_benchmarks),
        cmocka_unit_test(test_textvqa_official),
        cmocka_unit_test(test_textvqa_broken),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_docvqa_official_and_jsonl),
        cmocka_unit_test(test_ocrbench_official),
        cmocka_unit_test(test_ocrbench_jsonl_aliases),
        cmocka_unit_test(test_synthdog),
        cmocka_unit_test(test_aggregate_mean),
    };
    return cmocka_run_group_tests_name("datasets_load", tests, setup, teardown);
}
