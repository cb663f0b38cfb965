/*
 * mkb_plan.c: the main benchmark image (4 layers) and the bookkeeping that
 * gives its expected answer without reading any tar back.
 *
 *   L0 base     packages under usr/, etc/; bin/busybox with hard-linked
 *               applets; same-layer hard-link pairs; symlinks; opt/old/ and
 *               var/cache/app/ trees that later layers remove
 *   L1 update   new packages; files of L0 replaced (new inode, new size);
 *               usr/local/bin/alias* hard links to L0 files (cross-layer)
 *   L2 cleanup  .wh. of single files (bin/busybox among them: its other
 *               names keep the inode), opt/.wh.old (a directory), new srv/
 *   L3 app      var/cache/app/.wh..wh..opq with new children in the same
 *               layer; replaces the targets of some alias links (the alias
 *               keeps the old bytes); .wh. of one applet; new home/app/
 *
 * The model (SEMANTICS.md §2): every regular-file *name* is a record
 * {path, inode, layer, alive}. A replacement or whiteout kills one record; a
 * directory whiteout kills the records under it; an opaque marker kills the
 * records under it from lower layers. Hard links share an inode. The answer is
 * the alive records, and the sizes of their distinct inodes. The generator
 * avoids the cases where stream order inside a layer would matter (a name is
 * touched at most once per layer), so the model needs no tree.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "mkbench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct inode_rec {
    uint64_t size; /* raw size until plan_rescale() */
    uint64_t seed;
    uint32_t mode;
};

struct name_rec {
    char *path;
    uint32_t ino;
    uint8_t layer;
    uint8_t alive;
    uint8_t busy; /* 1 + last layer that touched it */
};

/* A planned entry: kind, path, and for files the inode (hard link or data is
 * decided after sorting, as Go's tar writer does: the first name carries data) */
struct pent {
    char *path;
    char *target;
    uint32_t ino;
    enum ent_kind kind;
    uint32_t mode;
};

struct pent_list {
    struct pent *v;
    size_t n, cap;
};

struct plan {
    struct rng r;
    double scale;
    struct inode_rec *ino;
    size_t nino, cino;
    struct name_rec *names;
    size_t nnames, cnames;
    struct pent_list L[MAIN_LAYERS];
    unsigned counter; /* makes every generated file name unique */
};

/* Scaled count, never below min: tiny scales still exercise every feature. */
static size_t cnt(const struct plan *p, double at_scale_1, size_t min)
{
    double v = floor(at_scale_1 * p->scale + 0.5);
    return v < (double)min ? min : (size_t)v;
}

static void pent_push(struct plan *p, int layer, char *path, char *target, uint32_t ino,
                      enum ent_kind kind, uint32_t mode)
{
    struct pent_list *l = &p->L[layer];
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct pent){path, target, ino, kind, mode};
}

/* Raw sizes: 4% empty, log-uniform 32 B..192 KiB, 0.04% log-uniform 4..24 MiB. */
static uint64_t draw_size(struct rng *r)
{
    double u = rng_unit(r);
    if (u < 0.04)
        return 0;
    double lo = 32, hi = 192 * 1024.0;
    if (u >= 0.9996)
        lo = 4 * 1048576.0, hi = 24 * 1048576.0;
    return (uint64_t)exp(log(lo) + rng_unit(r) * (log(hi) - log(lo)));
}

static uint32_t new_inode(struct plan *p, uint64_t size, uint32_t mode)
{
    if (p->nino == p->cino) {
        p->cino = p->cino ? 2 * p->cino : 4096;
        p->ino = xrealloc(p->ino, p->cino * sizeof *p->ino);
    }
    p->ino[p->nino] = (struct inode_rec){size, rng_next(&p->r), mode};
    return (uint32_t)p->nino++;
}

static size_t new_name(struct plan *p, int layer, const char *path, uint32_t ino)
{
    if (p->nnames == p->cnames) {
        p->cnames = p->cnames ? 2 * p->cnames : 4096;
        p->names = xrealloc(p->names, p->cnames * sizeof *p->names);
    }
    p->names[p->nnames] =
        (struct name_rec){xstrdup(path), ino, (uint8_t)layer, 1, (uint8_t)(layer + 1)};
    pent_push(p, layer, xstrdup(path), NULL, ino, ENT_REG, p->ino[ino].mode);
    return p->nnames++;
}

