/*
 * tar: the layer tar reader (see tar.h).  It follows Go's archive/tar reader.go function by
 * function: tar_next() is Reader.next(), read_header() readHeader(), finish() the default
 * branch of next() with handleRegularFile and handleSparseFile; pax records, numbers and
 * sparse maps are in tar_pax.c.  What the runtimes then do with an entry (T11) is emit().
 */
#include "tar_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"
#include "path.h"

/* A header's own name: the ustar prefix (155), '/', the name field (100). */
#define HDR_NAME_MAX (155 + 1 + 100)
/* The old GNU sparse fields, from byte 386 of the header to its end (map, realsize). */
#define GNU_SPARSE_AT 386
#define GNU_REALSIZE_AT 483

enum tar_fmt { F_V7 = 1, F_USTAR, F_GNU, F_STAR };

/* What readHeader gives: the fields imgstat needs, copied out of the block. */
struct tar_hdr {
    unsigned char type, fmt;
    int64_t size;
    size_t name_len, link_len;
    char name[HDR_NAME_MAX + 1], link[101];
    unsigned char gnusp[TAR_BLOCK - GNU_SPARSE_AT];
};

/* One entry as Go's Next() returns it, before the runtimes look at it. */
struct tar_ent {
    unsigned char type;
    struct tstr name, link;
    int64_t size;      /* logical */
    int64_t phys, pad; /* data bytes left to skip, then the padding to a block */
    bool mismatch;     /* sparse: the map does not account for the data exactly */
    bool name_may_nul; /* the name came from GNU.sparse.name, which may hold a NUL */
};

int tar_bad(struct tar_rd *rd, struct err *e, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(e, IMGSTAT_EINPUT, "tar at byte %llu: %s", (unsigned long long)rd->pos, msg);
}

/* ---- input ---------------------------------------------------------------------------------- */

/* The source's next buffer: 1, or 0 at its end. */
static int fill(struct tar_rd *rd, struct err *e)
{
    if (rd->eof)
        return 0;
    const unsigned char *b;
    ssize_t n = rd->src->read(rd->src->ctx, &b, e);
    if (n < 0)
        return (int)n;
    if (n == 0) {
        rd->eof = true;
        return 0;
    }
    rd->buf = b;
    rd->len = (size_t)n;
    return 1;
}

int tar_take_block(struct tar_rd *rd, const unsigned char **blk, size_t *got, struct err *e)
{
    if (rd->len >= TAR_BLOCK) { /* the usual case: no copy */
        *blk = rd->buf;
        *got = TAR_BLOCK;
    } else {
        size_t have = 0;
        while (have < TAR_BLOCK) {
            int rc = rd->len ? 1 : fill(rd, e);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            size_t n = rd->len < TAR_BLOCK - have ? rd->len : TAR_BLOCK - have;
            memcpy(rd->blk + have, rd->buf, n);
            rd->buf += n;
            rd->len -= n;
            rd->pos += n;
            have += n;
        }
        *blk = rd->blk;
        *got = have;
        return IMGSTAT_OK;
    }
    rd->buf += TAR_BLOCK;
    rd->len -= TAR_BLOCK;
    rd->pos += TAR_BLOCK;
    return IMGSTAT_OK;
}

/* Skip n bytes; *done is how many there were (fewer than n at the end of the source). */
static int skip(struct tar_rd *rd, uint64_t n, uint64_t *done, struct err *e)
{
    uint64_t left = n;
    while (left) {
        if (rd->len) {
            size_t k = rd->len < left ? rd->len : (size_t)left;
            rd->buf += k;
            rd->len -= k;
            rd->pos += k;
            left -= k;
        } else if (rd->src->skip && !rd->eof) {
            int64_t k = rd->src->skip(rd->src->ctx, left, e);
            if (k < 0)
                return (int)k;
            rd->pos += (uint64_t)k;
            rd->eof = (uint64_t)k < left; /* a short skip: the source has ended */
            left -= (uint64_t)k;
        } else {
            int rc = fill(rd, e);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
        }
    }
    *done = n - left;
    return IMGSTAT_OK;
}

