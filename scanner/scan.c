/*
 * The public API: open the input, list its images, choose one, merge its layers.
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

#include "err.h"
#include "common.h"
#include "decode.h"
#include "digest.h"
#include "record.h"
#include "imgstat.h"
#include "plan.h"
#include "source.h"
#include "tree.h"

/* Decoder threads at most, whatever -j says. */
#define CLI_MAX_HELPERS 255

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
    struct tree *tree;                 /* the final view, after imgstat_scan */
    char warning[ERR_MSG_MAX];
    bool has_warning;
};

static void stream_progress(void *ctx, uint64_t done, uint64_t total, uint64_t entries)
{
    const struct imgstat *h = ctx;
    struct imgstat_progress p = {1, done, total, 0, 0, entries, 0};
    h->opt.progress(h->opt.progress_ctx, &p);
}

static uint64_t max_entries(const struct imgstat *h)
{
    uint64_t m = h->opt.max_entries ? h->opt.max_entries : IMGSTAT_DEFAULT_MAX_ENTRIES;
    return m == UINT64_MAX ? 0 : m;
}

static void choose(struct imgstat *h, struct image *img)
{
    h->chosen = img;
    h->info = (struct imgstat_image_info){img->format, img->id,    img->manifest_digest,
                                          img->os,     img->arch,  img->variant,
                                          img->refs,   img->nrefs, img->nlayers};
    tree_free(h->tree);
    h->tree = NULL;
}

int imgstat_check_options(const struct imgstat_options *opt, char *msg, uint64_t cap)
{
    struct err e = {0};
    if (platform_check(opt ? opt->platform : NULL, &e) != IMGSTAT_OK && cap)
        snprintf(msg, (size_t)cap, "%s", e.msg);
    return e.code;
}

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
    struct src_opts so = {h->opt.max_layer_bytes ? h->opt.max_layer_bytes
                                                 : IMGSTAT_DEFAULT_MAX_LAYER_BYTES,
                          (h->opt.flags & IMGSTAT_VERIFY) != 0, max_entries(h),
                          h->opt.progress ? stream_progress : NULL, h};
    if (so.max_layer_bytes == UINT64_MAX)
        so.max_layer_bytes = 0;
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
    choose(h, h->chosen);
    return IMGSTAT_OK;
}

uint64_t imgstat_count(const imgstat *h)
{
    return h ? h->ndistinct : 0;
}

int imgstat_choose(imgstat *h, uint64_t i)
{
    if (!h || i >= h->ndistinct)
        return IMGSTAT_EUSAGE;
    choose(h, h->distinct[i]);
    return IMGSTAT_OK;
}

/*
 * Layers are merged strictly in order by the calling thread.  With jobs > 1, helper
 * threads decode the layers ahead of it into entry records (pigz's model: work is
 * claimed in sequence, output consumed in sequence); the caller decodes straight
 * into the tree whatever no helper has claimed yet, so -j 1 is the same code
 * without threads.  Helpers stay at most LAYER_WINDOW layers ahead, which bounds
 * the records held.
 */
#define LAYER_WINDOW_PER_JOB 2

enum job_state { JOB_FREE, JOB_HELPER, JOB_DONE, JOB_CALLER };

struct layer_job {
    const struct layer_ref *ref;
    const struct member *m; /* NULL for inline data */
    struct rec_buf rec;
    struct layer_meta meta;
    char expect[DIGEST_MAX];
    struct err err;
    int rc;
    enum job_state state;
};

struct pipeline {
    struct merge_ctx *progress; /* NULL: no progress reports */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const struct source *src;
    struct layer_job *v;
    size_t n, next, merged, window;
    bool stop;
};

/* The digest a layer blob must have: its descriptor's, or the one its member name carries. */
static const char *blob_digest(struct layer_job *j)
{
    if (j->ref->media_type || j->ref->data)
        return j->ref->digest; /* an OCI descriptor */
    return j->m && digest_from_name(j->m->name, j->expect) ? j->expect : NULL;
}

/* --verify: the blob against its digest, the tar stream against the config's diff_id. */
static int verify_layer(const struct layer_job *j, const char *expect, struct err *e)
{
    const struct layer_meta *m = &j->meta;
    if (expect && strcmp(expect, m->in_digest) != 0)
        return err_set(e, IMGSTAT_EINPUT, "blob digest mismatch: expected %s, got %s", expect,
                       m->in_digest[0] ? m->in_digest : "(an algorithm imgstat cannot compute)");
    if (j->ref->diff_id && strcmp(j->ref->diff_id, m->out_digest) != 0)
        return err_set(e, IMGSTAT_EINPUT, "diff_id mismatch: the config says %s, the tar is %s",
                       j->ref->diff_id, m->out_digest);
    return IMGSTAT_OK;
}

