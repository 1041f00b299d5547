/*
 * params.c: a method's parameters from the command line ("--param k=v") to resolved values and
 * back to text for the run record. Every run stores all of its method's parameters, defaults
 * included, so a row in the results database says exactly what ran even after defaults change.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "methods/method.h"

void method_params_default(struct method_params *p, const struct method *m) {
    assert(m->n_params <= METHOD_MAX_PARAMS);
    memset(p, 0, sizeof *p);
    p->method = m;
    for (int i = 0; i < m->n_params; i++) p->value[i] = m->params[i].def;
}

int method_param_index(const struct method *m, const char *name) {
    for (int i = 0; i < m->n_params; i++)
        if (!strcmp(m->params[i].name, name)) return i;
    return -1;
}

double method_param(const struct method_params *p, const char *name) {
    int i = method_param_index(p->method, name);
    assert(i >= 0);
    return p->value[i];
}

void method_param_describe(const struct method_param *mp, char *buf, size_t len) {
    switch (mp->kind) {
    case PARAM_BOOL:
        snprintf(buf, len, "0 or 1, default %g", mp->def);
        break;
    case PARAM_INT:
        snprintf(buf, len, "%sint in [%.0f, %.0f], default %.0f", mp->odd ? "odd " : "", mp->min, mp->max, mp->def);
        break;
    case PARAM_REAL:
        snprintf(buf, len, "real in [%g, %g], default %g", mp->min, mp->max, mp->def);
        break;
    }
}

static int parse_bool(const char *s, double *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) { *out = 1; return 0; }
        if (!strcasecmp(s, no[i])) { *out = 0; return 0; }
    }
    return -1;
}

/* Parse text as a number of the parameter's kind; 0 or -1 (not a number of that kind). */
static int parse_value(const struct method_param *mp, const char *text, double *out) {
    if (mp->kind == PARAM_BOOL) return parse_bool(text, out);
    if (!*text) return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*end || errno || !isfinite(v)) return -1;
    if (mp->kind == PARAM_INT && v != floor(v)) return -1;
    *out = v;
    return 0;
}

static char *param_list(const struct method *m) {
    if (!m->n_params) return xstrdup("none");
    size_t len = 1;
    for (int i = 0; i < m->n_params; i++) len += strlen(m->params[i].name) + 2;
    char *s = xcalloc(1, len);
    for (int i = 0; i < m->n_params; i++) {
        if (i) strcat(s, ", ");
        strcat(s, m->params[i].name);
    }
    return s;
}

int method_params_set(struct method_params *p, const char *setting, struct error *err) {
    const struct method *m = p->method;
    const char *eq = strchr(setting, '=');
    if (!eq || eq == setting)
        return error_set(err, "--param '%s': expected name=value", setting);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(eq - setting) < 63 ? (int)(eq - setting) : 63, setting);
    int i = method_param_index(m, name);
    if (i < 0) {
        char *list = param_list(m);
        error_set(err, "method %s has no parameter '%s' (parameters: %s)", m->name, name, list);
        free(list);
        return -1;
    }
    const struct method_param *mp = &m->params[i];
    char range[96];
    method_param_describe(mp, range, sizeof range);
    double v;
    if (parse_value(mp, eq + 1, &v))
        return error_set(err, "parameter '%s' of method %s: '%s' is not valid (%s)", name, m->name, eq + 1, range);
    if (v < mp->min || v > mp->max || (mp->odd && fmod(v, 2) == 0))
        return error_set(err, "parameter '%s' of method %s: %s is out of range (%s)", name, m->name, eq + 1, range);
    p->value[i] = v;
    return 0;
}

int method_params_parse(struct method_params *p, const char *method_name, const char *const *settings, int n,
                        struct error *err) {
    const struct method *m = method_find(method_name);
    if (!m) return error_set(err, "unknown method '%s' (methods: %s)", method_name, method_names());
    method_params_default(p, m);
    for (int i = 0; i < n; i++)
        if (method_params_set(p, settings[i], err)) return -1;
    return 0;
}

char *method_params_json(const struct method_params *p) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < p->method->n_params; i++) cJSON_AddNumberToObject(o, p->method->params[i].name, p->value[i]);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *out = xstrdup(s); /* cJSON's allocator is not ours: hand back memory freed with free() */
    cJSON_free(s);
    return out;
}

/* Shortest of %.15g / %.17g that reads back as the same double (0.1 prints as "0.1"). */
static void format_number(double v, char *buf, size_t len) {
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, len, "%.17g", v);
}

char *method_params_string(const struct method_params *p) {
    char *s = xstrdup("");
    for (int i = 0; i < p->method->n_params; i++) {
        char num[32];
        format_number(p->value[i], num, sizeof num);
        char *next = xasprintf("%s%s%s=%s", s, i ? "," : "", p->method->params[i].name, num);
        free(s);
        s = next;
    }
    return s;
}
