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
 *   4. On any result < IMGSTAT_OK, imgstat_errmsg(h) says what is wrong in one line.
 *   5. imgstat_close(h) frees everything; it accepts NULL.
 *
 * Ownership: the handle owns every string it returns; they stay valid until
 * imgstat_close().  The library never prints and never exits.
 * Thread safety: one handle per thread; distinct handles are independent.
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
    0x4u /* imgstat_open lists the images but chooses none: use                                    \
            imgstat_count() and imgstat_choose() (for --all) */

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

IMGSTAT_API void imgstat_close(imgstat *h);

/* "imgstat X.Y.Z (libarchive ..., zlib ..., cJSON ..., xxHash ...)" */
IMGSTAT_API const char *imgstat_version(void);

#ifdef __cplusplus
}
#endif

#endif
