/*
 * imgstat: file statistics of a saved container image, read offline.
 *
 * Basic outline:
 *   1. Fill a struct imgstat_options (zero it first; every field has a default).
 *   2. imgstat_open(&h, path, &opts) reads the image's manifests and chooses the
 *      image.  path is a docker-save or oci-archive tarball (plain, gzip or zstd),
 *      an OCI image-layout directory, or "-" for such a tarball on stdin.
 *   3. imgstat_scan(h, &totals) applies the chosen image's layers, whiteouts
 *      included, and fills the totals of its final filesystem.
 *   4. Ask about the result: imgstat_image, imgstat_layer, imgstat_history, and walks over
 *      the final view (imgstat_files, imgstat_walk) and the wasted bytes
 *      (imgstat_wasted_files, with IMGSTAT_WASTE).
 *   5. On any result < IMGSTAT_OK, imgstat_errmsg(h) says what is wrong in one line.
 *   6. imgstat_close(h) frees everything; it accepts NULL.
 *
 * Ownership: the handle owns every string it returns; they stay valid until
 * imgstat_close().  The library never prints and never exits.
 * Thread safety: one handle per thread; distinct handles are independent.  The layer memo
 * (see imgstat_options) is opened by imgstat_open, one connection per handle
 * (its decoder threads share it under a lock); handles given one imgstat_catalog share
 * that catalog's connection.  Its trouble never fails a scan: imgstat_cache_warning().
 */
#ifndef IMGSTAT_H
#define IMGSTAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(IMGSTAT_BUILDING) && defined(__GNUC__)
#define IMGSTAT_API __attribute__((visibility("default")))
#else
#define IMGSTAT_API
#endif

/* Result codes, ordered like libarchive's: every failure is < IMGSTAT_OK. */
enum imgstat_code {
    IMGSTAT_OK = 0,
    IMGSTAT_EINPUT = -1,  /* the image is malformed, truncated or inconsistent */
    IMGSTAT_ESELECT = -2, /* no image, or more than one, matches the selection */
    IMGSTAT_ELIMIT = -3,  /* a safety limit was exceeded (the message names it) */
    IMGSTAT_ESYS = -4,    /* a system call failed (open, read) */
    IMGSTAT_ENOMEM = -5,  /* out of memory */
    IMGSTAT_EUSAGE = -6,  /* invalid options */
};

/* Flags for imgstat_options.flags. */
#define IMGSTAT_LENIENT                                                                            \
    0x1u /* merge conflicts (missing hard-link target, file as                                     \
            parent, bare ".wh.", symlink loop) warn and skip */
#define IMGSTAT_VERIFY                                                                             \
    0x2u /* check every blob read against its digest, and every                                    \
            layer's tar stream against the config's diff_ids */

#define IMGSTAT_NO_SELECT                                                                          \
    0x4u                      /* imgstat_open lists the images but chooses none: use               \
                                 imgstat_count() and imgstat_choose() (for --all) */
#define IMGSTAT_NO_CACHE 0x8u /* do not use the layer memo (nor does IMGSTAT_NO_CACHE=1) */
#define IMGSTAT_WASTE                                                                              \
    0x10u /* remember at which paths the layers wrote bytes the final view                         \
             lost, for imgstat_wasted_files (about 36 bytes per path more) */

/* Uncompressed bytes one layer may expand to unless max_layer_bytes says otherwise:
 * far above real layers, it only stops decompression bombs. */
#define IMGSTAT_DEFAULT_MAX_LAYER_BYTES (UINT64_C(1) << 40)
/* Tar entries read for one image (all layers), and recorded from one stream, unless
 * max_entries says otherwise: 20 times the largest real images seen (~1M paths); a bound
 * on memory for crafted layers of empty entries. */
#define IMGSTAT_DEFAULT_MAX_ENTRIES UINT64_C(20000000)
/* Bytes of JSON documents (manifests, indexes, configs) held in memory while a stream (a pipe,
 * a compressed tarball) is read in its one pass, unless max_kept_bytes says otherwise: a
 * docker save of a thousand images keeps a few MiB; layers are never kept, only their
 * entries. */
#define IMGSTAT_DEFAULT_MAX_KEPT_BYTES (UINT64_C(256) << 20)

