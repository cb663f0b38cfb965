/*
 * reader: a member's bytes in a file, read with pread: a byte source for the layer tar reader
 * and the decode stage (tar.h), and libarchive client callbacks for the outer tarball.
 *
 * A member is a byte range of the file, or, for a sparse member of a tarball (S1), a
 * list of data extents whose holes read as zeros: offsets are always the member's
 * logical ones.  Seeking and skipping only move an offset, so an uncompressed layer
 * inside a tarball costs a read of its headers, not of its file data (nor of its
 * holes).  Reads start small after a skip and double while they stay sequential.  Each
 * reader has its own buffer and uses pread, so readers over one fd may run in parallel
 * threads.
 */
#ifndef IMGSTAT_READER_H
#define IMGSTAT_READER_H

#include <archive.h>
#include <stdbool.h>
#include <stdint.h>

#include "tar.h"

struct err;

/* A data extent of a sparse member: logical bytes [off, off + len) stored at file offset at.
 * A member's extents are in logical order, do not overlap and are not empty. */
struct range_extent {
    uint64_t off, len, at;
};

struct range_reader {
    int fd;
    uint64_t start;                 /* file offset of logical byte 0 (no extents) */
    uint64_t size, pos;             /* logical size and position */
    const struct range_extent *ext; /* sparse: the data extents, else NULL */
    size_t next;                    /* their number */
    unsigned char *buf;
    size_t want, max; /* next read size, and how far it may grow */
    int err_no;       /* errno of a failed pread, for the message */
};

/* Prepare a reader over fd's bytes [start, start+len), or over the len logical bytes of a
 * sparse member when ext is not NULL (next extents, borrowed); range_fini() frees it. */
int range_init(struct range_reader *r, int fd, uint64_t start, uint64_t len,
               const struct range_extent *ext, size_t next, struct err *e);
void range_fini(struct range_reader *r);
/* The member as a byte source; with `seekable`, skipping moves the offset (reads stay small,
 * for a walk over headers), else the source only reads (an upstream of the decode stage). */
void range_src(struct range_reader *r, bool seekable, struct byte_src *out);

/* Open archive `a` (already configured) over a member as range_init() takes it, with seeking. */
int range_open(struct archive *a, struct range_reader *r, int fd, uint64_t start, uint64_t len,
               const struct range_extent *ext, size_t next, struct err *e);

/* Read exactly len bytes at offset into buf: IMGSTAT_OK, or e set (short file: EINPUT). */
int pread_full(int fd, void *buf, size_t len, uint64_t offset, const char *what, struct err *e);

/* Read len logical bytes from offset of a member as range_init() takes it (holes are zeros). */
int range_pread(int fd, uint64_t start, const struct range_extent *ext, size_t next, void *buf,
                size_t len, uint64_t offset, const char *what, struct err *e);

#endif
