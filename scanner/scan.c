/*
 * The public API: open the input, list its images, choose one, merge its layers.
 */
#include <archive.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cjson/cJSON.h>
#include <xxhash.h>

#include "err.h"
#include "imgstat.h"
#include "plan.h"
#include "source.h"
#include "tree.h"

#ifndef IMGSTAT_VERSION
#define IMGSTAT_VERSION "0.0.0"
#endif

struct imgstat {
    struct err err;
    struct imgstat_options opt;
    struct source *src;
    struct arena arena;
    struct plan plan;
    struct image *chosen;
    char warning[ERR_MSG_MAX];
    bool has_warning;
};

int imgstat_open(imgstat **out, const char *path, const struct imgstat_options *opt)
{
    struct imgstat *h = calloc(1, sizeof *h);
    *out = h;
    if (!h)
        return IMGSTAT_ENOMEM;
    if (opt)
        h->opt = *opt;
    h->plan.arena = &h->arena;
    struct err *e = &h->err;
    if (platform_check(h->opt.platform, e) != IMGSTAT_OK)
        return e->code;
    if (src_open(&h->src, path, e) != IMGSTAT_OK || plan_read(h->src, &h->plan, e) != IMGSTAT_OK)
        return e->code;
    return plan_select(&h->plan, h->opt.image, h->opt.platform, &h->chosen, e);
}

static int walk_layer(struct imgstat *h, const struct layer_ref *l, struct tree *t)
{
    if (l->data)
        return src_walk_memory(l->data, l->data_len, tree_apply, t, &h->err);
    return src_walk_layer(h->src, l->member, tree_apply, t, &h->err);
}

int imgstat_scan(imgstat *h, struct imgstat_totals *totals)
{
    if (!h || !h->chosen)
        return h ? (h->err.code ? h->err.code : IMGSTAT_EUSAGE) : IMGSTAT_EUSAGE;
    struct tree *t = tree_new(h->opt.flags);
    if (!t)
        return err_nomem(&h->err);
    const struct image *img = h->chosen;
    int rc = IMGSTAT_OK;
    for (size_t i = 0; i < img->nlayers && rc == IMGSTAT_OK; i++) {
        tree_begin_layer(t);
        if ((rc = walk_layer(h, &img->layers[i], t)) != IMGSTAT_OK)
            err_prefix(&h->err, "layer %zu of %zu (%s)", i + 1, img->nlayers,
                       img->layers[i].digest);
    }
    if (rc == IMGSTAT_OK) {
        tree_totals(t, totals);
        const char *w = tree_first_warning(t);
        if (w) {
            snprintf(h->warning, sizeof h->warning, "%s", w);
            h->has_warning = true;
        }
    }
    tree_free(t);
    return rc;
}

const char *imgstat_errmsg(const imgstat *h)
{
    return h ? h->err.msg : "out of memory";
}

const char *imgstat_warning(const imgstat *h)
{
    return h && h->has_warning ? h->warning : NULL;
}

void imgstat_close(imgstat *h)
{
    if (!h)
        return;
    src_close(h->src);
    plan_free(&h->plan);
    arena_free(&h->arena);
    free(h);
}

const char *imgstat_version(void)
{
    static char buf[512];
    if (!buf[0]) {
        unsigned x = XXH_versionNumber();
        snprintf(buf, sizeof buf, "imgstat %s (%s; zlib %s; cJSON %s; xxHash %u.%u.%u)",
                 IMGSTAT_VERSION, archive_version_details(), zlibVersion(), cJSON_Version(),
                 x / 10000, x / 100 % 100, x % 100);
    }
    return buf;
}
