/*
 * Stream mode: a pipe or a compressed tarball read in one pass.  The manifests usually
 * come after the layers, so each member is told apart by its first bytes while it passes
 * (S3):
 * - an empty member is kept (it is an empty layer, or nothing);
 * - a JSON document (not a tar header, first byte '{' or '[' after blanks) is kept whole,
 *   within --max-kept-bytes over all members (S4);
 * - every other member is decoded as a layer and its entries recorded, whatever its
 *   size; what fails to decode is remembered, an error only if an image uses it.  With the
 *   layer memo, a member whose name carries a digest is looked up first and, on a usable row,
 *   read through with a checksum instead of being decoded; else it is stored once decoded
 *   (M5, memoize.h).
 * A sparse member's holes are read as zeros (S2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>

#include "decode.h"
#include "err.h"
#include "memoize.h"
#include "reader.h"
#include "source_impl.h"
#include "path.h"

/* The first bytes of a member that decide what it is: one tar header. */
#define NEST_HEAD 512
/* Zeros handed out at once for a hole. */
#define NEST_ZEROS (64 * 1024)

static const unsigned char nest_zeros[NEST_ZEROS];

/*
 * A member's logical bytes, from the outer archive's data blocks and their offsets: the
 * gaps between blocks (a sparse member's holes) and after the last one are zeros (S2).
 * The first bytes, copied into head to tell what the member is, are handed out again
 * first, then what was left of the block they came from.
 */
struct nest {
    struct archive *outer;
    uint64_t size;            /* the member's logical size */
    uint64_t pos;             /* logical bytes taken from the outer archive */
    const unsigned char *blk; /* a data block not handed out yet, at logical blk_off */
    size_t blk_len;
    uint64_t blk_off;
    bool eof;
    unsigned char head[NEST_HEAD];
    size_t head_len, head_out;
    const unsigned char *rest; /* after the head */
    size_t rest_len;
    char why[256]; /* what failed in the outer archive */
};

static la_ssize_t nest_fail(struct nest *n, const char *why)
{
    snprintf(n->why, sizeof n->why, "%s", why);
    return -1;
}

/* The next data block of the member into n->blk, or n->eof. */
static la_ssize_t nest_fetch(struct nest *n)
{
    for (;;) {
        const void *b;
        size_t len;
        la_int64_t off;
        int r = archive_read_data_block(n->outer, &b, &len, &off);
        if (r == ARCHIVE_EOF) {
            n->eof = true;
            return 0;
        }
        if (r < ARCHIVE_WARN)
            return nest_fail(n, src_archive_msg(n->outer, "unreadable member data"));
        if (off < 0 || (uint64_t)off < n->pos || (uint64_t)off > n->size ||
            len > n->size - (uint64_t)off)
            return nest_fail(n, "sparse member data out of order or beyond its size");
        if (len) {
            n->blk = b;
            n->blk_len = len;
            n->blk_off = (uint64_t)off;
            return 0;
        }
    }
}

/* The next logical bytes from the outer archive: a block, or zeros up to the next one. */
static la_ssize_t nest_take(struct nest *n, const void **buf)
{
    if (!n->blk && !n->eof && nest_fetch(n) < 0)
        return -1;
    uint64_t upto = n->blk ? n->blk_off : n->size; /* zeros until here */
    if (n->pos < upto) {
        size_t k = upto - n->pos < NEST_ZEROS ? (size_t)(upto - n->pos) : NEST_ZEROS;
        *buf = nest_zeros;
        n->pos += k;
        return (la_ssize_t)k;
    }
    *buf = n->blk;
    if (!n->blk)
        return 0;
    size_t k = n->blk_len;
    n->pos += k;
    n->blk = NULL;
    return (la_ssize_t)k;
}

/* Fill n->head with the member's first bytes (all of them for a short member). */
static int nest_head(struct nest *n)
{
    size_t want = n->size < NEST_HEAD ? (size_t)n->size : NEST_HEAD;
    while (n->head_len < want) {
        const void *b;
        la_ssize_t k = nest_take(n, &b);
        if (k <= 0)
            return (int)k;
        size_t take = (size_t)k < want - n->head_len ? (size_t)k : want - n->head_len;
        memcpy(n->head + n->head_len, b, take);
        n->head_len += take;
        n->rest = (const unsigned char *)b + take;
        n->rest_len = (size_t)k - take;
    }
    return 0;
}

/* The member's bytes in order: the head, the rest of its block, then the outer archive. */
static la_ssize_t nest_next(struct nest *n, const void **buf)
{
    if (n->head_out < n->head_len) {
        *buf = n->head + n->head_out;
        size_t k = n->head_len - n->head_out;
        n->head_out = n->head_len;
        return (la_ssize_t)k;
    }
    if (n->rest_len) {
        *buf = n->rest;
        size_t k = n->rest_len;
        n->rest_len = 0;
        return (la_ssize_t)k;
    }
    return nest_take(n, buf);
}

/* nest_next as the decode pipeline's upstream. */
/* The member as the decode stage's upstream (a byte_src read function). */
static ssize_t nest_read(void *ctx, const unsigned char **buf, struct err *e)
{
    struct nest *n = ctx;
    const void *b = NULL;
    la_ssize_t got = nest_next(n, &b);
    *buf = b;
    if (got < 0)
        return err_set(e, IMGSTAT_EINPUT, "%s", n->why);
    return got;
}

