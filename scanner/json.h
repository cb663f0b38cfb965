/*
 * json: every JSON document of an image read as Go's encoding/json reads it into the
 * structs of the runtimes (containerd, moby, umoci, containers/image), rules J1-J6 of
 * docs/rules.md.  json_decode() parses the bytes with Go's grammar into a cJSON tree and
 * then decodes that tree into the shape of one Go type (struct json_type): the result has
 * only the fields the type names, spelled as the type spells them, with duplicate and
 * case-folded keys merged as Go merges them and every value of the type Go wants.  The
 * readers look fields up with json_field().
 *
 * Ownership: every cJSON tree returned here is the caller's, freed with cJSON_Delete.
 */
#ifndef IMGSTAT_JSON_H
#define IMGSTAT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct err;
struct source;

/* Nesting Go's scanner accepts (encoding/json scanner.go maxNestingDepth). */
#define JSON_MAX_DEPTH 10000
/* Set in a parsed number's `type` when its literal is not an int64 one (a fraction, an
 * exponent, out of range): a bit cJSON leaves unused, so cJSON_IsNumber still holds. */
#define JSON_NOT_INT64 (1 << 12)

/* The Go kinds a document's fields have (only those imgstat reads are described). */
enum json_go {
    JT_STRING = 1, /* string, digest.Digest */
    JT_INT64,      /* int64 (descriptor size), int (schemaVersion) */
    JT_STRUCT,     /* a struct value: null leaves it as it was */
    JT_PTR,        /* a pointer to a struct: null makes it nil */
    JT_SLICE,      /* []elem: null makes it nil, an array replaces it element by element */
    JT_MAP,        /* map[string]elem: keys exact, each value fresh */
    JT_PRESENT,    /* json.RawMessage where only presence matters (media type sniffing) */
    JT_BOOL,       /* bool */
    JT_LENIENT,    /* elem, read for display only: where Go would refuse the value (a type
                      error), the field is dropped instead of failing the document */
};

struct json_member;

struct json_type {
    enum json_go kind;
    const struct json_type *elem;     /* JT_SLICE, JT_MAP, JT_LENIENT */
    const struct json_member *fields; /* JT_STRUCT, JT_PTR: ended by a NULL name */
};

struct json_member {
    const char *name; /* the Go field's JSON name */
    const struct json_type *type;
};

/* The documents imgstat reads, as the runtimes declare them. */
extern const struct json_type json_t_index;    /* ocispec.Index (and a docker manifest list) */
extern const struct json_type json_t_manifest; /* ocispec.Manifest, docker schema2.Manifest */
extern const struct json_type json_t_config;   /* ocispec.Image, moby image.Image */
extern const struct json_type json_t_dsave;    /* moby tarexport []manifestItem */
extern const struct json_type json_t_repos;    /* map[string]map[string]string */
extern const struct json_type json_t_v1;       /* a legacy <id>/json: Parent, OS */
extern const struct json_type json_t_sniff;    /* containerd's media type detection */

/* Read and decode the member `name` as type t; *out (never NULL on success) is the caller's. */
int json_load(struct source *s, const char *name, const struct json_type *t, cJSON **out,
              struct err *e);
/* Decode a buffer as type t; `what` names it in the error. */
int json_decode(const unsigned char *buf, size_t len, const struct json_type *t, const char *what,
                cJSON **out, struct err *e);

/* Parse a buffer with Go's grammar only (J2-J4): no type, keys kept as written. */
int json_parse(const unsigned char *buf, size_t len, const char *what, cJSON **out, struct err *e);

/* Does the object key `key` name the struct field `name` as Go matches them (J1): equal, or
 * equal under Unicode simple case folding (bytes.EqualFold)? */
bool json_key_matches(const char *key, const char *name);

/* The value of the field `name` of a struct object, matched as Go does (J1): the last
 * member whose key matches; NULL when absent. */
const cJSON *json_field(const cJSON *obj, const char *name);
/* The string of json_field(obj, name), or NULL when absent or not a string. */
const char *json_str(const cJSON *obj, const char *name);
/* The string at an exact key of a map object (annotations), the last one written. */
const char *json_map_str(const cJSON *map, const char *key);
/* The JSON type of a value, in words, for messages. */
const char *json_kind(const cJSON *v);

#endif
