/*
 * spec.c: the dataset spec of the command line, KIND=PATH[:OPTION]..., for example
 *
 *     textvqa=data/TextVQA_0.5.1_val.json:images=data/textvqa:limit=500
 *     ocrbench=OCRBench.json:images=/data/OCRBench_Images:skip_broken
 *
 * A ':' separates options only where an option follows it (a known flag, or "name="), so
 * paths that contain colons still work as long as no part of them looks like ":name=".
 */
#include "datasets/dataset.h"

#include <stdlib.h>
#include <string.h>

const char dataset_spec_help[] =
    "dataset spec: KIND=PATH[:OPTION]...\n"
    "  KIND             textvqa | docvqa | ocrbench | synthdog\n"
    "  PATH             the official annotation file (TextVQA_0.5.1_val.json, val_v1.0.json,\n"
    "                   OCRBench.json, synthdog-en.json) or a JSONL file with the same fields\n"
    "  images=DIR       folder the image paths are relative to (default: PATH's folder;\n"
    "                   TextVQA looks in DIR/train_images/, then DIR/)\n"
    "  limit=N          use only the first N entries of the file\n"
    "  skip_broken      skip entries with missing fields or images and list them,\n"
    "                   instead of failing on the first\n"
    "  no_image_check   do not require the image files (enough for rescoring)\n"
    "  format=json|jsonl   override the guess from the extension (.jsonl, .ndjson)\n"
    "  max_new_tokens=N override the benchmark's answer length\n"
    "  variant=official|lmms-eval   metric reading (DocVQA ANLS: lmms-eval strips the\n"
    "                   prediction first; default official)\n";

static const char *const flag_names[] = {"skip_broken", "no_image_check", NULL};

/* Does text start an option: a flag ending the spec or followed by ':', or a lower-case name
   followed by '=' (unknown names are then reported rather than glued onto the path)? */
static int starts_option(const char *text) {
    for (int i = 0; flag_names[i]; i++) {
        size_t n = strlen(flag_names[i]);
        if (!strncmp(text, flag_names[i], n) && (text[n] == 0 || text[n] == ':')) return 1;
    }
    const char *p = text;
    while ((*p >= 'a' && *p <= 'z') || *p == '_') p++;
    return p > text && *p == '=';
}

/* Next separator ':' at or after s that starts an option; end of string if none. */
static const char *next_sep(const char *s) {
    for (const char *p = s; *p; p++)
        if (*p == ':' && starts_option(p + 1)) return p;
    return s + strlen(s);
}

static int parse_positive(const char *value, const char *name, const char *spec, int *out,
                          struct error *err) {
    char *end;
    long v = strtol(value, &end, 10);
    if (end == value || *end || v <= 0 || v > 1000000000)
        return error_set(err, "dataset spec '%s': %s must be a positive integer, got '%s'", spec, name,
                         value);
    *out = (int)v;
    return 0;
}

static int apply_option(struct dataset_spec *s, const char *opt, const char *spec, struct error *err) {
    const char *eq = strchr(opt, '=');
    const char *value = eq ? eq + 1 : "";
    if (!strncmp(opt, "images=", 7)) {
        if (!*value) return error_set(err, "dataset spec '%s': images= needs a folder", spec);
        free(s->images);
        s->images = xstrdup(value);
    } else if (!strncmp(opt, "limit=", 6)) {
        return parse_positive(value, "limit", spec, &s->limit, err);
    } else if (!strncmp(opt, "max_new_tokens=", 15)) {
        return parse_positive(value, "max_new_tokens", spec, &s->max_new_tokens, err);
    } else if (!strcmp(opt, "skip_broken")) {
        s->skip_broken = 1;
    } else if (!strcmp(opt, "no_image_check")) {
        s->check_images = 0;
    } else if (!strncmp(opt, "format=", 7)) {
        if (!strcmp(value, "json")) s->jsonl = 0;
        else if (!strcmp(value, "jsonl")) s->jsonl = 1;
        else return error_set(err, "dataset spec '%s': format must be json or jsonl, got '%s'", spec, value);
    } else if (!strncmp(opt, "variant=", 8)) {
        if (!strcmp(value, "official")) s->variant = VARIANT_OFFICIAL;
        else if (!strcmp(value, "lmms-eval")) s->variant = VARIANT_LMMS_EVAL;
        else
            return error_set(err, "dataset spec '%s': variant must be official or lmms-eval, got '%s'",
                             spec, value);
    } else {
        return error_set(err, "dataset spec '%s': unknown option '%s'", spec, opt);
    }
    return 0;
}

void dataset_spec_init(struct dataset_spec *spec, enum bench_kind kind, const char *path) {
    memset(spec, 0, sizeof *spec);
    spec->bench = benchmark_get(kind);
    spec->path = xstrdup(path);
    spec->check_images = 1;
    spec->jsonl = -1;
    spec->variant = VARIANT_OFFICIAL;
}

int dataset_spec_parse(const char *text, struct dataset_spec *out, struct error *err) {
    memset(out, 0, sizeof *out);
    const char *eq = strchr(text, '=');
    if (!eq || eq == text)
        return error_set(err, "dataset spec '%s': expected KIND=PATH (KIND: textvqa, docvqa, ocrbench, synthdog)",
                         text);
    char *kind = xstrndup(text, (size_t)(eq - text));
    const struct benchmark *b = benchmark_find(kind);
    free(kind);
    if (!b)
        return error_set(err, "dataset spec '%s': unknown dataset kind (textvqa, docvqa, ocrbench, synthdog)",
                         text);
    const char *path = eq + 1;
    const char *sep = next_sep(path);
    if (sep == path) return error_set(err, "dataset spec '%s': empty PATH", text);
    char *p = xstrndup(path, (size_t)(sep - path));
    dataset_spec_init(out, b->kind, p);
    free(p);
    while (*sep) {
        const char *start = sep + 1;
        sep = next_sep(start);
        char *opt = xstrndup(start, (size_t)(sep - start));
        int rc = apply_option(out, opt, text, err);
        free(opt);
        if (rc) {
            dataset_spec_free(out);
            return -1;
        }
    }
    return 0;
}

void dataset_spec_free(struct dataset_spec *spec) {
    if (!spec) return;
    free(spec->path);
    free(spec->images);
    memset(spec, 0, sizeof *spec);
}
