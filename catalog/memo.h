/*
 * memo: the layer memo (issue 10).  Per layer blob, its entry records (bytes the layer
 * above exported, zstd-compressed here) and the figures that do not depend on the layers
 * below, keyed by the blob's digest together with the record format version, so an imgstat
 * whose records differ never reads another's (M1).  What is stored was verified by the
 * caller: the digest of the bytes it read equals the key (M2).
 *
 * A struct memo is one scan's session on a catalog file (db.h), owned or shared.  It counts
 * its hits and misses, notes the layers it used (memo_flush makes them most recently used),
 * and at its first failure turns itself off, or read-only when only writing failed, keeping
 * one warning line: the memo never costs an answer (M7).  Every call is thread-safe (it takes
 * the file's lock); compression and decompression run outside the lock.
 */
#ifndef IMGSTAT_CAT_MEMO_H
#define IMGSTAT_CAT_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* The catalog file inside a cache directory. */
#define MEMO_FILE "imgstat.db"
/* How long a memo write waits for other imgstat processes' writes before it gives up (with
 * a warning): theirs take milliseconds, so only a stuck lock waits this long. */
#define MEMO_BUSY_MS 3000
/* Records of one layer larger than this (uncompressed) are not stored: ~20M entries. */
#define MEMO_MAX_RAW (UINT64_C(1) << 30)

/* A layer's figures that do not depend on the layers below it. */
struct memo_figures {
    const char *compression; /* "gzip", "zstd" or "none" */
    uint64_t blob_bytes;     /* the blob */
    uint64_t tar_bytes;      /* uncompressed, read to the tar end marker */
    uint64_t stream_bytes;   /* uncompressed, the whole blob (for --max-layer-bytes) */
    uint64_t entries;        /* records */
};

struct memo;
struct memo_blob;

/* A session on DIR/imgstat.db, creating both when absent; memo_attach borrows an open file
 * instead.  Never NULL unless out of memory; a file that cannot be used gives a memo that
 * is off, with its warning. */
struct memo *memo_open(const char *dir, uint64_t max_bytes);
struct memo *memo_attach(struct cat_db *db, uint64_t max_bytes);
/* memo_flush, then free (the file too when the memo owns it).  Accepts NULL. */
void memo_close(struct memo *m);

/* The first failure, as one line ("layer memo not used: ..."), or NULL. */
const char *memo_warning(const struct memo *m);
/* Keep msg as the warning when there is none yet, without turning the memo off (a layer it
 * declined to store, say). */
void memo_note(struct memo *m, const char *msg);

/* Is the memo still in use? */
bool memo_on(const struct memo *m);

/* The file's secret for every XXH3-128 the memo stores or compares
 * (XXH3_128bits_reset_withSecret; M3): *len bytes, valid until memo_close; NULL when the
 * memo is off. */
const void *memo_secret(const struct memo *m, size_t *len);

/* Where a blob's bytes are: the identity of the file holding them (its ctime changes on
 * any write) and the offset in it.  Bytes seen at an unchanged place are the same bytes. */
struct memo_loc {
    uint64_t dev, ino, size, offset;
    int64_t mtime_ns, ctime_ns;
};

/* A stored layer, as memo_lookup finds it. */
struct memo_row {
    int64_t id;
    struct memo_figures fig;
    struct memo_loc seen; /* where its blob was last seen and checked */
    bool has_xxh;         /* xxh: keyed XXH3-128 of the blob (memo_secret), when known */
    unsigned char xxh[16];
    void *z; /* the compressed records (owned; memo_row_free) */
    size_t zlen;
    uint64_t raw; /* their size uncompressed */
};

/*
 * The layer stored under key (a digest) and version into *row; false when there is none (a
 * miss is counted).  max_stream (0: none): a layer whose whole uncompressed stream is larger
 * is passed over, so a limit fails as it would cold (M6).  The caller then checks that the blob
 * it has is the stored one and says so with memo_confirm or memo_reject.
 */
bool memo_lookup(struct memo *m, const char *key, unsigned version, uint64_t max_stream,
                 struct memo_row *row);
/* The row's records decompressed (*buf malloc'd, the caller frees); false when they are
 * damaged: the row is dropped, with a warning. */
bool memo_records(struct memo *m, const char *key, unsigned version, const struct memo_row *row,
                  void **buf, size_t *len);
/* The blob checked out: count a hit, mark the row used and, when the blob was seen at a new
 * place (where != NULL) or its checksum is new (xxh != NULL), remember them (memo_flush). */
void memo_confirm(struct memo *m, const struct memo_row *row, const struct memo_loc *where,
                  const unsigned char *xxh);
/* The blob is not the stored one (a damaged file, a name that lies): count a miss. */
void memo_reject(struct memo *m);
void memo_row_free(struct memo_row *row);

/* A row that memo_lookup returned but the caller could not import: dropped, with a warning. */
void memo_forget(struct memo *m, const char *key, unsigned version, const char *why);

/* Record bytes on their way to memo_put, compressed as they arrive (memo_blob_add has
 * rec_out_fn's shape).  NULL when out of memory. */
struct memo_blob *memo_blob_new(void);
int memo_blob_add(void *blob, const void *buf, size_t len);
void memo_blob_free(struct memo_blob *b);

/* Store a verified layer whose blob was read at `where` (NULL: in no file, a stream's member)
 * with xxh, the keyed XXH3-128 of its bytes (NULL: unknown); nothing happens when the memo is
 * off or read-only.  A layer already stored keeps its row and takes the checksum.  Evicts
 * the least recently used layers beyond the size bound in the same transaction. */
void memo_put(struct memo *m, const char *key, unsigned version, const struct memo_figures *fig,
              const struct memo_loc *where, const unsigned char *xxh, struct memo_blob *b);

/* Write the session's hits, misses, the use times of the layers it read and where their
 * blobs were seen. */
void memo_flush(struct memo *m);

/* imgstat cache info / clear, on an open file. */
struct memo_info {
    uint64_t layers, bytes; /* stored layers, and their compressed record bytes */
    uint64_t hits, misses;  /* since the file was created */
    int64_t created_ms;
};
int memo_info(struct cat_db *db, struct memo_info *out, struct err *e);
int memo_clear(struct cat_db *db, struct err *e);

#endif
