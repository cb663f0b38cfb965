/*
 * Stream mode: a pipe or a compressed tarball read in one pass.  Small members and JSON
 * are kept whole; every other member that decodes as a tar is recorded as entries while
 * it passes (manifests usually come after the layers).
 */
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
#include "path.h"

/* Nested reading: a layer member decoded straight from the outer stream's data blocks. */
struct nest {
    struct archive *outer;
    const void *pend;
    size_t pend_len;
    int64_t next_off;
    bool eof, outer_failed;
};

static ssize_t nest_read(void *ctx, const unsigned char **buf, struct err *e)
{
    struct nest *n = ctx;
    if (n->pend_len) {
        size_t len = n->pend_len;
        *buf = n->pend;
        n->pend_len = 0;
        return (ssize_t)len;
    }
    while (!n->eof) {
        size_t len;
        la_int64_t off;
        const void *b;
        int r = archive_read_data_block(n->outer, &b, &len, &off);
        if (r == ARCHIVE_EOF) {
            n->eof = true;
            break;
        }
        if (r < ARCHIVE_WARN || off != n->next_off) {
            n->outer_failed = true;
            return err_set(e, IMGSTAT_EINPUT, "%s",
                           r < ARCHIVE_WARN && archive_error_string(n->outer)
                               ? archive_error_string(n->outer)
                               : "sparse member");
        }
        n->next_off += (int64_t)len;
        *buf = b;
        if (len)
            return (ssize_t)len;
    }
    *buf = NULL;
    return 0;
}

/* Read the rest of the current member into a kept buffer of `size` bytes (`have` done). */
static int keep_member(struct source *s, struct archive *a, struct member *m, const void *first,
                       size_t have, struct err *e)
{
    if (m->size > SRC_KEPT_MAX - s->kept)
        return err_set(e, IMGSTAT_ELIMIT, "%s: more than %u MiB of small members (SRC_KEPT_MAX)",
                       m->name, SRC_KEPT_MAX >> 20);
    unsigned char *buf = arena_alloc(&s->arena, (size_t)m->size + 1);
    if (!buf)
        return err_nomem(e);
    if (have)
        memcpy(buf, first, have);
    while (have < m->size) {
        la_ssize_t got = archive_read_data(a, buf + have, (size_t)m->size - have);
        if (got < 0)
            return err_set(e, IMGSTAT_EINPUT, "%s: %s", m->name, archive_error_string(a));
        if (got == 0)
            return err_set(e, IMGSTAT_EINPUT, "%s: member ends early (truncated?)", m->name);
        have += (size_t)got;
    }
    buf[m->size] = '\0';
    m->data = buf;
    s->kept += m->size;
    return IMGSTAT_OK;
}

void src_stream_progress(struct source *s)
{
    if (s->opts.progress)
        s->opts.progress(s->opts.progress_ctx, s->in_bytes, s->input_size, s->recorded);
}

/* rec_sink, with progress every few thousand entries. */
struct rec_ctx {
    struct source *s;
    struct rec_buf *rec;
};

static int rec_progress_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct rec_ctx *c = ctx;
    if ((++c->s->recorded & 4095) == 0)
        src_stream_progress(c->s);
    if (c->s->opts.max_entries && c->s->recorded > c->s->opts.max_entries) {
        c->s->over_limit = true;
        return err_set(e, IMGSTAT_ELIMIT,
                       "more than %llu tar entries in the stream (raise it with --max-entries)",
                       (unsigned long long)c->s->opts.max_entries);
    }
    return rec_sink(c->rec, ent, e);
}

/* Decode a large member as a layer into m->rec, reading the outer stream once. */
static int record_member(struct source *s, struct archive *a, struct member *m, struct err *e)
{
    (void)s;
    struct nest n = {.outer = a};
    size_t len = 0;
    la_int64_t off = 0;
    const void *blk = NULL;
    int r;
    while ((r = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK && len == 0)
        ;
    if (r < ARCHIVE_WARN)
        return err_set(e, IMGSTAT_EINPUT, "%s: %s", m->name, archive_error_string(a));
    if (r == ARCHIVE_EOF)
        len = 0;
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", ((const char *)blk)[i]))
        i++;
    if (i < len && off == 0 && strchr("{[", ((const char *)blk)[i]) && m->size <= SRC_JSON_MAX)
        return keep_member(s, a, m, blk, len, e);

    n.pend = blk;
    n.pend_len = len;
    n.next_off = off + (int64_t)len;
    n.eof = r == ARCHIVE_EOF;
    struct err le = {0};
    struct layer_meta meta;
    struct rec_ctx rc_ctx = {s, &m->rec};
    struct byte_src up = {nest_read, NULL, &n};
    int rc = src_walk_dec(s, &up, src_name_alg(m->name), rec_progress_sink, &rc_ctx, &meta, &le);
    if (n.outer_failed)
        return err_set(e, IMGSTAT_EINPUT, "%s: %s", m->name, archive_error_string(a));
    if (rc == IMGSTAT_ENOMEM)
        return err_nomem(e);
    if (s->over_limit) /* memory is what the limit protects: stop the whole stream */
        return err_set(e, IMGSTAT_ELIMIT, "%s: %s", m->name, le.msg);
    if (rc != IMGSTAT_OK) {
        /* not an error yet: only if an image uses this member as a layer */
        m->why = arena_strdup(&s->arena, le.msg);
        m->why_code = rc;
        rec_free(&m->rec);
        return IMGSTAT_OK;
    }
    m->recorded = true;
    m->compression = meta.compression;
    m->tar_bytes = meta.tar_bytes;
    if (s->opts.verify && (!(m->in_digest = arena_strdup(&s->arena, meta.in_digest)) ||
                           !(m->out_digest = arena_strdup(&s->arena, meta.out_digest))))
        return err_nomem(e);
    return IMGSTAT_OK;
}

int src_stream_member(struct source *s, struct archive *a, struct member *m, struct err *e)
{
    if (m->size <= SRC_SMALL_MAX)
        return keep_member(s, a, m, NULL, 0, e);
    return record_member(s, a, m, e);
}
