/*
 * test_model_random.c: engine/model_random.c: named shapes (the fields of research/models.md),
 * ":layers=N" and its errors; random models whose weight structs match those model_load builds
 * from a checkpoint of the same config; bytes fixed by the seed whatever the thread count, in
 * the documented ranges for every dtype; and a forward pass that stays finite.
 */
#include "tests/test_util.h"

#include "engine/model.h"

#define GQA_MODEL "tests/fixtures/golden/llava_gqa" /* llava, 3 layers, hidden 64, 4 heads / 2 KV heads */

static void test_named_shapes(void **state) {
    (void)state;
    struct model_config c;
    struct error err = {{0}};
    CHECK_OK(model_config_named(&c, "llama2-7b", &err), &err);
    const struct text_config *t = &c.text;
    assert_int_equal(c.arch, ARCH_LLAVA);
    assert_int_equal(t->arch, TEXT_LLAMA);
    assert_int_equal(t->hidden_size, 4096);
    assert_int_equal(t->intermediate_size, 11008);
    assert_int_equal(t->n_layers, 32);
    assert_int_equal(t->n_heads, 32);
    assert_int_equal(t->n_kv_heads, 32);
    assert_int_equal(t->head_dim, 128);
    assert_int_equal(t->vocab_size, 32064);
    assert_true(t->rms_norm_eps == 1e-5f && t->rope_theta == 10000.0 && !t->qkv_bias && !t->tie_word_embeddings);
    CHECK_OK(model_config_named(&c, "llama2-7b:layers=4", &err), &err);
    assert_int_equal(c.text.n_layers, 4);
    assert_int_equal(c.text.hidden_size, 4096);
    CHECK_OK(model_config_named(&c, "mistral-7b", &err), &err);
    assert_int_equal(c.text.arch, TEXT_MISTRAL);
    assert_int_equal(c.text.n_kv_heads, 8);
    assert_int_equal(c.text.intermediate_size, 14336);
    assert_int_equal(c.text.sliding_window, 0);
    CHECK_OK(model_config_named(&c, "qwen2-7b:layers=2", &err), &err);
    assert_int_equal(c.arch, ARCH_QWEN2_VL);
    assert_int_equal(c.text.hidden_size, 3584);
    assert_int_equal(c.text.n_heads, 28);
    assert_int_equal(c.text.n_kv_heads, 4);
    assert_int_equal(c.text.intermediate_size, 18944);
    assert_int_equal(c.text.vocab_size, 152064);
    assert_int_equal(c.text.n_layers, 2);
    assert_true(c.text.qkv_bias);
    assert_int_equal(c.text.mrope_section[0] + c.text.mrope_section[1] + c.text.mrope_section[2], 64);

    assert_int_equal(model_config_named(&c, "llama3-8b", &err), -1);
    assert_msg_contains(err.msg, "'llama3-8b' is not a known model shape");
    assert_msg_contains(err.msg, "llama2-7b mistral-7b qwen2-7b");
    const char *bad[] = {"llama2-7b:layers=0", "llama2-7b:layers=33", "llama2-7b:layers=4x", "llama2-7b:depth=4",
                         "llama2-7b:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(model_config_named(&c, bad[i], &err), -1);
        assert_msg_contains(err.msg, "layers=N with 1 <= N <= 32");
    }
}

static struct model *random_gqa(enum dtype t, uint64_t seed, int threads) {
    struct model_config c;
    struct error err = {{0}};
    CHECK_OK(model_config_load(&c, GQA_MODEL "/config.json", &err), &err);
    struct model_options mo = {.backend = {.name = "cpu", .n_threads = threads, .weights_f32 = -1}};
    struct model *m = model_create_random(&c, t, seed, "gqa", &mo, &err);
    if (!m) fail_msg("%s", err.msg);
    return m;
}

static const struct weight *layer_weight(const struct decoder_layer_weights *L, int i) {
    const struct weight *w[] = {&L->in_norm, &L->q, &L->k, &L->v, &L->o, &L->post_norm, &L->gate, &L->up, &L->down};
    return w[i];
}

/* The decoder weight structs have exactly the shapes of a loaded checkpoint of the same config,
   and the model is named and hashed as documented. */
static void test_same_structs_as_checkpoint(void **state) {
    (void)state;
    struct error err = {{0}};
    struct model_options mo = {.backend = {.name = "cpu", .weights_f32 = 0}};
    struct model *ck = model_load(GQA_MODEL, &mo, &err);
    if (!ck) fail_msg("%s", err.msg);
    struct model *m = random_gqa(DT_F16, 1, 0);
    assert_string_equal(m->dir, "random:gqa");
    assert_null(m->tok);
    const struct weight *a[] = {&m->dec.embed, &m->dec.norm, &m->dec.lm_head},
                        *b[] = {&ck->dec.embed, &ck->dec.norm, &ck->dec.lm_head};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(a[i]->rows, b[i]->rows);
        assert_int_equal(a[i]->cols, b[i]->cols);
        assert_int_equal(a[i]->dtype, DT_F16);
    }
    for (int l = 0; l < m->cfg.text.n_layers; l++)
        for (int i = 0; i < 9; i++) {
            const struct weight *x = layer_weight(&m->dec.layers[l], i), *y = layer_weight(&ck->dec.layers[l], i);
            assert_int_equal(x->rows, y->rows);
            assert_int_equal(x->cols, y->cols);
            assert_non_null(x->data);
            /* the name is the checkpoint's, under the hub layout's prefix */
            assert_true(strstr(x->name, "language_model.model.layers.") == x->name);
        }
    assert_int_equal(m->n_prepared, 3 + 9 * m->cfg.text.n_layers);
    struct model *same = random_gqa(DT_F16, 1, 0), *other = random_gqa(DT_F16, 2, 0), *bf = random_gqa(DT_BF16, 1, 0);
    assert_true(m->weights_hash == same->weights_hash);
    assert_true(m->weights_hash != other->weights_hash && m->weights_hash != bf->weights_hash);
    model_free(ck), model_free(m), model_free(same), model_free(other), model_free(bf);
}