static int decode(const struct source *src, struct layer_job *j, layer_sink sink, void *ctx,
                  struct err *e)
{
    /* --verify: the blob is hashed with the algorithm of the digest it must have */
    const char *expect = src->opts.verify ? blob_digest(j) : NULL;
    char alg[16] = "";
    size_t alen = 0;
    if (expect && dg_alg(expect, &alen) && alen < sizeof alg)
        memcpy(alg, expect, alen);
    const char *in_alg = alg[0] ? alg : NULL;
    int rc = j->ref->data ? src_walk_memory(src, j->ref->data, j->ref->data_len, in_alg, sink, ctx,
                                            &j->meta, e)
                          : src_walk_member(src, j->m, in_alg, sink, ctx, &j->meta, e);
    if (rc == IMGSTAT_OK && src->opts.verify)
        rc = verify_layer(j, expect, e);
    return rc;
}

static void *helper(void *arg)
{
    struct pipeline *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next < p->n && p->next >= p->merged + p->window)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop || p->next >= p->n)
            break;
        struct layer_job *j = &p->v[p->next++];
        j->state = JOB_HELPER;
        pthread_mutex_unlock(&p->mu);
        j->rc = decode(p->src, j, rec_sink, &j->rec, &j->err);
        pthread_mutex_lock(&p->mu);
        j->state = JOB_DONE;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Merge layer i: decode it here, or replay what a helper decoded. */
/* tree_apply, reporting progress every few thousand entries. */
struct merge_ctx {
    const struct imgstat *h;
    struct tree *t;
    struct imgstat_progress p;
};

static void merge_report(struct merge_ctx *m)
{
    struct imgstat_totals tot;
    tree_totals(m->t, &tot);
    m->p.entries = tot.entries;
    m->p.files = tot.files;
    m->h->opt.progress(m->h->opt.progress_ctx, &m->p);
}

static int merge_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct merge_ctx *m = ctx;
    int rc = tree_apply(m->t, ent, e);
    if ((++m->p.entries & 4095) == 0)
        merge_report(m);
    return rc;
}

static int merge_one(struct pipeline *p, size_t i, struct tree *t, struct err *e)
{
    struct layer_job *j = &p->v[i];
    pthread_mutex_lock(&p->mu);
    bool mine = j->state == JOB_FREE;
    if (mine) {
        j->state = JOB_CALLER;
        p->next = i + 1;
    }
    while (!mine && j->state != JOB_DONE)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);

    int rc;
    tree_begin_layer(t);
    layer_sink sink = p->progress ? merge_sink : tree_apply;
    void *ctx = p->progress ? (void *)p->progress : (void *)t;
    if (p->progress)
        p->progress->p.layer = i + 1;
    if (mine) {
        rc = decode(p->src, j, sink, ctx, e);
    } else if ((rc = j->rc) != IMGSTAT_OK) {
        *e = j->err;
    } else {
        rc = rec_replay(&j->rec, sink, ctx, e);
    }
    rec_free(&j->rec);
    if (p->progress && rc == IMGSTAT_OK) {
        p->progress->p.bytes_done += j->ref->data ? j->ref->data_len : j->m ? j->m->size : 0;
        merge_report(p->progress);
    }

    pthread_mutex_lock(&p->mu);
    p->merged = i + 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void layer_info(struct imgstat *h, const struct layer_job *j, size_t i, struct tree *t)
{
    const struct tree_layer_stats *ls = tree_layer_stats(t);
    const struct layer_ref *r = j->ref;
    uint64_t blob = r->data ? r->data_len : j->m ? j->m->size : r->size;
    h->layers[i] = (struct imgstat_layer_info){
        .digest = r->digest,
        .diff_id = r->diff_id,
        .media_type = r->media_type,
        .compression = j->meta.compression ? j->meta.compression : "none",
        .compressed_bytes = blob,
        .uncompressed_bytes = j->meta.tar_bytes,
        .entries = ls->entries,
        .files_added = ls->files_added,
        .files_replaced = ls->files_replaced,
        .paths_removed = ls->paths_removed,
        .bytes_added = ls->bytes_added,
        .bytes_replaced = ls->bytes_replaced,
        .bytes_removed = ls->bytes_removed};
}

