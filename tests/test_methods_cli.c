/*
 * test_methods_cli.c: `sparsemm methods` and `sparsemm allocation` end to end (the command
 * functions, output captured): the SparseMM worked numbers of research/sparsemm.md §2.7 from the
 * shipped head file, a model shape read from config.json, the AdaKV floor view, and errors.
 */
#include "tests/test_util.h"

#include <fcntl.h>
#include <unistd.h>

#include "harness/commands.h"

#define LLAVA "tests/fixtures/methods/llava-v1.6.json"
#define GQA_MODEL "tests/fixtures/golden/llava_gqa" /* 3 layers, 4 query heads, 2 KV heads */

/* Run a command with stdout and stderr sent to a scratch file; returns what it printed. */
static char *run(command_fn fn, int *rc, int argc, const char **argv) {
    char path[64];
    snprintf(path, sizeof path, "build/test_methods_cli_%d.txt", (int)getpid());
    fflush(stdout);
    fflush(stderr);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644), out = dup(1), errfd = dup(2);
    assert_true(fd >= 0);
    dup2(fd, 1);
    dup2(fd, 2);
    *rc = fn(argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(errfd, 2);
    close(out);
    close(errfd);
    close(fd);
    char *text;
    size_t len;
    struct error err = {0};
    CHECK_OK(read_file(path, &text, &len, &err), &err);
    unlink(path);
    return text;
}

#define RUN(fn, rc, ...)                                                                   \
    ({                                                                                     \
        const char *argv_[] = {__VA_ARGS__};                                               \
        run(fn, rc, (int)(sizeof argv_ / sizeof argv_[0]), argv_);                         \
    })

static void test_allocation_worked_numbers(void **state) {
    (void)state;
    int rc;
    char *out = RUN(cmd_allocation, &rc, "allocation", "--method", "sparsemm", "--budget", "64", "--layers", "32",
                    "--heads-q", "32", "--heads", LLAVA);
    assert_int_equal(rc, 0);
    assert_msg_contains(out, "min 3 (layer 0 head 1), max 766 (layer 14 head 24)");
    assert_msg_contains(out, "selected: sum 32752 vs L*H_kv*(B-w) = 32768");
    assert_msg_contains(out, "with the window: sum 65520 vs L*H_kv*B = 65536");
    free(out);
    out = RUN(cmd_allocation, &rc, "allocation", "--method", "sparsemm", "--budget", "128", "--layers", "32",
              "--heads-q", "32", "--heads", LLAVA);
    assert_msg_contains(out, "max 2298 (layer 14 head 24)");
    free(out);
    out = RUN(cmd_allocation, &rc, "allocation", "--method", "sparsemm", "--budget", "256", "--layers", "32",
              "--heads-q", "32", "--heads", LLAVA, "--prompt-len", "3000");
    assert_msg_contains(out, "min 22");
    assert_msg_contains(out, "max 5337 (layer 14 head 24)");
    assert_msg_contains(out, "kept from a 3000-token prompt:");
    free(out);
}

/* Shape from config.json; pyramid at n = 100, B = 64, 3 layers: 63, 32, 1 (+ window 32). */
static void test_allocation_from_model(void **state) {
    (void)state;
    int rc;
    char *out = RUN(cmd_allocation, &rc, "allocation", "--model", GQA_MODEL, "--method", "pyramidkv", "--budget",
                    "64", "--prompt-len", "100");
    assert_int_equal(rc, 0);
    assert_msg_contains(out, "model: 3 layers x 4 query heads, 2 KV heads");
    assert_msg_contains(out, "    0   63   63\n    1   32   32\n    2    1    1\n");
    assert_msg_contains(out, "kept from a 100-token prompt: 384 of 600 tokens (64.0% of the full cache)");
    free(out);
    out = RUN(cmd_allocation, &rc, "allocation", "--model", GQA_MODEL, "--method", "snapkv", "--budget", "64",
              "--prompt-len", "50", "--csv");
    assert_int_equal(rc, 0);
    assert_msg_contains(out, "layer,kv_head,selected,kept\n0,0,50,50\n"); /* n < B: not compressed */
    free(out);
}

