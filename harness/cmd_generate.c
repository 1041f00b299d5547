/*
 * cmd_generate.c: `sparsemm generate`: one answer for an image and a prompt, with the numbers
 * a researcher checks first (prompt and visual tokens, prefill time, decode time per token,
 * KV-cache bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/generate.h"
#include "engine/json.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/defaults.h"
#include "harness/method_setup.h"

int cmd_generate(int argc, char **argv) {
    const char *model_dir = DEFAULT_MODEL_DIR, *image_path = NULL, *prompt_text = NULL, *backend = "cpu";
    const char *template_name = NULL, *kv_dtype = "f32";
    const char *method = "fullkv", *heads = NULL;
    int max_new = 128, threads = 0, json = 0, budget = 0;
    struct arg_list params = {0};
    struct arg_spec specs[] = {
        {"model", ARG_STR, &model_dir, "DIR", "Hugging Face model directory (default: the embedded model, " DEFAULT_MODEL_DIR ")"},
        {"image", ARG_STR, &image_path, "FILE", "JPEG or PNG image (omit for a text-only prompt)"},
        {"prompt", ARG_STR, &prompt_text, "TEXT", "the question"},
        {"max-new-tokens", ARG_INT, &max_new, "N", "stop after N generated tokens (default 128)"},
        {"template", ARG_STR, &template_name, "NAME", "chat template: vicuna, llava-hf, mistral_instruct, qwen2, plain (default: the model's)"},
        {"backend", ARG_STR, &backend, "NAME", "cpu (default) or cuda"},
        {"threads", ARG_INT, &threads, "N", "CPU threads (default: all cores)"},
        {"kv-dtype", ARG_STR, &kv_dtype, "T", "KV cache element type: f32 (default), f16, bf16"},
        {"method", ARG_STR, &method, "NAME", "KV-cache method (default fullkv; `sparsemm methods` lists them)"},
        {"budget", ARG_INT, &budget, "B", "tokens kept per KV head, window included (required unless fullkv)"},
        {"param", ARG_LIST, &params, "K=V", "a method parameter (repeatable), e.g. --param window=8"},
        {"heads", ARG_STR, &heads, "FILE", "visual-head scores (official JSON) for sparsemm/mask (default: the model's)"},
        {"json", ARG_FLAG, &json, NULL, "print one JSON object instead of text"},
    };
    int rc = args_parse("generate", "--prompt TEXT [--image FILE] [--model DIR] [options]", specs,
                        sizeof specs / sizeof specs[0], argc, argv, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (!prompt_text) {
        fprintf(stderr, "sparsemm generate: --prompt is required (see --help)\n");
        return 2;
    }
    enum dtype kvt;
    if (!strcmp(kv_dtype, "f32")) kvt = DT_F32;
    else if (!strcmp(kv_dtype, "f16")) kvt = DT_F16;
    else if (!strcmp(kv_dtype, "bf16")) kvt = DT_BF16;
    else {
        fprintf(stderr, "sparsemm generate: --kv-dtype '%s' is not f32, f16 or bf16\n", kv_dtype);
        return 2;
    }
    struct error err = {{0}};
    if (budget <= 0 && strcmp(method, "fullkv")) {
        fprintf(stderr, "sparsemm generate: --method %s needs --budget B\n", method);
        arg_list_free(&params);
        return 2;
    }
    struct model_options mo = {.backend = {.name = backend, .n_threads = threads, .weights_f32 = -1}};
    struct model *m = model_load(model_dir, &mo, &err);
    struct policy *pol = m ? policy_for_model(m, method, budget > 0 ? budget : 1 << 30, params.items, params.n, heads, &err)
                           : NULL;
    arg_list_free(&params);
    if (!pol) {
        fprintf(stderr, "sparsemm generate: %s\n", err.msg);
        model_free(m);
        return 1;
    }
    struct image img = {0};
    struct image_features feat = {0};
    struct prompt p = {0};
    struct gen_result r = {0};
    struct session s;
    session_init(&s, m, kvt, max_new + 1);
    int fail = 0;
    if (image_path && (image_load(&img, image_path, &err) || model_encode_image(m, &img, &feat, &err))) fail = 1;
    if (!fail && prompt_build(m, prompt_text, image_path ? &feat : NULL, template_name, &p, &err)) fail = 1;
    struct gen_options go = {.max_new_tokens = max_new, .eos_id = -1, .repetition_penalty = m->repetition_penalty,
                             .policy = pol->method->full_cache && !pol->kv.query_mask ? NULL : &pol->kv};
    if (!fail && generate(&s, &p, image_path ? &feat : NULL, &go, &r, &err)) fail = 1;
    if (fail) {
        fprintf(stderr, "sparsemm generate: %s\n", err.msg);
    } else {
        double per_tok = r.n_decode_steps ? r.decode_ms / r.n_decode_steps : 0;
        if (json) {
            char *esc = NULL;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "answer", r.text);
            cJSON_AddNumberToObject(o, "prompt_tokens", r.n_prompt);
            cJSON_AddNumberToObject(o, "visual_tokens", r.n_image_tokens);
            cJSON_AddNumberToObject(o, "generated_tokens", r.n_tokens);
            cJSON_AddNumberToObject(o, "prefill_ms", r.prefill_ms);
            cJSON_AddNumberToObject(o, "decode_ms_per_token", per_tok);
            cJSON_AddNumberToObject(o, "kv_bytes", (double)r.kv_bytes);
            cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)peak_rss_bytes());
            esc = cJSON_PrintUnformatted(o);
            printf("%s\n", esc);
            cJSON_free(esc);
            cJSON_Delete(o);
        } else {
            printf("%s\n\n", r.text);
            printf("prompt tokens      %d\n", r.n_prompt);
            printf("visual tokens      %d\n", r.n_image_tokens);
            printf("generated tokens   %d\n", r.n_tokens);
            printf("prefill            %.1f ms\n", r.prefill_ms);
            printf("decode             %.2f ms/token\n", per_tok);
            printf("KV cache           %lld bytes\n", (long long)r.kv_bytes);
            printf("peak memory        %.1f MiB (process)\n", peak_rss_bytes() / 1048576.0);
        }
    }
    gen_result_free(&r);
    prompt_free(&p);
    image_features_free(m, &feat);
    image_free(&img);
    session_free(&s);
    policy_free(pol);
    model_free(m);
    return fail;
}