/* Bytes of records the layer memo keeps unless cache_max says otherwise (least recently
 * used layers are evicted beyond it). */
#define IMGSTAT_DEFAULT_CACHE_MAX (UINT64_C(2) << 30)

/* A catalog of scanned images, and the layer memo's file (see "The catalog" below). */
typedef struct imgstat_catalog imgstat_catalog;

/* Where a scan is, for a progress display (imgstat_options.progress). */
struct imgstat_progress {
    int reading;             /* 1: reading a stream in its one pass; 0: merging layers */
    uint64_t bytes_done;     /* input bytes read (reading) or layer blob bytes merged */
    uint64_t bytes_total;    /* of the input or of all layer blobs; 0 when unknown (a pipe) */
    uint64_t layer, nlayers; /* merging: the layer being merged (1-based) and their number */
    uint64_t entries, files; /* tar entries read so far; files in the view so far */
};
typedef void (*imgstat_progress_fn)(void *ctx, const struct imgstat_progress *p);

struct imgstat_options {
    const char *image;            /* REF: tag, ref name, image ID (prefix), manifest digest */
    const char *platform;         /* "OS/ARCH[/VARIANT]"; NULL: the host's, if it decides */
    unsigned jobs;                /* layers decoded at once; 0: online CPUs; 1: no threads */
    unsigned flags;               /* IMGSTAT_LENIENT, IMGSTAT_VERIFY */
    uint64_t max_layer_bytes;     /* 0: IMGSTAT_DEFAULT_MAX_LAYER_BYTES; UINT64_MAX: none */
    uint64_t max_entries;         /* 0: IMGSTAT_DEFAULT_MAX_ENTRIES; UINT64_MAX: none */
    uint64_t max_kept_bytes;      /* 0: IMGSTAT_DEFAULT_MAX_KEPT_BYTES; UINT64_MAX: none */
    imgstat_progress_fn progress; /* called every few thousand entries, on the calling thread */
    void *progress_ctx;
    /* The layer memo: each layer's entries, remembered by blob digest, so a layer seen
     * before is not read again.  On unless IMGSTAT_NO_CACHE (or IMGSTAT_NO_CACHE=1 in the
     * environment).  Its file is catalog's when given, else imgstat.db in cache_dir, else in
     * $IMGSTAT_CACHE_DIR, $XDG_CACHE_HOME/imgstat or $HOME/.cache/imgstat (created).  A memo
     * that cannot be used never fails a scan: see imgstat_cache_warning(). */
    const char *cache_dir;
    imgstat_catalog *catalog; /* borrowed; must outlive the handle */
    uint64_t cache_max;       /* 0: IMGSTAT_DEFAULT_CACHE_MAX */
};

/* Every figure below is exact and at most IMGSTAT_MAX_FIGURE, the largest value of HSS's
 * signed 64-bit integers.  A figure whose exact value is larger reads IMGSTAT_TOO_BIG, never a
 * wrapped number; imgstat_scan fails (IMGSTAT_ELIMIT) when `files` or `bytes` would. */
#define IMGSTAT_MAX_FIGURE UINT64_C(9223372036854775807)
#define IMGSTAT_TOO_BIG UINT64_MAX

/* What the final filesystem holds. */
struct imgstat_totals {
    uint64_t files;          /* regular-file paths, each hard-link name counted */
    uint64_t bytes;          /* their logical bytes, once per inode */
    uint64_t bytes_per_path; /* their bytes, each hard-link name at full size */
    uint64_t dirs;           /* directories, the root not counted */
    uint64_t symlinks;
    uint64_t hardlinks;   /* file paths beyond the first name of their inode */
    uint64_t devices;     /* character and block devices */
    uint64_t fifos;       /* fifos and sockets */
    uint64_t layers;      /* layers applied */
    uint64_t entries;     /* tar entries read in all layers */
    uint64_t warnings;    /* entries skipped (lenient mode, clamped "..") */
    uint64_t layer_bytes; /* bytes of every regular-file entry of every layer */
};

