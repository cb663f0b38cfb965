/*
 * mkb_util.c: the small pieces mkbench needs and does not take from a
 * library (SHA-256 comes from libcrypto): a seeded PRNG (xoshiro256**, splitmix64),
 * the file-content generator, a string buffer, fatal errors.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "mkbench.h"

#include <openssl/evp.h>

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

/* ---- SHA-256, with OpenSSL's libcrypto (as imgstat itself) ------------------ */

void sha256_init(struct sha256 *s)
{
    if (!(s->ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1)
        die("sha256: cannot initialise libcrypto's digest");
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
    if (n && EVP_DigestUpdate(s->ctx, data, n) != 1)
        die("sha256: digest update failed");
}

void sha256_hex(struct sha256 *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(s->ctx, md, &n) != 1 || n != sizeof md)
        die("sha256: digest final failed");
    EVP_MD_CTX_free(s->ctx);
    s->ctx = NULL;
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
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
