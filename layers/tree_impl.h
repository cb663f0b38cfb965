/*
 * tree_impl: what tree.c (the merge rules), tree_store.c (nodes, inodes, the hash),
 * tree_list.c (listing in path order) and tree_waste.c (where wasted bytes were written)
 * share.  Not part of any interface.
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
    /* In what used to be padding.  A directory: the layer generation in which a whiteout
     * found every node below it stamped (nothing left to hide, W2).  A symlink: its memo
     * slot (0: none). */
    uint32_t aux;
};

#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct node) == 48, "a node is 48 bytes: memory per path is budgeted");
#endif

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

/* C4: a byte total that goes up and down (files come and go), exact whatever the order:
 * the low 64 bits and the carries out of them.  It cannot wrap: at most 2^30 live names of
 * at most IMGSTAT_MAX_FIGURE bytes each. */
struct tree_sum {
    uint64_t lo, carry;
};

static inline void tree_sum_add(struct tree_sum *s, uint64_t v)
{
    s->carry += __builtin_add_overflow(s->lo, v, &s->lo);
}

static inline void tree_sum_sub(struct tree_sum *s, uint64_t v)
{
    s->carry -= __builtin_sub_overflow(s->lo, v, &s->lo);
}

/* The figure a sum reports (C4): its value, or IMGSTAT_TOO_BIG beyond IMGSTAT_MAX_FIGURE. */
static inline uint64_t tree_sum_figure(const struct tree_sum *s)
{
    return s->carry || s->lo > IMGSTAT_MAX_FIGURE ? IMGSTAT_TOO_BIG : s->lo;
}

/* C4: a figure that only grows: once beyond IMGSTAT_MAX_FIGURE it stays IMGSTAT_TOO_BIG. */
static inline void tree_fig_add(uint64_t *f, uint64_t v)
{
    if (__builtin_add_overflow(*f, v, f) || *f > IMGSTAT_MAX_FIGURE)
        *f = IMGSTAT_TOO_BIG;
}

/* What one removal took away (tree_remove): the rules decide how it counts (C5). */
struct tree_removed {
    uint64_t paths;      /* nodes */
    uint64_t file_bytes; /* bytes of the regular-file names among them (a tree_fig_add figure) */
};

/* A regular file under /.wh..wh.plnk/: AUFS kept hard-link targets there; moby skips the
 * directory but lets links in the same layer bind to these files (go-archive aufsHardlinks). */
#define AUFS_PLNK ".wh..wh.plnk/"
struct plnk {
    const char *name;
    size_t len;
    uint32_t ino;
    bool taken; /* a name took it: its names free it, not the end of the layer */
};

/* What a symlink's target resolves to (P1, P4), remembered while nothing that could change
 * it has changed: see memo_valid() in tree.c.  Slots are reused through free_next. */
struct memo {
    uint64_t rm_epoch, sym_epoch; /* the tree's epochs when it was worked out */
    uint32_t dir;                 /* the directory reached ... */
    uint32_t extra;               /* ... and the names taken lexically past it (P4) */
    uint32_t depth;               /* depth of dir plus extra */
    uint32_t hops;                /* links followed inside the target */
    const char *first;            /* the first lexical name (extra > 0), in the arena */
    uint16_t first_len;
    bool lexical;       /* some name on the way was missing or not a directory */
    uint32_t free_next; /* a free slot: the next free one */
};

