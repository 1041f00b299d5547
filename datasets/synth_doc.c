/*
 * synth_doc.c: DocVQA-like document pages and, with `receipt`, shop receipts for OCRBench's
 * Key Information Extraction. A page is a light paper background with dark text: a title, a
 * rule, "Key: value" fields (date, invoice number, name, company, total, ...) and sometimes a
 * small item/amount table. Questions ask for a field's value, a table cell or the title, so
 * every answer is a span of one line of the page.
 *
 * Layout: one font and size per page. If the content does not fit, the size shrinks (down to
 * the minimum), then fields are dropped, so a page never overflows.
 */
#include "datasets/synth_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum value_kind { V_DATE, V_NUMBER, V_CODE, V_NAME, V_COMPANY, V_CITY, V_PHONE, V_MONEY, V_ACCOUNT };

struct field {
    const char *key;
    enum value_kind kind;
    const char *question; /* DocVQA style */
};

static const struct field doc_fields[] = {
    {"Date:", V_DATE, "What is the date?"},
    {"Invoice No:", V_NUMBER, "What is the invoice number?"},
    {"Order No:", V_CODE, "What is the order number?"},
    {"Name:", V_NAME, "What is the name?"},
    {"Company:", V_COMPANY, "What is the company name?"},
    {"City:", V_CITY, "Which city is mentioned?"},
    {"Phone:", V_PHONE, "What is the phone number?"},
    {"Total:", V_MONEY, "What is the total amount?"},
    {"Tax:", V_MONEY, "What is the tax amount?"},
    {"Account:", V_ACCOUNT, "What is the account number?"},
    {"Due Date:", V_DATE, "What is the due date?"},
    {"Ref:", V_CODE, "What is the reference number?"},
    {"Contact:", V_NAME, "Who is the contact person?"},
};

static const struct field receipt_fields[] = {
    {"Date:", V_DATE, NULL},     {"Cashier:", V_NAME, NULL}, {"Phone:", V_PHONE, NULL},
    {"Receipt No:", V_NUMBER, NULL}, {"Total:", V_MONEY, NULL},
};

#define N_DOC_FIELDS (int)(sizeof doc_fields / sizeof *doc_fields)
#define N_RECEIPT_FIELDS (int)(sizeof receipt_fields / sizeof *receipt_fields)
#define KIE_SUFFIX " Answer this question using the text in the image directly."

static char *money(struct rng *r) { return xasprintf("$%d.%02d", rng_int(r, 1, 999), rng_int(r, 0, 99)); }

static char *value_text(struct rng *r, enum value_kind kind) {
    switch (kind) {
    case V_DATE: {
        int m = rng_int(r, 1, 12), d = rng_int(r, 1, 28), y = rng_int(r, 1970, 2024);
        int style = rng_int(r, 0, 2);
        if (style == 0) return xasprintf("%02d/%02d/%d", m, d, y);
        if (style == 1) return xasprintf("%s %d, %d", words_months.w[m - 1], d, y);
        return xasprintf("%d-%02d-%02d", y, m, d);
    }
    case V_NUMBER: return xasprintf("%d", rng_int(r, 1000, 999999));
    case V_CODE: return xasprintf("%c%c-%04d", 'A' + rng_int(r, 0, 25), 'A' + rng_int(r, 0, 25), rng_int(r, 0, 9999));
    case V_NAME: return xasprintf("%s %s", pick(r, &words_first_names), pick(r, &words_last_names));
    case V_COMPANY: return xasprintf("%s %s", pick(r, &words_brands), pick(r, &words_company_suffixes));
    case V_CITY: return xstrdup(pick(r, &words_cities));
    case V_PHONE: return xasprintf("555-%04d", rng_int(r, 0, 9999));
    case V_MONEY: return money(r);
    case V_ACCOUNT: return xasprintf("%08d", rng_int(r, 0, 99999999));
    }
    return xstrdup("");
}

/* One line of the page: an optional label and a value, each rendered as a phrase. */
struct doc_line {
    char *label, *value;
    char *question;        /* what to ask about the value, or NULL */
    const char *category;  /* its DocVQA question type */
    int keep;              /* never dropped to make room */
    struct phrase lab, val;
};

struct page {
    char *title;
    char *title_question;
    struct doc_line *lines;
    int n, cap;
};

static void add_line(struct page *pg, char *label, char *value, char *question, const char *category, int keep) {
    if (pg->n == pg->cap) {
        pg->cap = pg->cap ? 2 * pg->cap : 16;
        pg->lines = xrealloc(pg->lines, (size_t)pg->cap * sizeof *pg->lines);
    }
    pg->lines[pg->n++] = (struct doc_line){label, value, question, category, keep, {0}, {0}};
}

