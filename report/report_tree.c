/*
 * report_tree: the part of the final view the page holds, and the largest files.
 *
 * A directory's bytes are its children's added up (C7), so a node is never larger than its
 * parent: the nodes larger than some threshold T form a tree hanging from the root.  The
 * first walk finds the smallest T for which those nodes' JSON fits REPORT_TREE_BUDGET (and
 * REPORT_MAX_NODES), from a min-heap of the largest nodes; the second walk writes them.
 * What a directory holds beyond its nodes shown, the page sums up from its figures ("…
 * 12,345 more files, 80 MB").  An image that fits whole is held whole, empty files and
 * directories too.
 */
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"
#include "topn.h"

struct cand {
    uint64_t bytes, cost;
};

/* The first walk: what every node would cost, the largest nodes, the largest files. */
struct survey {
    struct cand *heap; /* min-heap by bytes of at most REPORT_MAX_NODES */
    size_t n;
    uint64_t nodes, cost; /* of every directory and file */
    struct topn largest;
};

/* One node's JSON in the tree: its name and four figures with their separators. */
static uint64_t node_cost(const struct imgstat_node *v)
{
    const char *name = v->path + v->path_len;
    while (name > v->path && name[-1] != '/')
        name--;
    return rj_len(name, (size_t)(v->path + v->path_len - name)) + 40;
}

static void cand_push(struct survey *s, struct cand c)
{
    struct cand *h = s->heap;
    if (s->n == REPORT_MAX_NODES) {
        if (c.bytes <= h[0].bytes)
            return;
        h[0] = c; /* replace the smallest, sift it down */
        for (size_t i = 0;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < s->n && h[l].bytes < h[m].bytes)
                m = l;
            if (r < s->n && h[r].bytes < h[m].bytes)
                m = r;
            if (m == i)
                return;
            struct cand t = h[i];
            h[i] = h[m];
            h[m] = t;
            i = m;
        }
    }
    size_t i = s->n++;
    h[i] = c;
    for (; i > 0 && h[(i - 1) / 2].bytes > h[i].bytes; i = (i - 1) / 2) {
        struct cand t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
    }
}

static int survey_node(void *ctx, const struct imgstat_node *v)
{
    struct survey *s = ctx;
    if (v->type != IMGSTAT_NODE_DIR && v->type != IMGSTAT_NODE_FILE)
        return 0;
    struct cand c = {v->bytes, node_cost(v)};
    s->nodes++;
    s->cost += c.cost;
    cand_push(s, c);
    return v->type == IMGSTAT_NODE_FILE ? topn_add(&s->largest, v->size, v->path, v->path_len, NULL)
                                        : 0;
}

static int cand_desc(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return (x->bytes < y->bytes) - (x->bytes > y->bytes);
}

/* The threshold: nodes with more bytes than *t are held; *all: every node is. */
static void threshold(struct survey *s, uint64_t *t, bool *all)
{
    *t = 0;
    *all = s->nodes <= REPORT_MAX_NODES && s->cost <= REPORT_TREE_BUDGET;
    if (*all)
        return;
    qsort(s->heap, s->n, sizeof *s->heap, cand_desc);
    uint64_t spent = 0;
    for (size_t i = 0; i < s->n; i++)
        if ((spent += s->heap[i].cost) > REPORT_TREE_BUDGET) {
            *t = s->heap[i].bytes;
            return;
        }
    *t = s->n ? s->heap[s->n - 1].bytes : 0; /* all of the heap fits: the largest nodes */
}

/* ---- the second walk: the nodes held ---------------------------------------------------- */

struct held {
    char *name;
    size_t len;
    uint64_t bytes, files, depth;
    uint32_t parent; /* index of the parent, UINT32_MAX for the root */
    bool dir;
};

struct picker {
    uint64_t t;
    bool all;
    struct held *v;
    size_t n, cap;
    uint32_t *open; /* held nodes still waiting for their parent (post-order: it comes later) */
    size_t nopen, open_cap;
};

