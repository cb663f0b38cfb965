/*
 * json: cJSON behind a few typed helpers, so each reader checks every shape.
 */
#ifndef IMGSTAT_JSON_H
#define IMGSTAT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct err;
struct source;

/* Read and parse the member `name`; *out is freed by the caller with cJSON_Delete. */
int json_load(struct source *s, const char *name, cJSON **out, struct err *e);
/* Parse a buffer; `what` names it in the error. */
int json_parse(const unsigned char *buf, size_t len, const char *what, cJSON **out, struct err *e);

/* The string at key (exact case), or NULL when absent or not a string. */
const char *json_str(const cJSON *obj, const char *key);
/* The member at key, any letter case (docker-save writers differ: Config/config). */
const cJSON *json_get_any_case(const cJSON *obj, const char *key);
/* The JSON type of a value, in words, for messages. */
const char *json_kind(const cJSON *v);

#endif
