/*
 * report_impl: what report.c (the page and its JSON) and report_tree.c (the tree the page
 * holds) share.  Not part of any interface.
 */
#ifndef IMGSTAT_REPORT_IMPL_H
#define IMGSTAT_REPORT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "imgstat.h"

/* JSON bytes the tree's nodes may take in the page: the page then loads in well under a
 * second and stays under 5 MB with its lists (REPORT_LISTS_BUDGET) and code. */
#define REPORT_TREE_BUDGET (2500u * 1000u)
/* Nodes the tree keeps at most, whatever their names cost: bounds the search and the work
 * of laying out the treemap in the browser. */
#define REPORT_MAX_NODES 100000u
/* JSON bytes of the largest and the wasted files' paths together (a path can be 4 KiB). */
#define REPORT_LISTS_BUDGET (1000u * 1000u)

/* A name as a JSON string that is safe inside a <script> element and shows every byte:
 * valid UTF-8 and printable ASCII as they are, '<', '>', '&', U+2028 and U+2029 as \uXXXX
 * escapes, control bytes and bytes that are not UTF-8 as the text \xHH (the four
 * characters, as imgstat's text output writes them), and the bidirectional controls, which
 * would reorder what is shown around them, as the text \uXXXX. */
void rj_str(FILE *f, const char *s, size_t len);
/* rj_str of a C string, or null. */
void rj_cstr(FILE *f, const char *s);
/* How many bytes rj_str writes for s. */
size_t rj_len(const char *s, size_t len);
/* An exact integer: a number up to 2^53 (what JavaScript holds exactly), else a string of
 * its digits (the page reads it with BigInt). */
void rj_u64(FILE *f, uint64_t v);

/* The list of t (topn.h) as JSON, first first, within half of REPORT_LISTS_BUDGET:
 * [[path, key], ...], or with wasted [[path, copies, key, [layers]], ...]. */
struct topn;
void report_top_write(FILE *f, struct topn *t, bool wasted);

/* The tree the page holds ("tree": {...}) and the largest files ("largest": [...]), from
 * two walks of the final view.  IMGSTAT_OK or a negative code. */
int report_tree(FILE *f, imgstat *h, uint64_t top);

#endif
