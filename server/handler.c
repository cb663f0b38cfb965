#include "handler.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "endpoints.h"

const char *const endpoint_names[EP_COUNT] = {
    "other",    "healthz", "metrics", "files-statistics", "files", "local-repositories",
    "ui-index", "ui-image"};

/* The routes: "{name}" matches one segment and captures it. */
static const struct route {
    const char *pattern;
    enum endpoint ep;
    bool auth;            /* needs authentication when the server has some */
    signed char project;  /* which capture is the project_id (-1: none) */
    signed char image;    /* which capture is the image_id (-1: none) */
    const char *redirect; /* answer 301 to this Location (relative to the path) instead */
} routes[] = {
    {"/healthz", EP_HEALTHZ, false, -1, -1, NULL},
    {"/metrics", EP_METRICS, false, -1, -1, NULL},
    {"/v5/{project_id}/image/local-repositories", EP_LOCAL, true, 0, -1, NULL},
    {"/v5/{project_id}/image/{image_id}/files-statistics", EP_STATS, true, 0, 1, NULL},
    {"/v5/{project_id}/image/{image_id}/files", EP_FILES, true, 0, 1, NULL},
    /* the pages of issue 12: the index links to images/HEX, relative, so "/ui" goes to "/ui/"
     * (and a proxy may serve them under a prefix of its own) */
    {"/ui", EP_UI_INDEX, false, -1, -1, "ui/"},
    {"/ui/", EP_UI_INDEX, true, -1, -1, NULL},
    {"/ui/images/{image_id}", EP_UI_IMAGE, true, -1, 0, NULL},
};

const char *req_header(const struct srv_request *rq, const char *name, int *count)
{
    const char *v = NULL;
    *count = 0;
    for (size_t i = 0; i < rq->nheaders; i++) {
        if (strcasecmp(rq->headers[i].name, name) == 0) {
            if (!v)
                v = rq->headers[i].value;
            ++*count;
        }
    }
    return v;
}

void srv_error(struct srv_reply *rp, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rp->status = status;
    rp->content_type = "application/json";
    jb_reset(&rp->body);
    jb_puts(&rp->body, "{\"error_code\": ");
    jb_cstr(&rp->body, code);
    jb_puts(&rp->body, ", \"error_msg\": ");
    jb_cstr(&rp->body, msg);
    jb_puts(&rp->body, "}");
}

/* Match the decoded segments against a pattern; captures go to cap[] in order. */
static bool route_match(const char *pattern, const struct target *t, const char **cap, size_t *ncap)
{
    size_t i = 0, n = 0;
    for (const char *p = pattern; *p; i++) {
        size_t len = strcspn(p + 1, "/") + 1; /* "/seg" */
        if (i + 1 >= t->nseg)
            return false;
        const char *seg = t->seg[i + 1];
        if (p[1] == '{') {
            if (!*seg)
                return false;
            cap[n++] = seg;
        } else if (strlen(seg) != len - 1 || strncmp(seg, p + 1, len - 1) != 0) {
            return false;
        }
        p += len;
    }
    *ncap = n;
    return i + 1 == t->nseg;
}

static bool project_allowed(const struct srv *s, const char *project)
{
    if (s->nprojects == 0)
        return true;
    for (size_t i = 0; i < s->nprojects; i++)
        if (strcmp(s->projects[i], project) == 0)
            return true;
    return false;
}

/* Size limits, method and body: the checks every route shares. */
static bool request_ok(const struct srv_request *rq, struct srv_reply *rp)
{
    size_t hbytes = 0;
    for (size_t i = 0; i < rq->nheaders; i++)
        hbytes += strlen(rq->headers[i].name) + strlen(rq->headers[i].value) + 4;
    if (rq->uri_len > SRV_MAX_URI)
        srv_error(rp, 414, "HSS.0001", "the request target is longer than %d bytes", SRV_MAX_URI);
    else if (hbytes > SRV_MAX_HEADER_BYTES)
        srv_error(rp, 431, "HSS.0001", "the request headers hold more than %d bytes",
                  SRV_MAX_HEADER_BYTES);
    else
        return true;
    return false;
}

/* 301 to location, with a body for clients that do not follow it. */
static void redirect(struct srv_reply *rp, const char *location)
{
    rp->status = 301;
    rp->location = location;
    rp->content_type = "text/plain; charset=utf-8";
    jb_printf(&rp->body, "moved to %s\n", location);
}

static void dispatch(struct srv *s, const struct srv_request *rq, const struct target *t,
                     struct srv_reply *rp)
{
    const char *cap[4] = {0};
    size_t ncap = 0;
    const struct route *r = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof *routes && !r; i++)
        if (route_match(routes[i].pattern, t, cap, &ncap))
            r = &routes[i];
    if (!r)
        return srv_error(rp, 404, "APIGW.0101", "no such API");
    rp->endpoint = r->ep;
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        rp->allow = "GET, HEAD";
        return srv_error(rp, 405, "HSS.0405", "method %.16s is not allowed: use GET", rq->method);
    }
    if (rq->body_bytes > 0)
        return srv_error(rp, 400, "HSS.0001", "a GET request carries no body");
    if (r->redirect)
        return redirect(rp, r->redirect);
    char why[256];
    if (r->auth && s->auth && !auth_check(s->auth, rq, t, why, sizeof why))
        return srv_error(rp, 401, "APIGW.0301", "authentication failed: %s", why);
    const char *project = r->project >= 0 ? cap[r->project] : NULL;
    if (project) {
        if (strlen(project) > 256)
            return srv_error(rp, 400, "HSS.0001", "project_id: longer than 256 characters");
        if (!project_allowed(s, project))
            return srv_error(rp, 403, "HSS.0403", "project_id is not one this server answers");
    }
    pthread_rwlock_rdlock(&s->store_lock);
    if (!s->store)
        srv_error(rp, 503, "HSS.0503", "the catalog is being reopened: try again");
    else
        ep_answer(s, r->ep, t, r->image >= 0 ? cap[r->image] : NULL, rp);
    pthread_rwlock_unlock(&s->store_lock);
}

void srv_handle(struct srv *s, const struct srv_request *rq, struct srv_reply *rp)
{
    rp->status = 200;
    rp->content_type = "application/json";
    rp->endpoint = EP_NONE;
    if (!request_ok(rq, rp))
        return;
    struct target t;
    char why[256];
    if (target_parse(rq->uri, rq->uri_len, &t, why, sizeof why) != 0)
        srv_error(rp, 400, "HSS.0001", "%s", why);
    else
        dispatch(s, rq, &t, rp);
    target_free(&t);
    if (rp->body.oom)
        srv_error(rp, 500, "HSS.0041", "out of memory");
}
