/*
 * The merged view: nodes in slabs addressed by 32-bit ids, found by a hash of
 * (parent id, name); each non-directory points to an inode so hard links share
 * size and link count.
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

#include <xxhash.h>

#include "arena.h"
#include "err.h"
#include "path.h"

#define SLAB_BITS 12
#define SLAB_SIZE (1u << SLAB_BITS)
#define SLAB_MASK (SLAB_SIZE - 1)
#define ROOT 1u
/* Longest path a listing builds: nodes sit at most TREE_MAX_DEPTH deep. */
#define TREE_PATH_BUF (TREE_MAX_DEPTH * 64)

struct node {
    uint32_t parent, first_child, next_sib, prev_sib;
    uint32_t hnext, hash; /* bucket chain and hash of (parent, name) */
    uint32_t ino;         /* inode id, 0 for directories */
    uint32_t stamp;       /* layer generation that last touched it */
    const char *name;     /* in the arena, not NUL-terminated */
    uint16_t name_len;
    uint8_t type;         /* enum ent_type; 0 marks a free slot */
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

/* A regular file under /.wh..wh.plnk/: AUFS kept hard-link targets there; moby skips the
 * directory but lets links in the same layer bind to these files (go-archive aufsHardlinks). */
#define AUFS_PLNK ".wh..wh.plnk/"
struct plnk {
    const char *name;
    size_t len;
    uint32_t ino;
};

enum res { RES_OK = 0, RES_MISSING, RES_NOTDIR, RES_LOOP, RES_DEEP, RES_NOMEM };

static inline struct node *N(const struct tree *t, uint32_t id)
{
    return &((struct node *)t->nodes.v[id >> SLAB_BITS])[id & SLAB_MASK];
}

static inline struct inode *I(const struct tree *t, uint32_t id)
{
    return &((struct inode *)t->inodes.v[id >> SLAB_BITS])[id & SLAB_MASK];
}

/* A zeroed slot from the free list or the high-water mark; 0 when out of memory. */
static uint32_t slab_get(struct slabs *s, size_t elem, uint32_t (*next_free)(void *))
{
    if (s->free_head) {
        uint32_t id = s->free_head;
        void *p = (char *)s->v[id >> SLAB_BITS] + (size_t)(id & SLAB_MASK) * elem;
        s->free_head = next_free(p);
        memset(p, 0, elem);
        return id;
    }
    if (s->hwm >= TREE_MAX_NODES)
        return 0;
    uint32_t id = s->hwm;
    if ((id >> SLAB_BITS) >= s->nslabs) {
        void **v = realloc(s->v, (s->nslabs + 1) * sizeof *v);
        if (!v)
            return 0;
        s->v = v;
        v[s->nslabs] = calloc(SLAB_SIZE, elem);
        if (!v[s->nslabs])
            return 0;
        s->nslabs++;
    }
    s->hwm++;
    return id;
}

/* Take the first n ids of an empty slab set (the ids that mean "none" and the root). */
static bool slab_reserve(struct slabs *s, size_t elem, uint32_t n)
{
    if (!(s->v = malloc(sizeof *s->v)) || !(s->v[0] = calloc(SLAB_SIZE, elem)))
        return false;
    s->nslabs = 1;
    s->hwm = n;
    return true;
}

static uint32_t node_next_free(void *p)
{
    return ((struct node *)p)->next_sib;
}

static uint32_t inode_next_free(void *p)
{
    return (uint32_t)((struct inode *)p)->size;
}

static void slabs_free(struct slabs *s)
{
    for (uint32_t i = 0; i < s->nslabs; i++)
        free(s->v[i]);
    free(s->v);
}

static uint32_t name_hash(uint32_t parent, const char *name, size_t len)
{
    return (uint32_t)XXH3_64bits_withSeed(name, len, parent);
}

static uint32_t lookup(const struct tree *t, uint32_t dir, const char *name, size_t len)
{
    uint32_t h = name_hash(dir, name, len);
    for (uint32_t id = t->buckets[h & (t->nbuckets - 1)]; id; id = N(t, id)->hnext) {
        const struct node *n = N(t, id);
        if (n->hash == h && n->parent == dir && n->name_len == len &&
            memcmp(n->name, name, len) == 0)
            return id;
    }
    return 0;
}

static bool rehash(struct tree *t)
{
    uint32_t nb = t->nbuckets * 2;
    uint32_t *b = calloc(nb, sizeof *b);
    if (!b)
        return false;
    for (uint32_t id = ROOT + 1; id < t->nodes.hwm; id++) {
        struct node *n = N(t, id);
        if (!n->type)
            continue;
        n->hnext = b[n->hash & (nb - 1)];
        b[n->hash & (nb - 1)] = id;
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
    return true;
}

static void count(struct tree *t, uint8_t type, uint64_t size, int dir)
{
    struct imgstat_totals *c = &t->tot;
    switch (type) {
    case ENT_DIR: c->dirs += dir; break;
    case ENT_REG: c->files += dir; c->bytes_per_path += dir * size; break;
    case ENT_SYMLINK: c->symlinks += dir; break;
    case ENT_CHR:
    case ENT_BLK: c->devices += dir; break;
    default: c->fifos += dir; break;
    }
}

static uint32_t inode_new(struct tree *t, uint8_t type, uint64_t size)
{
    uint32_t id = slab_get(&t->inodes, sizeof(struct inode), inode_next_free);
    if (id) {
        I(t, id)->type = type;
        I(t, id)->size = size;
    }
    return id;
}

/* One more name for inode `ino`; the first name brings its bytes into the total. */
static void inode_link(struct tree *t, uint32_t ino)
{
    struct inode *in = I(t, ino);
    if (in->nlink++ == 0 && in->type == ENT_REG) {
        t->tot.bytes += in->size;
        t->reg_inodes++;
    }
}

static void inode_unlink(struct tree *t, uint32_t ino)
{
    struct inode *in = I(t, ino);
    if (--in->nlink > 0)
        return;
    if (in->type == ENT_REG) {
        t->tot.bytes -= in->size;
        t->reg_inodes--;
    }
    in->type = 0;
    in->size = t->inodes.free_head;
    t->inodes.free_head = ino;
}

/* Link a new node under dir; the name must outlive the tree (arena).  0 if out of memory. */
static uint32_t node_new(struct tree *t, uint32_t dir, const char *name, size_t len, uint8_t type,
                         uint32_t ino)
{
    if (t->live >= t->nbuckets && !rehash(t))
        return 0;
    uint32_t id = slab_get(&t->nodes, sizeof(struct node), node_next_free);
    if (!id)
        return 0;
    struct node *n = N(t, id), *d = N(t, dir);
    n->parent = dir;
    n->name = name;
    n->name_len = (uint16_t)len;
    n->type = type;
    n->ino = ino;
    n->hash = name_hash(dir, name, len);
    n->hnext = t->buckets[n->hash & (t->nbuckets - 1)];
    t->buckets[n->hash & (t->nbuckets - 1)] = id;
    n->next_sib = d->first_child;
    if (d->first_child)
        N(t, d->first_child)->prev_sib = id;
    d->first_child = id;
    t->live++;
    if (ino)
        inode_link(t, ino);
    count(t, type, ino ? I(t, ino)->size : 0, +1);
    return id;
}

/* Unlink and free one node that has no children. */
static void node_drop(struct tree *t, uint32_t id)
{
    struct node *n = N(t, id);
    uint32_t *pp = &t->buckets[n->hash & (t->nbuckets - 1)];
    while (*pp != id)
        pp = &N(t, *pp)->hnext;
    *pp = n->hnext;
    if (n->prev_sib)
        N(t, n->prev_sib)->next_sib = n->next_sib;
    else
        N(t, n->parent)->first_child = n->next_sib;
    if (n->next_sib)
        N(t, n->next_sib)->prev_sib = n->prev_sib;
    count(t, n->type, n->ino ? I(t, n->ino)->size : 0, -1);
    t->layer.paths_removed++;
    if (n->type == ENT_REG)
        t->layer.bytes_removed += I(t, n->ino)->size;
    if (n->ino)
        inode_unlink(t, n->ino);
    n->type = 0;
    n->next_sib = t->nodes.free_head;
    t->nodes.free_head = id;
    t->live--;
    t->epoch++;
}

/* Remove a node and its whole subtree, without recursion: descend to a leaf, drop it, climb. */
static void remove_subtree(struct tree *t, uint32_t top)
{
    uint32_t cur = top;
    for (;;) {
        while (N(t, cur)->first_child)
            cur = N(t, cur)->first_child;
        uint32_t up = N(t, cur)->parent;
        node_drop(t, cur);
        if (cur == top)
            return;
        cur = up;
    }
}

/* image-spec layer.md §Whiteouts: hide what lower layers put here, keep this layer's own. */
static void prune(struct tree *t, uint32_t id)
{
    if (N(t, id)->stamp != t->gen) {
        remove_subtree(t, id);
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
    size_t i = 0;
    if (len && p[0] == '/') {
        *cur = ROOT;
        *depth = 0;
    }
    while (i < len) {
        while (i < len && p[i] == '/')
            i++;
        size_t s = i;
        while (i < len && p[i] != '/')
            i++;
        size_t n = i - s;
        if (n == 0 || (n == 1 && p[s] == '.'))
            continue;
        if (n == 2 && p[s] == '.' && p[s + 1] == '.') {
            if (*cur != ROOT) {
                *cur = N(t, *cur)->parent;
                (*depth)--;
            }
            continue;
        }
        if (*depth + 1 > TREE_MAX_DEPTH)
            return RES_DEEP;
        uint32_t c = lookup(t, *cur, p + s, n);
        if (!c) {
            if (!create)
                return RES_MISSING;
            const char *name = arena_strndup(&t->names, p + s, n);
            if (!name || !(c = node_new(t, *cur, name, n, ENT_DIR, 0)))
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
        return err_set(e, IMGSTAT_ELIMIT, "'%s': deeper than %d directories (TREE_MAX_DEPTH)",
                       path, TREE_MAX_DEPTH);
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
    uint32_t ino = name ? inode_new(t, ENT_REG, size) : 0;
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
            inode_unlink(t, t->plnk[i].ino);
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
        *out = lookup(t, dir, lp + len - blen, blen);
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
static int put_entry(struct tree *t, const struct layer_entry *ent, const char *path,
                     uint32_t dir, const char *name, size_t nlen, struct err *e)
{
    uint32_t old = lookup(t, dir, name, nlen);
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
        remove_subtree(t, old); /* the name stays in the arena: reuse it */
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
        if (!(ino = inode_new(t, type, type == ENT_REG ? ent->size : 0)))
            return err_nomem(e);
        if (type == ENT_SYMLINK) {
            if (ent->link_len > PATH_MAX_BYTES)
                return err_set(e, IMGSTAT_ELIMIT, "'%s': symlink target longer than %d bytes",
                               path, PATH_MAX_BYTES);
            I(t, ino)->target = arena_strndup(&t->names, ent->link ? ent->link : "", ent->link_len);
            I(t, ino)->target_len = (uint16_t)ent->link_len;
            if (!I(t, ino)->target)
                return err_nomem(e);
        }
    }
    uint32_t id = node_new(t, dir, stored, nlen, type, ino);
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
        return err_set(e, IMGSTAT_ELIMIT, "member name of %zu bytes is longer than %d (PATH_MAX_BYTES)",
                       ent->path_len, PATH_MAX_BYTES);
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
            uint32_t victim = lookup(t, dir, base + WH_PREFIX_LEN, blen - WH_PREFIX_LEN);
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
    if (!t->buckets || !slab_reserve(&t->nodes, sizeof(struct node), ROOT + 1) ||
        !slab_reserve(&t->inodes, sizeof(struct inode), 1)) {
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
    slabs_free(&t->nodes);
    slabs_free(&t->inodes);
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

/* Children of a directory sorted so that a depth-first walk yields full paths in byte
 * order: a directory sorts as "name/", since every path below it continues that way. */
struct child_key {
    const char *name;
    uint32_t len, id;
    bool dir;
};

static int key_cmp(const void *pa, const void *pb)
{
    const struct child_key *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    if (c)
        return c;
    int ca = a->len > n ? (unsigned char)a->name[n] : a->dir ? '/' : -1;
    int cb = b->len > n ? (unsigned char)b->name[n] : b->dir ? '/' : -1;
    return ca - cb;
}

static int walk_dir(const struct tree *t, uint32_t dir, char *path, size_t len, tree_file_fn fn,
                    void *ctx)
{
    size_t n = 0;
    for (uint32_t c = N(t, dir)->first_child; c; c = N(t, c)->next_sib)
        n++;
    if (n == 0)
        return 0;
    struct child_key *k = malloc(n * sizeof *k);
    if (!k)
        return IMGSTAT_ENOMEM;
    n = 0;
    for (uint32_t c = N(t, dir)->first_child; c; c = N(t, c)->next_sib)
        k[n++] = (struct child_key){N(t, c)->name, N(t, c)->name_len, c, N(t, c)->type == ENT_DIR};
    qsort(k, n, sizeof *k, key_cmp);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct node *c = N(t, k[i].id);
        if (len + 1 + c->name_len > TREE_PATH_BUF)
            continue; /* deeper than any path an entry can name */
        path[len] = '/';
        memcpy(path + len + 1, c->name, c->name_len);
        size_t clen = len + 1 + c->name_len;
        if (c->type == ENT_REG)
            rc = fn(ctx, path, clen, I(t, c->ino)->size);
        else if (c->type == ENT_DIR)
            rc = walk_dir(t, k[i].id, path, clen, fn, ctx);
    }
    free(k);
    return rc;
}

int tree_files(const struct tree *t, tree_file_fn fn, void *ctx)
{
    char *path = malloc(TREE_PATH_BUF + 1);
    if (!path)
        return IMGSTAT_ENOMEM;
    int rc = walk_dir(t, ROOT, path, 0, fn, ctx);
    free(path);
    return rc;
}

const char *tree_first_warning(const struct tree *t)
{
    return t->tot.warnings ? t->warning : NULL;
}
