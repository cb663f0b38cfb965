/*
 * inflate: gzip layers decoded with ISA-L (about twice zlib's speed), feeding
 * libarchive the raw tar.  Built only where ISA-L is found (HAVE_ISAL); else
 * libarchive's own gzip filter (zlib) does the work.
 *
 * Multi-member gzip (eStargz, pigz --independent) is followed member by member;
 * whatever follows the last member and is not gzip is ignored, like gzip -d.
 */
#ifndef IMGSTAT_INFLATE_H
#define IMGSTAT_INFLATE_H

#include <archive.h>
#include <stdbool.h>
#include <stddef.h>

/* An upstream of compressed bytes, in libarchive's read-callback shape. */
typedef la_ssize_t (*up_read_fn)(struct archive *a, void *ctx, const void **buf);

struct gzin;

/* Does this look like the start of a gzip member (1f 8b 08)? */
bool gzin_magic(const void *buf, size_t len);

/* True when built with ISA-L. */
bool gzin_available(void);

/* The gzip decoder named for --version: "ISA-L 2.30" or "zlib (libarchive)". */
const char *gzin_name(void);

/* Open `a` (tar and empty formats only, no filters needed) over an inflating reader
 * that pulls from up/up_ctx.  Returns ARCHIVE_OK or an archive_read_open result. */
int gzin_open(struct archive *a, up_read_fn up, void *up_ctx);

#endif
