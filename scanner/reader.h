/*
 * reader: a byte range of a file read with pread, as a byte source for the layer tar reader
 * and the decode stage (tar.h), and as libarchive client callbacks for the outer tarball.
 *
 * Seeking and skipping only move an offset, so an uncompressed layer inside a
 * tarball costs a read of its headers, not of its file data.  Reads start small
 * after a skip and double while they stay sequential.  Each reader has its own
 * buffer and uses pread, so readers over one fd may run in parallel threads.
 */
#ifndef IMGSTAT_READER_H
#define IMGSTAT_READER_H

#include <archive.h>
#include <stdbool.h>
#include <stdint.h>

#include "tar.h"

struct err;

struct range_reader {
    int fd;
    uint64_t start, end, pos; /* absolute start and end; pos is relative to start */
    unsigned char *buf;
    size_t want, max; /* next read size, and how far it may grow */
    int err_no;       /* errno of a failed pread, for the message */
};

/* Prepare a reader over fd's bytes [start, start+len); range_fini() frees it. */
int range_init(struct range_reader *r, int fd, uint64_t start, uint64_t len, struct err *e);
void range_fini(struct range_reader *r);
/* The range as a byte source; with `seekable`, skipping moves the offset (reads stay small,
 * for a walk over headers), else the source only reads (an upstream of the decode stage). */
void range_src(struct range_reader *r, bool seekable, struct byte_src *out);

/* Open archive `a` (already configured) over fd's bytes [start, start+len), with seeking. */
int range_open(struct archive *a, struct range_reader *r, int fd, uint64_t start, uint64_t len,
               struct err *e);

/* Read exactly len bytes at offset into buf: IMGSTAT_OK, or e set (short file: EINPUT). */
int pread_full(int fd, void *buf, size_t len, uint64_t offset, const char *what, struct err *e);

#endif
