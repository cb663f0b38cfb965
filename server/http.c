#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"

/* Headers of one request at most (more is answered 431). */
#define HTTP_MAX_HEADERS 128

struct http {
    struct MHD_Daemon *d;
    struct srv *srv;
    uint64_t rid_prefix, rid_next;
    int64_t inflight; /* requests begun and not completed (atomic) */
};

/* What one request keeps between libmicrohttpd's calls. */
struct rctx {
    struct timespec t0;
    uint64_t body;
    bool begun, replied;
    char rid[33];
    size_t uri_len;
    char uri[]; /* the raw request target */
};

union sa {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

static int parse_addr(const char *listen, union sa *out, socklen_t *len, char *why, size_t cap)
{
    const char *colon = strrchr(listen, ':');
    char host[128];
    if (!colon || colon == listen || !colon[1] ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5 ||
        atoi(colon + 1) > 65535 || (size_t)(colon - listen) >= sizeof host) {
        snprintf(why, cap, "--listen '%s': expected ADDR:PORT (port 0 to 65535)", listen);
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    memset(out, 0, sizeof *out);
    uint16_t port = htons((uint16_t)atoi(colon + 1));
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        out->in6.sin6_family = AF_INET6;
        out->in6.sin6_port = port;
        *len = sizeof out->in6;
        if (inet_pton(AF_INET6, host + 1, &out->in6.sin6_addr) == 1)
            return 0;
    } else {
        out->in4.sin_family = AF_INET;
        out->in4.sin_port = port;
        *len = sizeof out->in4;
        if (inet_pton(AF_INET, host, &out->in4.sin_addr) == 1)
            return 0;
    }
    snprintf(why, cap, "--listen '%s': expected a numeric IPv4 address or [IPv6]", listen);
    return -1;
}

static bool is_loopback(const union sa *a)
{
    if (a->sa.sa_family == AF_INET)
        return (ntohl(a->in4.sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr);
}

int http_parse_listen(const char *listen, bool *loopback, char *why, size_t cap)
{
    union sa a;
    socklen_t len;
    if (parse_addr(listen, &a, &len, why, cap) != 0)
        return -1;
    *loopback = is_loopback(&a);
    return 0;
}

/* ---- one request ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http *h = cls;
    (void)c;
    size_t n = strlen(uri);
    struct rctx *r = malloc(sizeof *r + n + 1);
    __atomic_fetch_add(&h->inflight, 1, __ATOMIC_RELAXED);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    memcpy(r->uri, uri, n + 1);
    r->uri_len = n;
    uint64_t seq = __atomic_fetch_add(&h->rid_next, 1, __ATOMIC_RELAXED);
    snprintf(r->rid, sizeof r->rid, "%016" PRIx64 "%016" PRIx64, h->rid_prefix, seq);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http *h = cls;
    (void)c;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
    __atomic_fetch_sub(&h->inflight, 1, __ATOMIC_RELAXED);
}

struct header_vec {
    struct srv_header v[HTTP_MAX_HEADERS];
    size_t n;
    bool overflow, nul;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    struct header_vec *hv = cls;
    (void)kind;
    if (hv->n == HTTP_MAX_HEADERS) {
        hv->overflow = true;
        return MHD_NO;
    }
    /* a NUL inside a name or value would cut it short where C strings are read (the
     * libmicrohttpd of Debian 12 already cuts values at a NUL: then a secret never matches) */
    hv->nul |= strlen(key) != key_size || (value && strlen(value) != value_size);
    hv->v[hv->n++] = (struct srv_header){key, value ? value : ""};
    return MHD_YES;
}

/* The path as the access log shows it: printable ASCII, other bytes \xHH, at most 200. */
static void log_path(const char *uri, size_t len, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < len && uri[i] != '?' && k + 5 < cap && i < 200; i++) {
        unsigned char ch = (unsigned char)uri[i];
        if (ch > 0x20 && ch < 0x7f && ch != '\\')
            out[k++] = (char)ch;
        else
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", ch);
    }
    out[k] = '\0';
}

static void access_log(struct MHD_Connection *c, const char *method, const struct rctx *r,
                       unsigned status, size_t bytes, uint64_t us)
{
    char client[64] = "-", path[1024];
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, client, sizeof client);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, client,
                      sizeof client);
    }
    log_path(r->uri, r->uri_len, path, sizeof path);
    log_line("%s %.16s %s %u %zu %" PRIu64 "us %s", client, method, path, status, bytes, us,
             r->rid);
}

