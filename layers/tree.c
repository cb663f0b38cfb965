/*
 * The merge rules: applying one layer entry to the merged view (docs/rules.md).
 * Storage (nodes, inodes, the hash) is in tree_store.c, the listing in tree_list.c.
 *
 * Invariants:
 * - A node's `stamp` equals the tree's `gen` iff the current layer created or
 *   replaced it or one of its descendants (umoci's upperPaths, W2).  The stamped set
 *   is closed under ancestors, so a whiteout can drop any unstamped node together
 *   with its subtree.
 * - A directory whose `aux` equals `gen` has only stamped nodes below it: a whiteout
 *   has nothing left to hide there, so a repeated opaque marker or whiteout is free.
 * - The totals always describe the live nodes.
 *
 * Names are resolved, and the caches that make resolving linear kept, in tree_resolve.c.
 */
#include "tree.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "tree_impl.h"

/* ------------------------------------------------------------------ errors */

/* A merge conflict: an error, or in lenient mode a counted warning and the entry skipped. */
static int conflict(struct tree *t, struct err *e, const char *path, const char *what)
{
    if (t->flags & IMGSTAT_LENIENT) {
        if (t->tot.warnings++ == 0) {
            snprintf(t->warning, sizeof t->warning, "'%s': %s (skipped)", path, what);
            err_one_line(t->warning, sizeof t->warning);
        }
        return IMGSTAT_OK;
    }
    return err_set(e, IMGSTAT_EINPUT, "'%s': %s", path, what);
}

static int resolve_error(struct tree *t, struct err *e, const char *path, enum res r)
{
    switch (r) {
    case RES_NOTDIR: return conflict(t, e, path, "a parent is not a directory");
    case RES_LOOP:
        return conflict(t, e, path, "too many levels of symbolic links (TREE_MAX_HOPS 255)");
    case RES_DEEP:
        return err_set(e, IMGSTAT_ELIMIT, "'%s': deeper than %d directories (TREE_MAX_DEPTH)", path,
                       TREE_MAX_DEPTH);
    case RES_NOMEM: return err_nomem(e);
    case RES_CHECK:
        return err_set(e, IMGSTAT_EINPUT, "'%s': a cached resolution differs from a fresh one",
                       path);
    default: return IMGSTAT_OK;
    }
}

/* ------------------------------------------------------------------ whiteouts */

/* C5: what a layer hid, counted as removed. */
static void count_removed(struct tree *t, const struct tree_removed *gone)
{
    t->layer.paths_removed += gone->paths;
    tree_fig_add(&t->layer.bytes_removed, gone->file_bytes);
}

static void prune(struct tree *t, uint32_t id, struct tree_removed *gone);

/* W2, W3: hide every lower node below dir.  Afterwards everything below it is this layer's,
 * which `aux` remembers, so the next whiteout there has nothing to walk. */
static void prune_children(struct tree *t, uint32_t dir, struct tree_removed *gone)
{
    for (uint32_t c = N(t, dir)->first_child; c;) {
        uint32_t next = N(t, c)->next_sib;
        prune(t, c, gone);
        c = next;
    }
    if (!(t->debug & TREE_PLAIN))
        N(t, dir)->aux = t->gen;
}

/* image-spec layer.md §Whiteouts (W2): hide what lower layers put here, keep this layer's own. */
static void prune(struct tree *t, uint32_t id, struct tree_removed *gone)
{
    const struct node *n = N(t, id);
    if (n->stamp != t->gen)
        tree_remove(t, id, gone);
    else if (n->type == ENT_DIR && n->aux != t->gen)
        prune_children(t, id, gone);
}

/* W1-W3, W5: a whiteout or opaque marker, its parent resolved to w (or not: r). */
static int whiteout(struct tree *t, struct err *e, const char *path, enum wh_kind kind,
                    const struct walk *w, enum res r, const char *base, size_t blen)
{
    if (r != RES_OK)
        return resolve_error(t, e, path, r);
    if (w->extra)
        return IMGSTAT_OK; /* W5: under a missing or non-directory parent: nothing to hide */
    struct tree_removed gone = {0, 0};
    if (kind == WH_OPAQUE) {
        if (N(t, w->dir)->aux != t->gen)
            prune_children(t, w->dir, &gone);
    } else {
        uint32_t victim = tree_lookup(t, w->dir, base + WH_PREFIX_LEN, blen - WH_PREFIX_LEN);
        if (victim)
            prune(t, victim, &gone);
    }
    count_removed(t, &gone);
    return IMGSTAT_OK;
}

