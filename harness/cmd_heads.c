/*
 * cmd_heads.c: `sparsemm heads`: find a model's visual heads the way the paper did
 * (methods/head_finder.h, research/sparsemm.md §1) on synthdog-style OCR pages, and write the
 * scores in the official JSON format that `--method sparsemm|mask --heads FILE` and the paper's
 * own code read.
 *
 * Samples are independent: each finished one goes to <out>.samples.jsonl at once
 * (methods/head_finder_log.h), so Ctrl-C, kill or a crash loses at most the sample in progress
 * and the same command continues from there. The output file is written (atomically) when every
 * sample is done, with the samples in the data file's order.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/defaults.h"
#include "harness/progress.h"
#include "methods/head_finder.h"
#include "methods/head_finder_log.h"
#include "methods/head_finder_summary.h"
#include "methods/head_scores.h"

static const char help_tail[] =
    "\n"
    "Per page: greedy OCR answer to \"Provide all the OCR results of this image.\" (the model's chat\n"
    "template, plain argmax, up to --max-new-tokens or EOS). A generated token whose text is a\n"
    "substring of exactly one OCR chunk is a match; every (layer, query head) whose most-attended\n"
    "key in the row that produced it lies in that chunk's image tokens R gets 1/|R|. A head's\n"
    "score is the mean of its per-page sums.\n"
    "\n"
    "--token-text: raw compares the vocabulary piece, decoded the text of the single token. The\n"
    "paper used raw for LLaVA-NeXT (its script calls convert_ids_to_tokens, so SentencePiece\n"
    "word-initial pieces, which start with \"\xe2\x96\x81\", never match) and decoded for Qwen2-VL; that\n"
    "is the default per architecture. The paper ran Vicuna LLaVA-NeXT with the vicuna template\n"
    "(--template vicuna if the model's own differs).\n"
    "\n"
    "Resume: finished pages are kept in OUT.samples.jsonl; run the same command again to continue.\n"
    "A log written with other settings (model, data file, token text, template, max tokens) is\n"
    "refused. The heat map: sparsemm plot --heads OUT --out DIR. Written as DIR/visual_heads.json of\n"
    "the model, the scores become its default for --method sparsemm and mask.\n\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    interrupted = 1;
    signal(sig, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

/* generate's per-token callback: the progress line's status (the page and its tokens so far). */
struct token_status {
    struct progress *p;
    int sample;
};

static void on_token(void *ctx, int n_tokens) {
    struct token_status *t = ctx;
    char status[64];
    snprintf(status, sizeof status, "page %d: %d tokens", t->sample, n_tokens);
    progress_step(t->p, 0, status);
}

/* What the scores depend on: a log with other values is never mixed in. */
static cJSON *run_config(const struct model *m, const struct head_finder_options *o, const char *template_name,
                         uint64_t data_hash) {
    char hex[32];
    cJSON *c = cJSON_CreateObject();
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)m->weights_hash);
    cJSON_AddStringToObject(c, "model_hash", hex);
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)data_hash);
    cJSON_AddStringToObject(c, "data_hash", hex);
    cJSON_AddNumberToObject(c, "n_layers", m->cfg.text.n_layers);
    cJSON_AddNumberToObject(c, "n_heads", m->cfg.text.n_heads);
    cJSON_AddStringToObject(c, "token_text", token_text_name(o->token_text));
    cJSON_AddStringToObject(c, "template", template_name);
    cJSON_AddNumberToObject(c, "max_new_tokens", o->max_new_tokens);
    return c;
}

