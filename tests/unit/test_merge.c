/*
 * test_merge: the merge rules of docs/rules.md (N, W, P, E, C; a row's name starts with
 * the rule's ID) and the layer-content cases of the shared edge-case catalog (SEMANTICS.md
 * §3 EC1-EC49, EC63), one row each.
 *
 * A row is a stack of layers (bottom first), each a list of tar entries, and the
 * totals expected of the merged view, taken from the catalog's "Test:" lines or
 * worked out from the rules by hand, never from imgstat's output.  Every row runs
 *   direct  the entries fed to tree_apply as struct layer_entry values;
 *   pax     each layer written as a pax_restricted tar in memory with libarchive's
 *           write API (an independent writer) and read back by src_walk_memory, so
 *           imgstat's own tar reader (layers/tar.c) and its type mapping are tested too;
 *   gnu     the same as a GNU tar;
 * unless the row names its modes (sparse sizes need pax; ustar only for EC3).
 * Prints one line per failed row and ends with "N passed, N failed".
 */
#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "err.h"
#include "imgstat.h"
#include "path.h"
#include "source.h"
#include "tree.h"

#include "ents.h"

/* ------------------------------------------------------------------ the table's vocabulary */

/* struct ent, F() ... LAYERS(): ents.h */

enum mode { M_DIRECT = 1, M_PAX = 2, M_GNU = 4, M_USTAR = 8 };
#define M_DEFAULT (M_DIRECT | M_PAX | M_GNU)
#define M_ALL (M_DIRECT | M_PAX | M_GNU | M_USTAR)

#define P2_53 UINT64_C(9007199254740992)
#define P2_60 UINT64_C(1152921504606846976)
#define P2_62 UINT64_C(4611686018427387904)
#define P2_63 UINT64_C(9223372036854775808)
#define BIG IMGSTAT_TOO_BIG

/* Designated initializers: a row names only what it checks. */
#define ROW(n, l, f, b, m) .name = (n), .layers = (l), .files = (f), .bytes = (b), .more = (m)
#define FAILS(n, l, c) .name = (n), .layers = (l), .fails = true, .code = (c)

struct row {
    const char *name;
    const struct ent *const *layers; /* bottom first, NULL-terminated */
    uint64_t files, bytes;           /* checked unless the row fails */
    const char *more; /* "key=value ...": dirs symlinks per_path hardlinks devices fifos warnings */
    unsigned flags;   /* IMGSTAT_LENIENT */
    unsigned modes;   /* 0: M_DEFAULT */
    bool fails;       /* expect a result < 0 ... */
    int code;         /* ... and this code, when not 0 */
    bool utf8;        /* write the tars' names under C.UTF-8 (EC4) */
};

/* ------------------------------------------------------------------ generated inputs */

static char p300[301];   /* 150 x 'd' "/" 149 x 'f': over ustar's 255, GNU 'L' / pax path */
static char p250[251];   /* 150 x 'd' "/" 99 x 'f': fits ustar's prefix + name */
static char p4096[4097]; /* 31 x (127 x 'a' "/") + 128 x 'b': PATH_MAX_BYTES exactly */
static char p4097[4098]; /* the same plus one byte */

/* Symlink chains l1 -> l2 -> ... -> lN -> d, then d/: N = 255 is the most followed (P1). */
#define CHAIN_MAX 256
static char chain_names[CHAIN_MAX + 2][8];
static struct ent chain255[CHAIN_MAX + 2], chain256[CHAIN_MAX + 2];

static void fill_chain(struct ent *c, int n)
{
    for (int i = 1; i <= n; i++) {
        c[i - 1] = (struct ent){ENT_SYMLINK, chain_names[i], 0, i < n ? chain_names[i + 1] : "d"};
    }
    c[n] = (struct ent){ENT_DIR, "d/", 0, NULL};
    c[n + 1] = (struct ent){0, NULL, 0, NULL};
}

/* Many names in one directory: the hash table and node slabs grow, and freed slots are
 * reused.  L0: d/f0..d/f4999 (1 B each); L1: whiteouts of every even name; L2: every
 * fourth name again at 2 B.  Worked out: after L1 2500 files, 2500 B; after L2 3750, 5000 B. */
#define MANY 5000
static char many_names[MANY][16], many_wh[MANY / 2][20];
static struct ent many_l0[MANY + 2], many_l1[MANY / 2 + 1], many_l2[MANY / 4 + 1];

static void fill_many(void)
{
    many_l0[0] = (struct ent){ENT_DIR, "d/", 0, NULL};
    for (int i = 0; i < MANY; i++) {
        snprintf(many_names[i], sizeof many_names[i], "d/f%d", i);
        many_l0[i + 1] = (struct ent){ENT_REG, many_names[i], 1, NULL};
    }
    for (int i = 0; i < MANY; i += 2) {
        snprintf(many_wh[i / 2], sizeof many_wh[i / 2], "d/.wh.f%d", i);
        many_l1[i / 2] = (struct ent){ENT_REG, many_wh[i / 2], 0, NULL};
    }
    for (int i = 0; i < MANY; i += 4)
        many_l2[i / 4] = (struct ent){ENT_REG, many_names[i], 2, NULL};
}

/* The shapes of issue 8.9, small: each row must give the hand-computed answer in every
 * mode, the plain one included (which walks them the slow way).
 *   opq:   L0 d/old (1 B); L1 d/ and d/s/f0..f1999 (1 B each), then the opaque marker of d
 *          5000 times -> 2000 files, 2000 B, dirs d and d/s.
 *   whd:   the same L0; L1 d/s/f0..f1999, then .wh.d 5000 times: d is this layer's, so only
 *          d/old goes -> 2000 files, 2000 B.
 *   chain: L0 a1 -> a2 -> ... -> a250 -> da, b1 -> ... -> b250 -> db, da/, db/; L1 2000
 *          files alternating a1/fI and b1/fI (1 B each) -> 2000 files, 2000 B, 500 symlinks.
 *   plnk:  L0 .wh..wh.plnk/I.1 (I + 1 bytes... all 1 B) and bin/hI => .wh..wh.plnk/I.1 for
 *          I < 5000 -> 5000 files (the AUFS targets are not files, W6), 5000 B, dirs=1. */
#define SHAPE_N 2000
#define SHAPE_REPEAT 5000
#define CHAIN_LEN 250
static char shape_files[SHAPE_N][24], chain_files[SHAPE_N][24];
static char chain_links[2][CHAIN_LEN][8], chain_targets[2][CHAIN_LEN][8];
static char plnk_names[SHAPE_REPEAT][32], plnk_links[SHAPE_REPEAT][16];
static struct ent opq_l1[1 + SHAPE_N + SHAPE_REPEAT + 1], whd_l1[SHAPE_N + SHAPE_REPEAT + 1];
static struct ent chain_l0[2 * CHAIN_LEN + 3], chain_l1[SHAPE_N + 1];
static struct ent plnk_l0[1 + 2 * SHAPE_REPEAT + 1];
static const struct ent shape_l0[] = {F("d/old", 1), {0}};

/* Hops through a remembered chain count as if walked (P1): c1 -> ... -> c200 -> d/ is walked
 * (and remembered) by c1/x; then e1 -> ... -> eN -> c1 by e1/y: 55 + 200 = 255 links are
 * followed, 56 + 200 = 256 are one too many. */
static char hop_names_of[2][2][256][8], hop_targets_of[2][2][256][8]; /* [n - 55][chain][link] */
static struct ent hop_l0_55[200 + 55 + 2], hop_l0_56[200 + 56 + 2];
static const struct ent hop_l1[] = {F("c1/x", 1), F("e1/y", 2), {0}};

static void fill_hops(struct ent *l, int n)
{
    char(*hop_names)[256][8] = hop_names_of[n - 55],
    (*hop_targets)[256][8] = hop_targets_of[n - 55];
    size_t k = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(hop_names[0][i], 8, "c%d", i + 1);
        snprintf(hop_targets[0][i], 8, i < 199 ? "c%d" : "d", i + 2);
        l[k++] = (struct ent)SL(hop_names[0][i], hop_targets[0][i]);
    }
    for (int i = 0; i < n; i++) {
        snprintf(hop_names[1][i], 8, "e%d", i + 1);
        snprintf(hop_targets[1][i], 8, i < n - 1 ? "e%d" : "c1", i + 2);
        l[k++] = (struct ent)SL(hop_names[1][i], hop_targets[1][i]);
    }
    l[k++] = (struct ent)D("d/");
    l[k] = (struct ent){0, NULL, 0, NULL};
}

