/*
 * decode_codec: the four decompressors behind decode.c, each as start (a member begins at
 * d->in) and step (some input in, some output out).  A "member" is a gzip member, a zstd
 * frame, an xz stream or a bzip2 stream; decode.c strings them together (D3, D5).
 */
#include "decode_impl.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"

bool dec_member_magic(enum codec c, const unsigned char *b, size_t n)
{
    switch (c) {
    case C_GZIP: return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
    case C_ZSTD:
        /* a frame, or a skippable frame (moby and containerd accept one first) */
        return n >= 4 && ((b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) ||
                          ((b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18));
    case C_XZ:
        return n >= 6 && memcmp(b,
                                "\xfd"
                                "7zXZ\0",
                                6) == 0;
    case C_BZIP2:
        return n >= 4 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9';
    default: return false;
    }
}

/* A size in the largest binary unit that holds it exactly: "1 GiB", "1280 MiB". */
static void human(uint64_t v, char *buf, size_t cap)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    unsigned u = 0;
    while (u < 5 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, "%llu %s", (unsigned long long)v, units[u]);
}

/* ---- gzip ------------------------------------------------------------------------------- */

static int gzip_start(struct dec *d, struct err *e)
{
#ifdef HAVE_ISAL
    (void)e;
    isal_inflate_init(&d->isal);
    d->isal.crc_flag = ISAL_GZIP;
#else
    if (d->z_init) {
        inflateReset(&d->z);
    } else if (inflateInit2(&d->z, 15 + 16) != Z_OK) {
        return err_nomem(e);
    }
    d->z_init = true;
#endif
    return IMGSTAT_OK;
}

/* The codec used `used` bytes of the input.  With no input left d->in may be NULL, and NULL + 0
 * is undefined in C (found by fuzz_image), so nothing moves when nothing was used. */
static void consume(struct dec *d, size_t used)
{
    if (used) {
        d->in += used;
        d->in_len -= used;
    }
}

static int gzip_step(struct dec *d, size_t *n, bool *end, struct err *e)
{
    size_t avail = d->in_len > UINT32_MAX ? UINT32_MAX : d->in_len;
#ifdef HAVE_ISAL
    d->isal.next_in = (uint8_t *)(uintptr_t)d->in;
    d->isal.avail_in = (uint32_t)avail;
    d->isal.next_out = d->out;
    d->isal.avail_out = DEC_OUT;
    int r = isal_inflate(&d->isal);
    if (r < 0)
        return err_set(e, IMGSTAT_EINPUT, "corrupt gzip data (ISA-L error %d)", r);
    size_t left = d->isal.avail_in, out_left = d->isal.avail_out;
    *end = d->isal.block_state == ISAL_BLOCK_FINISH;
#else
    d->z.next_in = (Bytef *)(uintptr_t)d->in;
    d->z.avail_in = (uInt)avail;
    d->z.next_out = d->out;
    d->z.avail_out = DEC_OUT;
    int r = inflate(&d->z, Z_NO_FLUSH);
    if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
        return err_set(e, IMGSTAT_EINPUT, "corrupt gzip data (%s)", d->z.msg ? d->z.msg : "zlib");
    size_t left = d->z.avail_in, out_left = d->z.avail_out;
    *end = r == Z_STREAM_END;
#endif
    consume(d, avail - left);
    *n = DEC_OUT - out_left;
    return IMGSTAT_OK;
}

/* ---- zstd -------------------------------------------------------------------------------- */

/* The window a zstd frame header asks for (RFC 8878 §3.1.1.1), from the bytes at b; 0 when
 * they are not a whole frame header (a skippable frame, or the end of the blob). */
static uint64_t zstd_window(const unsigned char *b, size_t n)
{
    static const size_t did_len[] = {0, 1, 2, 4};
    if (n < 6 || b[0] != 0x28)
        return 0;
    unsigned fhd = b[4];
    if (!(fhd & 0x20)) { /* a window descriptor: 2^(10+exponent) plus eighths of it */
        uint64_t base = 1ull << (10 + (b[5] >> 3));
        return base + (base >> 3) * (b[5] & 7);
    }
    size_t at = 5 + did_len[fhd & 3], len = (fhd >> 6) ? 1u << (fhd >> 6) : 1;
    if (n < at + len)
        return 0;
    uint64_t v = 0; /* single segment: the window is the content size */
    for (size_t i = len; i-- > 0;)
        v = v << 8 | b[at + i];
    return len == 2 ? v + 256 : v;
}

static int zstd_start(struct dec *d, struct err *e)
{
    if (!d->zs) {
        if (!(d->zs = ZSTD_createDStream()))
            return err_nomem(e);
        /* D4: as containerd; zstd's own default stops at 128 MiB (--long=28 needs 256) */
        size_t r = ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, 29);
        if (ZSTD_isError(r))
            return err_set(e, IMGSTAT_EINPUT, "zstd: %s", ZSTD_getErrorName(r));
    } else {
        ZSTD_DCtx_reset(d->zs, ZSTD_reset_session_only);
    }
    d->zstd_window = zstd_window(d->in, d->in_len);
    return IMGSTAT_OK;
}