/* ------------------------------------------------------------------ AUFS link targets (W6) */

/* Where name p is in the index, or the empty slot where it would go. */
static size_t plnk_slot(const struct tree *t, const char *p, size_t len)
{
    size_t mask = t->plnk_index_cap - 1;
    for (size_t i = (size_t)hash_key(p, len) & mask;; i = (i + 1) & mask) {
        uint32_t k = t->plnk_index[i];
        if (!k || (t->plnk[k - 1].len == len && memcmp(t->plnk[k - 1].name, p, len) == 0))
            return i;
    }
}

/* The inode of target p, now taken by a name; 0 when there is none. */
static uint32_t plnk_take(struct tree *t, const char *p, size_t len)
{
    if (!t->nplnk)
        return 0;
    uint32_t k = t->plnk_index[plnk_slot(t, p, len)];
    if (!k)
        return 0;
    t->plnk[k - 1].taken = true;
    return t->plnk[k - 1].ino;
}

/* Room for one more target, the index kept at most half full. */
static bool plnk_reserve(struct tree *t)
{
    if (t->nplnk == t->plnk_cap) {
        size_t cap = t->plnk_cap ? 2 * t->plnk_cap : 16;
        struct plnk *v = cap < UINT32_MAX ? realloc(t->plnk, cap * sizeof *v) : NULL;
        if (!v)
            return false;
        t->plnk = v;
        t->plnk_cap = cap;
    }
    if (2 * (t->nplnk + 1) <= t->plnk_index_cap)
        return true;
    size_t cap = t->plnk_index_cap ? 2 * t->plnk_index_cap : 64;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return false;
    free(t->plnk_index);
    t->plnk_index = idx;
    t->plnk_index_cap = cap;
    for (size_t k = 0; k < t->nplnk; k++)
        idx[plnk_slot(t, t->plnk[k].name, t->plnk[k].len)] = (uint32_t)(k + 1);
    return true;
}

/* A target no name took: it never had a name, so it is freed uncounted, its bytes wasted
 * at the target's own name (C6).  One a name took is its names' to free, and may be freed
 * already (its names replaced in this layer), its slot even reused. */
static void plnk_drop_inode(struct tree *t, const struct plnk *k)
{
    struct inode *in = I(t, k->ino);
    if (!k->taken) {
        if (t->waste)
            tree_waste_lost_entry(t, k->name, k->len, in->size);
        in->nlink = 1;
        in->type = 0;
        tree_inode_unlink(t, k->ino);
    }
}

static int plnk_add(struct tree *t, const char *p, size_t len, uint64_t size, struct err *e)
{
    if (!plnk_reserve(t))
        return err_nomem(e);
    uint32_t ino = tree_inode_new(t, ENT_REG, size);
    if (!ino)
        return err_nomem(e);
    size_t slot = plnk_slot(t, p, len);
    uint32_t k = t->plnk_index[slot];
    if (k) { /* the same target again: the last one wins (E1, moby's map by name) */
        plnk_drop_inode(t, &t->plnk[k - 1]);
        t->plnk[k - 1].ino = ino;
        t->plnk[k - 1].taken = false;
        return IMGSTAT_OK;
    }
    const char *name = arena_strndup(&t->names, p, len);
    if (!name)
        return err_nomem(e);
    t->plnk[t->nplnk++] = (struct plnk){name, len, ino, false};
    t->plnk_index[slot] = (uint32_t)t->nplnk;
    return IMGSTAT_OK;
}

/* Forget the layer's AUFS link targets; those no name took are freed. */
static void plnk_reset(struct tree *t)
{
    for (size_t i = 0; i < t->nplnk; i++)
        plnk_drop_inode(t, &t->plnk[i]);
    t->nplnk = 0;
    free(t->plnk_index); /* cleared by dropping: a layer with none costs nothing */
    t->plnk_index = NULL;
    t->plnk_index_cap = 0;
}

/* ------------------------------------------------------------------ entries */

/* E3: the inode a hard link names: from the image root, parents followed (P1, P4), the last
 * component not.  *ino_out stays 0 when a lenient conflict skipped the link. */
