/*
 * source: the members of an image container, whatever holds them.
 *
 * Three kinds, chosen by src_open() from the input itself:
 * - SRC_DIR: an OCI image-layout directory; members are files beneath it, opened
 *   with RESOLVE_BENEATH so no name or symlink leads outside.
 * - SRC_TAR: an uncompressed tarball in a seekable file; one pass over the
 *   headers indexes every member's byte range (a sparse member's data extents),
 *   then members are read with pread.
 * - SRC_STREAM: a pipe or a compressed tarball, read in exactly one pass.  JSON
 *   documents are kept in memory (at most opts.max_kept_bytes); every other member
 *   is decoded as a layer while it passes and its entries recorded (rec_buf, with
 *   the source's directory table) for the merge to replay later, since manifests
 *   usually come after the layers.
 *
 * Member names are canonical (path_normalize); links between members are
 * followed by src_find().  Everything is owned by the source.
 */
#ifndef IMGSTAT_SOURCE_H
#define IMGSTAT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "digest.h"
#include "entry.h"
#include "reader.h"
#include "record.h"

/* JSON documents (manifests, indexes, configs) larger than this are refused (containerd: 20 MiB).
 */
#define SRC_JSON_MAX (16u * 1024 * 1024)
/* Small text members kept whole when streaming, such as the dir transport's `version` file
 * ("Directory Transport Version: 1.1"): far above any such file, far below any layer. */
#define SRC_TEXT_MAX (64u * 1024)
/* Links from one member to another followed before giving up (a cycle). */
#define SRC_MAX_LINK_HOPS 16
/* Members in one archive: the index costs ~100 bytes each. */
#define SRC_MAX_MEMBERS (1u << 22)

enum src_kind { SRC_DIR, SRC_TAR, SRC_STREAM };

enum mem_type { MEM_FILE = 1, MEM_DIR, MEM_SYMLINK, MEM_HARDLINK, MEM_OTHER };

struct member {
    const char *name;                  /* canonical */
    const char *link;                  /* MEM_SYMLINK/MEM_HARDLINK: canonical target member */
    uint64_t offset;                   /* SRC_TAR: data offset in the file */
    uint64_t size;                     /* logical: a sparse member's holes count */
    const struct range_extent *sparse; /* SRC_TAR: a sparse member's data extents, or NULL */
    size_t nsparse;
    uint8_t type;
    /* SRC_STREAM only */
    const unsigned char *data;          /* whole content, when kept (JSON, empty members) */
    struct rec_buf rec;                 /* decoded entries of every other member */
    bool recorded;                      /* rec holds the complete layer */
    const char *why;                    /* decode error, or why it is not a layer */
    int why_code;                       /* its error code */
    const char *compression;            /* of a recorded layer */
    uint64_t tar_bytes;                 /* of a recorded layer */
    bool cached;                        /* its records came from the layer memo (M5) */
    const char *in_digest, *out_digest; /* --verify: of the blob and of its tar stream */
    struct member *hnext;
};

struct memo;

struct src_opts {
    uint64_t max_layer_bytes; /* 0: no limit */
    bool verify;              /* compute digests of every layer blob and tar stream */
    uint64_t max_entries;     /* entries recorded from a stream; 0: no limit */
    uint64_t max_kept_bytes;  /* JSON kept while reading a stream; 0: no limit */
    /* a stream's one pass: input bytes read and entries recorded so far */
    void (*progress)(void *ctx, uint64_t bytes_read, uint64_t input_size, uint64_t entries);
    void *progress_ctx;
    /* the layer memo (borrowed; NULL: none): a stream looks up and stores its members as
     * they pass (M5), and a blob hashed for it also gets its keyed checksum (M3) */
    struct memo *memo;
};

struct source {
    enum src_kind kind;
    struct src_opts opts;
    int fd; /* SRC_DIR: the directory; SRC_TAR: the file; else -1 */
    bool own_fd;
    const char *outer_filter; /* the outer tarball's codec: "gzip", "zstd", "xz", "bzip2", "none" */
    struct arena arena;
    struct member **buckets;
    size_t nbuckets, nmembers;
    uint64_t kept;         /* SRC_STREAM: bytes of members kept whole */
    struct rec_dirs *dirs; /* SRC_STREAM: the directory names of every member's records */
    struct archive *outer; /* SRC_STREAM: the outer archive while it is read */
    uint64_t input_size;   /* 0 for a pipe */
    uint64_t in_bytes;     /* SRC_STREAM: bytes read from the input so far */
    uint64_t recorded;     /* SRC_STREAM: entries recorded so far */
    bool over_limit;       /* SRC_STREAM: recorded passed opts.max_entries */
};

/* Open path ("-" for stdin) and, for tarballs, index or stream every member. */
int src_open(struct source **out, const char *path, const struct src_opts *o, struct err *e);
void src_close(struct source *s);

/*
 * The regular-file member called name (canonical), following member links.
 * *out is NULL when there is none; an error only for link cycles or I/O.
 */
int src_find(struct source *s, const char *name, const struct member **out, struct err *e);

/* Does the regular-file member `name` exist (following member links)? */
bool src_exists(struct source *s, const char *name);

/* The whole content of a member of at most max bytes; *buf is owned by the source. */
int src_read(struct source *s, const char *name, size_t max, const unsigned char **buf, size_t *len,
             struct err *e);

/* The member holding a layer: an error when it is missing or known to be unreadable.
 * Not thread-safe (a directory source caches what it finds). */
int src_layer(struct source *s, const char *name, const struct member **out, struct err *e);

/* What decoding a layer learnt besides its entries. */
struct layer_meta {
    const char *compression; /* "gzip", "zstd", "xz", "bzip2" or "none", from the bytes */
    uint64_t tar_bytes;      /* uncompressed bytes read (to the tar end marker unless verifying) */
    uint64_t stream_bytes;   /* with in_alg: every uncompressed byte of the blob, else 0 */
    /* the blob (when in_alg was given and it was read to its end, else "") and, with
     * --verify, the tar stream */
    char in_digest[DIGEST_MAX], out_digest[DIGEST_MAX];
    bool has_xxh; /* in_alg with the memo on: the blob's keyed XXH3-128 (M3) */
    unsigned char in_xxh[16];
};

/* Decode a member found by src_layer() as a layer tar and emit its entries; meta may be NULL.
 * in_alg: hash the blob with this algorithm, reading it to its end (--verify, and the layer
 * memo, which stores only what it saw hashed, with its keyed checksum when opts.memo is on);
 * a layer walked by seeking is never hashed.
 * Thread-safe: several members of one source may be walked at once. */
int src_walk_member(const struct source *s, const struct member *m, const char *in_alg,
                    layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e);

/* Would src_walk_member walk this member by seeking over file data (an uncompressed layer
 * in a file, not verifying)?  Then its bytes are never read, so never hashed. */
int src_member_seeks(const struct source *s, const struct member *m, bool *seeks, struct err *e);

/* Decode a layer held in memory (inline data, kept members); meta may be NULL; s may be
 * NULL (no limit, no verification). */
int src_walk_memory(const struct source *s, const void *buf, size_t len, const char *in_alg,
                    layer_sink sink, void *ctx, struct layer_meta *meta, struct err *e);

#endif
