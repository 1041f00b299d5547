/*
 * test_synth_cmd.c: `sparsemm synth` (harness/cmd_synth.c): the files it writes for each
 * kind load with the matching dataset spec, and it refuses bad options with exit status 2
 * and a missing font with 1.
 */
#include "tests/test_util.h"

#include <fcntl.h>
#include <unistd.h>
#include "datasets/dataset.h"
#include "harness/commands.h"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    strcpy(tmpdir, "/tmp/sparsemm_synthcmd_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* Run `sparsemm synth ARGS...` with stdout and stderr silenced; returns its exit status. */
static int run_synth(const char *const *args) {
    char *argv[32] = {"synth"};
    int argc = 1;
    while (args[argc - 1]) argv[argc] = (char *)args[argc - 1], argc++;
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    int rc = cmd_synth(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    close(null);
    return rc;
}

static void test_writes_loadable_sets(void **state) {
    (void)state;
    static const struct { const char *kind, *file; int n; } sets[] = {
        {"textvqa", "TextVQA_0.5.1_val.json", 6}, {"docvqa", "val_v1.0.json", 6},
        {"ocrbench", "OCRBench.json", 10}, {"synthdog", "synthdog-en.json", 3},
    };
    for (size_t k = 0; k < 4; k++) {
        char *out = path_join(tmpdir, sets[k].kind);
        char n[16];
        snprintf(n, sizeof n, "%d", sets[k].n);
        assert_int_equal(run_synth((const char *[]){"--kind", sets[k].kind, "--n", n, "--seed", "42", "--split", "eval",
                                                    "--out", out, "--width", "320", "--height", "256", "--quiet", NULL}),
                         0);
        char *spec = xasprintf("%s=%s/%s", sets[k].kind, out, sets[k].file);
        struct dataset_spec s;
        struct dataset ds;
        struct error err;
        CHECK_OK(dataset_spec_parse(spec, &s, &err), &err);
        CHECK_OK(dataset_load(&s, &ds, &err), &err);
        assert_int_equal(ds.n, sets[k].n);
        dataset_free(&ds);
        dataset_spec_free(&s);
        free(spec);
        free(out);
    }
}

static void test_refusals(void **state) {
    (void)state;
    char *out = path_join(tmpdir, "refused");
    assert_int_equal(run_synth((const char *[]){"--help", NULL}), 0);
    assert_int_equal(run_synth((const char *[]){"--kind", "vqav2", "--out", out, NULL}), 2);
    assert_int_equal(run_synth((const char *[]){"--kind", "textvqa", NULL}), 2);
    assert_int_equal(run_synth((const char *[]){"--kind", "textvqa", "--out", out, "--split", "test", NULL}), 2);
    assert_int_equal(run_synth((const char *[]){"--kind", "textvqa", "--out", out, "--n", "x", NULL}), 2);
    assert_int_equal(run_synth((const char *[]){"--kind", "textvqa", "--out", out, "--fonts", "Missing.ttf", "--quiet", NULL}), 1);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_loadable_sets),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("synth_cmd", tests, setup, teardown);
}
