/*
 * du: the sizes of the final view's directories (`imgstat du`), largest first, as
 * `du -d N | sort -rn` prints them for the unpacked image.  A directory's figure is C7's
 * (docs/rules.md): every inode counted once, at its first name in byte-wise path order, so
 * figures add up and the root's is total_files_size.
 */
#include "du.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

struct du_row {
    char *path;
    size_t len;
    int type; /* IMGSTAT_NODE_DIR or IMGSTAT_NODE_FILE */
    uint64_t bytes, files;
};

struct du {
    const struct cli *c;
    const char *base; /* PATH, canonical: "/" or "/a/b" */
    size_t base_len;
    bool found; /* the walk met PATH */
    struct du_row *v;
    size_t n, cap;
    uint64_t matched; /* rows within --depth (and --all), before --top */
};

/* PATH as an absolute canonical path into buf (N1, `..` stopping at the root); its length. */
static size_t du_canon(const char *in, char *buf, size_t cap)
{
    size_t n = 0;
    buf[n++] = '/';
    for (const char *p = in; *p;) {
        size_t seg = strcspn(p, "/");
        if (seg == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 1 && buf[n - 1] != '/')
                n--;
            if (n > 1)
                n--;
        } else if (seg && !(seg == 1 && p[0] == '.') && n + 1 + seg < cap) {
            if (n > 1)
                buf[n++] = '/';
            memcpy(buf + n, p, seg);
            n += seg;
        }
        p += seg + (p[seg] == '/');
    }
    buf[n] = '\0';
    return n;
}

/* Largest first; of equal ones, in byte-wise path order. */
static int row_cmp(const void *pa, const void *pb)
{
    const struct du_row *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? 1 : -1;
    int c = memcmp(a->path, b->path, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* With --top N, keep the rows bounded: sort and cut back to N when twice as many. */
static void du_trim(struct du *d, size_t keep)
{
    qsort(d->v, d->n, sizeof *d->v, row_cmp);
    for (size_t i = keep; i < d->n; i++)
        free(d->v[i].path);
    if (d->n > keep)
        d->n = keep;
}

static int du_keep(struct du *d, const struct imgstat_node *n)
{
    uint64_t top = d->c->du_top;
    if (d->n == d->cap) {
        if (top && d->n >= 2 * top)
            du_trim(d, (size_t)top);
        else {
            size_t cap = d->cap ? 2 * d->cap : 256;
            struct du_row *v = realloc(d->v, cap * sizeof *v);
            if (!v)
                return IMGSTAT_ENOMEM;
            d->v = v;
            d->cap = cap;
        }
    }
    char *p = malloc(n->path_len + 1);
    if (!p)
        return IMGSTAT_ENOMEM;
    memcpy(p, n->path, n->path_len + 1);
    d->v[d->n++] = (struct du_row){p, n->path_len, n->type, n->bytes, n->files};
    return 0;
}

/* Is the node PATH itself or below it? */
static bool du_under(const struct du *d, const struct imgstat_node *n)
{
    if (d->base_len == 1)
        return true;
    return n->path_len >= d->base_len && memcmp(n->path, d->base, d->base_len) == 0 &&
           (n->path_len == d->base_len || n->path[d->base_len] == '/');
}

static int du_visit(void *ctx, const struct imgstat_node *n)
{
    struct du *d = ctx;
    if (n->type != IMGSTAT_NODE_DIR && n->type != IMGSTAT_NODE_FILE)
        return 0;
    if (!du_under(d, n))
        return 0;
    d->found |= n->path_len == d->base_len;
    /* a node below PATH comes before PATH in the walk: its depth below PATH is the number
     * of names after PATH's */
    uint64_t below = 0;
    for (size_t i = d->base_len; i < n->path_len; i++)
        below += n->path[i] == '/';
    if (d->base_len == 1 && n->path_len > 1)
        below++;
    if (below > d->c->depth || (n->type == IMGSTAT_NODE_FILE && !d->c->du_all && below > 0))
        return 0;
    d->matched++;
    return du_keep(d, n);
}

static void du_print(FILE *f, const struct du *d)
{
    const struct cli *c = d->c;
    if (c->format == FMT_CSV)
        fputs("path,type,size,files\n", f);
    else if (c->format == FMT_JSON)
        fprintf(f, "{\"total_num\": %" PRIu64 ", \"data_list\": [", d->matched);
    for (size_t i = 0; i < d->n; i++) {
        const struct du_row *r = &d->v[i];
        const char *type = r->type == IMGSTAT_NODE_DIR ? "directory" : "file";
        if (c->format == FMT_CSV) {
            csv_field(f, r->path, r->len);
            fprintf(f, ",%s,%" PRIu64 ",%" PRIu64 "\n", type, r->bytes, r->files);
        } else if (c->format == FMT_TEXT) {
            char h[32];
            fprintf(f, "%10s %9" PRIu64 "  ", human(r->bytes, h, sizeof h), r->files);
            text_bytes(f, r->path, r->len);
            putc('\n', f);
        } else {
            fputs(i ? ", {\"path\": " : "{\"path\": ", f);
            json_string(f, r->path, r->len);
            fprintf(f, ", \"type\": \"%s\", \"size\": %" PRIu64 ", \"files\": %" PRIu64 "}", type,
                    r->bytes, r->files);
        }
    }
    if (c->format == FMT_JSON)
        fputs("]}\n", f);
}

int du_run(FILE *f, const struct cli *c, imgstat *h, char *msg, size_t cap)
{
    char base[CLI_MAX_PATH + 2]; /* the options checked PATH's length */
    struct du d = {.c = c, .base = base};
    d.base_len = du_canon(c->path ? c->path : "/", base, sizeof base);
    int rc = imgstat_walk(h, du_visit, &d);
    if (rc == IMGSTAT_OK && !d.found)
        snprintf(msg, cap, "%s: no such directory or file in the image", base);
    else if (rc == IMGSTAT_OK) {
        du_trim(&d, c->du_top && c->du_top < d.n ? (size_t)c->du_top : d.n);
        du_print(f, &d);
    }
    for (size_t i = 0; i < d.n; i++)
        free(d.v[i].path);
    free(d.v);
    return rc != IMGSTAT_OK ? rc : d.found ? IMGSTAT_OK : IMGSTAT_EINPUT;
}
