/*
 * ui: /ui/ and /ui/images/{image_id} (ui.h).  The index is read from the catalog at each
 * request; an image's report is built by scanning its input again with IMGSTAT_WASTE (the
 * layers come from the layer memo, so a warm page costs the merge, not the inflate), and
 * kept in s->pages while the catalog does not change.
 */
#include "ui.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "pages.h"
#include "report.h"
#include "report_index.h"
#include "store.h"

/* A page into the reply: HTML, with its policy as a header as well as in its <meta>. */
static void html(struct srv_reply *rp, const char *policy)
{
    rp->content_type = "text/html; charset=utf-8";
    rp->policy = policy;
}

/* The figure after "key": in detail_json (written by api/catalog.c, one key each). */
static bool detail_figure(const char *json, const char *key, uint64_t *v)
{
    const char *at = json ? strstr(json, key) : NULL;
    if (!at)
        return false;
    at += strlen(key);
    while (*at == ' ' || *at == ':')
        at++;
    char *end;
    *v = strtoull(at, &end, 10);
    return end != at;
}

static void index_row(void *ctx, const struct store_image *im, const char *repo, const char *tag)
{
    struct report_entry e = {
        .ref = im->ref,
        .name = repo,
        .tag = tag,
        .image_id = im->image_id,
        .input = im->input,
        .index = im->index,
        .status = scan_status_name(im->status),
        .failed_desc = im->failed_desc,
        .figures = im->status == ST_SUCCESS,
        .files = im->files,
        .bytes = im->bytes,
        .image_size = im->input_bytes,
        .scanned_ms = im->scanned_ms,
        .format = im->format,
        .platform = im->platform,
    };
    e.has_wasted = detail_figure(im->detail_json, "\"wasted_bytes\"", &e.wasted);
    report_index_entry(ctx, &e);
}

/* The memstream page buf[len] into the reply (buf freed). */
static void put_page(struct srv_reply *rp, char *buf, size_t len, const char *policy)
{
    jb_put(&rp->body, buf, len);
    free(buf);
    html(rp, policy);
}

void ui_index(struct srv *s, struct srv_reply *rp)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return srv_error(rp, 500, "HSS.0041", "out of memory");
    struct report_index ix;
    report_index_begin(&ix, f);
    const struct store_filter all = {NULL, NULL, -1};
    uint64_t total = 0;
    int rc = store_list(s->store, &all, 0, UI_INDEX_MAX, &total, index_row, &ix);
    int wrc = report_index_end(&ix, total);
    if (fclose(f) != 0 || wrc != 0 || rc != 0) {
        free(buf);
        return srv_error(rp, 500, "HSS.0041", "the catalog cannot be read");
    }
    put_page(rp, buf, len, report_index_policy());
}

/* ---- an image's report ---- */

/* What store_find_entry found, copied out of the catalog's memory. */
struct entry {
    char image_id[72], input[4096];
    uint64_t index;
    enum scan_status status;
    int64_t scanned_ms;
    char desc[512];
};

static void keep_entry(void *ctx, const struct store_image *im)
{
    struct entry *e = ctx;
    snprintf(e->image_id, sizeof e->image_id, "%s", im->image_id ? im->image_id : "");
    snprintf(e->input, sizeof e->input, "%s", im->input ? im->input : "");
    snprintf(e->desc, sizeof e->desc, "%s", im->failed_desc ? im->failed_desc : "");
    e->index = im->index;
    e->status = im->status;
    e->scanned_ms = im->scanned_ms;
}

struct build {
    FILE *f;
    const struct entry *want;
};

/* The ID the input holds now must be the one the catalog recorded: else the file was
 * replaced since its scan (the watcher will scan it again), and this is not that image. */
#define UI_CHANGED (-1000)

static int build_page(void *ctx, imgstat *h, const struct imgstat_totals *t)
{
    struct build *b = ctx;
    const char *id = imgstat_image(h)->id;
    if (!id || strcmp(id, b->want->image_id) != 0)
        return UI_CHANGED;
    struct report_opts o = {b->want->input, 0};
    return report_write(b->f, h, t, &o);
}

/* Build the page of e into *buf, *len; else the reply says why. */
static bool build(struct srv *s, const struct entry *e, char **buf, size_t *len,
                  struct srv_reply *rp)
{
    char why[512] = "";
    FILE *f = open_memstream(buf, len);
    if (!f) {
        srv_error(rp, 500, "HSS.0041", "out of memory");
        return false;
    }
    struct build b = {f, e};
    int rc = store_scan_image(s->store, e->input, e->index, IMGSTAT_WASTE, build_page, &b, why,
                              sizeof why);
    if (fclose(f) != 0 && rc == IMGSTAT_OK)
        rc = IMGSTAT_ENOMEM;
    if (rc == IMGSTAT_OK)
        return true;
    free(*buf);
    *buf = NULL;
    if (rc == UI_CHANGED || rc == IMGSTAT_ESELECT)
        srv_error(rp, 409, "HSS.0409",
                  "image %s: its file changed since its scan; it is scanned "
                  "again",
                  e->image_id);
    else if (rc == IMGSTAT_ENOMEM)
        srv_error(rp, 500, "HSS.0041", "out of memory");
    else
        srv_error(rp, 409, "HSS.0409", "image %s could not be scanned again: %s", e->image_id, why);
    return false;
}

void ui_image(struct srv *s, const char *image_id, struct srv_reply *rp)
{
    char hex[65];
    if (!ep_image_id(image_id, hex, rp))
        return;
    const struct store_select sel = {.id_hex = hex};
    struct entry *e = calloc(1, sizeof *e);
    if (!e)
        return srv_error(rp, 500, "HSS.0041", "out of memory");
    enum store_found rc = store_find_entry(s->store, &sel, keep_entry, e);
    const struct store_image im = {
        .image_id = e->image_id, .status = e->status, .failed_desc = *e->desc ? e->desc : NULL};
    if (!ep_found(rc, image_id, false, &im, rp)) {
        free(e);
        return;
    }
    /* the page of this image, from this input as the catalog knows it */
    char key[4800];
    snprintf(key, sizeof key, "%s %" PRIu64 " %" PRId64 " %s", e->image_id, e->index, e->scanned_ms,
             e->input);
    uint64_t gen = store_generation(s->store);
    if (s->pages && pages_get(s->pages, key, gen, &rp->body) == PAGES_HIT) {
        html(rp, report_policy());
        free(e);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    bool built = build(s, e, &buf, &len, rp);
    if (s->pages)
        pages_put(s->pages, key, gen, buf, len);
    if (built)
        put_page(rp, buf, len, report_policy());
    free(e);
}
