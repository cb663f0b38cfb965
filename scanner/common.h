/*
 * common: small pieces the format readers share.
 */
#ifndef IMGSTAT_COMMON_H
#define IMGSTAT_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "digest.h"
#include "plan.h"

/* Canonical member name for a path a manifest gives; refuses absolute and escaping paths. */
int member_name(struct arena *a, const char *raw, const char *what, const char **out,
                struct err *e);

/* Does the member exist (following member links)? */
bool has_member(struct source *s, const char *name);

/* Copy os/architecture/variant from an image config (or a descriptor's platform). */
int set_platform(struct arena *a, struct image *img, const cJSON *obj, struct err *e);

/* The digest a member's name carries, into out[DIGEST_MAX]: blobs/ALG/ENCODED, a crane
 * config named sha256:HEX, or HEX.json / HEX.tar / HEX.tar.gz / HEX.tar.zst (docker-save,
 * skopeo, crane).  False when the name carries none. */
bool digest_from_name(const char *name, char *out);

/* The same, copied into the arena (an image ID from its config's name), or NULL. */
const char *id_from_name(struct arena *a, const char *name);

/* Are the n bytes at s lowercase hex digits? */
bool is_lower_hex(const char *s, size_t n);

/* --verify: the bytes of a JSON blob against the digest that names it (a no-op otherwise).
 * `expected` NULL means nothing names it; an algorithm we cannot compute is an error. */
int verify_blob(const struct source *s, const void *buf, size_t len, const char *expected,
                const char *what, struct err *e);

/* Validate "algorithm:encoded" (image-spec descriptor.md §Digests) before it names a file. */
bool digest_valid(const char *d);

#endif