static void fill_shapes(void)
{
    size_t o = 0, w = 0;
    opq_l1[o++] = (struct ent)D("d/");
    for (int i = 0; i < SHAPE_N; i++) {
        snprintf(shape_files[i], sizeof shape_files[i], "d/s/f%d", i);
        opq_l1[o++] = whd_l1[w++] = (struct ent)F(shape_files[i], 1);
    }
    for (int i = 0; i < SHAPE_REPEAT; i++) {
        opq_l1[o++] = (struct ent)WH("d/.wh..wh..opq");
        whd_l1[w++] = (struct ent)WH(".wh.d");
    }
    size_t c = 0;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < CHAIN_LEN; i++) {
            snprintf(chain_links[k][i], sizeof chain_links[k][i], "%c%d", "ab"[k], i + 1);
            snprintf(chain_targets[k][i], sizeof chain_targets[k][i], "%c%d", "ab"[k], i + 2);
            if (i == CHAIN_LEN - 1)
                snprintf(chain_targets[k][i], sizeof chain_targets[k][i], "d%c", "ab"[k]);
            chain_l0[c++] = (struct ent)SL(chain_links[k][i], chain_targets[k][i]);
        }
    }
    chain_l0[c++] = (struct ent)D("da/");
    chain_l0[c++] = (struct ent)D("db/");
    for (int i = 0; i < SHAPE_N; i++) {
        snprintf(chain_files[i], sizeof chain_files[i], "%c1/f%d", "ab"[i % 2], i);
        chain_l1[i] = (struct ent)F(chain_files[i], 1);
    }
    size_t p = 0;
    plnk_l0[p++] = (struct ent)D(".wh..wh.plnk/");
    for (int i = 0; i < SHAPE_REPEAT; i++) {
        snprintf(plnk_names[i], sizeof plnk_names[i], ".wh..wh.plnk/%d.1", i);
        snprintf(plnk_links[i], sizeof plnk_links[i], "bin/h%d", i);
        plnk_l0[p++] = (struct ent)F(plnk_names[i], 1);
    }
    for (int i = 0; i < SHAPE_REPEAT; i++)
        plnk_l0[p++] = (struct ent)HL(plnk_links[i], plnk_names[i]);
}

static void fill_generated(void)
{
    memset(p300, 'd', 150);
    p300[150] = '/';
    memset(p300 + 151, 'f', 149);
    memset(p250, 'd', 150);
    p250[150] = '/';
    memset(p250 + 151, 'f', 99);
    for (int i = 0; i < 31; i++) {
        memset(p4096 + 128 * i, 'a', 127);
        p4096[128 * i + 127] = '/';
    }
    memset(p4096 + 31 * 128, 'b', 128);
    memcpy(p4097, p4096, 4096);
    p4097[4096] = 'b';
    for (int i = 1; i <= CHAIN_MAX; i++)
        snprintf(chain_names[i], sizeof chain_names[i], "l%d", i);
    fill_chain(chain255, 255);
    fill_chain(chain256, 256);
    fill_many();
    fill_shapes();
    fill_hops(hop_l0_55, 55);
    fill_hops(hop_l0_56, 56);
}

/* EC35: the same layer listed twice must be applied twice. */
static const struct ent ec35_l0[] = {F("empty", 0), {0}};

/* ------------------------------------------------------------------ the rows */

