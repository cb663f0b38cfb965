#include "digest.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "arena.h"
#include "err.h"
#include "imgstat.h"

static const EVP_MD *md_of(const char *alg, size_t len)
{
    if (len == 6 && memcmp(alg, "sha256", 6) == 0)
        return EVP_sha256();
    if (len == 6 && memcmp(alg, "sha512", 6) == 0)
        return EVP_sha512();
    return NULL;
}

bool digest_alg_supported(const char *alg, size_t len)
{
    return md_of(alg, len) != NULL;
}

bool digest_init(struct digest_ctx *d, const char *alg)
{
    d->alg = alg;
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, md_of(alg, strlen(alg)), NULL) != 1) {
        digest_free(d);
        return false;
    }
    return true;
}

void digest_update(struct digest_ctx *d, const void *buf, size_t len)
{
    if (d->ctx && len)
        EVP_DigestUpdate(d->ctx, buf, len);
}

void digest_final(struct digest_ctx *d, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int w = snprintf(out, DIGEST_MAX, "%s:", d->alg);
    if (d->ctx && EVP_DigestFinal_ex(d->ctx, md, &n) == 1)
        for (unsigned i = 0; i < n && w + 3 <= DIGEST_MAX; i++, w += 2)
            snprintf(out + w, 3, "%02x", md[i]);
    digest_free(d);
}

void digest_free(struct digest_ctx *d)
{
    EVP_MD_CTX_free(d->ctx);
    d->ctx = NULL;
}

const char *digest_alg(const char *digest, size_t *len)
{
    const char *colon = strchr(digest, ':');
    if (!colon || colon == digest)
        return NULL;
    *len = (size_t)(colon - digest);
    return digest;
}

bool digest_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool digest_from_name(const char *name, char *out)
{
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    static const char *const suffixes[] = {".json", ".tar", ".tar.gz", ".tar.zst"};
    if (strncmp(name, "blobs/", 6) == 0 && base - name > 7 &&
        !memchr(name + 6, '/', (size_t)(base - name - 7))) {
        snprintf(out, DIGEST_MAX, "%.*s:%s", (int)(base - name - 7), name + 6, base);
        return digest_valid(out);
    }
    if (strncmp(name, "sha256:", 7) == 0 && strlen(name) < DIGEST_MAX) {
        snprintf(out, DIGEST_MAX, "%s", name);
        return digest_valid(out);
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        if (digest_is_hex(base, 64) && strcmp(base + 64, suffixes[i]) == 0) {
            snprintf(out, DIGEST_MAX, "sha256:%.64s", base);
            return true;
        }
    }
    return false;
}

const char *digest_id_from_name(struct arena *a, const char *name)
{
    char d[DIGEST_MAX];
    return digest_from_name(name, d) ? arena_strdup(a, d) : NULL;
}

bool digest_valid(const char *d)
{
    const char *colon = strchr(d, ':');
    if (!colon || colon == d || !colon[1])
        return false;
    /* algorithm: [a-z0-9]+([+._-][a-z0-9]+)* */
    bool need_alnum = true;
    for (const char *p = d; p < colon; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
        if (alnum)
            need_alnum = false;
        else if (strchr("+._-", *p) && !need_alnum)
            need_alnum = true;
        else
            return false;
    }
    if (need_alnum)
        return false;
    /* encoded: [a-zA-Z0-9=_-]+ */
    size_t len = 0;
    for (const char *p = colon + 1; *p; p++, len++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || strchr("=_-", *p);
        if (!ok)
            return false;
    }
    size_t alen = (size_t)(colon - d);
    /* registered algorithms have fixed lengths (descriptor.md §Registered algorithms) */
    if (alen == 6 && strncmp(d, "sha256", 6) == 0)
        return len == 64 && digest_is_hex(colon + 1, 64);
    if (alen == 6 && strncmp(d, "sha512", 6) == 0)
        return len == 128 && digest_is_hex(colon + 1, 128);
    return true;
}

int digest_check(const void *buf, size_t len, const char *expected, const char *what, struct err *e)
{
    size_t alen;
    const char *alg = digest_alg(expected, &alen);
    char name[16];
    if (!alg || alen >= sizeof name || !digest_alg_supported(alg, alen))
        return err_set(e, IMGSTAT_EINPUT, "%s: cannot verify digest %.80s (sha256 and sha512 only)",
                       what, expected);
    memcpy(name, alg, alen);
    name[alen] = '\0';
    struct digest_ctx d;
    char got[DIGEST_MAX];
    if (!digest_init(&d, name))
        return err_nomem(e);
    digest_update(&d, buf, len);
    digest_final(&d, got);
    if (strcmp(got, expected) != 0)
        return err_set(e, IMGSTAT_EINPUT, "%s: digest mismatch: expected %s, got %s", what,
                       expected, got);
    return IMGSTAT_OK;
}
