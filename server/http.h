/*
 * http: the HTTP/1.1 transport, GNU libmicrohttpd's: its own thread pool (epoll), connection
 * limit and timeouts.  Each request gets an X-Request-Id, is answered by srv_handle(), and
 * leaves one access-log line on stderr: client, method, path (no query: nothing secret),
 * status, body bytes, microseconds, request id.
 */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "handler.h"

/* Connections at once: idle keep-alive clients count too (1,000 held open is tested). */
#define HTTP_MAX_CONNECTIONS 4096
/* An idle connection is closed after this many seconds (bounds slow clients). */
#define HTTP_IDLE_SECONDS 60
/* Memory of one connection (request line, headers, reply headers): room for the largest
 * request srv_handle answers itself (SRV_MAX_URI + SRV_MAX_HEADER_BYTES) with a margin;
 * beyond it libmicrohttpd answers 414/431 with its own body and closes. */
#define HTTP_CONNECTION_MEMORY (64 * 1024)

struct http;

/* Parse "ADDR:PORT" (IPv4, or [IPv6]); *loopback says whether ADDR is a loopback address. */
int http_parse_listen(const char *listen, bool *loopback, char *why, size_t cap);

/* Listen on addr and answer with s; bound[] receives "ADDR:PORT" as bound (port 0 picks one). */
int http_start(struct http **out, struct srv *s, const char *listen, unsigned threads, char *bound,
               size_t bound_cap, char *why, size_t cap);
/* Stop accepting, let requests in progress finish (up to wait_ms), close everything. */
void http_stop(struct http *h, unsigned wait_ms);

#endif