static const struct row rows[] = {
    /* ---- A1/A2 paths (EC1-EC6) */
    {ROW("EC1 ./ and / spell one node", LAYERS(LAYER(F("./etc/x", 3)), LAYER(WH("/etc/.wh.x"))), 0,
         0, "dirs=1")},
    {ROW("EC1 every spelling of a/x is one node, last wins",
         LAYERS(LAYER(D("./a/"), D("/a"), D("a//"), F("./a/x", 1), F("/a/x", 2), F("a//x", 3),
                      F("a/./x", 5))),
         1, 5, "dirs=1")},
    {ROW("EC2 .. above the root is clamped with a warning", LAYERS(LAYER(F("../../x", 1))), 1, 1,
         "warnings=1 dirs=0")},
    {ROW("EC2 the clamped name is x at the root",
         LAYERS(LAYER(F("../../x", 1)), LAYER(WH(".wh.x"))), 0, 0, "warnings=1")},
    {ROW("N1 .. is resolved against the name, a/b is never made",
         LAYERS(LAYER(F("a/b/../c", 2)), LAYER(WH("a/.wh.c"))), 0, 0, "dirs=1")},
    {ROW("EC3 300-byte name (pax path, GNU L)", LAYERS(LAYER(F(p300, 1))), 1, 1, "dirs=1"),
     .modes = M_DEFAULT},
    {ROW("EC3 250-byte name in the ustar prefix field", LAYERS(LAYER(F(p250, 1))), 1, 1, "dirs=1"),
     .modes = M_ALL},
    {ROW("EC3 300-byte hard-link name (pax linkpath, GNU K)",
         LAYERS(LAYER(F(p300, 4), HL("h", p300))), 2, 4, "per_path=8 hardlinks=1 dirs=1")},
    {ROW("N1 a 4096-byte name is accepted", LAYERS(LAYER(F(p4096, 1))), 1, 1, "dirs=31")},
    {FAILS("N1 a 4097-byte name is refused (PATH_MAX_BYTES)", LAYERS(LAYER(F(p4097, 1))),
           IMGSTAT_ELIMIT)},
    {ROW("EC4 UTF-8 pax name read under the C locale (ARCHIVE_WARN)",
         LAYERS(LAYER(F("caf\xc3\xa9", 1), F("x", 2)), LAYER(WH(".wh.caf\xc3\xa9"))), 1, 2, NULL),
     .modes = M_DIRECT | M_PAX, .utf8 = true},
    {ROW("EC4 raw non-UTF-8 name compared as bytes",
         LAYERS(LAYER(F("caf\xe9", 1), F("x", 2)), LAYER(WH(".wh.caf\xe9"))), 1, 2, NULL)},
    {ROW("EC5 root entries are skipped", LAYERS(LAYER(D("./"), D("/"), D("."), F("./a", 1))), 1, 1,
         "dirs=0")},
    {ROW("N3 a non-directory root entry is skipped", LAYERS(LAYER(F(".", 5), F("a", 1))), 1, 1,
         "dirs=0")},
    /* T7: Go keeps typeflag '0' a regular file whatever its name; the runtimes clean the name
     * to `d` (umoci unpack of this layer gives a 0-byte file d).  libarchive made it a dir. */
    {ROW("EC6/T7 typeflag 0 member d/ is a regular file d (tar reader)", LAYERS(LAYER(F("d/", 0))),
         1, 0, "dirs=0"),
     .modes = M_PAX | M_GNU},

    /* ---- A4/A6 whiteouts (EC7-EC18) */
    {ROW("EC7 whiteout of a lower file", LAYERS(LAYER(F("a", 1)), LAYER(WH(".wh.a"))), 0, 0, NULL)},
    {ROW("EC8 whiteout of a lower directory removes its subtree",
         LAYERS(LAYER(F("d/x", 1), F("d/y/z", 1)), LAYER(WH(".wh.d"))), 0, 0, "dirs=0")},
    {ROW("EC9 whiteout then the same name in the same layer",
         LAYERS(LAYER(F("x", 1)), LAYER(WH(".wh.x"), F("x", 7))), 1, 7, NULL)},
    {ROW("EC10 entry then its whiteout in the same layer",
         LAYERS(LAYER(F("x", 1)), LAYER(F("x", 7), WH(".wh.x"))), 1, 7, NULL)},
    {ROW("EC11 directory recreated after its whiteout",
         LAYERS(LAYER(F("a/old", 1)), LAYER(WH(".wh.a"), D("a/"), F("a/new", 2))), 1, 2, "dirs=1")},
    {ROW("EC11 directory recreated, whiteout last",
         LAYERS(LAYER(F("a/old", 1)), LAYER(D("a/"), F("a/new", 2), WH(".wh.a"))), 1, 2, "dirs=1")},
    {ROW("EC11 implicit parent, whiteout last",
         LAYERS(LAYER(F("a/old", 1)), LAYER(F("a/new", 2), WH(".wh.a"))), 1, 2, "dirs=1")},
    {ROW("W2 dir whiteout drops the lower subtree, keeps same-layer children",
         LAYERS(LAYER(D("d/"), F("d/old", 1), F("d/sub/x", 2)), LAYER(F("d/new", 4), WH(".wh.d"))),
         1, 4, "dirs=1")},
    {ROW("W2 a same-layer directory survives but loses its lower children",
         LAYERS(LAYER(F("d/sub/old", 1), F("d/other", 8)), LAYER(D("d/sub/"), WH(".wh.d"))), 0, 0,
         "dirs=2")},
    {ROW("EC12 whiteout, then recreated two layers up (ggcr#2191)",
         LAYERS(LAYER(F("a/foo", 1), F("b/bar", 2)), LAYER(WH(".wh.a")), LAYER(F("a/baz", 4))), 2,
         6, "dirs=2")},
    {ROW("EC13 whiteout under a missing parent is a no-op",
         LAYERS(LAYER(F("x", 1)), LAYER(WH("q/r/.wh.s"))), 1, 1, "dirs=0")},
    {FAILS("EC14 bare .wh. is an error", LAYERS(LAYER(F("etc/p", 1)), LAYER(WH("etc/.wh."))),
           IMGSTAT_EINPUT)},
    {FAILS("EC14 bare .wh. at the root is an error", LAYERS(LAYER(F("p", 1)), LAYER(WH(".wh."))),
           IMGSTAT_EINPUT)},
    {ROW("EC14 lenient: bare .wh. warns and is skipped",
         LAYERS(LAYER(F("etc/p", 1)), LAYER(WH("etc/.wh."))), 1, 1, "warnings=1 dirs=1"),
     .flags = IMGSTAT_LENIENT},
    {ROW("EC15 .wh..wh..opqX is not opaque (stereoscope#696)",
         LAYERS(LAYER(F("etc/a", 1)), LAYER(WH("etc/.wh..wh..opqX"))), 1, 1, "dirs=1")},
    {ROW("EC15 AUFS metadata at the root is skipped",
         LAYERS(LAYER(D(".wh..wh.plnk/"), F(".wh..wh.plnk/123.456", 5), F(".wh..wh.aufs", 3),
                      D(".wh..wh.orph/"), F("a", 1))),
         1, 1, "dirs=0")},
    {ROW("W6 a file under .wh..wh.plnk/ serves as a hard-link target",
         LAYERS(LAYER(D(".wh..wh.plnk/"), F(".wh..wh.plnk/123.456", 5),
                      HL("bin/sh", ".wh..wh.plnk/123.456"))),
         1, 5, "dirs=1")},
    {ROW("EC16 a directory-typed whiteout .wh.x/", LAYERS(LAYER(F("x", 1)), LAYER(D(".wh.x/"))), 0,
         0, "dirs=0")},
    {ROW("EC16 a symlink-typed whiteout", LAYERS(LAYER(F("x", 1)), LAYER(SL(".wh.x", "y"))), 0, 0,
         "symlinks=0")},
    {ROW("EC17 whiteout in the lowest layer is hidden", LAYERS(LAYER(WH(".wh.ghost"), F("a", 1))),
         1, 1, NULL)},
    {ROW("EC17 opaque marker in the lowest layer is hidden",
         LAYERS(LAYER(D("d/"), WH("d/.wh..wh..opq"), F("d/a", 1))), 1, 1, "dirs=1")},
    {ROW("EC18 whiteout through a symlinked parent removes the target",
         LAYERS(LAYER(F("usr/lib/x", 1), SL("lib", "usr/lib")), LAYER(WH("lib/.wh.x"))), 0, 0,
         "dirs=2 symlinks=1")},
    {ROW("W2 a whiteout does not protect its parent",
         LAYERS(LAYER(F("d/x", 1), F("d/y", 2)), LAYER(WH("d/.wh.x"), WH(".wh.d"))), 0, 0,
         "dirs=0")},
    {ROW("W2 whiteout of a symlink removes the link, not its target",
         LAYERS(LAYER(F("real/x", 1), SL("ln", "real")), LAYER(WH(".wh.ln"))), 1, 1,
         "dirs=1 symlinks=0")},
    {ROW("W1 a whiteout entry with content is still not a file",
         LAYERS(LAYER(F("x", 1)), LAYER(F(".wh.x", 10))), 0, 0, NULL)},

    /* ---- A7 opaque directories (EC19-EC23) */
    {ROW("EC19 opaque hides lower children, keeps same-layer ones",
         LAYERS(LAYER(F("bin/a", 1), F("bin/t/one", 1)),
                LAYER(D("bin/"), WH("bin/.wh..wh..opq"), F("bin/b", 2))),
         1, 2, "dirs=1")},
    {ROW("EC20 opaque marker after the children",
         LAYERS(LAYER(F("a/b/c/bar", 1)),
                LAYER(D("a/"), D("a/b/"), D("a/b/c/"), F("a/b/c/foo", 2), WH("a/.wh..wh..opq"))),
         1, 2, "dirs=3")},
    {ROW("EC20 marker after the children, implicit a/b and a/b/c",
         LAYERS(LAYER(F("a/b/c/bar", 1)), LAYER(D("a/"), F("a/b/c/foo", 2), WH("a/.wh..wh..opq"))),
         1, 2, "dirs=3")},
    {ROW("EC20 marker after the children, no directory entries at all",
         LAYERS(LAYER(F("a/b/c/bar", 1)), LAYER(F("a/b/c/foo", 2), WH("a/.wh..wh..opq"))), 1, 2,
         "dirs=3")},
    {ROW("EC21 opaque with nothing below", LAYERS(LAYER(F("x", 1)), LAYER(WH("new/.wh..wh..opq"))),
         1, 1, NULL)},
    {ROW("EC22 opaque at the image root",
         LAYERS(LAYER(F("a", 1), F("b", 2)), LAYER(WH(".wh..wh..opq"), F("c", 4))), 1, 4, NULL)},
    {ROW("EC22 opaque at the root, marker last",
         LAYERS(LAYER(F("a", 1), D("d/"), F("d/old", 16)),
                LAYER(F("c", 4), D("d/"), F("d/e", 8), WH(".wh..wh..opq"))),
         2, 12, "dirs=1")},
    {ROW("EC23 opaque with no same-layer children",
         LAYERS(LAYER(F("a/b/foo", 1)), LAYER(D("a/"), WH("a/.wh..wh..opq"))), 0, 0, "dirs=1")},
    {ROW("W3 a later layer re-adds a file in an opaque directory",
         LAYERS(LAYER(F("a/x", 1), F("a/y", 2)), LAYER(WH("a/.wh..wh..opq")), LAYER(F("a/x", 4))),
         1, 4, "dirs=1")},
    {ROW("P1 opaque through a symlinked parent",
         LAYERS(LAYER(F("usr/lib/a", 1), SL("lib", "usr/lib")), LAYER(WH("lib/.wh..wh..opq"))), 0,
         0, "dirs=2 symlinks=1")},

    /* ---- A8 type changes and A5 symlinked parents (EC24-EC32) */
    {ROW("EC24 directory replaced by a file", LAYERS(LAYER(F("d/x", 1)), LAYER(F("d", 4))), 1, 4,
         "dirs=0")},
    {ROW("EC25 directory replaced by a symlink",
         LAYERS(LAYER(F("opt/x/f", 1)), LAYER(SL("opt/x", "/elsewhere"))), 0, 0,
         "dirs=1 symlinks=1")},
    {ROW("EC26 file replaced by a directory", LAYERS(LAYER(F("a", 1)), LAYER(D("a/"), F("a/b", 2))),
         1, 2, "dirs=1")},
    {FAILS("EC27 file as implicit parent is an error", LAYERS(LAYER(F("a", 1)), LAYER(F("a/b", 2))),
           IMGSTAT_EINPUT)},
    {ROW("EC27 lenient: file as implicit parent warns, entry skipped",
         LAYERS(LAYER(F("a", 1)), LAYER(F("a/b", 2))), 1, 1, "warnings=1 dirs=0"),
     .flags = IMGSTAT_LENIENT},
    {ROW("EC28 symlink replaced by a directory",
         LAYERS(LAYER(F("usr/lib/a", 1), SL("lib", "usr/lib")), LAYER(D("lib/"), F("lib/b", 1))), 2,
         2, "dirs=3 symlinks=0")},
    {ROW("EC29 symlinked parent is followed",
         LAYERS(LAYER(F("usr/lib/a", 1), SL("lib", "usr/lib")), LAYER(F("lib/a", 9))), 1, 9,
         "dirs=2 symlinks=1")},
    {ROW("EC30 dangling symlink parent creates the target",
         LAYERS(LAYER(SL("lib", "usr/lib")), LAYER(F("lib/a", 1))), 1, 1, "dirs=2 symlinks=1")},
    {ROW("EC30 the file lands at usr/lib/a",
         LAYERS(LAYER(SL("lib", "usr/lib")), LAYER(F("lib/a", 1)), LAYER(WH("usr/lib/.wh.a"))), 0,
         0, "dirs=2 symlinks=1")},
    {FAILS("EC31 symlink loop in a parent is an error",
           LAYERS(LAYER(SL("a", "b"), SL("b", "a")), LAYER(F("a/x", 1))), IMGSTAT_EINPUT)},
    {ROW("EC31 lenient: symlink loop warns, entry skipped",
         LAYERS(LAYER(SL("a", "b"), SL("b", "a")), LAYER(F("a/x", 1))), 0, 0,
         "warnings=1 symlinks=2"),
     .flags = IMGSTAT_LENIENT},
    {FAILS("P3 a device as a parent is an error", LAYERS(LAYER(CHR("a")), LAYER(F("a/b", 2))),
           IMGSTAT_EINPUT)},
    {FAILS("P3 a symlink to a file as a parent is an error",
           LAYERS(LAYER(F("t", 1), SL("l", "t")), LAYER(F("l/x", 2))), IMGSTAT_EINPUT)},
    {ROW("P1 255 symlinks in a row are followed, hops counted per entry",
         LAYERS(chain255, LAYER(F("l1/x", 1), F("l1/y", 2))), 2, 3, "symlinks=255 dirs=1")},
    {FAILS("P1 the 256th symlink is ELOOP", LAYERS(chain256, LAYER(F("l1/x", 1))), IMGSTAT_EINPUT)},
    {ROW("P1 a symlink to . resolves against its own directory",
         LAYERS(LAYER(SL("a", ".")), LAYER(F("a/x", 1)), LAYER(WH(".wh.x"))), 0, 0,
         "dirs=0 symlinks=1")},
    {ROW("P1 relative target resolved from the link's directory",
         LAYERS(LAYER(D("usr/lib/"), SL("usr/lib64", "lib")), LAYER(F("usr/lib64/y", 3)),
                LAYER(WH("usr/lib/.wh.y"))),
         0, 0, "dirs=2 symlinks=1")},
    {ROW("EC32 absolute symlink parent resolved inside the image",
         LAYERS(LAYER(F("etc/x", 1), SL("l", "/etc")), LAYER(WH("l/.wh.x"))), 0, 0,
         "dirs=1 symlinks=1")},
    {ROW("EC32 .. in a symlink target stops at the root",
         LAYERS(LAYER(F("etc/x", 1), SL("l", "../../../etc")), LAYER(WH("l/.wh.x"))), 0, 0,
         "dirs=1 symlinks=1")},
    {ROW("EC32 absolute dangling parent creates inside the image",
         LAYERS(LAYER(SL("l", "/opt/app")), LAYER(F("l/x", 1))), 1, 1, "dirs=2 symlinks=1")},
    {ROW("P1 the final component is never followed: an entry replaces the link",
         LAYERS(LAYER(D("real/"), F("real/k", 1), SL("ln", "real")), LAYER(F("ln", 2))), 2, 3,
         "dirs=1 symlinks=0")},
    {ROW("E1 directory over directory keeps the children",
         LAYERS(LAYER(F("d/x", 1)), LAYER(D("d/"))), 1, 1, "dirs=1")},

    /* ---- duplicates and layer order (EC33-EC35) */
    {ROW("EC33 duplicate entries: last wins", LAYERS(LAYER(F("a", 1), F("a", 9))), 1, 9, NULL)},
    {ROW("EC34 directory then file: last wins", LAYERS(LAYER(D("a/"), F("a", 3))), 1, 3, "dirs=0")},
    {ROW("EC34 file then directory: last wins", LAYERS(LAYER(F("a", 3), D("a/"))), 0, 0, "dirs=1")},
    {ROW("E2 same-layer replacement takes the entry's own children",
         LAYERS(LAYER(D("a/"), F("a/x", 1), F("a", 3))), 1, 3, "dirs=0")},
    {ROW("EC35 the same layer applied twice", LAYERS(ec35_l0, LAYER(WH(".wh.empty")), ec35_l0), 1,
         0, NULL)},
    {ROW("W2 the touched set is per layer",
         LAYERS(LAYER(F("x", 1)), LAYER(F("y", 2)), LAYER(WH(".wh.y"))), 1, 1, NULL)},
    {ROW("an empty layer changes nothing", LAYERS(LAYER(F("a", 1)), EMPTY_LAYER), 1, 1, NULL)},

    /* ---- hard links (EC37-EC45), counted per path and once per inode (F2, F3) */
    {ROW("EC37 hard link in the same layer", LAYERS(LAYER(F("a", 5), HL("b", "a"))), 2, 5,
         "per_path=10 hardlinks=1")},
    {ROW("EC38 hard link to a lower layer's file", LAYERS(LAYER(F("a", 5)), LAYER(HL("b", "a"))), 2,
         5, "per_path=10 hardlinks=1")},
    {ROW("EC39 link survives the target's whiteout",
         LAYERS(LAYER(F("a", 5), HL("b", "a")), LAYER(WH(".wh.a"))), 1, 5,
         "per_path=5 hardlinks=0")},
    {ROW("EC40 links keep the old inode when the target is overwritten",
         LAYERS(LAYER(F("t2", 4)), LAYER(HL("t1", "t2"), HL("t3", "t2")), LAYER(F("t1", 3))), 3, 7,
         "per_path=11 hardlinks=1")},
    {FAILS("EC41 forward hard-link target is an error", LAYERS(LAYER(HL("b", "a"), F("a", 1))),
           IMGSTAT_EINPUT)},
    {ROW("EC41 lenient: forward target warns, link skipped", LAYERS(LAYER(HL("b", "a"), F("a", 1))),
         1, 1, "warnings=1 hardlinks=0"),
     .flags = IMGSTAT_LENIENT},
    {FAILS("EC41 hard link to a directory is an error", LAYERS(LAYER(D("d/"), HL("h", "d"))),
           IMGSTAT_EINPUT)},
    {ROW("EC41 lenient: hard link to a directory warns", LAYERS(LAYER(D("d/"), HL("h", "d"))), 0, 0,
         "warnings=1 dirs=1"),
     .flags = IMGSTAT_LENIENT},
    {FAILS("EC41 target removed by an earlier whiteout is an error",
           LAYERS(LAYER(F("a", 1)), LAYER(WH(".wh.a"), HL("b", "a"))), IMGSTAT_EINPUT)},
    {ROW("EC42 ./ linkname is relative to the root",
         LAYERS(LAYER(F("d/a", 1), HL("d/sub/b", "./d/a"))), 2, 1,
         "per_path=2 hardlinks=1 dirs=2")},
    {ROW("EC42 / linkname is relative to the root",
         LAYERS(LAYER(F("d/a", 1), HL("d/sub/b", "/d/a"))), 2, 1, "per_path=2 hardlinks=1 dirs=2")},
    {ROW("EC42 linkname is not relative to the link's directory",
         LAYERS(LAYER(F("d/a", 1), F("a", 7), HL("d/sub/b", "a"))), 3, 8,
         "per_path=15 hardlinks=1 dirs=2")},
    {ROW("EC43 chained hard links",
         LAYERS(LAYER(F("end", 2), HL("l1", "end"), HL("l2", "l1"), HL("l3", "l2"))), 4, 2,
         "per_path=8 hardlinks=3")},
    {ROW("EC44 hard link to a symlink is a symlink", LAYERS(LAYER(SL("s", "x"), HL("h", "s"))), 0,
         0, "symlinks=2 hardlinks=0")},
    {ROW("EC45 hard link with implicit parents",
         LAYERS(LAYER(F("bin/app", 1), HL("r/_main/app", "bin/app"))), 2, 1,
         "per_path=2 hardlinks=1 dirs=3")},
    {ROW("E3 hard-link name resolved through a symlinked parent",
         LAYERS(LAYER(F("usr/lib/a", 6), SL("lib", "usr/lib"), HL("b", "lib/a"))), 2, 6,
         "per_path=12 hardlinks=1")},
    {ROW("E3 hard link replaces an existing name",
         LAYERS(LAYER(F("a", 5), F("b", 7)), LAYER(HL("b", "a"))), 2, 5,
         "per_path=10 hardlinks=1")},
    {ROW("E3 a hard link replaces a same-layer directory",
         LAYERS(LAYER(F("a", 5)), LAYER(D("b/"), F("b/x", 1), HL("b", "a"))), 2, 5,
         "per_path=10 hardlinks=1 dirs=0")},
    {ROW("E3 hard link to a device is a second device name", LAYERS(LAYER(CHR("c"), HL("h", "c"))),
         0, 0, "devices=2 hardlinks=0")},
    {FAILS("E4 hard link into the subtree it replaces is an error",
           LAYERS(LAYER(D("d/"), F("d/x", 5)), LAYER(HL("d", "d/x"))), IMGSTAT_EINPUT)},
    {ROW("W3 a same-layer link keeps an inode the opaque marker hides",
         LAYERS(LAYER(F("d/x", 5)), LAYER(HL("d/y", "d/x"), WH("d/.wh..wh..opq"))), 1, 5,
         "per_path=5 hardlinks=0 dirs=1")},
    {FAILS("W3 a link to a name the opaque marker hid is an error",
           LAYERS(LAYER(F("d/x", 5)), LAYER(WH("d/.wh..wh..opq"), HL("d/y", "d/x"))),
           IMGSTAT_EINPUT)},
    {ROW("E3 link bound at link time, target replaced in the same layer",
         LAYERS(LAYER(F("a", 5), HL("b", "a"), F("a", 3))), 2, 8, "per_path=8 hardlinks=0")},
    {ROW("C2 one of two names replaced: both inodes count",
         LAYERS(LAYER(F("a", 5), HL("b", "a")), LAYER(F("a", 3))), 2, 8, "per_path=8 hardlinks=0")},
    {ROW("C2 bytes stay while a name is left",
         LAYERS(LAYER(F("a", 5), HL("b", "a"), HL("c", "a")), LAYER(WH(".wh.a")),
                LAYER(WH(".wh.b"))),
         1, 5, "per_path=5 hardlinks=0")},
    {ROW("C2 bytes go with the last name",
         LAYERS(LAYER(F("a", 5), HL("b", "a"), HL("c", "a")), LAYER(WH(".wh.a")),
                LAYER(WH(".wh.b")), LAYER(WH(".wh.c"))),
         0, 0, "per_path=0 hardlinks=0")},
    {ROW("C2 relinking a name to its own inode",
         LAYERS(LAYER(F("a", 5), HL("b", "a")), LAYER(HL("b", "a"))), 2, 5,
         "per_path=10 hardlinks=1")},
    {ROW("C2 a name outside a removed directory keeps the inode",
         LAYERS(LAYER(F("d/a", 5), HL("top", "d/a")), LAYER(WH(".wh.d"))), 1, 5,
         "per_path=5 dirs=0")},

    /* ---- contents and sizes (EC46-EC49), F4 what counts */
    {ROW("EC46 sparse file: logical size", LAYERS(LAYER(F("sparse", 10485760))), 1, 10485760, NULL),
     .modes = M_DIRECT | M_PAX},
    {ROW("EC47 char device 0:0 hides the lower file", LAYERS(LAYER(F("a", 1)), LAYER(CHR("a"))), 0,
         0, "devices=1")},
    {ROW("EC47 block device hides the lower file", LAYERS(LAYER(F("a", 1)), LAYER(BLK("a"))), 0, 0,
         "devices=1")},
    {ROW("EC47 fifo hides a lower directory", LAYERS(LAYER(D("d/"), F("d/x", 1)), LAYER(FIFO("d"))),
         0, 0, "fifos=1 dirs=0")},
    {ROW("C3 only regular files count",
         LAYERS(LAYER(D("dev/"), CHR("dev/null"), BLK("dev/sda"), FIFO("run/p"), SL("s", "a"),
                      F("a", 1))),
         1, 1, "dirs=2 devices=2 fifos=1 symlinks=1")},
    {ROW("C3 a socket counts with fifos", LAYERS(LAYER(SOCK("s"))), 0, 0, "fifos=1"),
     .modes = M_DIRECT},
    {ROW("EC48 zero-length file", LAYERS(LAYER(F("e", 0))), 1, 0, "per_path=0")},
    {ROW("EC49 9e9-byte file", LAYERS(LAYER(F("big", UINT64_C(9000000000)))), 1,
         UINT64_C(9000000000), "per_path=9000000000"),
     .modes = M_DIRECT | M_PAX},
    {ROW("EC49 above 2^53: exact sums",
         LAYERS(LAYER(F("huge", P2_53 + 1), F("one", 1), HL("h", "huge"))), 3, P2_53 + 2,
         "per_path=18014398509481987 hardlinks=1"),
     .modes = M_DIRECT | M_PAX},
    {ROW("EC49 above 2^53: exact after removals",
         LAYERS(LAYER(F("huge", P2_53 + 1), F("one", 1), HL("h", "huge")), LAYER(WH(".wh.huge"))),
         2, P2_53 + 2, "per_path=9007199254740994 hardlinks=0"),
     .modes = M_DIRECT | M_PAX},
    {ROW("EC49 above 2^53: back to 1 byte",
         LAYERS(LAYER(F("huge", P2_53 + 1), F("one", 1), HL("h", "huge")), LAYER(WH(".wh.huge")),
                LAYER(WH(".wh.h"))),
         1, 1, "per_path=1"),
     .modes = M_DIRECT | M_PAX},
    {ROW("EC49 two sizes near 2^60", LAYERS(LAYER(F("p", P2_60), F("q", P2_60 + 1))), 2,
         2 * P2_60 + 1, "per_path=2305843009213693953"),
     .modes = M_DIRECT | M_PAX},

    {ROW("many names: whiteouts after growth", LAYERS(many_l0, many_l1), 2500, 2500,
         "per_path=2500 dirs=1")},
    {ROW("many names: freed slots reused", LAYERS(many_l0, many_l1, many_l2), 3750, 5000,
         "per_path=5000 dirs=1")},

    /* ---- P4/P5: names resolve as filepath-securejoin resolves them (issue 8.4).  Each row
     * puts an entry through the link, then hides it by its real name in the next layer (or
     * checks dirs=): landing anywhere else leaves a file or a directory over. */
    {ROW("P4 l -> missing/../real: an entry lands in real, nothing else is made",
         LAYERS(LAYER(D("real/"), SL("l", "missing/../real")), LAYER(F("l/x", 1)),
                LAYER(WH("real/.wh.x"))),
         0, 0, "dirs=1 symlinks=1")},
    {ROW("P4 l -> file/../real: a file on the way is a mere name",
         LAYERS(LAYER(F("file", 2), D("real/"), SL("l", "file/../real")), LAYER(F("l/x", 3)),
                LAYER(WH("real/.wh.x"))),
         1, 2, "dirs=1 symlinks=1")},
    {ROW("P4 a whiteout through l -> missing/../real",
         LAYERS(LAYER(F("real/x", 1), F("real/y", 2), SL("l", "missing/../real")),
                LAYER(WH("l/.wh.x"))),
         1, 2, "dirs=1")},
    {ROW("P4 an opaque marker through l -> file/../real",
         LAYERS(LAYER(F("file", 4), F("real/x", 1), F("real/y", 2), SL("l", "file/../real")),
                LAYER(WH("l/.wh..wh..opq"))),
         1, 4, "dirs=1")},
    {ROW("P4 a hard link through l -> missing/../real",
         LAYERS(LAYER(F("real/x", 5), SL("l", "missing/../real")), LAYER(HL("h", "l/x"))), 2, 5,
         "per_path=10 hardlinks=1")},
    {ROW(
        "P4 a hard link through l -> file/../real",
        LAYERS(LAYER(F("file", 1), F("real/x", 5), SL("l", "file/../real")), LAYER(HL("h", "l/x"))),
        3, 6, "per_path=11 hardlinks=1")},
    {ROW("P4 .. takes back several lexical names",
         LAYERS(LAYER(D("real/"), SL("l", "m/n/o/../../../real")), LAYER(F("l/x", 1)),
                LAYER(WH("real/.wh.x"))),
         0, 0, "dirs=1")},
    {ROW("P4 a name under a file is lexical too",
         LAYERS(LAYER(F("file", 1), D("real/"), SL("l", "file/a/../../real")), LAYER(F("l/x", 2)),
                LAYER(WH("real/.wh.x"))),
         1, 1, "dirs=1")},
    {ROW("P4 a link after .. out of a missing name is followed",
         LAYERS(LAYER(D("real/"), SL("s", "real"), SL("l", "missing/../s")), LAYER(F("l/x", 1)),
                LAYER(WH("real/.wh.x"))),
         0, 0, "dirs=1 symlinks=2")},
    {ROW("P4 .. at the root inside a target stays at the root",
         LAYERS(LAYER(D("real/"), SL("l", "missing/../../real")), LAYER(F("l/x", 1)),
                LAYER(WH("real/.wh.x"))),
         0, 0, "dirs=1")},
    {ROW("P5 a dangling target's directories are made once the name is resolved",
         LAYERS(LAYER(SL("l", "missing/sub")), LAYER(F("l/x", 1)), LAYER(WH("missing/sub/.wh.x"))),
         0, 0, "dirs=2 symlinks=1")},
    {FAILS("P3 a target through a file is an error when something is made there",
           LAYERS(LAYER(F("file", 1), SL("l", "file/sub")), LAYER(F("l/x", 2))), IMGSTAT_EINPUT)},
    {ROW("P3 lenient: a target through a file warns, entry skipped",
         LAYERS(LAYER(F("file", 1), SL("l", "file/sub")), LAYER(F("l/x", 2))), 1, 1,
         "warnings=1 dirs=0"),
     .flags = IMGSTAT_LENIENT},
    {ROW("W5 a whiteout through a link into a file hides nothing",
         LAYERS(LAYER(F("file", 1), F("x", 2), SL("l", "file/sub")), LAYER(WH("l/.wh.x"))), 2, 3,
         NULL)},
    {ROW("W5 an opaque marker through a link to a file hides nothing",
         LAYERS(LAYER(F("file", 1), SL("l", "file")), LAYER(WH("l/.wh..wh..opq"))), 1, 1, NULL)},
    {FAILS("E4 a hard link through a link to a file names nothing",
           LAYERS(LAYER(F("file", 1), SL("l", "file")), LAYER(HL("h", "l/x"))), IMGSTAT_EINPUT)},

    /* ---- P4: what a cached resolution must notice (a link's memo, the last parent) */
    {ROW("P4 a new symlink where a target went lexically moves later entries",
         LAYERS(LAYER(D("real/"), D("other/deep/"), SL("l", "m/../real"), F("l/a", 1),
                      SL("m", "other/deep"), F("l/b", 2)),
                LAYER(WH("other/real/.wh.b"))),
         1, 1, "dirs=4 symlinks=2")},
    {ROW("P1 a replaced link moves later entries",
         LAYERS(LAYER(D("real/"), D("other/"), SL("s", "real"), SL("l", "s/x"), F("l/a", 1),
                      SL("s", "other"), F("l/b", 2)),
                LAYER(WH("other/x/.wh.b"))),
         1, 1, "dirs=4 symlinks=2")},
    {ROW("P4 a target that ended lexically leads in once its name is a directory",
         LAYERS(LAYER(SL("l", "m")), LAYER(WH("l/.wh.x"), F("m/x", 1)), LAYER(WH("l/.wh.x"))), 0, 0,
         "dirs=1 symlinks=1")},
    {ROW("P4 ... and once its file is replaced by a directory",
         LAYERS(LAYER(F("m", 1), SL("l", "m")), LAYER(WH("l/.wh.x"), D("m/"), F("m/x", 2)),
                LAYER(WH("l/.wh.x"))),
         0, 0, "dirs=1 symlinks=1")},

    /* ---- W2/W3 repeated: a second whiteout of the same place has nothing to walk */
    {ROW("W3 a repeated opaque marker keeps what came between",
         LAYERS(LAYER(F("d/a", 1)), LAYER(D("d/"), F("d/b", 2), WH("d/.wh..wh..opq"),
                                          WH("d/.wh..wh..opq"), F("d/c", 4), WH("d/.wh..wh..opq"))),
         2, 6, "dirs=1")},
    {ROW("P5 lenient: a skipped hard link leaves no directory",
         LAYERS(LAYER(HL("a/b/h", "missing"), F("c/x", 1))), 1, 1, "dirs=1 warnings=1"),
     .flags = IMGSTAT_LENIENT},
    {ROW("W3 lenient: a skipped link leaves nothing for a later opaque marker",
         LAYERS(LAYER(F("d/lower", 1)),
                LAYER(WH("d/.wh..wh..opq"), HL("d/new/h", "missing"), WH("d/.wh..wh..opq"))),
         0, 0, "dirs=1 warnings=1"),
     .flags = IMGSTAT_LENIENT},
    {ROW("W3 one opaque marker 5000 times over 2000 files of its layer", LAYERS(shape_l0, opq_l1),
         2000, 2000, "dirs=2")},
    {ROW("W2 a whiteout of this layer's directory 5000 times", LAYERS(shape_l0, whd_l1), 2000, 2000,
         "dirs=2 l.removed=1 l.bytes_removed=1")},
    {ROW("P1 255 links through a remembered chain are followed", LAYERS(hop_l0_55, hop_l1), 2, 3,
         "dirs=1 symlinks=255")},
    {FAILS("P1 256 links through a remembered chain are ELOOP", LAYERS(hop_l0_56, hop_l1),
           IMGSTAT_EINPUT)},
    {ROW("P1 2000 entries alternating between two chains of 250 links", LAYERS(chain_l0, chain_l1),
         2000, 2000, "dirs=2 symlinks=500")},

    /* ---- W6 AUFS link targets */
    {ROW("W6 the last AUFS target of a name wins",
         LAYERS(LAYER(D(".wh..wh.plnk/"), F(".wh..wh.plnk/1.1", 5), F(".wh..wh.plnk/1.1", 7),
                      HL("bin/sh", ".wh..wh.plnk/1.1"))),
         1, 7, "dirs=1")},
    {FAILS("W6 AUFS targets are forgotten at the end of their layer",
           LAYERS(LAYER(D(".wh..wh.plnk/"), F(".wh..wh.plnk/1.1", 5)),
                  LAYER(HL("bin/sh", ".wh..wh.plnk/1.1"))),
           IMGSTAT_EINPUT)},
    {ROW("W6 5000 hard links into 5000 AUFS targets", LAYERS(plnk_l0), 5000, 5000, "dirs=1")},
    /* the target's inode is freed with its last name, in the layer; the end of the layer must
     * not free it again (a twice-freed slot gave a, b and c one inode of 3 B: hiding a then
     * took 3 B away, not 1).  L2 .wh.a -> b 2 + c 3: 2 files, 5 B. */
    {ROW("W6 an AUFS target whose only name is replaced in its layer is freed once",
         LAYERS(LAYER(D(".wh..wh.plnk/"), F(".wh..wh.plnk/1.1", 10),
                      HL("bin/x", ".wh..wh.plnk/1.1"), D("bin/x/")),
                LAYER(F("a", 1), F("b", 2), F("c", 3)), LAYER(WH(".wh.a"))),
         2, 5, "dirs=2 per_path=5")},

    /* ---- C4: figures are exact; one beyond 2^63-1 reads IMGSTAT_TOO_BIG (18446744073709551615) */
    {ROW("C4 four 2^62-byte files do not fit",
         LAYERS(LAYER(F("a", P2_62), F("b", P2_62), F("c", P2_62), F("d", P2_62))), 4, BIG,
         "per_path=18446744073709551615 layer_bytes=18446744073709551615 l.added=4 "
         "l.bytes_added=18446744073709551615"),
     .modes = M_DIRECT | M_PAX},
    {ROW("C4 2^63-1 bytes in all fit exactly", LAYERS(LAYER(F("a", P2_62), F("b", P2_62 - 1))), 2,
         P2_63 - 1, "per_path=9223372036854775807 layer_bytes=9223372036854775807"),
     .modes = M_DIRECT | M_PAX},
    {ROW("C4 one byte more does not", LAYERS(LAYER(F("a", P2_62), F("b", P2_62))), 2, BIG,
         "per_path=18446744073709551615"),
     .modes = M_DIRECT | M_PAX},
    {ROW("C4 beyond the limit and back is exact",
         LAYERS(LAYER(F("a", P2_62), F("b", P2_62), F("c", P2_62), F("d", P2_62)),
                LAYER(WH(".wh.b"), WH(".wh.c"), WH(".wh.d"))),
         1, P2_62, "per_path=4611686018427387904 l.removed=3 l.bytes_removed=18446744073709551615"),
     .modes = M_DIRECT | M_PAX},
    {ROW("C4 hard-link names: per path does not fit, once per inode does",
         LAYERS(LAYER(F("a", P2_62), HL("b", "a"), HL("c", "a"), HL("d", "a"))), 4, P2_62,
         "per_path=18446744073709551615 hardlinks=3"),
     .modes = M_DIRECT | M_PAX},
    {ROW("C4 the layers' bytes do not fit though the view does",
         LAYERS(LAYER(F("a", P2_62)), LAYER(F("a", P2_62)), LAYER(F("a", P2_62))), 1, P2_62,
         "layer_bytes=18446744073709551615 l.replaced=1 l.bytes_replaced=4611686018427387904"),
     .modes = M_DIRECT | M_PAX},
    {FAILS("C4 a size over 2^63-1 is an error", LAYERS(LAYER(F("x", P2_63))), IMGSTAT_ELIMIT),
     .modes = M_DIRECT},

    /* ---- C5: a layer's effect (the last layer's figures) */
    {ROW("C5 a file over a file is replaced, not removed",
         LAYERS(LAYER(F("a", 5), F("b", 1)), LAYER(F("a", 7))), 2, 8,
         "l.replaced=1 l.bytes_replaced=7 l.removed=0 l.bytes_removed=0 l.added=0")},
    {ROW("C5 a symlink over a file removes it", LAYERS(LAYER(F("a", 5)), LAYER(SL("a", "x"))), 0, 0,
         "symlinks=1 l.removed=1 l.bytes_removed=5 l.added=0 l.replaced=0")},
    {ROW("C5 a file over a directory removes the subtree and adds the file",
         LAYERS(LAYER(F("d/x", 3), F("d/y", 4)), LAYER(F("d", 9))), 1, 9,
         "dirs=0 l.removed=3 l.bytes_removed=7 l.added=1 l.bytes_added=9 l.replaced=0")},
    {ROW("C5 whiteouts and opaque markers count what they hide",
         LAYERS(LAYER(F("d/x", 3), F("d/y", 4), F("z", 1)),
                LAYER(WH("d/.wh..wh..opq"), WH(".wh.z"))),
         0, 0, "dirs=1 l.removed=3 l.bytes_removed=8")},
    {ROW("C5 a hard link over a file is a replacement",
         LAYERS(LAYER(F("a", 5), F("b", 1)), LAYER(HL("b", "a"))), 2, 5,
         "per_path=10 hardlinks=1 l.replaced=1 l.bytes_replaced=5 l.removed=0")},
    {ROW("C5 lenient: a skipped link still removed what was there",
         LAYERS(LAYER(F("b", 1)), LAYER(HL("b", "missing"))), 0, 0,
         "warnings=1 l.removed=1 l.bytes_removed=1 l.replaced=0"),
     .flags = IMGSTAT_LENIENT},
    {ROW("C5 the same file twice in a layer: added, then replaced",
         LAYERS(LAYER(F("a", 1), F("a", 2))), 1, 2,
         "l.added=1 l.bytes_added=1 l.replaced=1 l.bytes_replaced=2 l.removed=0")},

    /* ---- EC63 */
    {ROW("EC63 no layers", NO_LAYERS, 0, 0, "dirs=0 symlinks=0")},
};

