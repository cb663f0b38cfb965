/*
 * decode: a blob's bytes on their way to a tar reader (a layer's, layers/tar.h; or the outer
 * tarball's, libarchive through a callback in source.c).
 *
 *   upstream (file range, outer stream, memory, a pipe) -> [digest, keyed XXH3 of the blob]
 *     -> gzip (ISA-L, else zlib) | zstd (libzstd) | xz (liblzma) | bzip2 (libbz2) | none
 *     -> [digest and count of the tar stream, --max-layer-bytes] -> the tar reader
 *
 * The codec is chosen by the blob's first bytes, never by its media type (D1); these are
 * the codecs moby's DecompressStream reads (D6).  Decompressing here rather than in a tar
 * library lets the uncompressed byte count be checked while one entry's data is being
 * skipped (a bomb is one huge file), and lets --verify hash every byte in one pass.
 * A compressed blob is decoded to its end whether or not it is verified (D5).
 */
#ifndef IMGSTAT_DECODE_H
#define IMGSTAT_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "tar.h"

/* The largest zstd window accepted (ZSTD_d_windowLogMax 29): containerd's zstd decoder
 * accepts the same.  Memory: one window per layer decoded at once (D4). */
#define DEC_MAX_WINDOW (512ull << 20)
/* liblzma's memory limit for an xz stream: a dictionary of DEC_MAX_WINDOW and the decoder's
 * own state (D4). */
#define DEC_XZ_MEMLIMIT (DEC_MAX_WINDOW + (DEC_MAX_WINDOW >> 4))

struct dec_opts {
    uint64_t max_out;    /* tar bytes allowed; 0: no limit */
    const char *in_alg;  /* digest the blob with this algorithm, or NULL */
    const char *out_alg; /* digest the tar stream, or NULL */
    /* the layer memo's secret (memo_secret, borrowed until dec_free): with it, the blob's
     * keyed XXH3-128 too (M3), at memory speed beside the digest; NULL: none */
    const void *xxh_secret;
    size_t xxh_secret_len;
};

struct dec_result {
    const char *codec; /* "gzip", "zstd", "xz", "bzip2" or "none" */
    uint64_t in_bytes, out_bytes;
    char in_digest[DIGEST_MAX], out_digest[DIGEST_MAX]; /* "" unless asked for */
    bool has_xxh;                                       /* with xxh_secret: */
    unsigned char xxh[16]; /* the blob's keyed XXH3-128, canonical (big-endian) bytes */
};

struct dec;

/* The codec a blob starting with these bytes needs: "gzip", "zstd", "xz", "bzip2" or "none"
 * (6 bytes decide every one). */
const char *dec_sniff(const void *buf, size_t len);

/* What other format the bytes are, in a user's words ("a zip archive", "lz4 data"), or NULL. */
const char *dec_foreign(const void *buf, size_t len);

/* The gzip decoder in use, for --version. */
const char *dec_gzip_name(void);

/* A pipeline over upstream (borrowed until dec_free); NULL when out of memory. */
struct dec *dec_new(const struct byte_src *up, const struct dec_opts *o);

/* The decoded bytes, as a byte source (valid until dec_free). */
void dec_src(struct dec *d, struct byte_src *out);

/* After the reader is done: decode the rest of a compressed blob, and read the rest of the
 * blob when a digest or checksum is asked for, so that they cover every byte (D5). */
int dec_drain(struct dec *d, struct err *e);

/* Counts, and the digests and checksum when asked for (valid once, after the last read). */
void dec_result(struct dec *d, struct dec_result *r);

void dec_free(struct dec *d);

#endif
