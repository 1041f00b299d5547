/* fullkv.c: the uncompressed reference: every KV head keeps every prompt token. */
#include "methods/method.h"

const struct method method_fullkv = {
    .name = "fullkv",
    .summary = "keep every prompt token (no compression): the reference every method is compared to",
    .full_cache = 1,
};