static unsigned helpers_for(const struct imgstat *h, size_t nlayers)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned jobs = h->opt.jobs ? h->opt.jobs : (cpus > 0 ? (unsigned)cpus : 1);
    if (h->src->kind == SRC_STREAM || nlayers < 2 || jobs < 2)
        return 0; /* a stream was decoded while it was read */
    return jobs - 1 < nlayers - 1 ? jobs - 1 : (unsigned)(nlayers - 1);
}

static int run_layers(struct imgstat *h, struct layer_job *v, size_t n, struct tree *t)
{
    struct merge_ctx mc = {h, t, {0, 0, 0, 0, n, 0, 0}};
    for (size_t i = 0; i < n; i++)
        mc.p.bytes_total += v[i].ref->data ? v[i].ref->data_len : v[i].m ? v[i].m->size : 0;
    struct pipeline p = {.progress = h->opt.progress ? &mc : NULL, .src = h->src, .v = v, .n = n};
    unsigned nh = helpers_for(h, n);
    pthread_t tid[CLI_MAX_HELPERS];
    unsigned started = 0;
    p.window = (size_t)(nh + 1) * LAYER_WINDOW_PER_JOB;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (; started < nh && started < CLI_MAX_HELPERS; started++)
        if (pthread_create(&tid[started], NULL, helper, &p) != 0)
            break; /* fewer helpers is only slower */
    int rc = IMGSTAT_OK;
    for (size_t i = 0; i < n && rc == IMGSTAT_OK; i++) {
        if ((rc = merge_one(&p, i, t, &h->err)) != IMGSTAT_OK)
            err_prefix(&h->err, "layer %zu of %zu (%s)", i + 1, n, v[i].ref->digest);
        else
            layer_info(h, &v[i], i, t);
    }
    pthread_mutex_lock(&p.mu);
    p.stop = true;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (size_t i = 0; i < n; i++)
        rec_free(&v[i].rec);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return rc;
}

int imgstat_scan(imgstat *h, struct imgstat_totals *totals)
{
    if (!h || !h->chosen)
        return h ? (h->err.code ? h->err.code : IMGSTAT_EUSAGE) : IMGSTAT_EUSAGE;
    const struct image *img = h->chosen;
    struct layer_job *v = calloc(img->nlayers ? img->nlayers : 1, sizeof *v);
    tree_free(h->tree);
    free(h->layers);
    struct tree *t = h->tree = tree_new(h->opt.flags);
    if (t)
        tree_set_max_entries(t, max_entries(h));
    h->layers = calloc(img->nlayers ? img->nlayers : 1, sizeof *h->layers);
    int rc = v && t && h->layers ? IMGSTAT_OK : err_nomem(&h->err);
    /* find every layer first: a missing blob is reported before any work */
    for (size_t i = 0; i < img->nlayers && rc == IMGSTAT_OK; i++) {
        v[i].ref = &img->layers[i];
        if (!v[i].ref->data && (rc = src_layer(h->src, v[i].ref->member, &v[i].m, &h->err)))
            err_prefix(&h->err, "layer %zu of %zu", i + 1, img->nlayers);
    }
    if (rc == IMGSTAT_OK)
        rc = run_layers(h, v, img->nlayers, t);
    if (rc == IMGSTAT_OK) {
        tree_totals(t, totals);
        const char *w = tree_first_warning(t);
        if (w) {
            snprintf(h->warning, sizeof h->warning, "%s", w);
            h->has_warning = true;
        }
    }
    free(v);
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
    tree_free(h->tree);
    free(h->layers);
    free(h->distinct);
    plan_free(&h->plan);
    arena_free(&h->arena);
    free(h);
}

const char *imgstat_version(void)
{
    static char buf[512];
    if (!buf[0]) {
        unsigned x = XXH_versionNumber();
        snprintf(buf, sizeof buf,
                 "imgstat %s\n%s\nzlib %s\ncJSON %s\nxxHash %u.%u.%u\ngzip layers: %s",
                 IMGSTAT_VERSION, archive_version_details(), zlibVersion(), cJSON_Version(),
                 x / 10000, x / 100 % 100, x % 100, dec_gzip_name());
    }
    return buf;
}
