/*
 * tar_impl: what tar.c (blocks, headers, the walk) and tar_pax.c (Go's number parsing, pax
 * records, sparse maps) share.  Not part of any interface.
 */
#ifndef IMGSTAT_TAR_IMPL_H
#define IMGSTAT_TAR_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tar.h"

#define TAR_BLOCK 512

/* Bytes and a length, not NUL-terminated; n == 0 is Go's "" (absent or empty). */
struct tstr {
    const char *p;
    size_t n;
};

/* A buffer kept for the whole walk, grown on demand (never past TAR_MAX_SPECIAL + 1). */
struct gbuf {
    char *p;
    size_t n, cap;
};

/* The records of one pax 'x' header that change what imgstat sees (Go's paxHdrs, where the
 * last record of a key wins).  Values point into the header's body. */
struct tar_pax {
    bool set;
    struct tstr path, linkpath, size, uid, gid, atime, mtime, ctime;
    struct tstr sp_major, sp_minor, sp_name, sp_size, sp_realsize, sp_numblocks, sp_map;
};

/* The reader: its source, the unread part of the source's last buffer, and the buffers kept
 * for the walk. */
struct tar_rd {
    const struct byte_src *src;
    const unsigned char *buf;
    size_t len;
    uint64_t pos; /* bytes consumed */
    bool eof;
    unsigned char blk[TAR_BLOCK]; /* a block that straddles two source buffers */
    struct gbuf pax, lname, llink, spmap;
    struct tar_pax px;
};

/* Checking a sparse map as Go's validateSparseEntries does, while it is read. */
struct tar_sparse {
    int64_t size;    /* the logical size the fragments must fit in */
    int64_t pre_end; /* end of the previous fragment */
    int64_t data;    /* bytes of data the fragments hold */
    bool bad;        /* an invalid fragment was seen */
};

/* ---- Go's number parsing (strconv.go, strconv.ParseInt) --------------------------------- */

/* strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, in range. */
bool tar_atoi64(const char *s, size_t n, int64_t *out);
/* parseNumeric: base-256 when the first bit is set, else octal; false when Go's fails. */
bool tar_numeric(const unsigned char *b, size_t n, int64_t *out);
/* parseOctal: trimmed of spaces and NULs, up to the first NUL, base 8. */
bool tar_octal(const unsigned char *b, size_t n, int64_t *out);

/* ---- pax records (reader.go parsePAX, strconv.go parsePAXRecord) ------------------------- */

/* Parse and validate the body of an x or g header into rd->px (T3). */
int tar_pax_parse(struct tar_rd *rd, const char *body, size_t len, struct err *e);
/* mergePAX's checks of the values a header would take: uid, gid, times, size (T3). */
int tar_pax_check(const struct tar_pax *px, struct err *e);

/* ---- sparse files (reader.go handleSparseFile) -------------------------------------------- */

void tar_sparse_add(struct tar_sparse *sp, int64_t off, int64_t len);
/* The GNU.sparse version the records say: 0 none, 1 for 0.0/0.1, 2 for 1.0. */
int tar_pax_sparse_kind(const struct tar_pax *px);
/* readGNUSparseMap0x1: the map of pax records GNU.sparse.numblocks and .map. */
int tar_sparse_map01(const struct tar_pax *px, struct tar_sparse *sp, struct err *e);
/* readGNUSparseMap1x0: the map at the start of the data; *phys is what is left of it. */
int tar_sparse_map10(struct tar_rd *rd, int64_t *phys, struct tar_sparse *sp, struct err *e);
/* readOldGNUSparseMap: the 4 entries of the header (bytes 386..482 of it, copied to map) and
 * its extension blocks, read from the stream. */
int tar_sparse_old(struct tar_rd *rd, const unsigned char *map, struct tar_sparse *sp,
                   struct err *e);

/* ---- input (tar.c) ------------------------------------------------------------------------ */

/* The next 512 bytes: *blk points at them; *got < 512 only at the end of the source. */
int tar_take_block(struct tar_rd *rd, const unsigned char **blk, size_t *got, struct err *e);

/* A one-line error about the archive at rd's position. */
int tar_bad(struct tar_rd *rd, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
