/*
 * record: a layer's entries kept compactly, to be merged later.
 *
 * Used where a layer must be decoded before its turn to merge comes: while
 * reading a stream whose manifest comes last, and by parallel decoders.  About
 * 4 bytes plus the names per entry; never the file data.
 */
#ifndef IMGSTAT_RECORD_H
#define IMGSTAT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"

struct rec_chunk;

struct rec_buf {
    struct rec_chunk *head, *tail;
    uint64_t count; /* entries */
    size_t bytes;   /* memory held */
};

/* A layer_sink appending to the rec_buf in ctx. */
int rec_sink(void *ctx, const struct layer_entry *ent, struct err *e);

/* Feed every kept entry, in order, to sink. */
int rec_replay(const struct rec_buf *r, layer_sink sink, void *ctx, struct err *e);

void rec_free(struct rec_buf *r);

/*
 * Records as self-contained bytes, for the layer memo (catalog/memo.c).
 *
 * MINIMAL VERSION, written by the catalog branch against the shape the streams branch is
 * adding (rec_export/rec_import, versioned bytes per layer); the lead reconciles the two
 * when merging.  The bytes are a header ('R', REC_FORMAT_VERSION, varint entry count)
 * followed by the entries exactly as the chunks hold them; they never hold pointers.
 * Bump REC_FORMAT_VERSION whenever the entry encoding or what an entry means changes:
 * the memo keys rows by it, so an imgstat never reads records another one wrote.
 */
#define REC_FORMAT_VERSION 1

/* Receives consecutive pieces of the exported bytes; non-zero stops the export. */
typedef int (*rec_out_fn)(void *ctx, const void *buf, size_t len);

/* Write r's entries as self-contained bytes through out; returns out's non-zero or 0. */
int rec_export(const struct rec_buf *r, rec_out_fn out, void *ctx);

/* Rebuild records from bytes rec_export wrote (appended to r, which may be empty).  Every
 * entry is checked against the bounds of buf; malformed bytes or another format version are
 * IMGSTAT_EINPUT, and r is left as it was. */
int rec_import(struct rec_buf *r, const void *buf, size_t len, struct err *e);

#endif
