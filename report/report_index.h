/*
 * report_index: the index of a catalog of images, for `imgstat serve`'s /ui/: a row per
 * entry (an image, or an input without one yet) with its name, tag, image ID, files, size,
 * wasted bytes, scan status and last scan time, sorted by clicking a column's header, each
 * scanned image linking to its report page (images/HEX, relative to the index).
 *
 * Self-contained like the report (report.h): the page's HTML, CSS and JavaScript
 * (report/index.html, index.css, index.js, built in by embed.py) under a
 * Content-Security-Policy naming their hashes, the entries as JSON that no name can end
 * early, inserted by the page as text only.
 *
 * Call order: report_index_begin, report_index_entry for each entry, report_index_end.
 * A client of include/imgstat.h only.
 */
#ifndef IMGSTAT_REPORT_INDEX_H
#define IMGSTAT_REPORT_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One entry of the catalog, as the index shows it; strings may be NULL (not known). */
struct report_entry {
    const char *ref;      /* the first ref as written */
    const char *name;     /* the ref's repository ("" when the ref is only a tag) */
    const char *tag;      /* the ref's tag */
    const char *image_id; /* "sha256:HEX"; NULL before the input's first scan */
    const char *input;    /* the file or layout it came from */
    uint64_t index;       /* the image's position in its input */
    const char *status;   /* HSS's scan_status word */
    const char *failed_desc;
    bool figures;          /* files, bytes and image_size are known (a scanned image) */
    uint64_t files, bytes; /* total_files_num, total_files_size */
    bool has_wasted;
    uint64_t wasted;     /* bytes the layers carry that the final view does not */
    uint64_t image_size; /* bytes of its layer blobs, as stored */
    int64_t scanned_ms;  /* when its last scan ended, ms since the epoch; 0: never */
    const char *format, *platform;
};

struct report_index {
    FILE *f;
    uint64_t n; /* entries written */
};

/* Start the page on f. */
void report_index_begin(struct report_index *ix, FILE *f);
/* One entry of the catalog. */
void report_index_entry(struct report_index *ix, const struct report_entry *e);
/* End the page; total: the catalog's entries (more than written: the page says how many
 * are not listed).  0, or IMGSTAT_ESYS when writing to f failed (errno tells why). */
int report_index_end(struct report_index *ix, uint64_t total);

/* The index page's Content-Security-Policy, as its <meta> element states it.  Static. */
const char *report_index_policy(void);

#endif
