/*
 * digest: OCI digests ("sha256:HEX", "sha512:HEX") computed with OpenSSL's
 * libcrypto, which uses the CPU's SHA instructions where it has them.
 */
#ifndef IMGSTAT_DIGEST_H
#define IMGSTAT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

/* "sha512:" plus 128 hex digits and a NUL */
#define DIGEST_MAX 136

struct dg {
    void *ctx; /* EVP_MD_CTX */
    const char *alg;
};

/* Is alg one we can compute? ("sha256", "sha512") */
bool dg_supported(const char *alg, size_t len);
/* Start a digest of algorithm alg (supported); false when out of memory. */
bool dg_init(struct dg *d, const char *alg);
void dg_update(struct dg *d, const void *buf, size_t len);
/* Finish into out[DIGEST_MAX] as "alg:hex" and free the context. */
void dg_final(struct dg *d, char *out);
void dg_free(struct dg *d);

/* The algorithm part of "alg:hex" (points into digest; len in *len); NULL if malformed. */
const char *dg_alg(const char *digest, size_t *len);

#endif
