#include "endpoints.h"

#include <stdio.h>
#include <string.h>

#include "jbuf.h"
#include "ui.h"

/* offset's upper bound and local-repositories' limit range: HSS-API.md. */
#define EP_MAX_OFFSET 2000000
#define EP_FILES_LIMIT_MAX 200
#define EP_LOCAL_LIMIT_MIN 10
#define EP_LOCAL_LIMIT_MAX 200

/* Reading a request's parameters: the first problem becomes the reply (400 HSS.0001). */
struct params {
    const struct target *t;
    struct srv_reply *rp;
    bool bad;
};

static bool bad(struct params *p, const char *key, const char *what)
{
    if (!p->bad)
        srv_error(p->rp, 400, "HSS.0001", "invalid param error: %s: %s", key, what);
    p->bad = true;
    return false;
}

/* A string parameter of minlen..maxlen characters; NULL when absent (or empty and optional). */
static const char *str_param(struct params *p, const char *key, size_t maxlen, bool mandatory)
{
    int count;
    const char *v = target_param(p->t, key, &count);
    if (count > 1)
        return bad(p, key, "given more than once"), NULL;
    if ((!v || !*v) && mandatory)
        return bad(p, key, "missing"), NULL;
    if (v && strlen(v) > maxlen) {
        char what[64];
        snprintf(what, sizeof what, "longer than %zu characters", maxlen);
        return bad(p, key, what), NULL;
    }
    return v && *v ? v : NULL;
}

/* A whole number in [lo, hi], def when absent: digits only, no sign. */
static uint64_t uint_param(struct params *p, const char *key, uint64_t lo, uint64_t hi,
                           uint64_t def)
{
    const char *v = str_param(p, key, 32, false);
    if (!v)
        return def;
    uint64_t n = 0;
    size_t len = strlen(v);
    bool ok = strspn(v, "0123456789") == len && len <= 10;
    for (size_t i = 0; ok && i < len; i++)
        n = n * 10 + (uint64_t)(v[i] - '0');
    if (!ok || n < lo || n > hi) {
        char what[96];
        snprintf(what, sizeof what, "expected a whole number from %llu to %llu",
                 (unsigned long long)lo, (unsigned long long)hi);
        bad(p, key, what);
    }
    return n;
}

/* ---- choosing the image ---- */

static const char *const image_types[] = {"private_image",  "shared_image", "local_image",
                                          "instance_image", "registry",     "local",
                                          "cicd",           "harbor"};

struct choice {
    struct store_select sel;
    char hex[65];
    const char *path_id;
};

#define ID_EXPECTED "expected sha256:HEX, HEX, or at least 12 of its hex digits"

/* image_id as the path gives it: sha256:HEX, HEX, or >= 12 hex digits of one, into hex[65]. */
static bool id_hex(const char *image_id, char hex[65])
{
    const char *h = strncmp(image_id, "sha256:", 7) == 0 ? image_id + 7 : image_id;
    size_t n = strlen(h);
    if (n < 12 || n > 64 || strspn(h, "0123456789abcdef") != n)
        return false;
    memcpy(hex, h, n + 1);
    return true;
}

bool ep_image_id(const char *image_id, char hex[65], struct srv_reply *rp)
{
    if (id_hex(image_id, hex))
        return true;
    srv_error(rp, 400, "HSS.0001", "invalid param error: image_id: %s", ID_EXPECTED);
    return false;
}

static bool id_param(struct params *p, const char *image_id, struct choice *c)
{
    if (!id_hex(image_id, c->hex))
        return bad(p, "image_id", ID_EXPECTED);
    c->sel.id_hex = c->hex;
    c->path_id = image_id;
    return true;
}

/* The selection of files-statistics and files (HSS-API.md): image_type=cicd -> image_id
 * alone; any other type -> namespace, image_name, tag_name, and image_id must agree. */
static bool choice_params(struct params *p, const char *image_id, struct choice *c)
{
    memset(c, 0, sizeof *c);
    const char *type = str_param(p, "image_type", 32, true);
    str_param(p, "enterprise_project_id", 256, false);
    if (!type)
        return false;
    bool known = false;
    for (size_t i = 0; i < sizeof image_types / sizeof *image_types; i++)
        known |= strcmp(type, image_types[i]) == 0;
    if (!known)
        return bad(p, "image_type", "not one of the documented image types");
    if (!id_param(p, image_id, c) || strcmp(type, "cicd") == 0)
        return !p->bad;
    const char *ns = str_param(p, "namespace", 256, true);
    const char *name = ns ? str_param(p, "image_name", 256, true) : NULL;
    const char *tag = name ? str_param(p, "tag_name", 128, true) : NULL;
    if (!tag)
        return false;
    c->sel.ns = ns;
    c->sel.name = name;
    c->sel.tag = tag;
    return true;
}

