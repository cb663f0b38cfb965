/*
 * Walking a layer member: through the decode pipeline (decode.h), or, for an
 * uncompressed layer in a seekable file when nothing asks for its bytes, with seeks
 * over file data.  Safe to run in several threads on one source.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>

#include "decode.h"
#include "err.h"
#include "reader.h"
#include "source_impl.h"
#include "walk.h"

/* Walk a layer blob read from `up` through the decode pipeline (decode.h) into sink.
 * in_alg: hash the blob with this algorithm and read it to its end (NULL: neither). */
static int walk_dec(const struct source *s, up_read_fn up, void *up_ctx, const char *in_alg,
                    layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    static const struct src_opts defaults = {0};
    const struct src_opts *so = s ? &s->opts : &defaults;
    struct dec_opts o = {so->max_layer_bytes, in_alg, so->verify ? "sha256" : NULL};
    struct dec *d = dec_new(up, up_ctx, &o);
    struct archive *a = d ? layer_archive_new(e) : NULL;
    if (!a) {
        dec_free(d);
        return d ? e->code : err_nomem(e);
    }
    int rc = IMGSTAT_OK;
    bool walked = false, drained = false;
    if (dec_open(a, d) != ARCHIVE_OK)
        rc = err_set(e, IMGSTAT_EINPUT, "%s", archive_error_string(a));
    else if ((rc = layer_walk(a, sink, ctx, e)) == IMGSTAT_OK && (walked = true) &&
             (so->verify || in_alg) && !(drained = dec_drain(a, d) == 0) && so->verify)
        rc = err_set(e, IMGSTAT_EINPUT, "%s", archive_error_string(a));
    struct dec_result r;
    dec_result(d, &r);
    if (!drained) /* only a blob read to its end has a digest (the memo's hash never fails a scan)
                   */
        r.in_digest[0] = '\0';
    if (r.limit_hit && (so->verify || !walked))
        rc = err_set(e, IMGSTAT_ELIMIT,
                     "more than %llu bytes uncompressed (raise it with --max-layer-bytes)",
                     (unsigned long long)so->max_layer_bytes);
    if (meta) {
        meta->compression = r.codec;
        meta->tar_bytes = so->verify ? r.out_bytes : (uint64_t)archive_filter_bytes(a, 0);
        meta->stream_bytes = drained ? r.out_bytes : 0;
        memcpy(meta->in_digest, r.in_digest, DIGEST_MAX);
        memcpy(meta->out_digest, r.out_digest, DIGEST_MAX);
    }
    archive_read_free(a);
    dec_free(d);
    return rc;
}

int src_walk_dec(const struct source *s, up_read_fn up, void *up_ctx, const char *in_alg,
                 layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    return walk_dec(s, up, up_ctx, s && s->opts.verify ? in_alg : NULL, sink, ctx, meta, e);
}

/* Memory as an upstream: the whole buffer at once. */
struct mem_up {
    const void *buf;
    size_t len;
    bool done;
};

static la_ssize_t mem_read(struct archive *a, void *ctx, const void **buf)
{
    (void)a;
    struct mem_up *m = ctx;
    *buf = m->buf;
    if (m->done)
        return 0;
    m->done = true;
    return (la_ssize_t)m->len;
}

/* The digest algorithm a member's name implies (blobs/sha512/...), for --verify. */
const char *src_name_alg(const char *name)
{
    return strncmp(name, "blobs/sha512/", 13) == 0 ? "sha512" : "sha256";
}

int src_walk_memory(const struct source *s, const void *buf, size_t len, const char *in_alg,
                    layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    struct mem_up m = {buf, len, false};
    return walk_dec(s, mem_read, &m, in_alg, sink, ctx, meta, e);
}

