/*
 * The merge rules: applying one layer entry to the merged view (SEMANTICS.md §2.3).
 * Storage (nodes, inodes, the hash) is in tree_store.c, the listing in tree_list.c.
 *
 * Invariants:
 * - A node's `stamp` equals the tree's `gen` iff the current layer created or
 *   replaced it or one of its descendants (umoci's upperPaths, SEMANTICS M3).  The
 *   stamped set is closed under ancestors, so a whiteout can drop any unstamped
 *   node together with its subtree.
 * - The totals always describe the live nodes.
 */
#include "tree.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_impl.h"

enum res { RES_OK = 0, RES_MISSING, RES_NOTDIR, RES_LOOP, RES_DEEP, RES_NOMEM };

/* image-spec layer.md §Whiteouts: hide what lower layers put here, keep this layer's own. */
static void prune(struct tree *t, uint32_t id)
{
    if (N(t, id)->stamp != t->gen) {
        tree_remove(t, id);
        return;
    }
    for (uint32_t c = N(t, id)->first_child; c;) {
        uint32_t next = N(t, c)->next_sib;
        prune(t, c);
        c = next;
    }
}

static void stamp_up(struct tree *t, uint32_t id)
{
    while (id && N(t, id)->stamp != t->gen) {
        N(t, id)->stamp = t->gen;
        id = N(t, id)->parent;
    }
}

/*
 * Walk `p` (raw: may hold "", ".", "..", a leading '/') from *cur as directories,
 * following symlinks inside the image root (SEMANTICS A5).  With `create`, missing
 * directories are made (containerd mkparent, umoci mkdirAll).
 */
static enum res resolve(struct tree *t, uint32_t *cur, unsigned *depth, const char *p, size_t len,
                        bool create, unsigned *hops)
{
    size_t i = 0, n;
    const char *seg;
    int kind;
    if (len && p[0] == '/') {
        *cur = ROOT;
        *depth = 0;
    }
    while ((kind = path_next(p, len, &i, &seg, &n)) >= 0) {
        if (kind == SEG_DOTDOT) {
            if (*cur != ROOT) {
                *cur = N(t, *cur)->parent;
                (*depth)--;
            }
            continue;
        }
        if (*depth + 1 > TREE_MAX_DEPTH)
            return RES_DEEP;
        uint32_t c = tree_lookup(t, *cur, seg, n);
        if (!c) {
            if (!create)
                return RES_MISSING;
            const char *name = arena_strndup(&t->names, seg, n);
            if (!name || !(c = tree_node_new(t, *cur, name, n, ENT_DIR, 0)))
                return RES_NOMEM;
        } else if (N(t, c)->type == ENT_SYMLINK) {
            if (++*hops > TREE_MAX_HOPS)
                return RES_LOOP;
            const struct inode *in = I(t, N(t, c)->ino);
            enum res r = resolve(t, cur, depth, in->target, in->target_len, create, hops);
            if (r != RES_OK)
                return r;
            continue;
        } else if (N(t, c)->type != ENT_DIR) {
            return RES_NOTDIR;
        }
        *cur = c;
        (*depth)++;
    }
    return RES_OK;
}

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
    default: return IMGSTAT_OK;
    }
}

static uint32_t plnk_find(const struct tree *t, const char *p, size_t len)
{
    for (size_t i = 0; i < t->nplnk; i++)
        if (t->plnk[i].len == len && memcmp(t->plnk[i].name, p, len) == 0)
            return t->plnk[i].ino;
    return 0;
}

static int plnk_add(struct tree *t, const char *p, size_t len, uint64_t size, struct err *e)
{
    if (t->nplnk == t->plnk_cap) {
        size_t cap = t->plnk_cap ? 2 * t->plnk_cap : 16;
        struct plnk *v = realloc(t->plnk, cap * sizeof *v);
        if (!v)
            return err_nomem(e);
        t->plnk = v;
        t->plnk_cap = cap;
    }
    const char *name = arena_strndup(&t->names, p, len);
    uint32_t ino = name ? tree_inode_new(t, ENT_REG, size) : 0;
    if (!ino)
        return err_nomem(e);
    t->plnk[t->nplnk++] = (struct plnk){name, len, ino};
    return IMGSTAT_OK;
}