/* The body of an x, g, L or K header, whole, into g (NUL-terminated). */
static int read_special(struct tar_rd *rd, struct gbuf *g, int64_t nb, struct err *e)
{
    /* readSpecialFile: more than maxSpecialFileSize is ErrFieldTooLong (T5) */
    if (nb > (int64_t)TAR_MAX_SPECIAL)
        return tar_bad(rd, e,
                       "a pax or GNU long-name header of %lld bytes, more than Go's "
                       "1 MiB (maxSpecialFileSize)",
                       (long long)nb);
    if (g->cap < (size_t)nb + 1) {
        size_t cap = g->cap ? g->cap : 4096;
        while (cap < (size_t)nb + 1)
            cap *= 2;
        char *p = realloc(g->p, cap);
        if (!p)
            return err_nomem(e);
        g->p = p;
        g->cap = cap;
    }
    g->n = 0;
    while (g->n < (size_t)nb) {
        int rc = rd->len ? 1 : fill(rd, e);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return tar_bad(rd, e, "unexpected end of data in a pax or GNU header (truncated?)");
        size_t k = rd->len < (size_t)nb - g->n ? rd->len : (size_t)nb - g->n;
        memcpy(g->p + g->n, rd->buf, k);
        rd->buf += k;
        rd->len -= k;
        rd->pos += k;
        g->n += k;
    }
    g->p[g->n] = '\0';
    return IMGSTAT_OK;
}

/* The padding after an entry's data.  Go reads it with tryReadFull: when the source ends in
 * it, that is the end of the archive, not an error (T9); the next header read says so. */
static int skip_pad(struct tar_rd *rd, int64_t nb, struct err *e)
{
    uint64_t done;
    return skip(rd, (uint64_t)(-nb & (TAR_BLOCK - 1)), &done, e);
}

/* ---- headers (readHeader) ------------------------------------------------------------------ */

static bool header_only(unsigned char type)
{
    /* isHeaderOnlyType: links, devices, directories and fifos have no data (T8) */
    return type >= '1' && type <= '6';
}

static bool zero_block(const unsigned char *b)
{
    static const unsigned char zero[TAR_BLOCK];
    return b[0] == 0 && b[148] == 0 && memcmp(b, zero, TAR_BLOCK) == 0;
}

/* getFormat: the checksum, as the sum of unsigned or of signed bytes, then the magic (T1). */
static int block_format(const unsigned char *b)
{
    int64_t want;
    if (!tar_octal(b + 148, 8, &want))
        return 0;
    /* the sum of the bytes as unsigned, and the count of those >= 0x80, each taking 256 off
     * the sum as signed bytes (old Sun tar).  Eight bytes at a time: sums in 16-bit lanes
     * (at most 64 * 510), high bits in 8-bit lanes (at most 64). */
    uint64_t lanes = 0, highs = 0;
    for (size_t i = 0; i < TAR_BLOCK; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        lanes += (w & 0x00ff00ff00ff00ffull) + ((w >> 8) & 0x00ff00ff00ff00ffull);
        highs += (w >> 7) & 0x0101010101010101ull;
    }
    uint32_t u = (uint32_t)((lanes * 0x0001000100010001ull) >> 48);
    uint32_t high = (uint32_t)((highs * 0x0101010101010101ull) >> 56);
    for (size_t i = 148; i < 156; i++) { /* the field itself counts as spaces */
        u += (uint32_t)' ' - b[i];
        high -= b[i] >> 7;
    }
    int64_t s = (int64_t)u - 256 * (int64_t)high;
    if (want != (int64_t)u && want != s)
        return 0;
    if (memcmp(b + 257, "ustar\0", 6) == 0)
        return memcmp(b + 508, "tar\0", 4) == 0 ? F_STAR : F_USTAR;
    if (memcmp(b + 257, "ustar  \0", 8) == 0)
        return F_GNU;
    return F_V7;
}

/* parseString: up to the first NUL. */
static size_t cstr(const unsigned char *b, size_t n)
{
    const unsigned char *nul = memchr(b, 0, n);
    return nul ? (size_t)(nul - b) : n;
}

/* The prefix Go joins to the name (T2): ustar and star headers have one; GNU headers do not,
 * unless their atime or ctime do not parse (Go reads them as a prefix then, for archives
 * of Go < 1.8, and only if it is ASCII). */
