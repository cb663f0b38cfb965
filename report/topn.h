/*
 * topn: the N first by a key (a file's size, a path's wasted bytes), of equal keys the first
 * in byte-wise path order, kept in a min-heap of N while a walk of the image goes by.  One
 * heap for the report's lists and the CLI's --detail (largest_files, wasted_files).
 * A client of include/imgstat.h only.
 */
#ifndef IMGSTAT_TOPN_H
#define IMGSTAT_TOPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imgstat.h"

struct top_item {
    uint64_t key; /* a file's size, a path's wasted bytes */
    char *path;   /* a NUL-terminated copy */
    size_t len;
    uint64_t copies; /* wasted paths: copies and layers (a copy) */
    uint32_t *layers;
    uint64_t nlayers;
};

struct topn {
    struct top_item *v;
    size_t n, cap;
};

/* An empty heap of cap; IMGSTAT_OK or IMGSTAT_ENOMEM (free it with topn_free either way). */
int topn_init(struct topn *t, size_t cap);
/* Keep path (and w's copies and layers, when w is set) if it ranks among the N. */
int topn_add(struct topn *t, uint64_t key, const char *path, size_t len,
             const struct imgstat_waste *w);
/* Sort the kept items first first (the heap is spent). */
void topn_sort(struct topn *t);
void topn_free(struct topn *t);

/* The n first of a walk of the scanned image h: its files by size, or with wasted its paths
 * by wasted bytes (imgstat_wasted_files), sorted first first into *t.  IMGSTAT_OK or the
 * walk's code; free *t with topn_free either way. */
int topn_collect(struct topn *t, size_t n, imgstat *h, bool wasted);

#endif
