/*
 * mkb_write.c: everything that writes bytes: layer tars through libarchive's
 * write API (hashing as they go, for the diff_id), gzip (zlib -6) and zstd
 * (level 3) blobs, outer archives, and a tiny parallel task runner.
 *
 * Layer tars look like Go archive/tar output: pax only where ustar cannot
 * hold a field, two zero blocks at the end and no padding to 10 KiB.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "mkbench.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <threads.h>
#include <zlib.h>
#include <zstd.h>

#define IO_CHUNK (1u << 20)

/* ---- hashed, counted file output ------------------------------------------- */

struct hout {
    FILE *f;
    const char *path;
    struct sha256 sha;
    uint64_t n;
};

static void hout_open(struct hout *o, const char *path)
{
    o->f = fopen(path, "wb");
    if (!o->f)
        die("%s: %s", path, strerror(errno));
    setvbuf(o->f, NULL, _IOFBF, IO_CHUNK);
    o->path = path;
    sha256_init(&o->sha);
    o->n = 0;
}

static void hout_write(struct hout *o, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, o->f) != n)
        die("%s: write: %s", o->path, strerror(errno));
    sha256_update(&o->sha, p, n);
    o->n += n;
}

static void hout_close(struct hout *o, char hex[65], uint64_t *bytes)
{
    if (fclose(o->f) != 0)
        die("%s: close: %s", o->path, strerror(errno));
    sha256_hex(&o->sha, hex);
    *bytes = o->n;
}

/* ---- layer tars ------------------------------------------------------------- */

struct layer_writer {
    struct archive *a;
    struct archive_entry *e;
    struct hout out;
    uint64_t entries;
    struct gen gen;
};

static la_ssize_t lw_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
    (void)a;
    hout_write(ctx, buf, n);
    return (la_ssize_t)n;
}

static struct archive *tar_writer(void *ctx,
                                  la_ssize_t (*cb)(struct archive *, void *, const void *, size_t))
{
    struct archive *a = archive_write_new();
    if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_add_filter_none(a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open(a, ctx, NULL, cb, NULL) != ARCHIVE_OK)
        die("libarchive: cannot set up a tar writer: %s", a ? archive_error_string(a) : "");
    return a;
}

struct layer_writer *lw_open(const char *path)
{
    struct layer_writer *w = xmalloc(sizeof *w);
    hout_open(&w->out, xstrdup(path));
    w->a = tar_writer(&w->out, lw_write_cb);
    w->e = archive_entry_new();
    w->entries = 0;
    return w;
}

static void lw_header(struct layer_writer *w, const struct ent *e)
{
    struct archive_entry *x = w->e;
    archive_entry_clear(x);
    archive_entry_set_pathname(x, e->path);
    archive_entry_set_mtime(x, MKB_MTIME, 0);
    archive_entry_set_uid(x, 0);
    archive_entry_set_gid(x, 0);
    archive_entry_set_perm(x, e->mode);
    archive_entry_set_size(x, 0);
    switch (e->kind) {
    case ENT_DIR: archive_entry_set_filetype(x, AE_IFDIR); break;
    case ENT_SYMLINK:
        archive_entry_set_filetype(x, AE_IFLNK);
        archive_entry_set_symlink(x, e->target);
        break;
    case ENT_HARDLINK:
        archive_entry_set_filetype(x, AE_IFREG);
        archive_entry_set_hardlink(x, e->target);
        break;
    case ENT_REG:
        archive_entry_set_filetype(x, AE_IFREG);
        archive_entry_set_size(x, (la_int64_t)e->size);
        break;
    case ENT_WHITEOUT: archive_entry_set_filetype(x, AE_IFREG); break;
    }
    if (archive_write_header(w->a, x) != ARCHIVE_OK)
        die("%s: %s: %s", w->out.path, e->path, archive_error_string(w->a));
}

void lw_add(struct layer_writer *w, const struct ent *e)
{
    lw_header(w, e);
    w->entries++;
    if (e->kind != ENT_REG || e->size == 0)
        return;
    gen_start(&w->gen, e->seed);
    for (uint64_t left = e->size; left;) {
        size_t n = left < GEN_CHUNK ? (size_t)left : GEN_CHUNK;
        const unsigned char *p = gen_next(&w->gen, n);
        if (archive_write_data(w->a, p, n) != (la_ssize_t)n)
            die("%s: %s: %s", w->out.path, e->path, archive_error_string(w->a));
        left -= n;
    }
}

void lw_close(struct layer_writer *w, char diff_id[65], uint64_t *bytes, uint64_t *entries)
{
    if (archive_write_close(w->a) != ARCHIVE_OK)
        die("%s: %s", w->out.path, archive_error_string(w->a));
    archive_write_free(w->a);
    archive_entry_free(w->e);
    hout_close(&w->out, diff_id, bytes);
    *entries = w->entries;
    free((char *)w->out.path);
    free(w);
}

/* ---- compression --------------------------------------------------------------- */

static void gzip_stream(FILE *in, struct hout *o, unsigned char *ibuf, unsigned char *obuf)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15+16: gzip wrapper, mtime 0, no name: deterministic */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2 failed");
    int flush;
    do {
        size_t n = fread(ibuf, 1, IO_CHUNK, in);
        flush = n < IO_CHUNK ? Z_FINISH : Z_NO_FLUSH;
        z.next_in = ibuf;
        z.avail_in = (uInt)n;
        do {
            z.next_out = obuf;
            z.avail_out = IO_CHUNK;
            if (deflate(&z, flush) == Z_STREAM_ERROR)
                die("deflate failed");
            hout_write(o, obuf, IO_CHUNK - z.avail_out);
        } while (z.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&z);
}

