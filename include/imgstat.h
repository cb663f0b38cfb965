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
#define IMGSTAT_LENIENT 0x1u /* merge conflicts (missing hard-link target, file as
                                parent, bare ".wh.", symlink loop) warn and skip */

struct imgstat_options {
    const char *image;    /* REF: tag, ref name, image ID (prefix), manifest digest */
    const char *platform; /* "OS/ARCH[/VARIANT]"; NULL: the host's, if it decides */
    unsigned jobs;        /* layers decoded at once; 0: online CPUs; 1: no threads */
    unsigned flags;       /* IMGSTAT_LENIENT */
};

/* What the final filesystem holds. */
struct imgstat_totals {
    uint64_t files;          /* regular-file paths, each hard-link name counted */
    uint64_t bytes;          /* their logical bytes, once per inode */
    uint64_t bytes_per_path; /* their bytes, each hard-link name at full size */
    uint64_t dirs;           /* directories, the root not counted */
    uint64_t symlinks;
    uint64_t hardlinks;      /* file paths beyond the first name of their inode */
    uint64_t devices;        /* character and block devices */
    uint64_t fifos;          /* fifos and sockets */
    uint64_t layers;         /* layers applied */
    uint64_t entries;        /* tar entries read in all layers */
    uint64_t warnings;       /* entries skipped (lenient mode, clamped "..") */
};

typedef struct imgstat imgstat;

/* Open and choose the image; *out is set even on failure (for imgstat_errmsg). */
IMGSTAT_API int imgstat_open(imgstat **out, const char *path, const struct imgstat_options *opt);

/* Merge the chosen image's layers; fills *totals on IMGSTAT_OK. */
IMGSTAT_API int imgstat_scan(imgstat *h, struct imgstat_totals *totals);

/* The last error in one line, without the input's name or a newline ("" if none). */
IMGSTAT_API const char *imgstat_errmsg(const imgstat *h);

/* The first warning kept (e.g. what lenient mode skipped), or NULL. */
IMGSTAT_API const char *imgstat_warning(const imgstat *h);

IMGSTAT_API void imgstat_close(imgstat *h);

/* "imgstat X.Y.Z (libarchive ..., zlib ..., cJSON ..., xxHash ...)" */
IMGSTAT_API const char *imgstat_version(void);

#ifdef __cplusplus
}
#endif

#endif