static size_t name_prefix(const unsigned char *b, int fmt, bool *ok)
{
    int64_t v;
    if (fmt == F_USTAR)
        return cstr(b + 345, 155);
    if (fmt == F_STAR) {
        *ok = *ok && tar_numeric(b + 476, 12, &v) && tar_numeric(b + 488, 12, &v);
        return cstr(b + 345, 131);
    }
    bool times =
        (!b[345] || tar_numeric(b + 345, 12, &v)) && (!b[357] || tar_numeric(b + 357, 12, &v));
    if (times)
        return 0;
    size_t n = cstr(b + 345, 155);
    for (size_t i = 0; i < n; i++)
        if (b[345 + i] >= 0x80)
            return 0;
    return n;
}

static bool parse_header(const unsigned char *b, int fmt, struct tar_hdr *h)
{
    int64_t v;
    bool ok = tar_numeric(b + 124, 12, &h->size) && tar_numeric(b + 100, 8, &v) &&
              tar_numeric(b + 108, 8, &v) && tar_numeric(b + 116, 8, &v) &&
              tar_numeric(b + 136, 12, &v);
    h->type = b[156];
    h->fmt = (unsigned char)fmt;
    size_t nlen = cstr(b, 100), plen = 0;
    h->link_len = cstr(b + 157, 100);
    memcpy(h->link, b + 157, h->link_len);
    if (fmt > F_V7) {
        ok = ok && tar_numeric(b + 329, 8, &v) && tar_numeric(b + 337, 8, &v);
        if ((plen = name_prefix(b, fmt, &ok))) {
            memcpy(h->name, b + 345, plen);
            h->name[plen++] = '/';
        }
    }
    memcpy(h->name + plen, b, nlen);
    h->name_len = plen + nlen;
    if (h->type == 'S')
        memcpy(h->gnusp, b + GNU_SPARSE_AT, sizeof h->gnusp);
    return ok;
}

/* The next header: 1, or 0 at the end of the archive (T9). */
static int read_header(struct tar_rd *rd, struct tar_hdr *h, struct err *e)
{
    const unsigned char *b;
    size_t got;
    if (tar_take_block(rd, &b, &got, e) != IMGSTAT_OK)
        return e->code;
    if (got == 0)
        return 0;
    if (got == TAR_BLOCK && zero_block(b)) {
        if (tar_take_block(rd, &b, &got, e) != IMGSTAT_OK)
            return e->code;
        if (got == 0 || (got == TAR_BLOCK && zero_block(b)))
            return 0;
        if (got == TAR_BLOCK)
            return tar_bad(rd, e, "a zero block followed by a header (Go: invalid tar header)");
    }
    if (got < TAR_BLOCK)
        return tar_bad(rd, e, "unexpected end of data in a tar header (truncated?)");
    int fmt = block_format(b);
    if (!fmt)
        return tar_bad(rd, e, "invalid tar header (bad checksum)");
    if (!parse_header(b, fmt, h))
        return tar_bad(rd, e, "invalid tar header (a numeric field Go cannot parse)");
    return 1;
}

/* ---- one entry (next) ------------------------------------------------------------------------ */

/* handleSparseFile: the map of an old GNU 'S' header or of GNU.sparse pax records (T10).
 * Sets x->size to the logical size, and x->phys to the data left after a 1.0 map. */
static int sparse(struct tar_rd *rd, const struct tar_hdr *h, struct tar_ent *x, struct err *e)
{
    struct tar_pax *px = rd->px.set ? &rd->px : NULL;
    struct tar_sparse sp = {0};
    int kind = 0, rc = IMGSTAT_OK;
    if (x->type == 'S') {
        if (h->fmt != F_GNU)
            return tar_bad(rd, e, "a sparse 'S' header that is not in GNU format");
        if (!tar_numeric(h->gnusp + (GNU_REALSIZE_AT - GNU_SPARSE_AT), 12, &x->size))
            return tar_bad(rd, e, "invalid old GNU sparse header (real size)");
        sp.size = x->size;
        rc = tar_sparse_old(rd, h->gnusp, &sp, e);
    } else if (px && (kind = tar_pax_sparse_kind(px))) {
        if (px->sp_name.n) {
            x->name = px->sp_name;
            x->name_may_nul = true;
        }
        struct tstr s = px->sp_size.n ? px->sp_size : px->sp_realsize;
        if (s.n && !tar_atoi64(s.p, s.n, &x->size))
            return tar_bad(rd, e, "invalid pax sparse header: its size is not a number");
        sp.size = x->size;
        rc = kind == 2 ? tar_sparse_map10(rd, &x->phys, &sp, e) : tar_sparse_map01(px, &sp, e);
    } else {
        return IMGSTAT_OK;
    }
    if (rc != IMGSTAT_OK)
        return rc;
    if (header_only(x->type) || sp.size < 0 || sp.bad)
        return tar_bad(rd, e, "invalid sparse map (Go: invalid tar header)");
    x->mismatch = sp.data != x->phys;
    return IMGSTAT_OK;
}

