/*
 * Records as self-contained bytes, to store a layer's entries by its blob digest (S7):
 *
 *   "IMGR"      magic
 *   version     1 byte, REC_FORMAT_VERSION
 *   ndirs       varint, then each directory in order, ids 1..ndirs:
 *                 parent varint (0, or an id smaller than its own), segment (varint
 *                 length, bytes without '/')
 *   nentries    varint, then each entry as record_impl.h describes it, dir ids being
 *               those above
 *   checksum    8 bytes, XXH3-64 of everything before it, little-endian
 *
 * Only the directories the buffer's entries use are written, so a layer exported from a
 * table shared with other layers carries its own directories and nothing else.  Import
 * checks every length against what is left, every id against what came before, and every
 * path against PATH_MAX_BYTES, so corrupt bytes are refused, never read out of bounds.
 */
#include "record.h"
#include "record_impl.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "err.h"
#include "imgstat.h"

#define REC_MAGIC "IMGR"
#define REC_MAGIC_LEN 4
#define REC_SUM_LEN 8
/* The fewest bytes a directory (parent, length, one byte) and an entry (flags, dir,
 * length) take: counts beyond what the bytes could hold are refused before allocating. */
#define REC_MIN_DIR 2
#define REC_MIN_ENT 3

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- export --------------------------------------------------------------------------- */

/* map[id] != 0 for every directory r's entries use, with its ancestors. */
static void mark_used(const struct rec_buf *r, uint32_t *map)
{
    for (const struct rec_chunk *c = r->head; c; c = c->next) {
        const unsigned char *p = c->data, *end = c->data + c->used;
        struct rec_ent x;
        while (p < end && (p = rec_decode(p, end, &x)))
            for (uint32_t id = x.dir; id && !map[id]; id = r->dirs->v[id].parent)
                map[id] = UINT32_MAX;
    }
}

/* Number the used directories 1..n in table order (a parent is older than its children,
 * so it is numbered first); returns n and adds their encoded size to *bytes. */
static uint32_t number_used(const struct rec_dirs *d, uint32_t *map, size_t *bytes)
{
    uint32_t n = 0;
    for (uint32_t id = 1; d && id < d->n; id++) {
        if (map[id]) {
            map[id] = ++n;
            *bytes += 10 + 5 + d->v[id].name_len;
        }
    }
    return n;
}

static unsigned char *write_dirs(unsigned char *p, const struct rec_dirs *d, const uint32_t *map)
{
    for (uint32_t id = 1; d && id < d->n; id++) {
        if (!map[id])
            continue;
        const struct rec_dir *x = &d->v[id];
        p = rec_put_varint(p, x->parent ? map[x->parent] : 0);
        p = rec_put_varint(p, x->name_len);
        memcpy(p, d->pool + x->name, x->name_len);
        p += x->name_len;
    }
    return p;
}

static unsigned char *write_entries(unsigned char *p, const struct rec_buf *r, const uint32_t *map)
{
    for (const struct rec_chunk *c = r->head; c; c = c->next) {
        const unsigned char *q = c->data, *end = c->data + c->used;
        struct rec_ent x;
        while (q < end && (q = rec_decode(q, end, &x))) {
            x.dir = x.dir ? map[x.dir] : 0;
            p = rec_encode(p, &x);
        }
    }
    return p;
}

int rec_export(const struct rec_buf *r, unsigned char **out, size_t *len, struct err *e)
{
    *out = NULL;
    *len = 0;
    size_t ndirs_all = r->dirs ? r->dirs->n : 0;
    uint32_t *map = calloc(ndirs_all ? ndirs_all : 1, sizeof *map);
    if (!map)
        return err_nomem(e);
    mark_used(r, map);
    /* directories were just sized; entries keep theirs (a renumbered id is never larger) */
    size_t bytes = REC_MAGIC_LEN + 1 + 10 + 10 + REC_SUM_LEN;
    uint32_t ndirs = number_used(r->dirs, map, &bytes);
    for (const struct rec_chunk *c = r->head; c; c = c->next)
        bytes += c->used;
    unsigned char *buf = malloc(bytes), *p = buf;
    if (!buf) {
        free(map);
        return err_nomem(e);
    }
    memcpy(p, REC_MAGIC, REC_MAGIC_LEN);
    p += REC_MAGIC_LEN;
    *p++ = REC_FORMAT_VERSION;
    p = rec_put_varint(p, ndirs);
    p = write_dirs(p, r->dirs, map);
    p = rec_put_varint(p, r->count);
    p = write_entries(p, r, map);
    put_le64(p, XXH3_64bits(buf, (size_t)(p - buf)));
    p += REC_SUM_LEN;
    free(map);
    *out = buf;
    *len = (size_t)(p - buf);
    return IMGSTAT_OK;
}

/* ---- import --------------------------------------------------------------------------- */