/* An uncompressed layer in a file, when nothing asks for its bytes, is walked with seeking. */
static bool walks_by_seeking(const struct source *s, int fd, const struct member *m, bool *seeks,
                             struct err *e)
{
    unsigned char head[4] = {0};
    size_t hn = m->size < sizeof head ? (size_t)m->size : sizeof head;
    if (pread_full(fd, head, hn, m->offset, m->name, e) != IMGSTAT_OK)
        return false;
    *seeks = strcmp(dec_sniff(head, hn), "none") == 0 && !s->opts.verify;
    return true;
}

/* A member of a file (tarball or layout).  An uncompressed layer, when nothing asks for its
 * bytes, is walked with seeking: its file data is never read. */
static int walk_file(const struct source *s, int fd, const struct member *m, const char *in_alg,
                     layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    bool seeks;
    if (!walks_by_seeking(s, fd, m, &seeks, e))
        return e->code;
    struct range_reader rr = {0};
    int rc;
    if (seeks) {
        if (s->opts.max_layer_bytes && m->size > s->opts.max_layer_bytes)
            return err_set(
                e, IMGSTAT_ELIMIT, "%llu bytes, more than %llu (raise it with --max-layer-bytes)",
                (unsigned long long)m->size, (unsigned long long)s->opts.max_layer_bytes);
        struct archive *a = layer_archive_new(e);
        if (!a)
            return e->code;
        rc = range_open(a, &rr, fd, m->offset, m->size, e);
        if (rc == IMGSTAT_OK)
            rc = layer_walk(a, sink, ctx, e);
        if (meta) {
            meta->compression = "none";
            meta->tar_bytes = (uint64_t)archive_filter_bytes(a, 0);
            meta->stream_bytes = 0;
            meta->in_digest[0] = meta->out_digest[0] = '\0';
        }
        archive_read_free(a);
        range_fini(&rr);
        return rc;
    }
    if ((rc = range_init(&rr, fd, m->offset, m->size, e)) == IMGSTAT_OK)
        rc = walk_dec(s, range_read, &rr, in_alg, sink, ctx, meta, e);
    range_fini(&rr);
    return rc;
}

int src_walk_member(const struct source *s, const struct member *m, const char *in_alg,
                    layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    if (m->data)
        return src_walk_memory(s, m->data, (size_t)m->size, in_alg, sink, ctx, meta, e);
    if (s->kind == SRC_STREAM) {
        if (meta) {
            meta->compression = m->compression;
            meta->tar_bytes = m->tar_bytes;
            meta->stream_bytes = 0;
            snprintf(meta->in_digest, DIGEST_MAX, "%s", m->in_digest ? m->in_digest : "");
            snprintf(meta->out_digest, DIGEST_MAX, "%s", m->out_digest ? m->out_digest : "");
        }
        return rec_replay(&m->rec, sink, ctx, e);
    }
    if (s->kind == SRC_TAR)
        return walk_file(s, s->fd, m, in_alg, sink, ctx, meta, e);
    int fd;
    if (src_dir_open(s, m->name, &fd, e) != IMGSTAT_OK)
        return e->code;
    if (fd < 0)
        return err_set(e, IMGSTAT_EINPUT, "%s: removed while being read", m->name);
    int rc = walk_file(s, fd, m, in_alg, sink, ctx, meta, e);
    close(fd);
    return rc;
}

int src_member_seeks(const struct source *s, const struct member *m, bool *seeks, struct err *e)
{
    *seeks = false;
    if (m->data || s->kind == SRC_STREAM)
        return IMGSTAT_OK;
    if (s->kind == SRC_TAR)
        return walks_by_seeking(s, s->fd, m, seeks, e) ? IMGSTAT_OK : e->code;
    int fd, rc = src_dir_open(s, m->name, &fd, e);
    if (rc != IMGSTAT_OK || fd < 0)
        return rc; /* a missing blob fails later, where its walk reports it */
    rc = walks_by_seeking(s, fd, m, seeks, e) ? IMGSTAT_OK : e->code;
    close(fd);
    return rc;
}
