/*
 * Records in memory: the directory table, appending entries, replaying them.
 * The entry encoding is described in record_impl.h; export and import in record_io.c.
 */
#define _GNU_SOURCE /* memrchr */
#include "record.h"
#include "record_impl.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "imgstat.h"

/* Chunks start small (a source may hold thousands of tiny layers) and double up to a size
 * where their headers and the malloc calls cost nothing. */
#define REC_CHUNK_MIN 1024
#define REC_CHUNK_MAX (256 * 1024)

/* ---- entries -------------------------------------------------------------------------- */

unsigned char *rec_put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

const unsigned char *rec_get_varint(const unsigned char *p, const unsigned char *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; p < end && shift < 64; shift += 7) {
        unsigned b = *p++;
        if (shift == 63 && b > 1)
            return NULL; /* beyond 64 bits */
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift)
                return NULL; /* not the shortest form */
            *v = x;
            return p;
        }
    }
    return NULL;
}

unsigned char *rec_encode(unsigned char *p, const struct rec_ent *x)
{
    *p++ = x->flags;
    p = rec_put_varint(p, x->dir);
    p = rec_put_varint(p, x->name_len);
    memcpy(p, x->name, x->name_len);
    p += x->name_len;
    if (x->flags & REC_HAS_LINK) {
        p = rec_put_varint(p, x->link_len);
        memcpy(p, x->link, x->link_len);
        p += x->link_len;
    }
    if (x->flags & REC_HAS_SIZE)
        p = rec_put_varint(p, x->size);
    return p;
}

/* A length-prefixed string from [p, end). */
static const unsigned char *get_bytes(const unsigned char *p, const unsigned char *end,
                                      const char **s, size_t *len)
{
    uint64_t n;
    if (!(p = rec_get_varint(p, end, &n)) || n > (uint64_t)(end - p))
        return NULL;
    *s = (const char *)p;
    *len = (size_t)n;
    return p + n;
}

const unsigned char *rec_decode(const unsigned char *p, const unsigned char *end, struct rec_ent *x)
{
    uint64_t dir;
    if (p >= end)
        return NULL;
    x->flags = *p++;
    if (!(p = rec_get_varint(p, end, &dir)) || dir > UINT32_MAX)
        return NULL;
    x->dir = (uint32_t)dir;
    if (!(p = get_bytes(p, end, &x->name, &x->name_len)))
        return NULL;
    x->link = NULL;
    x->link_len = 0;
    if ((x->flags & REC_HAS_LINK) && !(p = get_bytes(p, end, &x->link, &x->link_len)))
        return NULL;
    x->size = 0;
    if ((x->flags & REC_HAS_SIZE) && !(p = rec_get_varint(p, end, &x->size)))
        return NULL;
    return p;
}

int rec_append(struct rec_buf *r, const struct rec_ent *x, struct err *e)
{
    size_t need = REC_ENT_OVERHEAD + x->name_len + x->link_len;
    if (!r->tail || r->tail->cap - r->tail->used < need) {
        size_t cap = r->tail && r->tail->cap < REC_CHUNK_MAX ? 2 * r->tail->cap : REC_CHUNK_MIN;
        if (r->tail && cap < r->tail->cap)
            cap = r->tail->cap;
        if (cap < need)
            cap = need;
        struct rec_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return err_nomem(e);
        c->next = NULL;
        c->used = 0;
        c->cap = cap;
        if (r->tail)
            r->tail->next = c;
        else
            r->head = c;
        r->tail = c;
        r->bytes += sizeof *c + cap;
    }
    unsigned char *p = r->tail->data + r->tail->used;
    r->tail->used = (size_t)(rec_encode(p, x) - r->tail->data);
    r->count++;
    return IMGSTAT_OK;
}

/* ---- the directory table -------------------------------------------------------------- */

struct rec_dirs *rec_dirs_new(void)
{
    return calloc(1, sizeof(struct rec_dirs));
}

void rec_dirs_free(struct rec_dirs *d)
{
    if (!d)
        return;
    free(d->v);
    free(d->buckets);
    free(d->pool);
    free(d->cache);
    free(d);
}

size_t rec_dirs_bytes(const struct rec_dirs *d)
{
    if (!d)
        return 0;
    return sizeof *d + d->cap * sizeof *d->v + d->nbuckets * sizeof *d->buckets + d->pool_cap +
           (d->cache ? sizeof *d->cache : 0);
}