static size_t add_file(struct plan *p, int layer, const char *path, uint64_t size, uint32_t mode)
{
    return new_name(p, layer, path, new_inode(p, size, mode));
}

/* A random alive name not touched in this layer and not under `avoid`. */
static size_t pick_name(struct plan *p, int layer, const char *avoid)
{
    for (int tries = 0; tries < 100000; tries++) {
        size_t i = (size_t)rng_below(&p->r, p->nnames);
        struct name_rec *n = &p->names[i];
        if (n->alive && n->busy != layer + 1 &&
            (!avoid || strncmp(n->path, avoid, strlen(avoid)) != 0))
            return i;
    }
    die("plan: no name left to pick in layer %d", layer);
}

/* The alive record of path, or SIZE_MAX. */
static size_t find_alive(const struct plan *p, const char *path)
{
    for (size_t i = p->nnames; i-- > 0;)
        if (p->names[i].alive && strcmp(p->names[i].path, path) == 0)
            return i;
    return SIZE_MAX;
}

static void replace_name(struct plan *p, int layer, size_t i)
{
    p->names[i].alive = 0;
    char *path = xstrdup(p->names[i].path);
    uint32_t mode = p->ino[p->names[i].ino].mode;
    add_file(p, layer, path, draw_size(&p->r) + 1, mode); /* +1: a replacement has content */
    free(path);
}

static void whiteout_name(struct plan *p, int layer, size_t i)
{
    struct name_rec *n = &p->names[i];
    n->alive = 0;
    n->busy = (uint8_t)(layer + 1);
    const char *slash = strrchr(n->path, '/');
    char *wh = slash ? xasprintf("%.*s/.wh.%s", (int)(slash - n->path), n->path, slash + 1)
                     : xasprintf(".wh.%s", n->path);
    pent_push(p, layer, wh, NULL, 0, ENT_WHITEOUT, 0);
}

static int under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* dir_layer_min: kill records under dir from layers below it (opaque), or all
 * of them (whiteout of the directory: pass MAIN_LAYERS). */
static void kill_under(struct plan *p, const char *dir, int below_layer)
{
    for (size_t i = 0; i < p->nnames; i++)
        if (p->names[i].alive && p->names[i].layer < below_layer && under(p->names[i].path, dir))
            p->names[i].alive = 0;
}

/* ---- package trees -------------------------------------------------------------- */

static const char *const exts[] = {".so", ".py", ".txt", ".json", ".mo", ".h", ".gz", ".bin", ""};
static const char *const words[] = {"core", "utils", "net", "crypto", "gfx",  "db",
                                    "xml",  "text",  "io",  "ssl",    "data", "tools"};

/* n files of fresh content under root/pkgNNNN-word[/subNN]/, plus a symlink. */
static void add_package(struct plan *p, int layer, const char *root, size_t n)
{
    unsigned id = p->counter++;
    char *pkg = xasprintf("%s/pkg%05u-%s", root, id, words[id % 12]);
    for (size_t k = 0; k < n; k++) {
        unsigned f = p->counter++;
        const char *ext = exts[rng_below(&p->r, 9)];
        char *path = k % 3 == 2 ? xasprintf("%s/sub%02u/file%06u%s", pkg, (unsigned)(k % 7), f, ext)
                                : xasprintf("%s/file%06u%s", pkg, f, ext);
        add_file(p, layer, path, draw_size(&p->r), strcmp(ext, ".so") ? 0644 : 0755);
        free(path);
    }
    char *link = xasprintf("%s/lib%05u.so", pkg, id);
    pent_push(p, layer, link, xasprintf("lib%05u.so.1", id), 0, ENT_SYMLINK, 0777);
    free(pkg);
}

static void add_packages(struct plan *p, int layer, const char *const *roots, size_t nroots,
                         size_t nfiles)
{
    while (nfiles > 0) {
        size_t n = 8 + (size_t)rng_below(&p->r, 40);
        if (n > nfiles)
            n = nfiles;
        add_package(p, layer, roots[rng_below(&p->r, nroots)], n);
        nfiles -= n;
    }
}

/* n files spread over dir/dNN/ subdirectories, 50 per directory. */
static void add_tree(struct plan *p, int layer, const char *dir, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char *path = xasprintf("%s/d%02u/entry%06u.dat", dir, (unsigned)(k / 50), p->counter++);
        add_file(p, layer, path, draw_size(&p->r), 0644);
        free(path);
    }
}

/* ---- the four layers --------------------------------------------------------------- */

