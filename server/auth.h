/*
 * auth: who may ask.  Two schemes, either enough (HSS-API.md):
 *   - SDK-HMAC-SHA256, the signature every official Huawei Cloud SDK puts on its requests,
 *     verified with the AK/SK pairs of --credentials FILE;
 *   - X-Auth-Token, one of the tokens of --token-file FILE (for curl and scripts).
 * Secrets are compared in constant time (CRYPTO_memcmp over fixed-length digests), never
 * logged, and never part of a reply; the files must not grant others any access.
 */
#ifndef SERVER_AUTH_H
#define SERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "query.h"
#include "request.h"

/* The window on X-Sdk-Date either side of the server's clock: the API gateway's (bounds
 * replay of a captured request). */
#define AUTH_WINDOW_SECONDS (15 * 60)
/* Keys or tokens one file may hold: a file with more is not hand-written. */
#define AUTH_MAX_ENTRIES 4096
/* Longest AK, SK or token accepted (Huawei's AK is 20 characters, SK 40). */
#define AUTH_MAX_SECRET 512

struct auth;

/* Read the files (either may be NULL); *out is NULL when both are NULL (no authentication).
 * Returns 0, or -1 with a one-line reason (naming the file and line, never a secret). */
int auth_load(struct auth **out, const char *credentials, const char *tokens, char *why,
              size_t cap);
void auth_free(struct auth *a);

/* Add one AK/SK pair or token (for tests and the fuzz target); 0 or -1 (out of memory). */
int auth_add_key(struct auth *a, const char *ak, const char *sk);
int auth_add_token(struct auth *a, const char *token);
struct auth *auth_new(void);

/* Does the request authenticate?  true, or false with the reason in why (no secret in it). */
bool auth_check(const struct auth *a, const struct srv_request *rq, const struct target *t,
                char *why, size_t cap);

/* The SDK's canonical request and string to sign (exposed for the tests); the signature
 * is HMAC-SHA256(SK, string to sign) in lower-case hex. */
int auth_string_to_sign(const struct srv_request *rq, const struct target *t,
                        const char *signed_headers, const char *sdk_date, struct jbuf *out);

#endif