/* ------------------------------------------------------------------ expectations */

struct want {
    const char *key;
    size_t off;
    bool layer; /* a figure of the last layer's tree_layer_stats, not of the totals */
};

static const struct want optional[] = {
    {"dirs", offsetof(struct imgstat_totals, dirs), false},
    {"symlinks", offsetof(struct imgstat_totals, symlinks), false},
    {"per_path", offsetof(struct imgstat_totals, bytes_per_path), false},
    {"hardlinks", offsetof(struct imgstat_totals, hardlinks), false},
    {"devices", offsetof(struct imgstat_totals, devices), false},
    {"fifos", offsetof(struct imgstat_totals, fifos), false},
    {"warnings", offsetof(struct imgstat_totals, warnings), false},
    {"layer_bytes", offsetof(struct imgstat_totals, layer_bytes), false},
    {"l.added", offsetof(struct tree_layer_stats, files_added), true},
    {"l.bytes_added", offsetof(struct tree_layer_stats, bytes_added), true},
    {"l.replaced", offsetof(struct tree_layer_stats, files_replaced), true},
    {"l.bytes_replaced", offsetof(struct tree_layer_stats, bytes_replaced), true},
    {"l.removed", offsetof(struct tree_layer_stats, paths_removed), true},
    {"l.bytes_removed", offsetof(struct tree_layer_stats, bytes_removed), true},
};

