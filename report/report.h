/*
 * report: the HTML page of one scanned image, for `imgstat report` and for `imgstat serve`
 * (which serves it at /ui/images/{image_id}).  One self-contained file: the page's HTML, CSS
 * and JavaScript (report/page.html, page.css, page.js, built into the program by
 * report/embed.py) around the image's figures as JSON in a <script type="application/json">.
 * No network, no external fonts; names are data, inserted as text by the page, never markup.
 *
 * The page holds the image's identity and totals, its layers (with the commands of the
 * config's history), a treemap of the final view, the largest and the wasted files, and a
 * search over the paths it holds.  It stays small for any image: the tree keeps its largest
 * nodes within REPORT_TREE_BUDGET bytes and sums up the rest of each directory ("… 12,345
 * more files").
 *
 * A client of include/imgstat.h only.
 */
#ifndef IMGSTAT_REPORT_H
#define IMGSTAT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "imgstat.h"

/* Files listed as the largest and as the most wasted, unless report_opts.top says. */
#define REPORT_DEFAULT_TOP 100

struct report_opts {
    const char *input; /* how the page names where the image came from (a file), or NULL */
    uint64_t top;      /* the largest and the most wasted files listed; 0: REPORT_DEFAULT_TOP */
};

/* Write the page of h, scanned by imgstat_scan into *t, to f.  Open h with IMGSTAT_WASTE to
 * list the wasted files (without it the page says they were not tracked).  IMGSTAT_OK; or
 * IMGSTAT_ENOMEM; or IMGSTAT_ESYS when writing to f failed (errno tells why). */
int report_write(FILE *f, imgstat *h, const struct imgstat_totals *t, const struct report_opts *o);

/* The page's Content-Security-Policy, as its <meta> element states it: a server sends it as a
 * header too.  A static string. */
const char *report_policy(void);

#endif
