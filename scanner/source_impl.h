/*
 * source_impl: what source.c (opening, indexing, finding), source_walk.c (walking layer
 * members) and stream.c (one-pass streams) share.  Not part of any interface.
 */
#ifndef IMGSTAT_SOURCE_IMPL_H
#define IMGSTAT_SOURCE_IMPL_H

#include <archive.h>

#include "decode.h"
#include "source.h"

/* Walk a layer blob read from `up` through the decode pipeline into sink; in_alg is the
 * algorithm of its expected digest for --verify (NULL: none).  s may be NULL. */
int src_walk_dec(const struct source *s, const struct byte_src *up, const char *in_alg,
                 layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e);

/* The digest algorithm a member's name implies (blobs/sha512/...), for --verify. */
const char *src_name_alg(const char *name);

/* Open name beneath a layout directory into *fd: IMGSTAT_OK with *fd = -1 when it does not
 * exist, else an error (a name leading outside the directory, an I/O failure). */
int src_dir_open(const struct source *s, const char *name, int *fd, struct err *e);

/* libarchive's message for a, or `otherwise` when it has none (never NULL: no "(null)"). */
const char *src_archive_msg(struct archive *a, const char *otherwise);

/* Are h[0..n) a tar header (512 bytes with a valid checksum)? */
bool src_tar_header(const unsigned char *h, size_t n);

/* Stream mode: report the bytes read so far to the progress callback, if any. */
void src_stream_progress(struct source *s);

/* Stream mode: keep or record the current member of the outer archive `a`. */
int src_stream_member(struct source *s, struct archive *a, struct member *m, struct err *e);

#endif
