/*
 * An image's file list in the catalog (files.h): front-coded zstd chunks, and the page query.
 */
#define _GNU_SOURCE /* memmem, memrchr */
#include "files.h"

#include <stdlib.h>
#include <string.h>

#include <zstd.h>

/* Chunks are written once and read on every filtered query: a little more effort pays. */
#define FILES_ZSTD_LEVEL 6

struct chunk {
    unsigned char *z;
    size_t zlen;
    uint32_t n;
};

struct cat_files {
    unsigned char *raw; /* the chunk being built */
    size_t rlen, rcap;
    char *prev; /* the previous path, for front coding */
    size_t prevlen, prevcap;
    uint32_t n; /* entries in the chunk being built */
    uint64_t total;
    struct chunk *chunks;
    size_t nchunks, capchunks;
    ZSTD_CCtx *cctx;
};

/* ---- building ---- */

struct cat_files *cat_files_new(void)
{
    struct cat_files *f = calloc(1, sizeof *f);
    if (f && !(f->cctx = ZSTD_createCCtx())) {
        free(f);
        return NULL;
    }
    return f;
}

void cat_files_free(struct cat_files *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nchunks; i++)
        free(f->chunks[i].z);
    free(f->chunks);
    free(f->raw);
    free(f->prev);
    ZSTD_freeCCtx(f->cctx);
    free(f);
}

uint64_t cat_files_count(const struct cat_files *f)
{
    return f->total;
}

static bool grow(void *pp, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    void *p = realloc(*(void **)pp, c);
    if (!p)
        return false;
    *(void **)pp = p;
    *cap = c;
    return true;
}

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        *p++ = (unsigned char)(v | 0x80);
    *p++ = (unsigned char)v;
    return p;
}

/* Compress the chunk being built into the list. */
static int seal(struct cat_files *f)
{
    if (f->n == 0)
        return IMGSTAT_OK;
    size_t bound = ZSTD_compressBound(f->rlen);
    unsigned char *z = malloc(bound);
    size_t zlen = z ? ZSTD_compressCCtx(f->cctx, z, bound, f->raw, f->rlen, FILES_ZSTD_LEVEL) : 0;
    if (z && !ZSTD_isError(zlen) && f->nchunks == f->capchunks) {
        size_t cap = f->capchunks ? 2 * f->capchunks : 64;
        struct chunk *v = realloc(f->chunks, cap * sizeof *v);
        f->chunks = v ? v : f->chunks;
        f->capchunks = v ? cap : f->capchunks;
    }
    if (!z || ZSTD_isError(zlen) || f->nchunks == f->capchunks) {
        free(z);
        return IMGSTAT_ENOMEM;
    }
    f->chunks[f->nchunks++] = (struct chunk){z, zlen, f->n};
    f->rlen = 0;
    f->n = 0;
    return IMGSTAT_OK;
}

int cat_files_add(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct cat_files *f = ctx;
    size_t shared = 0;
    if (f->n > 0)
        while (shared < len && shared < f->prevlen && f->prev[shared] == path[shared])
            shared++;
    if (!grow(&f->raw, &f->rcap, f->rlen + 30 + (size_t)len - shared) ||
        !grow(&f->prev, &f->prevcap, (size_t)len))
        return IMGSTAT_ENOMEM;
    unsigned char *p = put_varint(f->raw + f->rlen, shared);
    p = put_varint(p, len - shared);
    memcpy(p, path + shared, (size_t)len - shared);
    p = put_varint(p + len - shared, size);
    f->rlen = (size_t)(p - f->raw);
    memcpy(f->prev + shared, path + shared, (size_t)len - shared);
    f->prevlen = (size_t)len;
    f->total++;
    return ++f->n == CAT_FILES_PER_CHUNK ? seal(f) : IMGSTAT_OK;
}

static const char SQL_PUT[] =
    "INSERT INTO image_files (image, seq, nfiles, data) VALUES (?1, ?2, ?3, ?4)";