/* The entry a header describes, with what came before it merged in (T3, T4, T7, T8). */
static int finish(struct tar_rd *rd, const struct tar_hdr *h, struct tar_ent *x, struct err *e)
{
    struct tar_pax *px = rd->px.set ? &rd->px : NULL;
    *x = (struct tar_ent){.type = h->type, .size = h->size};
    x->name = (struct tstr){h->name, h->name_len};
    x->link = (struct tstr){h->link, h->link_len};
    if (px) {
        if (tar_pax_check(px, e) != IMGSTAT_OK)
            return err_prefix(e, "tar at byte %llu", (unsigned long long)rd->pos);
        if (px->path.n)
            x->name = px->path;
        if (px->linkpath.n)
            x->link = px->linkpath;
        if (px->size.n)
            tar_atoi64(px->size.p, px->size.n, &x->size);
    }
    /* GNU long names win over pax records whatever their order (T4) */
    if (rd->lname.n)
        x->name = (struct tstr){rd->lname.p, rd->lname.n};
    if (rd->llink.n)
        x->link = (struct tstr){rd->llink.p, rd->llink.n};
    if (x->type == '\0') /* T7: the old regular-file flag; a trailing '/' makes a directory */
        x->type = x->name.n && x->name.p[x->name.n - 1] == '/' ? '5' : '0';
    int64_t nb = header_only(x->type) ? 0 : x->size;
    if (nb < 0)
        return tar_bad(rd, e, "negative size");
    x->phys = nb;
    x->pad = -nb & (TAR_BLOCK - 1);
    return sparse(rd, h, x, e);
}

/* Go's Reader.next(): 1 with *x set, 0 at the end, 2 for a 'g' header (an entry of its own
 * that the runtimes ignore, T6), or a negative code. */
static int tar_next(struct tar_rd *rd, struct tar_hdr *h, struct tar_ent *x, struct err *e)
{
    rd->px.set = false;
    rd->lname.n = rd->llink.n = 0;
    for (;;) {
        int rc = read_header(rd, h, e);
        if (rc <= 0)
            return rc;
        int64_t nb = header_only(h->type) ? 0 : h->size;
        if (nb < 0)
            return tar_bad(rd, e, "negative size");
        switch (h->type) {
        case 'x':
        case 'g':
            /* T3: a later 'x' replaces the records of an earlier one whole */
            if ((rc = read_special(rd, &rd->pax, nb, e)) != IMGSTAT_OK ||
                (rc = tar_pax_parse(rd, rd->pax.p, rd->pax.n, e)) != IMGSTAT_OK ||
                (rc = skip_pad(rd, nb, e)) != IMGSTAT_OK)
                return rc;
            if (h->type == 'g')
                return 2;
            continue;
        case 'L':
        case 'K': {
            struct gbuf *g = h->type == 'L' ? &rd->lname : &rd->llink;
            if ((rc = read_special(rd, g, nb, e)) != IMGSTAT_OK ||
                (rc = skip_pad(rd, nb, e)) != IMGSTAT_OK)
                return rc;
            g->n = cstr((const unsigned char *)g->p, g->n); /* the last one wins (T4) */
            continue;
        }
        default: return finish(rd, h, x, e) == IMGSTAT_OK ? 1 : e->code;
        }
    }
}

/* ---- what the runtimes do with an entry ------------------------------------------------- */

static const char *type_name(unsigned char t)
{
    switch (t) {
    case '7': return "'7' (contiguous file)";
    case 'S': return "'S' (old GNU sparse file)";
    case 'D': return "'D' (GNU dump directory)";
    case 'M': return "'M' (GNU multi-volume continuation)";
    case 'N': return "'N' (old GNU long name)";
    case 'V': return "'V' (GNU volume label)";
    default: return NULL;
    }
}