static void zstd_stream(FILE *in, struct hout *o, unsigned char *ibuf, unsigned char *obuf)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    if (!c || ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)))
        die("zstd: cannot set up a compressor");
    int last;
    do {
        size_t n = fread(ibuf, 1, IO_CHUNK, in);
        last = n < IO_CHUNK;
        ZSTD_inBuffer ib = {ibuf, n, 0};
        size_t rem;
        do {
            ZSTD_outBuffer ob = {obuf, IO_CHUNK, 0};
            rem = ZSTD_compressStream2(c, &ob, &ib, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(rem))
                die("zstd: %s", ZSTD_getErrorName(rem));
            hout_write(o, obuf, ob.pos);
        } while (last ? rem != 0 : ib.pos < ib.size);
    } while (!last);
    ZSTD_freeCCtx(c);
}

void compress_file(const char *src, const char *dst, enum comp c, char hex[65], uint64_t *size)
{
    FILE *in = fopen(src, "rb");
    if (!in)
        die("%s: %s", src, strerror(errno));
    unsigned char *ibuf = xmalloc(IO_CHUNK), *obuf = xmalloc(IO_CHUNK);
    struct hout o;
    hout_open(&o, dst);
    if (c == COMP_GZIP)
        gzip_stream(in, &o, ibuf, obuf);
    else
        zstd_stream(in, &o, ibuf, obuf);
    if (ferror(in))
        die("%s: read error", src);
    fclose(in);
    hout_close(&o, hex, size);
    free(ibuf);
    free(obuf);
}

/* ---- outer archives and small files --------------------------------------------- */

static la_ssize_t file_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
    (void)a;
    if (fwrite(buf, 1, n, ctx) != n)
        die("write: %s", strerror(errno));
    return (la_ssize_t)n;
}

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static void outer_copy(struct archive *a, const char *src, unsigned char *buf)
{
    FILE *in = fopen(src, "rb");
    if (!in)
        die("%s: %s", src, strerror(errno));
    size_t n;
    while ((n = fread(buf, 1, IO_CHUNK, in)) > 0)
        if (archive_write_data(a, buf, n) != (la_ssize_t)n)
            die("%s: %s", src, archive_error_string(a));
    if (ferror(in))
        die("%s: read error", src);
    fclose(in);
}

static void outer_member(struct archive *a, struct archive_entry *e, const struct member *m,
                         unsigned char *buf)
{
    archive_entry_clear(e);
    archive_entry_set_pathname(e, m->name);
    archive_entry_set_mtime(e, MKB_MTIME, 0);
    archive_entry_set_filetype(e, m->is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, m->is_dir ? 0755 : 0644);
    uint64_t size = m->data ? m->len : 0;
    if (!m->data && m->src) {
        struct stat st;
        if (stat(m->src, &st) != 0)
            die("%s: %s", m->src, strerror(errno));
        size = (uint64_t)st.st_size;
    }
    archive_entry_set_size(e, (la_int64_t)size);
    if (archive_write_header(a, e) != ARCHIVE_OK)
        die("%s: %s", m->name, archive_error_string(a));
    if (m->data && m->len && archive_write_data(a, m->data, m->len) != (la_ssize_t)m->len)
        die("%s: %s", m->name, archive_error_string(a));
    if (!m->data && m->src)
        outer_copy(a, m->src, buf);
}

void write_outer(const char *path, struct member *m, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    setvbuf(f, NULL, _IOFBF, IO_CHUNK);
    struct archive *a = tar_writer(f, file_write_cb);
    struct archive_entry *e = archive_entry_new();
    unsigned char *buf = xmalloc(IO_CHUNK);
    qsort(m, n, sizeof *m, member_cmp);
    for (size_t i = 0; i < n; i++)
        outer_member(a, e, &m[i], buf);
    if (archive_write_close(a) != ARCHIVE_OK)
        die("%s: %s", path, archive_error_string(a));
    archive_write_free(a);
    archive_entry_free(e);
    free(buf);
    if (fclose(f) != 0)
        die("%s: close: %s", path, strerror(errno));
}

void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die("%s: %s", path, strerror(errno));
}

void write_blob(const char *dir, const char *data, size_t len, char hex[65])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_hex(&s, hex);
    char *path = xasprintf("%s/%s", dir, hex);
    write_file(path, data, len);
    free(path);
}

/* ---- parallel tasks ---------------------------------------------------------------- */

struct task_pool {
    void (*fn)(void *);
    char *args;
    size_t stride, n;
    atomic_size_t next;
};

static int task_worker(void *ctx)
{
    struct task_pool *p = ctx;
    for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < p->n;)
        p->fn(p->args + i * p->stride);
    return 0;
}

void run_tasks(void (*fn)(void *), void *args, size_t stride, size_t n, int jobs)
{
    struct task_pool p = {fn, args, stride, n, 0};
    size_t nt = jobs < 1 ? 1 : (size_t)jobs;
    if (nt > n)
        nt = n;
    thrd_t *t = xmalloc(nt * sizeof *t);
    for (size_t i = 1; i < nt; i++)
        if (thrd_create(&t[i], task_worker, &p) != thrd_success)
            die("cannot create a thread");
    task_worker(&p);
    for (size_t i = 1; i < nt; i++)
        thrd_join(t[i], NULL);
    free(t);
}
