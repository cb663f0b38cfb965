/*
 * Opening the input, indexing tarball members, finding and reading members back.
 * See source.h for the three kinds and when each is used; walking a layer member is
 * in source_walk.c, the one-pass stream in stream.c.
 */
#define _GNU_SOURCE
#include "source.h"
#include "source_impl.h"

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

/*
 * A sparse member's data extents (S1), checked: in order, not overlapping, within its
 * logical size.  They are stored one after the other from the data offset (GNU old sparse,
 * pax 0.x and 1.0 alike: libarchive has read a 1.0 map before the data offset).
 */
static int sparse_map(struct source *s, struct archive_entry *ae, struct member *m, struct err *e)
{
    int n = archive_entry_sparse_reset(ae);
    struct range_extent *v = arena_alloc(&s->arena, (size_t)n * sizeof *v);
    if (!v)
        return err_nomem(e);
    uint64_t at = m->offset, end = 0;
    size_t k = 0;
    la_int64_t off, len;
    while (archive_entry_sparse_next(ae, &off, &len) == ARCHIVE_OK) {
        if (off < 0 || len < 0 || (uint64_t)off < end || (uint64_t)off > m->size ||
            (uint64_t)len > m->size - (uint64_t)off) {
            m->why = "a sparse member whose map is out of order or beyond its size";
            return IMGSTAT_OK;
        }
        if (len == 0)
            continue;
        v[k++] = (struct range_extent){(uint64_t)off, (uint64_t)len, at};
        at += (uint64_t)len;
        end = (uint64_t)off + (uint64_t)len;
    }
    m->sparse = v;
    m->nsparse = k;
    return IMGSTAT_OK;
}

static int index_entry(struct source *s, struct archive *a, struct archive_entry *ae, struct err *e)
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
        m->link = archive_entry_symlink(ae)
                      ? link_target(s, m->name, archive_entry_symlink(ae), true)
                      : NULL;
        return IMGSTAT_OK;
    default: m->type = MEM_OTHER; return IMGSTAT_OK;
    }
    m->size = archive_entry_size(ae) > 0 ? (uint64_t)archive_entry_size(ae) : 0;
    if (s->kind == SRC_STREAM)
        return src_stream_member(s, a, m, e);
    m->offset = (uint64_t)archive_filter_bytes(a, 0);
    if (archive_entry_sparse_count(ae) > 0)
        return sparse_map(s, ae, m, e);
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
            return err_set(e, IMGSTAT_EINPUT, "%s", src_archive_msg(a, "unreadable tar header"));
        if (index_entry(s, a, ae, e) != IMGSTAT_OK)
            return e->code;
        if (s->kind == SRC_STREAM)
            src_stream_progress(s);
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
    /* tar only: a compressed tarball is decompressed by decode.c, as layers are (D6) */
    archive_read_support_format_tar(a);
    return a;
}

/* ---- opening ------------------------------------------------------------------------ */

const char *src_archive_msg(struct archive *a, const char *otherwise)
{
    const char *m = archive_error_string(a);
    return m && *m ? m : otherwise;
}