/* What one layer did to the view below it (imgstat_layer). */
struct imgstat_layer_info {
    const char *digest;          /* descriptor digest, or the member name (docker-save) */
    const char *diff_id;         /* the config's rootfs.diff_ids entry, or NULL */
    const char *media_type;      /* descriptor media type, or NULL */
    const char *compression;     /* "gzip", "zstd" or "none", from the bytes */
    uint64_t compressed_bytes;   /* size of the blob */
    uint64_t uncompressed_bytes; /* size of the tar stream read, to its end marker */
    uint64_t entries;            /* tar entries, whiteouts included */
    uint64_t files_added;        /* regular-file paths where none was below */
    uint64_t files_replaced;     /* regular-file paths over a lower regular file */
    uint64_t paths_removed;      /* paths hidden: whiteouts, opaque dirs, replaced subtrees */
    uint64_t bytes_added, bytes_replaced; /* bytes of the files added, of the replacing files */
    uint64_t bytes_removed;               /* bytes of the regular files hidden (per path) */
    int cached;             /* 1: its entries came from the layer memo; its blob was not inflated */
    const char *created_by; /* the command that made it, from the config's history, or NULL */
};

/* One entry of the config's history (imgstat_history), in order; empty_layer entries (ENV,
 * LABEL ...) made no layer. */
struct imgstat_history {
    const char *created_by; /* the command, as the builder wrote it, or NULL */
    const char *comment;    /* or NULL */
    int empty_layer;        /* 1: this step made no layer */
    uint64_t layer;         /* 1-based index of the layer it made; 0 for an empty_layer step,
                               or when the history lists more layers than the image has */
};

/* Who the chosen image is (imgstat_image). */
struct imgstat_image_info {
    const char *format;          /* "docker-archive", "oci" or "docker-legacy" */
    const char *id;              /* image ID: the config digest, or NULL */
    const char *manifest_digest; /* OCI manifest digest, or NULL */
    const char *os, *arch, *variant;
    const char *const *refs; /* tags and ref names, as written */
    uint64_t nrefs;
    uint64_t nlayers;
    uint64_t nhistory; /* entries of the config's history (imgstat_history) */
};

typedef struct imgstat imgstat;

/* Check options before any work: IMGSTAT_OK, or IMGSTAT_EUSAGE with a one-line reason
 * in msg[cap] (imgstat_open checks the same). */
IMGSTAT_API int imgstat_check_options(const struct imgstat_options *opt, char *msg, uint64_t cap);

/* Open and choose the image; *out is set even on failure (for imgstat_errmsg). */
IMGSTAT_API int imgstat_open(imgstat **out, const char *path, const struct imgstat_options *opt);

/* Merge the chosen image's layers; fills *totals on IMGSTAT_OK. */
IMGSTAT_API int imgstat_scan(imgstat *h, struct imgstat_totals *totals);

/* The last error in one line, without the input's name or a newline ("" if none). */
IMGSTAT_API const char *imgstat_errmsg(const imgstat *h);

/* The first warning kept (e.g. what lenient mode skipped), or NULL. */
IMGSTAT_API const char *imgstat_warning(const imgstat *h);

/* Why the layer memo was not (fully) used, in one line, or NULL: its file could not be
 * opened or written (the scan went on without it, with the same answer), or a layer was
 * not stored because its blob does not match its digest. */
IMGSTAT_API const char *imgstat_cache_warning(const imgstat *h);

/* With IMGSTAT_NO_SELECT: how many distinct images can be scanned, and choosing one
 * (0 <= i < count) before imgstat_scan.  Images are listed in the input's order. */
IMGSTAT_API uint64_t imgstat_count(const imgstat *h);
IMGSTAT_API int imgstat_choose(imgstat *h, uint64_t i);

/* The chosen image (after a successful imgstat_open), or NULL. */
IMGSTAT_API const struct imgstat_image_info *imgstat_image(const imgstat *h);

/* Layer i of the chosen image (after a successful imgstat_scan), or NULL. */
IMGSTAT_API const struct imgstat_layer_info *imgstat_layer(const imgstat *h, uint64_t i);

/* Call fn for every regular file of the final view (after imgstat_scan), in byte-wise order
 * of the absolute path ("/etc/passwd"); path is valid during the call only.  A non-zero
 * return from fn stops the walk and is returned. */