static int link_target(struct tree *t, const struct layer_entry *ent, const char *path,
                       uint32_t *ino_out, struct err *e)
{
    *ino_out = 0;
    char lp[PATH_MAX_BYTES + 1];
    bool clamped;
    long len = path_normalize(ent->link, ent->link_len, lp, &clamped);
    if (len < 0)
        return err_set(e, IMGSTAT_ELIMIT, "'%s': link name longer than %d bytes (PATH_MAX_BYTES)",
                       path, PATH_MAX_BYTES);
    if ((size_t)len > sizeof AUFS_PLNK - 1 && memcmp(lp, AUFS_PLNK, sizeof AUFS_PLNK - 1) == 0 &&
        (*ino_out = plnk_take(t, lp, (size_t)len)))
        return IMGSTAT_OK; /* W6 */
    size_t blen = path_base_len(lp, (size_t)len);
    size_t plen = (size_t)len > blen ? (size_t)len - blen - 1 : 0;
    struct walk w;
    enum res r = tree_resolve(t, &w, lp, plen);
    if (r != RES_OK)
        return resolve_error(t, e, path, r);
    uint32_t target = len > 0 && !w.extra ? tree_lookup(t, w.dir, lp + len - blen, blen) : 0;
    if (!target) { /* E4 */
        char what[PATH_MAX_BYTES + 64];
        snprintf(what, sizeof what, "hard link to missing '%s'", lp);
        return conflict(t, e, path, what);
    }
    if (N(t, target)->type == ENT_DIR)
        return conflict(t, e, path, "hard link to a directory");
    *ino_out = N(t, target)->ino;
    return IMGSTAT_OK;
}

/* The inode of a new non-directory entry (E3, E5); *ino 0 when a lenient conflict skipped
 * a hard link.  *type becomes the target's type for a hard link. */
static int entry_inode(struct tree *t, const struct layer_entry *ent, const char *path,
                       uint8_t *type, uint32_t *ino, struct err *e)
{
    if (*type == ENT_HARDLINK) {
        int rc = link_target(t, ent, path, ino, e);
        if (*ino)
            *type = I(t, *ino)->type;
        return rc;
    }
    if (ent->link_len > PATH_MAX_BYTES)
        return err_set(e, IMGSTAT_ELIMIT, "'%s': symlink target longer than %d bytes", path,
                       PATH_MAX_BYTES);
    if (!(*ino = tree_inode_new(t, *type, *type == ENT_REG ? ent->size : 0)))
        return err_nomem(e);
    if (*type == ENT_SYMLINK) {
        I(t, *ino)->target = arena_strndup(&t->names, ent->link ? ent->link : "", ent->link_len);
        I(t, *ino)->target_len = (uint16_t)ent->link_len;
        if (!I(t, *ino)->target)
            return err_nomem(e);
    }
    return IMGSTAT_OK;
}

static void stamp_up(struct tree *t, uint32_t id)
{
    while (id && N(t, id)->stamp != t->gen) {
        N(t, id)->stamp = t->gen;
        id = N(t, id)->parent;
    }
}

/* C5: an entry's effect on its layer's figures.  A regular file over a regular file is a
 * replacement; anything else it hid was removed; a regular file where none was is added. */
static void count_entry(struct tree *t, const struct tree_removed *gone, bool over_file,
                        uint32_t new_file)
{
    if (new_file && over_file) {
        t->layer.files_replaced++;
        tree_fig_add(&t->layer.bytes_replaced, I(t, new_file)->size);
        return;
    }
    count_removed(t, gone);
    if (new_file) {
        t->layer.files_added++;
        tree_fig_add(&t->layer.bytes_added, I(t, new_file)->size);
    }
}

/* An entry at dir/name (E1, E2): same-layer last wins, a directory over a directory merges.
 * made: the first directory P5 made for it, taken back if the entry is skipped. */
