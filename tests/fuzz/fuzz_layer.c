/*
 * fuzz_layer: the input is one layer blob (a tar, plain, gzip or zstd).
 *
 * It is decoded from memory (src_walk_memory: the decode.c pipeline, then
 * libarchive's tar reader) into a fresh tree, then applied a second time as the
 * next layer (whiteouts and replacements now meet lower entries), strictly and
 * with IMGSTAT_LENIENT.  Oracles beyond "no crash": the layer decoded into a
 * record (rec_sink) and replayed must give the same result and totals as the
 * direct merge (the record going through rec_export and rec_import, as the
 * layer memo keeps it), decoding it again with a small --max-layer-bytes and
 * --verify digests must fail only with a limit message or succeed with the
 * same entries, and the input read as exported records must be refused or
 * replayed without harm.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>

#include "err.h"
#include "fuzz_common.h"
#include "record.h"
#include "source.h"
#include "tree.h"
#include "walk.h"

static int same_totals(const struct imgstat_totals *a, const struct imgstat_totals *b)
{
    return a->files == b->files && a->bytes == b->bytes && a->bytes_per_path == b->bytes_per_path &&
           a->dirs == b->dirs && a->symlinks == b->symlinks && a->hardlinks == b->hardlinks &&
           a->devices == b->devices && a->fifos == b->fifos && a->entries == b->entries &&
           a->warnings == b->warnings;
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
        const char *w = tree_first_warning(t);
        if (w)
            FZ_CHECK(*w && !strchr(w, '\n'), "bad warning \"%s\"", w);
    }
    tree_free(t);
    return rc;
}

/* rec_export's pieces, gathered. */
struct bytes {
    unsigned char *p;
    size_t len, cap;
};

static int bytes_add(void *ctx, const void *buf, size_t len)
{
    struct bytes *b = ctx;
    if (b->cap - b->len < len) {
        size_t cap = 2 * (b->cap + len);
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, buf, len);
    b->len += len;
    return 0;
}

/* The records through rec_export and rec_import, as the layer memo keeps them: *r is
 * replaced by the imported copy, so the replay below checks what the memo would give. */
static void round_trip(struct rec_buf *r)
{
    struct bytes b = {0};
    struct rec_buf copy;
    struct err e;
    memset(&copy, 0, sizeof copy);
    memset(&e, 0, sizeof e);
    if (rec_export(r, bytes_add, &b) == 0) {
        int rc = rec_import(&copy, b.p, b.len, &e);
        FZ_CHECK(rc == IMGSTAT_OK || rc == IMGSTAT_ENOMEM, "exported records do not import: %s",
                 e.msg);
        FZ_CHECK(rc != IMGSTAT_OK || copy.count == r->count, "import counts %llu of %llu",
                 (unsigned long long)copy.count, (unsigned long long)r->count);
        if (rc == IMGSTAT_OK) {
            rec_free(r);
            *r = copy;
        }
    }
    free(b.p);
}

/* The input itself as exported records (a damaged memo row): refused or replayed, never a
 * crash or a read out of bounds. */
static void import_raw(const uint8_t *data, size_t size)
{
    struct rec_buf r;
    struct err e;
    memset(&r, 0, sizeof r);
    memset(&e, 0, sizeof e);
    int rc = rec_import(&r, data, size, &e);
    fz_check_err(rc, &e, "import");
    struct tree *t = rc == IMGSTAT_OK ? tree_new(IMGSTAT_LENIENT) : NULL;
    if (t) {
        tree_begin_layer(t);
        memset(&e, 0, sizeof e);
        fz_check_err(rec_replay(&r, tree_apply, t, &e), &e, "imported replay");
        tree_free(t);
    }
    rec_free(&r);
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
    if (rc == IMGSTAT_OK)
        round_trip(&r);
    if (rc == IMGSTAT_OK) {
        struct tree *t = tree_new(0);
        if (t) {
            struct err e2;
            memset(&e2, 0, sizeof e2);
            tree_begin_layer(t);
            int rc2 = rec_replay(&r, tree_apply, t, &e2);
            fz_check_err(rc2, &e2, "replay");
            FZ_CHECK(rc2 == direct_rc, "replayed record gives %d (%s), direct merge %d", rc2,
                     e2.msg, direct_rc);
            if (rc2 == IMGSTAT_OK) {
                struct imgstat_totals t2;
                tree_totals(t, &t2);
                FZ_CHECK(same_totals(&t2, direct), "replayed record and direct merge differ");
            }
            tree_free(t);
        }
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imgstat_totals strict, lenient;
    int rc = two_layers(data, size, 0, &strict);
    int lrc = two_layers(data, size, IMGSTAT_LENIENT, &lenient);
    /* lenient mode turns merge conflicts into warnings; what fails to decode still fails */
    FZ_CHECK(!(rc == IMGSTAT_OK && lrc != IMGSTAT_OK && lrc != IMGSTAT_ENOMEM),
             "strict merge worked, lenient failed (%d)", lrc);
    if (rc == IMGSTAT_OK && lrc == IMGSTAT_OK)
        FZ_CHECK(strict.files == lenient.files && strict.bytes == lenient.bytes,
                 "strict and lenient merges of a clean layer differ");
    via_record(data, size, rc, &strict);
    via_limits(data, size, rc, &strict);
    import_raw(data, size);
    return 0;
}
