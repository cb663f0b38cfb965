/*
 * request: one HTTP request as the handler sees it, independent of libmicrohttpd (so the
 * fuzz target and the unit tests drive the same code the server runs), and its reply.
 */
#ifndef SERVER_REQUEST_H
#define SERVER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "jbuf.h"

struct srv_header {
    const char *name, *value; /* as received (libmicrohttpd trims the value's spaces) */
};

struct srv_request {
    const char *method;
    const char *uri; /* raw request target: path and query, nothing decoded */
    size_t uri_len;
    const struct srv_header *headers;
    size_t nheaders;
    uint64_t body_bytes; /* bytes of body received */
    int64_t now;         /* seconds since the epoch, for the X-Sdk-Date window */
};

/* The value of header name (case-insensitive), or NULL; *count: how many there are. */
const char *req_header(const struct srv_request *rq, const char *name, int *count);

enum endpoint {
    EP_NONE,
    EP_HEALTHZ,
    EP_METRICS,
    EP_STATS,
    EP_FILES,
    EP_LOCAL,
    EP_UI_INDEX, /* /ui/: the index page of the catalog (issue 12) */
    EP_UI_IMAGE, /* /ui/images/{image_id}: an image's report page */
    EP_COUNT
};
/* Metric label of each endpoint ("other" for EP_NONE). */
extern const char *const endpoint_names[EP_COUNT];

struct srv_reply {
    unsigned status;
    const char *content_type; /* a literal */
    enum endpoint endpoint;
    struct jbuf body;
    const char *allow;    /* 405: the Allow header */
    const char *policy;   /* an HTML page's Content-Security-Policy header (static), or NULL */
    const char *location; /* a redirect's Location header (a literal), or NULL */
};

#endif
