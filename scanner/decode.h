/*
 * decode: a layer blob's bytes on their way to libarchive's tar reader.
 *
 *   upstream (file range, outer stream, memory) -> [digest of the blob]
 *     -> gzip (ISA-L, else zlib) | zstd (libzstd) | none
 *     -> [digest and count of the tar stream, --max-layer-bytes] -> libarchive (tar only)
 *
 * The codec is chosen by the blob's first bytes, never by its media type.  Doing
 * the decompression here rather than in libarchive's filters lets the uncompressed
 * byte count be checked while a single entry's data is being skipped (a bomb is
 * one huge file), and lets --verify hash every byte in the same pass.
 */
#ifndef IMGSTAT_DECODE_H
#define IMGSTAT_DECODE_H

#include <archive.h>
#include <stdbool.h>
#include <stdint.h>

#include "digest.h"

/* An upstream of blob bytes, in libarchive's read-callback shape. */
typedef la_ssize_t (*up_read_fn)(struct archive *a, void *ctx, const void **buf);

struct dec_opts {
    uint64_t max_out;    /* tar bytes allowed; 0: no limit */
    const char *in_alg;  /* digest the blob with this algorithm, or NULL */
    const char *out_alg; /* digest the tar stream, or NULL */
};

struct dec_result {
    const char *codec; /* "gzip", "zstd" or "none" */
    uint64_t in_bytes, out_bytes;
    bool limit_hit;
    char in_digest[DIGEST_MAX], out_digest[DIGEST_MAX]; /* "" unless asked for */
};

struct dec;

/* The codec a blob starting with these bytes needs: "gzip", "zstd" or "none". */
const char *dec_sniff(const void *buf, size_t len);

/* The gzip decoder in use, for --version. */
const char *dec_gzip_name(void);

/* A pipeline over upstream; NULL when out of memory. */
struct dec *dec_new(up_read_fn up, void *up_ctx, const struct dec_opts *o);

/* Open `a` (formats only, no filters) over the pipeline.  ARCHIVE_OK or an error on `a`. */
int dec_open(struct archive *a, struct dec *d);

/* After the tar end marker: read the rest of the blob, so digests cover every byte. */
int dec_drain(struct archive *a, struct dec *d);

/* Counts, and the digests when asked for (valid once, after the last read). */
void dec_result(struct dec *d, struct dec_result *r);

void dec_free(struct dec *d);

#endif
