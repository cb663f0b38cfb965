/*
 * json: Go's encoding/json, as far as imgstat's documents need it (json.h, docs/rules.md J).
 *
 * Two steps.  json_parse() (json_parse.c) reads the bytes with Go's grammar into a cJSON
 * tree.  Then decode() here walks that tree along a Go type, consuming it, and builds the
 * tree the runtimes' structs would hold; the readers look fields up with json_field().
 */
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"
#include "source.h"

/* ---- the Go types ------------------------------------------------------------------- */

static const struct json_type t_string = {JT_STRING, NULL, NULL};
static const struct json_type t_int64 = {JT_INT64, NULL, NULL};
static const struct json_type t_present = {JT_PRESENT, NULL, NULL};
static const struct json_type t_strings = {JT_SLICE, &t_string, NULL};
static const struct json_type t_str_map = {JT_MAP, &t_string, NULL};

static const struct json_member platform_fields[] = {
    {"architecture", &t_string}, {"os", &t_string}, {"variant", &t_string}, {NULL, NULL}};
static const struct json_type t_platform = {JT_PTR, NULL, platform_fields};

/* image-spec specs-go/v1/descriptor.go */
static const struct json_member desc_fields[] = {
    {"mediaType", &t_string},    {"digest", &t_string},
    {"size", &t_int64},          {"data", &t_string},
    {"platform", &t_platform},   {"annotations", &t_str_map},
    {"artifactType", &t_string}, {NULL, NULL}};
static const struct json_type t_desc = {JT_STRUCT, NULL, desc_fields};
static const struct json_type t_descs = {JT_SLICE, &t_desc, NULL};

static const struct json_member index_fields[] = {
    {"schemaVersion", &t_int64}, {"mediaType", &t_string},    {"manifests", &t_descs},
    {"annotations", &t_str_map}, {"artifactType", &t_string}, {NULL, NULL}};
const struct json_type json_t_index = {JT_STRUCT, NULL, index_fields};

static const struct json_member manifest_fields[] = {{"schemaVersion", &t_int64},
                                                     {"mediaType", &t_string},
                                                     {"config", &t_desc},
                                                     {"layers", &t_descs},
                                                     {"annotations", &t_str_map},
                                                     {"artifactType", &t_string},
                                                     {NULL, NULL}};
const struct json_type json_t_manifest = {JT_STRUCT, NULL, manifest_fields};

/* ocispec.Image has RootFS as a struct, moby's image.Image as a pointer: null keeps an
 * earlier rootfs in one and drops it in the other; no real config writes either. */
static const struct json_member rootfs_fields[] = {
    {"type", &t_string}, {"diff_ids", &t_strings}, {NULL, NULL}};
static const struct json_type t_rootfs = {JT_STRUCT, NULL, rootfs_fields};
/* image-spec config.md history (ocispec.History), read for the report only: the fields
 * imgstat shows, and a history Go would refuse is read as none (JT_LENIENT) rather than
 * failing a scan whose figures do not depend on it. */
static const struct json_type t_bool = {JT_BOOL, NULL, NULL};
static const struct json_member history_fields[] = {
    {"created_by", &t_string}, {"comment", &t_string}, {"empty_layer", &t_bool}, {NULL, NULL}};
static const struct json_type t_history_item = {JT_STRUCT, NULL, history_fields};
static const struct json_type t_history = {JT_SLICE, &t_history_item, NULL};
static const struct json_type t_history_shown = {JT_LENIENT, &t_history, NULL};
static const struct json_member config_fields[] = {
    {"architecture", &t_string},   {"os", &t_string}, {"variant", &t_string}, {"rootfs", &t_rootfs},
    {"history", &t_history_shown}, {NULL, NULL}};
const struct json_type json_t_config = {JT_STRUCT, NULL, config_fields};

/* moby image/tarexport/tarexport.go manifestItem */
static const struct json_member dsave_fields[] = {
    {"Config", &t_string}, {"RepoTags", &t_strings}, {"Layers", &t_strings}, {NULL, NULL}};
static const struct json_type t_dsave_item = {JT_STRUCT, NULL, dsave_fields};
const struct json_type json_t_dsave = {JT_SLICE, &t_dsave_item, NULL};

const struct json_type json_t_repos = {JT_MAP, &t_str_map, NULL};

/* moby image/tarexport/load.go legacyLoadImage: struct { OS, Parent string } (plus the
 * platform fields imgstat reports) */
static const struct json_member v1_fields[] = {{"parent", &t_string},
                                               {"os", &t_string},
                                               {"architecture", &t_string},
                                               {"variant", &t_string},
                                               {NULL, NULL}};
