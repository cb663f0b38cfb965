/*
 * fuzz_layer: the input is one layer blob (a tar: plain, gzip, zstd, xz or bzip2).
 *
 * It is decoded from memory (src_walk_memory: the decode.c pipeline, then imgstat's
 * tar reader, layers/tar.c) into a fresh tree, then applied a second time as the
 * next layer (whiteouts and replacements now meet lower entries), strictly and
 * with IMGSTAT_LENIENT (and IMGSTAT_WASTE: the wasted paths must add up to the wasted bytes,
 * the walk's root to the totals, C6 and C7).  Oracles beyond "no crash": the layer decoded
 * into a record (rec_sink) and replayed, and that record exported and imported again
 * (rec_export, rec_import), must give the same result and totals as the direct
 * merge; decoding it again with a small --max-layer-bytes and --verify digests
 * must fail only with a limit message or succeed with the same entries; and the
 * bytes read as a plain tar in small uneven pieces, with seeks, must give exactly
 * what they give read whole: the same entries, the same end, the same error.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz_common.h"
#include "record.h"
#include "source.h"
#include "tree.h"
#include "tar.h"

static int same_totals(const struct imgstat_totals *a, const struct imgstat_totals *b)
{
    return a->files == b->files && a->bytes == b->bytes && a->bytes_per_path == b->bytes_per_path &&
           a->dirs == b->dirs && a->symlinks == b->symlinks && a->hardlinks == b->hardlinks &&
           a->devices == b->devices && a->fifos == b->fifos && a->entries == b->entries &&
           a->warnings == b->warnings;
}

static int add_wasted(void *ctx, const struct imgstat_waste *w)
{
    uint64_t *sum = ctx;
    *sum += w->wasted_bytes;
    return 0;
}

static int root_figures(void *ctx, const struct imgstat_node *n)
{
    if (n->depth == 0)
        *(struct imgstat_node *)ctx = *n;
    return 0;
}

/* C6, C7: what IMGSTAT_WASTE and the walk say must add up to the totals. */
static void check_figures(struct tree *t)
{
    struct imgstat_totals tot;
    struct err e;
    memset(&e, 0, sizeof e);
    if (tree_end(t, &e) != IMGSTAT_OK)
        return; /* out of memory */
    tree_totals(t, &tot);
    uint64_t wasted = 0;
    struct imgstat_node root = {0};
    FZ_CHECK(tree_wasted(t, add_wasted, &wasted) == 0, "tree_wasted failed");
    FZ_CHECK(tree_walk(t, root_figures, &root) == 0, "tree_walk failed");
    if (tot.layer_bytes <= IMGSTAT_MAX_FIGURE && tot.bytes <= IMGSTAT_MAX_FIGURE)
        FZ_CHECK(wasted == tot.layer_bytes - tot.bytes, "wasted paths add up to %llu, not %llu",
                 (unsigned long long)wasted, (unsigned long long)(tot.layer_bytes - tot.bytes));
    if (tot.bytes <= IMGSTAT_MAX_FIGURE)
        FZ_CHECK(root.bytes == tot.bytes && root.files == tot.files,
                 "the walk's root holds %llu B in %llu files, the totals %llu B in %llu",
                 (unsigned long long)root.bytes, (unsigned long long)root.files,
                 (unsigned long long)tot.bytes, (unsigned long long)tot.files);
}

/* Apply the blob as layer 1 and, when that worked, again as layer 2.  Returns layer 1's
 * result; *one holds the totals after layer 1. */
static int two_layers(const uint8_t *data, size_t size, unsigned flags, struct imgstat_totals *one)
{
    struct tree *t = tree_new(flags);
    if (!t)
        return IMGSTAT_ENOMEM;
    struct err e;
    memset(&e, 0, sizeof e);
    tree_begin_layer(t);
    int rc = src_walk_memory(NULL, data, size, NULL, tree_apply, t, NULL, &e);
    fz_check_err(rc, &e, "layer 1");
    tree_totals(t, one);
    if (rc == IMGSTAT_OK) {
        fz_check_totals(one);
        struct err e2;
        memset(&e2, 0, sizeof e2);
        tree_begin_layer(t);
        int rc2 = src_walk_memory(NULL, data, size, NULL, tree_apply, t, NULL, &e2);
        fz_check_err(rc2, &e2, "layer 2");
        struct imgstat_totals two;
        tree_totals(t, &two);
        if (rc2 == IMGSTAT_OK)
            fz_check_totals(&two); /* not equal to *one: a layer need not be idempotent */
        if (rc2 == IMGSTAT_OK && (flags & IMGSTAT_WASTE))
            check_figures(t);
        const char *w = tree_first_warning(t);
        if (w)
            FZ_CHECK(*w && !strchr(w, '\n'), "bad warning \"%s\"", w);
    }
    tree_free(t);
    return rc;
}

