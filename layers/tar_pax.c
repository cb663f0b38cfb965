/*
 * tar_pax: Go's number parsing, pax records and sparse maps, for tar.c.  Each function
 * names the Go function (archive/tar, Go 1.21+) whose behaviour it reproduces; where Go
 * keeps a list (a sparse map), this file keeps only what the count needs, so nothing here
 * allocates but the joined map of a sparse 0.0 header.
 */
#include "tar_impl.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"

/* ---- Go's numbers ------------------------------------------------------------------------ */

bool tar_atoi64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)((unsigned char)s[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX + neg)
        return false;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

bool tar_octal(const unsigned char *b, size_t n, int64_t *out)
{
    if (n > 21) /* a tar field is at most 12 bytes; 21 octal digits would overflow */
        return false;
    /* Go trims spaces and NULs at both ends, cuts at the first NUL, then wants octal digits
     * only.  In one pass: leading spaces and NULs, digits, then a NUL (the cut), or spaces
     * and NULs to the end (the trim), or the end. */
    size_t i = 0;
    while (i < n && (b[i] == ' ' || b[i] == 0))
        i++;
    uint64_t v = 0;
    for (; i < n && b[i] >= '0' && b[i] <= '7'; i++) /* <= 12 digits: no overflow */
        v = v * 8 + (unsigned)(b[i] - '0');
    *out = (int64_t)v;
    if (i == n || b[i] == 0)
        return true;
    for (; i < n; i++)
        if (b[i] != ' ' && b[i] != 0)
            return false;
    return true;
}

bool tar_numeric(const unsigned char *b, size_t n, int64_t *out)
{
    if (n == 0 || !(b[0] & 0x80))
        return tar_octal(b, n, out);
    /* base-256, two's complement: the second bit of the first byte is the sign */
    unsigned char inv = (b[0] & 0x40) ? 0xff : 0;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(b[i] ^ inv);
        if (i == 0)
            c &= 0x7f;
        if (x >> 56)
            return false;
        x = x << 8 | c;
    }
    if (x >> 63)
        return false;
    *out = inv ? ~(int64_t)x : (int64_t)x;
    return true;
}

/* parsePAXTime: seconds as ParseInt, then '.' and decimal digits only. */
static bool pax_time_ok(struct tstr v)
{
    const char *dot = memchr(v.p, '.', v.n);
    size_t secs = dot ? (size_t)(dot - v.p) : v.n;
    int64_t ignored;
    if (!tar_atoi64(v.p, secs, &ignored))
        return false;
    for (size_t i = secs + 1; i < v.n; i++)
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
    return true;
}

/* ---- pax records --------------------------------------------------------------------------- */

static bool is(struct tstr s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* Where a record's value goes, for the keys that matter; NULL for the others. */
static struct tstr *pax_slot(struct tar_pax *px, struct tstr k)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"path", offsetof(struct tar_pax, path)},
        {"linkpath", offsetof(struct tar_pax, linkpath)},
        {"size", offsetof(struct tar_pax, size)},
        {"uid", offsetof(struct tar_pax, uid)},
        {"gid", offsetof(struct tar_pax, gid)},
        {"atime", offsetof(struct tar_pax, atime)},
        {"mtime", offsetof(struct tar_pax, mtime)},
        {"ctime", offsetof(struct tar_pax, ctime)},
        {"GNU.sparse.major", offsetof(struct tar_pax, sp_major)},
        {"GNU.sparse.minor", offsetof(struct tar_pax, sp_minor)},
        {"GNU.sparse.name", offsetof(struct tar_pax, sp_name)},
        {"GNU.sparse.size", offsetof(struct tar_pax, sp_size)},
        {"GNU.sparse.realsize", offsetof(struct tar_pax, sp_realsize)},
        {"GNU.sparse.numblocks", offsetof(struct tar_pax, sp_numblocks)},
        {"GNU.sparse.map", offsetof(struct tar_pax, sp_map)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (is(k, keys[i].key))
            return (struct tstr *)(void *)((char *)px + keys[i].off);
    return NULL;
}

