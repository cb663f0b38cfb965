/*
 * json_parse: JSON bytes to a cJSON tree with Go's grammar (encoding/json scanner.go and
 * decode.go unquote; docs/rules.md J2-J4): RFC 8259 exactly (no BOM, nothing but
 * whitespace after the document, whitespace only space/tab/CR/LF, no raw control bytes in
 * strings, numbers as RFC 8259 writes them), at most JSON_MAX_DEPTH levels, strings unquoted
 * as Go does (invalid UTF-8 and lone surrogates become U+FFFD).  Iterative, so a deep
 * document costs heap, not stack.
 */
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"

struct jparse {
    const unsigned char *p, *end, *start;
    const char *why; /* the syntax error, or NULL */
};

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct jparse *j)
{
    while (j->p < j->end && is_ws(*j->p))
        j->p++;
}

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(unsigned char *o, uint32_t r)
{
    if (r < 0x80)
        return o[0] = (unsigned char)r, 1;
    if (r < 0x800)
        return o[0] = (unsigned char)(0xC0 | r >> 6), o[1] = (unsigned char)(0x80 | (r & 0x3F)), 2;
    if (r < 0x10000) {
        o[0] = (unsigned char)(0xE0 | r >> 12);
        o[1] = (unsigned char)(0x80 | (r >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (r & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | r >> 18);
    o[1] = (unsigned char)(0x80 | (r >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (r >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (r & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (Go's utf8.DecodeRune rules: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 when the byte at p starts none. */
static size_t utf8_valid(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (!n || (size_t)(end - p) < n)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* One \uXXXX escape at j->p (after the backslash and 'u'), with a following low surrogate;
 * a lone surrogate is U+FFFD (Go's unquote). */
static uint32_t unescape_u(struct jparse *j)
{
    int r = hex4(j->p);
    if (r < 0)
        return j->why = "bad \\u escape in a string", 0;
    j->p += 4;
    if (r < 0xD800 || r > 0xDFFF)
        return (uint32_t)r;
    if (r < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
        int r2 = hex4(j->p + 2);
        if (r2 >= 0xDC00 && r2 <= 0xDFFF) {
            j->p += 6;
            return 0x10000 + ((uint32_t)(r - 0xD800) << 10) + (uint32_t)(r2 - 0xDC00);
        }
    }
    return 0xFFFD;
}

/* A string at j->p (the opening quote), unquoted as Go does; NULL with j->why on error.
 * A NUL (\u0000) becomes U+FFFD too: C strings cannot hold it, and no field name, digest
 * or reference imgstat compares can contain either. */
static char *parse_string(struct jparse *j)
{
    const unsigned char *q = ++j->p;
    while (q < j->end && *q != '"')
        q += *q == '\\' && q + 1 < j->end ? 2 : 1;
    if (q >= j->end)
        return j->why = "unterminated string", NULL;
    unsigned char *out = cJSON_malloc((size_t)(q - j->p) * 3 + 1), *o = out;
    if (!out)
        return j->why = "out of memory", NULL;
    while (*j->p != '"') {
        unsigned char c = *j->p;
        size_t n;
        if (c < 0x20) {
            cJSON_free(out);
            return j->why = "control character in a string", NULL;
        }
        if (c == '\\') {
            const char *esc = strchr("\"\\/bfnrt", j->p[1]);
            j->p += 2;
            if (esc && j->p[-1]) {
                *o++ = (unsigned char)"\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"];
                continue;
            }
            uint32_t r = j->p[-1] == 'u' ? unescape_u(j) : (j->why = "bad escape in a string", 0);
            if (j->why) {
                cJSON_free(out);
                return NULL;
            }
            o += put_utf8(o, r ? r : 0xFFFD);
        } else if (c < 0x80) {
            *o++ = c;
            j->p++;
        } else if ((n = utf8_valid(j->p, q))) {
            memcpy(o, j->p, n);
            o += n;
            j->p += n;
        } else {
            o += put_utf8(o, 0xFFFD); /* Go: each invalid byte is one U+FFFD */
            j->p++;
        }
    }
    j->p++;
    *o = '\0';
    return (char *)out;
}

/* A number literal with RFC 8259's grammar; flagged when Go cannot put it in an int64. */
static cJSON *parse_number(struct jparse *j)
{
    const unsigned char *s = j->p;
    bool neg = *j->p == '-', integer = true, overflow = false;
    uint64_t v = 0;
    if (neg)
        j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return j->why = "bad number", NULL;
    if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
        return j->why = "bad number (leading zero)", NULL;
    for (; j->p < j->end && *j->p >= '0' && *j->p <= '9'; j->p++) {
        overflow |= v > (UINT64_MAX - 9) / 10;
        v = v * 10 + (uint64_t)(*j->p - '0');
    }
    if (j->p < j->end && *j->p == '.') {
        integer = false;
        if (++j->p >= j->end || *j->p < '0' || *j->p > '9')
            return j->why = "bad number", NULL;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        integer = false;
        if (++j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return j->why = "bad number", NULL;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    overflow |= v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX);
    double d = 0;
    if (integer && !overflow)
        d = neg ? -(double)v : (double)v;
    else if (j->p - s < 64) {
        char buf[64];
        memcpy(buf, s, (size_t)(j->p - s));
        buf[j->p - s] = '\0';
        d = strtod(buf, NULL); /* never used: only int64 fields are read */
    }
    cJSON *n = cJSON_CreateNumber(d);
    if (!n)
        return j->why = "out of memory", NULL;
    if (!integer || overflow)
        n->type |= JSON_NOT_INT64;
    return n;
}

static cJSON *parse_literal(struct jparse *j)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0) {
            j->p += n;
            cJSON *v = i == 2 ? cJSON_CreateNull() : cJSON_CreateBool(i == 0);
            return v ? v : (j->why = "out of memory", NULL);
        }
    }
    return j->why = "invalid character", NULL;
}

/* A scalar, or an empty container to be filled by the caller. */
static cJSON *parse_scalar(struct jparse *j)
{
    if (j->p >= j->end)
        return j->why = "unexpected end", NULL;
    unsigned char c = *j->p;
    cJSON *v;
    if (c == '{' || c == '[') {
        j->p++;
        v = c == '{' ? cJSON_CreateObject() : cJSON_CreateArray();
        return v ? v : (j->why = "out of memory", NULL);
    }
    if (c == '"') {
        char *s = parse_string(j);
        if (!s)
            return NULL;
        if (!(v = cJSON_CreateNull())) {
            cJSON_free(s);
            return j->why = "out of memory", NULL;
        }
        v->type = cJSON_String;
        v->valuestring = s;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(j);
    return parse_literal(j);
}

/* The key and colon before an object member. */
static char *parse_key(struct jparse *j)
{
    skip_ws(j);
    if (j->p >= j->end || *j->p != '"')
        return j->why = "expected a string key", NULL;
    char *k = parse_string(j);
    if (!k)
        return NULL;
    skip_ws(j);
    if (j->p >= j->end || *j->p != ':') {
        cJSON_free(k);
        return j->why = "expected ':' after a key", NULL;
    }
    j->p++;
    return k;
}

struct jstack {
    cJSON **v;
    size_t n;
};

/* After a value inside containers: ',' or the closing bracket(s).  Returns true when a new
 * member follows (its key already read into *key for an object). */
static bool parse_next(struct jparse *j, struct jstack *st, char **key)
{
    while (st->n) {
        cJSON *top = st->v[st->n - 1];
        skip_ws(j);
        if (j->p >= j->end)
            return j->why = "unexpected end", false;
        char close = cJSON_IsObject(top) ? '}' : ']';
        if (*j->p == ',') {
            j->p++;
            if (cJSON_IsObject(top) && !(*key = parse_key(j)))
                return false;
            return true;
        }
        if (*j->p != close)
            return j->why = "expected ',' or a closing bracket", false;
        j->p++;
        st->n--;
    }
    return false;
}

/* Parse one value, containers included, iteratively; NULL with j->why on error. */
static cJSON *parse_document(struct jparse *j, struct jstack *st)
{
    cJSON *root = NULL;
    char *key = NULL;
    for (;;) {
        skip_ws(j);
        cJSON *v = parse_scalar(j);
        if (!v)
            break;
        if (!root)
            root = v;
        else {
            v->string = key;
            key = NULL;
            cJSON_AddItemToArray(st->v[st->n - 1], v); /* objects hold members the same way */
        }
        bool open = (cJSON_IsObject(v) || cJSON_IsArray(v));
        if (open) {
            if (st->n >= JSON_MAX_DEPTH) {
                j->why = "nested more than 10000 deep (Go's limit)";
                break;
            }
            st->v[st->n++] = v;
            skip_ws(j);
            char close = cJSON_IsObject(v) ? '}' : ']';
            if (j->p < j->end && *j->p == close) {
                j->p++;
                st->n--;
            } else if (cJSON_IsObject(v)) {
                if (!(key = parse_key(j)))
                    break;
                continue;
            } else {
                continue;
            }
        }
        if (!parse_next(j, st, &key))
            break;
    }
    cJSON_free(key);
    if (j->why) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int json_parse(const unsigned char *buf, size_t len, const char *what, cJSON **out, struct err *e)
{
    struct jparse j = {buf, buf + len, buf, NULL};
    struct jstack st = {malloc(JSON_MAX_DEPTH * sizeof(cJSON *)), 0};
    *out = NULL;
    if (!st.v)
        return err_nomem(e);
    cJSON *doc = parse_document(&j, &st);
    free(st.v);
    if (doc) {
        skip_ws(&j);
        if (j.p < j.end) { /* J2: Go refuses anything after the document */
            cJSON_Delete(doc);
            j.why = "bytes after the document";
        }
    }
    if (j.why && strcmp(j.why, "out of memory") == 0)
        return err_nomem(e);
    if (j.why)
        return err_set(e, IMGSTAT_EINPUT, "%s: not valid JSON: %s at byte %zu", what, j.why,
                       (size_t)(j.p - j.start));
    *out = doc;
    return IMGSTAT_OK;
}
