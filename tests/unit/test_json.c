/*
 * test_json: Go's encoding/json as scanner/json.c implements it (docs/rules.md J1-J6), one
 * table per rule.  Expected values come from Go's sources, not from imgstat: encoding/json
 * fold.go (a key folds rune by rune to the smallest rune of its unicode.SimpleFold orbit),
 * unicode/tables.go caseOrbit (K k U+212A; S s U+017F; U+0130 and U+0131 alone), decode.go
 * (the last key written wins, an array is decoded into the earlier slice's elements, null
 * clears slices, maps and pointers and leaves strings and structs), scanner.go (RFC 8259
 * grammar, 10000 levels, nothing after the value) and strconv.ParseInt for int64 fields.
 * Prints one line per failed row and a final "N passed, N failed" line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"
#include "json.h"

static int passed, failed;

static void check(bool ok, const char *rule, const char *what)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s: %s\n", rule, what);
}

/* J1: which keys name which field */
static const struct {
    const char *key, *field;
    bool match;
} fold_rows[] = {
    {"layers", "layers", true},
    {"Layers", "layers", true},
    {"LAYERS", "layers", true},
    {"layer\xc5\xbf", "layers", true}, /* U+017F LONG S folds to S */
    {"\xc5\xbf", "S", true},
    {"\xe2\x84\xaa", "k", true}, /* U+212A KELVIN SIGN folds to K */
    {"\xe2\x84\xaa", "K", true},
    {"d\xc4\xb1"
     "ff_ids",
     "diff_ids", false}, /* U+0131 DOTLESS I: its own orbit */
    {"D\xc4\xb0"
     "FF_IDS",
     "diff_ids", false}, /* U+0130 I WITH DOT: its own orbit */
    {"layer", "layers", false},
    {"layerss", "layers", false},
    {"la_yers", "layers", false}, /* v1 encoding/json ignores no underscores */
    {"Diff_IDs", "diff_ids", true},
    {"diff-ids", "diff_ids", false},
    {"\xef\xbf\xbd", "a", false}, /* U+FFFD */
};

static const cJSON *decode_or_null(const char *doc, const struct json_type *t, cJSON **keep,
                                   struct err *e)
{
    memset(e, 0, sizeof *e);
    *keep = NULL;
    if (json_decode((const unsigned char *)doc, strlen(doc), t, "doc", keep, e) != IMGSTAT_OK)
        return NULL;
    return *keep;
}

/* The digests of a decoded manifest's layers, joined by commas, or "ERROR: message". */
static void layers_of(const char *doc, char *out, size_t cap)
{
    cJSON *m;
    struct err e;
    out[0] = '\0';
    if (!decode_or_null(doc, &json_t_manifest, &m, &e)) {
        snprintf(out, cap, "ERROR: %s", e.msg);
        return;
    }
    const cJSON *l;
    size_t used = 0;
    cJSON_ArrayForEach(l, json_field(m, "layers"))
    {
        const char *d = json_str(l, "digest"), *mt = json_str(l, "mediaType");
        used += (size_t)snprintf(out + used, cap - used, "%s%s/%s", used ? "," : "", d ? d : "-",
                                 mt ? mt : "-");
    }
    cJSON_Delete(m);
}