/* parsePAXRecord + validPAXRecord: one "%d %s=%s\n" record at s; *used is its length. */
static bool pax_record(const char *s, size_t left, struct tstr *k, struct tstr *v, size_t *used)
{
    const char *sp = memchr(s, ' ', left);
    if (!sp)
        return false;
    size_t nlen = (size_t)(sp - s);
    int64_t n;
    if (!tar_atoi64(s, nlen, &n) || n < 5 || (uint64_t)n > left)
        return false;
    n -= (int64_t)nlen + 1; /* from an index in s to one in what follows the space */
    if (n <= 0 || sp[n] != '\n')
        return false;
    const char *rec = sp + 1, *eq = memchr(rec, '=', (size_t)n - 1);
    if (!eq || eq == rec)
        return false;
    *k = (struct tstr){rec, (size_t)(eq - rec)};
    *v = (struct tstr){eq + 1, (size_t)(rec + n - 1 - (eq + 1))};
    *used = nlen + 1 + (size_t)n;
    /* NUL is refused in keys, and in the values of the four string fields (Go's validPAXRecord) */
    if (is(*k, "path") || is(*k, "linkpath") || is(*k, "uname") || is(*k, "gname"))
        return !memchr(v->p, 0, v->n);
    return !memchr(k->p, 0, k->n);
}

/* GNU sparse 0.0 writes its map as alternating offset and numbytes records: Go joins their
 * values with commas into GNU.sparse.map, after checking the order and that no value holds a
 * comma. */
static int pax_pair(struct tar_rd *rd, struct tstr k, struct tstr v, size_t body_len, size_t *pairs,
                    struct err *e)
{
    bool want_off = *pairs % 2 == 0;
    if (want_off != is(k, "GNU.sparse.offset") || memchr(v.p, ',', v.n))
        return tar_bad(rd, e, "invalid pax header: GNU.sparse.offset/numbytes out of order");
    struct gbuf *m = &rd->spmap;
    if (*pairs == 0) {
        m->n = 0;
        if (m->cap < body_len + 1) {
            char *p = realloc(m->p, body_len + 1);
            if (!p)
                return err_nomem(e);
            m->p = p;
            m->cap = body_len + 1;
        }
    }
    if (*pairs)
        m->p[m->n++] = ',';
    memcpy(m->p + m->n, v.p, v.n); /* the joined values are shorter than the records */
    m->n += v.n;
    ++*pairs;
    return IMGSTAT_OK;
}

int tar_pax_parse(struct tar_rd *rd, const char *body, size_t len, struct err *e)
{
    struct tar_pax *px = &rd->px;
    memset(px, 0, sizeof *px);
    px->set = true;
    size_t pairs = 0, used;
    while (len > 0) {
        struct tstr k, v;
        if (!pax_record(body, len, &k, &v, &used))
            return tar_bad(rd, e, "invalid pax header record (Go's archive/tar refuses it)");
        if (is(k, "GNU.sparse.offset") || is(k, "GNU.sparse.numbytes")) {
            if (pax_pair(rd, k, v, len, &pairs, e) != IMGSTAT_OK)
                return e->code;
        } else {
            struct tstr *slot = pax_slot(px, k);
            if (slot)
                *slot = v;
        }
        body += used;
        len -= used;
    }
    if (pairs)
        px->sp_map = (struct tstr){rd->spmap.p, rd->spmap.n};
    return IMGSTAT_OK;
}

