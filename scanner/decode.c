#include "decode.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

/* Output handed to libarchive per call: large enough to amortise the call. */
#define DEC_OUT (256 * 1024)

enum codec { C_NONE, C_GZIP, C_ZSTD };

struct dec {
    up_read_fn up;
    void *up_ctx;
    struct dec_opts o;
    enum codec codec;
    bool started, up_eof, member_done, finished, limit_hit;
    const unsigned char *in;
    size_t in_len;
    uint64_t in_bytes, out_bytes;
    struct digest_ctx din, dout;
#ifdef HAVE_ISAL
    struct inflate_state isal;
#else
    z_stream z;
    bool z_init;
#endif
    ZSTD_DStream *zs;
    char in_digest[DIGEST_MAX], out_digest[DIGEST_MAX];
    unsigned char out[DEC_OUT];
};

const char *dec_sniff(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
        return "gzip";
    if (len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
        return "zstd";
    if (len >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18)
        return "zstd"; /* a skippable frame first (moby and containerd accept it) */
    return "none";
}

const char *dec_gzip_name(void)
{
#ifdef HAVE_ISAL
    return "ISA-L igzip";
#else
    return "zlib";
#endif
}

struct dec *dec_new(up_read_fn up, void *up_ctx, const struct dec_opts *o)
{
    struct dec *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    memset(d, 0, offsetof(struct dec, out));
    d->up = up;
    d->up_ctx = up_ctx;
    d->o = *o;
    if ((o->in_alg && !digest_init(&d->din, o->in_alg)) ||
        (o->out_alg && !digest_init(&d->dout, o->out_alg))) {
        dec_free(d);
        return NULL;
    }
    return d;
}

void dec_free(struct dec *d)
{
    if (!d)
        return;
    digest_free(&d->din);
    digest_free(&d->dout);
#ifndef HAVE_ISAL
    if (d->z_init)
        inflateEnd(&d->z);
#endif
    ZSTD_freeDStream(d->zs);
    free(d);
}

/* More blob bytes; false at the end of the blob or on an upstream error (*failed). */
static bool refill(struct archive *a, struct dec *d, bool *failed)
{
    if (d->up_eof)
        return false;
    const void *buf;
    la_ssize_t n = d->up(a, d->up_ctx, &buf);
    if (n < 0) {
        *failed = true;
        return false;
    }
    if (n == 0) {
        d->up_eof = true;
        return false;
    }
    d->in = buf;
    d->in_len = (size_t)n;
    d->in_bytes += (uint64_t)n;
    if (d->o.in_alg)
        digest_update(&d->din, buf, (size_t)n);
    return true;
}

static int gzip_start(struct archive *a, struct dec *d)
{
#ifdef HAVE_ISAL
    (void)a;
    isal_inflate_init(&d->isal);
    d->isal.crc_flag = ISAL_GZIP;
#else
    if (d->z_init) {
        inflateReset(&d->z);
    } else if (inflateInit2(&d->z, 15 + 16) != Z_OK) {
        archive_set_error(a, ENOMEM, "out of memory");
        return -1;
    }
    d->z_init = true;
#endif
    d->member_done = false;
    return 0;
}

/* One step of gzip: consume input, fill out; sets member_done at a member's end. */
static long gzip_step(struct archive *a, struct dec *d)
{
    size_t avail_in = d->in_len > UINT32_MAX ? UINT32_MAX : d->in_len;
#ifdef HAVE_ISAL
    d->isal.next_in = (uint8_t *)(uintptr_t)d->in;
    d->isal.avail_in = (uint32_t)avail_in;
    d->isal.next_out = d->out;
    d->isal.avail_out = DEC_OUT;
    int r = isal_inflate(&d->isal);
    if (r < 0) {
        archive_set_error(a, EINVAL, "corrupt gzip data (ISA-L error %d)", r);
        return -1;
    }
    size_t left = d->isal.avail_in, out_left = d->isal.avail_out;
    d->member_done = d->isal.block_state == ISAL_BLOCK_FINISH;
#else
    d->z.next_in = (Bytef *)(uintptr_t)d->in;
    d->z.avail_in = (uInt)avail_in;
    d->z.next_out = d->out;
    d->z.avail_out = DEC_OUT;
    int r = inflate(&d->z, Z_NO_FLUSH);
    if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
        archive_set_error(a, EINVAL, "corrupt gzip data (%s)", d->z.msg ? d->z.msg : "zlib");
        return -1;
    }
    size_t left = d->z.avail_in, out_left = d->z.avail_out;
    d->member_done = r == Z_STREAM_END;
#endif
    d->in += avail_in - left;
    d->in_len -= avail_in - left;
    return (long)(DEC_OUT - out_left);
}

