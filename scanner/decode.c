#include "decode_impl.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"

static const char *const codec_names[] = {"none", "gzip", "zstd", "xz", "bzip2"};

static enum codec sniff(const unsigned char *b, size_t n)
{
    for (enum codec c = C_GZIP; c <= C_BZIP2; c++)
        if (dec_member_magic(c, b, n))
            return c;
    return C_NONE;
}

const char *dec_sniff(const void *buf, size_t len)
{
    return codec_names[sniff(buf, len)];
}

const char *dec_foreign(const void *buf, size_t len)
{
    static const struct {
        const char *magic;
        size_t n;
        const char *what;
    } formats[] = {
        /* lz4 frames: no runtime writes lz4 layers or saves (containers/image, moby, containerd
         * and BuildKit offer gzip, zstd, and for reading xz and bzip2), but `| lz4` happens */
        {"\x04\x22\x4d\x18", 4, "lz4 data"},
        {"PK\3\4", 4, "a zip archive"},
        {"7z\xbc\xaf\x27\x1c", 6, "a 7z archive"},
        {"Rar!\x1a\x07", 6, "a rar archive"},
    };
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (len >= formats[i].n && memcmp(buf, formats[i].magic, formats[i].n) == 0)
            return formats[i].what;
    return NULL;
}

const char *dec_gzip_name(void)
{
#ifdef HAVE_ISAL
    return "ISA-L igzip";
#else
    return "zlib";
#endif
}