int tar_pax_check(const struct tar_pax *px, struct err *e)
{
    static const char *const names[] = {"uid", "gid", "size", "atime", "mtime", "ctime"};
    const struct tstr *v[] = {&px->uid, &px->gid, &px->size, &px->atime, &px->mtime, &px->ctime};
    int64_t ignored;
    for (size_t i = 0; i < 6; i++) {
        /* an empty value keeps the header's (mergePAX) */
        bool ok = !v[i]->n || (i < 3 ? tar_atoi64(v[i]->p, v[i]->n, &ignored) : pax_time_ok(*v[i]));
        if (!ok)
            return err_set(e, IMGSTAT_EINPUT, "invalid pax header: %s is not a number", names[i]);
    }
    return IMGSTAT_OK;
}

/* ---- sparse maps ------------------------------------------------------------------------- */

void tar_sparse_add(struct tar_sparse *sp, int64_t off, int64_t len)
{
    /* validateSparseEntries: no negative values, no overflow, inside the size, in order */
    if (sp->bad || off < 0 || len < 0 || off > INT64_MAX - len || off + len > sp->size ||
        sp->pre_end > off) {
        sp->bad = true;
        return;
    }
    sp->pre_end = off + len;
    sp->data += len;
}

int tar_pax_sparse_kind(const struct tar_pax *px)
{
    if (is(px->sp_major, "0") && (is(px->sp_minor, "0") || is(px->sp_minor, "1")))
        return 1;
    if (is(px->sp_major, "1") && is(px->sp_minor, "0"))
        return 2;
    if (px->sp_major.n || px->sp_minor.n)
        return 0; /* an unknown version: a regular file (readGNUSparsePAXHeaders) */
    return px->sp_map.n ? 1 : 0;
}

/* A count of entries as Go reads it: non-negative, and 2n must not overflow. */
static bool sparse_count(const char *s, size_t n, int64_t *out)
{
    return tar_atoi64(s, n, out) && *out >= 0 && *out < ((int64_t)1 << 62);
}

int tar_sparse_map01(const struct tar_pax *px, struct tar_sparse *sp, struct err *e)
{
    int64_t count;
    if (!sparse_count(px->sp_numblocks.p, px->sp_numblocks.n, &count))
        return err_set(e, IMGSTAT_EINPUT, "invalid pax sparse header: GNU.sparse.numblocks");
    const char *s = px->sp_map.p, *end = px->sp_map.n ? s + px->sp_map.n : s; /* p may be NULL */
    uint64_t fields = 0; /* strings.Split(map, ","), where "" has no field */
    for (size_t i = 0; i < px->sp_map.n; i++)
        fields += s[i] == ',';
    fields += px->sp_map.n > 0;
    if (fields != 2 * (uint64_t)count)
        return err_set(e, IMGSTAT_EINPUT,
                       "invalid pax sparse header: GNU.sparse.map does not "
                       "hold GNU.sparse.numblocks pairs");
    int64_t v[2];
    for (uint64_t i = 0; i < fields; i++) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *stop = comma ? comma : end;
        if (!tar_atoi64(s, (size_t)(stop - s), &v[i % 2]))
            return err_set(e, IMGSTAT_EINPUT, "invalid pax sparse header: GNU.sparse.map");
        if (i % 2)
            tar_sparse_add(sp, v[0], v[1]);
        s = comma ? comma + 1 : end;
    }
    return IMGSTAT_OK;
}

/* A decimal token of the 1.0 map, parsed byte by byte as strconv.ParseInt would. */
struct tok {
    bool neg, signed_, bad;
    unsigned len;
    uint64_t v;
};

static void tok_byte(struct tok *t, unsigned char c)
{
    if (t->len++ == 0 && (c == '+' || c == '-')) {
        t->signed_ = true;
        t->neg = c == '-';
        return;
    }
    unsigned d = (unsigned)(c - '0');
    if (d > 9 || t->v > (UINT64_MAX - d) / 10)
        t->bad = true;
    else
        t->v = t->v * 10 + d;
}

