/*
 * tree_waste: at which paths the layers wrote the bytes the final view lost (docs/rules.md
 * C6), kept only when IMGSTAT_WASTE asks for it.
 *
 * wasted_bytes is layer_files_size - total_files_size.  Every regular-file entry brings its
 * bytes to one inode of its own, or to none when it is skipped, and an inode's bytes are in
 * the view while a name holds it.  So the waste is, entry by entry, the size of every inode
 * that lost its last name plus that of every entry that never made one, and charging each to
 * the path its copy was written at accounts for wasted_bytes exactly: a file's own name, the
 * first name that took an AUFS link target (W6), an entry's canonical name when it was
 * skipped or no name took it.  A copy whose inode lives on through a hard link is not wasted
 * (E3): its bytes are lost, and charged, only when the last name goes.
 *
 * Paths are "pnodes": a copy of the tree's shape that never forgets a name (the tree drops
 * nodes and reuses their ids), interned by (parent pnode, name) with the names the tree
 * keeps in its arena anyway.  Each directory and regular-file node points to its pnode, each
 * regular-file inode to the pnode it was written at.  A pnode knows the layer of its first
 * copy; a second copy or a first loss gives it a record (copies, bytes wasted, layers).
 *
 * Costs, only with IMGSTAT_WASTE: 24 bytes per path ever seen, 4 per node id and per inode
 * id, and a record per path with a second copy or a loss.  Every hook is O(1) apart from
 * interning a name, O(its length), so the tree stays linear in its entries.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "tree_impl.h"

#define PN_BITS 12 /* pnodes are kept in chunks of 4096, never moved */
#define PN_ROOT 1u

struct pnode {
    uint32_t parent, hnext; /* parent pnode, bucket chain */
    const char *name;       /* in the tree's arena */
    uint16_t name_len;
    uint16_t layer; /* the layer of the first copy written here; 0: none yet */
    uint32_t rec;   /* its record, 0: none */
};

struct wrec {
    uint64_t copies, wasted; /* wasted: a tree_fig_add figure (C4) */
    uint32_t pnode, nlayers, cap;
    uint16_t *layers; /* ascending, each once */
};

struct waste {
    struct pnode **chunks;
    uint32_t nchunks, np; /* np: the next pnode id (0 is none, 1 the root) */
    uint32_t *buckets, nbuckets;
    uint32_t *node_pn, *ino_pn; /* by tree node id, by inode id */
    size_t node_cap, ino_cap;
    struct wrec *recs; /* 0 is none */
    uint32_t nrecs, rec_cap;
    int status; /* IMGSTAT_OK, or the first failure (out of memory, too many layers) */
};

static struct pnode *P(const struct waste *w, uint32_t id)
{
    return &w->chunks[id >> PN_BITS][id & ((1u << PN_BITS) - 1)];
}

/* Room for index i in a zero-filled array of ids. */
static bool ids_reserve(uint32_t **v, size_t *cap, size_t i)
{
    if (i < *cap)
        return true;
    size_t n = *cap ? *cap : 4096;
    while (n <= i)
        n *= 2;
    uint32_t *nv = realloc(*v, n * sizeof *nv);
    if (!nv)
        return false;
    memset(nv + *cap, 0, (n - *cap) * sizeof *nv);
    *v = nv;
    *cap = n;
    return true;
}

struct waste *tree_waste_new(void)
{
    struct waste *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->nbuckets = 1024;
    w->np = PN_ROOT + 1;
    w->buckets = calloc(w->nbuckets, sizeof *w->buckets);
    w->chunks = malloc(sizeof *w->chunks);
    if (!w->buckets || !w->chunks || !(w->chunks[0] = calloc(1u << PN_BITS, sizeof **w->chunks))) {
        free(w->chunks);
        w->chunks = NULL; /* nothing else to free in it */
        tree_waste_free(w);
        return NULL;
    }
    w->nchunks = 1;
    if (!ids_reserve(&w->node_pn, &w->node_cap, ROOT)) {
        tree_waste_free(w);
        return NULL;
    }
    w->node_pn[ROOT] = PN_ROOT;
    return w;
}

void tree_waste_free(struct waste *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->nchunks; i++)
        free(w->chunks[i]);
    free(w->chunks);
    free(w->buckets);
    free(w->node_pn);
    free(w->ino_pn);
    for (uint32_t i = 1; i <= w->nrecs; i++)
        free(w->recs[i].layers);
    free(w->recs);
    free(w);
}

int tree_waste_status(const struct tree *t)
{
    return t->waste ? t->waste->status : IMGSTAT_OK;
}

static void fail(struct waste *w, int code)
{
    if (w->status == IMGSTAT_OK)
        w->status = code;
}

