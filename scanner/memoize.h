/*
 * memoize: one layer through the layer memo (catalog/memo.h), for the pipeline.
 *
 * A layer whose blob digest is known is looked up before it is decoded: on a hit its
 * records are replayed and its blob is not read.  On a miss it is decoded with its blob
 * hashed on the way (decode.c) and its entries recorded, and it is stored only when the
 * digest of the bytes actually read equals the key.  Layers walked by seeking (uncompressed,
 * in a file) are never looked up nor stored: their bytes are never read, so never hashed,
 * and walking them costs about what a lookup would (bench/README.md, "layer memo").
 * Never with --verify: it reads and checks every blob.
 *
 * Hook for the one-pass stream (scanner/stream.c, left to the lead): a member whose name
 * carries a digest (digest_from_name) can be looked up with memo_get() as it arrives and, on
 * a hit, skipped without inflating it (rec_import into m->rec, m->recorded).  To store
 * stream layers, stream.c hashes the blob (its src_walk_dec call already passes in_alg) and
 * keeps meta.in_digest and meta.stream_bytes in the member; memoize_walk() then stores a
 * SRC_STREAM member from m->rec when m->in_digest equals the key, as decode_store() does.
 */
#ifndef IMGSTAT_MEMOIZE_H
#define IMGSTAT_MEMOIZE_H

#include <stdbool.h>

#include "memo.h"
#include "source.h"

/*
 * Walk layer member m of src into sink (as src_walk_member does, not verifying) through the
 * memo.  key: the digest the blob must have, or NULL when unknown (then the memo is not
 * used).  *cached: the entries came from the memo.  The memo's failures never fail the walk.
 * Thread-safe: helper threads walk layers of one source at once.
 */
int memoize_walk(struct memo *memo, const struct source *src, const struct member *m,
                 const char *key, layer_sink sink, void *ctx, struct layer_meta *meta, bool *cached,
                 struct err *e);

#endif