/* What the endpoints keep of the image found. */
struct found {
    uint64_t key;
    enum scan_status status;
    char image_id[80];
    char desc[320];
    uint64_t files, bytes;
};

static void keep_found(void *ctx, const struct store_image *im)
{
    struct found *f = ctx;
    f->key = im->key;
    f->status = im->status;
    f->files = im->files;
    f->bytes = im->bytes;
    snprintf(f->image_id, sizeof f->image_id, "%s", im->image_id);
    snprintf(f->desc, sizeof f->desc, "%s", im->failed_desc ? im->failed_desc : "");
}

bool ep_found(enum store_found rc, const char *path_id, bool by_ref, const struct store_image *im,
              struct srv_reply *rp)
{
    switch (rc) {
    case FOUND_NONE:
        srv_error(rp, 404, "HSS.0404", "no image of the catalog matches image_id %.80s%s", path_id,
                  by_ref ? " and namespace/image_name:tag_name" : "");
        return false;
    case FOUND_MANY:
        srv_error(rp, 400, "HSS.0001",
                  "invalid param error: image_id: %.80s is a prefix of several images' IDs",
                  path_id);
        return false;
    case FOUND_ERROR: srv_error(rp, 500, "HSS.0041", "the catalog cannot be read"); return false;
    case FOUND_ONE: break;
    }
    const char *id = im->image_id ? im->image_id : "";
    if (im->status == ST_SUCCESS)
        return true;
    if (im->status == ST_FAILED)
        srv_error(rp, 409, "HSS.0409", "image %s could not be scanned: %s", id,
                  im->failed_desc ? im->failed_desc : "");
    else
        srv_error(rp, 409, "HSS.0409", "image %s is not scanned yet (scan_status %s)", id,
                  scan_status_name(im->status));
    return false;
}

/* Find the chosen image, scanned; else the reply says why (404, 400, 409) and false. */
static bool find_scanned(struct srv *s, const struct choice *c, struct found *f,
                         struct srv_reply *rp)
{
    memset(f, 0, sizeof *f);
    enum store_found rc = store_find(s->store, &c->sel, keep_found, f);
    struct store_image im = {
        .image_id = f->image_id, .status = f->status, .failed_desc = *f->desc ? f->desc : NULL};
    return ep_found(rc, c->path_id, c->sel.name != NULL, &im, rp);
}

/* ---- the endpoints ---- */

static void files_statistics(struct srv *s, const struct target *t, const char *image_id,
                             struct srv_reply *rp)
{
    struct params p = {t, rp, false};
    struct choice c;
    struct found f;
    if (!choice_params(&p, image_id, &c) || !find_scanned(s, &c, &f, rp))
        return;
    jb_puts(&rp->body, "{\"total_files_num\": ");
    jb_u64(&rp->body, f.files);
    jb_puts(&rp->body, ", \"total_files_size\": ");
    jb_u64(&rp->body, f.bytes);
    jb_puts(&rp->body, "}");
}

struct lister {
    struct jbuf *b;
    uint64_t n;
};

static int list_file(void *ctx, const char *path, size_t len, uint64_t size)
{
    struct lister *l = ctx;
    size_t base = len;
    while (base > 0 && path[base - 1] != '/')
        base--;
    jb_puts(l->b, l->n++ ? ", {\"file_name\": " : "{\"file_name\": ");
    jb_str(l->b, path + base, len - base);
    jb_puts(l->b, ", \"file_path\": ");
    jb_str(l->b, path, len);
    jb_puts(l->b, ", \"size\": ");
    jb_u64(l->b, size);
    jb_put(l->b, "}", 1);
    return l->b->oom ? -1 : 0;
}

static void files(struct srv *s, const struct target *t, const char *image_id, struct srv_reply *rp)
{
    struct params p = {t, rp, false};
    struct choice c;
    struct found f;
    const char *name = str_param(&p, "file_name", 256, false);
    uint64_t limit = uint_param(&p, "limit", 1, EP_FILES_LIMIT_MAX, 10);
    uint64_t offset = uint_param(&p, "offset", 0, EP_MAX_OFFSET, 0);
    if (p.bad || !choice_params(&p, image_id, &c) || !find_scanned(s, &c, &f, rp))
        return;
    struct jbuf page = {0};
    struct lister l = {&page, 0};
    uint64_t total = 0;
    int rc = store_files(s->store, f.key, name, offset, limit, &total, list_file, &l);
    if (rc != 0 || page.oom) {
        srv_error(rp, 500, "HSS.0041", "the file list could not be read");
    } else {
        jb_puts(&rp->body, "{\"total_num\": ");
        jb_u64(&rp->body, total);
        jb_puts(&rp->body, ", \"data_list\": [");
        jb_put(&rp->body, page.p, page.len);
        jb_puts(&rp->body, "]}");
    }
    jb_free(&page);
}

