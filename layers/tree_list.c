/*
 * tree_list: the final view in byte-wise order of its paths: the regular files (tree_files)
 * and every node with the figures of docs/rules.md C7 (tree_walk).
 */
#include <stdlib.h>
#include <string.h>

#include "tree_impl.h"

/* Longest path a listing builds: nodes sit at most TREE_MAX_DEPTH deep. */
#define TREE_PATH_BUF (TREE_MAX_DEPTH * 64)

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

/* The children of dir in walking order, into *out (the caller frees it; NULL when there are
 * none); their number, or -1 when out of memory. */
static long sorted_children(const struct tree *t, uint32_t dir, struct child_key **out)
{
    size_t n = 0;
    *out = NULL;
    for (uint32_t c = N(t, dir)->first_child; c; c = N(t, c)->next_sib)
        n++;
    if (n == 0)
        return 0;
    struct child_key *k = malloc(n * sizeof *k);
    if (!k)
        return -1;
    n = 0;
    for (uint32_t c = N(t, dir)->first_child; c; c = N(t, c)->next_sib)
        k[n++] = (struct child_key){N(t, c)->name, N(t, c)->name_len, c, N(t, c)->type == ENT_DIR};
    qsort(k, n, sizeof *k, key_cmp);
    *out = k;
    return (long)n;
}

static int walk_dir(const struct tree *t, uint32_t dir, char *path, size_t len, tree_file_fn fn,
                    void *ctx)
{
    struct child_key *k;
    long nk = sorted_children(t, dir, &k);
    if (nk < 0)
        return IMGSTAT_ENOMEM;
    size_t n = (size_t)nk;
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

/* ---- tree_walk ------------------------------------------------------------------------ */

struct walker {
    const struct tree *t;
    imgstat_node_fn fn;
    void *ctx;
    uint8_t *seen; /* a bit per inode id: counted at an earlier name (C7) */
    char *path;    /* grown as needed: a name reached through links can be deeper than any */
    size_t cap;    /* entry names */
};

static int node_type(uint8_t type)
{
    switch (type) {
    case ENT_DIR: return IMGSTAT_NODE_DIR;
    case ENT_REG: return IMGSTAT_NODE_FILE;
    case ENT_SYMLINK: return IMGSTAT_NODE_SYMLINK;
    case ENT_CHR:
    case ENT_BLK: return IMGSTAT_NODE_DEVICE;
    default: return IMGSTAT_NODE_FIFO;
    }
}

/* C7: a file's bytes count at the first of its inode's names the walk meets. */
static void visit_file(struct walker *w, const struct node *c, struct imgstat_node *v)
{
    uint32_t ino = c->ino;
    v->size = I(w->t, ino)->size;
    v->files = 1;
    if (!(w->seen[ino >> 3] & (1u << (ino & 7)))) {
        w->seen[ino >> 3] |= (uint8_t)(1u << (ino & 7));
        v->bytes = v->size;
    }
}

static int visit(struct walker *w, uint32_t id, size_t len, uint64_t depth,
                 struct imgstat_node *out);

/* The children of dir (its path in w->path[0..len)), then dir itself with their sums. */
static int visit_dir(struct walker *w, uint32_t dir, size_t len, uint64_t depth,
                     struct imgstat_node *v)
{
    struct child_key *k;
    long n = sorted_children(w->t, dir, &k);
    int rc = n < 0 ? IMGSTAT_ENOMEM : 0;
    for (long i = 0; i < n && rc == 0; i++) {
        const struct node *c = N(w->t, k[i].id);
        size_t clen = len + 1 + c->name_len;
        if (clen + 1 > w->cap) {
            size_t cap = 2 * clen + 1;
            char *p = realloc(w->path, cap);
            if (!p) {
                rc = IMGSTAT_ENOMEM;
                break;
            }
            w->path = p;
            w->cap = cap;
        }
        w->path[len] = '/';
        memcpy(w->path + len + 1, c->name, c->name_len);
        struct imgstat_node cv;
        rc = visit(w, k[i].id, clen, depth + 1, &cv);
        v->bytes += cv.bytes;
        v->files += cv.files;
    }
    free(k);
    return rc;
}

/* Node id at w->path[0..len): what is below it first, then the node; its figures in *out. */
static int visit(struct walker *w, uint32_t id, size_t len, uint64_t depth,
                 struct imgstat_node *out)
{
    const struct node *c = N(w->t, id);
    struct imgstat_node v = {.depth = depth, .type = node_type(c->type)};
    int rc = 0;
    if (c->type == ENT_DIR)
        rc = visit_dir(w, id, len, depth, &v);
    else if (c->type == ENT_REG)
        visit_file(w, c, &v);
    *out = v;
    if (rc != 0)
        return rc;
    v.path = len ? w->path : "/";
    v.path_len = len ? len : 1;
    w->path[len] = '\0';
    return w->fn(w->ctx, &v);
}

int tree_walk(const struct tree *t, imgstat_node_fn fn, void *ctx)
{
    struct walker w = {t, fn, ctx, calloc(t->inodes.hwm / 8 + 1, 1), malloc(256), 256};
    int rc = IMGSTAT_ENOMEM;
    if (w.seen && w.path) {
        struct imgstat_node root;
        rc = visit(&w, ROOT, 0, 0, &root);
    }
    free(w.seen);
    free(w.path);
    return rc;
}
