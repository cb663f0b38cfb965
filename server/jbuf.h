/*
 * jbuf: a growing byte buffer for response bodies and log lines, with the JSON writers the
 * endpoints need.  Strings are written as the CLI writes them (cli/output.c): UTF-8 passes
 * through, control characters and bytes that are not UTF-8 become \u00XX, so a page of the
 * server equals the CLI's page byte for byte.  Integers are printed exactly.
 *
 * A failed allocation sets `oom` and makes every later call a no-op; the caller checks it
 * once at the end.
 */
#ifndef SERVER_JBUF_H
#define SERVER_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

void jb_free(struct jbuf *b);
void jb_reset(struct jbuf *b); /* empty it, keep the memory */
void jb_put(struct jbuf *b, const void *s, size_t n);
void jb_puts(struct jbuf *b, const char *s);
void jb_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jb_u64(struct jbuf *b, uint64_t v);
/* A JSON string of len raw bytes; NULL writes null. */
void jb_str(struct jbuf *b, const char *s, size_t len);
void jb_cstr(struct jbuf *b, const char *s);
/* `"key": ` (key is a literal). */
void jb_key(struct jbuf *b, const char *key);

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* Is the whole of s[0..n) valid UTF-8 without NUL? */
bool utf8_valid(const char *s, size_t n);

#endif
