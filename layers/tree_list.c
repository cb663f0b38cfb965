/*
 * tree_list: the final view's regular files in byte-wise order of their paths.
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