static void drop_phrases(struct page *pg, struct phrase *title) {
    phrase_free(title);
    for (int i = 0; i < pg->n; i++) {
        phrase_free(&pg->lines[i].lab);
        phrase_free(&pg->lines[i].val);
    }
}

static void page_free(struct page *pg) {
    for (int i = 0; i < pg->n; i++) {
        free(pg->lines[i].label);
        free(pg->lines[i].value);
        free(pg->lines[i].question);
    }
    free(pg->lines);
    free(pg->title);
    free(pg->title_question);
}

/* Distinct random picks: the first k of a shuffled [0, n). order: [n] */
static void shuffle_ints(struct rng *r, int *order, int n) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = rng_int(r, 0, i), t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

static void table_rows(struct rng *r, struct page *pg, int rows, int receipt) {
    int order[64];
    int n_items = words_items.n < 64 ? words_items.n : 64;
    shuffle_ints(r, order, n_items);
    for (int i = 0; i < rows && i < n_items; i++) {
        const char *item = words_items.w[order[i]];
        char *q = receipt ? xasprintf("what is the value for '%s'?" KIE_SUFFIX, item)
                          : xasprintf("What is the amount for %s?", item);
        add_line(pg, xstrdup(item), money(r), q, "table/list", 0);
    }
}

static void doc_content(const struct synth_ctx *c, struct rng *r, struct page *pg) {
    pg->title = xstrdup(pick(r, &words_titles));
    pg->title_question = xstrdup(rng_chance(r, 0.5) ? "What is the title of the document?" : "What type of document is this?");
    int lo = c->o->lines_min > 0 ? c->o->lines_min : 3, hi = c->o->lines_max > 0 ? c->o->lines_max : 6;
    int n = rng_int(r, lo, hi < lo ? lo : hi), order[N_DOC_FIELDS];
    shuffle_ints(r, order, N_DOC_FIELDS);
    for (int i = 0; i < n && i < N_DOC_FIELDS; i++) {
        const struct field *f = &doc_fields[order[i]];
        add_line(pg, xstrdup(f->key), value_text(r, f->kind), xstrdup(f->question), "form", i == 0);
    }
    if (rng_chance(r, 0.5)) {
        add_line(pg, xstrdup("Item"), xstrdup("Amount"), NULL, NULL, 0);
        table_rows(r, pg, rng_int(r, 2, 3), 0);
    }
}

