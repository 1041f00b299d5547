/*
 * test_score_cmd.c: `sparsemm score` (harness/cmd_score.c) on a prediction JSONL: the summary
 * it writes (--json) and the per-sample rows (--rows) for a small DocVQA file with hand-computed
 * ANLS values, both metric variants, and its refusals (duplicate predictions, bad options).
 */
#include "tests/test_util.h"

#include <fcntl.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "engine/json.h"
#include "harness/commands.h"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    strcpy(tmpdir, "/tmp/sparsemm_score_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static char *put(const char *name, const char *text) {
    char *path = path_join(tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Run `sparsemm score ARGS...` with stdout and stderr silenced; returns its exit status. */
static int run_score(const char *const *args) {
    char *argv[16] = {"score"};
    int argc = 1;
    while (args[argc - 1]) argv[argc] = (char *)args[argc - 1], argc++;
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    int rc = cmd_score(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    close(null);
    return rc;
}

static const char docvqa[] =
    "{\"data\": ["
    "{\"questionId\": 1, \"question\": \"q1\", \"image\": \"d/1.png\", \"answers\": [\"0.28\"], \"question_types\": [\"form\"]},"
    "{\"questionId\": 2, \"question\": \"q2\", \"image\": \"d/2.png\", \"answers\": [\"Nan Allison\"], \"question_types\": [\"form\", \"layout\"]},"
    "{\"questionId\": 3, \"question\": \"q3\", \"image\": \"d/3.png\", \"answers\": [\"abcd\"], \"question_types\": [\"layout\"]},"
    "{\"questionId\": 4, \"question\": \"q4\", \"image\": \"d/4.png\", \"answers\": [\"x\"]}]}";

static void test_summary_and_rows(void **state) {
    (void)state;
    char *data = put("val.json", docvqa);
    /* q1: "0.29  " -> 1 - 1/6 (raw length 6); q2: exact (case folded) -> 1; q3: "ab" -> 0.5;
       q4: no prediction; one prediction for an unknown key is ignored. */
    char *pred = put("pred.jsonl",
                     "{\"questionId\": 1, \"prediction\": \"0.29  \"}\n"
                     "{\"qid\": \"2\", \"answer\": \"NAN ALLISON\"}\n"
                     "{\"key\": 3, \"text\": \"ab\"}\n"
                     "{\"questionId\": 99, \"prediction\": \"?\"}\n");
    char *spec = xasprintf("docvqa=%s", data);
    char *json = path_join(tmpdir, "summary.json"), *rows = path_join(tmpdir, "rows.jsonl");
    assert_int_equal(run_score((const char *[]){"--data", spec, "--pred", pred, "--json", json, "--rows", rows, NULL}), 0);
    struct error err;
    cJSON *s = json_load_file(json, &err);
    assert_non_null(s);
    double want = (1 - 1.0 / 6 + 1 + 0.5) / 3;
    assert_true(fabs(json_num(s, "value", -1) - want) < 1e-12);
    assert_int_equal(json_int(s, "n_scored", -1), 3);
    assert_int_equal(json_int(s, "n_samples", -1), 4);
    assert_string_equal(json_str(s, "metric", ""), "anls");
    const cJSON *cats = cJSON_GetObjectItem(s, "categories");
    assert_true(fabs(json_num(cJSON_GetObjectItem(cats, "form"), "value", -1) - (1 - 1.0 / 6 + 1) / 2) < 1e-12);
    assert_true(fabs(json_num(cJSON_GetObjectItem(cats, "layout"), "value", -1) - 0.75) < 1e-12);
    cJSON_Delete(s);
    char *text;
    size_t len;
    CHECK_OK(read_file(rows, &text, &len, &err), &err);
    assert_msg_contains(text, "{\"key\":\"3\",\"score\":0.5,\"prediction\":\"ab\"}");
    free(text);

    /* lmms-eval strips the output first: q1 becomes 0.75. */
    assert_int_equal(run_score((const char *[]){"--data", spec, "--pred", pred, "--json", json, "--variant", "lmms-eval", NULL}), 0);
    s = json_load_file(json, &err);
    assert_true(fabs(json_num(s, "value", -1) - (0.75 + 1 + 0.5) / 3) < 1e-12);
    assert_string_equal(json_str(s, "variant", ""), "lmms-eval");
    cJSON_Delete(s);
    free(spec);
    free(json);
    free(rows);
    free(pred);
    free(data);
}

static void test_refusals(void **state) {
    (void)state;
    char *data = put("val2.json", docvqa);
    char *spec = xasprintf("docvqa=%s", data);
    char *dup = put("dup.jsonl", "{\"questionId\": 1, \"prediction\": \"a\"}\n{\"questionId\": 1, \"prediction\": \"b\"}\n");
    char *nokey = put("nokey.jsonl", "{\"prediction\": \"a\"}\n");
    assert_int_equal(run_score((const char *[]){"--data", spec, "--pred", dup, NULL}), 1);
    assert_int_equal(run_score((const char *[]){"--data", spec, "--pred", nokey, NULL}), 1);
    assert_int_equal(run_score((const char *[]){"--data", spec, NULL}), 2);
    assert_int_equal(run_score((const char *[]){"--data", spec, "--pred", dup, "--variant", "x", NULL}), 2);
    assert_int_equal(run_score((const char *[]){"--data", "vqav2=x", "--pred", dup, NULL}), 2);
    assert_int_equal(run_score((const char *[]){"--help", NULL}), 0);
    free(spec);
    free(dup);
    free(nokey);
    free(data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_and_rows),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("score_cmd", tests, setup, teardown);
}