struct tree {
    struct slabs nodes, inodes;
    uint32_t *buckets;
    uint32_t nbuckets, live;
    uint32_t gen;
    unsigned flags, debug;
    uint64_t max_entries;
    struct arena names;
    struct imgstat_totals tot;      /* counts; the byte figures are the sums below */
    struct tree_sum bytes;          /* once per inode (C2) */
    struct tree_sum bytes_per_path; /* per regular-file name */
    uint64_t layer_bytes;           /* every regular-file entry's size (tree_fig_add) */
    struct tree_layer_stats layer;
    uint64_t reg_inodes;
    /* This layer's AUFS hard-link targets, found by name through a hash of their indexes
     * (+1; 0 is an empty slot). */
    struct plnk *plnk;
    size_t nplnk, plnk_cap;
    uint32_t *plnk_index;
    size_t plnk_index_cap;
    /* What could change where a name resolves (see tree.c): bumped by tree_store.c when a
     * directory or symlink is removed, and when a symlink is created. */
    uint64_t rm_epoch, sym_epoch;
    struct memo *memos; /* slot 0 unused */
    uint32_t nmemos, memo_cap, memo_free;
    /* The last parent directory resolved: tar entries come grouped by directory, so most
     * entries resolve the same parent as the one before. */
    uint64_t cache_rm, cache_sym;
    bool cache_lexical;
    uint32_t cache_dir;
    size_t cache_len;
    char cache_path[PATH_MAX_BYTES + 1];
    /* IMGSTAT_WASTE: where each copy was written (tree_waste.c, C6); NULL when not asked,
     * so a path costs nothing more.  carried: the current entry's bytes went to an inode. */
    struct waste *waste;
    bool carried;
    /* The names a resolution took lexically, when they are to be created (P2, P5). */
    struct tail_name {
        const char *p;
        size_t len;
    } * tail;
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
                       uint32_t ino); /* 0 when out of memory */
/* Remove a node and its subtree, adding what went to *gone. */
void tree_remove(struct tree *t, uint32_t top, struct tree_removed *gone);
uint32_t tree_inode_new(struct tree *t, uint8_t type, uint64_t size); /* 0: out of memory */
void tree_inode_unlink(struct tree *t, uint32_t ino); /* one name fewer; frees at zero */
uint32_t tree_memo_slot(struct tree *t);              /* a free memo slot; 0: out of memory */

/* tree_waste.c (C6): hooks the storage and the rules call when t->waste is set.  They never
 * fail the call that made them: a failure is remembered and tree_waste_status() returns its
 * code (IMGSTAT_ENOMEM; IMGSTAT_ELIMIT beyond TREE_WASTE_MAX_LAYERS), which tree_apply
 * returns. */
struct waste *tree_waste_new(void);
void tree_waste_free(struct waste *w);
int tree_waste_status(const struct tree *t);
/* A node was linked: its path is remembered; a regular file's inode without a path yet (a
 * new file, or an AUFS link target taken by its first name) is a copy written there. */
void tree_waste_node(struct tree *t, uint32_t id);
/* A regular-file inode lost its last name: its bytes are wasted where it was written. */
void tree_waste_lost_inode(struct tree *t, uint32_t ino);
/* Bytes of an entry that never reached an inode, or of an AUFS target no name took: a copy
 * written and wasted at the canonical path p (relative, "" for the root). */
void tree_waste_lost_entry(struct tree *t, const char *p, size_t len, uint64_t size);

enum res { RES_OK = 0, RES_NOTDIR, RES_LOOP, RES_DEEP, RES_NOMEM, RES_CHECK };

/* Where a resolution stands (P1, P4): an existing directory, then `extra` names taken
 * lexically; the first of them is missing or not a directory, so none of them exists. */
struct walk {
    uint32_t dir, extra, depth, hops;
    const char *first; /* the first lexical name, when extra > 0 */
    size_t first_len;
    bool lexical;           /* some name on the way was taken lexically */
    bool fresh;             /* use and store no memo */
    struct tail_name *tail; /* when set: note the lexical names (fresh walks only) */
};

/* tree_resolve.c.  Resolve canonical path p from the image root, creating nothing (P1,
 * P4); for an entry's parent, through the last parent resolved (*hit: it was that one). */
enum res tree_resolve(struct tree *t, struct walk *w, const char *p, size_t len);
enum res tree_resolve_parent(struct tree *t, struct walk *w, const char *p, size_t len, bool *hit);
/* Remember w as the last parent resolved for p. */
void tree_cache_parent(struct tree *t, const struct walk *w, const char *p, size_t len);
/* Make the directories w took lexically (P2, P3, P5); *made: the first one made. */
enum res tree_make_dirs(struct tree *t, struct walk *w, const char *p, size_t len, uint32_t *made);

#endif
