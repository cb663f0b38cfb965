#include "json.h"

#include "err.h"
#include "imgstat.h"
#include "source.h"

int json_parse(const unsigned char *buf, size_t len, const char *what, cJSON **out, struct err *e)
{
    /* cJSON stops at CJSON_NESTING_LIMIT (1000) levels: no stack overflow on deep input */
    *out = cJSON_ParseWithLength((const char *)buf, len);
    if (!*out)
        return err_set(e, IMGSTAT_EINPUT, "%s: not valid JSON", what);
    return IMGSTAT_OK;
}

int json_load(struct source *s, const char *name, cJSON **out, struct err *e)
{
    const unsigned char *buf;
    size_t len;
    *out = NULL;
    if (src_read(s, name, SRC_JSON_MAX, &buf, &len, e) != IMGSTAT_OK)
        return e->code;
    return json_parse(buf, len, name, out, e);
}

const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *json_get_any_case(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItem(obj, key);
}

const char *json_kind(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return "null";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    return "a boolean";
}