static void layer0(struct plan *p, size_t n0)
{
    static const char *const roots[] = {
        "usr/lib/x86_64-linux-gnu",      "usr/share",   "usr/share/doc",
        "usr/lib/python3/dist-packages", "usr/include", "etc"};
    size_t applets = cnt(p, 100, 2), pairs = cnt(p, 50, 1);
    size_t nold = cnt(p, 1000, 2), ncache = cnt(p, 1000, 2);
    uint32_t bb = new_inode(p, 1100000, 0755);
    new_name(p, 0, "bin/busybox", bb);
    for (size_t k = 0; k < applets; k++) {
        char *path = xasprintf("bin/applet%03u", (unsigned)k);
        new_name(p, 0, path, bb);
        free(path);
    }
    add_tree(p, 0, "opt/old", nold);
    add_tree(p, 0, "var/cache/app", ncache);
    size_t used = 1 + applets + nold + ncache + 2 * pairs;
    add_packages(p, 0, roots, 6, n0 > used ? n0 - used : 1);
    for (size_t k = 0; k < pairs; k++) { /* libX.so.1.2.3 + hard link libX.so.1 */
        unsigned id = p->counter++;
        char *a = xasprintf("usr/lib/x86_64-linux-gnu/libhl%05u.so.1.2.3", id);
        char *b = xasprintf("usr/lib/x86_64-linux-gnu/libhl%05u.so.1", id);
        size_t i = add_file(p, 0, a, draw_size(&p->r) + 1, 0755);
        new_name(p, 0, b, p->names[i].ino);
        free(a);
        free(b);
    }
}

static void layer1(struct plan *p, size_t n1)
{
    static const char *const roots[] = {"usr/share", "usr/lib/python3/dist-packages",
                                        "usr/lib/x86_64-linux-gnu"};
    size_t nrep = cnt(p, 500, 1), nalias = cnt(p, 25, 1);
    for (size_t k = 0; k < nrep; k++)
        replace_name(p, 1, pick_name(p, 1, "bin/"));
    for (size_t k = 0; k < nalias; k++) { /* hard links to L0 names, resolved from the root */
        size_t t = pick_name(p, 1, "bin/");
        p->names[t].busy = 2;
        char *path = xasprintf("usr/local/bin/alias%03u", (unsigned)k);
        size_t i = new_name(p, 1, path, p->names[t].ino);
        struct pent *e = &p->L[1].v[p->L[1].n - 1];
        e->kind = ENT_HARDLINK;
        e->target = xstrdup(p->names[t].path);
        p->names[i].busy = 2;
        free(path);
    }
    size_t used = nrep + nalias;
    add_packages(p, 1, roots, 3, n1 > used ? n1 - used : 1);
}

static void layer2(struct plan *p, size_t n2)
{
    static const char *const roots[] = {"srv/app", "srv/app/lib"};
    size_t nwh = cnt(p, 500, 1);
    whiteout_name(p, 2, find_alive(p, "bin/busybox")); /* L1 left bin/ alone */
    for (size_t k = 1; k < nwh; k++)
        whiteout_name(p, 2, pick_name(p, 2, "opt/old/"));
    kill_under(p, "opt/old", MAIN_LAYERS);
    pent_push(p, 2, xstrdup("opt/.wh.old"), NULL, 0, ENT_WHITEOUT, 0);
    add_packages(p, 2, roots, 2, n2);
}

static void layer3(struct plan *p, size_t n3)
{
    static const char *const roots[] = {"home/app", "home/app/.local/lib"};
    size_t ncache = cnt(p, 500, 1), nrep = cnt(p, 250, 1);
    add_tree(p, 3, "var/cache/app", ncache);
    kill_under(p, "var/cache/app", 3);
    pent_push(p, 3, xstrdup("var/cache/app/.wh..wh..opq"), NULL, 0, ENT_WHITEOUT, 0);
    /* replace the L0 targets of alias links: the aliases keep the old inode */
    for (size_t i = 0; i < p->L[1].n && nrep > 0; i++) {
        struct pent *e = &p->L[1].v[i];
        size_t t = e->kind == ENT_HARDLINK ? find_alive(p, e->target) : SIZE_MAX;
        if (t != SIZE_MAX && p->names[t].busy != 4) {
            replace_name(p, 3, t);
            nrep--;
        }
    }
    for (; nrep > 0; nrep--)
        replace_name(p, 3, pick_name(p, 3, "var/cache/app/"));
    for (size_t i = 0; i < p->nnames; i++) /* one applet name: one path less, same bytes */
        if (p->names[i].alive && p->names[i].busy != 4 &&
            strncmp(p->names[i].path, "bin/applet", 10) == 0) {
            whiteout_name(p, 3, i);
            break;
        }
    add_packages(p, 3, roots, 2, n3);
}

