/*
 * test_waste: where the wasted bytes were written (docs/rules.md C6, tree_wasted) and a
 * directory's figure (C7, tree_walk), one row per case; a row's name starts with the rule.
 *
 * A row is a stack of layers fed to a tree made with IMGSTAT_WASTE, and what is expected,
 * worked out by hand in the comment: every path with wasted bytes as "PATH copies bytes
 * layers" (layers joined by ','), in byte-wise path order, separated by "; ", and for C7
 * rows the walk's directories and files as "PATH bytes/files", in walk order.  Every row
 * also checks that the wasted bytes add up to layer_files_size - total_files_size, and that
 * the same stack without IMGSTAT_WASTE gives the same totals.
 * Prints one line per failed row and ends with "N passed, N failed".
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "err.h"
#include "imgstat.h"
#include "tree.h"

#include "ents.h"

/* struct ent, F() ... LAYERS(): ents.h */

struct row {
    const char *name;
    const struct ent *const *layers;
    unsigned flags;     /* IMGSTAT_LENIENT */
    const char *wasted; /* C6: the paths with wasted bytes */
    const char *walk;   /* C7: the walk, or NULL */
};

static const struct row rows[] = {
    /* L1 f 1, L2 f 2, L3 f 3: the first two copies are lost, at f, in L2 and L3 */
    {"C6 a file overwritten twice", LAYERS(LAYER(F("f", 1)), LAYER(F("f", 2)), LAYER(F("f", 3))), 0,
     "/f 3 3 1,2,3", NULL},
    /* E1: a, then a again in the same layer: the first copy is lost in L1 */
    {"C6 the first of two copies in one layer", LAYERS(LAYER(F("a", 5), F("a", 6))), 0, "/a 2 5 1",
     NULL},
    /* W1, W3: whiteout and opaque marker */
    {"C6 a whiteout and an opaque directory",
     LAYERS(LAYER(F("d/x", 10), F("o/y", 20), F("o/s/z", 30)),
            LAYER(F("d/.wh.x", 0), F("o/.wh..wh..opq", 0), F("o/n", 1))),
     0, "/d/x 1 10 1,2; /o/s/z 1 30 1,2; /o/y 1 20 1,2", NULL},
    /* E2: r (40) replaced by a directory; a directory replaced by a file (its files lost) */
    {"C6 replaced by a directory, and a directory by a file",
     LAYERS(LAYER(F("r", 40), F("q/a", 7), F("q/b/c", 8)), LAYER(D("r/"), F("q", 1))), 0,
     "/q/a 1 7 1,2; /q/b/c 1 8 1,2; /r 1 40 1,2", NULL},
    /* E3: h2 keeps h's inode when h goes (L2); it is lost, at h, when h2 goes (L3) */
    {"C6 a copy a hard link keeps is wasted only with its last name",
     LAYERS(LAYER(F("h", 70), HL("h2", "h")), LAYER(F(".wh.h", 0)), LAYER(F(".wh.h2", 0))), 0,
     "/h 1 70 1,3", NULL},
    /* E3: k overwritten while k2 keeps the old copy: nothing wasted, two copies at k */
    {"C6 an overwritten copy a hard link keeps is not wasted",
     LAYERS(LAYER(F("k", 30), HL("k2", "k")), LAYER(F("k", 31))), 0, "", NULL},
    /* P1: written through a symlink, charged at the resolved name */
    {"C6 a copy written through a symlink is written at the resolved name",
     LAYERS(LAYER(D("real/"), SL("lnk", "real"), F("real/f", 15)), LAYER(F("lnk/f", 16))), 0,
     "/real/f 2 15 1,2", NULL},
    /* W6: 1.1 taken by x then lost; 2.1 never taken; 3.1 given twice, the first lost */
    {"C6 AUFS link targets",
     LAYERS(LAYER(F(".wh..wh.plnk/1.1", 25), HL("bin/x", ".wh..wh.plnk/1.1"),
                  F(".wh..wh.plnk/2.1", 60), F(".wh..wh.plnk/3.1", 4), F(".wh..wh.plnk/3.1", 6),
                  HL("bin/z", ".wh..wh.plnk/3.1")),
            LAYER(F("bin/.wh.x", 0))),
     0, "/.wh..wh.plnk/2.1 1 60 1; /.wh..wh.plnk/3.1 1 4 1; /bin/x 1 25 1,2", NULL},
    /* W6 at the end of the last layer: a target no name took */
    {"C6 an AUFS target the last layer leaves untaken", LAYERS(LAYER(F(".wh..wh.plnk/9.1", 11))), 0,
     "/.wh..wh.plnk/9.1 1 11 1", NULL},
    /* bytes that reach no inode: AUFS metadata, a whiteout and a marker with data, the root */
    {"C6 entries whose bytes reach no inode",
     LAYERS(LAYER(F(".wh..wh.aufs", 7), F("d/.wh.zz", 5), F("d/.wh..wh..opq", 3), F("./", 2))), 0,
     "/ 1 2 1; /.wh..wh.aufs 1 7 1; /d/.wh..wh..opq 1 3 1; /d/.wh.zz 1 5 1", NULL},
    /* P3 with --lenient: file/x is skipped, its 11 B wasted at its own name */
    {"C6 an entry skipped with --lenient", LAYERS(LAYER(F("file", 1)), LAYER(F("file/x", 11))),
     IMGSTAT_LENIENT, "/file/x 1 11 2", NULL},
    /* C7: big counts in a (a/big first), one in a too (a/zz before c/one) */
    {"C7 an inode counts at its first name in byte-wise order",
     LAYERS(LAYER(F("a/big", 1000), HL("b/link", "a/big"), F("c/one", 10), HL("a/zz", "c/one"),
                  F("c/d/deep", 5), D("e/"), F("top", 7))),
     0, "",
     "/a/big 1000/1 /a/zz 10/1 /a 1010/2 /b/link 0/1 /b 0/1 /c/d/deep 5/1 /c/d 5/1 /c/one 0/1 "
     "/c 5/2 /e 0/0 /top 7/1 / 1022/6"},
    /* C7: a directory sorts as "name/": "a-b" (0x2d) before "a/" (0x2f) before "a0" */
    {"C7 byte-wise order: a directory as its name and a slash",
     LAYERS(LAYER(F("a/x", 1), HL("a-b", "a/x"), HL("a0", "a/x"))), 0, "",
     "/a-b 1/1 /a/x 0/1 /a 0/1 /a0 0/1 / 1/3"},
};