int cat_files_store(struct cat_db *d, int64_t image, struct cat_files *f, struct err *e)
{
    if (seal(f) != IMGSTAT_OK)
        return err_nomem(e);
    for (size_t i = 0; i < f->nchunks; i++) {
        sqlite3_stmt *st;
        int rc = cat_stmt(d, SQL_PUT, &st, e);
        if (rc != IMGSTAT_OK)
            return rc;
        sqlite3_bind_int64(st, 1, image);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int64(st, 3, f->chunks[i].n);
        sqlite3_bind_blob(st, 4, f->chunks[i].z, (int)f->chunks[i].zlen, SQLITE_STATIC);
        if ((rc = cat_step_done(d, st, "store a file list", e)) != IMGSTAT_OK)
            return rc;
    }
    return IMGSTAT_OK;
}

/* ---- reading ---- */

/* Walks the entries of one decompressed chunk. */
struct cursor {
    const unsigned char *p, *end;
    char *path;
    size_t len, cap;
    uint64_t size;
};

static const unsigned char *get_varint(const unsigned char *p, const unsigned char *end,
                                       uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
        x |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p++ & 0x80)) {
            *v = x;
            return p;
        }
    }
    return NULL;
}

/* The next entry into c->path/len/size: 1, or 0 at the end, or -1 when malformed. */
static int cursor_next(struct cursor *c)
{
    uint64_t shared, rest;
    if (c->p == c->end)
        return 0;
    const unsigned char *p = get_varint(c->p, c->end, &shared);
    if (!p || !(p = get_varint(p, c->end, &rest)) || shared > c->len ||
        rest > (uint64_t)(c->end - p) || !grow(&c->path, &c->cap, (size_t)(shared + rest)))
        return -1;
    memcpy(c->path + shared, p, (size_t)rest);
    c->len = (size_t)(shared + rest);
    if (!(c->p = get_varint(p + rest, c->end, &c->size)))
        return -1;
    return 1;
}

/* The page being collected: entries kept until the total is known. */
struct page {
    const char *needle;
    size_t nlen;
    uint64_t offset, limit, matched, kept;
    unsigned char *buf; /* per entry: path length (size_t), size (uint64_t), path */
    size_t len, cap;
};

static bool page_keep(struct page *pg, const struct cursor *c)
{
    size_t need = sizeof(size_t) + sizeof(uint64_t) + c->len;
    if (!grow(&pg->buf, &pg->cap, pg->len + need))
        return false;
    unsigned char *p = pg->buf + pg->len;
    memcpy(p, &c->len, sizeof c->len);
    memcpy(p + sizeof(size_t), &c->size, sizeof c->size);
    memcpy(p + sizeof(size_t) + sizeof(uint64_t), c->path, c->len);
    pg->len += need;
    pg->kept++;
    return true;
}

static bool name_has(const struct page *pg, const struct cursor *c)
{
    const char *slash = memrchr(c->path, '/', c->len);
    const char *base = slash ? slash + 1 : c->path;
    return memmem(base, c->len - (size_t)(base - c->path), pg->needle, pg->nlen) != NULL;
}

/* One chunk's entries through the filter into the page; -1 when the chunk is malformed. */
static int page_chunk(struct page *pg, struct cursor *c, uint64_t skip)
{
    int r;
    while ((r = cursor_next(c)) == 1) {
        if (skip) {
            skip--;
            continue;
        }
        if (pg->nlen && !name_has(pg, c))
            continue;
        uint64_t idx = pg->matched++;
        if (idx >= pg->offset && (!pg->limit || pg->kept < pg->limit) && !page_keep(pg, c))
            return -2;
    }
    return r;
}

static const char SQL_TOTAL[] = "SELECT coalesce(sum(nfiles), 0) FROM image_files WHERE image = ?1";
static const char SQL_CHUNKS[] =
    "SELECT nfiles, data FROM image_files WHERE image = ?1 AND seq >= ?2 ORDER BY seq";