/* ---- paths ---------------------------------------------------------------------------- */

static uint32_t pn_hash(uint32_t parent, const char *name, size_t len)
{
    return hash_name(parent, name, len);
}

static bool pn_rehash(struct waste *w)
{
    uint32_t nb = w->nbuckets * 2, *b = calloc(nb, sizeof *b);
    if (!b)
        return false;
    for (uint32_t id = PN_ROOT + 1; id < w->np; id++) {
        struct pnode *p = P(w, id);
        uint32_t h = pn_hash(p->parent, p->name, p->name_len) & (nb - 1);
        p->hnext = b[h];
        b[h] = id;
    }
    free(w->buckets);
    w->buckets = b;
    w->nbuckets = nb;
    return true;
}

/* A new pnode; name must outlive the tree.  0 when out of memory. */
static uint32_t pn_new(struct waste *w, uint32_t parent, const char *name, size_t len, uint32_t h)
{
    if (w->np >= TREE_MAX_NODES || (w->np >= w->nbuckets && !pn_rehash(w)))
        return 0;
    uint32_t id = w->np;
    if ((id >> PN_BITS) >= w->nchunks) {
        struct pnode **c = realloc(w->chunks, (w->nchunks + 1) * sizeof *c);
        if (!c)
            return 0;
        w->chunks = c;
        if (!(c[w->nchunks] = calloc(1u << PN_BITS, sizeof **c)))
            return 0;
        w->nchunks++;
    }
    w->np++;
    h &= w->nbuckets - 1;
    *P(w, id) = (struct pnode){parent, w->buckets[h], name, (uint16_t)len, 0, 0};
    w->buckets[h] = id;
    return id;
}

/* The pnode of parent/name, made if new (a name not in the arena yet is copied there). */
static uint32_t intern(struct tree *t, uint32_t parent, const char *name, size_t len, bool in_arena)
{
    struct waste *w = t->waste;
    uint32_t h = pn_hash(parent, name, len);
    for (uint32_t id = w->buckets[h & (w->nbuckets - 1)]; id; id = P(w, id)->hnext) {
        const struct pnode *p = P(w, id);
        if (p->parent == parent && p->name_len == len && memcmp(p->name, name, len) == 0)
            return id;
    }
    if (!in_arena && !(name = arena_strndup(&t->names, name, len)))
        return 0;
    return pn_new(w, parent, name, len, h);
}

/* ---- copies and losses ---------------------------------------------------------------- */

static uint16_t current_layer(struct tree *t)
{
    if (t->tot.layers > TREE_WASTE_MAX_LAYERS) {
        fail(t->waste, IMGSTAT_ELIMIT);
        return TREE_WASTE_MAX_LAYERS;
    }
    return (uint16_t)t->tot.layers;
}

static bool rec_layer(struct wrec *r, uint16_t layer)
{
    if (r->nlayers && r->layers[r->nlayers - 1] == layer)
        return true; /* layers only go up: the list stays ascending, each once */
    if (r->nlayers == r->cap) {
        uint32_t cap = r->cap ? 2 * r->cap : 4;
        uint16_t *v = realloc(r->layers, cap * sizeof *v);
        if (!v)
            return false;
        r->layers = v;
        r->cap = cap;
    }
    r->layers[r->nlayers++] = layer;
    return true;
}

/* The record of pnode pn, made when it has none: it starts with the first copy, if any. */
static struct wrec *rec_of(struct waste *w, uint32_t pn)
{
    struct pnode *p = P(w, pn);
    if (p->rec)
        return &w->recs[p->rec];
    if (w->nrecs + 1 >= w->rec_cap) {
        uint32_t cap = w->rec_cap ? 2 * w->rec_cap : 64;
        struct wrec *v = cap < TREE_MAX_NODES ? realloc(w->recs, cap * sizeof *v) : NULL;
        if (!v)
            return NULL;
        w->recs = v;
        w->rec_cap = cap;
    }
    struct wrec *r = &w->recs[++w->nrecs];
    *r = (struct wrec){.copies = p->layer ? 1 : 0, .pnode = pn};
    if (p->layer && !rec_layer(r, p->layer)) {
        w->nrecs--;
        return NULL;
    }
    p->rec = w->nrecs;
    return r;
}

/* A regular-file entry's copy was written at pn. */
static void copy_written(struct tree *t, uint32_t pn)
{
    struct waste *w = t->waste;
    struct pnode *p = P(w, pn);
    uint16_t layer = current_layer(t);
    if (!p->layer && !p->rec) {
        p->layer = layer; /* the common case: one copy, no record */
        return;
    }
    struct wrec *r = rec_of(w, pn);
    if (!r || !rec_layer(r, layer)) {
        fail(w, IMGSTAT_ENOMEM);
        return;
    }
    r->copies++;
}

