/*
 * json.h: thin helpers over cJSON (Debian's libcjson) for reading files with errors that say
 * where: a parse failure reports the file, line and column; a missing or mistyped field
 * reports the file and the field's name.
 */
#ifndef SPARSEMM_JSON_H
#define SPARSEMM_JSON_H

#include <cjson/cJSON.h>
#include "engine/util.h"

/* Parse text (len bytes); on failure the message names `what` (usually the file) with the
   line and column of the error. Caller frees the result with cJSON_Delete. */
cJSON *json_parse(const char *text, size_t len, const char *what, struct error *err);
/* Read and parse a file. */
cJSON *json_load_file(const char *path, struct error *err);

/* Optional fields: return the default when the key is absent or null. */
double json_num(const cJSON *obj, const char *key, double def);
int json_int(const cJSON *obj, const char *key, int def);
int json_bool(const cJSON *obj, const char *key, int def);
const char *json_str(const cJSON *obj, const char *key, const char *def);

/* Required fields: fail with "<where>: field '<key>' missing" or "... is not a <type>". */
int json_req_int(const cJSON *obj, const char *key, const char *where, long long *out, struct error *err);
int json_req_str(const cJSON *obj, const char *key, const char *where, const char **out, struct error *err);
int json_req_num(const cJSON *obj, const char *key, const char *where, double *out, struct error *err);

/* Write a cJSON tree to a file (pretty or compact). */
int json_save_file(const cJSON *root, const char *path, int pretty, struct error *err);

#endif