/* J1, J5, J6 on manifests: which layers a document lists */
static const struct {
    const char *rule, *doc, *layers;
} manifest_rows[] = {
    {"J1 last wins", "{\"layers\":[{\"digest\":\"a\"}],\"layers\":[{\"digest\":\"b\"}]}", "b/-"},
    {"J1 folded", "{\"layers\":[{\"digest\":\"a\"}],\"LAYERS\":[{\"digest\":\"b\"}]}", "b/-"},
    {"J1 exact beside folded", "{\"Layers\":[{\"digest\":\"a\"}],\"layers\":[{\"digest\":\"b\"}]}",
     "b/-"},
    {"J1 long s", "{\"layer\xc5\xbf\":[{\"digest\":\"a\"}]}", "a/-"},
    {"J1 dotless i is not i", "{\"layers\":[{\"d\xc4\xb1gest\":\"a\"}]}", "-/-"},
    {"J1 field in element", "{\"layers\":[{\"DIGEST\":\"a\",\"Digest\":\"b\"}]}", "b/-"},
    {"J5 element merged",
     "{\"layers\":[{\"digest\":\"a\",\"mediaType\":\"m\"},{\"digest\":\"x\"}],"
     "\"layers\":[{\"digest\":\"b\"}]}",
     "b/m"},
    {"J5 longer second", "{\"layers\":[{\"mediaType\":\"m\"}],\"layers\":[{},{\"digest\":\"c\"}]}",
     "-/m,c/-"},
    {"J6 null clears a slice", "{\"layers\":[{\"digest\":\"a\"}],\"layers\":null}", ""},
    {"J6 null keeps a string", "{\"layers\":[{\"digest\":\"a\",\"digest\":null}]}", "a/-"},
    {"J6 null element is a zero struct", "{\"layers\":[null]}", "-/-"},
    {"J4 size -1 is an int64", "{\"layers\":[{\"digest\":\"a\",\"size\":-1}]}", "a/-"},
    {"J4 size 1e3", "{\"layers\":[{\"size\":1e3}]}",
     "ERROR: doc: layers[0].size is a number that "
     "is not an int64 (a fraction, an exponent or "
     "out of range)"},
    {"J4 size 1.0", "{\"layers\":[{\"size\":1.0}]}",
     "ERROR: doc: layers[0].size is a number that "
     "is not an int64 (a fraction, an exponent or "
     "out of range)"},
    {"J4 size 2^63", "{\"layers\":[{\"size\":9223372036854775808}]}",
     "ERROR: doc: layers[0].size is a number that is not an int64 (a fraction, an exponent or out "
     "of range)"},
    {"J4 size -2^63", "{\"layers\":[{\"digest\":\"a\",\"size\":-9223372036854775808}]}", "a/-"},
    {"J6 type error", "{\"layers\":[{\"digest\":5}]}",
     "ERROR: doc: layers[0].digest is a number, not a string"},
    {"J6 unknown field any type", "{\"urls\":5,\"layers\":[{\"digest\":\"a\",\"x\":[1]}]}", "a/-"},
};

/* J2-J4: the grammar.  ok: Go's json.Unmarshal accepts it */
static const struct {
    const char *doc;
    size_t len; /* 0: strlen */
    bool ok;
    const char *str; /* the value of "k", when ok and given */
} grammar_rows[] = {
    {"{\"k\":\"v\"}", 0, true, "v"},
    {"{\"k\":\"v\"} \r\n\t", 0, true, "v"},
    {"{\"k\":\"v\"}}", 0, false, NULL}, /* J2 bytes after the document */
    {"{\"k\":\"v\"}x", 0, false, NULL},
    {"{\"k\":\"v\"}\f", 0, false, NULL},               /* \f is not JSON whitespace */
    {"\xef\xbb\xbf{\"k\":\"v\"}", 0, false, NULL},     /* a BOM */
    {"{\"k\":\"a\x01\"}", 0, false, NULL},             /* a raw control byte */
    {"{\"k\":\"a\xe9z\"}", 0, true, "a\xef\xbf\xbdz"}, /* J3 invalid UTF-8: U+FFFD */
    {"{\"k\":\"\xed\xa0\x80\"}", 0, true, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
    {"{\"k\":\"\\ud800\"}", 0, true, "\xef\xbf\xbd"}, /* a lone surrogate escape */
    {"{\"k\":\"\\ud800\\u0041\"}", 0, true,
     "\xef\xbf\xbd"
     "A"},
    {"{\"k\":\"\\ud83d\\ude00\"}", 0, true, "\xf0\x9f\x98\x80"},
    {"{\"k\":\"\\u00e9\"}", 0, true, "\xc3\xa9"},
    {"{\"k\":\"\\x\"}", 0, false, NULL},
    {"{\"k\":+1}", 0, false, NULL}, /* J4 numbers as RFC 8259 writes them */
    {"{\"k\":01}", 0, false, NULL},
    {"{\"k\":1.}", 0, false, NULL},
    {"{\"k\":.5}", 0, false, NULL},
    {"{\"k\":-0.5e-3}", 0, true, NULL},
    {"{\"k\":1,}", 0, false, NULL},
    {"[1,]", 0, false, NULL},
    {"{\"k\" \"v\"}", 0, false, NULL},
    {"{k:\"v\"}", 0, false, NULL},
    {"{\"k\":tru}", 0, false, NULL},
    {"", 0, false, NULL},
    {"  ", 0, false, NULL},
    {"{\"k\":\"v\"\0}", 10, false, NULL},
};

static void test_grammar(void)
{
    for (size_t i = 0; i < sizeof grammar_rows / sizeof *grammar_rows; i++) {
        const char *d = grammar_rows[i].doc;
        size_t n = grammar_rows[i].len ? grammar_rows[i].len : strlen(d);
        cJSON *v = NULL;
        struct err e = {0};
        bool ok = json_parse((const unsigned char *)d, n, "doc", &v, &e) == IMGSTAT_OK;
        char what[160];
        snprintf(what, sizeof what, "row %zu (%.40s): %s", i, d, ok ? "accepted" : e.msg);
        bool good = ok == grammar_rows[i].ok;
        if (good && ok && grammar_rows[i].str) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(v, "k");
            good = cJSON_IsString(k) && strcmp(k->valuestring, grammar_rows[i].str) == 0;
        }
        check(good, "J2-J4 grammar", what);
        cJSON_Delete(v);
    }
}