typedef int (*imgstat_file_fn)(void *ctx, const char *path, uint64_t path_len, uint64_t size);
IMGSTAT_API int imgstat_files(imgstat *h, imgstat_file_fn fn, void *ctx);

/* Entry i (0 <= i < nhistory) of the chosen image's config history, or NULL.  A history that
 * Go's encoding/json would refuse is read as none (it never fails the scan). */
IMGSTAT_API const struct imgstat_history *imgstat_history(const imgstat *h, uint64_t i);

/* What imgstat_walk visits: a node of the final view. */
enum imgstat_node_type {
    IMGSTAT_NODE_DIR = 1,
    IMGSTAT_NODE_FILE, /* a regular file (each hard-link name is one) */
    IMGSTAT_NODE_SYMLINK,
    IMGSTAT_NODE_DEVICE, /* character and block devices */
    IMGSTAT_NODE_FIFO,   /* fifos, sockets and anything else */
};
struct imgstat_node {
    const char *path; /* absolute ("/usr/bin"; "/" for the root), valid during the call only */
    uint64_t path_len;
    uint64_t depth; /* 0 for the root, 1 for "/usr" */
    int type;       /* enum imgstat_node_type */
    uint64_t size;  /* a file's logical size; 0 for the others */
    /* docs/rules.md C7: every inode is counted once, at its first name in byte-wise path
     * order.  A file: its size at that name, else 0.  A directory: the sum of `bytes` below
     * it, so a directory's figure is its children's added up and the root's is
     * total_files_size. */
    uint64_t bytes;
    uint64_t files; /* a file: 1; a directory: the regular-file names below it */
};
typedef int (*imgstat_node_fn)(void *ctx, const struct imgstat_node *node);

/* Call fn for every node of the final view (after imgstat_scan), depth first in byte-wise
 * order of the paths, a directory after everything below it (so its figures are complete),
 * the root last.  A non-zero return from fn stops the walk and is returned. */
IMGSTAT_API int imgstat_walk(imgstat *h, imgstat_node_fn fn, void *ctx);

/* A path where the layers wrote bytes that the final view does not hold (docs/rules.md C6). */
struct imgstat_waste {
    const char *path; /* absolute, valid during the call only */
    uint64_t path_len;
    uint64_t copies;        /* regular-file entries written at this path, in all layers */
    uint64_t wasted_bytes;  /* the bytes of those copies that no name holds in the final view */
    const uint32_t *layers; /* 1-based indexes of the layers that wrote or lost a copy, in
                               ascending order, valid during the call only */
    uint64_t nlayers;
};
typedef int (*imgstat_waste_fn)(void *ctx, const struct imgstat_waste *w);

/* Call fn for every path with wasted bytes (after imgstat_scan of a handle opened with
 * IMGSTAT_WASTE, else IMGSTAT_EUSAGE), in no particular order; their wasted_bytes add up to
 * the totals' layer_bytes - bytes exactly.  A non-zero return from fn stops and is returned. */
IMGSTAT_API int imgstat_wasted_files(imgstat *h, imgstat_waste_fn fn, void *ctx);

IMGSTAT_API void imgstat_close(imgstat *h);

/* "imgstat X.Y.Z (libarchive ..., zlib ..., cJSON ..., xxHash ...)" */
IMGSTAT_API const char *imgstat_version(void);

/*
 * The catalog: one SQLite file of scanned images, which `imgstat serve` answers HSS's image
 * APIs from and `imgstat add` fills; the same file can hold a layer memo (its tables are in
 * every catalog; the default memo is the catalog at imgstat_cache_file()).
 *
 *   1. imgstat_catalog_open(&c, path) opens or creates it.  Its schema is migrated forward
 *      when it comes from an older imgstat; a file of a newer imgstat is refused, never
 *      misread.
 *   2. imgstat_catalog_add(c, input, &opts) scans every image of a file or layout
 *      directory and records them in one transaction (a crash leaves the old state or the
 *      new one); imgstat_catalog_set_status() marks an input waiting or scanning, and
 *      imgstat_catalog_remove() drops one.
 *   3. Queries: imgstat_catalog_list() (entries with filters and paging),
 *      imgstat_catalog_find() (one image by the API's selection), imgstat_catalog_files() (a
 *      page of its files), imgstat_catalog_counts() (for /metrics).
 *   4. imgstat_catalog_close(c); it accepts NULL.
 *
 * Results are handed to callbacks; their strings are valid during the call only, and a
 * callback must not call the catalog (its lock is held).  A non-zero return from a callback
 * stops the query and is returned.
 * Thread safety: a handle may be shared by threads (calls are serialised); for queries in
 * parallel, open a handle per thread.  Processes share the file (SQLite WAL, readers never
 * wait for the writer).
 * Errors: a result < IMGSTAT_OK; imgstat_catalog_errmsg() says why in one line.
 */