struct dec *dec_new(const struct byte_src *up, const struct dec_opts *o)
{
    struct dec *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    memset(d, 0, offsetof(struct dec, out));
    d->up = *up;
    d->o = *o;
    d->xz = (lzma_stream)LZMA_STREAM_INIT;
    d->xxh = o->xxh_secret ? XXH3_createState() : NULL;
    if ((o->in_alg && !digest_init(&d->din, o->in_alg)) ||
        (o->out_alg && !digest_init(&d->dout, o->out_alg)) || (o->xxh_secret && !d->xxh) ||
        (d->xxh &&
         XXH3_128bits_reset_withSecret(d->xxh, o->xxh_secret, o->xxh_secret_len) != XXH_OK)) {
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
    XXH3_freeState(d->xxh);
    dec_codecs_free(d);
    free(d);
}

/* ---- input ------------------------------------------------------------------------------------
 */

/* The next upstream bytes (what a peek left over first): 1, or 0 at the end of the blob. */
static int up_next(struct dec *d, const unsigned char **b, size_t *n, struct err *e)
{
    if (d->pend_len) {
        *b = d->pend;
        *n = d->pend_len;
        d->pend_len = 0;
        return 1;
    }
    if (d->up_eof)
        return 0;
    ssize_t got = d->up.read(d->up.ctx, b, e);
    if (got < 0)
        return (int)got;
    if (got == 0) {
        d->up_eof = true;
        return 0;
    }
    *n = (size_t)got;
    d->in_bytes += (uint64_t)got;
    if (d->o.in_alg)
        digest_update(&d->din, *b, (size_t)got);
    if (d->xxh)
        XXH3_128bits_update(d->xxh, *b, (size_t)got);
    return 1;
}

static int refill(struct dec *d, struct err *e)
{
    return up_next(d, &d->in, &d->in_len, e);
}

/* At least `need` bytes at d->in, unless the blob ends first (they may span two upstream
 * buffers: they are gathered in the stash). */
static int peek(struct dec *d, size_t need, struct err *e)
{
    if (d->in_len >= need)
        return IMGSTAT_OK;
    size_t have = d->in_len;
    if (have) /* d->in may be NULL before the first read */
        memmove(d->stash, d->in, have);
    while (have < need) {
        const unsigned char *b;
        size_t n = 0;
        int rc = up_next(d, &b, &n, e);
        if (rc <= 0) {
            if (rc < 0)
                return rc;
            break;
        }
        size_t take = n < need - have ? n : need - have;
        memcpy(d->stash + have, b, take);
        have += take;
        d->pend = b + take;
        d->pend_len = n - take;
    }
    d->in = d->stash;
    d->in_len = have;
    return IMGSTAT_OK;
}

/* ---- members ------------------------------------------------------------------------------ */

/* Where a member could begin: another member, or the end (D5).  Bytes that do not start a
 * member (zero padding, garbage) are trailing data: left for dec_drain, which reads them into
 * the blob's digest only. */
static int next_member(struct dec *d, struct err *e)
{
    while (d->codec == C_XZ) { /* xz stream padding: zero bytes between streams */
        if (!d->in_len) {
            int rc = refill(d, e);
            if (rc <= 0) {
                if (rc < 0)
                    return rc;
                break;
            }
        }
        while (d->in_len && d->in[0] == 0)
            d->in++, d->in_len--;
        if (d->in_len)
            break;
    }
    if (peek(d, DEC_PEEK, e) != IMGSTAT_OK)
        return e->code;
    if (!dec_member_magic(d->codec, d->in, d->in_len)) {
        d->finished = true;
        return IMGSTAT_OK;
    }
    d->in_member = true;
    return dec_member_start(d, e);
}

/* The first bytes decide the codec (D1). */
static int start(struct dec *d, struct err *e)
{
    d->started = true;
    if (peek(d, DEC_PEEK, e) != IMGSTAT_OK)
        return e->code;
    d->codec = sniff(d->in, d->in_len);
    if (d->codec == C_NONE) {
        const char *f = dec_foreign(d->in, d->in_len);
        if (f) /* moby would read it as a tar and fail */
            return err_set(e, IMGSTAT_EINPUT,
                           "%s, not a tar archive nor gzip, zstd, xz or "
                           "bzip2 data",
                           f);
        return IMGSTAT_OK;
    }
    return next_member(d, e);
}

static ssize_t emit(struct dec *d, const unsigned char *buf, size_t n, const unsigned char **out,
                    struct err *e)
{
    d->out_bytes += n;
    if (d->o.max_out && d->out_bytes > d->o.max_out) {
        return err_set(e, IMGSTAT_ELIMIT,
                       "more than %llu bytes uncompressed (raise it with --max-layer-bytes)",
                       (unsigned long long)d->o.max_out);
    }
    if (d->o.out_alg)
        digest_update(&d->dout, buf, n);
    *out = buf;
    return (ssize_t)n;
}

/* One step of the codec: > 0 bytes out, 0 to be called again, < 0 on failure. */
static ssize_t step(struct dec *d, const unsigned char **buf, struct err *e)
{
    if (!d->in_member)
        return next_member(d, e) == IMGSTAT_OK ? 0 : e->code;
    if (!d->in_len && refill(d, e) < 0)
        return e->code;
    size_t before = d->in_len, n;
    bool end;
    if (dec_member_step(d, &n, &end, e) != IMGSTAT_OK)
        return e->code;
    d->in_member = !end;
    if (n)
        return emit(d, d->out, n, buf, e);
    if (!end && d->in_len == before && (before || d->up_eof))
        /* no progress: the input has ended inside a member (or the codec is stuck) */
        return err_set(e, IMGSTAT_EINPUT, "%s data ends early (truncated?)", codec_names[d->codec]);
    return 0;
}

static ssize_t dec_read(void *ctx, const unsigned char **buf, struct err *e)
{
    struct dec *d = ctx;
    if (!d->started && start(d, e) != IMGSTAT_OK)
        return e->code;
    while (!d->finished) {
        if (d->codec == C_NONE) {
            int rc = d->in_len ? 1 : refill(d, e);
            if (rc <= 0) {
                if (rc < 0)
                    return rc;
                d->finished = true;
                break;
            }
            size_t n = d->in_len;
            d->in_len = 0;
            return emit(d, d->in, n, buf, e);
        }
        ssize_t n = step(d, buf, e);
        if (n != 0)
            return n;
    }
    return 0;
}

void dec_src(struct dec *d, struct byte_src *out)
{
    *out = (struct byte_src){dec_read, NULL, d};
}

int dec_drain(struct dec *d, struct err *e)
{
    const unsigned char *buf;
    ssize_t n = 0;
    /* D5: a compressed blob is decoded to its end, verified or not; a plain one only when the
     * tar stream is digested */
    if (!d->started || d->codec != C_NONE || d->o.out_alg)
        while ((n = dec_read(d, &buf, e)) > 0)
            ;
    if (n < 0)
        return (int)n;
    if (!d->o.in_alg && !d->xxh)
        return IMGSTAT_OK;
    size_t len;
    int rc; /* trailing data: the blob's digest and checksum cover it */
    while ((rc = up_next(d, &buf, &len, e)) > 0)
        ;
    return rc;
}

void dec_result(struct dec *d, struct dec_result *r)
{
    if (d->o.in_alg && d->din.ctx)
        digest_final(&d->din, d->in_digest);
    if (d->o.out_alg && d->dout.ctx)
        digest_final(&d->dout, d->out_digest);
    r->codec = codec_names[d->codec];
    r->in_bytes = d->in_bytes;
    r->out_bytes = d->out_bytes;
    memcpy(r->in_digest, d->in_digest, DIGEST_MAX);
    memcpy(r->out_digest, d->out_digest, DIGEST_MAX);
    r->has_xxh = d->xxh != NULL;
    if (d->xxh)
        XXH128_canonicalFromHash((XXH128_canonical_t *)r->xxh, XXH3_128bits_digest(d->xxh));
}
