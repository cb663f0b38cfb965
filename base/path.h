/*
 * path: tar member names to canonical relative paths, and whiteout names.
 *
 * A canonical path has no leading or trailing '/', no empty, "." or ".."
 * segments; the root is the empty string.  Names are raw bytes: no locale, no
 * UTF-8 assumption.
 */
#ifndef IMGSTAT_PATH_H
#define IMGSTAT_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest member or link name accepted: Linux PATH_MAX, what an extractor can create. */
#define PATH_MAX_BYTES 4096

/*
 * Canonicalise `in` (len bytes) into out[PATH_MAX_BYTES].  ".." is clamped at the
 * root, as umoci and containerd do (SEMANTICS A1): nothing ever leaves the image.
 * Returns the length of the result, or -1 when `in` is longer than PATH_MAX_BYTES.
 * *clamped is set when a ".." tried to climb above the root.
 */
long path_normalize(const char *in, size_t len, char *out, bool *clamped);

/* What one segment of a raw path is. */
enum seg_kind { SEG_NAME, SEG_DOTDOT };

/*
 * The next meaningful segment of p[0..len) from *pos: empty and "." segments are
 * skipped, so "//", "./" and a trailing '/' need no care.  Sets *seg and *n and
 * returns its kind, or -1 at the end.
 */
int path_next(const char *p, size_t len, size_t *pos, const char **seg, size_t *n);

/* Length of the last segment of a canonical path, and of its parent ("" for top level). */
size_t path_base_len(const char *p, size_t len);

/* What a canonical path means in a layer (image-spec layer.md §Whiteouts, SEMANTICS A3/A4). */
enum wh_kind {
    WH_NONE,   /* an ordinary entry */
    WH_FILE,   /* ".wh.NAME": hide NAME in lower layers */
    WH_OPAQUE, /* ".wh..wh..opq": hide the parent's lower children */
    WH_BARE,   /* ".wh." with no name: invalid (layer.md: SHOULD error) */
    WH_AUFS,   /* ".wh..wh.*" metadata at the root (plnk, aufs, orph): skipped */
};

#define WH_PREFIX ".wh."
#define WH_PREFIX_LEN 4
#define WH_OPAQUE_NAME ".wh..wh..opq"

enum wh_kind wh_classify(const char *path, size_t len);

#endif