static uint64_t field(const void *t, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)t + off, sizeof v);
    return v;
}

/* Appends "; " + text to the row's failure line. */
static void note(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void note(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 3 >= cap)
        return;
    if (n)
        n += (size_t)snprintf(buf + n, cap - n, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static void check(const char *mode, const char *key, uint64_t want, uint64_t got, char *msg,
                  size_t cap)
{
    if (want != got)
        note(msg, cap, "[%s] %s want %" PRIu64 " got %" PRIu64, mode, key, want, got);
}

static void count_input(const struct row *r, uint64_t *layers, uint64_t *entries)
{
    *layers = *entries = 0;
    for (const struct ent *const *l = r->layers; *l; l++, (*layers)++)
        for (const struct ent *e = *l; e->type; e++)
            (*entries)++;
}

/* Compare the tree's state after a run with the row; the run returned rc with e. */
static void verify(const struct row *r, const char *mode, int rc, const struct err *e,
                   const struct tree *t, char *msg, size_t cap)
{
    if (r->fails) {
        if (rc >= 0)
            note(msg, cap, "[%s] want an error, got %d", mode, rc);
        else if (r->code && rc != r->code)
            note(msg, cap, "[%s] want code %d, got %d (%s)", mode, r->code, rc, e->msg);
        else if (!e->msg[0])
            note(msg, cap, "[%s] error %d without a message", mode, rc);
        return;
    }
    if (rc != IMGSTAT_OK) {
        note(msg, cap, "[%s] want success, got %d (%s)", mode, rc, e->msg);
        return;
    }
    struct imgstat_totals got;
    tree_totals(t, &got);
    check(mode, "files", r->files, got.files, msg, cap);
    check(mode, "bytes", r->bytes, got.bytes, msg, cap);
    uint64_t layers, entries, warnings = 0;
    count_input(r, &layers, &entries);
    check(mode, "layers", layers, got.layers, msg, cap);
    check(mode, "entries", entries, got.entries, msg, cap);
    /* optional keys; warnings default to 0 */
    const char *p = r->more ? r->more : "";
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *eq = strchr(p, '=');
        size_t klen = eq ? (size_t)(eq - p) : 0;
        const struct want *w = NULL;
        for (size_t i = 0; eq && i < sizeof optional / sizeof *optional; i++)
            if (strlen(optional[i].key) == klen && memcmp(optional[i].key, p, klen) == 0)
                w = &optional[i];
        char *end;
        uint64_t v = w ? strtoull(eq + 1, &end, 10) : 0;
        if (!w || end == eq + 1 || (*end && *end != ' ')) {
            note(msg, cap, "bad expectation \"%s\"", r->more);
            return;
        }
        if (strcmp(w->key, "warnings") == 0) {
            warnings = v;
        } else {
            check(mode, w->key, v,
                  field(w->layer ? (const void *)tree_layer_stats(t) : &got, w->off), msg, cap);
        }
        p = end;
    }
    check(mode, "warnings", warnings, got.warnings, msg, cap);
    const char *first = tree_first_warning(t);
    if (warnings && (!first || !*first))
        note(msg, cap, "[%s] warnings counted but no warning text", mode);
    if (!warnings && first)
        note(msg, cap, "[%s] unexpected warning \"%s\"", mode, first);
}

/* ------------------------------------------------------------------ the two ways in */

static int run_direct(const struct row *r, struct tree *t, struct err *e)
{
    return ents_feed(t, r->layers, e);
}

/* Sizes above this are written as pax sparse files holding 3 data bytes (EC46, EC49). */
#define SPARSE_FROM (64u * 1024)
#define TAR_CAP (16u * 1024 * 1024)

static unsigned char tarbuf[TAR_CAP];
static const char zeros[SPARSE_FROM];

static int set_format(struct archive *a, enum mode m)
{
    switch (m) {
    case M_PAX: return archive_write_set_format_pax_restricted(a);
    case M_GNU: return archive_write_set_format_gnutar(a);
    case M_USTAR: return archive_write_set_format_ustar(a);
    default: return ARCHIVE_FATAL;
    }
}

/* One entry of a fixture layer; false with why set when libarchive refuses it. */
static bool write_ent(struct archive *a, const struct ent *x, char *why, size_t cap)
{
    struct archive_entry *ae = archive_entry_new();
    archive_entry_copy_pathname(ae, x->path);
    archive_entry_set_mtime(ae, 0, 0);
    uint64_t data = 0;
    switch (x->type) {
    case ENT_REG:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, (la_int64_t)x->size);
        data = x->size;
        if (x->size > SPARSE_FROM) {
            archive_entry_sparse_add_entry(ae, (la_int64_t)(x->size - 3), 3);
            data = 3;
        }
        break;
    case ENT_DIR:
        archive_entry_set_filetype(ae, AE_IFDIR);
        archive_entry_set_perm(ae, 0755);
        break;
    case ENT_SYMLINK:
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_perm(ae, 0777);
        archive_entry_copy_symlink(ae, x->link);
        break;
    case ENT_HARDLINK:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_copy_hardlink(ae, x->link);
        archive_entry_set_size(ae, 0);
        break;
    case ENT_CHR:
    case ENT_BLK:
        archive_entry_set_filetype(ae, x->type == ENT_CHR ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_perm(ae, 0600);
        archive_entry_set_rdevmajor(ae, 0);
        archive_entry_set_rdevminor(ae, 0);
        break;
    case ENT_FIFO:
        archive_entry_set_filetype(ae, AE_IFIFO);
        archive_entry_set_perm(ae, 0644);
        break;
    default:
        snprintf(why, cap, "type %u cannot be written to a tar", x->type);
        archive_entry_free(ae);
        return false;
    }
    bool ok = archive_write_header(a, ae) >= ARCHIVE_WARN;
    while (ok && data > 0) {
        size_t n = data < sizeof zeros ? (size_t)data : sizeof zeros;
        ok = archive_write_data(a, zeros, n) == (la_ssize_t)n;
        data -= n;
    }
    ok = ok && archive_write_finish_entry(a) >= ARCHIVE_WARN;
    if (!ok)
        snprintf(why, cap, "writing '%.60s': %s", x->path,
                 archive_error_string(a) ? archive_error_string(a) : "?");
    archive_entry_free(ae);
    return ok;
}

/* Write one layer as a tar into tarbuf; false with why set on failure. */
static bool write_layer(const struct ent *layer, enum mode m, bool utf8, size_t *len, char *why,
                        size_t cap)
{
    if (utf8 && !setlocale(LC_CTYPE, "C.UTF-8")) {
        snprintf(why, cap, "no C.UTF-8 locale");
        return false;
    }
    struct archive *a = archive_write_new();
    bool ok = a && set_format(a, m) == ARCHIVE_OK &&
              archive_write_add_filter_none(a) == ARCHIVE_OK &&
              archive_write_open_memory(a, tarbuf, sizeof tarbuf, len) == ARCHIVE_OK;
    if (!ok)
        snprintf(why, cap, "opening the tar writer: %s",
                 a && archive_error_string(a) ? archive_error_string(a) : "?");
    for (const struct ent *x = layer; ok && x->type; x++)
        ok = write_ent(a, x, why, cap);
    if (a && archive_write_close(a) != ARCHIVE_OK && ok) {
        snprintf(why, cap, "closing the tar: %s", archive_error_string(a));
        ok = false;
    }
    archive_write_free(a);
    if (utf8)
        setlocale(LC_CTYPE, "C"); /* read back under C, as EC4 asks */
    return ok;
}

#define FIXTURE_FAILED 1

static int run_tar(const struct row *r, enum mode m, struct tree *t, struct err *e, char *why,
                   size_t cap)
{
    for (const struct ent *const *l = r->layers; *l; l++) {
        size_t len = 0;
        if (!write_layer(*l, m, r->utf8, &len, why, cap))
            return FIXTURE_FAILED;
        tree_begin_layer(t);
        int rc = src_walk_memory(NULL, tarbuf, len, NULL, tree_apply, t, NULL, e);
        if (rc != IMGSTAT_OK)
            return rc;
    }
    return IMGSTAT_OK;
}

/* ------------------------------------------------------------------ cached = plain */

/* Random layers over a few names, links among them (targets with "..", missing names,
 * files on the way, absolute ones), whiteouts and opaque markers, applied to a tree as the
 * library runs it (every resolution also checked afresh: TREE_SELFCHECK) and to one with no
 * cache or shortcut (TREE_PLAIN).  After every entry both must agree: the same result code,
 * then the same totals and layer figures, and at the end the same file list. */
#define RND_TRIALS 2000
#define RND_LAYERS 4
#define RND_ENTRIES 24

static uint64_t rnd_state;

static uint32_t rnd(uint32_t n)
{
    rnd_state ^= rnd_state >> 12; /* xorshift64* */
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return (uint32_t)((rnd_state * UINT64_C(2685821657736338717)) >> 33) % n;
}

static const char *const rnd_segs[] = {"a", "b", "c", "d"};
static const char *const rnd_targets[] = {
    "a", "b",           "a/b", "../a", "/c",     "missing/../a",    "a/../../b", "c/x/..",   ".",
    "",  "b/c/../../a", "zz",  "d/..", "/a/b/c", "a/missing/../..", "..",        "c/../d/b", "/"};

static void rnd_path(char *out, size_t cap, int last_wh)
{
    size_t n = 0;
    int depth = 1 + (int)rnd(3);
    for (int i = 0; i < depth; i++) {
        const char *seg = rnd_segs[rnd(4)];
        if (i == depth - 1 && last_wh == 1)
            n += (size_t)snprintf(out + n, cap - n, "%s.wh.%s", i ? "/" : "", seg);
        else if (i == depth - 1 && last_wh == 2)
            n += (size_t)snprintf(out + n, cap - n, "%s.wh..wh..opq", i ? "/" : "");
        else
            n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "/" : "", seg);
    }
}

