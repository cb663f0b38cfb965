/*
 * record_impl: what record.c (the directory table, appending, replay) and record_io.c
 * (export and import) share.  Not part of any interface.
 *
 * One entry, in memory and in exported bytes alike:
 *   flags    1 byte: the ent_type in the low 4 bits, REC_HAS_LINK, REC_HAS_SIZE
 *   dir      varint: 0 when name is the whole raw path, else a directory id, the raw
 *            path being that directory's path + "/" + name
 *   name     varint length, then the bytes
 *   link     varint length, then the bytes (REC_HAS_LINK only)
 *   size     varint (REC_HAS_SIZE only: sizes are stored when not 0)
 * Varints are LEB128, shortest form.
 */
#ifndef IMGSTAT_RECORD_IMPL_H
#define IMGSTAT_RECORD_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "path.h"
#include "record.h"

#define REC_TYPE_MASK 0x0fu
#define REC_HAS_LINK 0x10u
#define REC_HAS_SIZE 0x20u
/* The most bytes one entry takes besides its name and link: flags and four varints. */
#define REC_ENT_OVERHEAD (1 + 5 + 10 + 10 + 10)

/* A directory: one raw segment under its parent (0: at the top). */
struct rec_dir {
    uint32_t parent;
    uint32_t next;     /* hash chain */
    uint32_t name;     /* offset in the table's pool */
    uint16_t name_len; /* a segment, no '/' */
    uint16_t path_len; /* of the whole raw directory path, at most PATH_MAX_BYTES */
};

/* The last directory interned, segment by segment: the next entry is usually a sibling. */
struct rec_cache {
    size_t len, nseg;
    char path[PATH_MAX_BYTES];
    uint16_t end[PATH_MAX_BYTES + 1]; /* where segment i ends in path */
    uint32_t id[PATH_MAX_BYTES + 1];  /* its directory */
};

struct rec_dirs {
    struct rec_dir *v; /* v[0] is unused: id 0 means "no directory" */
    uint32_t n, cap;
    uint32_t *buckets;
    uint32_t nbuckets; /* a power of two */
    char *pool;        /* segment bytes */
    size_t pool_len, pool_cap;
    struct rec_cache *cache;
};

struct rec_chunk {
    struct rec_chunk *next;
    size_t used, cap;
    unsigned char data[];
};

/* One entry as stored (pointers into the stored bytes). */
struct rec_ent {
    uint8_t flags;
    uint32_t dir;
    const char *name, *link;
    size_t name_len, link_len;
    uint64_t size;
};

unsigned char *rec_put_varint(unsigned char *p, uint64_t v);
/* A varint from [p, end): the byte after it, or NULL when truncated, too long or not in
 * its shortest form. */
const unsigned char *rec_get_varint(const unsigned char *p, const unsigned char *end, uint64_t *v);

/* Encode x at p (room for REC_ENT_OVERHEAD + name + link); returns the end. */
unsigned char *rec_encode(unsigned char *p, const struct rec_ent *x);
/* Decode one entry from [p, end): the byte after it, or NULL when it is malformed. */
const unsigned char *rec_decode(const unsigned char *p, const unsigned char *end,
                                struct rec_ent *x);

/* Append an encoded entry to r. */
int rec_append(struct rec_buf *r, const struct rec_ent *x, struct err *e);

/* The directory (parent, name): found, or added.  *id is set on IMGSTAT_OK. */
int rec_dir_get(struct rec_dirs *d, uint32_t parent, const char *name, size_t len, uint32_t *id,
                struct err *e);

/* Write directory id's raw path into buf[PATH_MAX_BYTES]; returns its length. */
size_t rec_dir_path(const struct rec_dirs *d, uint32_t id, char *buf);

/* Make r's own table if it has none yet. */
int rec_need_dirs(struct rec_buf *r, struct err *e);

#endif