static int put_entry(struct tree *t, const struct layer_entry *ent, const char *path, uint32_t dir,
                     const char *name, size_t nlen, uint32_t made, struct err *e)
{
    uint32_t old = tree_lookup(t, dir, name, nlen);
    const char *stored = old ? N(t, old)->name : NULL;
    struct tree_removed gone = {0, 0};
    bool over_file = false;
    if (old) {
        if (N(t, old)->type == ENT_DIR && ent->type == ENT_DIR) {
            stamp_up(t, old);
            return IMGSTAT_OK;
        }
        over_file = N(t, old)->type == ENT_REG;
        tree_remove(t, old, &gone); /* the name stays in the arena: reuse it */
    }
    uint8_t type = ent->type;
    uint32_t ino = 0, id = 0;
    int rc = type == ENT_DIR ? IMGSTAT_OK : entry_inode(t, ent, path, &type, &ino, e);
    if (rc == IMGSTAT_OK && (ino || type == ENT_DIR)) {
        if ((!stored && !(stored = arena_strndup(&t->names, name, nlen))) ||
            !(id = tree_node_new(t, dir, stored, nlen, type, ino)))
            return err_nomem(e);
        stamp_up(t, id);
    } else if (rc == IMGSTAT_OK && made) { /* skipped (--lenient): it leaves no directory */
        struct tree_removed undone = {0, 0};
        tree_remove(t, made, &undone);
    }
    count_entry(t, &gone, over_file, id && type == ENT_REG ? ino : 0);
    return rc;
}

/* W4, W6 and the rest: what a name that is not an ordinary entry does. */
static int special_entry(struct tree *t, const struct layer_entry *ent, const char *path,
                         size_t len, enum wh_kind kind, struct err *e)
{
    if (kind == WH_BARE)
        return conflict(t, e, path, "whiteout '.wh.' names no file");
    if (ent->type == ENT_REG && len > sizeof AUFS_PLNK - 1 &&
        memcmp(path, AUFS_PLNK, sizeof AUFS_PLNK - 1) == 0)
        return plnk_add(t, path, len, ent->size, e);
    return IMGSTAT_OK;
}

/* Count the entry against the limits and normalise its name into path (N1, N2). */
static int admit(struct tree *t, const struct layer_entry *ent, char *path, long *len,
                 struct err *e)
{
    bool clamped;
    if (++t->tot.entries > t->max_entries && t->max_entries)
        return err_set(e, IMGSTAT_ELIMIT,
                       "more than %llu tar entries in the image (raise it with --max-entries)",
                       (unsigned long long)t->max_entries);
    t->layer.entries++;
    if ((*len = path_normalize(ent->path, ent->path_len, path, &clamped)) < 0)
        return err_set(e, IMGSTAT_ELIMIT,
                       "member name of %zu bytes is longer than %d (PATH_MAX_BYTES)", ent->path_len,
                       PATH_MAX_BYTES);
    if (ent->type == ENT_REG && ent->size > IMGSTAT_MAX_FIGURE) /* C4 */
        return err_set(e, IMGSTAT_ELIMIT,
                       "'%s': a size of %llu bytes is over %llu, the largest figure "
                       "(IMGSTAT_MAX_FIGURE, a signed 64-bit integer)",
                       path, (unsigned long long)ent->size, (unsigned long long)IMGSTAT_MAX_FIGURE);
    if (ent->type == ENT_REG)
        tree_fig_add(&t->layer_bytes, ent->size);
    if (clamped && t->tot.warnings++ == 0) {
        snprintf(t->warning, sizeof t->warning, "'..' clamped at the image root in '%.*s'",
                 (int)(ent->path_len > 512 ? 512 : ent->path_len), ent->path);
        err_one_line(t->warning, sizeof t->warning);
    }
    return IMGSTAT_OK;
}

/* One entry, its canonical name left in path[*len]. */
static int apply_entry(struct tree *t, const struct layer_entry *ent, char *path, long *lenp,
                       struct err *e)
{
    long len = 0;
    int rc = admit(t, ent, path, &len, e);
    *lenp = len;
    if (rc != IMGSTAT_OK || len == 0)
        return rc; /* "" is the root itself (N3) */

    enum wh_kind kind = wh_classify(path, (size_t)len);
    size_t blen = path_base_len(path, (size_t)len);
    size_t plen = (size_t)len > blen ? (size_t)len - blen - 1 : 0;
    const char *base = path + len - blen;
    if (blen > UINT16_MAX)
        return err_set(e, IMGSTAT_ELIMIT, "'%s': name segment too long", path);
    if (kind == WH_AUFS || kind == WH_BARE)
        return special_entry(t, ent, path, (size_t)len, kind, e);

