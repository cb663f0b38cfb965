/*
 * The public API (include/imgstat.h): open the input, list its images, choose one,
 * merge its layers (scanner/pipeline.c), and answer questions about the result.
 */
#include <archive.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cjson/cJSON.h>
#include <xxhash.h>

#include "api_impl.h"
#include "err.h"
#include "decode.h"
#include "digest.h"
#include "pipeline.h"
#include "imgstat.h"
#include "memo.h"
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
    struct image **distinct; /* IMGSTAT_NO_SELECT: the images imgstat_choose picks from */
    size_t ndistinct;
    struct imgstat_image_info info;
    struct imgstat_layer_info *layers; /* per layer, after imgstat_scan */
    struct imgstat_history *history;   /* the chosen image's config history */
    struct tree *tree;                 /* the final view, after imgstat_scan */
    char warning[ERR_MSG_MAX];
    bool has_warning;
    struct memo *memo;  /* the layer memo, opened before the input (a stream uses it, M5) */
    char memo_why[256]; /* why there is no memo, when no file could even be named */
};

static void stream_progress(void *ctx, uint64_t done, uint64_t total, uint64_t entries)
{
    const struct imgstat *h = ctx;
    struct imgstat_progress p = {1, done, total, 0, 0, entries, 0};
    h->opt.progress(h->opt.progress_ctx, &p);
}

/* An option's limit as the source takes it: 0 picks the default, UINT64_MAX means none (0). */
static uint64_t limit(uint64_t opt, uint64_t def)
{
    uint64_t m = opt ? opt : def;
    return m == UINT64_MAX ? 0 : m;
}

static uint64_t max_entries(const struct imgstat *h)
{
    return limit(h->opt.max_entries, IMGSTAT_DEFAULT_MAX_ENTRIES);
}

/* The config's history with each step that made a layer aligned to it, in order (the
 * image-spec's rule: the non-empty steps are the layers). */
static struct imgstat_history *history_of(const struct image *img)
{
    struct imgstat_history *v = calloc(img->nhistory ? img->nhistory : 1, sizeof *v);
    uint64_t layer = 0;
    for (size_t i = 0; v && i < img->nhistory; i++) {
        const struct history_step *s = &img->history[i];
        v[i] = (struct imgstat_history){s->created_by, s->comment, s->empty_layer, 0};
        if (!s->empty_layer && ++layer <= img->nlayers)
            v[i].layer = layer;
    }
    return v;
}

static int choose(struct imgstat *h, struct image *img)
{
    h->chosen = img;
    h->info = (struct imgstat_image_info){
        img->format,  img->id,   img->manifest_digest, img->os,      img->arch,
        img->variant, img->refs, img->nrefs,           img->nlayers, img->nhistory};
    tree_free(h->tree);
    h->tree = NULL;
    free(h->history);
    h->history = history_of(img);
    return h->history ? IMGSTAT_OK : err_nomem(&h->err);
}

int imgstat_check_options(const struct imgstat_options *opt, char *msg, uint64_t cap)
{
    struct err e = {0};
    if (platform_check(opt ? opt->platform : NULL, &e) != IMGSTAT_OK && cap)
        snprintf(msg, (size_t)cap, "%s", e.msg);
    return e.code;
}

