/*
 * entry: one tar member of a layer, as the walker emits it and the tree consumes it.
 *
 * The walker knows archives, the tree knows merges; this struct is all they share,
 * so the merge can be tested from a list of entries with no archive at all.
 * Strings are borrowed: valid only during the sink call.
 */
#ifndef IMGSTAT_ENTRY_H
#define IMGSTAT_ENTRY_H

#include <stddef.h>
#include <stdint.h>

struct err;

enum ent_type {
    ENT_REG = 1, /* regular file (also unknown typeflags, contiguous, sparse) */
    ENT_DIR,
    ENT_SYMLINK,  /* link = target, raw */
    ENT_HARDLINK, /* link = the other name, relative to the image root */
    ENT_CHR,
    ENT_BLK,
    ENT_FIFO,
    ENT_OTHER, /* sockets and anything else that is not a file */
};

struct layer_entry {
    const char *path; /* raw member name, not normalised */
    size_t path_len;
    const char *link; /* symlink target or hard-link name; NULL otherwise */
    size_t link_len;
    uint64_t size; /* logical size for ENT_REG, else 0 */
    uint8_t type;  /* enum ent_type */
};

/* Consumes one entry; returns IMGSTAT_OK or a negative code with e set. */
typedef int (*layer_sink)(void *ctx, const struct layer_entry *ent, struct err *e);

#endif
