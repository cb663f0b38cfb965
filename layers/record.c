#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"

/* Large enough that chunk headers cost nothing, small enough for tiny layers. */
#define REC_CHUNK (64 * 1024)

struct rec_chunk {
    struct rec_chunk *next;
    size_t used, cap;
    unsigned char data[];
};

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static const unsigned char *get_varint(const unsigned char *p, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        x |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p++ & 0x80))
            break;
    }
    *v = x;
    return p;
}

int rec_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct rec_buf *r = ctx;
    size_t need = 1 + 3 * 10 + ent->path_len + ent->link_len;
    if (!r->tail || r->tail->cap - r->tail->used < need) {
        size_t cap = need > REC_CHUNK ? need : REC_CHUNK;
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
    *p++ = ent->type;
    p = put_varint(p, ent->path_len);
    p = put_varint(p, ent->link ? ent->link_len + 1 : 0);
    p = put_varint(p, ent->size);
    memcpy(p, ent->path, ent->path_len);
    p += ent->path_len;
    if (ent->link) {
        memcpy(p, ent->link, ent->link_len);
        p += ent->link_len;
    }
    r->tail->used = (size_t)(p - r->tail->data);
    r->count++;
    return IMGSTAT_OK;
}

int rec_replay(const struct rec_buf *r, layer_sink sink, void *ctx, struct err *e)
{
    for (const struct rec_chunk *c = r->head; c; c = c->next) {
        const unsigned char *p = c->data, *end = c->data + c->used;
        while (p < end) {
            struct layer_entry ent = {0};
            uint64_t plen, llen, size;
            ent.type = *p++;
            p = get_varint(p, &plen);
            p = get_varint(p, &llen);
            p = get_varint(p, &size);
            ent.size = size;
            ent.path = (const char *)p;
            ent.path_len = (size_t)plen;
            p += plen;
            if (llen) {
                ent.link = (const char *)p;
                ent.link_len = (size_t)(llen - 1);
                p += llen - 1;
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
    memset(r, 0, sizeof *r);
}

/* ---- self-contained bytes (rec_export/rec_import; see record.h) ---- */

/* The first byte of exported records: not a valid ent_type, so a chunk is never mistaken
 * for an export. */
#define REC_MAGIC 'R'

int rec_export(const struct rec_buf *r, rec_out_fn out, void *ctx)
{
    unsigned char head[2 + 10];
    head[0] = REC_MAGIC;
    head[1] = REC_FORMAT_VERSION;
    unsigned char *end = put_varint(head + 2, r->count);
    int rc = out(ctx, head, (size_t)(end - head));
    for (const struct rec_chunk *c = r->head; c && rc == 0; c = c->next)
        rc = c->used ? out(ctx, c->data, c->used) : 0;
    return rc;
}

/* get_varint within [p, end): NULL when it runs past end or over 64 bits. */
static const unsigned char *get_varint_in(const unsigned char *p, const unsigned char *end,
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

/* One entry at p within [p, end): the position after it, or NULL when malformed. */
static const unsigned char *entry_check(const unsigned char *p, const unsigned char *end)
{
    uint64_t plen, llen, size;
    if (p >= end || *p < ENT_REG || *p > ENT_OTHER)
        return NULL;
    p++;
    if (!(p = get_varint_in(p, end, &plen)) || !(p = get_varint_in(p, end, &llen)) ||
        !(p = get_varint_in(p, end, &size)))
        return NULL;
    uint64_t names = plen + (llen ? llen - 1 : 0);
    if (plen > (uint64_t)(end - p) || names > (uint64_t)(end - p) || names < plen)
        return NULL;
    return p + names;
}

int rec_import(struct rec_buf *r, const void *buf, size_t len, struct err *e)
{
    const unsigned char *p = buf, *end = p + len;
    uint64_t count, seen = 0;
    if (len < 2 || p[0] != REC_MAGIC || p[1] != REC_FORMAT_VERSION ||
        !(p = get_varint_in(p + 2, end, &count)))
        return err_set(e, IMGSTAT_EINPUT, "records: not format %d", REC_FORMAT_VERSION);
    const unsigned char *body = p;
    while (p < end && (p = entry_check(p, end)) != NULL)
        seen++;
    if (!p || seen != count)
        return err_set(e, IMGSTAT_EINPUT, "records: malformed after entry %llu of %llu",
                       (unsigned long long)seen, (unsigned long long)count);
    size_t n = (size_t)(end - body);
    struct rec_chunk *c = malloc(sizeof *c + (n ? n : 1));
    if (!c)
        return err_nomem(e);
    c->next = NULL;
    c->used = n;
    c->cap = n ? n : 1;
    memcpy(c->data, body, n);
    if (r->tail)
        r->tail->next = c;
    else
        r->head = c;
    r->tail = c;
    r->count += count;
    r->bytes += sizeof *c + c->cap;
    return IMGSTAT_OK;
}
