/*
 * tree: the merged filesystem view, built by applying layers bottom-up.
 *
 * It holds metadata only (names, types, sizes, link targets) and keeps the
 * totals current on every change, so the final count costs nothing and a layer's
 * effect can be read between layers.  Rules: docs/rules.md (N, W, P, E, C), which
 * follow image-spec layer.md and umoci.  Every figure is exact (C4): one beyond
 * IMGSTAT_MAX_FIGURE reads IMGSTAT_TOO_BIG.
 */
#ifndef IMGSTAT_TREE_H
#define IMGSTAT_TREE_H

#include <stdint.h>

#include "entry.h"
#include "imgstat.h"

/* Symlinks followed while resolving one name: filepath-securejoin's MaxSymlinkLimit. */
#define TREE_MAX_HOPS 255
/* Directory depth of any node; PATH_MAX_BYTES allows 2048 segments, links can add more. */
#define TREE_MAX_DEPTH 4096
/* Nodes alive at once: ids are 32-bit and a node costs ~90 bytes with its name. */
#define TREE_MAX_NODES (UINT32_C(1) << 30)
/* Layers IMGSTAT_WASTE can tell apart: it keeps layer numbers in 16 bits (a path costs less);
 * PLAN_MAX_LAYERS is far below. */
#define TREE_WASTE_MAX_LAYERS 65535

struct tree;

/* A new tree holding only the root; NULL when out of memory.  flags: IMGSTAT_LENIENT, and
 * IMGSTAT_WASTE to remember where wasted bytes were written (tree_wasted). */
struct tree *tree_new(unsigned flags);
void tree_free(struct tree *t);

/* Entries the tree accepts over all layers before failing with IMGSTAT_ELIMIT; 0: no limit. */
void tree_set_max_entries(struct tree *t, uint64_t max);

/* For tests: TREE_PLAIN resolves every name afresh and walks every whiteout in full (no
 * cache, no shortcut: the reference the caches must equal); TREE_SELFCHECK also resolves
 * every name afresh and fails the entry if the cached answer differs. */
#define TREE_PLAIN 0x1u
#define TREE_SELFCHECK 0x2u
void tree_set_debug(struct tree *t, unsigned debug);

/* Start the next layer: forgets which paths the previous layer touched. */
void tree_begin_layer(struct tree *t);

/* Apply one entry of the current layer (a layer_sink; ctx is the tree). */
int tree_apply(void *ctx, const struct layer_entry *ent, struct err *e);

/* After the last layer: the AUFS link targets it left that no name took are dropped (W6; their
 * bytes are wasted, C6).  IMGSTAT_OK, or IMGSTAT_ENOMEM when IMGSTAT_WASTE could not keep
 * up (e set). */
int tree_end(struct tree *t, struct err *e);

/* The totals of the current view (layers and entries included). */
void tree_totals(const struct tree *t, struct imgstat_totals *out);

/* What the current layer did so far (reset by tree_begin_layer; C5).  Byte figures beyond
 * IMGSTAT_MAX_FIGURE read IMGSTAT_TOO_BIG. */
struct tree_layer_stats {
    uint64_t entries, files_added, files_replaced, paths_removed;
    uint64_t bytes_added, bytes_replaced, bytes_removed;
};
const struct tree_layer_stats *tree_layer_stats(const struct tree *t);

/* Every regular file, in byte-wise order of its path, as "/a/b"; stops on fn's non-zero. */
typedef int (*tree_file_fn)(void *ctx, const char *path, uint64_t len, uint64_t size);
int tree_files(const struct tree *t, tree_file_fn fn, void *ctx);

/* Every node, depth first in byte-wise path order, a directory after what is below it, with
 * the figures of C7 (include/imgstat.h, imgstat_walk); stops on fn's non-zero. */
int tree_walk(const struct tree *t, imgstat_node_fn fn, void *ctx);

/* With IMGSTAT_WASTE: every path with wasted bytes (C6; imgstat_wasted_files); else
 * IMGSTAT_EUSAGE.  Stops on fn's non-zero. */
int tree_wasted(const struct tree *t, imgstat_waste_fn fn, void *ctx);

/* The first warning, or NULL; the count is in the totals. */
const char *tree_first_warning(const struct tree *t);

#endif
