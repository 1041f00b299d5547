/* args.c: see args.h. */
#include "harness/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util.h"

void args_usage(const char *cmd, const char *synopsis, const struct arg_spec *specs, int n_specs) {
    printf("usage: sparsemm %s %s\n\noptions:\n", cmd, synopsis);
    for (int i = 0; i < n_specs; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", specs[i].name, specs[i].meta ? " " : "", specs[i].meta ? specs[i].meta : "");
        printf("  %-26s %s\n", left, specs[i].help);
    }
    printf("  %-26s %s\n", "--help", "this text");
}

static int set_value(const char *cmd, const struct arg_spec *s, const char *v) {
    char *end;
    switch (s->kind) {
    case ARG_STR:
        *(const char **)s->dest = v;
        return 0;
    case ARG_INT: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (errno || *end || end == v || x < -2147483647L || x > 2147483647L) {
            fprintf(stderr, "sparsemm %s: --%s: '%s' is not an integer\n", cmd, s->name, v);
            return -1;
        }
        *(int *)s->dest = (int)x;
        return 0;
    }
    case ARG_DOUBLE: {
        errno = 0;
        double x = strtod(v, &end);
        if (errno || *end || end == v) {
            fprintf(stderr, "sparsemm %s: --%s: '%s' is not a number\n", cmd, s->name, v);
            return -1;
        }
        *(double *)s->dest = x;
        return 0;
    }
    case ARG_LIST: {
        struct arg_list *l = s->dest;
        l->items = xrealloc(l->items, sizeof *l->items * (size_t)(l->n + 1));
        l->items[l->n++] = v;
        return 0;
    }
    case ARG_FLAG:
        break;
    }
    return -1;
}

int args_parse(const char *cmd, const char *synopsis, const struct arg_spec *specs, int n_specs, int argc,
               char **argv, struct arg_list *positional) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            args_usage(cmd, synopsis, specs, n_specs);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (!positional) {
                fprintf(stderr, "sparsemm %s: unexpected argument '%s' (see --help)\n", cmd, a);
                return -1;
            }
            positional->items = xrealloc(positional->items, sizeof *positional->items * (size_t)(positional->n + 1));
            positional->items[positional->n++] = a;
            continue;
        }
        /* --name value or --name=value */
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct arg_spec *s = NULL;
        for (int k = 0; k < n_specs && !s; k++)
            if (strlen(specs[k].name) == len && !strncmp(specs[k].name, name, len)) s = &specs[k];
        if (!s) {
            fprintf(stderr, "sparsemm %s: unknown option '%s' (see --help)\n", cmd, a);
            return -1;
        }
        if (s->kind == ARG_FLAG) {
            if (eq) {
                fprintf(stderr, "sparsemm %s: --%s takes no value\n", cmd, s->name);
                return -1;
            }
            *(int *)s->dest = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) {
            fprintf(stderr, "sparsemm %s: --%s needs a value (%s)\n", cmd, s->name, s->meta ? s->meta : "VALUE");
            return -1;
        }
        if (set_value(cmd, s, v)) return -1;
    }
    return 0;
}

void arg_list_free(struct arg_list *l) {
    if (!l) return;
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int split_csv_ints(const char *s, int **out, int *n) {
    *out = NULL;
    *n = 0;
    while (s && *s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || (*end && *end != ',')) {
            free(*out);
            *out = NULL;
            *n = 0;
            return -1;
        }
        *out = xrealloc(*out, sizeof **out * (size_t)(*n + 1));
        (*out)[(*n)++] = (int)v;
        s = *end ? end + 1 : end;
    }
    return 0;
}
