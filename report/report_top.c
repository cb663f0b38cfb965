/*
 * report_top: the page's lists, the largest files and the most wasted paths: the N first by
 * a key, kept in a min-heap of N while a walk goes by.
 */
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"

/* Does item (key, path) rank below b: a smaller key, or as large and later by path? */
static bool below(uint64_t key, const char *path, size_t len, const struct rtop_item *b)
{
    if (key != b->key)
        return key < b->key;
    int c = memcmp(path, b->path, len < b->len ? len : b->len);
    return c > 0 || (c == 0 && len > b->len);
}

static bool item_below(const struct rtop_item *a, const struct rtop_item *b)
{
    return below(a->key, a->path, a->len, b);
}

static void swap(struct rtop_item *v, size_t i, size_t j)
{
    struct rtop_item tmp = v[i];
    v[i] = v[j];
    v[j] = tmp;
}

static void sift_down(struct rtop_item *v, size_t n, size_t i)
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

int rtop_init(struct rtop *t, uint64_t cap)
{
    *t = (struct rtop){calloc(cap ? cap : 1, sizeof *t->v), 0, cap};
    return t->v ? IMGSTAT_OK : IMGSTAT_ENOMEM;
}

static void item_free(struct rtop_item *it)
{
    free(it->path);
    free(it->layers);
}

int rtop_add(struct rtop *t, uint64_t key, const char *path, size_t len,
             const struct imgstat_waste *w)
{
    if (!t->cap || (t->n == t->cap && !below(t->v[0].key, t->v[0].path, t->v[0].len,
                                             &(struct rtop_item){key, (char *)path, len, 0, 0, 0})))
        return IMGSTAT_OK;
    struct rtop_item it = {key, malloc(len + 1), len, w ? w->copies : 0, NULL, w ? w->nlayers : 0};
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

void rtop_write(FILE *f, struct rtop *t, bool wasted)
{
    qsort(t->v, t->n, sizeof *t->v, first_cmp);
    size_t spent = 0;
    fputc('[', f);
    for (size_t i = 0; i < t->n; i++) {
        const struct rtop_item *it = &t->v[i];
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

void rtop_free(struct rtop *t)
{
    for (size_t i = 0; i < t->n; i++)
        item_free(&t->v[i]);
    free(t->v);
}