/* ---- running a row ---------------------------------------------------------------------- */

static int feed(struct tree *t, const struct row *r, struct err *e)
{
    int rc = ents_feed(t, r->layers, e);
    return rc != IMGSTAT_OK ? rc : tree_end(t, e);
}

/* The wasted paths, as the rows write them, sorted. */
struct text {
    char *lines[64];
    size_t n;
    uint64_t sum;
};

static int add_waste(void *ctx, const struct imgstat_waste *w)
{
    struct text *x = ctx;
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%.*s %" PRIu64 " %" PRIu64 " ", (int)w->path_len, w->path,
                     w->copies, w->wasted_bytes);
    for (uint64_t k = 0; k < w->nlayers && n > 0 && (size_t)n < sizeof buf; k++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%" PRIu32, k ? "," : "", w->layers[k]);
    if (x->n < 64)
        x->lines[x->n++] = strdup(buf);
    x->sum += w->wasted_bytes;
    return 0;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void join(struct text *x, char *out, size_t cap)
{
    size_t n = 0;
    qsort(x->lines, x->n, sizeof *x->lines, by_text);
    out[0] = '\0';
    for (size_t i = 0; i < x->n; i++) {
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", i ? "; " : "", x->lines[i]);
        free(x->lines[i]);
    }
}

static int add_node(void *ctx, const struct imgstat_node *v)
{
    char *out = ctx;
    size_t n = strlen(out);
    if (v->type == IMGSTAT_NODE_DIR || v->type == IMGSTAT_NODE_FILE)
        snprintf(out + n, 4096 - n, "%s%.*s %" PRIu64 "/%" PRIu64, n ? " " : "", (int)v->path_len,
                 v->path, v->bytes, v->files);
    return 0;
}

static bool run_row(const struct row *r)
{
    struct err e = {0}, e2 = {0};
    struct tree *t = tree_new(r->flags | IMGSTAT_WASTE), *plain = tree_new(r->flags);
    char got[4096] = "", walk[4096] = "";
    struct text x = {.n = 0};
    bool good = t && plain && feed(t, r, &e) == IMGSTAT_OK && feed(plain, r, &e2) == IMGSTAT_OK;
    if (!good)
        printf("FAIL %s: %s%s\n", r->name, e.msg, e2.msg);
    struct imgstat_totals tot, tot2;
    if (good) {
        tree_totals(t, &tot);
        tree_totals(plain, &tot2);
        tree_wasted(t, add_waste, &x);
        join(&x, got, sizeof got);
        tree_walk(t, add_node, walk);
    }
    if (good && strcmp(got, r->wasted) != 0)
        good = !printf("FAIL %s: wasted \"%s\", want \"%s\"\n", r->name, got, r->wasted);
    if (good && x.sum != tot.layer_bytes - tot.bytes)
        good = !printf("FAIL %s: wasted add up to %" PRIu64 ", not %" PRIu64 "\n", r->name, x.sum,
                       tot.layer_bytes - tot.bytes);
    if (good &&
        (tot.files != tot2.files || tot.bytes != tot2.bytes || tot.layer_bytes != tot2.layer_bytes))
        good = !printf("FAIL %s: IMGSTAT_WASTE changed the totals\n", r->name);
    if (good && r->walk && strcmp(walk, r->walk) != 0)
        good = !printf("FAIL %s: walk \"%s\", want \"%s\"\n", r->name, walk, r->walk);
    tree_free(t);
    tree_free(plain);
    return good;
}

/* TREE_WASTE_MAX_LAYERS: one more layer is an error naming the limit, not a wrong number. */
static bool run_layer_limit(void)
{
    struct tree *t = tree_new(IMGSTAT_WASTE);
    struct err e = {0};
    struct layer_entry le = {"f", 1, NULL, 0, 1, ENT_REG};
    for (int i = 0; i <= TREE_WASTE_MAX_LAYERS; i++)
        tree_begin_layer(t);
    int rc = t ? tree_apply(t, &le, &e) : IMGSTAT_ENOMEM;
    tree_free(t);
    if (rc == IMGSTAT_ELIMIT && strstr(e.msg, "TREE_WASTE_MAX_LAYERS"))
        return true;
    printf("FAIL C6 beyond TREE_WASTE_MAX_LAYERS: rc %d, \"%s\"\n", rc, e.msg);
    return false;
}

int main(void)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        run_row(&rows[i]) ? passed++ : failed++;
    run_layer_limit() ? passed++ : failed++;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
