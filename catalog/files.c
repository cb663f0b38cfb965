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
    unsigned char *raw; /* the chunk being built: front-coded paths */
    size_t rlen, rcap;
    unsigned char *names; /* and names, each ended by a NUL */
    size_t nlen, ncap;
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
    free(f->names);
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

/* buf[len] as one zstd frame appended to *out. */
static bool squeeze(struct cat_files *f, const void *buf, size_t len, unsigned char **out,
                    size_t *olen, size_t *ocap)
{
    size_t bound = ZSTD_compressBound(len);
    if (!grow(out, ocap, *olen + bound))
        return false;
    size_t n = ZSTD_compressCCtx(f->cctx, *out + *olen, bound, buf, len, FILES_ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return false;
    *olen += n;
    return true;
}

/* Compress the chunk being built into the list: varint size of the names frame, the names
 * frame, the paths frame. */
static int seal(struct cat_files *f)
{
    if (f->n == 0)
        return IMGSTAT_OK;
    unsigned char *z = NULL, head[10];
    size_t zlen = 0, zcap = 0;
    bool ok = squeeze(f, f->names, f->nlen, &z, &zlen, &zcap);
    size_t names = zlen, hlen = ok ? (size_t)(put_varint(head, names) - head) : 0;
    ok = ok && squeeze(f, f->raw, f->rlen, &z, &zlen, &zcap) && grow(&z, &zcap, zlen + hlen);
    if (ok && f->nchunks == f->capchunks) {
        size_t cap = f->capchunks ? 2 * f->capchunks : 64;
        struct chunk *v = realloc(f->chunks, cap * sizeof *v);
        f->chunks = v ? v : f->chunks;
        f->capchunks = v ? cap : f->capchunks;
    }
    if (!ok || f->nchunks == f->capchunks) {
        free(z);
        return IMGSTAT_ENOMEM;
    }
    memmove(z + hlen, z, zlen);
    memcpy(z, head, hlen);
    f->chunks[f->nchunks++] = (struct chunk){z, zlen + hlen, f->n};
    f->rlen = f->nlen = 0;
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
    size_t base = (size_t)len;
    while (base > 0 && path[base - 1] != '/')
        base--;
    if (!grow(&f->raw, &f->rcap, f->rlen + 30 + (size_t)len - shared) ||
        !grow(&f->names, &f->ncap, f->nlen + (size_t)len - base + 1) ||
        !grow(&f->prev, &f->prevcap, (size_t)len))
        return IMGSTAT_ENOMEM;
    memcpy(f->names + f->nlen, path + base, (size_t)len - base);
    f->nlen += (size_t)len - base;
    f->names[f->nlen++] = '\0';
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

/* Walks the front-coded paths of one chunk. */
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

/* One chunk as stored: its two frames, and buffers to decompress them into. */
struct chunk_view {
    const unsigned char *names_z, *paths_z;
    size_t names_zlen, paths_zlen;
    uint32_t n;
};

static bool chunk_parse(const void *blob, size_t len, uint32_t n, struct chunk_view *v)
{
    uint64_t zn;
    const unsigned char *p = blob, *end = p + len;
    if (!blob || !(p = get_varint(p, end, &zn)) || zn > (uint64_t)(end - p))
        return false;
    *v = (struct chunk_view){p, p + zn, (size_t)zn, (size_t)(end - p - zn), n};
    return true;
}

/* Decompress one frame into *raw (grown as needed); -1 when damaged, -2 out of memory. */
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

/* The page being collected: entries kept until the total is known. */
struct page {
    const char *needle;
    size_t nlen;
    uint64_t offset, limit, matched, kept;
    unsigned char *buf; /* per entry: path length (size_t), size (uint64_t), path */
    size_t len, cap;
    unsigned char *names, *paths; /* decompression buffers, reused from chunk to chunk */
    size_t names_cap, paths_cap;
    uint32_t *hits; /* the matching entries of the current chunk */
    struct cursor c;
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

static size_t count_nul(const unsigned char *a, const unsigned char *b)
{
    size_t n = 0;
    for (; a < b; a++)
        n += *a == 0;
    return n;
}

/* Does name[len] contain the needle?  For names one at a time: no setup to amortise. */
static bool name_has(const struct page *pg, const unsigned char *name, size_t len)
{
    const unsigned char *n = (const unsigned char *)pg->needle, *p = name, *last;
    if (pg->nlen > len)
        return false;
    for (last = name + len - pg->nlen; p <= last && (p = memchr(p, n[0], (size_t)(last - p) + 1));
         p++)
        if (memcmp(p + 1, n + 1, pg->nlen - 1) == 0)
            return true;
    return false;
}

/* The entries of a chunk whose name contains the needle, into pg->hits; -1 when damaged.
 * One memmem over the whole frame finds sparse matches fast; once they are dense (a hit
 * every few names) restarting it costs more than testing each remaining name. */
static long name_hits(struct page *pg, const unsigned char *names, size_t len, uint32_t n)
{
    const unsigned char *p = names, *end = names + len, *hit, *z;
    size_t entry = 0, count = 0;
    if (len == 0 || end[-1] != '\0')
        return -1;
    while (count * 4 < entry + 16) {
        if (!(hit = memmem(p, (size_t)(end - p), pg->needle, pg->nlen)))
            return (long)count;     /* no more */
        entry += count_nul(p, hit); /* the needle holds no NUL: a hit is inside one name */
        if (entry >= n)
            return -1;
        pg->hits[count++] = (uint32_t)entry++;
        p = (const unsigned char *)memchr(hit, '\0', (size_t)(end - hit)) + 1;
    }
    for (; p < end; p = z + 1, entry++) { /* dense: name by name */
        z = memchr(p, '\0', (size_t)(end - p));
        if (entry >= n)
            return -1;
        if (name_has(pg, p, (size_t)(z - p)))
            pg->hits[count++] = (uint32_t)entry;
    }
    return (long)count;
}

/* Decode a chunk's paths, keeping entries first.. of it (hits: only those listed) while the
 * page has room. */
static int take_paths(struct page *pg, const struct chunk_view *v, uint64_t first,
                      const uint32_t *hits, size_t nhits)
{
    size_t plen = 0, h = 0;
    int r = unpack(v->paths_z, v->paths_zlen, &pg->paths, &pg->paths_cap, &plen);
    if (r != 0)
        return r;
    pg->c.p = pg->paths;
    pg->c.end = pg->paths + plen;
    pg->c.len = 0;
    for (uint64_t i = 0; (r = cursor_next(&pg->c)) == 1; i++) {
        if ((pg->limit && pg->kept >= pg->limit) || (hits && h >= nhits))
            return 0;
        if (hits && hits[h] != i)
            continue;
        h += hits != NULL;
        if (i >= first && !page_keep(pg, &pg->c))
            return -2;
    }
    return r;
}

/* One chunk through the filter: count its matches, keep those that fall in the page. */
static int filter_chunk(struct page *pg, const struct chunk_view *v)
{
    size_t nlen;
    int r = unpack(v->names_z, v->names_zlen, &pg->names, &pg->names_cap, &nlen);
    long m = r ? r : name_hits(pg, pg->names, nlen, v->n);
    if (m < 0)
        return (int)m;
    uint64_t lo = pg->matched, hi = pg->matched + (uint64_t)m;
    pg->matched = hi;
    bool room = !pg->limit || pg->kept < pg->limit;
    if (m == 0 || !room || hi <= pg->offset)
        return 0;
    /* the page starts at the (offset - lo)th hit of this chunk */
    uint64_t skip = pg->offset > lo ? pg->offset - lo : 0;
    return take_paths(pg, v, 0, pg->hits + skip, (size_t)((uint64_t)m - skip));
}

static const char SQL_TOTAL[] = "SELECT coalesce(sum(nfiles), 0) FROM image_files WHERE image = ?1";
static const char SQL_CHUNKS[] =
    "SELECT nfiles, data FROM image_files WHERE image = ?1 AND seq >= ?2 ORDER BY seq";

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
    if (!(pg->hits = malloc(CAT_FILES_PER_CHUNK * sizeof *pg->hits)))
        r = -2;
    while (r == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (!pg->nlen && pg->limit && pg->kept >= pg->limit)
            break; /* without a filter the total is known: stop at the page's end */
        struct chunk_view v;
        int64_t n = sqlite3_column_int64(st, 0);
        if (n <= 0 || n > CAT_FILES_PER_CHUNK ||
            !chunk_parse(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                         (uint32_t)n, &v))
            r = -1;
        else
            r = pg->nlen ? filter_chunk(pg, &v) : take_paths(pg, &v, skip, NULL, 0);
        skip = 0;
    }
    sqlite3_reset(st);
    free(pg->names);
    free(pg->paths);
    free(pg->hits);
    free(pg->c.path);
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

/* Hand the kept entries to fn (none without fn: a count). */
static int page_emit(const struct page *pg, imgstat_file_fn fn, void *ctx)
{
    for (size_t off = 0; fn && off < pg->len;) {
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
    struct page pg = {
        .needle = needle, .nlen = needle ? strlen(needle) : 0, .offset = offset, .limit = limit};
    int rc;
    if (pg.nlen) {
        rc = page_scan(d, image, &pg, 0, 0, e);
        *total = pg.matched;
    } else if ((rc = page_total(d, image, total, e)) == IMGSTAT_OK && offset < *total) {
        /* every chunk but the last holds CAT_FILES_PER_CHUNK entries: start at offset's */
        rc =
            page_scan(d, image, &pg, offset / CAT_FILES_PER_CHUNK, offset % CAT_FILES_PER_CHUNK, e);
    }
    if (rc == IMGSTAT_OK)
        rc = page_emit(&pg, fn, ctx);
    free(pg.buf);
    return rc;
}
