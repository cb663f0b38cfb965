/*
 * query: the request target taken apart strictly.  The path is split on '/', each segment
 * percent-decoded; the query into (key, value) pairs, percent-decoded ('+' stays '+': the
 * SDKs encode a space as %20).  A bad %-escape, a NUL, bytes that are not UTF-8, an encoded
 * '/' or a "." / ".." segment make the request invalid, with a reason naming the part.
 */
#ifndef SERVER_QUERY_H
#define SERVER_QUERY_H

#include <stdbool.h>
#include <stddef.h>

/* Segments of a path at most: the longest route has 5. */
#define Q_MAX_SEGMENTS 16
/* Query parameters at most: the APIs define fewer than 30; more is not a client of them. */
#define Q_MAX_PARAMS 64

struct q_param {
    const char *key, *value; /* decoded, NUL-terminated */
};

struct target {
    const char *seg[Q_MAX_SEGMENTS]; /* decoded path segments (the first "" before '/') */
    size_t nseg;
    const char *raw_path; /* the path as received, not decoded */
    size_t raw_path_len;
    struct q_param param[Q_MAX_PARAMS];
    size_t nparam;
    char *mem; /* holds the decoded strings */
};

/* Take uri apart into *t (free with target_free, also after a failure); 0, or -1 with why. */
int target_parse(const char *uri, size_t len, struct target *t, char *why, size_t cap);
void target_free(struct target *t);

/* The value of query parameter key, or NULL; *count: how often it is given. */
const char *target_param(const struct target *t, const char *key, int *count);

/* Percent-encode s[0..n) for a signature: A-Z a-z 0-9 - _ . ~ kept, other bytes %XX. */
struct jbuf;
void pct_encode(struct jbuf *b, const char *s, size_t n);

#endif