/* Run one sample into the log: 0, 1 when interrupted, -1 with err. */
static int run_sample(struct model *m, const struct sample *s, const struct head_finder_options *o,
                      struct head_log *log, struct error *err) {
    struct image img = {0};
    if (image_load(&img, s->image, err)) return error_wrap(err, "sample %s", s->key);
    struct text_region *regions = xcalloc((size_t)(s->n_boxes > 0 ? s->n_boxes : 1), sizeof *regions);
    for (int i = 0; i < s->n_boxes; i++) {
        const struct ocr_box *b = &s->boxes[i];
        regions[i] = (struct text_region){b->text, b->x0, b->y0, b->x1, b->y1};
    }
    struct head_sample hs;
    int rc = head_finder_run(m, &img, regions, s->n_boxes, o, &hs, err);
    if (rc < 0) error_wrap(err, "sample %s (%s)", s->key, s->image);
    else if (rc == 0 && head_log_append(log, s->key, &hs, err)) rc = -1;
    head_sample_free(&hs);
    free(regions);
    image_free(&img);
    return rc;
}

/* The official file from the log, samples in data-file order; written to a temporary name and
   renamed, so OUT is never half-written. */
static int write_scores(const struct dataset *ds, const struct head_log *log, const char *out,
                        struct head_scores **scores, struct error *err) {
    struct head_scores *hs = head_scores_new(log->n_layers, log->n_heads);
    for (int i = 0; i < ds->n; i++) head_scores_add_sample(hs, head_log_find(log, ds->samples[i].key)->score);
    char *tmp = xasprintf("%s.tmp", out);
    int rc = head_scores_save(hs, tmp, err);
    if (!rc && rename(tmp, out)) rc = error_set(err, "%s: cannot rename %s into place", out, tmp);
    free(tmp);
    if (rc) {
        head_scores_free(hs);
        return -1;
    }
    *scores = hs;
    return 0;
}

static void print_summary(const struct dataset *ds, const struct head_log *log, const struct head_scores *hs,
                          const char *out, int n_top) {
    long long gen = 0, matched = 0;
    for (int i = 0; i < ds->n; i++) {
        const struct head_log_entry *e = head_log_find(log, ds->samples[i].key);
        gen += e->n_generated;
        matched += e->n_matched;
    }
    const int n = hs->n_layers * hs->n_heads;
    double *means = xmalloc(sizeof *means * (size_t)n);
    head_scores_means(hs, means);
    struct head_summary sum;
    head_summary_compute(means, hs->n_layers, hs->n_heads, &sum);
    printf("wrote %s: %d samples, %lld tokens generated, %lld matched an OCR chunk\n", out, ds->n, gen, matched);
    head_summary_print(&sum, means, n_top, stdout);
    head_summary_free(&sum);
    free(means);
}

