/*
 * files: an image's file list in the catalog, built to answer HSS's `files` API (a page of
 * the regular files, optionally only those whose name contains a text, with the count
 * after the filter) quickly on images of a million files.
 *
 * The list is kept in the order `imgstat files` prints (byte-wise by path), in chunks of
 * CAT_FILES_PER_CHUNK entries.  A chunk holds two zstd frames: the entries' names (the last
 * path segment), each ended by a NUL, and their paths front-coded (an entry stores how many
 * leading bytes it shares with the previous path, then the rest, then its size).
 * A page without a filter decodes only the chunks it covers.  With a filter, each chunk's
 * names are searched in one pass (memmem over the whole frame: a literal substring, so '%'
 * and '_' are ordinary bytes; no SQL LIKE over a million rows), and paths are decoded only
 * in the chunks that hold the page.
 */
#ifndef IMGSTAT_CAT_FILES_H
#define IMGSTAT_CAT_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "imgstat.h"

/* Entries per chunk: ~60 KiB raw for typical paths, so a page reads one or two chunks and
 * a filter pass decompresses a few hundred on a million files. */
#define CAT_FILES_PER_CHUNK 4096
/* One frame of a chunk decompressed at most: 4096 entries of the longest paths the tree
 * can produce cannot need more; a larger frame is damage. */
#define CAT_FILES_CHUNK_MAX (UINT64_C(256) << 20)

struct cat_files;

/* A file list being built; NULL when out of memory. */
struct cat_files *cat_files_new(void);
void cat_files_free(struct cat_files *f); /* accepts NULL */

/* Append one file, in imgstat_files() order (an imgstat_file_fn: ctx is the list).  0, or
 * IMGSTAT_ENOMEM. */
int cat_files_add(void *f, const char *path, uint64_t len, uint64_t size);

/* Files added so far. */
uint64_t cat_files_count(const struct cat_files *f);

/* Write the list's chunks as image `image`'s (inside the caller's transaction). */
int cat_files_store(struct cat_db *d, int64_t image, struct cat_files *f, struct err *e);

/*
 * A page of image's files: those whose name (the last path segment) contains needle (NULL
 * or "": all), the first `offset` of them skipped, at most `limit` (0: all) passed to fn
 * after *total (every match) is set.  Caller holds the lock.
 */
int cat_files_page(struct cat_db *d, int64_t image, const char *needle, uint64_t offset,
                   uint64_t limit, uint64_t *total, imgstat_file_fn fn, void *ctx, struct err *e);

#endif