static void receipt_content(struct rng *r, struct page *pg) {
    char *brand = xstrdup(pick(r, &words_brands));
    for (char *p = brand; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p -= 32;
    pg->title = xasprintf("%s %s", brand, pick(r, &words_store_kinds));
    free(brand);
    pg->title_question = xstrdup("what is the name of the company that issued this receipt?" KIE_SUFFIX);
    for (int i = 0; i < N_RECEIPT_FIELDS - 1; i++) {
        const struct field *f = &receipt_fields[i];
        if (i > 0 && rng_chance(r, 0.4)) continue;
        char *q = i == 0 ? xstrdup("when was this receipt issued?" KIE_SUFFIX)
                         : xasprintf("what is the value for '%s'?" KIE_SUFFIX, f->key);
        add_line(pg, xstrdup(f->key), value_text(r, f->kind), q, NULL, i == 0);
    }
    table_rows(r, pg, rng_int(r, 2, 4), 1);
    add_line(pg, xstrdup("Total:"), money(r), xstrdup("what is the total amount of this receipt?" KIE_SUFFIX), NULL, 1);
}

/* Everything measured at one size: does it fit, and where does each line go? */
struct layout {
    int px, margin, gap, label_w, asc, desc, tasc, tdesc, rule_h;
};

/* Render the page at size px; returns 1 if it fits the canvas (phrases stay rendered). */
static int try_layout(struct font *f, int px, struct page *pg, struct phrase *title, int w, int h, struct layout *L) {
    L->px = px;
    L->margin = w / 20;
    L->gap = px / 2 + 2;
    L->rule_h = px / 12 + 1;
    font_metrics(f, px, &L->asc, &L->desc);
    font_metrics(f, px * 4 / 3, &L->tasc, &L->tdesc);
    phrase_make(title, f, px * 4 / 3, pg->title);
    int fits = phrase_width(title) <= w - 2 * L->margin;
    L->label_w = 0;
    int value_w = 0;
    for (int i = 0; i < pg->n; i++) {
        struct doc_line *d = &pg->lines[i];
        phrase_make(&d->lab, f, px, d->label);
        phrase_make(&d->val, f, px, d->value);
        if (phrase_width(&d->lab) > L->label_w) L->label_w = phrase_width(&d->lab);
        if (phrase_width(&d->val) > value_w) value_w = phrase_width(&d->val);
    }
    fits = fits && L->label_w + L->gap + value_w <= w - 2 * L->margin;
    int bottom = L->margin + L->tasc + L->tdesc + px / 2 + L->rule_h + pg->n * (L->asc + L->desc + px / 5);
    return fits && bottom <= h - L->margin;
}

#define SMALLEST_PX 8

static int fit_page(const struct synth_ctx *c, struct rng *r, struct font *f, struct page *pg, struct phrase *title,
                    struct layout *L, struct error *err) {
    int pmin, pmax;
    font_range(c, 16, 24, &pmin, &pmax);
    int px0 = rng_int(r, pmin, pmax);
    for (;;) {
        for (int px = px0; px >= pmin; px--) {
            if (try_layout(f, px, pg, title, c->o->width, c->o->height, L)) return 0;
            drop_phrases(pg, title);
        }
        int drop = pg->n - 1;
        while (drop >= 0 && pg->lines[drop].keep) drop--;
        /* Only the lines that carry questions are left and they still do not fit (a long value
           in a narrow image): go below the minimum size rather than fail, down to a size that
           is still legible. Pages that fit before never reach this, so they are unchanged. */
        for (int px = pmin - 1; drop < 0 && px >= SMALLEST_PX; px--) {
            if (try_layout(f, px, pg, title, c->o->width, c->o->height, L)) return 0;
            drop_phrases(pg, title);
        }
        if (drop < 0)
            return error_set(err, "synth: a document does not fit a %dx%d image at %d px (use a larger image or a smaller --font-min)",
                             c->o->width, c->o->height, pmin);
        free(pg->lines[drop].label);
        free(pg->lines[drop].value);
        free(pg->lines[drop].question);
        memmove(&pg->lines[drop], &pg->lines[drop + 1], (size_t)(pg->n - drop - 1) * sizeof *pg->lines);
        pg->n--;
    }
}

/* Draw the laid-out page; questions go to it. */
static void draw_page(struct canvas *cv, struct rng *r, struct page *pg, struct phrase *title, const struct layout *L,
                      int receipt, struct synth_item *it) {
    struct rgb ink = {(uint8_t)rng_int(r, 0, 70), (uint8_t)rng_int(r, 0, 70), (uint8_t)rng_int(r, 0, 70)};
    int m = L->margin, y = m, w = cv->img.w;
    int tx = receipt ? (w - phrase_width(title)) / 2 : m;
    int base = y + L->tasc;
    int tbox = phrase_draw(cv, title, tx, base + title->top, ink);
    qa_add(it, pg->title_question, pg->title, tbox, title->n, receipt ? NULL : "layout", NULL);
    y = base + L->tdesc + L->px / 4;
    canvas_rect(cv, m, y, w - m, y + L->rule_h, ink);
    y += L->rule_h + L->px / 4;
    for (int i = 0; i < pg->n; i++) {
        struct doc_line *d = &pg->lines[i];
        base = y + L->asc;
        phrase_draw(cv, &d->lab, m, base + d->lab.top, ink);
        int vbox = phrase_draw(cv, &d->val, m + L->label_w + L->gap, base + d->val.top, ink);
        if (d->question) {
            qa_add(it, d->question, d->value, vbox, d->val.n, receipt ? NULL : d->category, NULL);
            if (d->value[0] == '$') qa_add_answer(&it->qas[it->n_qas - 1], d->value + 1);
        }
        y = base + L->desc + L->px / 5;
    }
}

int synth_doc(const struct synth_ctx *c, struct rng *r, int receipt, struct synth_item *it, struct error *err) {
    memset(it, 0, sizeof *it);
    struct page pg = {0};
    if (receipt) receipt_content(r, &pg);
    else doc_content(c, r, &pg);
    struct font *f = c->fonts->fonts[rng_int(r, 0, c->fonts->n - 1)];
    struct phrase title = {0};
    struct layout L;
    int rc = fit_page(c, r, f, &pg, &title, &L, err);
    if (!rc) {
        struct rgb paper = {(uint8_t)rng_int(r, 228, 255), (uint8_t)rng_int(r, 228, 255), (uint8_t)rng_int(r, 220, 255)};
        struct canvas cv;
        canvas_init(&cv, c->o->width, c->o->height, paper);
        draw_page(&cv, r, &pg, &title, &L, receipt, it);
        drop_phrases(&pg, &title);
        canvas_finish(&cv, it);
        qa_shuffle(it, r);
    }
    page_free(&pg);
    return rc;
}