/* Replay r into a fresh tree: must give what the direct merge gave. */
static void replay_matches(const struct rec_buf *r, const char *what, int direct_rc,
                           const struct imgstat_totals *direct)
{
    struct tree *t = tree_new(0);
    if (!t)
        return;
    struct err e;
    memset(&e, 0, sizeof e);
    tree_begin_layer(t);
    int rc = rec_replay(r, tree_apply, t, &e);
    fz_check_err(rc, &e, what);
    FZ_CHECK(rc == direct_rc, "%s gives %d (%s), direct merge %d", what, rc, e.msg, direct_rc);
    if (rc == IMGSTAT_OK) {
        struct imgstat_totals t2;
        tree_totals(t, &t2);
        FZ_CHECK(same_totals(&t2, direct), "%s and direct merge differ", what);
    }
    tree_free(t);
}

/* The record exported and imported again (S7) replays as the record does. */
static void via_export(const struct rec_buf *r, int direct_rc, const struct imgstat_totals *direct)
{
    unsigned char *x;
    size_t xlen;
    struct err e;
    memset(&e, 0, sizeof e);
    int rc = rec_export(r, &x, &xlen, &e);
    fz_check_err(rc, &e, "export");
    if (rc != IMGSTAT_OK)
        return;
    struct rec_buf back;
    memset(&back, 0, sizeof back);
    rc = rec_import(&back, x, xlen, &e);
    fz_check_err(rc, &e, "import");
    FZ_CHECK(rc == IMGSTAT_OK || rc == IMGSTAT_ENOMEM, "an export does not import: %s", e.msg);
    if (rc == IMGSTAT_OK) {
        FZ_CHECK(back.count == r->count, "%llu entries exported, %llu imported",
                 (unsigned long long)r->count, (unsigned long long)back.count);
        replay_matches(&back, "imported record", direct_rc, direct);
    }
    rec_free(&back);
    free(x);
}

/* Decode into a record, replay into a fresh tree: must match the direct merge. */
static void via_record(const uint8_t *data, size_t size, int direct_rc,
                       const struct imgstat_totals *direct)
{
    struct rec_buf r;
    memset(&r, 0, sizeof r);
    struct err e;
    memset(&e, 0, sizeof e);
    int rc = src_walk_memory(NULL, data, size, NULL, rec_sink, &r, NULL, &e);
    fz_check_err(rc, &e, "record");
    if (rc == IMGSTAT_OK) {
        replay_matches(&r, "replayed record", direct_rc, direct);
        via_export(&r, direct_rc, direct);
    } else if (rc != IMGSTAT_ENOMEM) {
        FZ_CHECK(direct_rc != IMGSTAT_OK, "record failed (%s), direct merge worked", e.msg);
    }
    rec_free(&r);
}

/* Through a source with a 64 KiB uncompressed limit and --verify (blob and tar digests). */
static void via_limits(const uint8_t *data, size_t size, int direct_rc,
                       const struct imgstat_totals *direct)
{
    struct source fake;
    memset(&fake, 0, sizeof fake);
    fake.kind = SRC_STREAM;
    fake.fd = -1;
    fake.opts.max_layer_bytes = 64 * 1024;
    fake.opts.verify = true;
    struct tree *t = tree_new(0);
    if (!t)
        return;
    struct err e;
    memset(&e, 0, sizeof e);
    struct layer_meta meta;
    memset(&meta, 0, sizeof meta);
    tree_begin_layer(t);
    int rc = src_walk_memory(&fake, data, size, "sha256", tree_apply, t, &meta, &e);
    fz_check_err(rc, &e, "limited layer");
    if (rc == IMGSTAT_OK) {
        FZ_CHECK(meta.tar_bytes <= fake.opts.max_layer_bytes,
                 "%llu tar bytes passed a limit of %llu", (unsigned long long)meta.tar_bytes,
                 (unsigned long long)fake.opts.max_layer_bytes);
        /* a blob that decodes fully within the limit gives what it gives without one
         * (with --verify the bytes after the end marker are read too: they may be bad) */
        if (direct_rc == IMGSTAT_OK) {
            struct imgstat_totals lim;
            tree_totals(t, &lim);
            FZ_CHECK(same_totals(&lim, direct), "the limited walk and the plain one differ");
        }
    }
    tree_free(t);
}