const struct json_type json_t_v1 = {JT_STRUCT, NULL, v1_fields};

/* containerd images/mediatypes.go: what a blob is, when its descriptor does not say */
static const struct json_member sniff_fields[] = {{"mediaType", &t_string},
                                                  {"config", &t_present},
                                                  {"layers", &t_present},
                                                  {"manifests", &t_present},
                                                  {"fsLayers", &t_present},
                                                  {"schemaVersion", &t_int64},
                                                  {NULL, NULL}};
const struct json_type json_t_sniff = {JT_STRUCT, NULL, sniff_fields};

/* ---- J1: matching keys to fields ------------------------------------------------------ */

/* Go folds a key rune by rune to the smallest rune of its simple case-fold orbit
 * (encoding/json fold.go, unicode.SimpleFold).  Field names are ASCII, so a key rune can
 * match only an ASCII letter of either case, U+212A KELVIN SIGN (orbit k K U+212A) or U+017F
 * LATIN SMALL LETTER LONG S (orbit s S U+017F).  U+0130 and U+0131 fold only to themselves
 * (unicode tables.go caseOrbit), so they never match 'i'. */
bool json_key_matches(const char *key, const char *name)
{
    const unsigned char *k = (const unsigned char *)key, *n = (const unsigned char *)name;
    if (strcmp(key, name) == 0)
        return true;
    for (; *n; n++) {
        unsigned char want = (unsigned char)(*n >= 'a' && *n <= 'z' ? *n - 32 : *n);
        if (k[0] < 0x80) {
            if ((unsigned char)(k[0] >= 'a' && k[0] <= 'z' ? k[0] - 32 : k[0]) != want || !k[0])
                return false;
            k++;
        } else if (k[0] == 0xE2 && k[1] == 0x84 && k[2] == 0xAA && want == 'K') {
            k += 3;
        } else if (k[0] == 0xC5 && k[1] == 0xBF && want == 'S') {
            k += 2;
        } else {
            return false;
        }
    }
    return *k == '\0';
}

const cJSON *json_field(const cJSON *obj, const char *name)
{
    const cJSON *found = NULL, *m;
    if (!cJSON_IsObject(obj))
        return NULL;
    cJSON_ArrayForEach(m, obj)
    {
        if (m->string && json_key_matches(m->string, name))
            found = m; /* the last one read wins */
    }
    return found;
}