static enum MHD_Result reply(struct http *h, struct MHD_Connection *c, const char *method,
                             struct rctx *r)
{
    struct header_vec hv = {.n = 0};
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &hv);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct srv_request rq = {method, r->uri, r->uri_len, hv.v, hv.n, r->body, (int64_t)now.tv_sec};
    struct srv_reply rp = {0};
    if (hv.overflow)
        srv_error(&rp, 431, "HSS.0001", "more than %d request headers", HTTP_MAX_HEADERS);
    else if (hv.nul)
        srv_error(&rp, 400, "HSS.0001", "a request header holds a NUL byte");
    else
        srv_handle(h->srv, &rq, &rp);
    size_t len = rp.body.len;
    struct MHD_Response *resp =
        len ? MHD_create_response_from_buffer(len, rp.body.p, MHD_RESPMEM_MUST_FREE)
            : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        jb_free(&rp.body);
        return MHD_NO;
    }
    if (!len)
        jb_free(&rp.body);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rp.content_type);
    MHD_add_response_header(resp, "X-Request-Id", r->rid);
    if (rp.allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rp.allow);
    if (rp.location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rp.location);
    if (rp.policy) { /* a page: its policy as a header too, and no sniffing, no framing */
        MHD_add_response_header(resp, "Content-Security-Policy", rp.policy);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    }
    enum MHD_Result rc = MHD_queue_response(c, rp.status, resp);
    MHD_destroy_response(resp);
    r->replied = true;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t us =
        (uint64_t)((t1.tv_sec - r->t0.tv_sec) * 1000000 + (t1.tv_nsec - r->t0.tv_nsec) / 1000);
    metrics_request(&h->srv->metrics, rp.endpoint, rp.status, us);
    access_log(c, method, r, rp.status, len, us);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    struct http *h = cls;
    struct rctx *r = *req_cls;
    (void)url;
    (void)version;
    (void)upload_data;
    if (!r)
        return MHD_NO; /* out of memory in on_uri: drop the connection */
    if (r->replied) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) { /* a body nothing announced (cannot be: see below) */
        r->body += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (!r->begun) {
        /* A body is refused before it is read: libmicrohttpd can queue a reply only now
         * (headers read) or once the whole body is in. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
        r->begun = true;
        if (!te && (!cl || strspn(cl, "0") == strlen(cl)))
            return MHD_YES;
        r->body = 1;
    }
    return reply(h, c, method, r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_line("http: %s", msg);
}

/* ---- the daemon ---- */

static void bound_name(struct MHD_Daemon *d, const union sa *a, char *out, size_t cap)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    char host[64];
    if (a->sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, port);
    } else {
        inet_ntop(AF_INET, &a->in4.sin_addr, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, port);
    }
}

int http_start(struct http **out, struct srv *s, const char *listen, unsigned threads, char *bound,
               size_t bound_cap, char *why, size_t cap)
{
    union sa a;
    socklen_t alen;
    *out = NULL;
    if (parse_addr(listen, &a, &alen, why, cap) != 0)
        return -1;
    struct http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    h->srv = s;
    if (getrandom(&h->rid_prefix, sizeof h->rid_prefix, 0) != sizeof h->rid_prefix)
        h->rid_prefix = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | (a.sa.sa_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &a.sa, MHD_OPTION_THREAD_POOL_SIZE,
                            threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_SECONDS,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, h, MHD_OPTION_END);
    if (!h->d) {
        snprintf(why, cap, "cannot listen on %s: %s", listen,
                 errno ? strerror(errno) : "libmicrohttpd could not start");
        free(h);
        return -1;
    }
    bound_name(h->d, &a, bound, bound_cap);
    *out = h;
    return 0;
}

void http_stop(struct http *h, unsigned wait_ms)
{
    if (!h)
        return;
    MHD_quiesce_daemon(h->d); /* no new connections; those open go on */
    for (unsigned waited = 0; waited < wait_ms; waited += 10) {
        if (__atomic_load_n(&h->inflight, __ATOMIC_RELAXED) <= 0)
            break;
        usleep(10000);
    }
    MHD_stop_daemon(h->d);
    free(h);
}
