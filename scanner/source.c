/*
 * Opening the input, indexing tarball members, and reading members back.
 * See source.h for the three kinds and when each is used.
 */
#define _GNU_SOURCE
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <xxhash.h>

#include "err.h"
#include "decode.h"
#include "path.h"
#include "reader.h"
#include "walk.h"

/* ---- decoding a layer ---------------------------------------------------------------- */

/* Walk a layer blob read from `up` through the decode pipeline (decode.h) into sink.
 * in_alg: the algorithm of the blob's expected digest, for --verify (NULL: none). */
static int walk_dec(const struct source *s, up_read_fn up, void *up_ctx, const char *in_alg,
                    layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    static const struct src_opts defaults = {0};
    const struct src_opts *so = s ? &s->opts : &defaults;
    struct dec_opts o = {so->max_layer_bytes, so->verify ? in_alg : NULL,
                         so->verify ? "sha256" : NULL};
    struct dec *d = dec_new(up, up_ctx, &o);
    struct archive *a = d ? layer_archive_new(e) : NULL;
    if (!a) {
        dec_free(d);
        return d ? e->code : err_nomem(e);
    }
    int rc = IMGSTAT_OK;
    if (dec_open(a, d) != ARCHIVE_OK)
        rc = err_set(e, IMGSTAT_EINPUT, "%s", archive_error_string(a));
    else if ((rc = layer_walk(a, sink, ctx, e)) == IMGSTAT_OK && so->verify &&
             dec_drain(a, d) < 0)
        rc = err_set(e, IMGSTAT_EINPUT, "%s", archive_error_string(a));
    struct dec_result r;
    dec_result(d, &r);
    if (r.limit_hit)
        rc = err_set(e, IMGSTAT_ELIMIT,
                     "more than %llu bytes uncompressed (raise it with --max-layer-bytes)",
                     (unsigned long long)so->max_layer_bytes);
    if (meta) {
        meta->compression = r.codec;
        meta->tar_bytes = so->verify ? r.out_bytes : (uint64_t)archive_filter_bytes(a, 0);
        memcpy(meta->in_digest, r.in_digest, DIGEST_MAX);
        memcpy(meta->out_digest, r.out_digest, DIGEST_MAX);
    }
    archive_read_free(a);
    dec_free(d);
    return rc;
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
static const char *name_alg(const char *name)
{
    return strncmp(name, "blobs/sha512/", 13) == 0 ? "sha512" : "sha256";
}

/* ---- the member table ---------------------------------------------------------------- */

static struct member **bucket(struct source *s, const char *name)
{
    return &s->buckets[XXH3_64bits(name, strlen(name)) & (s->nbuckets - 1)];
}

static struct member *member_get(struct source *s, const char *name)
{
    if (!s->nbuckets)
        return NULL;
    for (struct member *m = *bucket(s, name); m; m = m->hnext)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

static int grow(struct source *s, struct err *e)
{
    size_t nb = s->nbuckets ? s->nbuckets * 2 : 256;
    struct member **b = calloc(nb, sizeof *b);
    if (!b)
        return err_nomem(e);
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (struct member *m = s->buckets[i], *next; m; m = next) {
            next = m->hnext;
            struct member **to = &b[XXH3_64bits(m->name, strlen(m->name)) & (nb - 1)];
            m->hnext = *to;
            *to = m;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = nb;
    return IMGSTAT_OK;
}

/* A new member; a later member of the same name replaces the earlier one (tar semantics). */
static int member_add(struct source *s, const char *name, struct member **out, struct err *e)
{
    if (s->nmembers >= SRC_MAX_MEMBERS)
        return err_set(e, IMGSTAT_ELIMIT, "more than %u members (SRC_MAX_MEMBERS)",
                       SRC_MAX_MEMBERS);
    if (s->nmembers >= s->nbuckets && grow(s, e) != IMGSTAT_OK)
        return e->code;
    struct member *m = arena_zalloc(&s->arena, sizeof *m);
    if (!m || !(m->name = arena_strdup(&s->arena, name)))
        return err_nomem(e);
    struct member **pp = bucket(s, name);
    for (struct member **q = pp; *q; q = &(*q)->hnext) {
        if (strcmp((*q)->name, name) == 0) {
            rec_free(&(*q)->rec);
            *q = (*q)->hnext;
            s->nmembers--;
            break;
        }
    }
    m->hnext = *pp;
    *pp = m;
    s->nmembers++;
    *out = m;
    return IMGSTAT_OK;
}

/* ---- indexing a tarball ------------------------------------------------------------- */

/* Name of a member as the manifests would write it; NULL (and *why) when unusable. */
static const char *canonical(const char *raw, char *buf, const char **why)
{
    bool clamped;
    if (path_normalize(raw, strlen(raw), buf, &clamped) < 0) {
        *why = "name too long";
        return NULL;
    }
    return buf;
}

/* A link member's target: symlinks are relative to the member's directory, hard links
 * to the archive root (SEMANTICS 1.8).  NULL when it leaves the archive. */
static const char *link_target(struct source *s, const char *name, const char *target, bool sym)
{
    char joined[2 * PATH_MAX_BYTES + 2], out[PATH_MAX_BYTES + 1];
    size_t dlen = sym ? strlen(name) - path_base_len(name, strlen(name)) : 0;
    if (target[0] == '/' || strlen(target) > PATH_MAX_BYTES)
        return NULL;
    snprintf(joined, sizeof joined, "%.*s%s", (int)dlen, name, target);
    bool clamped;
    if (path_normalize(joined, strlen(joined), out, &clamped) < 0 || clamped)
        return NULL;
    return arena_strdup(&s->arena, out);
}

/* Nested reading: a layer member decoded straight from the outer stream's data blocks. */
struct nest {
    struct archive *outer;
    const void *pend;
    size_t pend_len;
    int64_t next_off;
    bool eof, outer_failed;
};

static la_ssize_t nest_read(struct archive *a, void *ctx, const void **buf)
{
    struct nest *n = ctx;
    if (n->pend_len) {
        size_t len = n->pend_len;
        *buf = n->pend;
        n->pend_len = 0;
        return (la_ssize_t)len;
    }
    while (!n->eof) {
        size_t len;
        la_int64_t off;
        int r = archive_read_data_block(n->outer, buf, &len, &off);
        if (r == ARCHIVE_EOF) {
            n->eof = true;
            break;
        }
        if (r < ARCHIVE_WARN || off != n->next_off) {
            n->outer_failed = true;
            archive_set_error(a, EIO, "%s", r < ARCHIVE_WARN && archive_error_string(n->outer)
                                                ? archive_error_string(n->outer)
                                                : "sparse member");
            return -1;
        }
        n->next_off += (int64_t)len;
        if (len)
            return (la_ssize_t)len;
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

static void stream_progress(struct source *s)
{
    if (s->opts.progress)
        s->opts.progress(s->opts.progress_ctx, (uint64_t)archive_filter_bytes(s->outer, -1),
                         s->input_size, s->recorded);
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
        stream_progress(c->s);
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
    int rc = walk_dec(s, nest_read, &n, name_alg(m->name), rec_progress_sink, &rc_ctx, &meta, &le);
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

static int stream_member(struct source *s, struct archive *a, struct member *m, struct err *e)
{
    if (m->size <= SRC_SMALL_MAX)
        return keep_member(s, a, m, NULL, 0, e);
    return record_member(s, a, m, e);
}

static int index_entry(struct source *s, struct archive *a, struct archive_entry *ae,
                       struct err *e)
{
    char buf[PATH_MAX_BYTES + 1];
    const char *why = NULL;
    const char *raw = archive_entry_pathname(ae);
    const char *name = raw ? canonical(raw, buf, &why) : NULL;
    if (!name || !*name)
        return IMGSTAT_OK; /* the root, or a name no manifest can use */
    struct member *m;
    if (member_add(s, name, &m, e) != IMGSTAT_OK)
        return e->code;
    const char *hl = archive_entry_hardlink(ae);
    if (hl) {
        m->type = MEM_HARDLINK;
        m->link = link_target(s, m->name, hl, false);
        return IMGSTAT_OK;
    }
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG: m->type = MEM_FILE; break;
    case AE_IFDIR: m->type = MEM_DIR; return IMGSTAT_OK;
    case AE_IFLNK:
        m->type = MEM_SYMLINK;
        m->link = archive_entry_symlink(ae) ? link_target(s, m->name, archive_entry_symlink(ae), true)
                                            : NULL;
        return IMGSTAT_OK;
    default: m->type = MEM_OTHER; return IMGSTAT_OK;
    }
    m->size = archive_entry_size(ae) > 0 ? (uint64_t)archive_entry_size(ae) : 0;
    if (s->kind == SRC_STREAM)
        return stream_member(s, a, m, e);
    if (archive_entry_sparse_count(ae) > 0)
        m->why = "a sparse member";
    m->offset = (uint64_t)archive_filter_bytes(a, 0);
    return IMGSTAT_OK;
}

static int index_tar(struct source *s, struct archive *a, struct err *e)
{
    struct archive_entry *ae;
    for (;;) {
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN || r == ARCHIVE_RETRY)
            return err_set(e, IMGSTAT_EINPUT, "%s", archive_error_string(a));
        if (index_entry(s, a, ae, e) != IMGSTAT_OK)
            return e->code;
        if (s->kind == SRC_STREAM)
            stream_progress(s);
    }
    s->outer_filter = archive_filter_name(a, 0);
    return IMGSTAT_OK;
}

static struct archive *outer_archive_new(struct err *e)
{
    struct archive *a = archive_read_new();
    if (!a) {
        err_nomem(e);
        return NULL;
    }
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(a) != ARCHIVE_OK) {
        archive_read_free(a);
        err_set(e, IMGSTAT_EINPUT, "libarchive was built without gzip or zstd support");
        return NULL;
    }
    archive_read_support_format_tar(a);
    return a;
}

/* ---- opening ------------------------------------------------------------------------ */

static int tar_checksum_ok(const unsigned char *h)
{
    unsigned long want = 0, sum = 0;
    int i = 148, digits = 0;
    while (i < 156 && h[i] == ' ')
        i++;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
        want = want * 8 + (unsigned long)(h[i] - '0');
    for (i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return digits > 0 && sum == want;
}

/* Say what a file that is not a tarball is, in the words a user would search for. */
static int not_a_tarball(const unsigned char *b, size_t n, struct err *e)
{
    if (n == 0)
        return err_set(e, IMGSTAT_EINPUT, "empty file, not an image");
    if (n >= 4 && memcmp(b, "PK\3\4", 4) == 0)
        return err_set(e, IMGSTAT_EINPUT, "a zip archive, not a docker-save or OCI tarball");
    if (n >= 3 && memcmp(b, "BZh", 3) == 0)
        return err_set(e, IMGSTAT_EINPUT, "bzip2 data: only plain, gzip or zstd tarballs are read");
    if (n >= 6 && memcmp(b, "\xfd" "7zXZ", 5) == 0)
        return err_set(e, IMGSTAT_EINPUT, "xz data: only plain, gzip or zstd tarballs are read");
    return err_set(e, IMGSTAT_EINPUT, "not a tar archive, nor a gzip or zstd one");
}

static int open_stream(struct source *s, int fd, struct err *e)
{
    struct archive *a = outer_archive_new(e);
    if (!a)
        return e->code;
    s->kind = SRC_STREAM;
    int rc = IMGSTAT_OK;
    if (archive_read_open_fd(a, fd, 1024 * 1024) != ARCHIVE_OK) {
        const char *m = archive_error_string(a);
        if (!m || strstr(m, "Unrecognized archive format"))
            m = archive_filter_count(a) > 1 ? "compressed data that is not a tar archive"
                                            : "not a tar archive, nor a gzip or zstd one";
        rc = err_set(e, IMGSTAT_EINPUT, "%s", m);
    } else {
        s->outer = a;
        rc = index_tar(s, a, e);
        s->outer = NULL;
    }
    archive_read_free(a);
    return rc;
}

static int open_file(struct source *s, int fd, uint64_t size, struct err *e)
{
    unsigned char head[512];
    size_t n = size < sizeof head ? (size_t)size : sizeof head;
    if (pread_full(fd, head, n, 0, "header", e) != IMGSTAT_OK)
        return e->code;
    if (strcmp(dec_sniff(head, n), "none") != 0) /* compressed: no seeking, one pass */
        return open_stream(s, fd, e);
    if (n < 512 || !tar_checksum_ok(head))
        return not_a_tarball(head, n, e);
    s->kind = SRC_TAR;
    struct archive *a = outer_archive_new(e);
    if (!a)
        return e->code;
    struct range_reader rr;
    int rc = range_open(a, &rr, fd, 0, size, e);
    if (rc == IMGSTAT_OK)
        rc = index_tar(s, a, e);
    archive_read_free(a);
    return rc;
}

int src_open(struct source **out, const char *path, const struct src_opts *o, struct err *e)
{
    struct source *s = calloc(1, sizeof *s);
    *out = s;
    if (!s)
        return err_nomem(e);
    s->opts = *o;
    s->fd = -1;
    s->outer_filter = "none";
    int fd = 0;
    if (strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return err_sys(e, errno, "cannot open");
        s->own_fd = true;
    }
    s->fd = fd;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return err_sys(e, errno, "cannot stat");
    if (!s->own_fd && isatty(fd))
        return err_set(e, IMGSTAT_EINPUT, "standard input is a terminal: pipe an image into it");
    if (S_ISDIR(st.st_mode)) {
        s->kind = SRC_DIR;
        return IMGSTAT_OK;
    }
    if (S_ISREG(st.st_mode))
        s->input_size = (uint64_t)st.st_size;
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
        return open_file(s, fd, (uint64_t)st.st_size, e);
    return open_stream(s, fd, e);
}

void src_close(struct source *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbuckets; i++)
        for (struct member *m = s->buckets[i]; m; m = m->hnext)
            rec_free(&m->rec);
    free(s->buckets);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    arena_free(&s->arena);
    free(s);
}

/* ---- finding and reading members ---------------------------------------------------- */

/* Open name beneath the layout directory; symlinks may not lead out of it. */
static int dir_open(const struct source *s, const char *name, struct err *e)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, s->fd, name, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) {
        /* kernels before 5.6: refuse every symlink instead */
        how.flags |= O_NOFOLLOW;
        fd = openat(s->fd, name, (int)how.flags);
    }
    if (fd < 0 && errno == EXDEV)
        err_set(e, IMGSTAT_EINPUT, "%s: leads outside the image directory", name);
    else if (fd < 0 && errno != ENOENT && errno != ENOTDIR)
        err_sys(e, errno, "%s", name);
    return fd;
}

int src_find(struct source *s, const char *name, const struct member **out, struct err *e)
{
    *out = NULL;
    if (s->kind == SRC_DIR) {
        struct member *m = member_get(s, name);
        if (!m) {
            int fd = dir_open(s, name, e);
            struct stat st;
            if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? IMGSTAT_OK : e->code;
            int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
            close(fd);
            if (!ok)
                return IMGSTAT_OK;
            if (member_add(s, name, &m, e) != IMGSTAT_OK)
                return e->code;
            m->type = MEM_FILE;
            m->size = (uint64_t)st.st_size;
        }
        *out = m;
        return IMGSTAT_OK;
    }
    const struct member *m = member_get(s, name);
    for (int hops = 0; m && (m->type == MEM_SYMLINK || m->type == MEM_HARDLINK); hops++) {
        if (hops >= SRC_MAX_LINK_HOPS)
            return err_set(e, IMGSTAT_EINPUT, "%s: member links form a cycle", name);
        if (!m->link)
            return err_set(e, IMGSTAT_EINPUT, "%s: member link points outside the archive", name);
        m = member_get(s, m->link);
    }
    if (m && m->type == MEM_FILE)
        *out = m;
    return IMGSTAT_OK;
}

static int need(struct source *s, const char *name, const struct member **m, struct err *e)
{
    if (src_find(s, name, m, e) != IMGSTAT_OK)
        return e->code;
    if (!*m)
        return err_set(e, IMGSTAT_EINPUT, "%s: missing from the image", name);
    if ((*m)->why && !(*m)->recorded && !(*m)->data && s->kind != SRC_STREAM)
        return err_set(e, IMGSTAT_EINPUT, "%s: %s", name, (*m)->why);
    return IMGSTAT_OK;
}

int src_read(struct source *s, const char *name, size_t max, const unsigned char **buf,
             size_t *len, struct err *e)
{
    const struct member *cm;
    if (need(s, name, &cm, e) != IMGSTAT_OK)
        return e->code;
    struct member *m = (struct member *)cm;
    if (m->size > max)
        return err_set(e, IMGSTAT_ELIMIT, "%s: %llu bytes, more than the %zu allowed for JSON",
                       name, (unsigned long long)m->size, max);
    if (!m->data && s->kind == SRC_STREAM)
        return err_set(e, IMGSTAT_EINPUT, "%s: not a JSON document", name);
    if (!m->data) {
        unsigned char *b = arena_alloc(&s->arena, (size_t)m->size + 1);
        if (!b)
            return err_nomem(e);
        int fd = s->kind == SRC_DIR ? dir_open(s, name, e) : s->fd;
        if (fd < 0)
            return e->code ? e->code : err_sys(e, errno, "%s", name);
        int rc = pread_full(fd, b, (size_t)m->size, m->offset, name, e);
        if (s->kind == SRC_DIR)
            close(fd);
        if (rc != IMGSTAT_OK)
            return rc;
        b[m->size] = '\0';
        m->data = b;
    }
    *buf = m->data;
    *len = (size_t)m->size;
    return IMGSTAT_OK;
}

int src_walk_memory(const struct source *s, const void *buf, size_t len, const char *in_alg,
                    layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    struct mem_up m = {buf, len, false};
    return walk_dec(s, mem_read, &m, in_alg, sink, ctx, meta, e);
}

int src_layer(struct source *s, const char *name, const struct member **out, struct err *e)
{
    if (need(s, name, out, e) != IMGSTAT_OK)
        return e->code;
    if (s->kind == SRC_STREAM && !(*out)->data && !(*out)->recorded)
        return err_set(e, (*out)->why_code ? (*out)->why_code : IMGSTAT_EINPUT, "%s: %s", name,
                       (*out)->why ? (*out)->why : "not a layer");
    return IMGSTAT_OK;
}

/* A member of a file (tarball or layout).  An uncompressed layer, when nothing asks for its
 * bytes, is walked with seeking: its file data is never read. */
static int walk_file(const struct source *s, int fd, const struct member *m, const char *in_alg,
                     layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e)
{
    unsigned char head[4] = {0};
    size_t hn = m->size < sizeof head ? (size_t)m->size : sizeof head;
    if (pread_full(fd, head, hn, m->offset, m->name, e) != IMGSTAT_OK)
        return e->code;
    struct range_reader rr = {0};
    int rc;
    if (strcmp(dec_sniff(head, hn), "none") == 0 && !s->opts.verify) {
        if (s->opts.max_layer_bytes && m->size > s->opts.max_layer_bytes)
            return err_set(e, IMGSTAT_ELIMIT,
                           "%llu bytes, more than %llu (raise it with --max-layer-bytes)",
                           (unsigned long long)m->size,
                           (unsigned long long)s->opts.max_layer_bytes);
        struct archive *a = layer_archive_new(e);
        if (!a)
            return e->code;
        rc = range_open(a, &rr, fd, m->offset, m->size, e);
        if (rc == IMGSTAT_OK)
            rc = layer_walk(a, sink, ctx, e);
        if (meta) {
            meta->compression = "none";
            meta->tar_bytes = (uint64_t)archive_filter_bytes(a, 0);
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
            snprintf(meta->in_digest, DIGEST_MAX, "%s", m->in_digest ? m->in_digest : "");
            snprintf(meta->out_digest, DIGEST_MAX, "%s", m->out_digest ? m->out_digest : "");
        }
        return rec_replay(&m->rec, sink, ctx, e);
    }
    if (s->kind == SRC_TAR)
        return walk_file(s, s->fd, m, in_alg, sink, ctx, meta, e);
    int fd = dir_open(s, m->name, e);
    if (fd < 0)
        return e->code ? e->code : err_sys(e, errno, "%s", m->name);
    int rc = walk_file(s, fd, m, in_alg, sink, ctx, meta, e);
    close(fd);
    return rc;
}