/* Bytes depend on (seed, name, index) only: equal with 1 and 2 threads, different seeds differ. */
static void test_deterministic(void **state) {
    (void)state;
    struct model *a = random_gqa(DT_F16, 7, 1), *b = random_gqa(DT_F16, 7, 2), *c = random_gqa(DT_F16, 8, 2);
    assert_int_equal(a->n_prepared, b->n_prepared);
    for (int i = 0; i < a->n_prepared; i++) {
        const struct weight *x = a->prepared[i], *y = b->prepared[i], *z = c->prepared[i];
        const size_t bytes = (size_t)(x->rows * x->cols) * 2;
        assert_string_equal(x->name, y->name);
        assert_memory_equal(x->data, y->data, bytes);
        if (x->rows * x->cols >= 16) assert_memory_not_equal(x->data, z->data, bytes);
    }
    /* two tensors of one model are not copies of each other */
    assert_memory_not_equal(a->dec.layers[0].q.data, a->dec.layers[0].o.data, 64 * 64 * 2);
    model_free(a), model_free(b), model_free(c);
}

/* Values: random signs, magnitudes in [2^-9, 2^-5); norm weights in [1, 1.125). */
static void test_value_ranges(void **state) {
    (void)state;
    for (int t = 0; t < 3; t++) {
        struct model *m = random_gqa((enum dtype)t, 3, 0);
        int neg = 0, pos = 0;
        for (int i = 0; i < m->n_prepared; i++) {
            const struct weight *w = m->prepared[i];
            const int norm = strstr(w->name, "norm") != NULL;
            float *row = xmalloc(sizeof *row * (size_t)w->cols);
            for (int64_t r = 0; r < w->rows; r++) {
                dtype_to_f32(row, (const char *)w->data + (size_t)(r * w->cols) * dtype_size(w->dtype), w->dtype,
                             (size_t)w->cols);
                for (int64_t c = 0; c < w->cols; c++) {
                    const float v = row[c], a = fabsf(v);
                    if (norm ? !(v >= 1.0f && v < 1.125f) : !(a >= 0x1p-9f && a < 0x1p-5f))
                        fail_msg("%s %s [%lld][%lld] = %g out of range", dtype_name((enum dtype)t), w->name,
                                 (long long)r, (long long)c, v);
                    neg += v < 0, pos += v > 0;
                }
            }
            free(row);
        }
        assert_true(neg > 1000 && pos > 1000);
        model_free(m);
    }
}

/* A prompt and a few decode steps run and give finite logits in every dtype. */
static void test_forward_finite(void **state) {
    (void)state;
    for (int t = 0; t < 3; t++) {
        struct model *m = random_gqa((enum dtype)t, 5, 0);
        const int V = m->cfg.text.vocab_size;
        int32_t ids[30];
        for (int i = 0; i < 30; i++) ids[i] = i;
        struct prompt p = {.ids = ids, .n = 30, .image_start = -1};
        float *logits = xmalloc(sizeof *logits * (size_t)V);
        struct session s;
        struct error err = {{0}};
        session_init(&s, m, DT_F16, 4);
        CHECK_OK(session_prefill(&s, &p, NULL, NULL, logits, NULL, &err), &err);
        for (int step = 0; step < 3; step++) {
            for (int v = 0; v < V; v++)
                if (!isfinite(logits[v])) fail_msg("%s: logit %d not finite", dtype_name((enum dtype)t), v);
            CHECK_OK(session_decode(&s, step + 1, logits, NULL, &err), &err);
        }
        session_free(&s);
        free(logits);
        model_free(m);
    }
}

static void test_bad_shape(void **state) {
    (void)state;
    struct model_config c;
    struct error err = {{0}};
    CHECK_OK(model_config_named(&c, "llama2-7b:layers=1", &err), &err);
    c.text.n_kv_heads = 5;
    assert_null(model_create_random(&c, DT_F16, 0, "bad", NULL, &err));
    assert_msg_contains(err.msg, "bad decoder shape");
    assert_msg_contains(err.msg, "32 heads / 5 KV heads");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_shapes),   cmocka_unit_test(test_same_structs_as_checkpoint),
        cmocka_unit_test(test_deterministic),  cmocka_unit_test(test_value_ranges),
        cmocka_unit_test(test_forward_finite), cmocka_unit_test(test_bad_shape),
    };
    return cmocka_run_group_tests_name("model_random", tests, NULL, NULL);
}