static uint32_t dir_hash(uint32_t parent, const char *name, size_t len)
{
    return hash_name(parent, name, len);
}

static int grow_buckets(struct rec_dirs *d)
{
    uint32_t nb = d->nbuckets ? 2 * d->nbuckets : 256;
    uint32_t *b = calloc(nb, sizeof *b);
    if (!b)
        return -1;
    for (uint32_t id = 1; id < d->n; id++) {
        struct rec_dir *x = &d->v[id];
        uint32_t h = dir_hash(x->parent, d->pool + x->name, x->name_len) & (nb - 1);
        x->next = b[h];
        b[h] = id;
    }
    free(d->buckets);
    d->buckets = b;
    d->nbuckets = nb;
    return 0;
}

/* Room for one more directory of len bytes; -1 when out of memory or ids. */
static int dir_room(struct rec_dirs *d, size_t len)
{
    if (d->n == 0)
        d->n = 1; /* id 0 is "no directory" */
    if (d->n >= d->cap) {
        if (d->cap >= UINT32_MAX / 2)
            return -1;
        uint32_t cap = d->cap ? 2 * d->cap : 64;
        struct rec_dir *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return -1;
        d->v = v;
        d->cap = cap;
    }
    if (!d->pool || d->pool_cap - d->pool_len < len) { /* never NULL, even for "" */
        size_t cap = d->pool_cap ? 2 * d->pool_cap : 4096;
        while (cap - d->pool_len < len)
            cap *= 2;
        if (cap > UINT32_MAX)
            return -1; /* segment offsets are 32-bit */
        char *p = realloc(d->pool, cap);
        if (!p)
            return -1;
        d->pool = p;
        d->pool_cap = cap;
    }
    if (d->n >= d->nbuckets)
        return grow_buckets(d);
    return 0;
}

int rec_dir_get(struct rec_dirs *d, uint32_t parent, const char *name, size_t len, uint32_t *id,
                struct err *e)
{
    uint32_t h = dir_hash(parent, name, len);
    for (uint32_t i = d->nbuckets ? d->buckets[h & (d->nbuckets - 1)] : 0; i; i = d->v[i].next) {
        const struct rec_dir *x = &d->v[i];
        if (x->parent == parent && x->name_len == len &&
            memcmp(d->pool + x->name, name, len) == 0) {
            *id = i;
            return IMGSTAT_OK;
        }
    }
    size_t plen = parent ? d->v[parent].path_len + 1 + len : len;
    if (plen > PATH_MAX_BYTES)
        return err_set(e, IMGSTAT_EINPUT, "record directory longer than %d bytes", PATH_MAX_BYTES);
    if (dir_room(d, len) < 0)
        return err_nomem(e);
    uint32_t i = d->n++;
    struct rec_dir *x = &d->v[i];
    *x = (struct rec_dir){parent, 0, (uint32_t)d->pool_len, (uint16_t)len, (uint16_t)plen};
    memcpy(d->pool + d->pool_len, name, len);
    d->pool_len += len;
    uint32_t *b = &d->buckets[h & (d->nbuckets - 1)];
    x->next = *b;
    *b = i;
    *id = i;
    return IMGSTAT_OK;
}

size_t rec_dir_path(const struct rec_dirs *d, uint32_t id, char *buf)
{
    size_t len = d->v[id].path_len, pos = len;
    for (;;) {
        const struct rec_dir *x = &d->v[id];
        pos -= x->name_len;
        memcpy(buf + pos, d->pool + x->name, x->name_len);
        if (!x->parent)
            break;
        buf[--pos] = '/';
        id = x->parent;
    }
    return len;
}

/*
 * The directory of raw path p[0..len), split at every '/' (S5): segments are kept as
 * written, empty and "." ones included, so the path comes back byte for byte.  The
 * segments it shares with the last directory interned are not looked up again.
 */
