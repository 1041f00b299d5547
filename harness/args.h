/*
 * args.h: command-line options from a table. Each command declares its options once (name,
 * kind, destination, help) and gets parsing, validation and --help from that table, so every
 * command reports bad options the same way: "sparsemm <cmd>: --budget: 'x' is not an integer".
 */
#ifndef SPARSEMM_ARGS_H
#define SPARSEMM_ARGS_H

enum arg_kind {
    ARG_STR,    /* const char ** */
    ARG_INT,    /* int * */
    ARG_DOUBLE, /* double * */
    ARG_FLAG,   /* int *, set to 1 */
    ARG_LIST,   /* struct arg_list *: the option may repeat; each value is appended */
};

struct arg_list {
    const char **items;
    int n;
};

struct arg_spec {
    const char *name;  /* without the leading "--" */
    enum arg_kind kind;
    void *dest;
    const char *meta;  /* value placeholder for help, e.g. "DIR" */
    const char *help;
};

/* Parse argv[1..argc) (argv[0] is the command). Positional arguments (not starting with "--")
   go to positional, if given, else are an error. Prints help and returns 1 for --help, -1 on a
   bad option (message on stderr), 0 otherwise. */
int args_parse(const char *cmd, const char *synopsis, const struct arg_spec *specs, int n_specs, int argc,
               char **argv, struct arg_list *positional);
void args_usage(const char *cmd, const char *synopsis, const struct arg_spec *specs, int n_specs);
void arg_list_free(struct arg_list *l);
/* Parse "64,128,256" into a fresh array (*out, caller frees) of *n ints; -1 if malformed. */
int split_csv_ints(const char *s, int **out, int *n);

#endif
