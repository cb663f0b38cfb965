/*
 * handler: one request in, one reply out, with nothing of HTTP's transport in it: the
 * routing table, method and body checks, authentication, the parameters of each endpoint
 * and the HSS error bodies.  libmicrohttpd (http.c) and the fuzz target both call
 * srv_handle().
 *
 * Errors, as HSS writes them ({"error_code": "...", "error_msg": "..."}):
 *   400 HSS.0001   a missing or invalid parameter, a malformed request (the message names it)
 *   401 APIGW.0301 authentication failed
 *   403 HSS.0403   a project_id this server does not answer (--project-id)
 *   404 APIGW.0101 no such API (an unknown path)
 *   404 HSS.0404   no image of the catalog matches the selection
 *   405 HSS.0405   another method than GET (Allow: GET)
 *   409 HSS.0409   the image is known but not scanned yet, or its scan failed
 *   414/431 HSS.0001  request line or headers too long
 *   500 HSS.0041   an internal failure
 *   503 HSS.0503   the catalog is being reopened (SIGHUP)
 */
#ifndef SERVER_HANDLER_H
#define SERVER_HANDLER_H

#include <pthread.h>
#include <stdbool.h>

#include "auth.h"
#include "metrics.h"
#include "request.h"
#include "store.h"

/* Longest request target accepted (request line without method and version). */
#define SRV_MAX_URI 8192
/* Most bytes of all header names and values together. */
#define SRV_MAX_HEADER_BYTES 16384
/* --project-id values at most. */
#define SRV_MAX_PROJECTS 64

struct srv {
    pthread_rwlock_t store_lock; /* write-held while SIGHUP swaps the store */
    struct store *store;
    struct auth *auth; /* NULL: no authentication (loopback only) */
    const char *projects[SRV_MAX_PROJECTS];
    size_t nprojects;
    char host_name[256]; /* local-repositories' host_name */
    struct metrics metrics;
    struct pages *pages; /* /ui/images/ pages built last (pages.h); NULL: none kept */
};

/* Answer rq into rp (rp->body is empty on entry).  Thread-safe. */
void srv_handle(struct srv *s, const struct srv_request *rq, struct srv_reply *rp);

/* An HSS error reply: status, code and a one-line message. */
void srv_error(struct srv_reply *rp, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