struct reader {
    const unsigned char *p, *end;
    struct rec_buf *r;
    uint32_t *map;  /* imported directory id -> table id */
    uint64_t ndirs; /* read so far */
};

static int corrupt(struct err *e, const char *what)
{
    return err_set(e, IMGSTAT_EINPUT, "corrupt entry records: %s", what);
}

static int read_count(struct reader *rd, uint64_t min_bytes, uint64_t *n, struct err *e)
{
    if (!(rd->p = rec_get_varint(rd->p, rd->end, n)))
        return corrupt(e, "truncated");
    if (*n > (uint64_t)(rd->end - rd->p) / min_bytes)
        return corrupt(e, "a count larger than the bytes can hold");
    return IMGSTAT_OK;
}

static int read_dirs(struct reader *rd, uint64_t n, struct err *e)
{
    for (uint64_t i = 1; i <= n; i++) {
        uint64_t parent, len;
        if (!(rd->p = rec_get_varint(rd->p, rd->end, &parent)) || parent >= i ||
            !(rd->p = rec_get_varint(rd->p, rd->end, &len)) || len > (uint64_t)(rd->end - rd->p))
            return corrupt(e, "a bad directory");
        if (len > PATH_MAX_BYTES || memchr(rd->p, '/', (size_t)len))
            return corrupt(e, "a bad directory name");
        int rc = rec_dir_get(rd->r->dirs, parent ? rd->map[parent] : 0, (const char *)rd->p,
                             (size_t)len, &rd->map[i], e);
        if (rc == IMGSTAT_EINPUT)
            return corrupt(e, "a directory longer than a path may be");
        if (rc != IMGSTAT_OK)
            return rc;
        rd->p += len;
        rd->ndirs = i;
    }
    return IMGSTAT_OK;
}

/* One entry, checked as the recorder would have written it, appended to rd->r. */
static int read_entry(struct reader *rd, struct err *e)
{
    struct rec_ent x;
    if (!(rd->p = rec_decode(rd->p, rd->end, &x)))
        return corrupt(e, "a truncated or malformed entry");
    unsigned type = x.flags & REC_TYPE_MASK;
    if (type < ENT_REG || type > ENT_OTHER ||
        (x.flags & ~(REC_TYPE_MASK | REC_HAS_LINK | REC_HAS_SIZE)))
        return corrupt(e, "an unknown entry type");
    if ((x.flags & REC_HAS_SIZE) && x.size == 0)
        return corrupt(e, "a size that should not be there");
    if (x.dir > rd->ndirs)
        return corrupt(e, "an entry in an unknown directory");
    if (x.dir) {
        x.dir = rd->map[x.dir];
        if (memchr(x.name, '/', x.name_len) ||
            rd->r->dirs->v[x.dir].path_len + 1 + x.name_len > PATH_MAX_BYTES)
            return corrupt(e, "a bad entry name");
    }
    return rec_append(rd->r, &x, e);
}

static int read_all(struct reader *rd, struct err *e)
{
    uint64_t ndirs, nents;
    if (read_count(rd, REC_MIN_DIR, &ndirs, e) != IMGSTAT_OK)
        return e->code;
    if (!(rd->map = malloc((size_t)(ndirs + 1) * sizeof *rd->map)))
        return err_nomem(e);
    rd->map[0] = 0;
    if (read_dirs(rd, ndirs, e) != IMGSTAT_OK ||
        read_count(rd, REC_MIN_ENT, &nents, e) != IMGSTAT_OK)
        return e->code;
    for (uint64_t i = 0; i < nents; i++)
        if (read_entry(rd, e) != IMGSTAT_OK)
            return e->code;
    if (rd->p != rd->end)
        return corrupt(e, "bytes after the last entry");
    return IMGSTAT_OK;
}

int rec_import(struct rec_buf *r, const void *buf, size_t len, struct err *e)
{
    const unsigned char *b = buf;
    if (len < REC_MAGIC_LEN + 1 + REC_SUM_LEN || memcmp(b, REC_MAGIC, REC_MAGIC_LEN) != 0)
        return err_set(e, IMGSTAT_EINPUT, "not entry records");
    if (b[REC_MAGIC_LEN] != REC_FORMAT_VERSION)
        return err_set(e, IMGSTAT_EINPUT, "entry records of format version %u, this build reads %u",
                       b[REC_MAGIC_LEN], REC_FORMAT_VERSION);
    size_t body = len - REC_SUM_LEN;
    if (XXH3_64bits(b, body) != get_le64(b + body))
        return corrupt(e, "checksum mismatch");
    if (r->head || rec_need_dirs(r, e) != IMGSTAT_OK)
        return r->head ? err_set(e, IMGSTAT_EINPUT, "records imported into a full buffer")
                       : e->code;
    struct reader rd = {b + REC_MAGIC_LEN + 1, b + body, r, NULL, 0};
    int rc = read_all(&rd, e);
    free(rd.map);
    if (rc != IMGSTAT_OK)
        rec_free(r);
    return rc;
}