static int intern(struct rec_dirs *d, const char *p, size_t len, uint32_t *out, struct err *e)
{
    if (!d->cache && !(d->cache = calloc(1, sizeof *d->cache)))
        return err_nomem(e);
    struct rec_cache *c = d->cache;
    if (c->nseg && len == c->len && memcmp(p, c->path, len) == 0) {
        *out = c->id[c->nseg - 1];
        return IMGSTAT_OK;
    }
    size_t k = 0, start = 0;
    for (; k < c->nseg; k++) {
        size_t end = c->end[k];
        if (end > len || (end < len && p[end] != '/') ||
            memcmp(p + start, c->path + start, end - start) != 0)
            break;
        start = end + 1;
    }
    uint32_t id = k ? c->id[k - 1] : 0;
    size_t from = start;
    while (start <= len) {
        const char *slash = memchr(p + start, '/', len - start);
        size_t n = slash ? (size_t)(slash - (p + start)) : len - start;
        if (rec_dir_get(d, id, p + start, n, &id, e) != IMGSTAT_OK) {
            c->nseg = 0;
            return e->code;
        }
        c->end[k] = (uint16_t)(start + n);
        c->id[k++] = id;
        start += n + 1;
    }
    if (from)
        from--; /* the separator before the first new segment */
    memcpy(c->path + from, p + from, len - from);
    c->len = len;
    c->nseg = k;
    *out = id;
    return IMGSTAT_OK;
}

/* ---- buffers -------------------------------------------------------------------------- */

void rec_init(struct rec_buf *r, struct rec_dirs *shared)
{
    memset(r, 0, sizeof *r);
    r->dirs = shared;
}

int rec_need_dirs(struct rec_buf *r, struct err *e)
{
    if (r->dirs)
        return IMGSTAT_OK;
    if (!(r->dirs = rec_dirs_new()))
        return err_nomem(e);
    r->own_dirs = true;
    return IMGSTAT_OK;
}

int rec_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct rec_buf *r = ctx;
    if (rec_need_dirs(r, e) != IMGSTAT_OK)
        return e->code;
    struct rec_ent x = {ent->type & REC_TYPE_MASK,
                        0,
                        ent->path,
                        ent->link,
                        ent->path_len,
                        ent->link_len,
                        ent->size};
    if (ent->link)
        x.flags |= REC_HAS_LINK;
    if (ent->size)
        x.flags |= REC_HAS_SIZE;
    /* a name the tree refuses anyway (longer than a path may be) is kept whole */
    const char *slash =
        ent->path_len <= PATH_MAX_BYTES ? memrchr(ent->path, '/', ent->path_len) : NULL;
    if (slash) {
        size_t dlen = (size_t)(slash - ent->path);
        if (intern(r->dirs, ent->path, dlen, &x.dir, e) != IMGSTAT_OK)
            return e->code;
        x.name = slash + 1;
        x.name_len = ent->path_len - dlen - 1;
    }
    return rec_append(r, &x, e);
}

int rec_replay(const struct rec_buf *r, layer_sink sink, void *ctx, struct err *e)
{
    char path[PATH_MAX_BYTES + 1];
    uint32_t shown = 0; /* the directory whose path is in path[0..dlen) */
    size_t dlen = 0;
    for (const struct rec_chunk *c = r->head; c; c = c->next) {
        const unsigned char *p = c->data, *end = c->data + c->used;
        while (p < end) {
            struct rec_ent x;
            if (!(p = rec_decode(p, end, &x)))
                return err_set(e, IMGSTAT_EINPUT, "corrupt entry records"); /* a bug */
            struct layer_entry ent = {x.name,     x.name_len, x.link,
                                      x.link_len, x.size,     (uint8_t)(x.flags & REC_TYPE_MASK)};
            if (x.dir) {
                if (x.dir != shown) {
                    dlen = rec_dir_path(r->dirs, x.dir, path);
                    shown = x.dir;
                }
                path[dlen] = '/';
                memcpy(path + dlen + 1, x.name, x.name_len);
                ent.path = path;
                ent.path_len = dlen + 1 + x.name_len;
            }
            int rc = sink(ctx, &ent, e);
            if (rc != IMGSTAT_OK)
                return rc;
        }
    }
    return IMGSTAT_OK;
}

void rec_free(struct rec_buf *r)
{
    struct rec_chunk *c = r->head;
    while (c) {
        struct rec_chunk *next = c->next;
        free(c);
        c = next;
    }
    if (r->own_dirs)
        rec_dirs_free(r->dirs);
    memset(r, 0, sizeof *r);
}