/* HSS's scan_status values; imgstat_scan_status_name() spells them as the API does. */
enum imgstat_scan_status {
    IMGSTAT_WAITING_FOR_SCAN = 0,
    IMGSTAT_SCANNING = 1,
    IMGSTAT_SCAN_SUCCESS = 2,
    IMGSTAT_SCAN_FAILED = 3,
};
#define IMGSTAT_SCAN_STATUSES 4
/* "waiting_for_scan", "scanning", "success", "failed"; NULL for another value. */
IMGSTAT_API const char *imgstat_scan_status_name(int status);
/* The value of such a name, or -1. */
IMGSTAT_API int imgstat_scan_status_parse(const char *name);

/* Open or create the catalog at path (and its folder); *out is NULL on failure. */
IMGSTAT_API int imgstat_catalog_open(imgstat_catalog **out, const char *path);
IMGSTAT_API void imgstat_catalog_close(imgstat_catalog *c);
/* 1 when the catalog's file could not be written (a read-only file system) and was opened to
 * read only: queries answer what it holds, additions fail; else 0. */
IMGSTAT_API int imgstat_catalog_readonly(const imgstat_catalog *c);
/* The calling thread's last catalog failure, in one line ("" if none). */
IMGSTAT_API const char *imgstat_catalog_errmsg(const imgstat_catalog *c);

/* An input: a file or layout directory the catalog holds images of. */
struct imgstat_catalog_input {
    const char *path;
    uint64_t dev, ino, size; /* its identity when last scanned (a directory: index.json's */
    int64_t mtime_ns;        /* size, and the later of the two mtimes); 0 before */
    int status;              /* enum imgstat_scan_status */
    const char *failed_desc; /* the one-line error when it could not be opened, else "" */
    int64_t added_ms, updated_ms, scanned_ms; /* ms since the epoch; 0: never */
};
typedef int (*imgstat_input_fn)(void *ctx, const struct imgstat_catalog_input *in);

/* An entry of the catalog: an image, or an input without one yet (key 0, image fields
 * NULL). */
struct imgstat_catalog_image {
    int64_t key;       /* names the image for imgstat_catalog_files(); 0: no image */
    const char *input; /* the input's path */
    uint64_t index;    /* the image's position in its input */
    const char *image_id, *manifest_digest, *format, *platform; /* NULL when unknown */
    const char *refs_json; /* every ref, as written, as a JSON array */
    /* the first ref and its parts ("docker.io", "library", "x", "1" for "x:1"); NULL when
     * the image has no ref */
    const char *ref, *host, *ns, *name, *tag;
    int status;              /* enum imgstat_scan_status (see the catalog's design) */
    const char *failed_desc; /* "" unless failed */
    uint64_t files, bytes;   /* the API's total_files_num and total_files_size */
    uint64_t image_size;     /* bytes of the image's layer blobs, as stored (compressed) */
    const char *detail_json; /* --detail's figures as a JSON object, or NULL */
    int64_t mtime_ms;        /* the input's modification time */
    int64_t added_ms, updated_ms, scanned_ms;
};
typedef int (*imgstat_image_fn)(void *ctx, const struct imgstat_catalog_image *img);

/* Record every image of the file or layout directory at path, scanned with opt (its image
 * selection is ignored: all are recorded).  The input is marked scanning first, and its
 * images are replaced in one transaction.  Returns IMGSTAT_OK, or the error of a scan that
 * failed (recorded as such), or the catalog's. */
IMGSTAT_API int imgstat_catalog_add(imgstat_catalog *c, const char *path,
                                    const struct imgstat_options *opt);
