/*
 * digest: OCI digests ("sha256:HEX", "sha512:HEX"): computing them with OpenSSL's
 * libcrypto (the CPU's SHA instructions where it has them), checking their grammar
 * before they name a file, and reading the digest a member's name carries.
 */
#ifndef IMGSTAT_DIGEST_H
#define IMGSTAT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct err;

/* "sha512:" plus 128 hex digits and a NUL */
#define DIGEST_MAX 136

struct digest_ctx {
    void *ctx; /* EVP_MD_CTX */
    const char *alg;
};

/* Is alg one we can compute? ("sha256", "sha512") */
bool digest_alg_supported(const char *alg, size_t len);
/* Start a digest of algorithm alg (supported); false when out of memory. */
bool digest_init(struct digest_ctx *d, const char *alg);
void digest_update(struct digest_ctx *d, const void *buf, size_t len);
/* Finish into out[DIGEST_MAX] as "alg:hex" and free the context. */
void digest_final(struct digest_ctx *d, char *out);
void digest_free(struct digest_ctx *d);

/* The algorithm part of "alg:hex" (points into digest; len in *len); NULL if malformed. */
const char *digest_alg(const char *digest, size_t *len);

/* Validate "algorithm:encoded" (image-spec descriptor.md §Digests) before it names a file. */
bool digest_valid(const char *d);

/* Are the n bytes at s lowercase hex digits? */
bool digest_is_hex(const char *s, size_t n);

/* The digest a member's name carries, into out[DIGEST_MAX]: blobs/ALG/ENCODED, a crane
 * config named sha256:HEX, or HEX.json / HEX.tar / HEX.tar.gz / HEX.tar.zst (docker-save,
 * skopeo, crane).  False when the name carries none. */
bool digest_from_name(const char *name, char *out);

/* The same, copied into the arena (an image ID from its config's name), or NULL. */
const char *digest_id_from_name(struct arena *a, const char *name);

/* The bytes of a blob against the digest that names it: IMGSTAT_OK, or e set (a mismatch,
 * or an algorithm imgstat cannot compute). */
int digest_check(const void *buf, size_t len, const char *expected, const char *what,
                 struct err *e);

#endif