static long zstd_step(struct archive *a, struct dec *d)
{
    ZSTD_inBuffer in = {d->in, d->in_len, 0};
    ZSTD_outBuffer out = {d->out, DEC_OUT, 0};
    size_t r = ZSTD_decompressStream(d->zs, &out, &in);
    if (ZSTD_isError(r)) {
        archive_set_error(a, EINVAL, "corrupt zstd data (%s)", ZSTD_getErrorName(r));
        return -1;
    }
    d->in += in.pos;
    d->in_len -= in.pos;
    d->member_done = r == 0; /* a frame is complete and flushed */
    return (long)out.pos;
}

/* The first bytes decide the codec. */
static int start(struct archive *a, struct dec *d, bool *failed)
{
    d->started = true;
    if (!refill(a, d, failed))
        return *failed ? -1 : 0;
    const char *c = dec_sniff(d->in, d->in_len);
    if (strcmp(c, "gzip") == 0) {
        d->codec = C_GZIP;
        return gzip_start(a, d);
    }
    if (strcmp(c, "zstd") == 0) {
        d->codec = C_ZSTD;
        if (!(d->zs = ZSTD_createDStream()) || ZSTD_isError(ZSTD_initDStream(d->zs))) {
            archive_set_error(a, ENOMEM, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* At a member's end: another gzip member follows (multi-member, eStargz), or we are done.
 * Bytes after the last member that are not gzip are ignored, as gzip -d does. */
static int after_member(struct archive *a, struct dec *d, bool *failed)
{
    if (d->in_len == 0 && !refill(a, d, failed)) {
        d->finished = !*failed;
        return *failed ? -1 : 0;
    }
    if (d->codec == C_GZIP) {
        if (d->in[0] != 0x1f || (d->in_len > 1 && d->in[1] != 0x8b)) {
            d->finished = true;
            return 0;
        }
        return gzip_start(a, d);
    }
    d->member_done = false; /* zstd: the next frame */
    return 0;
}

static la_ssize_t emit(struct archive *a, struct dec *d, const void *buf, size_t n,
                       const void **out)
{
    d->out_bytes += n;
    if (d->o.max_out && d->out_bytes > d->o.max_out) {
        d->limit_hit = true;
        archive_set_error(a, EFBIG, "more than %llu bytes uncompressed (--max-layer-bytes)",
                          (unsigned long long)d->o.max_out);
        return -1;
    }
    if (d->o.out_alg)
        digest_update(&d->dout, buf, n);
    *out = buf;
    return (la_ssize_t)n;
}

static la_ssize_t dec_read(struct archive *a, void *ctx, const void **buf)
{
    struct dec *d = ctx;
    bool failed = false;
    *buf = d->out;
    if (!d->started && start(a, d, &failed) < 0)
        return -1;
    while (!d->finished) {
        if (d->in_len == 0 && !refill(a, d, &failed)) {
            if (failed)
                return -1;
            if (d->codec == C_NONE || (d->member_done && d->codec == C_ZSTD)) {
                d->finished = true;
                break;
            }
            archive_set_error(a, EINVAL, "truncated %s data", d->codec == C_GZIP ? "gzip" : "zstd");
            return -1;
        }
        if (d->codec == C_NONE) {
            size_t n = d->in_len;
            d->in_len = 0;
            return emit(a, d, d->in, n, buf);
        }
        long n = d->codec == C_GZIP ? gzip_step(a, d) : zstd_step(a, d);
        if (n < 0)
            return -1;
        if (d->member_done && d->codec == C_GZIP && after_member(a, d, &failed) < 0)
            return -1;
        if (n > 0)
            return emit(a, d, d->out, (size_t)n, buf);
    }
    return 0;
}

int dec_open(struct archive *a, struct dec *d)
{
    return archive_read_open(a, d, NULL, dec_read, NULL);
}

int dec_drain(struct archive *a, struct dec *d)
{
    const void *buf;
    la_ssize_t n;
    while ((n = dec_read(a, d, &buf)) > 0)
        ;
    if (n < 0)
        return -1;
    bool failed = false;
    while (refill(a, d, &failed)) /* bytes after the compressed stream: hashed, ignored */
        d->in_len = 0;
    return failed ? -1 : 0;
}

void dec_result(struct dec *d, struct dec_result *r)
{
    static const char *const names[] = {"none", "gzip", "zstd"};
    if (d->o.in_alg && d->din.ctx)
        digest_final(&d->din, d->in_digest);
    if (d->o.out_alg && d->dout.ctx)
        digest_final(&d->dout, d->out_digest);
    r->codec = names[d->codec];
    r->in_bytes = d->in_bytes;
    r->out_bytes = d->out_bytes;
    r->limit_hit = d->limit_hit;
    memcpy(r->in_digest, d->in_digest, DIGEST_MAX);
    memcpy(r->out_digest, d->out_digest, DIGEST_MAX);
}
