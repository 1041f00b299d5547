/*
 * tokenizer.h: Hugging Face tokenizer.json, read as is, encoding and decoding exactly as the
 * `tokenizers` library does for the models we support:
 *   - Llama/Mistral/Vicuna: SentencePiece-converted BPE (byte_fallback <0xXX>, metaspace "▁"),
 *     both the legacy form (normalizer Prepend+Replace, no pre-tokenizer) and the Metaspace
 *     pre-tokenizer form (prepend_scheme first/always/never);
 *   - Qwen2: byte-level BPE with NFC normalizer and the Qwen2 split regex.
 * Added tokens (special or not) are split out first, leftmost-longest, as in tokenizers'
 * AddedVocabulary; the post-processor adds BOS when the template says so.
 * The pipeline pieces are chosen from the JSON, not from the model name.
 */
#ifndef SPARSEMM_TOKENIZER_H
#define SPARSEMM_TOKENIZER_H

#include <stdint.h>
#include "engine/util.h"

struct tokenizer; /* opaque */

/* Load tokenizer.json (and, if present next to it, tokenizer_config.json for bos_token /
   eos_token and chat_template). Errors name the file and field. Which special tokens encode adds
   comes from tokenizer.json's post_processor: like transformers 5, the config's add_bos_token /
   add_eos_token are ignored when a tokenizer.json exists. */
struct tokenizer *tokenizer_load(const char *tokenizer_json_path, struct error *err);
void tokenizer_free(struct tokenizer *t);

/* Encode UTF-8 text. add_special: apply the post-processor (BOS for Llama) like
   tokenizer(text, add_special_tokens=True). Returns the number of ids; *ids is allocated,
   caller frees. */
int tokenizer_encode(const struct tokenizer *t, const char *text, int add_special, int32_t **ids);

/* Decode ids to UTF-8 like tokenizer.decode(ids, skip_special_tokens=skip_special).
   Caller frees. */
char *tokenizer_decode(const struct tokenizer *t, const int32_t *ids, int n, int skip_special);

/* The raw vocabulary string of one id (convert_ids_to_tokens), or NULL if out of range.
   Points into the tokenizer; do not free. */
const char *tokenizer_id_to_piece(const struct tokenizer *t, int32_t id);
/* Id of an exact vocabulary or added-token string, or -1. */
int32_t tokenizer_piece_to_id(const struct tokenizer *t, const char *piece);
int tokenizer_vocab_size(const struct tokenizer *t); /* 1 + largest id, added tokens included */
int tokenizer_is_special(const struct tokenizer *t, int32_t id);

/* Special ids: bos_token / eos_token of tokenizer_config.json (-1 when null or absent); without
   that file, the post-processor's tokens before / after the text. */
int32_t tokenizer_bos_id(const struct tokenizer *t);
int32_t tokenizer_eos_id(const struct tokenizer *t);
/* chat_template string from tokenizer_config.json, or NULL. */
const char *tokenizer_chat_template(const struct tokenizer *t);

#endif