/* size bytes of a copy written at pn left the view in this layer. */
static void lost(struct tree *t, uint32_t pn, uint64_t size)
{
    struct waste *w = t->waste;
    uint16_t layer = current_layer(t);
    struct wrec *r = rec_of(w, pn);
    if (!r || !rec_layer(r, layer)) {
        fail(w, IMGSTAT_ENOMEM);
        return;
    }
    tree_fig_add(&r->wasted, size);
}

/* ---- the hooks ------------------------------------------------------------------------ */

void tree_waste_node(struct tree *t, uint32_t id)
{
    struct waste *w = t->waste;
    const struct node *n = N(t, id);
    if (n->type != ENT_DIR && n->type != ENT_REG)
        return; /* only directories lead to paths, only files hold bytes */
    if (!ids_reserve(&w->node_pn, &w->node_cap, id))
        return fail(w, IMGSTAT_ENOMEM);
    uint32_t pn = intern(t, w->node_pn[n->parent], n->name, n->name_len, true);
    if (!pn)
        return fail(w, IMGSTAT_ENOMEM);
    w->node_pn[id] = pn;
    if (n->type != ENT_REG)
        return;
    if (!ids_reserve(&w->ino_pn, &w->ino_cap, n->ino))
        return fail(w, IMGSTAT_ENOMEM);
    if (!w->ino_pn[n->ino]) { /* a new file, or an AUFS target's first name (W6) */
        w->ino_pn[n->ino] = pn;
        copy_written(t, pn);
    }
}

void tree_waste_lost_inode(struct tree *t, uint32_t ino)
{
    struct waste *w = t->waste;
    uint32_t pn = ino < w->ino_cap ? w->ino_pn[ino] : 0;
    if (!pn) /* every file inode got a path when its first name was linked */
        return fail(w, IMGSTAT_EINPUT);
    w->ino_pn[ino] = 0; /* the id will be reused */
    lost(t, pn, I(t, ino)->size);
}

void tree_waste_lost_entry(struct tree *t, const char *p, size_t len, uint64_t size)
{
    uint32_t pn = PN_ROOT;
    size_t i = 0, n;
    const char *seg;
    while (pn && path_next(p, len, &i, &seg, &n) >= 0) /* canonical: names only */
        pn = intern(t, pn, seg, n, false);
    if (!pn)
        return fail(t->waste, IMGSTAT_ENOMEM);
    copy_written(t, pn);
    lost(t, pn, size);
}

/* ---- the list ------------------------------------------------------------------------- */

/* The absolute path of pn into *buf (grown as needed); its length, or -1 out of memory. */
static long pn_path(const struct waste *w, uint32_t pn, char **buf, size_t *cap)
{
    size_t len = 0;
    for (uint32_t id = pn; id != PN_ROOT; id = P(w, id)->parent)
        len += 1 + P(w, id)->name_len;
    size_t need = (len ? len : 1) + 1;
    if (need > *cap) {
        char *b = realloc(*buf, need);
        if (!b)
            return -1;
        *buf = b;
        *cap = need;
    }
    (*buf)[0] = '/';
    size_t at = len;
    for (uint32_t id = pn; id != PN_ROOT; id = P(w, id)->parent) {
        const struct pnode *p = P(w, id);
        at -= p->name_len;
        memcpy(*buf + at, p->name, p->name_len);
        (*buf)[--at] = '/';
    }
    (*buf)[len ? len : 1] = '\0';
    return (long)(len ? len : 1);
}

int tree_wasted(const struct tree *t, imgstat_waste_fn fn, void *ctx)
{
    const struct waste *w = t->waste;
    if (!w)
        return IMGSTAT_EUSAGE;
    if (w->status != IMGSTAT_OK) /* tree_apply and tree_end reported it; nothing is sure */
        return w->status;
    char *path = NULL;
    size_t cap = 0;
    uint32_t *layers = malloc((TREE_WASTE_MAX_LAYERS + 1) * sizeof *layers);
    int rc = layers ? 0 : IMGSTAT_ENOMEM;
    for (uint32_t i = 1; i <= w->nrecs && rc == 0; i++) {
        const struct wrec *r = &w->recs[i];
        if (!r->wasted)
            continue;
        long len = pn_path(w, r->pnode, &path, &cap);
        if (len < 0) {
            rc = IMGSTAT_ENOMEM;
            break;
        }
        for (uint32_t k = 0; k < r->nlayers; k++)
            layers[k] = r->layers[k];
        struct imgstat_waste v = {path, (uint64_t)len, r->copies, r->wasted, layers, r->nlayers};
        rc = fn(ctx, &v);
    }
    free(layers);
    free(path);
    return rc;
}