/* The input handed out whole, or in pieces of 1 to 13 bytes with a skip that moves an
 * offset: what a file range (scanner/reader.c) and a decoder (decode.c) look like. */
struct pieces {
    const uint8_t *p;
    size_t len, pos;
    unsigned step;
    bool whole;
};

static ssize_t pieces_read(void *ctx, const unsigned char **buf, struct err *e)
{
    (void)e;
    struct pieces *c = ctx;
    size_t left = c->len - c->pos, n = c->whole ? left : 1 + (c->step++ * 7) % 13;
    n = n < left ? n : left;
    *buf = c->p + c->pos;
    c->pos += n;
    return (ssize_t)n;
}

static int64_t pieces_skip(void *ctx, uint64_t n, struct err *e)
{
    (void)e;
    struct pieces *c = ctx;
    size_t left = c->len - c->pos;
    n = n < left ? n : left;
    c->pos += (size_t)n;
    return (int64_t)n;
}

/* A sink that folds every entry into a hash and a count. */
struct fold {
    uint64_t h, n;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static int fold_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    (void)e;
    struct fold *f = ctx;
    f->h = mix(f->h, &ent->type, 1);
    f->h = mix(f->h, &ent->size, sizeof ent->size);
    f->h = mix(f->h, &ent->path_len, sizeof ent->path_len);
    f->h = mix(f->h, ent->path, ent->path_len);
    f->h = mix(f->h, &ent->link_len, sizeof ent->link_len);
    if (ent->link)
        f->h = mix(f->h, ent->link, ent->link_len);
    f->n++;
    return IMGSTAT_OK;
}

static int walk_pieces(const uint8_t *data, size_t size, bool whole, struct fold *f, uint64_t *end,
                       struct err *e)
{
    struct pieces c = {data, size, 0, 0, whole};
    struct byte_src src = {pieces_read, whole ? NULL : pieces_skip, &c};
    f->h = 14695981039346656037ull;
    f->n = 0;
    return tar_walk(&src, fold_sink, f, end, e);
}

static void via_pieces(const uint8_t *data, size_t size)
{
    struct fold a, b;
    struct err ea, eb;
    uint64_t enda = 0, endb = 0;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    int ra = walk_pieces(data, size, true, &a, &enda, &ea);
    int rb = walk_pieces(data, size, false, &b, &endb, &eb);
    fz_check_err(ra, &ea, "tar, whole");
    FZ_CHECK(ra == rb && a.h == b.h && a.n == b.n && enda == endb,
             "read whole: %d, %llu entries, end %llu (%s); in pieces: %d, %llu entries, end %llu "
             "(%s)",
             ra, (unsigned long long)a.n, (unsigned long long)enda, ra ? ea.msg : "", rb,
             (unsigned long long)b.n, (unsigned long long)endb, rb ? eb.msg : "");
    FZ_CHECK(ra == IMGSTAT_OK || strcmp(ea.msg, eb.msg) == 0, "errors differ: '%s' / '%s'", ea.msg,
             eb.msg);
    FZ_CHECK(enda <= size, "the reader ended at %llu of %zu bytes", (unsigned long long)enda, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imgstat_totals strict, lenient;
    int rc = two_layers(data, size, 0, &strict);
    int lrc = two_layers(data, size, IMGSTAT_LENIENT | IMGSTAT_WASTE, &lenient);
    /* lenient mode turns merge conflicts into warnings; what fails to decode still fails */
    FZ_CHECK(!(rc == IMGSTAT_OK && lrc != IMGSTAT_OK && lrc != IMGSTAT_ENOMEM),
             "strict merge worked, lenient failed (%d)", lrc);
    if (rc == IMGSTAT_OK && lrc == IMGSTAT_OK)
        FZ_CHECK(strict.files == lenient.files && strict.bytes == lenient.bytes,
                 "strict and lenient merges of a clean layer differ");
    via_record(data, size, rc, &strict);
    via_limits(data, size, rc, &strict);
    via_pieces(data, size);
    return 0;
}
