/*
 * pipeline: merge a chosen image's layers into the tree, in order, decoding the
 * layers ahead in helper threads (pigz's model: work is claimed in sequence, output
 * consumed in sequence; -j 1 is the same code without threads).
 */
#ifndef IMGSTAT_PIPELINE_H
#define IMGSTAT_PIPELINE_H

#include "imgstat.h"
#include "memo.h"
#include "plan.h"
#include "source.h"
#include "tree.h"

/* Decoder threads at most, whatever jobs says: more only costs memory. */
#define PIPELINE_MAX_HELPERS 255

struct pipeline_opts {
    unsigned jobs;                /* layers decoded at once; 0: online CPUs */
    imgstat_progress_fn progress; /* NULL: no reports */
    void *progress_ctx;
    struct memo *memo; /* the layer memo (memoize.h), or NULL */
};

/*
 * Find every layer blob of img (a missing one is an error before any work), then apply
 * the layers to t in order.  info[img->nlayers] receives what each layer did.  On failure
 * e names the layer.  Not thread-safe for one source (finding blobs caches them).
 */
int pipeline_run(struct source *src, const struct image *img, const struct pipeline_opts *o,
                 struct tree *t, struct imgstat_layer_info *info, struct err *e);

#endif