/* An entry Docker, containerd and umoci would not create: its type is unknown, its sparse data
 * does not match its map, or it is a symlink to "" (Linux refuses those: ENOENT).  They apply
 * whiteouts by name before they look at the rest (T11), and skip the root (N3); anything else fails
 * the layer. */
static int odd_entry(const struct tar_ent *x, struct layer_entry *ent, layer_sink sink, void *ctx,
                     struct err *e)
{
    int n = (int)(x->name.n > 200 ? 200 : x->name.n);
    char norm[PATH_MAX_BYTES + 1];
    bool clamped;
    long len = path_normalize(x->name.p, x->name.n, norm, &clamped);
    if (len == 0)
        return IMGSTAT_OK;
    if (len > 0 && wh_classify(norm, (size_t)len) != WH_NONE) {
        if (!ent->type)
            ent->type = ENT_OTHER;
        return sink(ctx, ent, e);
    }
    if (x->mismatch)
        return err_set(e, IMGSTAT_EINPUT,
                       "'%.*s': sparse file whose map does not account for its %lld stored bytes "
                       "(Go: sparse file references non-existent or unreferenced data)",
                       n, x->name.p, (long long)x->phys);
    if (ent->type == ENT_SYMLINK)
        return err_set(e, IMGSTAT_EINPUT,
                       "'%.*s': a symlink with an empty target, which symlink(2) refuses", n,
                       x->name.p);
    const char *tn = type_name(x->type);
    char buf[32];
    if (!tn) {
        snprintf(buf, sizeof buf, "'\\x%02x'", x->type);
        tn = buf;
    }
    return err_set(e, IMGSTAT_EINPUT,
                   "'%.*s': tar entry type %s, which Docker, containerd and umoci refuse", n,
                   x->name.p, tn);
}

static int emit(const struct tar_ent *x, layer_sink sink, void *ctx, struct err *e)
{
    static const uint8_t types[] = {ENT_REG, ENT_HARDLINK, ENT_SYMLINK, ENT_CHR,
                                    ENT_BLK, ENT_DIR,      ENT_FIFO};
    struct layer_entry ent = {.path = x->name.p, .path_len = x->name.n};
    if (x->type >= '0' && x->type <= '6')
        ent.type = types[x->type - '0'];
    if (ent.type == ENT_REG)
        ent.size = (uint64_t)x->size;
    if (ent.type == ENT_HARDLINK || ent.type == ENT_SYMLINK) {
        ent.link = x->link.p;
        ent.link_len = x->link.n;
    }
    if (x->name_may_nul && memchr(x->name.p, 0, x->name.n)) /* T12 */
        return err_set(e, IMGSTAT_EINPUT, "'%.*s': a name with a NUL byte in it",
                       (int)(x->name.n > 200 ? 200 : x->name.n), x->name.p);
    if (!ent.type || x->mismatch || (ent.type == ENT_SYMLINK && !ent.link_len))
        return odd_entry(x, &ent, sink, ctx, e);
    return sink(ctx, &ent, e);
}

int tar_walk(const struct byte_src *src, layer_sink sink, void *ctx, uint64_t *tar_bytes,
             struct err *e)
{
    struct tar_rd rd = {.src = src};
    struct tar_hdr h;
    struct tar_ent x;
    int rc;
    while ((rc = tar_next(&rd, &h, &x, e)) > 0) {
        if (rc == 2)
            continue;
        if ((rc = emit(&x, sink, ctx, e)) != IMGSTAT_OK)
            break;
        /* the data is skipped after the entry, as Go's next Next() discards it: it must all
         * be there (T9) */
        uint64_t done;
        if ((rc = skip(&rd, (uint64_t)x.phys, &done, e)) != IMGSTAT_OK)
            break;
        if (done < (uint64_t)x.phys) {
            rc = tar_bad(&rd, e, "unexpected end of data in '%.*s' (truncated?)",
                         (int)(x.name.n > 200 ? 200 : x.name.n), x.name.p);
            break;
        }
        if ((rc = skip(&rd, (uint64_t)x.pad, &done, e)) != IMGSTAT_OK)
            break;
    }
    if (tar_bytes)
        *tar_bytes = rd.pos;
    free(rd.pax.p);
    free(rd.lname.p);
    free(rd.llink.p);
    free(rd.spmap.p);
    return rc < 0 ? rc : IMGSTAT_OK;
}