static bool grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? 2 * *cap : 1024;
    while (n < need)
        n *= 2;
    void *nv = realloc(*v, n * elem);
    if (!nv)
        return false;
    *v = nv;
    *cap = n;
    return true;
}

static int pick_node(void *ctx, const struct imgstat_node *v)
{
    struct picker *p = ctx;
    bool node = v->type == IMGSTAT_NODE_DIR || v->type == IMGSTAT_NODE_FILE;
    if (!node || !(p->all || v->bytes > p->t || v->depth == 0))
        return 0;
    if (!grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v) ||
        !grow((void **)&p->open, &p->open_cap, p->nopen + 1, sizeof *p->open))
        return IMGSTAT_ENOMEM;
    const char *name = v->path + v->path_len;
    while (v->depth && name[-1] != '/')
        name--;
    size_t len = v->depth ? (size_t)(v->path + v->path_len - name) : 0;
    struct held h = {malloc(len + 1),
                     len,
                     v->bytes,
                     v->files,
                     v->depth,
                     UINT32_MAX,
                     v->type == IMGSTAT_NODE_DIR};
    if (!h.name)
        return IMGSTAT_ENOMEM;
    memcpy(h.name, name, len);
    uint32_t me = (uint32_t)p->n;
    /* what waits deeper than this directory is its children: their parents are held too */
    while (h.dir && p->nopen && p->v[p->open[p->nopen - 1]].depth > v->depth)
        p->v[p->open[--p->nopen]].parent = me;
    p->v[p->n++] = h;
    p->open[p->nopen++] = me;
    return 0;
}

static void write_held(FILE *f, const struct picker *p, uint64_t nodes)
{
    fputs(", \"tree\": {\"nodes\": ", f);
    rj_u64(f, nodes);
    fputs(", \"name\": [", f);
    for (size_t i = 0; i < p->n; i++) {
        fputs(i ? ", " : "", f);
        rj_str(f, p->v[i].name, p->v[i].len);
    }
    fputs("], \"parent\": [", f);
    for (size_t i = 0; i < p->n; i++)
        fprintf(f, i ? ", %ld" : "%ld", p->v[i].parent == UINT32_MAX ? -1L : (long)p->v[i].parent);
    fputs("], \"dir\": \"", f);
    for (size_t i = 0; i < p->n; i++)
        putc(p->v[i].dir ? 'd' : 'f', f);
    fputs("\", \"bytes\": [", f);
    for (size_t i = 0; i < p->n; i++) {
        fputs(i ? ", " : "", f);
        rj_u64(f, p->v[i].bytes);
    }
    fputs("], \"files\": [", f);
    for (size_t i = 0; i < p->n; i++) {
        fputs(i ? ", " : "", f);
        rj_u64(f, p->v[i].files);
    }
    fputs("]}", f);
}

int report_tree(FILE *f, imgstat *h, uint64_t top)
{
    struct survey s = {malloc(REPORT_MAX_NODES * sizeof *s.heap), 0, 0, 0, {0}};
    struct picker p = {0};
    int rc = s.heap ? topn_init(&s.largest, top) : IMGSTAT_ENOMEM;
    if (rc == IMGSTAT_OK)
        rc = imgstat_walk(h, survey_node, &s);
    if (rc == IMGSTAT_OK) {
        threshold(&s, &p.t, &p.all);
        rc = imgstat_walk(h, pick_node, &p);
    }
    if (rc == IMGSTAT_OK) {
        write_held(f, &p, s.nodes);
        fputs(", \"largest\": ", f);
        report_top_write(f, &s.largest, false);
    }
    for (size_t i = 0; i < p.n; i++)
        free(p.v[i].name);
    free(p.v);
    free(p.open);
    free(s.heap);
    topn_free(&s.largest);
    return rc;
}
