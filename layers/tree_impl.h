/*
 * tree_impl: what tree.c (the merge rules), tree_store.c (nodes, inodes, the hash)
 * and tree_list.c (listing in path order) share.  Not part of any interface.
 */
#ifndef IMGSTAT_TREE_IMPL_H
#define IMGSTAT_TREE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "path.h"
#include "tree.h"

#define SLAB_BITS 12
#define SLAB_SIZE (1u << SLAB_BITS)
#define SLAB_MASK (SLAB_SIZE - 1)
#define ROOT 1u

struct node {
    uint32_t parent, first_child, next_sib, prev_sib;
    uint32_t hnext, hash; /* bucket chain and hash of (parent, name) */
    uint32_t ino;         /* inode id, 0 for directories */
    uint32_t stamp;       /* layer generation that last touched it */
    const char *name;     /* in the arena, not NUL-terminated */
    uint16_t name_len;
    uint8_t type; /* enum ent_type; 0 marks a free slot */
};

struct inode {
    uint64_t size;
    const char *target; /* symlink target, in the arena */
    uint32_t nlink;     /* live names; a free inode has 0 and next_free in size */
    uint16_t target_len;
    uint8_t type;
};

struct slabs {
    void **v;
    uint32_t nslabs, hwm, free_head;
};

/* A regular file under /.wh..wh.plnk/: AUFS kept hard-link targets there; moby skips the
 * directory but lets links in the same layer bind to these files (go-archive aufsHardlinks). */
#define AUFS_PLNK ".wh..wh.plnk/"
struct plnk {
    const char *name;
    size_t len;
    uint32_t ino;
};

struct tree {
    struct slabs nodes, inodes;
    uint32_t *buckets;
    uint32_t nbuckets, live;
    uint32_t gen;
    unsigned flags;
    uint64_t max_entries;
    struct arena names;
    struct imgstat_totals tot;
    struct tree_layer_stats layer;
    uint64_t reg_inodes;
    struct plnk *plnk; /* this layer's AUFS hard-link targets */
    /* The last parent directory resolved: tar entries come grouped by directory, so most
     * entries resolve the same parent as the one before.  Valid while no node is removed
     * (a removal can free the directory, or a directory on the way to it). */
    uint64_t epoch; /* removals so far */
    uint64_t cache_epoch;
    uint32_t cache_dir;
    size_t cache_len;
    char cache_path[PATH_MAX_BYTES + 1];
    size_t nplnk, plnk_cap;
    char warning[ERR_MSG_MAX];
};

static inline struct node *N(const struct tree *t, uint32_t id)
{
    return &((struct node *)t->nodes.v[id >> SLAB_BITS])[id & SLAB_MASK];
}

static inline struct inode *I(const struct tree *t, uint32_t id)
{
    return &((struct inode *)t->inodes.v[id >> SLAB_BITS])[id & SLAB_MASK];
}

/* tree_store.c: storage.  Names passed to tree_node_new must outlive the tree (arena). */
bool tree_slab_reserve(struct slabs *s, size_t elem, uint32_t n);
void tree_slabs_free(struct slabs *s);
uint32_t tree_lookup(const struct tree *t, uint32_t dir, const char *name, size_t len);
uint32_t tree_node_new(struct tree *t, uint32_t dir, const char *name, size_t len, uint8_t type,
                       uint32_t ino);                                 /* 0 when out of memory */
void tree_remove(struct tree *t, uint32_t top);                       /* a node and its subtree */
uint32_t tree_inode_new(struct tree *t, uint8_t type, uint64_t size); /* 0: out of memory */
void tree_inode_unlink(struct tree *t, uint32_t ino); /* one name fewer; frees at zero */

#endif
