/*
 * cmd_methods.c: `sparsemm methods`: the KV-cache method registry as a researcher needs it:
 * each method's summary, what it needs (visual-head scores, which attention statistic) and its
 * parameters with defaults and ranges, i.e. everything `--method NAME --param k=v` accepts.
 */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "methods/method.h"

static const char *stat_name(enum method_stat s) {
    switch (s) {
    case STAT_WINDOW: return "window";
    case STAT_ACCUM: return "accum";
    case STAT_NONE: break;
    }
    return "none";
}

static const char *kind_name(enum param_kind k) {
    switch (k) {
    case PARAM_INT: return "int";
    case PARAM_REAL: return "real";
    case PARAM_BOOL: break;
    }
    return "bool";
}

static void print_text(void) {
    printf("KV-cache methods (--method NAME, parameters as --param name=value).\n"
           "A budget B counts the tokens each KV head keeps, window included; no method compresses a\n"
           "prompt shorter than B.\n\n");
    for (int i = 0; i < method_count(); i++) {
        const struct method *m = method_at(i);
        printf("%-13s %s\n", m->name, m->summary);
        if (m->full_cache) printf("%-13s keeps the full cache\n", "");
        else if (m->stat == STAT_WINDOW) printf("%-13s scores tokens by observation-window attention\n", "");
        else if (m->stat == STAT_ACCUM) printf("%-13s scores tokens by attention accumulated over all queries\n", "");
        else printf("%-13s chooses tokens by position\n", "");
        if (m->needs_head_scores) printf("%-13s needs visual-head scores (--heads FILE)\n", "");
        for (int k = 0; k < m->n_params; k++) {
            char range[96];
            method_param_describe(&m->params[k], range, sizeof range);
            printf("%-13s   %-13s %s; %s\n", "", m->params[k].name, range, m->params[k].help);
        }
        printf("\n");
    }
}

static void print_json(void) {
    cJSON *all = cJSON_CreateArray();
    for (int i = 0; i < method_count(); i++) {
        const struct method *m = method_at(i);
        cJSON *o = cJSON_CreateObject(), *params = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "name", m->name);
        cJSON_AddStringToObject(o, "summary", m->summary);
        cJSON_AddBoolToObject(o, "needs_head_scores", m->needs_head_scores);
        cJSON_AddBoolToObject(o, "full_cache", m->full_cache);
        cJSON_AddStringToObject(o, "statistic", m->full_cache ? "none" : stat_name(m->stat));
        for (int k = 0; k < m->n_params; k++) {
            const struct method_param *mp = &m->params[k];
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "name", mp->name);
            cJSON_AddStringToObject(p, "kind", kind_name(mp->kind));
            cJSON_AddNumberToObject(p, "default", mp->def);
            cJSON_AddNumberToObject(p, "min", mp->min);
            cJSON_AddNumberToObject(p, "max", mp->max);
            if (mp->odd) cJSON_AddBoolToObject(p, "odd", 1);
            cJSON_AddStringToObject(p, "help", mp->help);
            cJSON_AddItemToArray(params, p);
        }
        cJSON_AddItemToObject(o, "params", params);
        cJSON_AddItemToArray(all, o);
    }
    char *s = cJSON_Print(all);
    printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(all);
}

int cmd_methods(int argc, char **argv) {
    int json = 0;
    struct arg_spec specs[] = {
        {"json", ARG_FLAG, &json, NULL, "print the registry as JSON"},
    };
    int rc = args_parse("methods", "[--json]", specs, sizeof specs / sizeof specs[0], argc, argv, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (json) print_json();
    else print_text();
    return 0;
}
