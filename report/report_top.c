/*
 * report_top: the heap of topn.h, and the page's lists written from it (the largest files,
 * the most wasted paths).
 */
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"
#include "topn.h"

/* Does item (key, path) rank below b: a smaller key, or as large and later by path? */
static bool below(uint64_t key, const char *path, size_t len, const struct top_item *b)
{
    if (key != b->key)
        return key < b->key;
    int c = memcmp(path, b->path, len < b->len ? len : b->len);
    return c > 0 || (c == 0 && len > b->len);
}

static bool item_below(const struct top_item *a, const struct top_item *b)
{
    return below(a->key, a->path, a->len, b);
}

static void swap(struct top_item *v, size_t i, size_t j)
{
    struct top_item tmp = v[i];
    v[i] = v[j];
    v[j] = tmp;
}

static void sift_down(struct top_item *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && item_below(&v[l], &v[m]))
            m = l;
        if (r < n && item_below(&v[r], &v[m]))
            m = r;
        if (m == i)
            return;
        swap(v, i, m);
        i = m;
    }
}

int topn_init(struct topn *t, size_t cap)
{
    *t = (struct topn){calloc(cap ? cap : 1, sizeof *t->v), 0, cap};
    return t->v ? IMGSTAT_OK : IMGSTAT_ENOMEM;
}

static void item_free(struct top_item *it)
{
    free(it->path);
    free(it->layers);
}

int topn_add(struct topn *t, uint64_t key, const char *path, size_t len,
             const struct imgstat_waste *w)
{
    if (!t->cap || (t->n == t->cap && !below(t->v[0].key, t->v[0].path, t->v[0].len,
                                             &(struct top_item){key, (char *)path, len, 0, 0, 0})))
        return IMGSTAT_OK;
    struct top_item it = {key, malloc(len + 1), len, w ? w->copies : 0, NULL, w ? w->nlayers : 0};
    if (w)
        it.layers = malloc((w->nlayers ? w->nlayers : 1) * sizeof *it.layers);
    if (!it.path || (w && !it.layers)) {
        item_free(&it);
        return IMGSTAT_ENOMEM;
    }
    memcpy(it.path, path, len);
    it.path[len] = '\0';
    if (w)
        memcpy(it.layers, w->layers, w->nlayers * sizeof *it.layers);
    if (t->n == t->cap) {
        item_free(&t->v[0]);
        t->v[0] = it;
        sift_down(t->v, t->n, 0);
        return IMGSTAT_OK;
    }
    size_t i = t->n++;
    t->v[i] = it;
    for (; i > 0 && item_below(&t->v[i], &t->v[(i - 1) / 2]); i = (i - 1) / 2)
        swap(t->v, i, (i - 1) / 2);
    return IMGSTAT_OK;
}

static int first_cmp(const void *a, const void *b)
{
    return item_below(a, b) ? 1 : item_below(b, a) ? -1 : 0;
}

void topn_sort(struct topn *t)
{
    qsort(t->v, t->n, sizeof *t->v, first_cmp);
}

static int file_add(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    return topn_add(ctx, size, path, (size_t)len, NULL);
}

static int waste_add(void *ctx, const struct imgstat_waste *w)
{
    return topn_add(ctx, w->wasted_bytes, w->path, w->path_len, w);
}

int topn_collect(struct topn *t, size_t n, imgstat *h, bool wasted)
{
    int rc = topn_init(t, n);
    if (rc == IMGSTAT_OK)
        rc = wasted ? imgstat_wasted_files(h, waste_add, t) : imgstat_files(h, file_add, t);
    topn_sort(t);
    return rc;
}

void report_top_write(FILE *f, struct topn *t, bool wasted)
{
    topn_sort(t);
    size_t spent = 0;
    fputc('[', f);
    for (size_t i = 0; i < t->n; i++) {
        const struct top_item *it = &t->v[i];
        if ((spent += rj_len(it->path, it->len) + 40) > REPORT_LISTS_BUDGET / 2)
            break; /* only crafted paths of kilobytes get here */
        fputs(i ? ", [" : "[", f);
        rj_str(f, it->path, it->len);
        if (wasted) {
            fputs(", ", f);
            rj_u64(f, it->copies);
        }
        fputs(", ", f);
        rj_u64(f, it->key);
        if (wasted) {
            fputs(", [", f);
            for (uint64_t k = 0; k < it->nlayers; k++)
                fprintf(f, k ? ", %u" : "%u", (unsigned)it->layers[k]);
            fputc(']', f);
        }
        fputc(']', f);
    }
    fputc(']', f);
}

void topn_free(struct topn *t)
{
    for (size_t i = 0; i < t->n; i++)
        item_free(&t->v[i]);
    free(t->v);
}
