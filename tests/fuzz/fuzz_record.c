/*
 * fuzz_record: the input is a layer's exported entry records (rec_export's bytes, S7).
 *
 * rec_import() must refuse or accept every input without reading out of bounds, leaking or
 * looping.  The bytes are tried as they are (the checksum stops nearly all of them), then
 * sealed: the magic and version written over the first 5 bytes and the checksum over the
 * last 8, so the parser itself meets whatever the fuzzer writes.  Oracles for a sealed
 * input that imports: a refusal leaves the buffer empty with a one-line message; what
 * imports exports again, and that export imports to the same entries in the same order
 * (replayed and compared by hash); replaying into a tree fails only with a message.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "err.h"
#include "fuzz_common.h"
#include "record.h"
#include "tree.h"

/* A running hash of the replayed entries, and their number. */
struct digest {
    XXH3_state_t *st;
    uint64_t n;
};

static int digest_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    (void)e;
    struct digest *d = ctx;
    unsigned char head[1 + 8 + 8 + 8 + 1];
    uint64_t plen = ent->path_len, llen = ent->link_len;
    head[0] = ent->type;
    memcpy(head + 1, &plen, 8);
    memcpy(head + 9, &llen, 8);
    memcpy(head + 17, &ent->size, 8);
    head[25] = ent->link != NULL;
    XXH3_64bits_update(d->st, head, sizeof head);
    XXH3_64bits_update(d->st, ent->path, ent->path_len);
    if (ent->link)
        XXH3_64bits_update(d->st, ent->link, ent->link_len);
    d->n++;
    return IMGSTAT_OK;
}

/* The hash of r's replayed entries; *n their number. */
static uint64_t replay_hash(const struct rec_buf *r, uint64_t *n)
{
    struct digest d = {XXH3_createState(), 0};
    struct err e;
    memset(&e, 0, sizeof e);
    FZ_CHECK(d.st != NULL, "out of memory");
    XXH3_64bits_reset(d.st);
    int rc = rec_replay(r, digest_sink, &d, &e);
    FZ_CHECK(rc == IMGSTAT_OK, "replaying imported records failed: %s", e.msg);
    uint64_t h = XXH3_64bits_digest(d.st);
    XXH3_freeState(d.st);
    *n = d.n;
    return h;
}

/* Import; a refusal must leave r empty and say why on one line. */
static int import(struct rec_buf *r, const unsigned char *buf, size_t len)
{
    struct err e;
    memset(&e, 0, sizeof e);
    rec_init(r, NULL);
    int rc = rec_import(r, buf, len, &e);
    fz_check_err(rc, &e, "rec_import");
    if (rc != IMGSTAT_OK)
        FZ_CHECK(!r->head && r->count == 0, "a refused import left %llu entries",
                 (unsigned long long)r->count);
    return rc;
}

static void round_trip(const struct rec_buf *r)
{
    unsigned char *x;
    size_t xlen;
    struct err e;
    memset(&e, 0, sizeof e);
    int rc = rec_export(r, &x, &xlen, &e);
    fz_check_err(rc, &e, "rec_export");
    if (rc != IMGSTAT_OK)
        return;
    struct rec_buf back;
    int rc2 = import(&back, x, xlen);
    FZ_CHECK(rc2 == IMGSTAT_OK || rc2 == IMGSTAT_ENOMEM, "an export does not import (%d)", rc2);
    if (rc2 == IMGSTAT_OK) {
        uint64_t n1, n2, h1 = replay_hash(r, &n1), h2 = replay_hash(&back, &n2);
        FZ_CHECK(n1 == n2 && h1 == h2, "export + import changed the entries (%llu, %llu)",
                 (unsigned long long)n1, (unsigned long long)n2);
    }
    rec_free(&back);
    free(x);
}

static void into_tree(const struct rec_buf *r)
{
    struct tree *t = tree_new(IMGSTAT_LENIENT);
    if (!t)
        return;
    struct err e;
    memset(&e, 0, sizeof e);
    tree_begin_layer(t);
    int rc = rec_replay(r, tree_apply, t, &e);
    fz_check_err(rc, &e, "replay into a tree");
    if (rc == IMGSTAT_OK) {
        struct imgstat_totals tot;
        tree_totals(t, &tot);
        fz_check_totals(&tot);
    }
    tree_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rec_buf r;
    if (import(&r, data, size) == IMGSTAT_OK)
        round_trip(&r);
    rec_free(&r);
    if (size < 13)
        return 0;
    unsigned char *sealed = malloc(size);
    if (!sealed)
        return 0;
    memcpy(sealed, data, size);
    memcpy(sealed, "IMGR", 4);
    sealed[4] = REC_FORMAT_VERSION;
    uint64_t h = XXH3_64bits(sealed, size - 8);
    for (int i = 0; i < 8; i++)
        sealed[size - 8 + i] = (unsigned char)(h >> (8 * i));
    if (import(&r, sealed, size) == IMGSTAT_OK) {
        round_trip(&r);
        into_tree(&r);
    }
    rec_free(&r);
    free(sealed);
    return 0;
}
