/*
 * endpoints: the parameters and replies of each API (HSS-API.md), on the store.
 */
#ifndef SERVER_ENDPOINTS_H
#define SERVER_ENDPOINTS_H

#include "handler.h"
#include "query.h"

/* Answer endpoint ep; image_id is the path's (decoded) image_id segment or NULL.  The
 * caller holds s->store_lock for reading. */
void ep_answer(struct srv *s, enum endpoint ep, const struct target *t, const char *image_id,
               struct srv_reply *rp);

/* image_id as a path gives it (sha256:HEX, HEX, or >= 12 hex digits of one) into hex[65];
 * else the reply is 400 and false. */
bool ep_image_id(const char *image_id, char hex[65], struct srv_reply *rp);

/* What a find of path_id (and a ref when by_ref) found: true for one scanned image im; else
 * the reply says why (404 none, 400 an ambiguous prefix, 500 the catalog, 409 not scanned
 * yet or failed) and false. */
bool ep_found(enum store_found rc, const char *path_id, bool by_ref, const struct store_image *im,
              struct srv_reply *rp);

#endif