/* Forget the layer's AUFS link targets; those no name took are freed. */
static void plnk_reset(struct tree *t)
{
    for (size_t i = 0; i < t->nplnk; i++) {
        struct inode *in = I(t, t->plnk[i].ino);
        if (in->nlink == 0) {
            in->nlink = 1;
            in->type = 0; /* not counted: it never had a name */
            tree_inode_unlink(t, t->plnk[i].ino);
        }
    }
    t->nplnk = 0;
}

/* The inode a hard link names: root-relative, parents followed, last component not. */
static int link_target(struct tree *t, const struct layer_entry *ent, const char *path,
                       uint32_t *ino_out, struct err *e)
{
    uint32_t target = 0, *out = &target;
    *ino_out = 0;
    char lp[PATH_MAX_BYTES + 1];
    bool clamped;
    long len = path_normalize(ent->link, ent->link_len, lp, &clamped);
    if (len < 0)
        return err_set(e, IMGSTAT_ELIMIT, "'%s': link name longer than %d bytes (PATH_MAX_BYTES)",
                       path, PATH_MAX_BYTES);
    size_t blen = path_base_len(lp, (size_t)len);
    size_t plen = (size_t)len > blen ? (size_t)len - blen - 1 : 0;
    uint32_t dir = ROOT;
    unsigned depth = 0, hops = 0;
    enum res r = resolve(t, &dir, &depth, lp, plen, false, &hops);
    *out = 0;
    if ((size_t)len > sizeof AUFS_PLNK - 1 && memcmp(lp, AUFS_PLNK, sizeof AUFS_PLNK - 1) == 0 &&
        (*ino_out = plnk_find(t, lp, (size_t)len)))
        return IMGSTAT_OK;
    if (r == RES_OK && len > 0)
        *out = tree_lookup(t, dir, lp + len - blen, blen);
    if (r == RES_DEEP || r == RES_NOMEM || r == RES_LOOP)
        return resolve_error(t, e, path, r);
    if (!*out) {
        char what[PATH_MAX_BYTES + 64];
        snprintf(what, sizeof what, "hard link to missing '%s'", lp);
        return conflict(t, e, path, what);
    }
    if (N(t, *out)->type == ENT_DIR)
        return conflict(t, e, path, "hard link to a directory");
    *ino_out = N(t, *out)->ino;
    return IMGSTAT_OK;
}

/* ENTRY at dir/name (SEMANTICS A8): same-layer last wins, dir over dir merges. */
static int put_entry(struct tree *t, const struct layer_entry *ent, const char *path, uint32_t dir,
                     const char *name, size_t nlen, struct err *e)
{
    uint32_t old = tree_lookup(t, dir, name, nlen);
    const char *stored = old ? N(t, old)->name : NULL;
    bool was_file = false;
    uint64_t old_size = 0;
    if (old) {
        if (N(t, old)->type == ENT_DIR && ent->type == ENT_DIR) {
            stamp_up(t, old);
            return IMGSTAT_OK;
        }
        if ((was_file = N(t, old)->type == ENT_REG))
            old_size = I(t, N(t, old)->ino)->size;
        tree_remove(t, old); /* the name stays in the arena: reuse it */
    }
    if (!stored && !(stored = arena_strndup(&t->names, name, nlen)))
        return err_nomem(e);

    uint8_t type = ent->type;
    uint32_t ino = 0;
    if (type == ENT_HARDLINK) {
        int rc = link_target(t, ent, path, &ino, e);
        if (rc != IMGSTAT_OK || !ino)
            return rc;
        type = I(t, ino)->type;
    } else if (type != ENT_DIR) {
        if (!(ino = tree_inode_new(t, type, type == ENT_REG ? ent->size : 0)))
            return err_nomem(e);
        if (type == ENT_SYMLINK) {
            if (ent->link_len > PATH_MAX_BYTES)
                return err_set(e, IMGSTAT_ELIMIT, "'%s': symlink target longer than %d bytes", path,
                               PATH_MAX_BYTES);
            I(t, ino)->target = arena_strndup(&t->names, ent->link ? ent->link : "", ent->link_len);
            I(t, ino)->target_len = (uint16_t)ent->link_len;
            if (!I(t, ino)->target)
                return err_nomem(e);
        }
    }
    uint32_t id = tree_node_new(t, dir, stored, nlen, type, ino);
    if (!id)
        return err_nomem(e);
    stamp_up(t, id);
    if (type == ENT_REG && was_file) { /* a replacement, not a removal */
        t->layer.paths_removed--;
        t->layer.bytes_removed -= old_size;
        t->layer.files_replaced++;
        t->layer.bytes_replaced += I(t, ino)->size;
    } else if (type == ENT_REG) {
        t->layer.files_added++;
        t->layer.bytes_added += I(t, ino)->size;
    }
    return IMGSTAT_OK;
}

