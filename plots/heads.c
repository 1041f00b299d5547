/*
 * heads.c: the layer x head heat map of visual-head scores from a head-score file in the
 * official SparseMM format (shared/research/sparsemm.md section 1.5): a JSON object whose keys
 * are "layer-head" ("0-0", "0-1", ...) and whose values are lists of per-sample scores; a head's
 * score is the mean of its list. The map is normalised to a maximum of 1, as in the paper's
 * figures (section 1.6).
 */
#include "plots/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"     // defines: json_load_file
#include "plots/figure.h"    // defines: figure_ctx, figure_draw
#include "plots/gnuplot.h"   // defines: gnuplot_set_*

/* Far beyond any model (LLaVA-7B: 32 x 32, Qwen2-VL-7B: 28 x 28); keeps a typo from asking
   for a huge grid. */
enum { MAX_GRID = 1024 };

/* "12-7" -> 12, 7; the whole key must be two decimal numbers joined by '-'. */
static int parse_key(const char *key, int *layer, int *head) {
    char *end;
    if (*key < '0' || *key > '9') return -1;
    long l = strtol(key, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9') return -1;
    long h = strtol(end + 1, &end, 10);
    if (*end || l >= MAX_GRID || h >= MAX_GRID) return -1;
    *layer = (int)l;
    *head = (int)h;
    return 0;
}

/* A head's score: the mean of its list (a bare number is accepted as its own mean). */
static int head_mean(const cJSON *v, double *out) {
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 0;
    }
    if (!cJSON_IsArray(v)) return -1;
    double sum = 0;
    int n = 0;
    for (const cJSON *x = v->child; x; x = x->next, n++) {
        if (!cJSON_IsNumber(x)) return -1;
        sum += x->valuedouble;
    }
    if (n == 0) return -1;
    *out = sum / n;
    return 0;
}

int plot_head_scores_load(const char *path, double **scores, int *n_layers, int *n_heads,
                          struct error *err) {
    *scores = NULL;
    cJSON *root = json_load_file(path, err);
    if (!root) return -1;
    int rc = -1, nl = 0, nh = 0;
    double *grid = NULL;
    unsigned char *seen = NULL;
    if (!cJSON_IsObject(root) || !root->child) {
        error_set(err, "%s: expected a JSON object with \"layer-head\" keys (a head-score file)", path);
        goto done;
    }
    for (const cJSON *e = root->child; e; e = e->next) {
        int l, h;
        if (parse_key(e->string, &l, &h)) {
            error_set(err, "%s: key '%.40s' is not \"layer-head\" (e.g. \"14-24\")", path, e->string);
            goto done;
        }
        if (l + 1 > nl) nl = l + 1;
        if (h + 1 > nh) nh = h + 1;
    }
    grid = xcalloc((size_t)nl * (size_t)nh, sizeof *grid);
    seen = xcalloc((size_t)nl * (size_t)nh, 1);
    for (const cJSON *e = root->child; e; e = e->next) {
        int l, h;
        parse_key(e->string, &l, &h);
        size_t i = (size_t)l * (size_t)nh + (size_t)h;
        if (seen[i]) {
            error_set(err, "%s: head '%s' appears twice", path, e->string);
            goto done;
        }
        if (head_mean(e, &grid[i])) {
            error_set(err, "%s: head '%s': expected a non-empty list of numbers", path, e->string);
            goto done;
        }
        seen[i] = 1;
    }
    for (int l = 0; l < nl; l++)
        for (int h = 0; h < nh; h++)
            if (!seen[(size_t)l * (size_t)nh + (size_t)h]) {
                error_set(err, "%s: no score for head '%d-%d' (the keys span %d layers x %d heads)",
                          path, l, h, nl, nh);
                goto done;
            }
    *scores = grid;
    grid = NULL;
    *n_layers = nl;
    *n_heads = nh;
    rc = 0;
done:
    free(grid);
    free(seen);
    cJSON_Delete(root);
    return rc;
}

/* Matrix file (one line per layer) of scores / max. */
static int write_matrix(struct figure_ctx *ctx, const double *scores, int nl, int nh, const char **path,
                        struct error *err) {
    double max = 0;
    for (size_t i = 0; i < (size_t)nl * (size_t)nh; i++)
        if (scores[i] > max) max = scores[i];
    FILE *f = figure_data_file(ctx, "heads.dat", path, err);
    if (!f) return -1;
    for (int l = 0; l < nl; l++) {
        for (int h = 0; h < nh; h++)
            fprintf(f, "%s%.6g", h ? " " : "", max > 0 ? scores[(size_t)l * nh + h] / max : 0.0);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : error_set(err, "%s: write failed", *path);
}

int plot_heads(const char *path, const struct plot_options *o, struct plot_outputs *out,
               struct error *err) {
    double *scores;
    int nl, nh;
    if (plot_head_scores_load(path, &scores, &nl, &nh, err)) return -1;
    struct figure_ctx ctx;
    if (figure_ctx_open(&ctx, o, out, err)) {
        free(scores);
        return -1;
    }
    const char *matrix, *params;
    int rc = write_matrix(&ctx, scores, nl, nh, &matrix, err);
    FILE *f = rc == 0 ? figure_data_file(&ctx, "heads.params.gp", &params, err) : NULL;
    if (f) {
        /* Square cells of 8..60 px, about 640 px for the larger side, plus room for axes and
           the colour bar; at least 560 px across so that the title fits. */
        int side = nl > nh ? nl : nh;
        int cell = 640 / side < 8 ? 8 : 640 / side > 60 ? 60 : 640 / side;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        char *title = xasprintf("visual-head scores: %s (%d layers x %d heads, max = 1)", base, nl, nh);
        fprintf(f, "# heads: parameters of plots/heatmap.gp, written by sparsemm plot --heads\n");
        gnuplot_set_num(f, "width_px", nh * cell + 230 > 560 ? nh * cell + 230 : 560);
        gnuplot_set_num(f, "height_px", nl * cell + 130);
        gnuplot_set_str(f, "mfile", matrix);
        gnuplot_set_num(f, "nlayers", nl);
        gnuplot_set_num(f, "nheads", nh);
        gnuplot_set_str(f, "htitle", title);
        free(title);
        rc = fclose(f) == 0 ? 0 : error_set(err, "%s: write failed", params);
        if (rc == 0) rc = figure_draw(&ctx, params, "heatmap.gp", "heads", err);
    } else {
        rc = -1;
    }
    figure_ctx_close(&ctx);
    free(scores);
    return rc;
}