static struct layer_entry rnd_entry(char *path, char *link, size_t cap)
{
    static const uint64_t sizes[] = {0, 1, 7, 1000, P2_62};
    uint32_t k = rnd(20);
    struct layer_entry le = {.path = path, .type = ENT_REG};
    rnd_path(path, cap, k < 3 ? 1 : k < 4 ? 2 : 0);
    if (k >= 4 && k < 8) {
        le.type = ENT_DIR;
    } else if (k >= 8 && k < 13) {
        le.type = ENT_SYMLINK;
        snprintf(link, cap, "%s", rnd_targets[rnd(sizeof rnd_targets / sizeof *rnd_targets)]);
        le.link = link;
    } else if (k >= 13 && k < 15) {
        le.type = ENT_HARDLINK;
        rnd_path(link, cap, 0);
        le.link = link;
    } else if (k == 15) {
        le.type = ENT_CHR;
    } else {
        le.size = sizes[rnd(5)];
    }
    le.path_len = strlen(path);
    le.link_len = le.link ? strlen(le.link) : 0;
    return le;
}

struct listing {
    char buf[8192];
    size_t len;
};

static int list_add(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct listing *l = ctx;
    int n = snprintf(l->buf + l->len, sizeof l->buf - l->len, "%.*s %" PRIu64 "\n", (int)len, path,
                     size);
    if (n > 0 && (size_t)n < sizeof l->buf - l->len)
        l->len += (size_t)n;
    return 0;
}

