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

#endif