/* ---- finishing: sizes, parent dirs, order, hard links ---------------------------------- */

static void plan_rescale(struct plan *p, uint64_t target)
{
    double sum = 0;
    for (size_t i = 0; i < p->nino; i++)
        sum += (double)p->ino[i].size;
    double f = sum > 0 ? (double)target / sum : 1;
    for (size_t i = 0; i < p->nino; i++)
        p->ino[i].size = (uint64_t)floor((double)p->ino[i].size * f + 0.5);
}

static void add_parent_dirs(struct plan *p, int layer)
{
    size_t n = p->L[layer].n;
    for (size_t i = 0; i < n; i++) {
        const char *path = p->L[layer].v[i].path;
        for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/'))
            pent_push(p, layer, xasprintf("%.*s", (int)(s - path), path), NULL, 0, ENT_DIR, 0755);
    }
}

static int pent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct pent *)a)->path, ((const struct pent *)b)->path);
}

/* Sorts, drops repeated directory entries, and turns every name of an inode
 * after the first in stream order into a hard link to the first. */
static void finish_layer(struct plan *p, int layer, struct layer_plan *out, const char **first)
{
    struct pent_list *l = &p->L[layer];
    add_parent_dirs(p, layer);
    qsort(l->v, l->n, sizeof *l->v, pent_cmp);
    out->v = xmalloc(l->n * sizeof *out->v);
    out->n = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct pent *e = &l->v[i];
        if (i > 0 && strcmp(e->path, l->v[i - 1].path) == 0) {
            if (e->kind != ENT_DIR || l->v[i - 1].kind != ENT_DIR)
                die("plan: duplicate path %s in layer %d", e->path, layer);
            continue;
        }
        struct ent x = {e->path, e->target, 0, 0, e->mode, e->kind};
        if (e->kind == ENT_REG && first[e->ino]) {
            x.kind = ENT_HARDLINK;
            x.target = first[e->ino];
        } else if (e->kind == ENT_REG) {
            first[e->ino] = e->path;
            x.size = p->ino[e->ino].size;
            x.seed = p->ino[e->ino].seed;
        }
        out->v[out->n++] = x;
    }
}

static void compute_expect(struct plan *p, struct expect *ex)
{
    unsigned char *seen = xmalloc(p->nino);
    memset(seen, 0, p->nino);
    memset(ex, 0, sizeof *ex);
    for (size_t i = 0; i < p->nnames; i++) {
        struct name_rec *n = &p->names[i];
        if (!n->alive)
            continue;
        ex->files_num++;
        if (!seen[n->ino])
            ex->files_size += p->ino[n->ino].size;
        seen[n->ino] = 1;
    }
    free(seen);
}

struct plan *plan_main(double scale, uint64_t seed, struct layer_plan out[MAIN_LAYERS],
                       struct expect *ex)
{
    struct plan *p = xmalloc(sizeof *p);
    memset(p, 0, sizeof *p);
    rng_seed(&p->r, seed);
    p->scale = scale;
    layer0(p, cnt(p, 12000, 8));
    layer1(p, cnt(p, 6500, 4));
    layer2(p, cnt(p, 3750, 2));
    layer3(p, cnt(p, 2750, 2));
    plan_rescale(p, (uint64_t)(600e6 * scale));
    compute_expect(p, ex);
    for (size_t i = 0; i < p->nino; i++)
        ex->data_bytes += p->ino[i].size;
    for (int l = 0; l < MAIN_LAYERS; l++) {
        const char **first = xmalloc(p->nino * sizeof *first);
        memset(first, 0, p->nino * sizeof *first);
        finish_layer(p, l, &out[l], first);
        free(first);
    }
    return p;
}

void plan_free(struct plan *p)
{
    for (int l = 0; l < MAIN_LAYERS; l++) {
        for (size_t i = 0; i < p->L[l].n; i++) {
            free(p->L[l].v[i].path);
            free(p->L[l].v[i].target);
        }
        free(p->L[l].v);
    }
    for (size_t i = 0; i < p->nnames; i++)
        free(p->names[i].path);
    free(p->names);
    free(p->ino);
    free(p);
}
