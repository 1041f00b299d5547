/* cmd_generate.c: `sparsemm generate` (being written: the engine lands with issue 2). */
#include <stdio.h>
#include "harness/commands.h"

int cmd_generate(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "sparsemm generate: the engine is not built yet\n");
    return 2;
}
