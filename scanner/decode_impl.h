/*
 * decode_impl: the pipeline state that decode.c (input, framing, limits, digests) and
 * decode_codec.c (gzip, zstd, xz, bzip2) share.  Not part of any interface.
 */
#ifndef IMGSTAT_DECODE_IMPL_H
#define IMGSTAT_DECODE_IMPL_H

#include <bzlib.h>
#include <xxhash.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "decode.h"

/* Output handed to the reader per call: large enough to amortise the call. */
#define DEC_OUT (256 * 1024)
/* Input bytes looked at before a member: a zstd frame header is at most 18. */
#define DEC_PEEK 18

enum codec { C_NONE, C_GZIP, C_ZSTD, C_XZ, C_BZIP2 };

struct dec {
    struct byte_src up;
    struct dec_opts o;
    enum codec codec;
    bool started, up_eof, in_member, finished;
    const unsigned char *in; /* unread input */
    size_t in_len;
    const unsigned char *pend; /* the rest of an upstream buffer after a peek */
    size_t pend_len;
    uint64_t in_bytes, out_bytes;
    uint64_t zstd_window; /* of the frame being decoded, for the message when it is too large */
    struct digest_ctx din, dout;
    XXH3_state_t *xxh; /* the blob's keyed checksum, with o.xxh_secret */
#ifdef HAVE_ISAL
    struct inflate_state isal;
#else
    z_stream z;
    bool z_init;
#endif
    ZSTD_DStream *zs;
    lzma_stream xz;
    bool xz_init;
    bz_stream bz;
    bool bz_init;
    char in_digest[DIGEST_MAX], out_digest[DIGEST_MAX];
    unsigned char stash[DEC_PEEK];
    unsigned char out[DEC_OUT];
};

/* Does a member of d's codec start at b (n bytes, fewer only at the end of the blob)? */
bool dec_member_magic(enum codec c, const unsigned char *b, size_t n);

/* Prepare the codec for a member starting at d->in (its magic checked). */
int dec_member_start(struct dec *d, struct err *e);

/* Decode some of d->in into d->out: *n bytes out, *end at the end of a member. */
int dec_member_step(struct dec *d, size_t *n, bool *end, struct err *e);

/* Release the codecs' state. */
void dec_codecs_free(struct dec *d);

#endif