bool src_tar_header(const unsigned char *h, size_t n)
{
    unsigned long want = 0, sum = 0;
    if (n < 512)
        return false;
    int i = 148, digits = 0;
    while (i < 156 && h[i] == ' ')
        i++;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
        want = want * 8 + (unsigned long)(h[i] - '0');
    for (i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return digits > 0 && sum == want;
}

/* Say what input that is not a tarball is, in the words a user would search for, from its
 * first bytes as read. */
static int not_a_tarball(const unsigned char *b, size_t n, bool file, struct err *e)
{
    if (n == 0)
        return err_set(e, IMGSTAT_EINPUT, "empty %s, not an image", file ? "file" : "input");
    const char *codec = dec_sniff(b, n), *other = dec_foreign(b, n);
    if (strcmp(codec, "none") != 0)
        return err_set(e, IMGSTAT_EINPUT, "%s data that is not a tar archive", codec);
    if (other)
        return err_set(e, IMGSTAT_EINPUT, "%s, not a docker-save or OCI tarball", other);
    return err_set(e, IMGSTAT_EINPUT, "not a tar archive, nor a gzip, zstd, xz or bzip2 one");
}

/* ---- a stream's outer tarball: read(2), decode.c, then libarchive ----------------------- */

/* Reads of a pipe (or of a compressed file), as large as libarchive's were. */
#define SRC_FD_CHUNK (1024 * 1024)

struct fd_in {
    int fd;
    unsigned char *buf;
    uint64_t *count;        /* the source's in_bytes, for progress */
    unsigned char head[16]; /* the first bytes, for not_a_tarball() */
    size_t head_n;
};

static ssize_t fd_read(void *ctx, const unsigned char **buf, struct err *e)
{
    struct fd_in *f = ctx;
    ssize_t n;
    do
        n = read(f->fd, f->buf, SRC_FD_CHUNK);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return err_sys(e, errno, "read");
    size_t keep = sizeof f->head - f->head_n;
    keep = (size_t)n < keep ? (size_t)n : keep;
    memcpy(f->head + f->head_n, f->buf, keep);
    f->head_n += keep;
    *f->count += (uint64_t)n;
    *buf = f->buf;
    return n;
}

struct outer {
    struct fd_in in;
    struct dec *dec;
    struct byte_src tar;
    struct err err; /* why the last read failed */
    bool failed;
};

/* libarchive's read callback over the decoded stream. */
static la_ssize_t outer_read(struct archive *a, void *ctx, const void **buf)
{
    struct outer *o = ctx;
    const unsigned char *b = NULL;
    ssize_t n = o->tar.read(o->tar.ctx, &b, &o->err);
    *buf = b;
    if (n < 0) {
        o->failed = true;
        archive_set_error(a, EIO, "%s", o->err.msg);
        return -1;
    }
    return (la_ssize_t)n;
}

/* A pipe, or a compressed tarball: one pass, its compression undone by decode.c (D6). */
static int open_stream(struct source *s, int fd, struct err *e)
{
    struct outer o = {.in = {.fd = fd, .count = &s->in_bytes}};
    struct dec_opts none = {0};
    struct byte_src raw = {fd_read, NULL, &o.in};
    struct archive *a = NULL;
    int rc;
    s->kind = SRC_STREAM;
    if (!(o.in.buf = malloc(SRC_FD_CHUNK)) || !(o.dec = dec_new(&raw, &none))) {
        rc = err_nomem(e);
    } else if (!(a = outer_archive_new(e))) {
        rc = e->code;
    } else {
        dec_src(o.dec, &o.tar);
        if (archive_read_open(a, &o, NULL, outer_read, NULL) != ARCHIVE_OK &&
            (!o.failed || dec_foreign(o.in.head, o.in.head_n))) {
            rc = not_a_tarball(o.in.head, o.in.head_n, s->input_size > 0, e);
        } else if (!o.failed) {
            s->outer = a;
            rc = index_tar(s, a, e);
            s->outer = NULL;
        } else {
            rc = IMGSTAT_EINPUT;
        }
        if (rc != IMGSTAT_OK && o.failed && !dec_foreign(o.in.head, o.in.head_n)) {
            *e = o.err; /* the decoder's own words and code */
            rc = e->code;
        }
        struct dec_result r;
        dec_result(o.dec, &r);
        s->outer_filter = r.codec;
    }
    archive_read_free(a);
    dec_free(o.dec);
    free(o.in.buf);
    return rc;
}

static int open_file(struct source *s, int fd, uint64_t size, struct err *e)
{
    unsigned char head[512];
    s->input_size = size;
    size_t n = size < sizeof head ? (size_t)size : sizeof head;
    if (pread_full(fd, head, n, 0, "header", e) != IMGSTAT_OK)
        return e->code;
    if (strcmp(dec_sniff(head, n), "none") != 0) /* compressed: no seeking, one pass */
        return open_stream(s, fd, e);
    if (!src_tar_header(head, n))
        return not_a_tarball(head, n, true, e);
    s->kind = SRC_TAR;
    struct archive *a = outer_archive_new(e);
    if (!a)
        return e->code;
    struct range_reader rr;
    int rc = range_open(a, &rr, fd, 0, size, NULL, 0, e);
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
    rec_dirs_free(s->dirs);
    free(s->buckets);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    arena_free(&s->arena);
    free(s);
}

/* ---- finding and reading members ---------------------------------------------------- */

/* Open name beneath the layout directory; symlinks may not lead out of it. */
int src_dir_open(const struct source *s, const char *name, int *out, struct err *e)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, s->fd, name, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) {
        /* kernels before 5.6: refuse every symlink instead */
        how.flags |= O_NOFOLLOW;
        fd = openat(s->fd, name, (int)how.flags);
    }
    *out = fd;
    if (fd >= 0 || errno == ENOENT || errno == ENOTDIR)
        return IMGSTAT_OK;
    if (errno == EXDEV)
        return err_set(e, IMGSTAT_EINPUT, "%s: leads outside the image directory", name);
    return err_sys(e, errno, "%s", name);
}

int src_find(struct source *s, const char *name, const struct member **out, struct err *e)
{
    *out = NULL;
    if (s->kind == SRC_DIR) {
        struct member *m = member_get(s, name);
        if (!m) {
            int fd;
            struct stat st;
            int rc = src_dir_open(s, name, &fd, e);
            if (rc != IMGSTAT_OK || fd < 0)
                return rc; /* IMGSTAT_OK when absent */
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

int src_read(struct source *s, const char *name, size_t max, const unsigned char **buf, size_t *len,
             struct err *e)
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
        int fd = s->fd;
        if (s->kind == SRC_DIR && src_dir_open(s, name, &fd, e) != IMGSTAT_OK)
            return e->code;
        if (fd < 0)
            return err_set(e, IMGSTAT_EINPUT, "%s: removed while being read", name);
        int rc = range_pread(fd, m->offset, m->sparse, m->nsparse, b, (size_t)m->size, 0, name, e);
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

int src_layer(struct source *s, const char *name, const struct member **out, struct err *e)
{
    if (need(s, name, out, e) != IMGSTAT_OK)
        return e->code;
    if (s->kind == SRC_STREAM && !(*out)->data && !(*out)->recorded)
        return err_set(e, (*out)->why_code ? (*out)->why_code : IMGSTAT_EINPUT, "%s: %s", name,
                       (*out)->why ? (*out)->why : "not a layer");
    return IMGSTAT_OK;
}

bool src_exists(struct source *s, const char *name)
{
    const struct member *m;
    struct err ignored = {0};
    return src_find(s, name, &m, &ignored) == IMGSTAT_OK && m;
}
