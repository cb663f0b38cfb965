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

#include "decode.h"
#include "err.h"
#include "memo.h"
#include "reader.h"
#include "source_impl.h"
#include "tar.h"

/* Walk a layer blob read from `up` through the decode pipeline (decode.h) into sink.
 * in_alg: hash the blob with this algorithm, for --verify or the layer memo (NULL: none),
 * and for the memo its keyed checksum too (M3); the blob is read to its end either way (D5). */
int src_walk_dec(const struct source *s, const struct byte_src *up, const char *in_alg,
                 layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    static const struct src_opts defaults = {0};
    const struct src_opts *so = s ? &s->opts : &defaults;
    struct dec_opts o = {so->max_layer_bytes, in_alg, so->verify ? "sha256" : NULL, NULL, 0};
    if (in_alg)
        o.xxh_secret = memo_secret(so->memo, &o.xxh_secret_len);
    struct dec *d = dec_new(up, &o);
    if (!d)
        return err_nomem(e);
    struct byte_src tar;
    dec_src(d, &tar);
    uint64_t tar_bytes = 0;
    int rc = tar_walk(&tar, sink, ctx, &tar_bytes, e);
    if (rc == IMGSTAT_OK)
        rc = dec_drain(d, e); /* D5: to the end of the blob */
    struct dec_result r;
    dec_result(d, &r);
    if (meta) {
        meta->compression = r.codec;
        meta->tar_bytes = tar_bytes;
        meta->stream_bytes = r.out_bytes;
        memcpy(meta->in_digest, r.in_digest, DIGEST_MAX);
        memcpy(meta->out_digest, r.out_digest, DIGEST_MAX);
        meta->has_xxh = r.has_xxh;
        memcpy(meta->in_xxh, r.xxh, sizeof meta->in_xxh);
    }
    dec_free(d);
    return rc;
}

/* Memory as an upstream: the whole buffer at once. */
struct mem_up {
    const unsigned char *buf;
    size_t len;
    bool done;
};

static ssize_t mem_read(void *ctx, const unsigned char **buf, struct err *e)
{
    (void)e;
    struct mem_up *m = ctx;
    *buf = m->buf;
    if (m->done)
        return 0;
    m->done = true;
    return (ssize_t)m->len;
}

/* The digest algorithm a member's name implies (blobs/sha512/...), for --verify. */
const char *src_name_alg(const char *name)
{
    return strncmp(name, "blobs/sha512/", 13) == 0 ? "sha512" : "sha256";
}

int src_walk_memory(const struct source *s, const void *buf, size_t len, const char *in_alg,
                    layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    struct mem_up m = {buf, len, len == 0};
    struct byte_src up = {mem_read, NULL, &m};
    return src_walk_dec(s, &up, in_alg, sink, ctx, meta, e);
}

/* An uncompressed layer in a file, when nothing asks for its bytes, is walked with seeking:
 * IMGSTAT_OK with *seeks set, or e set when its first bytes cannot be read. */
static int walks_by_seeking(const struct source *s, int fd, const struct member *m, bool *seeks,
                            struct err *e)
{
    unsigned char head[8] = {0};
    size_t hn = m->size < sizeof head ? (size_t)m->size : sizeof head;
    if (range_pread(fd, m->offset, m->sparse, m->nsparse, head, hn, 0, m->name, e) != IMGSTAT_OK)
        return e->code;
    *seeks = strcmp(dec_sniff(head, hn), "none") == 0 && !dec_foreign(head, hn) && !s->opts.verify;
    return IMGSTAT_OK;
}

/* A member of a file (tarball or layout): through the decode stage, or with seeks over the
 * file data of an uncompressed layer (walks_by_seeking). */
static int walk_file(const struct source *s, int fd, const struct member *m, const char *in_alg,
                     layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    struct range_reader rr = {0};
    struct byte_src src;
    bool seeks = false;
    int rc = walks_by_seeking(s, fd, m, &seeks, e);
    if (rc != IMGSTAT_OK)
        return rc;
    if (seeks) {
        if (s->opts.max_layer_bytes && m->size > s->opts.max_layer_bytes)
            return err_set(
                e, IMGSTAT_ELIMIT, "%llu bytes, more than %llu (raise it with --max-layer-bytes)",
                (unsigned long long)m->size, (unsigned long long)s->opts.max_layer_bytes);
        uint64_t tar_bytes = 0;
        if ((rc = range_init(&rr, fd, m->offset, m->size, m->sparse, m->nsparse, e)) ==
            IMGSTAT_OK) {
            range_src(&rr, true, &src);
            rc = tar_walk(&src, sink, ctx, &tar_bytes, e);
        }
        if (meta) {
            meta->compression = "none";
            meta->tar_bytes = tar_bytes;
            meta->stream_bytes = 0;
            meta->in_digest[0] = meta->out_digest[0] = '\0';
            meta->has_xxh = false;
        }
        range_fini(&rr);
        return rc;
    }
    if ((rc = range_init(&rr, fd, m->offset, m->size, m->sparse, m->nsparse, e)) == IMGSTAT_OK) {
        range_src(&rr, false, &src);
        rc = src_walk_dec(s, &src, in_alg, sink, ctx, meta, e);
    }
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
            meta->has_xxh = false;
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
        return walks_by_seeking(s, s->fd, m, seeks, e);
    int fd, rc = src_dir_open(s, m->name, &fd, e);
    if (rc != IMGSTAT_OK || fd < 0)
        return rc; /* a missing blob fails later, where its walk reports it */
    rc = walks_by_seeking(s, fd, m, seeks, e);
    close(fd);
    return rc;
}