/* Set an input's status (created when absent; desc: scan_failed_desc, or NULL). */
IMGSTAT_API int imgstat_catalog_set_status(imgstat_catalog *c, const char *path, int status,
                                           const char *desc);
/* Drop an input and its images; *found (may be NULL) says whether it was there. */
IMGSTAT_API int imgstat_catalog_remove(imgstat_catalog *c, const char *path, int *found);
/* Every input, ordered by path. */
IMGSTAT_API int imgstat_catalog_inputs(imgstat_catalog *c, imgstat_input_fn fn, void *ctx);

/* Filters of imgstat_catalog_list (zero it first: no filter, everything). */
struct imgstat_catalog_query {
    const char *image_name;    /* a ref contains it, or its NAMESPACE/NAME does; NULL: any */
    const char *image_version; /* a ref's tag is exactly this; NULL: any */
    int status;                /* an imgstat_scan_status + 1; 0: any */
    uint64_t offset, limit;    /* limit 0: all */
};
/* The entries matching q, ordered by input path then index: *total counts every match
 * (set before fn is first called), fn sees the page. */
IMGSTAT_API int imgstat_catalog_list(imgstat_catalog *c, const struct imgstat_catalog_query *q,
                                     imgstat_image_fn fn, void *ctx, uint64_t *total);

/* The API's selection of one image. */
struct imgstat_catalog_select {
    const char *image_id; /* "sha256:HEX", HEX, or a unique prefix of >= 12 hex digits */
    /* with name: the image is the one with ref [HOST/]NS/NAME:TAG (NS "library" for a
     * Docker Hub name without one; NULL ns: any; NULL tag: "latest"), and image_id, when
     * given, must be its ID */
    const char *ns, *name, *tag;
};
/* The selected image to fn (once); *found 0 when there is none.  Where several entries
 * hold the same image, a scanned one, the most recent, is chosen.  IMGSTAT_EUSAGE for a
 * malformed image_id; IMGSTAT_ESELECT when a prefix names several images. */
IMGSTAT_API int imgstat_catalog_find(imgstat_catalog *c, const struct imgstat_catalog_select *s,
                                     imgstat_image_fn fn, void *ctx, int *found);

/* A page of image key's regular files, in imgstat_files() order: those whose name (the last
 * path segment) contains file_name (a literal substring, case-sensitive; NULL: all), the
 * first offset skipped, at most limit (0: all).  *total counts every match and is set
 * before fn is first called. */
IMGSTAT_API int imgstat_catalog_files(imgstat_catalog *c, int64_t key, const char *file_name,
                                      uint64_t offset, uint64_t limit, uint64_t *total,
                                      imgstat_file_fn fn, void *ctx);

/* For /metrics. */
struct imgstat_catalog_counts {
    uint64_t entries[IMGSTAT_SCAN_STATUSES]; /* listed entries by scan status */
    uint64_t inputs;
    uint64_t memo_layers, memo_bytes, memo_hits, memo_misses; /* since the file was created */
};
IMGSTAT_API int imgstat_catalog_counts(imgstat_catalog *c, struct imgstat_catalog_counts *out);

/* The layer memo's file for opt (its catalog is not looked at): imgstat.db in cache_dir
 * or the default folder (see imgstat_options), into buf.  IMGSTAT_EUSAGE when no folder
 * can be named (no HOME). */
IMGSTAT_API int imgstat_cache_file(const struct imgstat_options *opt, char *buf, uint64_t cap);

/* imgstat cache info. */
struct imgstat_cache_info {
    uint64_t layers, bytes; /* stored layers, and their compressed record bytes */
    uint64_t hits, misses;  /* lookups since the file was created */
    uint64_t file_bytes;    /* the file on disk, its WAL included */
    int64_t created_ms;
};
IMGSTAT_API int imgstat_cache_info(imgstat_catalog *c, struct imgstat_cache_info *out);

/* imgstat cache clear: forget every layer of the memo in the catalog file at path (its
 * images stay).  A damaged file (not a database, or failing SQLite's checks) is replaced
 * by a new one; a file of a newer imgstat or of another program is refused. */
IMGSTAT_API int imgstat_cache_clear(const char *path, char *msg, uint64_t cap);

#ifdef __cplusplus
}
#endif

#endif
