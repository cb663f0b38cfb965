/*
 * top: the N largest files and the N paths that wasted the most, for --detail.
 */
#ifndef IMGSTAT_TOP_H
#define IMGSTAT_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imgstat.h"

struct big {
    uint64_t size; /* the key: a file's size, a path's wasted bytes */
    char *path;    /* NUL-terminated copy */
    size_t len;
    uint64_t copies; /* wasted paths: copies and layers */
    uint32_t *layers;
    uint64_t nlayers;
};

struct topn {
    struct big *v;
    size_t n, cap;
};

/* The n that rank first (largest, then first by path) from a walk of the scanned image h:
 * its files by size, or with wasted its paths by wasted bytes (imgstat_wasted_files), sorted
 * first first into *t.  IMGSTAT_OK or the walk's code; free *t with top_free either way. */
int top_collect(struct topn *t, size_t n, imgstat *h, bool wasted);
void top_free(struct topn *t);

#endif