static void memo_start(struct imgstat *h);

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
    struct src_opts so = {
        .max_layer_bytes = limit(h->opt.max_layer_bytes, IMGSTAT_DEFAULT_MAX_LAYER_BYTES),
        .verify = (h->opt.flags & IMGSTAT_VERIFY) != 0,
        .max_entries = max_entries(h),
        .max_kept_bytes = limit(h->opt.max_kept_bytes, IMGSTAT_DEFAULT_MAX_KEPT_BYTES),
        .progress = h->opt.progress ? stream_progress : NULL,
        .progress_ctx = h};
    memo_start(h);
    so.memo = h->memo;
    if (src_open(&h->src, path, &so, e) != IMGSTAT_OK ||
        plan_read(h->src, &h->plan, e) != IMGSTAT_OK || plan_merge(&h->plan, e) != IMGSTAT_OK)
        return e->code;
    if (h->opt.flags & IMGSTAT_NO_SELECT) {
        if (!(h->distinct = malloc((h->plan.n ? h->plan.n : 1) * sizeof *h->distinct)))
            return err_nomem(e);
        h->ndistinct = plan_distinct(&h->plan, h->distinct);
        return IMGSTAT_OK;
    }
    if (plan_select(&h->plan, h->opt.image, h->opt.platform, &h->chosen, e) != IMGSTAT_OK)
        return e->code;
    return choose(h, h->chosen);
}

uint64_t imgstat_count(const imgstat *h)
{
    return h ? h->ndistinct : 0;
}

int imgstat_choose(imgstat *h, uint64_t i)
{
    if (!h || i >= h->ndistinct)
        return IMGSTAT_EUSAGE;
    return choose(h, h->distinct[i]);
}

/* Keep the first warning of a scan; a plan-level one is counted in the totals (the tree
 * counts its own). */
static void keep_warning(struct imgstat *h, const char *w, struct imgstat_totals *count_in)
{
    if (!w)
        return;
    if (count_in)
        count_in->warnings++;
    if (h->has_warning)
        return;
    snprintf(h->warning, sizeof h->warning, "%s", w);
    h->has_warning = true;
}

bool api_env_no_cache(void)
{
    const char *v = getenv("IMGSTAT_NO_CACHE");
    return v && *v && strcmp(v, "0") != 0;
}

/* dir + "/" + sub into buf, when dir is set and absolute (a relative XDG path is ignored,
 * as the XDG spec says). */
static bool dir_join(const char *dir, const char *sub, char *buf, size_t cap)
{
    if (!dir || dir[0] != '/')
        return false;
    int n = snprintf(buf, cap, "%s%s%s", dir, *sub ? "/" : "", sub);
    return n > 0 && (size_t)n < cap;
}

bool api_cache_dir(const char *given, char *buf, size_t cap)
{
    if (given && *given) {
        int n = snprintf(buf, cap, "%s", given);
        return n > 0 && (size_t)n < cap;
    }
    return dir_join(getenv("IMGSTAT_CACHE_DIR"), "", buf, cap) ||
           dir_join(getenv("XDG_CACHE_HOME"), "imgstat", buf, cap) ||
           dir_join(getenv("HOME"), ".cache/imgstat", buf, cap);
}

/* Open the layer memo before the input: a stream looks its members up while it is read,
 * inside src_open (M5).  Never with --verify, which reads every blob. */
static void memo_start(struct imgstat *h)
{
    if ((h->opt.flags & (IMGSTAT_NO_CACHE | IMGSTAT_VERIFY)) || api_env_no_cache())
        return;
    uint64_t max = h->opt.cache_max ? h->opt.cache_max : IMGSTAT_DEFAULT_CACHE_MAX;
    char dir[4096];
    if (h->opt.catalog)
        h->memo = memo_attach(api_catalog_db(h->opt.catalog), max);
    else if (api_cache_dir(h->opt.cache_dir, dir, sizeof dir))
        h->memo = memo_open(dir, max);
    else
        snprintf(h->memo_why, sizeof h->memo_why,
                 "layer memo not used: no cache directory (set IMGSTAT_CACHE_DIR or HOME)");
}

const char *imgstat_cache_warning(const imgstat *h)
{
    if (!h)
        return NULL;
    return h->memo_why[0] ? h->memo_why : memo_warning(h->memo);
}

