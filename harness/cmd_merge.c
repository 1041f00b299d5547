/*
 * cmd_merge.c: `sparsemm merge a.sqlite b.sqlite ... --into all.sqlite`: join the databases of
 * sharded sweeps (results/merge.h has the rules: runs matched by configuration key, conflicting
 * samples refuse the whole merge and leave the target as it was).
 */
#include <stdio.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "results/merge.h"

int cmd_merge(int argc, char **argv) {
    const char *into = NULL;
    struct arg_spec specs[] = {
        {"into", ARG_STR, &into, "FILE", "the merged database (created when missing; merged into when present)"},
    };
    struct arg_list sources = {0};
    int rc = args_parse("merge", "SHARD.sqlite... --into FILE", specs, sizeof specs / sizeof specs[0],
                        argc, argv, &sources);
    if (rc) {
        arg_list_free(&sources);
        return rc > 0 ? 0 : 2;
    }
    if (!into || sources.n == 0) {
        fprintf(stderr, "sparsemm merge: need at least one source database and --into FILE (see --help)\n");
        arg_list_free(&sources);
        return 2;
    }
    struct merge_stats st;
    struct error err = {{0}};
    rc = results_merge(into, sources.items, sources.n, &st, &err);
    if (rc) {
        fprintf(stderr, "sparsemm merge: %s\n", err.msg);
    } else {
        printf("merged %d database%s into %s: %lld runs (%lld new), %lld samples added, "
               "%lld identical duplicates skipped, %lld re-timed duplicates (first copy kept), "
               "%lld bench rows added (%lld already present)\n",
               sources.n, sources.n == 1 ? "" : "s", into, (long long)(st.runs_added + st.runs_matched),
               (long long)st.runs_added, (long long)st.samples_added, (long long)st.samples_identical,
               (long long)st.samples_retimed, (long long)st.bench_added, (long long)st.bench_identical);
    }
    arg_list_free(&sources);
    return rc ? 1 : 0;
}