int tree_apply(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct tree *t = ctx;
    char path[PATH_MAX_BYTES + 1];
    bool clamped;
    if (++t->tot.entries > t->max_entries && t->max_entries)
        return err_set(e, IMGSTAT_ELIMIT,
                       "more than %llu tar entries in the image (raise it with --max-entries)",
                       (unsigned long long)t->max_entries);
    t->layer.entries++;
    if (ent->type == ENT_REG)
        t->tot.layer_bytes += ent->size;
    long len = path_normalize(ent->path, ent->path_len, path, &clamped);
    if (len < 0)
        return err_set(e, IMGSTAT_ELIMIT,
                       "member name of %zu bytes is longer than %d (PATH_MAX_BYTES)", ent->path_len,
                       PATH_MAX_BYTES);
    if (clamped && t->tot.warnings++ == 0) {
        snprintf(t->warning, sizeof t->warning, "'..' clamped at the image root in '%.*s'",
                 (int)(ent->path_len > 512 ? 512 : ent->path_len), ent->path);
        err_one_line(t->warning, sizeof t->warning);
    }
    if (len == 0)
        return IMGSTAT_OK; /* the root itself (SEMANTICS A2) */

    enum wh_kind kind = wh_classify(path, (size_t)len);
    size_t blen = path_base_len(path, (size_t)len);
    size_t plen = (size_t)len > blen ? (size_t)len - blen - 1 : 0;
    const char *base = path + len - blen;
    if (blen > UINT16_MAX)
        return err_set(e, IMGSTAT_ELIMIT, "'%s': name segment too long", path);
    if (kind == WH_AUFS) {
        if (ent->type == ENT_REG && (size_t)len > sizeof AUFS_PLNK - 1 &&
            memcmp(path, AUFS_PLNK, sizeof AUFS_PLNK - 1) == 0)
            return plnk_add(t, path, (size_t)len, ent->size, e);
        return IMGSTAT_OK;
    }
    if (kind == WH_BARE)
        return conflict(t, e, path, "whiteout '.wh.' names no file");

    uint32_t dir = ROOT;
    unsigned depth = 0, hops = 0;
    enum res r;
    if (t->cache_dir && t->cache_epoch == t->epoch && t->cache_len == plen &&
        memcmp(t->cache_path, path, plen) == 0) {
        dir = t->cache_dir;
        r = RES_OK;
    } else if ((r = resolve(t, &dir, &depth, path, plen, kind == WH_NONE, &hops)) == RES_OK) {
        memcpy(t->cache_path, path, plen);
        t->cache_len = plen;
        t->cache_dir = dir;
        t->cache_epoch = t->epoch;
    }
    if (kind != WH_NONE) {
        /* a whiteout under a missing or non-directory parent hides nothing (umoci) */
        if (r == RES_MISSING || r == RES_NOTDIR)
            return IMGSTAT_OK;
        if (r != RES_OK)
            return resolve_error(t, e, path, r);
        if (kind == WH_OPAQUE) {
            for (uint32_t c = N(t, dir)->first_child; c;) {
                uint32_t next = N(t, c)->next_sib;
                prune(t, c);
                c = next;
            }
        } else {
            uint32_t victim = tree_lookup(t, dir, base + WH_PREFIX_LEN, blen - WH_PREFIX_LEN);
            if (victim)
                prune(t, victim);
        }
        return IMGSTAT_OK;
    }
    if (r != RES_OK)
        return resolve_error(t, e, path, r);
    return put_entry(t, ent, path, dir, base, blen, e);
}

struct tree *tree_new(unsigned flags)
{
    struct tree *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->flags = flags;
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

void tree_begin_layer(struct tree *t)
{
    plnk_reset(t);
    t->gen++;
    t->tot.layers++;
    memset(&t->layer, 0, sizeof t->layer);
}

void tree_totals(const struct tree *t, struct imgstat_totals *out)
{
    *out = t->tot;
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