/* The first difference between the two trees, or "" (msg). */
static void rnd_compare(struct tree *a, struct tree *b, char *msg, size_t cap)
{
    struct imgstat_totals ta, tb;
    tree_totals(a, &ta);
    tree_totals(b, &tb);
    if (memcmp(&ta, &tb, sizeof ta) != 0)
        snprintf(msg, cap,
                 "totals differ: files %" PRIu64 "/%" PRIu64 " bytes %" PRIu64 "/%" PRIu64
                 " dirs %" PRIu64 "/%" PRIu64,
                 ta.files, tb.files, ta.bytes, tb.bytes, ta.dirs, tb.dirs);
    else if (memcmp(tree_layer_stats(a), tree_layer_stats(b), sizeof *tree_layer_stats(a)) != 0)
        snprintf(msg, cap, "layer figures differ");
}

static bool rnd_trial(uint64_t seed, char *msg, size_t cap)
{
    rnd_state = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
    unsigned flags = rnd(2) ? IMGSTAT_LENIENT : 0;
    struct tree *a = tree_new(flags), *b = tree_new(flags);
    msg[0] = '\0';
    if (!a || !b)
        snprintf(msg, cap, "tree_new failed");
    tree_set_debug(a, TREE_SELFCHECK);
    tree_set_debug(b, TREE_PLAIN);
    char path[64], link[64];
    bool done = !a || !b;
    for (int l = 0; l < RND_LAYERS && !done; l++) {
        tree_begin_layer(a);
        tree_begin_layer(b);
        for (int i = 0; i < RND_ENTRIES && !done; i++) {
            struct layer_entry le = rnd_entry(path, link, sizeof path);
            if (getenv("RND_VERBOSE") && (uint64_t)atoll(getenv("RND_VERBOSE")) == seed)
                printf(
                    /* RND_VERBOSE=SEED lists a failing trial's entries */ "L%d type %d %s -> %s\n",
                    l, le.type, le.path, le.link ? le.link : "");
            struct err ea = {0}, eb = {0};
            int ra = tree_apply(a, &le, &ea), rb = tree_apply(b, &le, &eb);
            if (ra != rb)
                snprintf(msg, cap, "layer %d entry %d '%s': code %d (%s) vs plain %d (%s)", l, i,
                         path, ra, ea.msg, rb, eb.msg);
            else
                rnd_compare(a, b, msg, cap);
            done = msg[0] || ra != IMGSTAT_OK;
        }
    }
    if (!msg[0] && a && b) {
        static struct listing la, lb;
        la.len = lb.len = 0;
        tree_files(a, list_add, &la);
        tree_files(b, list_add, &lb);
        if (la.len != lb.len || memcmp(la.buf, lb.buf, la.len) != 0)
            snprintf(msg, cap, "file lists differ");
    }
    tree_free(a);
    tree_free(b);
    return msg[0] == '\0';
}