const char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = json_field(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *json_map_str(const cJSON *map, const char *key)
{
    const cJSON *found = NULL, *m;
    if (!cJSON_IsObject(map))
        return NULL;
    cJSON_ArrayForEach(m, map)
    {
        if (m->string && strcmp(m->string, key) == 0)
            found = m;
    }
    return cJSON_IsString(found) ? found->valuestring : NULL;
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

/* ---- J1, J5, J6: decoding into a Go type ---------------------------------------------- */

struct jdec {
    char path[256]; /* where in the document, for messages */
    const char *what;
    struct err *e;
};

static int type_error(struct jdec *d, const cJSON *in, const char *want)
{
    if (cJSON_IsNumber(in) && (in->type & JSON_NOT_INT64) && strcmp(want, "an integer") == 0)
        return err_set(d->e, IMGSTAT_EINPUT,
                       "%s: %s is a number that is not an int64 (a fraction, an exponent or out of "
                       "range)",
                       d->what, d->path[0] ? d->path : "the document");
    return err_set(d->e, IMGSTAT_EINPUT, "%s: %s is %s, not %s", d->what,
                   d->path[0] ? d->path : "the document", json_kind(in), want);
}

static int decode(struct jdec *d, cJSON *in, const struct json_type *t, cJSON **slot);

/* The next child of a parsed container, unlinked: decoding consumes the parsed tree as it
 * builds the decoded one, so a document is held about once, not twice. */
static cJSON *take_child(cJSON *in)
{
    cJSON *c = in->child;
    if (c) {
        in->child = c->next;
        if (c->next)
            c->next->prev = c->prev;
        c->next = c->prev = NULL;
    }
    return c;
}

/* The value a Go field or element holds before anything is decoded into it. */
static cJSON *zero_value(const struct json_type *t)
{
    switch (t->kind) {
    case JT_STRING: return cJSON_CreateString("");
    case JT_INT64: return cJSON_CreateNumber(0);
    case JT_BOOL: return cJSON_CreateFalse();
    case JT_STRUCT: return cJSON_CreateObject();
    default: return cJSON_CreateNull();
    }
}

/* Append ".name" (or "[i]" when name is NULL) to the path; returns where to cut it back. */
static size_t path_push(struct jdec *d, const char *name, size_t i)
{
    size_t at = strlen(d->path);
    if (name)
        snprintf(d->path + at, sizeof d->path - at, "%s%.60s", at ? "." : "", name);
    else
        snprintf(d->path + at, sizeof d->path - at, "[%zu]", i);
    return at;
}

/* A struct: each member goes to the field its key names (J1), decoded into what an earlier
 * member put there (J5); unknown members are skipped. */
/* The object a struct or map is decoded into: the one already there, or a new one (a nil
 * pointer or map, held as null, is allocated as Go allocates it). */
static int object_slot(struct jdec *d, cJSON **slot)
{
    if (*slot && cJSON_IsObject(*slot))
        return IMGSTAT_OK;
    cJSON_Delete(*slot);
    return (*slot = cJSON_CreateObject()) ? IMGSTAT_OK : err_nomem(d->e);
}

static int decode_struct(struct jdec *d, cJSON *in, const struct json_type *t, cJSON **slot)
{
    if (object_slot(d, slot) != IMGSTAT_OK)
        return d->e->code;
    for (cJSON *m; (m = take_child(in)); cJSON_Delete(m)) {
        const struct json_member *f = NULL;
        for (const struct json_member *c = t->fields; c->name && !f; c++)
            if (strcmp(m->string, c->name) == 0)
                f = c; /* an exact match first, as Go */
        for (const struct json_member *c = t->fields; c->name && !f; c++)
            if (json_key_matches(m->string, c->name))
                f = c;
        if (!f)
            continue;
        cJSON *cur = cJSON_DetachItemFromObjectCaseSensitive(*slot, f->name);
        size_t at = path_push(d, f->name, 0);
        int rc = decode(d, m, f->type, &cur);
        d->path[at] = '\0';
        if (cur)
            cJSON_AddItemToObjectCS(*slot, f->name, cur);
        if (rc != IMGSTAT_OK) {
            cJSON_Delete(m);
            return rc;
        }
    }
    return IMGSTAT_OK;
}

/* A slice: element i is decoded into the earlier slice's element i where there is one, and
 * the slice ends where the array does (Go's decode.go array()). */
static int decode_slice(struct jdec *d, cJSON *in, const struct json_type *t, cJSON **slot)
{
    cJSON *old = *slot ? (*slot)->child : NULL, *arr = cJSON_CreateArray();
    if (*slot) {
        (*slot)->child = NULL;
        cJSON_Delete(*slot);
    }
    *slot = arr;
    if (!arr) {
        cJSON_Delete(old);
        return err_nomem(d->e);
    }
    size_t i = 0;
    int rc = IMGSTAT_OK;
    for (cJSON *el; (el = take_child(in)); cJSON_Delete(el)) {
        cJSON *cur = old;
        if (old) {
            old = old->next;
            cur->next = cur->prev = NULL;
        }
        size_t at = path_push(d, NULL, i++);
        rc = decode(d, el, t->elem, &cur);
        d->path[at] = '\0';
        if (!cur && rc == IMGSTAT_OK && !(cur = zero_value(t->elem)))
            rc = err_nomem(d->e);
        if (cur)
            cJSON_AddItemToArray(arr, cur);
        if (rc != IMGSTAT_OK) {
            cJSON_Delete(el);
            break;
        }
    }
    if (old)
        old->prev = NULL;
    cJSON_Delete(old);
    return rc;
}

static int by_key(const void *a, const void *b)
{
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Drop all but the last member of each key, in O(n log n): sort by key, and among equal
 * keys keep the one written last (its position noted in valueint). */
static int map_dedupe(struct jdec *d, cJSON *obj)
{
    size_t n = (size_t)cJSON_GetArraySize(obj), k = 0;
    if (n < 2)
        return IMGSTAT_OK;
    cJSON **v = malloc(n * sizeof *v), *m;
    if (!v)
        return err_nomem(d->e);
    cJSON_ArrayForEach(m, obj) v[k++] = m;
    for (size_t i = 0; i < n; i++)
        v[i]->valueint = (int)i; /* maps' members are values: valueint is free */
    qsort(v, n, sizeof *v, by_key);
    for (size_t i = 0; i + 1 < n; i++) {
        if (strcmp(v[i]->string, v[i + 1]->string) != 0)
            continue;
        cJSON *older = v[i]->valueint < v[i + 1]->valueint ? v[i] : v[i + 1];
        cJSON *newer = older == v[i] ? v[i + 1] : v[i];
        cJSON_Delete(cJSON_DetachItemViaPointer(obj, older));
        v[i + 1] = newer;
    }
    free(v);
    return IMGSTAT_OK;
}

/* A map: keys exact, each value decoded fresh, the last of a key kept (J6). */
static int decode_map(struct jdec *d, cJSON *in, const struct json_type *t, cJSON **slot)
{
    if (object_slot(d, slot) != IMGSTAT_OK)
        return d->e->code;
    for (cJSON *m; (m = take_child(in)); cJSON_Delete(m)) {
        cJSON *cur = NULL;
        size_t at = path_push(d, m->string, 0);
        int rc = decode(d, m, t->elem, &cur);
        d->path[at] = '\0';
        if (!cur && rc == IMGSTAT_OK && !(cur = zero_value(t->elem)))
            rc = err_nomem(d->e);
        if (cur)
            cJSON_AddItemToObject(*slot, m->string, cur);
        if (rc != IMGSTAT_OK) {
            cJSON_Delete(m);
            return rc;
        }
    }
    return map_dedupe(d, *slot);
}

/* JT_LENIENT: the value as elem, or, where Go would refuse it, no value and no error. */
static int decode_lenient(struct jdec *d, cJSON *in, const struct json_type *t, cJSON **slot)
{
    struct err before = *d->e;
    int rc = decode(d, in, t->elem, slot);
    if (rc != IMGSTAT_EINPUT)
        return rc;
    cJSON_Delete(*slot);
    *slot = NULL;
    *d->e = before;
    return IMGSTAT_OK;
}

static int decode(struct jdec *d, cJSON *in, const struct json_type *t, cJSON **slot)
{
    if (t->kind == JT_LENIENT)
        return decode_lenient(d, in, t, slot);
    if (cJSON_IsNull(in)) { /* J6: null clears pointers, slices and maps, else does nothing */
        if (t->kind == JT_PTR || t->kind == JT_SLICE || t->kind == JT_MAP ||
            t->kind == JT_PRESENT) {
            cJSON_Delete(*slot);
            *slot = NULL;
        }
        return IMGSTAT_OK;
    }
    cJSON *v = NULL;
    switch (t->kind) {
    case JT_STRING:
        if (!cJSON_IsString(in))
            return type_error(d, in, "a string");
        if ((v = cJSON_CreateNull())) { /* the parsed string moves over: no copy */
            v->type = cJSON_String;
            v->valuestring = in->valuestring;
            in->valuestring = NULL;
        }
        break;
    case JT_INT64:
        if (!cJSON_IsNumber(in) || (in->type & JSON_NOT_INT64))
            return type_error(d, in, "an integer");
        v = cJSON_CreateNumber(in->valuedouble);
        break;
    case JT_PRESENT: v = cJSON_CreateTrue(); break;
    case JT_BOOL:
        if (!cJSON_IsBool(in))
            return type_error(d, in, "a boolean");
        v = cJSON_CreateBool(cJSON_IsTrue(in));
        break;
    case JT_LENIENT: break; /* handled above */
    case JT_STRUCT:
    case JT_PTR:
        return cJSON_IsObject(in) ? decode_struct(d, in, t, slot) : type_error(d, in, "an object");
    case JT_SLICE:
        return cJSON_IsArray(in) ? decode_slice(d, in, t, slot) : type_error(d, in, "an array");
    case JT_MAP:
        return cJSON_IsObject(in) ? decode_map(d, in, t, slot) : type_error(d, in, "an object");
    }
    if (!v)
        return err_nomem(d->e);
    cJSON_Delete(*slot);
    *slot = v;
    return IMGSTAT_OK;
}

int json_decode(const unsigned char *buf, size_t len, const struct json_type *t, const char *what,
                cJSON **out, struct err *e)
{
    cJSON *doc;
    *out = NULL;
    if (json_parse(buf, len, what, &doc, e) != IMGSTAT_OK)
        return e->code;
    struct jdec d = {.what = what, .e = e};
    cJSON *v = NULL;
    int rc = decode(&d, doc, t, &v);
    cJSON_Delete(doc);
    if (rc == IMGSTAT_OK && !v &&
        !(v = t->kind == JT_SLICE ? cJSON_CreateArray() : cJSON_CreateObject()))
        rc = err_nomem(e); /* null: a nil slice or map, a zero struct */
    if (rc != IMGSTAT_OK) {
        cJSON_Delete(v);
        return rc;
    }
    *out = v;
    return IMGSTAT_OK;
}

int json_load(struct source *s, const char *name, const struct json_type *t, cJSON **out,
              struct err *e)
{
    const unsigned char *buf;
    size_t len;
    *out = NULL;
    if (src_read(s, name, SRC_JSON_MAX, &buf, &len, e) != IMGSTAT_OK)
        return e->code;
    return json_decode(buf, len, t, name, out, e);
}
