/*
 * top: the N largest files and the N paths that wasted the most (--detail), kept in a
 * min-heap of N while a walk of the image goes by.
 */
#include "top.h"

#include <stdlib.h>
#include <string.h>

/* Does a rank below b: smaller, or as large and later in byte-wise path order? */
static bool below(const char *ap, size_t al, uint64_t as, const struct big *b)
{
    if (as != b->size)
        return as < b->size;
    int c = memcmp(ap, b->path, al < b->len ? al : b->len);
    return c > 0 || (c == 0 && al > b->len);
}

static void big_swap(struct big *v, size_t i, size_t j)
{
    struct big tmp = v[i];
    v[i] = v[j];
    v[j] = tmp;
}

static void sift_down(struct big *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && below(v[l].path, v[l].len, v[l].size, &v[m]))
            m = l;
        if (r < n && below(v[r].path, v[r].len, v[r].size, &v[m]))
            m = r;
        if (m == i)
            return;
        big_swap(v, i, m);
        i = m;
    }
}

static void big_free(struct big *b)
{
    free(b->path);
    free(b->layers);
}

/* Keep item b (its path and layers owned by the heap from now on) if it ranks among the N. */
static void top_keep(struct topn *t, struct big b)
{
    if (t->n == t->cap) {
        big_free(&t->v[0]);
        t->v[0] = b;
        sift_down(t->v, t->n, 0);
        return;
    }
    size_t i = t->n++;
    t->v[i] = b;
    while (i > 0 && below(t->v[i].path, t->v[i].len, t->v[i].size, &t->v[(i - 1) / 2])) {
        big_swap(t->v, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* Would an item of this size and path make the N? */
static bool top_wants(const struct topn *t, const char *path, size_t len, uint64_t size)
{
    return t->cap && (t->n < t->cap || !below(path, len, size, &t->v[0]));
}

static char *copy_path(const char *path, uint64_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, path, len);
        copy[len] = '\0';
    }
    return copy;
}

static int top_add(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct topn *t = ctx;
    if (!top_wants(t, path, len, size))
        return 0;
    char *copy = copy_path(path, len);
    if (!copy)
        return IMGSTAT_ENOMEM;
    top_keep(t, (struct big){size, copy, len, 0, NULL, 0});
    return 0;
}

static int waste_add(void *ctx, const struct imgstat_waste *w)
{
    struct topn *t = ctx;
    if (!top_wants(t, w->path, w->path_len, w->wasted_bytes))
        return 0;
    char *copy = copy_path(w->path, w->path_len);
    uint32_t *layers = malloc((w->nlayers ? w->nlayers : 1) * sizeof *layers);
    if (!copy || !layers) {
        free(copy);
        free(layers);
        return IMGSTAT_ENOMEM;
    }
    memcpy(layers, w->layers, w->nlayers * sizeof *layers);
    top_keep(t, (struct big){w->wasted_bytes, copy, w->path_len, w->copies, layers, w->nlayers});
    return 0;
}

/* Largest first; of equal ones, in byte-wise path order. */
static int big_cmp(const void *a, const void *b)
{
    const struct big *x = a, *y = b;
    return below(x->path, x->len, x->size, y) ? 1 : below(y->path, y->len, y->size, x) ? -1 : 0;
}

int top_collect(struct topn *t, size_t n, imgstat *h, bool wasted)
{
    *t = (struct topn){calloc(n ? n : 1, sizeof(struct big)), 0, n};
    if (!t->v)
        return IMGSTAT_ENOMEM;
    int rc = wasted ? imgstat_wasted_files(h, waste_add, t) : imgstat_files(h, top_add, t);
    qsort(t->v, t->n, sizeof *t->v, big_cmp);
    return rc;
}

void top_free(struct topn *t)
{
    for (size_t i = 0; i < t->n; i++)
        big_free(&t->v[i]);
    free(t->v);
}
