/*
 * xxhkey: XXH3-128 of a file with a given secret, computed with libxxhash alone (no imgstat
 * code), so the catalog tests can check the checksums the layer memo stores (M3).
 *
 *   xxhkey SECRET_HEX FILE   keyed (XXH3_128bits_withSecret)
 *   xxhkey - FILE            unkeyed (XXH3_128bits), as schema 2 stored them
 *
 * Prints the hash's canonical bytes (big-endian) in hex.  Exit 1 on an I/O error, 2 on a
 * usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* A secret of up to this many bytes (the memo's is 192). */
#define XXHKEY_SECRET_MAX 4096

static size_t unhex(const char *s, unsigned char *out, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (unsigned char)v;
    }
    return n / 2;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (*len == cap) {
            unsigned char *p = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!p)
                break;
            buf = p;
        }
        size_t n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf ? buf : malloc(1);
}

int main(int argc, char **argv)
{
    static unsigned char secret[XXHKEY_SECRET_MAX];
    size_t slen = 0, len;
    if (argc != 3 || (strcmp(argv[1], "-") != 0 &&
                      (slen = unhex(argv[1], secret, sizeof secret)) < XXH3_SECRET_SIZE_MIN)) {
        fprintf(stderr, "usage: xxhkey SECRET_HEX|- FILE\n");
        return 2;
    }
    unsigned char *buf = slurp(argv[2], &len);
    if (!buf) {
        perror(argv[2]);
        return 1;
    }
    XXH128_hash_t h =
        slen ? XXH3_128bits_withSecret(buf, len, secret, slen) : XXH3_128bits(buf, len);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    for (size_t i = 0; i < sizeof c.digest; i++)
        printf("%02x", c.digest[i]);
    putchar('\n');
    free(buf);
    return 0;
}
