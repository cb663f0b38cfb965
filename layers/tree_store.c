/*
 * tree_store: the tree's storage.  Nodes and inodes live in slabs of 4096 and are
 * addressed by 32-bit ids (0 means none, 1 is the root); freed slots are reused.
 * Children are found by a chained hash of (parent id, name) and linked in a list
 * per directory.  Every change keeps the totals current (exact, C4) and bumps the epochs
 * tree.c's resolution caches depend on; what a change means for a layer's figures is
 * tree.c's business (C5): a removal only reports what it took away.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "tree_impl.h"

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
bool tree_slab_reserve(struct slabs *s, size_t elem, uint32_t n)
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

void tree_slabs_free(struct slabs *s)
{
    for (uint32_t i = 0; i < s->nslabs; i++)
        free(s->v[i]);
    free(s->v);
}

static uint32_t name_hash(uint32_t parent, const char *name, size_t len)
{
    return hash_name(parent, name, len); /* keyed: names cannot be picked to collide */
}

uint32_t tree_lookup(const struct tree *t, uint32_t dir, const char *name, size_t len)
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
    case ENT_REG:
        c->files += dir;
        if (dir > 0)
            tree_sum_add(&t->bytes_per_path, size);
        else
            tree_sum_sub(&t->bytes_per_path, size);
        break;
    case ENT_SYMLINK: c->symlinks += dir; break;
    case ENT_CHR:
    case ENT_BLK: c->devices += dir; break;
    default: c->fifos += dir; break;
    }
}

uint32_t tree_inode_new(struct tree *t, uint8_t type, uint64_t size)
{
    uint32_t id = slab_get(&t->inodes, sizeof(struct inode), inode_next_free);
    if (id) {
        I(t, id)->type = type;
        I(t, id)->size = size;
        t->carried |= type == ENT_REG; /* the entry's bytes have an inode (C6) */
    }
    return id;
}

/* One more name for inode `ino`; the first name brings its bytes into the total. */
static void inode_link(struct tree *t, uint32_t ino)
{
    struct inode *in = I(t, ino);
    if (in->nlink++ == 0 && in->type == ENT_REG) {
        tree_sum_add(&t->bytes, in->size);
        t->reg_inodes++;
    }
}

void tree_inode_unlink(struct tree *t, uint32_t ino)
{
    struct inode *in = I(t, ino);
    if (--in->nlink > 0)
        return;
    if (in->type == ENT_REG) {
        tree_sum_sub(&t->bytes, in->size);
        t->reg_inodes--;
        if (t->waste)
            tree_waste_lost_inode(t, ino); /* C6: its bytes leave the view */
    }
    in->type = 0;
    in->size = t->inodes.free_head;
    t->inodes.free_head = ino;
}

/* Link a new node under dir; the name must outlive the tree (arena).  0 if out of memory. */
uint32_t tree_node_new(struct tree *t, uint32_t dir, const char *name, size_t len, uint8_t type,
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
    if (type == ENT_SYMLINK)
        t->sym_epoch++; /* a name that was missing or a file may now lead elsewhere */
    if (ino)
        inode_link(t, ino);
    count(t, type, ino ? I(t, ino)->size : 0, +1);
    if (t->waste)
        tree_waste_node(t, id);
    return id;
}

/* Unlink and free one node that has no children. */
static void node_drop(struct tree *t, uint32_t id, struct tree_removed *gone)
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
    gone->paths++;
    if (n->type == ENT_REG)
        tree_fig_add(&gone->file_bytes, I(t, n->ino)->size);
    if (n->type == ENT_DIR || n->type == ENT_SYMLINK)
        t->rm_epoch++; /* a resolution may have passed through it */
    if (n->type == ENT_SYMLINK && n->aux) {
        t->memos[n->aux].free_next = t->memo_free;
        t->memo_free = n->aux;
    }
    if (n->ino)
        tree_inode_unlink(t, n->ino);
    n->type = 0;
    n->next_sib = t->nodes.free_head;
    t->nodes.free_head = id;
    t->live--;
}

/* Remove a node and its whole subtree, without recursion: descend to a leaf, drop it, climb. */
void tree_remove(struct tree *t, uint32_t top, struct tree_removed *gone)
{
    uint32_t cur = top;
    for (;;) {
        while (N(t, cur)->first_child)
            cur = N(t, cur)->first_child;
        uint32_t up = N(t, cur)->parent;
        node_drop(t, cur, gone);
        if (cur == top)
            return;
        cur = up;
    }
}

/* A memo slot: a freed one, or a new one at the end of the array (slot 0 means none). */
uint32_t tree_memo_slot(struct tree *t)
{
    if (t->memo_free) {
        uint32_t slot = t->memo_free;
        t->memo_free = t->memos[slot].free_next;
        return slot;
    }
    if (t->nmemos + 1 >= t->memo_cap) {
        if (t->memo_cap >= TREE_MAX_NODES)
            return 0;
        uint32_t cap = t->memo_cap ? 2 * t->memo_cap : 64;
        struct memo *m = realloc(t->memos, cap * sizeof *m);
        if (!m)
            return 0;
        t->memos = m;
        t->memo_cap = cap;
    }
    return ++t->nmemos;
}
