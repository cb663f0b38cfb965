/*
 * store: what the server needs of a catalog of images, behind one small interface so the
 * endpoints, the watcher and the scheduler do not depend on how the catalog keeps it.
 *
 * An *input* is a file or an OCI layout under an --images folder, known by its path and
 * its identity (device, inode, size, mtime: a change of any means a rescan).  Scanning an
 * input records every image it holds, or the input as failed with the one-line error.
 * Until its first scan ends, an input is one entry without an image ID, in status
 * waiting_for_scan or scanning; while it is scanned again, its images keep their entries
 * in that status.
 *
 * Threads: every function may be called from any thread; the store locks inside.  What a
 * callback receives is valid during the call only.  Functions returning int return 0, or a
 * negative IMGSTAT_* code with a one-line reason in why[cap].
 */
#ifndef SERVER_STORE_H
#define SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imgstat.h"

enum scan_status { ST_WAITING, ST_SCANNING, ST_SUCCESS, ST_FAILED, ST_COUNT };
/* HSS's words: waiting_for_scan, scanning, success, failed. */
const char *scan_status_name(enum scan_status s);
/* The status for an HSS word, or ST_COUNT ("unscan" is no status imgstat has). */
enum scan_status scan_status_parse(const char *word);

struct input_id {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
};

/* One image of the catalog (one entry of an input), as the endpoints read it. */
struct store_image {
    uint64_t key;         /* stable while the entry lives: store_files() takes it */
    const char *input;    /* the file or layout it came from */
    const char *image_id; /* "sha256:HEX", NULL until scanned */
    enum scan_status status;
    const char *failed_desc; /* status failed: the one-line error; else NULL */
    const char *digest;      /* OCI manifest digest, or NULL */
    uint64_t files, bytes;   /* total_files_num, total_files_size (status success) */
    uint64_t input_bytes;    /* bytes of the image's layer blobs, as stored (compressed) */
    int64_t updated_ms;      /* the input's mtime, ms since the epoch */
    int64_t scanned_ms;      /* when its last scan ended, 0 if never */
    /* store_find_entry and store_list only (store_find leaves them 0 / NULL): */
    uint64_t index;  /* the image's position in its input */
    const char *ref; /* its first ref as written, or NULL */
    const char *format, *platform;
    const char *detail_json; /* --detail's figures as a JSON object, or NULL */
};

struct store;

/* Open (creating) the catalog file at path. */
int store_open(struct store **out, const char *path, char *why, size_t cap);
void store_close(struct store *st);
/* Was the catalog's file opened to read only (it cannot be written)?  Its images are still
 * answered; what would change it fails, and is logged. */
bool store_readonly(struct store *st);

/* ---- the scheduler's side ---- */

/* Is input path recorded with this identity and a final status (success or failed)? */
bool store_input_current(struct store *st, const char *path, const struct input_id *id);
/* Record that path is to be scanned (waiting) or being scanned, dropping its old images. */
int store_input_mark(struct store *st, const char *path, const struct input_id *id,
                     enum scan_status s, char *why, size_t cap);
/* Scan every image of path and record the results in one step; a failed scan is
 * recorded as such (and is not an error of this function). jobs: decoder threads. */
int store_input_scan(struct store *st, const char *path, const struct input_id *id, unsigned jobs,
                     char *why, size_t cap);
/* Forget path and its images. */
int store_input_remove(struct store *st, const char *path, char *why, size_t cap);
/* Call fn for the path of every recorded input; a non-zero return stops. */
int store_inputs(struct store *st, int (*fn)(void *ctx, const char *path), void *ctx);

/* ---- the endpoints' side ---- */

/* How an image is chosen (HSS-API.md): by image ID (lowercase hex, 12 to 64 digits of it),
 * and with name also by reference: [HOST/]NAMESPACE/IMAGE_NAME:TAG_NAME, docker.io/library/
 * optional, and the ID must then be that image's. */
struct store_select {
    const char *id_hex;
    const char *ns, *name, *tag; /* name NULL: by ID alone */
};
enum store_found { FOUND_NONE, FOUND_ONE, FOUND_MANY, FOUND_ERROR };
/* Find the image sel chooses and call fn with it; FOUND_MANY when an ID prefix names several
 * images, FOUND_ERROR when the catalog cannot be read (fn is not called then). */
enum store_found store_find(struct store *st, const struct store_select *sel,
                            void (*fn)(void *ctx, const struct store_image *im), void *ctx);

/* store_find without its memory of answers: every field of the image is set. */
enum store_found store_find_entry(struct store *st, const struct store_select *sel,
                                  void (*fn)(void *ctx, const struct store_image *im), void *ctx);

/* Counts the changes this process made to the catalog: what was read from it before a
 * change may be stale after. */
uint64_t store_generation(struct store *st);

/* Open image index of input (as recorded) with flags (IMGSTAT_WASTE ...), scan it with the
 * catalog's layer memo, and call fn with the handle and its totals; the handle is closed
 * after.  fn's result; or the imgstat code of the open or the scan with its one-line message
 * in why[cap], IMGSTAT_ESELECT when the input holds no image index now. */
typedef int (*store_scan_fn)(void *ctx, imgstat *h, const struct imgstat_totals *t);
int store_scan_image(struct store *st, const char *input, uint64_t index, unsigned flags,
                     store_scan_fn fn, void *ctx, char *why, size_t cap);

/* The regular files of image key whose name contains name_part (NULL: all), in byte-wise
 * order of path: *total is how many match; fn is called for those in [offset, offset+limit). */
typedef int (*store_file_fn)(void *ctx, const char *path, size_t path_len, uint64_t size);
int store_files(struct store *st, uint64_t key, const char *name_part, uint64_t offset,
                uint64_t limit, uint64_t *total, store_file_fn fn, void *ctx);

/* local-repositories: one row per image (its first ref), or per input without an image. */
struct store_filter {
    const char *image_name;    /* a ref, or its NAMESPACE/NAME, contains it; NULL: any */
    const char *image_version; /* a ref's tag, exactly; NULL: any */
    int status;                /* enum scan_status, or -1: any */
};
typedef void (*store_row_fn)(void *ctx, const struct store_image *im, const char *repo,
                             const char *tag);
int store_list(struct store *st, const struct store_filter *f, uint64_t offset, uint64_t limit,
               uint64_t *total, store_row_fn fn, void *ctx);

/* ---- metrics ---- */
struct store_counts {
    uint64_t by_status[ST_COUNT]; /* images (and placeholders) by status */
    uint64_t scans_done, scans_failed;
    uint64_t memo_hits, memo_misses;
};
void store_counts(struct store *st, struct store_counts *out);

#endif
