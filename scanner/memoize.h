/*
 * memoize: one layer through the layer memo (catalog/memo.h), for the pipeline.
 *
 * A layer whose blob digest is known is looked up before it is decoded: on a hit its
 * records are replayed and its blob is not read.  On a miss it is decoded with its blob
 * hashed on the way (decode.c) and its entries recorded, and it is stored only when the
 * digest of the bytes actually read equals the key.  Layers walked by seeking (uncompressed,
 * in a file) are never looked up nor stored: their bytes are never read, so never hashed,
 * and walking them costs about what a lookup would (bench/README.md, "layer memo").
 * Never with --verify: it reads and checks every blob (M7).
 *
 * In a one-pass stream (scanner/stream.c) the memo is used while the members pass, before
 * any manifest says which image uses which (M5): a member whose name carries a digest is
 * looked up first and, when the row's keyed checksum is known and its blob size matches, read
 * through with that checksum only (no inflating); otherwise it is decoded with its blob
 * hashed and stored when the digest of its bytes is its name's.  memoize_walk() then only
 * replays a stream's members.
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

/* Stream mode: the digest member m of stream s is looked up and stored under, into
 * key[DIGEST_MAX], and its algorithm into alg[16]; false when the memo is off, --verify is
 * on, or the name carries no digest imgstat can compute. */
bool memoize_stream_key(const struct source *s, const struct member *m, char *key, char *alg);

/*
 * Stream mode, before member m (its records empty, on s's directory table) is decoded: look
 * it up under key and, on a usable row, read its bytes through `up` to the end.  *done: the
 * bytes were read; then m is recorded from the memo (m->cached), or, when they are not the
 * stored layer's, m->why says so (an error only if an image uses the member, M5).  Not
 * done: nothing was read and m's records are still empty (decode it).  Fails only when
 * reading fails.
 */
int memoize_stream_lookup(struct source *s, struct member *m, const char *key,
                          const struct byte_src *up, bool *done, struct err *e);

/* Stream mode, after m was decoded with its blob hashed (meta): store its records when the
 * digest of its bytes is key (M2). */
void memoize_stream_store(const struct source *s, const struct member *m, const char *key,
                          const struct layer_meta *meta);

#endif