static int zstd_step(struct dec *d, size_t *n, bool *end, struct err *e)
{
    ZSTD_inBuffer in = {d->in, d->in_len, 0};
    ZSTD_outBuffer out = {d->out, DEC_OUT, 0};
    size_t r = ZSTD_decompressStream(d->zs, &out, &in);
    if (ZSTD_isError(r)) {
        if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge && d->zstd_window) {
            char need[32], max[32];
            human(d->zstd_window, need, sizeof need);
            human(DEC_MAX_WINDOW, max, sizeof max);
            return err_set(e, IMGSTAT_EINPUT,
                           "zstd data needs a %s window; the limit is %s (DEC_MAX_WINDOW)", need,
                           max);
        }
        return err_set(e, IMGSTAT_EINPUT, "corrupt zstd data (%s)", ZSTD_getErrorName(r));
    }
    consume(d, in.pos);
    *n = out.pos;
    *end = r == 0; /* a frame is complete and flushed */
    return IMGSTAT_OK;
}

/* ---- xz ------------------------------------------------------------------------------------ */

static int xz_start(struct dec *d, struct err *e)
{
    /* one stream at a time (no LZMA_CONCATENATED): decode.c looks between streams (D5) */
    lzma_ret r = lzma_stream_decoder(&d->xz, DEC_XZ_MEMLIMIT, 0);
    d->xz_init = true;
    return r == LZMA_OK ? IMGSTAT_OK : err_nomem(e);
}

static int xz_error(struct dec *d, lzma_ret r, struct err *e)
{
    char need[32], max[32];
    switch (r) {
    case LZMA_MEM_ERROR: return err_nomem(e);
    case LZMA_MEMLIMIT_ERROR:
        human(lzma_memusage(&d->xz), need, sizeof need);
        human(DEC_XZ_MEMLIMIT, max, sizeof max);
        return err_set(e, IMGSTAT_EINPUT,
                       "xz data needs %s of memory; the limit is %s "
                       "(DEC_XZ_MEMLIMIT)",
                       need, max);
    case LZMA_FORMAT_ERROR: return err_set(e, IMGSTAT_EINPUT, "corrupt xz data (not an xz stream)");
    case LZMA_OPTIONS_ERROR:
        return err_set(e, IMGSTAT_EINPUT, "corrupt xz data (unsupported options)");
    default: return err_set(e, IMGSTAT_EINPUT, "corrupt xz data (liblzma error %d)", (int)r);
    }
}

static int xz_step(struct dec *d, size_t *n, bool *end, struct err *e)
{
    d->xz.next_in = d->in;
    d->xz.avail_in = d->in_len;
    d->xz.next_out = d->out;
    d->xz.avail_out = DEC_OUT;
    lzma_ret r = lzma_code(&d->xz, LZMA_RUN);
    if (r != LZMA_OK && r != LZMA_STREAM_END && r != LZMA_BUF_ERROR) /* BUF: no progress */
        return xz_error(d, r, e);
    consume(d, d->in_len - d->xz.avail_in);
    *n = DEC_OUT - d->xz.avail_out;
    *end = r == LZMA_STREAM_END;
    return IMGSTAT_OK;
}

/* ---- bzip2 --------------------------------------------------------------------------------- */

static int bz_start(struct dec *d, struct err *e)
{
    if (d->bz_init)
        BZ2_bzDecompressEnd(&d->bz);
    memset(&d->bz, 0, sizeof d->bz);
    d->bz_init = BZ2_bzDecompressInit(&d->bz, 0, 0) == BZ_OK;
    return d->bz_init ? IMGSTAT_OK : err_nomem(e);
}

static int bz_step(struct dec *d, size_t *n, bool *end, struct err *e)
{
    unsigned avail = d->in_len > UINT_MAX ? UINT_MAX : (unsigned)d->in_len;
    d->bz.next_in = (char *)(uintptr_t)d->in;
    d->bz.avail_in = avail;
    d->bz.next_out = (char *)d->out;
    d->bz.avail_out = DEC_OUT;
    int r = BZ2_bzDecompress(&d->bz);
    if (r == BZ_MEM_ERROR)
        return err_nomem(e);
    if (r != BZ_OK && r != BZ_STREAM_END)
        return err_set(e, IMGSTAT_EINPUT, "corrupt bzip2 data (libbz2 error %d)", r);
    consume(d, avail - d->bz.avail_in);
    *n = DEC_OUT - d->bz.avail_out;
    *end = r == BZ_STREAM_END;
    return IMGSTAT_OK;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

int dec_member_start(struct dec *d, struct err *e)
{
    switch (d->codec) {
    case C_GZIP: return gzip_start(d, e);
    case C_ZSTD: return zstd_start(d, e);
    case C_XZ: return xz_start(d, e);
    case C_BZIP2: return bz_start(d, e);
    default: return IMGSTAT_OK;
    }
}

int dec_member_step(struct dec *d, size_t *n, bool *end, struct err *e)
{
    switch (d->codec) {
    case C_GZIP: return gzip_step(d, n, end, e);
    case C_ZSTD: return zstd_step(d, n, end, e);
    case C_XZ: return xz_step(d, n, end, e);
    case C_BZIP2: return bz_step(d, n, end, e);
    default: *n = 0, *end = true; return IMGSTAT_OK;
    }
}

void dec_codecs_free(struct dec *d)
{
#ifndef HAVE_ISAL
    if (d->z_init)
        inflateEnd(&d->z);
#endif
    ZSTD_freeDStream(d->zs);
    if (d->xz_init)
        lzma_end(&d->xz);
    if (d->bz_init)
        BZ2_bzDecompressEnd(&d->bz);
}
