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

#endif
