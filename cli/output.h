/*
 * output: the reports, in the API's JSON shapes (integers printed exactly, never
 * through doubles), as aligned text for people, and as CSV/JSON Lines for file lists.
 */
#ifndef IMGSTAT_OUTPUT_H
#define IMGSTAT_OUTPUT_H

#include <stdio.h>

#include "imgstat.h"
#include "options.h"

/* A string as JSON: UTF-8 passes through; control characters and bytes that are not
 * UTF-8 become \u00XX escapes (names are raw bytes; JSON must be UTF-8). */
void json_string(FILE *f, const char *s, size_t len);

/* Names in text output: printable ASCII and valid UTF-8 as they are, other bytes as \xHH. */
void text_bytes(FILE *f, const char *s, size_t len);

/* A CSV field in double quotes, a quote inside doubled. */
void csv_field(FILE *f, const char *s, size_t len);

/* Human units (KiB, MiB ... powers of 1024) for text output only; JSON carries exact
 * integers.  Returns buf. */
const char *human(uint64_t v, char *buf, size_t cap);

/* The files-statistics report (with --detail, everything imgstat knows).  With input set
 * (several images), one JSON line that also names the input and the image. */
int report_stats(FILE *f, const struct cli *c, imgstat *h, const struct imgstat_totals *t,
                 const char *input);

/* One image that could not be scanned, in the several-images output. */
void report_error(FILE *f, const struct cli *c, const char *input, const char *image,
                  const char *msg);

/* The file-list report (`imgstat files`). */
int report_files(const struct cli *c, imgstat *h);

/* Wasted bytes and efficiency, as --detail and the gates define them. */
uint64_t wasted_bytes(const struct imgstat_totals *t);
double efficiency(const struct imgstat_totals *t);

/* The scan's warning, if it has one, on stderr: "imgstat: INPUT: warning: ... (N in all)". */
void scan_warning(const char *input, imgstat *h, const struct imgstat_totals *t);

/* C4: whether every figure this report and its gates print or compare fits (the library
 * gives IMGSTAT_TOO_BIG for one that does not): 0, or 1 with a one-line reason in msg. */
int figures_check(const struct cli *c, imgstat *h, const struct imgstat_totals *t, char *msg,
                  size_t cap);

/* The CI gates for one image: EXIT_OK, or EXIT_GATE with one reason line per breach on
 * stderr (the report is printed either way). */
int gates(const struct cli *c, const char *input, const struct imgstat_totals *t);

#endif