int imgstat_scan(imgstat *h, struct imgstat_totals *totals)
{
    if (!h || !h->chosen)
        return h ? (h->err.code ? h->err.code : IMGSTAT_EUSAGE) : IMGSTAT_EUSAGE;
    const struct image *img = h->chosen;
    tree_free(h->tree);
    free(h->layers);
    h->has_warning = false; /* each scan reports its own */
    struct tree *t = h->tree = tree_new(h->opt.flags);
    h->layers = calloc(img->nlayers ? img->nlayers : 1, sizeof *h->layers);
    if (!t || !h->layers)
        return err_nomem(&h->err);
    tree_set_max_entries(t, max_entries(h));
    /* F8: what the plan only warns about, --verify refuses before any work */
    if (img->warning && (h->opt.flags & IMGSTAT_VERIFY))
        return err_set(&h->err, IMGSTAT_EINPUT, "%s (--verify checks each layer's diff_id)",
                       img->warning);
    struct pipeline_opts po = {h->opt.jobs, h->opt.progress, h->opt.progress_ctx, h->memo};
    int rc = pipeline_run(h->src, img, &po, t, h->layers, &h->err);
    memo_flush(h->memo);
    if (rc == IMGSTAT_OK)
        rc = tree_end(t, &h->err);
    if (rc == IMGSTAT_OK) {
        for (uint64_t i = 0; i < img->nhistory; i++)
            if (h->history[i].layer)
                h->layers[h->history[i].layer - 1].created_by = h->history[i].created_by;
        tree_totals(t, totals);
        if (totals->bytes > IMGSTAT_MAX_FIGURE) /* C4: never a wrapped total */
            return err_set(&h->err, IMGSTAT_ELIMIT,
                           "total_files_size does not fit: the files hold more than %llu bytes "
                           "(2^63-1, IMGSTAT_MAX_FIGURE: the API's signed 64-bit integer)",
                           (unsigned long long)IMGSTAT_MAX_FIGURE);
        keep_warning(h, img->warning, totals); /* the plan's first: it was found first */
        keep_warning(h, tree_first_warning(t), NULL);
    }
    return rc;
}

const struct imgstat_image_info *imgstat_image(const imgstat *h)
{
    return h && h->chosen ? &h->info : NULL;
}

const struct imgstat_layer_info *imgstat_layer(const imgstat *h, uint64_t i)
{
    return h && h->layers && h->tree && i < h->chosen->nlayers ? &h->layers[i] : NULL;
}

int imgstat_files(imgstat *h, imgstat_file_fn fn, void *ctx)
{
    if (!h || !h->tree)
        return IMGSTAT_EUSAGE;
    return tree_files(h->tree, fn, ctx);
}

const struct imgstat_history *imgstat_history(const imgstat *h, uint64_t i)
{
    return h && h->chosen && h->history && i < h->chosen->nhistory ? &h->history[i] : NULL;
}

int imgstat_walk(imgstat *h, imgstat_node_fn fn, void *ctx)
{
    if (!h || !h->tree)
        return IMGSTAT_EUSAGE;
    return tree_walk(h->tree, fn, ctx);
}

int imgstat_wasted_files(imgstat *h, imgstat_waste_fn fn, void *ctx)
{
    if (!h || !h->tree)
        return IMGSTAT_EUSAGE;
    return tree_wasted(h->tree, fn, ctx);
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
    memo_close(h->memo);
    src_close(h->src);
    tree_free(h->tree);
    free(h->layers);
    free(h->history);
    free(h->distinct);
    plan_free(&h->plan);
    arena_free(&h->arena);
    free(h);
}

static char version_text[512];

static void version_fill(void)
{
    unsigned x = XXH_versionNumber();
    snprintf(version_text, sizeof version_text,
             "imgstat %s\n%s\nzlib %s\ncJSON %s\nxxHash %u.%u.%u\ngzip layers: %s", IMGSTAT_VERSION,
             archive_version_details(), zlibVersion(), cJSON_Version(), x / 10000, x / 100 % 100,
             x % 100, dec_gzip_name());
}

const char *imgstat_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, version_fill); /* the server asks from many threads */
    return version_text;
}
