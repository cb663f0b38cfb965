/*
 * mkb_util.c: the small pieces mkbench needs and does not take from a
 * library: SHA-256 (FIPS 180-4), a seeded PRNG (xoshiro256**, splitmix64),
 * the file-content generator, a string buffer, fatal errors.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "mkbench.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mkbench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- SHA-256 ------------------------------------------------------------- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            k + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void sha256_init(struct sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->fill = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->len += n;
    if (s->fill) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->buf + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill < 64)
            return;
        sha256_block(s->h, s->buf);
        s->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        sha256_block(s->h, p);
    memcpy(s->buf, p, n);
    s->fill = n;
}

void sha256_hex(struct sha256 *s, char out[65])
{
    uint64_t bits = s->len * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
    for (int i = 0; i < 8; i++)
        pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(s, pad, padlen + 8);
    for (int i = 0; i < 8; i++)
        snprintf(out + 8 * i, 9, "%08x", (unsigned)s->h[i]);
}

/* ---- PRNG ---------------------------------------------------------------- */

uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        seed = mix64(seed);
        r->s[i] = seed;
    }
}

static uint64_t rol64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rol64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rol64(s[3], 45);
    return out;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
    return rng_next(r) % n; /* bias below 2^-40 for our n; fine for a benchmark */
}

double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- content generator --------------------------------------------------- */

/*
 * Output is made of 64-byte blocks of four kinds, like the parts of a binary:
 * random bytes (code, compressed data), words from a 4096-word vocabulary
 * (symbol and string tables), copies of recent output (repeated code and
 * structures) and zero padding. A kind persists for a while so runs form.
 * The weights give about 2.5x with gzip -6 and 3x with zstd -3.
 */
enum { GK_RANDOM, GK_WORDS, GK_COPY, GK_ZERO };
#define GEN_BLOCK 64
#define GEN_VOCAB 4096
#ifndef GEN_W_RANDOM /* percent of runs of each kind; the rest are copies */
#define GEN_W_RANDOM 18
#define GEN_W_WORDS 30
#define GEN_W_ZERO 4
#endif

void gen_start(struct gen *g, uint64_t seed)
{
    rng_seed(&g->r, seed);
    g->kind = GK_WORDS;
    g->end = 0;
}

static int gen_pick_kind(struct rng *r)
{
    unsigned v = (unsigned)rng_below(r, 100);
    if (v < GEN_W_RANDOM)
        return GK_RANDOM;
    if (v < GEN_W_RANDOM + GEN_W_WORDS)
        return GK_WORDS;
    if (v < GEN_W_RANDOM + GEN_W_WORDS + GEN_W_ZERO)
        return GK_ZERO;
    return GK_COPY;
}

/* Word k of the vocabulary: 3..14 characters of [a-z_], then a separator. */
static size_t gen_word(uint64_t k, unsigned char *p, size_t room)
{
    static const char sep[4] = {'\0', ' ', '.', '\n'};
    uint64_t h = mix64(k * 0x9e3779b97f4a7c15ULL + 12345);
    size_t len = 3 + (size_t)(h % 12), n = 0;
    for (h = mix64(h); n < len && n < room; n++, h = n % 10 ? h >> 6 : mix64(h))
        p[n] = (unsigned char)("abcdefghijklmnopqrstuvwxyz_etaoin"[(h & 63) % 33]);
    if (n < room)
        p[n++] = (unsigned char)sep[(k >> 3) & 3];
    return n;
}

static void gen_block(struct gen *g, unsigned char *p, size_t n)
{
    size_t avail = (size_t)(p - g->win);
    if ((rng_next(&g->r) & 7) == 0)
        g->kind = gen_pick_kind(&g->r);
    if (g->kind == GK_COPY && avail >= GEN_BLOCK) {
        size_t maxd = avail < GEN_HIST ? avail : GEN_HIST;
        size_t d = GEN_BLOCK + (size_t)rng_below(&g->r, maxd - GEN_BLOCK + 1);
        memcpy(p, p - d, n);
    } else if (g->kind == GK_RANDOM) {
        for (size_t i = 0; i < n; i += 8) {
            uint64_t v = rng_next(&g->r);
            memcpy(p + i, &v, n - i < 8 ? n - i : 8);
        }
    } else if (g->kind == GK_ZERO) {
        memset(p, 0, n);
    } else {
        uint64_t v = rng_next(&g->r);
        for (size_t i = 0; i < n; v = v >> 12 ? v >> 12 : rng_next(&g->r))
            i += gen_word(v % GEN_VOCAB, p + i, n - i);
    }
}

const unsigned char *gen_next(struct gen *g, size_t n)
{
    if (g->end > GEN_HIST) { /* keep the last GEN_HIST bytes as history */
        memmove(g->win, g->win + g->end - GEN_HIST, GEN_HIST);
        g->end = GEN_HIST;
    }
    unsigned char *out = g->win + g->end;
    for (size_t off = 0; off < n; off += GEN_BLOCK)
        gen_block(g, out + off, n - off < GEN_BLOCK ? n - off : GEN_BLOCK);
    g->end += n;
    return out;
}

/* ---- string buffer ------------------------------------------------------- */

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_free(struct sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}