static bool tok_end(struct tok *t, int64_t *out)
{
    bool ok = !t->bad && t->len > (unsigned)t->signed_ && t->v <= (uint64_t)INT64_MAX + t->neg;
    if (ok)
        *out =
            t->neg ? (t->v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)t->v) : (int64_t)t->v;
    memset(t, 0, sizeof *t);
    return ok;
}

/* One newline-ended token of the map: the count first, then offset and length pairs. */
static int map10_token(struct tar_rd *rd, struct tok *t, int64_t i, int64_t *need, int64_t *off,
                       struct tar_sparse *sp, struct err *e)
{
    int64_t v;
    bool ok = tok_end(t, &v);
    if (i == 0) {
        if (!ok || v < 0 || v >= ((int64_t)1 << 62))
            return tar_bad(rd, e, "invalid GNU sparse 1.0 map: bad entry count");
        *need = 1 + 2 * v;
    } else if (!ok) {
        return tar_bad(rd, e, "invalid GNU sparse 1.0 map: bad number");
    } else if (i % 2) {
        *off = v;
    } else {
        tar_sparse_add(sp, *off, v);
    }
    return IMGSTAT_OK;
}

int tar_sparse_map10(struct tar_rd *rd, int64_t *phys, struct tar_sparse *sp, struct err *e)
{
    /* Go reads whole blocks until they hold as many newlines as it needs tokens (feedTokens):
     * one for the count, then two per entry; the rest of the last block is not map. */
    int64_t need = 1, seen = 0, tokens = 0, off = 0;
    size_t total = 0;
    struct tok t = {0};
    while (seen < need) {
        total += TAR_BLOCK;
        if (total > TAR_MAX_SPECIAL)
            return tar_bad(rd, e, "GNU sparse 1.0 map longer than 1 MiB (Go's errSparseTooLong)");
        const unsigned char *b;
        size_t got;
        if (*phys < TAR_BLOCK)
            return tar_bad(rd, e, "GNU sparse 1.0 map runs past its entry's data");
        if (tar_take_block(rd, &b, &got, e) != IMGSTAT_OK)
            return e->code;
        if (got < TAR_BLOCK)
            return tar_bad(rd, e, "unexpected end of data in a sparse map (truncated?)");
        *phys -= TAR_BLOCK;
        for (size_t i = 0; i < TAR_BLOCK; i++) {
            if (b[i] != '\n') {
                if (tokens < need)
                    tok_byte(&t, b[i]);
                continue;
            }
            seen++;
            if (tokens < need && map10_token(rd, &t, tokens++, &need, &off, sp, e) != IMGSTAT_OK)
                return e->code;
        }
    }
    return IMGSTAT_OK;
}

int tar_sparse_old(struct tar_rd *rd, const unsigned char *map, struct tar_sparse *sp,
                   struct err *e)
{
    /* the header holds 4 entries and an "extended" byte; each extension block 21 and one;
     * Go stops reading them at 1 MiB of map (errSparseTooLong, Go 1.24.8/1.25.2) */
    const unsigned char *s = map;
    size_t entries = 4, total = 4 * 24 + 1;
    while (total < TAR_MAX_SPECIAL) {
        for (size_t i = 0; i < entries && s[24 * i] != 0; i++) {
            int64_t off, len;
            if (!tar_numeric(s + 24 * i, 12, &off) || !tar_numeric(s + 24 * i + 12, 12, &len))
                return tar_bad(rd, e, "invalid old GNU sparse map entry");
            tar_sparse_add(sp, off, len);
        }
        if (s[24 * entries] == 0)
            return IMGSTAT_OK;
        size_t got;
        if (tar_take_block(rd, &s, &got, e) != IMGSTAT_OK)
            return e->code;
        if (got < TAR_BLOCK)
            return tar_bad(rd, e, "unexpected end of data in a sparse map (truncated?)");
        entries = 21;
        total += TAR_BLOCK;
    }
    return tar_bad(rd, e, "old GNU sparse map longer than 1 MiB (Go's errSparseTooLong)");
}
