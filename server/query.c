#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decode s[0..n) into out (NUL-terminated); -1 on a bad escape or a NUL. */
static int pct_decode(const char *s, size_t n, char *out, size_t *outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[k++] = c;
    }
    out[k] = '\0';
    *outlen = k;
    return 0;
}

/* why = "PRE'PART'POST", the part shown as far as it is printable. */
static int fail(char *why, size_t cap, const char *pre, const char *part, size_t n,
                const char *post)
{
    /* the part is quoted only as far as it is printable */
    char shown[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof shown && k < 40; i++)
        shown[k++] = part[i] >= 0x20 && part[i] < 0x7f ? part[i] : '?';
    shown[k] = '\0';
    snprintf(why, cap, n ? "%s'%s'%s" : "%s%s%s", pre, shown, post);
    return -1;
}

/* One decoded piece into t->mem at *used; returns it, or NULL with why. */
static const char *piece(struct target *t, size_t *used, const char *s, size_t n, bool segment,
                         char *why, size_t cap)
{
    char *out = t->mem + *used;
    size_t len;
    if (pct_decode(s, n, out, &len) != 0)
        return fail(why, cap, "", s, n, ": a bad %-escape or a NUL byte"), NULL;
    if (!utf8_valid(out, len))
        return fail(why, cap, "", s, n, ": not UTF-8"), NULL;
    if (segment && (memchr(out, '/', len) || strcmp(out, ".") == 0 || strcmp(out, "..") == 0))
        return fail(why, cap, "path segment ", s, n, ": an encoded '/' or a dot segment"), NULL;
    *used += len + 1;
    return out;
}

static int parse_path(const char *p, size_t n, struct target *t, size_t *used, char *why,
                      size_t cap)
{
    if (n == 0 || p[0] != '/')
        return fail(why, cap, "the path ", p, n, " does not start with '/'");
    for (size_t i = 0; i <= n;) {
        size_t e = i;
        while (e < n && p[e] != '/')
            e++;
        if (t->nseg == Q_MAX_SEGMENTS)
            return fail(why, cap, "the path ", p, n, " has too many segments");
        if (!(t->seg[t->nseg++] = piece(t, used, p + i, e - i, true, why, cap)))
            return -1;
        i = e + 1;
    }
    return 0;
}

static int parse_query(const char *q, size_t n, struct target *t, size_t *used, char *why,
                       size_t cap)
{
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && q[e] != '&')
            e++;
        if (e > i) {
            const char *eq = memchr(q + i, '=', e - i);
            size_t klen = eq ? (size_t)(eq - (q + i)) : e - i;
            if (t->nparam == Q_MAX_PARAMS)
                return fail(why, cap, "more than 64 query parameters", "", 0, "");
            struct q_param *qp = &t->param[t->nparam++];
            if (!(qp->key = piece(t, used, q + i, klen, false, why, cap)))
                return -1;
            const char *v = eq ? eq + 1 : q + e;
            if (!(qp->value = piece(t, used, v, (size_t)(q + e - v), false, why, cap)))
                return fail(why, cap, "query parameter ", qp->key, strlen(qp->key),
                            ": a bad %-escape, a NUL or not UTF-8");
        }
        i = e + 1;
    }
    return 0;
}

int target_parse(const char *uri, size_t len, struct target *t, char *why, size_t cap)
{
    memset(t, 0, sizeof *t);
    if (!(t->mem = malloc(len + Q_MAX_SEGMENTS + 2 * Q_MAX_PARAMS + 2))) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    if (memchr(uri, '\0', len) || memchr(uri, '#', len))
        return fail(why, cap, "the request target holds a NUL or '#'", "", 0, "");
    const char *q = memchr(uri, '?', len);
    t->raw_path = uri;
    t->raw_path_len = q ? (size_t)(q - uri) : len;
    size_t used = 0;
    if (parse_path(uri, t->raw_path_len, t, &used, why, cap) != 0)
        return -1;
    return q ? parse_query(q + 1, len - t->raw_path_len - 1, t, &used, why, cap) : 0;
}

void target_free(struct target *t)
{
    free(t->mem);
    t->mem = NULL;
}

const char *target_param(const struct target *t, const char *key, int *count)
{
    const char *v = NULL;
    *count = 0;
    for (size_t i = 0; i < t->nparam; i++) {
        if (strcmp(t->param[i].key, key) == 0) {
            if (!v)
                v = t->param[i].value;
            ++*count;
        }
    }
    return v;
}

void pct_encode(struct jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            jb_put(b, &s[i], 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            jb_put(b, e, 3);
        }
    }
}