/* ---- keeping ------------------------------------------------------------------------ */

/* S3: a JSON document, by its first bytes (a UTF-8 byte order mark and blanks skipped). */
static bool looks_json(const unsigned char *h, size_t n)
{
    size_t i = n >= 3 && memcmp(h, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
        i++;
    return i == n || h[i] == '{' || h[i] == '[';
}

/* S3: a small text member (no NUL in its first bytes, no compression magic), such as the
 * dir transport's `version` file: kept, since no layer starts that way. */
static bool looks_text(const struct member *m, const unsigned char *h, size_t n)
{
    return m->size <= SRC_TEXT_MAX && !memchr(h, 0, n) && strcmp(dec_sniff(h, n), "none") == 0;
}

/* Keep the member whole (S4: within max_kept_bytes over all members). */
static int keep_member(struct source *s, struct nest *n, struct member *m, struct err *e)
{
    uint64_t max = s->opts.max_kept_bytes;
    if (max && m->size > max - s->kept)
        return err_set(e, IMGSTAT_ELIMIT,
                       "%s: more than %llu bytes of JSON and text documents kept while reading a "
                       "stream "
                       "(raise it with --max-kept-bytes)",
                       m->name, (unsigned long long)max);
    unsigned char *buf = arena_alloc(&s->arena, (size_t)m->size + 1);
    if (!buf)
        return err_nomem(e);
    size_t have = 0;
    while (have < m->size) {
        const void *b;
        la_ssize_t got = nest_next(n, &b);
        if (got < 0)
            return err_set(e, IMGSTAT_EINPUT, "%s: %s", m->name, n->why);
        if (got == 0)
            break; /* cannot happen: the nest pads to m->size */
        size_t k = (size_t)got < m->size - have ? (size_t)got : (size_t)(m->size - have);
        memcpy(buf + have, b, k);
        have += k;
    }
    memset(buf + have, 0, (size_t)m->size + 1 - have);
    m->data = buf;
    s->kept += m->size;
    return IMGSTAT_OK;
}

/* ---- recording ---------------------------------------------------------------------- */

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

/* The entries of a member just taken from the memo count as if decoded (M6). */
static int count_cached(struct source *s, struct member *m, struct err *e)
{
    s->recorded += m->rec.count;
    src_stream_progress(s);
    if (s->opts.max_entries && s->recorded > s->opts.max_entries) {
        s->over_limit = true;
        return err_set(e, IMGSTAT_ELIMIT,
                       "%s: more than %llu tar entries in the stream (raise it with --max-entries)",
                       m->name, (unsigned long long)s->opts.max_entries);
    }
    return IMGSTAT_OK;
}

/* Decode the member as a layer into m->rec while the outer stream passes (or, M5, take its
 * records from the layer memo while its bytes pass). */
static int record_member(struct source *s, struct nest *n, struct member *m, struct err *e)
{
    if (!s->dirs && !(s->dirs = rec_dirs_new()))
        return err_nomem(e);
    rec_init(&m->rec, s->dirs);
    struct err le = {0};
    struct layer_meta meta;
    struct rec_ctx rc_ctx = {s, &m->rec};
    struct byte_src up = {nest_read, NULL, n};
    char key[DIGEST_MAX], key_alg[16];
    bool keyed = memoize_stream_key(s, m, key, key_alg), done = false;
    int rc = keyed ? memoize_stream_lookup(s, m, key, &up, &done, &le) : IMGSTAT_OK;
    if (rc == IMGSTAT_OK && done)
        return m->cached ? count_cached(s, m, e) : IMGSTAT_OK;
    /* hashed to verify it, or for the memo, which stores only what it saw hashed (M2) */
    const char *alg = s->opts.verify ? src_name_alg(m->name) : keyed ? key_alg : NULL;
    if (rc == IMGSTAT_OK)
        rc = src_walk_dec(s, &up, alg, rec_progress_sink, &rc_ctx, &meta, &le);
    if (n->why[0])
        return err_set(e, IMGSTAT_EINPUT, "%s: %s", m->name, n->why);
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
    if (keyed)
        memoize_stream_store(s, m, key, &meta);
    if (s->opts.verify && (!(m->in_digest = arena_strdup(&s->arena, meta.in_digest)) ||
                           !(m->out_digest = arena_strdup(&s->arena, meta.out_digest))))
        return err_nomem(e);
    return IMGSTAT_OK;
}

int src_stream_member(struct source *s, struct archive *a, struct member *m, struct err *e)
{
    struct nest n = {.outer = a, .size = m->size};
    if (nest_head(&n) < 0)
        return err_set(e, IMGSTAT_EINPUT, "%s: %s", m->name, n.why);
    if (m->size == 0)
        return keep_member(s, &n, m, e);
    if (!src_tar_header(n.head, n.head_len) && looks_json(n.head, n.head_len)) {
        if (m->size <= SRC_JSON_MAX)
            return keep_member(s, &n, m, e);
        m->why = "a JSON document, not a layer"; /* src_read says it is too large */
        return IMGSTAT_OK;
    }
    if (!src_tar_header(n.head, n.head_len) && looks_text(m, n.head, n.head_len))
        return keep_member(s, &n, m, e);
    return record_member(s, &n, m, e);
}
