/*
 * tar: read one layer's tar stream exactly as Go's archive/tar Reader.Next() does (Go 1.21
 * and later), then keep what the runtimes keep of each entry.
 *
 * Docker, containerd, podman and umoci all read layers with Go's archive/tar; a reader that
 * differs from it (libarchive lets a pax path win over a GNU long name, joins the prefix of
 * GNU headers, reads sparse maps its own way) would count another filesystem than the one a
 * runtime creates.  The rules are T1-T12 in docs/rules.md; every one cites the Go function it
 * follows.
 *
 * Headers only: file data is skipped, with the source's skip (a seek) where it has one.  No
 * allocation per entry: the bodies of pax and GNU long-name headers go to buffers kept for
 * the walk, each at most Go's 1 MiB.  Names are raw bytes.
 */
#ifndef IMGSTAT_TAR_H
#define IMGSTAT_TAR_H

#include <stdint.h>
#include <sys/types.h>

#include "entry.h"

struct err;

/* A source of bytes the reader pulls from: a layer blob as it is decoded
 * (scanner/decode.c), or a byte range of a file (scanner/reader.c). */
struct byte_src {
    /* Point *buf at the next bytes and return how many (> 0); 0 at the end; a negative code
     * with e set on failure.  The bytes stay valid until the next call. */
    ssize_t (*read)(void *ctx, const unsigned char **buf, struct err *e);
    /* Skip up to n bytes without reading them: how many were skipped (fewer than n only at
     * the end), or a negative code with e set.  NULL when the source cannot (the reader then
     * reads and drops them). */
    int64_t (*skip)(void *ctx, uint64_t n, struct err *e);
    void *ctx;
};

/* Go's maxSpecialFileSize: the body of an x, g, L or K header, and a sparse map, may not be
 * larger (archive/tar/format.go). */
#define TAR_MAX_SPECIAL (1u << 20)

/* Read the layer tar from src to its end (two zero blocks, or the end of the bytes at a
 * header boundary, T9) and give each entry to sink.  *tar_bytes (may be NULL) is set to the
 * bytes read up to that end, also on failure.  Returns IMGSTAT_OK or a negative code with e
 * set: Go's errors (T1-T11), a sink's error, or the source's. */
int tar_walk(const struct byte_src *src, layer_sink sink, void *ctx, uint64_t *tar_bytes,
             struct err *e);

#endif