/* Decompress one chunk's frame into *raw (grown as needed). */
static int unpack(const void *z, size_t zlen, unsigned char **raw, size_t *cap, size_t *len)
{
    unsigned long long n = ZSTD_getFrameContentSize(z, zlen);
    if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > CAT_FILES_CHUNK_MAX)
        return -1;
    if (!grow(raw, cap, (size_t)n + 1))
        return -2;
    size_t got = ZSTD_decompress(*raw, (size_t)n + 1, z, zlen);
    if (ZSTD_isError(got) || got != n)
        return -1;
    *len = got;
    return 0;
}

/* Every chunk from first on, through the page; no filter: `skip` entries of the first. */
static int page_scan(struct cat_db *d, int64_t image, struct page *pg, uint64_t first,
                     uint64_t skip, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(d, SQL_CHUNKS, &st, e), r = 0, s;
    if (rc != IMGSTAT_OK)
        return rc;
    sqlite3_bind_int64(st, 1, image);
    sqlite3_bind_int64(st, 2, (int64_t)first);
    unsigned char *raw = NULL;
    size_t cap = 0, len = 0;
    struct cursor c = {0};
    while (r == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (!pg->nlen && pg->limit && pg->kept >= pg->limit)
            break; /* without a filter the total is known: stop at the page's end */
        r = unpack(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), &raw, &cap,
                   &len);
        c.p = raw;
        c.end = raw + len;
        c.len = 0;
        r = r ? r : page_chunk(pg, &c, skip);
        skip = 0;
    }
    sqlite3_reset(st);
    free(raw);
    free(c.path);
    if (r == -2)
        return err_nomem(e);
    if (r < 0)
        return err_set(e, IMGSTAT_EINPUT, "%s: the file list of image %lld is damaged", d->path,
                       (long long)image);
    return IMGSTAT_OK;
}

static int page_total(struct cat_db *d, int64_t image, uint64_t *total, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(d, SQL_TOTAL, &st, e);
    if (rc != IMGSTAT_OK)
        return rc;
    sqlite3_bind_int64(st, 1, image);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *total = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? IMGSTAT_OK : cat_fail(d, rc, "count files", e);
}

/* Hand the kept entries to fn. */
static int page_emit(const struct page *pg, imgstat_file_fn fn, void *ctx)
{
    for (size_t off = 0; off < pg->len;) {
        size_t len;
        uint64_t size;
        memcpy(&len, pg->buf + off, sizeof len);
        memcpy(&size, pg->buf + off + sizeof len, sizeof size);
        const char *path = (const char *)pg->buf + off + sizeof len + sizeof size;
        int rc = fn(ctx, path, len, size);
        if (rc != 0)
            return rc;
        off += sizeof len + sizeof size + len;
    }
    return IMGSTAT_OK;
}

int cat_files_page(struct cat_db *d, int64_t image, const char *needle, uint64_t offset,
                   uint64_t limit, uint64_t *total, imgstat_file_fn fn, void *ctx, struct err *e)
{
    struct page pg = {needle, needle ? strlen(needle) : 0, offset, limit, 0, 0, NULL, 0, 0};
    int rc;
    if (pg.nlen) {
        rc = page_scan(d, image, &pg, 0, 0, e);
        *total = pg.matched;
    } else if ((rc = page_total(d, image, total, e)) == IMGSTAT_OK && offset < *total) {
        /* every chunk but the last holds CAT_FILES_PER_CHUNK entries: start at offset's */
        pg.matched = offset;
        rc =
            page_scan(d, image, &pg, offset / CAT_FILES_PER_CHUNK, offset % CAT_FILES_PER_CHUNK, e);
    }
    if (rc == IMGSTAT_OK)
        rc = page_emit(&pg, fn, ctx);
    free(pg.buf);
    return rc;
}