/* J2: Go's scanner allows 10000 levels */
static void test_depth(void)
{
    for (int depth = 9999; depth <= 10001; depth++) {
        char *d = malloc((size_t)depth * 2 + 1);
        memset(d, '[', (size_t)depth);
        memset(d + depth, ']', (size_t)depth);
        cJSON *v = NULL;
        struct err e = {0};
        bool ok = json_parse((const unsigned char *)d, (size_t)depth * 2, "doc", &v, &e) == 0;
        char what[80];
        snprintf(what, sizeof what, "%d levels: %s", depth, ok ? "accepted" : e.msg);
        check(ok == (depth <= JSON_MAX_DEPTH), "J2 depth", what);
        cJSON_Delete(v);
        free(d);
    }
}

/* J6: maps keep exact keys, the last of each; a repository's inner map is fresh */
static void test_maps(void)
{
    cJSON *v;
    struct err e;
    const cJSON *m = decode_or_null("{\"annotations\":{\"a\":\"1\",\"A\":\"2\",\"a\":\"3\"},"
                                    "\"Annotations\":{\"b\":\"4\"}}",
                                    &json_t_index, &v, &e);
    const cJSON *ann = json_field(m, "annotations");
    check(m && cJSON_GetArraySize(ann) == 3, "J6 map merged", "3 keys: a, A, b");
    check(json_map_str(ann, "a") && strcmp(json_map_str(ann, "a"), "3") == 0, "J6 map last",
          "a is 3");
    check(json_map_str(ann, "A") && strcmp(json_map_str(ann, "A"), "2") == 0, "J6 map exact",
          "A is 2");
    cJSON_Delete(v);
    m = decode_or_null("{\"r\":{\"t\":\"1\",\"u\":\"2\"},\"r\":{\"t\":\"3\"}}", &json_t_repos, &v,
                       &e);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "r");
    check(m && cJSON_GetArraySize(r) == 1 && strcmp(json_map_str(r, "t"), "3") == 0,
          "J6 map value fresh", "repositories: the second r replaces the first whole");
    cJSON_Delete(v);
    m = decode_or_null("null", &json_t_dsave, &v, &e);
    check(m && cJSON_IsArray(m) && cJSON_GetArraySize(m) == 0, "J6 null document", "[]");
    cJSON_Delete(v);
}

int main(void)
{
    for (size_t i = 0; i < sizeof fold_rows / sizeof *fold_rows; i++) {
        char what[120];
        snprintf(what, sizeof what, "key '%s' vs field '%s'", fold_rows[i].key, fold_rows[i].field);
        check(json_key_matches(fold_rows[i].key, fold_rows[i].field) == fold_rows[i].match,
              "J1 fold", what);
    }
    for (size_t i = 0; i < sizeof manifest_rows / sizeof *manifest_rows; i++) {
        char got[512], what[700];
        layers_of(manifest_rows[i].doc, got, sizeof got);
        snprintf(what, sizeof what, "%s: got '%s', want '%s'", manifest_rows[i].doc, got,
                 manifest_rows[i].layers);
        check(strcmp(got, manifest_rows[i].layers) == 0, manifest_rows[i].rule, what);
    }
    test_grammar();
    test_depth();
    test_maps();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
