/*
 * images: the catalog's inputs (files and layout directories, with their identity and scan
 * status) and the images each holds (identity, refs, totals, --detail figures as JSON, the
 * file list of files.h).  An input's images are replaced together, in one transaction, so
 * a half-recorded image is never visible.  Every query binds its parameters.
 *
 * What a listed entry's scan_status is: an input waiting for or in a scan shows that status
 * on each of its (older) images; otherwise each image shows its own, success or failed.  An
 * input with no image yet (never scanned, or it could not be opened) is listed once, as an
 * entry without an image (key 0).
 */
#ifndef IMGSTAT_CAT_IMAGES_H
#define IMGSTAT_CAT_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "files.h"
#include "imgstat.h"

/* What says an input changed: device, inode, size and modification time. */
struct cat_identity {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
};

/* One image of an input, as a scan found it. */
struct cat_image {
    const char *image_id, *manifest_digest, *format, *platform; /* NULL when unknown */
    const char *const *refs;                                    /* as written */
    size_t nrefs;
    const char *failed_desc; /* NULL: scanned; else the one-line error */
    uint64_t files, bytes, image_size;
    const char *detail_json;
    struct cat_files *list; /* NULL when it failed */
};

/* The parts of a reference as the API selects by them: "docker.io/library/x:1" and "x:1"
 * both give host "docker.io", namespace "library", name "x", tag "1". */
struct cat_ref {
    char host[256], ns[512], name[256], tag[160];
};
/* false when ref cannot be split (empty, too long). */
bool cat_ref_parse(const char *ref, struct cat_ref *out);

/* Set an input's status (creating the input when absent). */
int cat_input_mark(struct cat_db *d, const char *path, int status, const char *desc, struct err *e);
/* Record a scan of path: its identity, its status (failed_desc NULL: success) and its
 * images, replacing the ones it had, in one transaction. */
int cat_input_record(struct cat_db *d, const char *path, const struct cat_identity *id,
                     const char *failed_desc, const struct cat_image *v, size_t n, struct err *e);
/* Drop an input and its images; *found says whether it was there. */
int cat_input_remove(struct cat_db *d, const char *path, bool *found, struct err *e);
/* Every input, ordered by path. */
int cat_inputs(struct cat_db *d, imgstat_input_fn fn, void *ctx, struct err *e);

/* The entries matching q (ordered by input path, then position in the input): *total
 * counts them all, fn sees the page. */
int cat_list(struct cat_db *d, const struct imgstat_catalog_query *q, imgstat_image_fn fn,
             void *ctx, uint64_t *total, struct err *e);
/* The image the API's selection names; *found is 0 when none.  IMGSTAT_EUSAGE for a
 * malformed image_id, IMGSTAT_ESELECT when an ID prefix names several images. */
int cat_find(struct cat_db *d, const struct imgstat_catalog_select *s, imgstat_image_fn fn,
             void *ctx, int *found, struct err *e);
int cat_counts(struct cat_db *d, struct imgstat_catalog_counts *out, struct err *e);

#endif
