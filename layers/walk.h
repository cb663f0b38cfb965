/*
 * walk: read one layer tar with libarchive and emit its entries.
 *
 * The caller opens the archive (from a file range, memory or a stream) with
 * layer_archive_new() and archive_read_open*(); layer_walk() reads headers
 * only: file data is skipped, by seeking where the reader can.
 */
#ifndef IMGSTAT_WALK_H
#define IMGSTAT_WALK_H

#include <archive.h>

#include "entry.h"

struct err;

/* A reader for layer tars (any dialect, or empty), already decompressed.  NULL + e on failure. */
struct archive *layer_archive_new(struct err *e);

/* Emit every entry of an opened layer to sink; stops at the tar end marker. */
int layer_walk(struct archive *a, layer_sink sink, void *ctx, struct err *e);

#endif
