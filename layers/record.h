/*
 * record: a layer's entries kept compactly, to be merged later.
 *
 * Used where a layer must be decoded before its turn to merge comes: while reading a
 * stream whose manifest comes last, and by parallel decoders.  Never the file data.
 *
 * Directory names are interned in a table of (parent, segment) nodes (struct rec_dirs):
 * a long directory costs its bytes once, whatever number of entries it holds, and a
 * table may be shared by every layer of one source.  An entry costs a few bytes, its
 * last segment and its link target (S5).  Names are kept raw, not normalised: replay
 * gives the sink exactly the bytes the walker emitted (S6).
 *
 * rec_export() writes one buffer's entries as self-contained bytes (directories
 * included, no shared table), for storing a layer by its digest; rec_import() reads
 * them back and refuses anything corrupt, truncated or of another format version (S7).
 *
 * Ownership: a rec_buf owns its entries; a table passed to rec_init() is borrowed and
 * must outlive the buffer, a table the buffer made itself is freed by rec_free().
 * Threads: buffers sharing one table may be replayed at once, but only one thread at a
 * time may add entries to any buffer of that table.
 */
#ifndef IMGSTAT_RECORD_H
#define IMGSTAT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"

/* The exported byte format (rec_export); bumped on any change, refused by rec_import. */
#define REC_FORMAT_VERSION 1

struct rec_chunk;
struct rec_dirs;

struct rec_buf {
    struct rec_chunk *head, *tail;
    struct rec_dirs *dirs; /* where the entries' directories are; NULL until the first entry */
    bool own_dirs;         /* dirs belongs to this buffer */
    uint64_t count;        /* entries */
    size_t bytes;          /* memory held by the entries (a shared table not counted) */
};

/* A table of directory names to share between buffers (rec_init); NULL when out of memory. */
struct rec_dirs *rec_dirs_new(void);
void rec_dirs_free(struct rec_dirs *d);
/* Memory held by the table. */
size_t rec_dirs_bytes(const struct rec_dirs *d);

/* An empty buffer whose directories go into `shared` (NULL: a table of its own, made when
 * the first entry comes).  A zeroed rec_buf is the same as rec_init(r, NULL). */
void rec_init(struct rec_buf *r, struct rec_dirs *shared);

/* A layer_sink appending to the rec_buf in ctx. */
int rec_sink(void *ctx, const struct layer_entry *ent, struct err *e);

/* Feed every kept entry, in order, to sink. */
int rec_replay(const struct rec_buf *r, layer_sink sink, void *ctx, struct err *e);

/* r's entries as self-contained bytes in *out (malloc'ed, the caller frees), *len long. */
int rec_export(const struct rec_buf *r, unsigned char **out, size_t *len, struct err *e);

/* Entries from rec_export's bytes appended to r, which must be empty.  Bytes that are
 * corrupt, truncated or of another REC_FORMAT_VERSION are refused with IMGSTAT_EINPUT, and
 * r is left empty. */
int rec_import(struct rec_buf *r, const void *buf, size_t len, struct err *e);

/* Free the entries (and the buffer's own table); r is empty afterwards. */
void rec_free(struct rec_buf *r);

#endif