struct rows {
    struct srv *s;
    struct jbuf *b;
    uint64_t n;
};

/* One local-repositories entry: the SDK's fields in its order; what imgstat has no data for
 * (vulnerabilities, agents, containers) is null. */
static void list_row(void *ctx, const struct store_image *im, const char *repo, const char *tag)
{
    struct rows *r = ctx;
    struct jbuf *b = r->b;
    jb_puts(b, r->n++ ? ", {\"image_name\": " : "{\"image_name\": ");
    jb_cstr(b, repo);
    jb_puts(b, ", \"image_id\": ");
    jb_cstr(b, im->image_id ? im->image_id : "");
    jb_puts(b, ", \"image_digest\": ");
    jb_cstr(b, im->digest ? im->digest : "");
    jb_puts(b, ", \"image_version\": ");
    jb_cstr(b, tag);
    jb_puts(b, ", \"local_image_type\": \"other_image\", \"scan_status\": ");
    jb_cstr(b, scan_status_name(im->status));
    jb_puts(b, ", \"scan_failed_desc\": ");
    jb_cstr(b, im->failed_desc ? im->failed_desc : "");
    jb_puts(b, ", \"severity_level\": null, \"host_name\": ");
    jb_cstr(b, r->s->host_name);
    jb_puts(b,
            ", \"host_id\": null, \"agent_id\": null, \"non_scan_reason\": null, \"image_size\": ");
    jb_u64(b, im->input_bytes);
    jb_puts(b, ", \"latest_update_time\": ");
    jb_u64(b, im->updated_ms > 0 ? (uint64_t)im->updated_ms : 0);
    jb_puts(b, ", \"latest_scan_time\": ");
    if (im->scanned_ms > 0)
        jb_u64(b, (uint64_t)im->scanned_ms);
    else
        jb_puts(b, "null");
    jb_puts(b, ", \"vul_num\": null, \"unsafe_setting_num\": null, \"malicious_file_num\": null, "
               "\"host_num\": 1, \"container_num\": null, \"component_num\": null, \"input\": ");
    jb_cstr(b, im->input);
    jb_put(b, "}", 1);
}

static void local_repositories(struct srv *s, const struct target *t, struct srv_reply *rp)
{
    struct params p = {t, rp, false};
    str_param(&p, "enterprise_project_id", 256, false);
    struct store_filter f = {str_param(&p, "image_name", 128, false),
                             str_param(&p, "image_version", 64, false), -1};
    uint64_t offset = uint_param(&p, "offset", 0, EP_MAX_OFFSET, 0);
    uint64_t limit = uint_param(&p, "limit", EP_LOCAL_LIMIT_MIN, EP_LOCAL_LIMIT_MAX, 10);
    const char *status = str_param(&p, "scan_status", 32, false);
    if (status && strcmp(status, "unscan") != 0 &&
        (f.status = (int)scan_status_parse(status)) == ST_COUNT)
        bad(&p, "scan_status", "expected unscan, success, scanning, failed or waiting_for_scan");
    if (p.bad)
        return;
    struct jbuf rows = {0};
    struct rows r = {s, &rows, 0};
    uint64_t total = 0;
    /* imgstat scans every image it finds: none is "unscan" (not to be scanned) */
    if ((!status || strcmp(status, "unscan") != 0) &&
        store_list(s->store, &f, offset, limit, &total, list_row, &r) != 0) {
        jb_free(&rows);
        srv_error(rp, 500, "HSS.0041", "the catalog cannot be read");
        return;
    }
    jb_puts(&rp->body, "{\"total_num\": ");
    jb_u64(&rp->body, total);
    jb_puts(&rp->body, ", \"data_list\": [");
    jb_put(&rp->body, rows.p, rows.len);
    jb_puts(&rp->body, "]}");
    rp->body.oom |= rows.oom;
    jb_free(&rows);
}

void ep_answer(struct srv *s, enum endpoint ep, const struct target *t, const char *image_id,
               struct srv_reply *rp)
{
    struct store_counts sc;
    switch (ep) {
    case EP_HEALTHZ: jb_puts(&rp->body, "{\"status\": \"ok\"}"); break;
    case EP_METRICS:
        rp->content_type = "text/plain; version=0.0.4";
        store_counts(s->store, &sc);
        metrics_render(&s->metrics, &sc, &rp->body);
        break;
    case EP_STATS: files_statistics(s, t, image_id, rp); break;
    case EP_FILES: files(s, t, image_id, rp); break;
    case EP_LOCAL: local_repositories(s, t, rp); break;
    case EP_UI_INDEX: ui_index(s, rp); break;
    case EP_UI_IMAGE: ui_image(s, image_id, rp); break;
    default: srv_error(rp, 404, "APIGW.0101", "no such API"); break;
    }
}