/* ------------------------------------------------------------------ main */

/* Direct rows run three times: as the library runs, with every cached resolution checked
 * against a fresh one, and with no cache or shortcut at all (the reference). */
static const struct {
    enum mode m;
    const char *name;
    unsigned debug; /* tree_set_debug */
} modes[] = {{M_DIRECT, "direct", 0},
             {M_DIRECT, "direct+check", TREE_SELFCHECK},
             {M_DIRECT, "direct+plain", TREE_PLAIN},
             {M_PAX, "pax", 0},
             {M_GNU, "gnu", 0},
             {M_USTAR, "ustar", 0}};

static bool run_row(const struct row *r, char *msg, size_t cap)
{
    unsigned want = r->modes ? r->modes : M_DEFAULT;
    msg[0] = '\0';
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        if (!(want & modes[i].m))
            continue;
        struct tree *t = tree_new(r->flags);
        if (!t) {
            note(msg, cap, "[%s] tree_new failed", modes[i].name);
            continue;
        }
        tree_set_debug(t, modes[i].debug);
        struct err e = {0};
        char why[512] = "";
        int rc = modes[i].m == M_DIRECT ? run_direct(r, t, &e)
                                        : run_tar(r, modes[i].m, t, &e, why, sizeof why);
        if (rc == FIXTURE_FAILED)
            note(msg, cap, "[%s] fixture: %s", modes[i].name, why);
        else
            verify(r, modes[i].name, rc, &e, t, msg, cap);
        tree_free(t);
    }
    return msg[0] == '\0';
}

int main(void)
{
    fill_generated();
    int passed = 0, failed = 0;
    char msg[4096];
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        if (run_row(&rows[i], msg, sizeof msg)) {
            passed++;
        } else {
            failed++;
            printf("FAIL %s: %s\n", rows[i].name, msg);
        }
    }
    int bad = 0;
    for (uint64_t seed = 1; seed <= RND_TRIALS && bad < 3; seed++) {
        if (!rnd_trial(seed, msg, sizeof msg)) {
            printf("FAIL random trial %" PRIu64 ": %s\n", seed, msg);
            bad++;
        }
    }
    if (bad)
        failed++;
    else
        passed++;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