int cmd_heads(int argc, char **argv) {
    const char *model_dir = DEFAULT_MODEL_DIR, *data = NULL, *out = NULL, *backend = "cpu", *token_text = NULL;
    const char *template_name = NULL;
    int max_new = 0, threads = 0, quiet = 0, n_top = 10;
    struct arg_spec specs[] = {
        {"model", ARG_STR, &model_dir, "DIR", "Hugging Face model directory (default: the embedded model, " DEFAULT_MODEL_DIR ")"},
        {"data", ARG_STR, &data, "SPEC", "synthdog=FILE[:images=DIR][:limit=N]: OCR pages with chunk boxes (required)"},
        {"out", ARG_STR, &out, "FILE", "head scores, official JSON (\"layer-head\": per-sample scores) (required)"},
        {"max-new-tokens", ARG_INT, &max_new, "N", "longest answer per page (default 1024, the paper's)"},
        {"token-text", ARG_STR, &token_text, "raw|decoded", "token string compared with the chunks (default: the paper's per architecture)"},
        {"template", ARG_STR, &template_name, "NAME", "chat template: vicuna, llava-hf, mistral_instruct, qwen2, plain (default: the model's)"},
        {"backend", ARG_STR, &backend, "NAME", "cpu (default) or cuda"},
        {"threads", ARG_INT, &threads, "N", "CPU threads (default: all cores)"},
        {"top", ARG_INT, &n_top, "N", "heads listed in the summary (default 10)"},
        {"quiet", ARG_FLAG, &quiet, NULL, "no progress on stderr"},
    };
    const int n_specs = sizeof specs / sizeof specs[0];
    int rc = args_parse("heads", "--data synthdog=FILE --out FILE [--model DIR] [options]", specs, n_specs, argc, argv,
                        NULL);
    if (rc) {
        if (rc > 0) printf("%s%s", help_tail, dataset_spec_help);
        return rc > 0 ? 0 : 2;
    }
    if (!data || !out) {
        fprintf(stderr, "sparsemm heads: --data and --out are required (see --help)\n");
        return 2;
    }
    struct error err = {{0}};
    struct dataset_spec spec;
    if (dataset_spec_parse(data, &spec, &err)) {
        fprintf(stderr, "sparsemm heads: %s\n", err.msg);
        return 2;
    }
    if (spec.bench->kind != BENCH_SYNTHDOG) {
        fprintf(stderr, "sparsemm heads: --data %s: the head finder needs synthdog-style OCR pages (synthdog=FILE)\n",
                spec.bench->name);
        dataset_spec_free(&spec);
        return 2;
    }
    struct dataset ds = {0};
    struct model_options mo = {.backend = {.name = backend, .n_threads = threads, .weights_f32 = -1}};
    struct model *m = NULL;
    struct head_finder_options o;
    struct head_log log = {0};
    struct head_scores *scores = NULL;
    cJSON *config = NULL;
    char *log_path = xasprintf("%s.samples.jsonl", out);
    uint64_t data_hash = 0;
    struct progress p = {0};
    struct token_status ts = {.p = &p};
    int status = 1, run = 0, resumed = 0;
    interrupted = 0;
    if (dataset_load(&spec, &ds, &err) || hash_file(spec.path, &data_hash, &err)) goto fail;
    if (!(m = model_load(model_dir, &mo, &err))) goto fail;
    head_finder_options_init(&o, m);
    o.max_new_tokens = max_new > 0 ? max_new : ds.max_new_tokens;
    o.template_name = template_name ? template_name : prompt_default_template(m);
    if (token_text && token_text_parse(token_text, &o.token_text)) {
        error_set(&err, "--token-text '%s' is not raw or decoded", token_text);
        goto fail;
    }
    config = run_config(m, &o, o.template_name, data_hash);
    if (head_log_open(&log, log_path, config, m->cfg.text.n_layers, m->cfg.text.n_heads, &err)) goto fail;

    for (int i = 0; i < ds.n; i++) resumed += head_log_find(&log, ds.samples[i].key) != NULL;
    progress_start(&p, "heads", ds.n, resumed, quiet);
    o.stop = &interrupted;
    o.on_token = on_token;
    o.ctx = &ts;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (int i = 0; i < ds.n && !interrupted && run == 0; i++) {
        if (head_log_find(&log, ds.samples[i].key)) continue;
        ts.sample = i + 1;
        run = run_sample(m, &ds.samples[i], &o, &log, &err);
        char done_status[64];
        snprintf(done_status, sizeof done_status, "page %d done", i + 1);
        if (run == 0) progress_step(&p, 1, done_status);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (run < 0) goto fail;
    if (p.done < ds.n) {
        if (!quiet && p.tty) fprintf(stderr, "\n");
        fprintf(stderr, "sparsemm heads: interrupted: %lld of %d samples kept in %s; run the same command to continue\n",
                (long long)p.done, ds.n, log_path);
        goto done;
    }
    progress_finish(&p, resumed ? "finished (earlier pages from the log)" : "finished");
    if (write_scores(&ds, &log, out, &scores, &err)) goto fail;
    print_summary(&ds, &log, scores, out, n_top);
    status = 0;
    goto done;
fail:
    if (p.tty && !p.quiet) fputc('\n', stderr); /* end the progress line */
    fprintf(stderr, "sparsemm heads: %s\n", err.msg);
done:
    head_scores_free(scores);
    head_log_close(&log);
    cJSON_Delete(config);
    model_free(m);
    dataset_free(&ds);
    dataset_spec_free(&spec);
    free(log_path);
    return status;
}
