#include "digest.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static const EVP_MD *md_of(const char *alg, size_t len)
{
    if (len == 6 && memcmp(alg, "sha256", 6) == 0)
        return EVP_sha256();
    if (len == 6 && memcmp(alg, "sha512", 6) == 0)
        return EVP_sha512();
    return NULL;
}

bool dg_supported(const char *alg, size_t len)
{
    return md_of(alg, len) != NULL;
}

bool dg_init(struct dg *d, const char *alg)
{
    d->alg = alg;
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, md_of(alg, strlen(alg)), NULL) != 1) {
        dg_free(d);
        return false;
    }
    return true;
}

void dg_update(struct dg *d, const void *buf, size_t len)
{
    if (d->ctx && len)
        EVP_DigestUpdate(d->ctx, buf, len);
}

void dg_final(struct dg *d, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int w = snprintf(out, DIGEST_MAX, "%s:", d->alg);
    if (d->ctx && EVP_DigestFinal_ex(d->ctx, md, &n) == 1)
        for (unsigned i = 0; i < n && w + 3 <= DIGEST_MAX; i++, w += 2)
            snprintf(out + w, 3, "%02x", md[i]);
    dg_free(d);
}

void dg_free(struct dg *d)
{
    EVP_MD_CTX_free(d->ctx);
    d->ctx = NULL;
}

const char *dg_alg(const char *digest, size_t *len)
{
    const char *colon = strchr(digest, ':');
    if (!colon || colon == digest)
        return NULL;
    *len = (size_t)(colon - digest);
    return digest;
}
