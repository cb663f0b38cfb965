#include "jbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jb_free(struct jbuf *b)
{
    free(b->p);
    *b = (struct jbuf){0};
}

void jb_reset(struct jbuf *b)
{
    b->len = 0;
    b->oom = false;
}

static bool jb_reserve(struct jbuf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void jb_put(struct jbuf *b, const void *s, size_t n)
{
    if (n == 0) /* s may be NULL then (an empty jbuf's p) */
        return;
    if (!jb_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void jb_puts(struct jbuf *b, const char *s)
{
    jb_put(b, s, strlen(s));
}

void jb_printf(struct jbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !jb_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void jb_u64(struct jbuf *b, uint64_t v)
{
    char tmp[24], *e = tmp + sizeof tmp, *s = e;
    do
        *--s = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    jb_put(b, s, (size_t)(e - s));
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xe0) == 0xc0 ? 2
                 : (s[0] & 0xf0) == 0xe0 ? 3
                 : (s[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    if (len == 0 || len > n || (len == 2 && s[0] < 0xc2))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

bool utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(s + i, n - i);
        if (k == 0 || s[i] == 0)
            return false;
        i += k;
    }
    return true;
}

void jb_str(struct jbuf *b, const char *str, size_t len)
{
    if (!str) {
        jb_put(b, "null", 4);
        return;
    }
    const unsigned char *s = (const unsigned char *)str;
    jb_put(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, flushed in one call */
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len(s + i, len - i);
        if (n > 1 || (n == 1 && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')) {
            run += n;
            i += n;
            continue;
        }
        jb_put(b, s + i - run, run);
        run = 0;
        if (n == 1 && (s[i] == '"' || s[i] == '\\'))
            jb_printf(b, "\\%c", s[i]);
        else
            jb_printf(b, "\\u%04x", s[i]);
        i++;
    }
    jb_put(b, s + len - run, run);
    jb_put(b, "\"", 1);
}

void jb_cstr(struct jbuf *b, const char *s)
{
    jb_str(b, s, s ? strlen(s) : 0);
}

void jb_key(struct jbuf *b, const char *key)
{
    jb_put(b, "\"", 1);
    jb_puts(b, key);
    jb_put(b, "\": ", 3);
}