static void test_allocation_adakv_and_full_cache(void **state) {
    (void)state;
    int rc;
    char *out = RUN(cmd_allocation, &rc, "allocation", "--method", "adakv", "--budget", "128", "--layers", "2",
                    "--heads-q", "4", "--heads-kv", "2");
    assert_int_equal(rc, 0);
    assert_msg_contains(out, "the floor every head keeps");
    assert_msg_contains(out, "    0   19   19\n");  /* int(96 * 0.2) */
    assert_msg_contains(out, "about H_kv*(B-w) = 192");
    free(out);
    out = RUN(cmd_allocation, &rc, "allocation", "--method", "mask", "--layers", "32", "--heads-q", "32", "--heads",
              LLAVA);
    assert_int_equal(rc, 0);
    assert_msg_contains(out, "keeps the full cache");
    assert_msg_contains(out, " 14-24 ");
    assert_msg_contains(out, "(102 of 1024)"); /* int(0.1 * 1024) */
    free(out);
}

static void test_allocation_errors(void **state) {
    (void)state;
    int rc;
    char *out = RUN(cmd_allocation, &rc, "allocation", "--method", "snapkv", "--budget", "64", "--layers", "2",
                    "--heads-q", "2", "--param", "kernel=4");
    assert_int_equal(rc, 2);
    assert_msg_contains(out, "parameter 'kernel' of method snapkv: 4 is out of range");
    free(out);
    out = RUN(cmd_allocation, &rc, "allocation", "--method", "sparsemm", "--budget", "64", "--model", GQA_MODEL,
              "--heads", LLAVA);
    assert_int_equal(rc, 1);
    assert_msg_contains(out, LLAVA ": 32 layers x 32 heads of scores, but the model has 3 layers x 4 query heads");
    free(out);
    out = RUN(cmd_allocation, &rc, "allocation", "--method", "sparsemm", "--budget", "64", "--layers", "2",
              "--heads-q", "2");
    assert_int_equal(rc, 1);
    assert_msg_contains(out, "needs visual-head scores");
    free(out);
    out = RUN(cmd_allocation, &rc, "allocation", "--method", "snapkv", "--layers", "2", "--heads-q", "2");
    assert_int_equal(rc, 2);
    assert_msg_contains(out, "--budget is required");
    free(out);
    out = RUN(cmd_allocation, &rc, "allocation", "--method", "snapkv", "--budget", "64", "--model", "no/such/dir");
    assert_int_equal(rc, 1);
    assert_msg_contains(out, "no/such/dir/config.json");
    free(out);
}

static void test_methods_listing(void **state) {
    (void)state;
    int rc;
    char *out = RUN(cmd_methods, &rc, "methods");
    assert_int_equal(rc, 0);
    for (int i = 0; i < 9; i++) {
        const char *names[] = {"fullkv", "snapkv", "pyramidkv", "adakv", "sparsemm", "random", "mask", "streamingllm", "h2o"};
        assert_msg_contains(out, names[i]);
    }
    assert_msg_contains(out, "freeze_first  0 or 1, default 0; 1 = reproduce the official");
    assert_msg_contains(out, "kernel        odd int in [1, 63], default 5");
    free(out);
    out = RUN(cmd_methods, &rc, "methods", "--json");
    assert_int_equal(rc, 0);
    assert_msg_contains(out, "\"name\":\t\"sparsemm\"");
    assert_msg_contains(out, "\"needs_head_scores\":\ttrue");
    free(out);
    out = RUN(cmd_methods, &rc, "methods", "--help");
    assert_int_equal(rc, 0);
    assert_msg_contains(out, "usage: sparsemm methods");
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocation_worked_numbers),
        cmocka_unit_test(test_allocation_from_model),
        cmocka_unit_test(test_allocation_adakv_and_full_cache),
        cmocka_unit_test(test_allocation_errors),
        cmocka_unit_test(test_methods_listing),
    };
    return cmocka_run_group_tests_name("methods_cli", tests, NULL, NULL);
}