    struct walk w;
    bool hit;
    uint32_t made = 0;
    enum res r = tree_resolve_parent(t, &w, path, plen, &hit);
    if (kind == WH_NONE && r == RES_OK && w.extra)
        r = tree_make_dirs(t, &w, path, plen, &made);
    if (r == RES_OK && !w.extra && !hit)
        tree_cache_parent(t, &w, path, plen);
    if (kind != WH_NONE)
        return whiteout(t, e, path, kind, &w, r, base, blen);
    if (r != RES_OK)
        return resolve_error(t, e, path, r);
    return put_entry(t, ent, path, w.dir, base, blen, made, e);
}

/* What a failure of IMGSTAT_WASTE's bookkeeping means, for the entry at path. */
static int waste_error(struct tree *t, const char *path, struct err *e)
{
    switch (tree_waste_status(t)) {
    case IMGSTAT_OK: return IMGSTAT_OK;
    case IMGSTAT_ENOMEM: return err_nomem(e);
    case IMGSTAT_ELIMIT:
        return err_set(e, IMGSTAT_ELIMIT,
                       "more than %d layers to tell apart in the wasted files "
                       "(TREE_WASTE_MAX_LAYERS)",
                       TREE_WASTE_MAX_LAYERS);
    default: return err_set(e, IMGSTAT_EINPUT, "'%s': a file's bytes have no path", path);
    }
}

/* C6: with IMGSTAT_WASTE, a regular file's bytes that reached no inode (skipped, AUFS
 * metadata, a whiteout that carries data) are wasted where the entry named them. */
static int waste_entry(struct tree *t, const struct layer_entry *ent, const char *path, long len,
                       struct err *e)
{
    if (ent->type == ENT_REG && !t->carried && ent->size && len >= 0)
        tree_waste_lost_entry(t, path, (size_t)len, ent->size);
    return waste_error(t, path, e);
}

int tree_apply(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct tree *t = ctx;
    char path[PATH_MAX_BYTES + 1];
    long len = -1;
    t->carried = false;
    int rc = apply_entry(t, ent, path, &len, e);
    return rc == IMGSTAT_OK && t->waste ? waste_entry(t, ent, path, len, e) : rc;
}

/* ------------------------------------------------------------------ the tree */

struct tree *tree_new(unsigned flags)
{
    struct tree *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->flags = flags;
    if ((flags & IMGSTAT_WASTE) && !(t->waste = tree_waste_new())) {
        free(t);
        return NULL;
    }
    t->gen = 1; /* no node's `aux` says "clean" before the first layer */
    t->nbuckets = 1024;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    /* ids 0 (none) and 1 (root) are taken in both slabs; inode 0 means "no inode" */
    if (!t->buckets || !tree_slab_reserve(&t->nodes, sizeof(struct node), ROOT + 1) ||
        !tree_slab_reserve(&t->inodes, sizeof(struct inode), 1)) {
        tree_free(t);
        return NULL;
    }
    N(t, ROOT)->type = ENT_DIR;
    return t;
}

void tree_free(struct tree *t)
{
    if (!t)
        return;
    free(t->plnk);
    free(t->plnk_index);
    free(t->memos);
    free(t->tail);
    tree_waste_free(t->waste);
    tree_slabs_free(&t->nodes);
    tree_slabs_free(&t->inodes);
    free(t->buckets);
    arena_free(&t->names);
    free(t);
}

void tree_set_max_entries(struct tree *t, uint64_t max)
{
    t->max_entries = max;
}

void tree_set_debug(struct tree *t, unsigned debug)
{
    t->debug = debug;
}

void tree_begin_layer(struct tree *t)
{
    plnk_reset(t);
    t->gen++;
    t->tot.layers++;
    memset(&t->layer, 0, sizeof t->layer);
}

int tree_end(struct tree *t, struct err *e)
{
    plnk_reset(t);
    return waste_error(t, "(the end of the last layer)", e);
}

void tree_totals(const struct tree *t, struct imgstat_totals *out)
{
    *out = t->tot;
    out->bytes = tree_sum_figure(&t->bytes);
    out->bytes_per_path = tree_sum_figure(&t->bytes_per_path);
    out->layer_bytes = t->layer_bytes;
    out->hardlinks = t->tot.files - t->reg_inodes;
}

const struct tree_layer_stats *tree_layer_stats(const struct tree *t)
{
    return &t->layer;
}

const char *tree_first_warning(const struct tree *t)
{
    return t->tot.warnings ? t->warning : NULL;
}
