/*
 * The layer pipeline (pipeline.h).  Layers are merged strictly in order by the calling
 * thread.  With jobs > 1, helper threads decode the layers ahead of it into entry records;
 * the caller decodes straight into the tree whatever no helper has claimed yet.  Helpers
 * stay at most LAYER_WINDOW_PER_JOB layers per thread ahead, which bounds the records held.
 */
#include "pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "err.h"
#include "memoize.h"
#include "record.h"

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
    bool cached; /* replayed from the layer memo */
};

struct pipeline {
    struct merge_ctx *progress; /* NULL: no progress reports */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const struct source *src;
    struct memo *memo;
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

static int decode(const struct pipeline *p, struct layer_job *j, layer_sink sink, void *ctx,
                  struct err *e)
{
    const struct source *src = p->src;
    if (p->memo && !src->opts.verify && !j->ref->data)
        return memoize_walk(p->memo, src, j->m, blob_digest(j), sink, ctx, &j->meta, &j->cached, e);
    /* --verify: the blob is hashed with the algorithm of the digest it must have */
    const char *expect = src->opts.verify ? blob_digest(j) : NULL;
    char alg[16] = "";
    size_t alen = 0;
    if (expect && digest_alg(expect, &alen) && alen < sizeof alg)
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
        j->rc = decode(p, j, rec_sink, &j->rec, &j->err);
        pthread_mutex_lock(&p->mu);
        j->state = JOB_DONE;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* tree_apply, reporting progress every few thousand entries. */
struct merge_ctx {
    const struct pipeline_opts *o;
    struct tree *t;
    struct imgstat_progress p;
};

static void merge_report(struct merge_ctx *m)
{
    struct imgstat_totals tot;
    tree_totals(m->t, &tot);
    m->p.entries = tot.entries;
    m->p.files = tot.files;
    m->o->progress(m->o->progress_ctx, &m->p);
}

static int merge_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct merge_ctx *m = ctx;
    int rc = tree_apply(m->t, ent, e);
    if ((++m->p.entries & 4095) == 0)
        merge_report(m);
    return rc;
}

/* Merge layer i: decode it here, or replay what a helper decoded. */
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
        rc = decode(p, j, sink, ctx, e);
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

static void layer_info(struct imgstat_layer_info *out, const struct layer_job *j, struct tree *t)
{
    const struct tree_layer_stats *ls = tree_layer_stats(t);
    const struct layer_ref *r = j->ref;
    uint64_t blob = r->data ? r->data_len : j->m ? j->m->size : r->size;
    *out = (struct imgstat_layer_info){.digest = r->digest,
                                       .diff_id = r->diff_id,
                                       .media_type = r->media_type,
                                       .compression =
                                           j->meta.compression ? j->meta.compression : "none",
                                       .compressed_bytes = blob,
                                       .uncompressed_bytes = j->meta.tar_bytes,
                                       .entries = ls->entries,
                                       .files_added = ls->files_added,
                                       .files_replaced = ls->files_replaced,
                                       .paths_removed = ls->paths_removed,
                                       .bytes_added = ls->bytes_added,
                                       .bytes_replaced = ls->bytes_replaced,
                                       .bytes_removed = ls->bytes_removed,
                                       .cached = j->cached};
}

static unsigned helpers_for(const struct source *src, const struct pipeline_opts *o, size_t nlayers)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned jobs = o->jobs ? o->jobs : (cpus > 0 ? (unsigned)cpus : 1);
    if (src->kind == SRC_STREAM || nlayers < 2 || jobs < 2)
        return 0; /* a stream was decoded while it was read */
    return jobs - 1 < nlayers - 1 ? jobs - 1 : (unsigned)(nlayers - 1);
}

static int run_layers(const struct source *src, const struct pipeline_opts *o, struct layer_job *v,
                      size_t n, struct tree *t, struct imgstat_layer_info *info, struct err *e)
{
    struct merge_ctx mc = {o, t, {0, 0, 0, 0, n, 0, 0}};
    for (size_t i = 0; i < n; i++)
        mc.p.bytes_total += v[i].ref->data ? v[i].ref->data_len : v[i].m ? v[i].m->size : 0;
    struct pipeline p = {
        .progress = o->progress ? &mc : NULL, .src = src, .memo = o->memo, .v = v, .n = n};
    unsigned nh = helpers_for(src, o, n);
    pthread_t tid[PIPELINE_MAX_HELPERS];
    unsigned started = 0;
    p.window = (size_t)(nh + 1) * LAYER_WINDOW_PER_JOB;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (; started < nh && started < PIPELINE_MAX_HELPERS; started++)
        if (pthread_create(&tid[started], NULL, helper, &p) != 0)
            break; /* fewer helpers is only slower */
    int rc = IMGSTAT_OK;
    for (size_t i = 0; i < n && rc == IMGSTAT_OK; i++) {
        if ((rc = merge_one(&p, i, t, e)) != IMGSTAT_OK)
            err_prefix(e, "layer %zu of %zu (%s)", i + 1, n, v[i].ref->digest);
        else
            layer_info(&info[i], &v[i], t);
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

int pipeline_run(struct source *src, const struct image *img, const struct pipeline_opts *o,
                 struct tree *t, struct imgstat_layer_info *info, struct err *e)
{
    struct layer_job *v = calloc(img->nlayers ? img->nlayers : 1, sizeof *v);
    if (!v)
        return err_nomem(e);
    int rc = IMGSTAT_OK;
    /* find every layer first: a missing blob is reported before any work */
    for (size_t i = 0; i < img->nlayers && rc == IMGSTAT_OK; i++) {
        v[i].ref = &img->layers[i];
        if (!v[i].ref->data && (rc = src_layer(src, v[i].ref->member, &v[i].m, e)))
            err_prefix(e, "layer %zu of %zu", i + 1, img->nlayers);
    }
    if (rc == IMGSTAT_OK)
        rc = run_layers(src, o, v, img->nlayers, t, info, e);
    free(v);
    return rc;
}
