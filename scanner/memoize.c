/*
 * One layer through the layer memo (memoize.h).
 *
 * A hit must be the same bytes the memo verified, or a damaged blob that still carries a
 * good blob's name would be answered for instead of failing as it does cold.  So a hit in a
 * file is trusted only when (1) the blob is where a checked copy was last seen (same file
 * identity, ctime included, and offset), or (2) its keyed XXH3-128 equals the stored one (a
 * read at memory speed, no inflating), or (3) its digest, computed now, equals the key (a
 * row whose checksum was forgotten by the schema 3 migration; that also stores the checksum
 * for the next time) (M4).  Every XXH3-128 is keyed with the memo file's secret (M3).  In a
 * stream, only (2) can be had, and only by reading the member through (M5).
 */
#include "memoize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "digest.h"
#include "err.h"
#include "record.h"
#include "source_impl.h"

/* Reads of a blob being checked. */
#define MEMOIZE_READ (1u << 20)

/* Entries go to the pipeline's sink and are recorded on the side for the memo.  Recording
 * that runs out of memory stops recording, never the walk. */
struct tee {
    layer_sink sink;
    void *ctx;
    struct rec_buf rec;
    bool dropped;
};

static int tee_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct tee *t = ctx;
    struct err ignored;
    if (!t->dropped && rec_sink(&t->rec, ent, &ignored) != IMGSTAT_OK) {
        rec_free(&t->rec);
        t->dropped = true;
    }
    return t->sink(t->ctx, ent, e);
}

/* The key's algorithm, when imgstat can compute it, into alg[16]. */
static bool key_alg(const char *key, char *alg)
{
    size_t n;
    const char *a = key ? digest_alg(key, &n) : NULL;
    if (!a || n >= 16 || !digest_alg_supported(a, n))
        return false;
    memcpy(alg, a, n);
    alg[n] = '\0';
    return true;
}

/* The blob's file, open (*fd, to close), and its place; false when it cannot be opened. */
static bool blob_place(const struct source *src, const struct member *m, int *fd,
                       struct memo_loc *loc)
{
    struct err ignored; /* a blob that cannot be opened fails in its walk, as it would cold */
    struct stat st;
    if (src->kind == SRC_TAR)
        *fd = dup(src->fd);
    else if (src_dir_open(src, m->name, fd, &ignored) != IMGSTAT_OK)
        *fd = -1;
    if (*fd < 0 || fstat(*fd, &st) != 0) {
        if (*fd >= 0)
            close(*fd);
        return false;
    }
    *loc = (struct memo_loc){(uint64_t)st.st_dev,
                             (uint64_t)st.st_ino,
                             (uint64_t)st.st_size,
                             m->offset,
                             (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                             (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec};
    return true;
}

/* A row stored from a stream has no place (ino 0): it never matches one. */
static bool same_place(const struct memo_loc *a, const struct memo_loc *b)
{
    return b->ino != 0 && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->offset == b->offset && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* A keyed XXH3-128 state (M3), or NULL when out of memory or the memo is off. */
static XXH3_state_t *xxh_new(const struct memo *memo)
{
    size_t len;
    const void *secret = memo_secret(memo, &len);
    XXH3_state_t *x = secret ? XXH3_createState() : NULL;
    if (x && XXH3_128bits_reset_withSecret(x, secret, len) != XXH_OK) {
        XXH3_freeState(x);
        x = NULL;
    }
    return x;
}

/* Read the blob's bytes: their keyed XXH3-128 into xxh and, with alg, their digest into dig. */
static bool blob_hash(const struct memo *memo, int fd, uint64_t off, uint64_t size, const char *alg,
                      char *dig, unsigned char *xxh)
{
    XXH3_state_t *x = xxh_new(memo);
    struct digest_ctx d = {0};
    unsigned char *buf = malloc(MEMOIZE_READ);
    bool ok = x && buf && (!alg || digest_init(&d, alg));
    for (uint64_t done = 0; ok && done < size;) {
        size_t want = size - done < MEMOIZE_READ ? (size_t)(size - done) : MEMOIZE_READ;
        ssize_t n = pread(fd, buf, want, (off_t)(off + done));
        ok = n > 0;
        if (ok) {
            XXH3_128bits_update(x, buf, (size_t)n);
            digest_update(&d, buf, (size_t)n);
            done += (uint64_t)n;
        }
    }
    if (ok && alg)
        digest_final(&d, dig);
    if (ok)
        XXH128_canonicalFromHash((XXH128_canonical_t *)xxh, XXH3_128bits_digest(x));
    digest_free(&d);
    XXH3_freeState(x);
    free(buf);
    return ok;
}

/* Is the blob the one the row was made from?  Confirms the hit with what it learnt. */
static bool blob_is_row(struct memo *memo, const struct source *src, const struct member *m,
                        const char *key, const char *alg, const struct memo_row *row)
{
    int fd;
    struct memo_loc here;
    char dig[DIGEST_MAX] = "";
    unsigned char xxh[16];
    if (row->fig.blob_bytes != m->size || !blob_place(src, m, &fd, &here))
        return false;
    bool same = same_place(&here, &row->seen), known = row->has_xxh;
    bool ok = same || (blob_hash(memo, fd, m->offset, m->size, known ? NULL : alg, dig, xxh) &&
                       (known ? memcmp(xxh, row->xxh, 16) == 0 : strcmp(dig, key) == 0));
    close(fd);
    if (ok)
        memo_confirm(memo, row, same ? NULL : &here, same || known ? NULL : xxh);
    return ok;
}

/* The row's records into r (empty; its directory table may be shared), checked against the
 * row's count; false when they are damaged: the row is dropped, with a warning, and r is
 * left empty (rec_free). */
static bool import_row(struct memo *memo, const char *key, const struct memo_row *row,
                       struct rec_buf *r)
{
    void *buf = NULL;
    size_t len;
    if (!memo_records(memo, key, REC_FORMAT_VERSION, row, &buf, &len))
        return false;
    struct err ie = {0};
    bool ok = rec_import(r, buf, len, &ie) == IMGSTAT_OK && r->count == row->fig.entries;
    free(buf);
    if (!ok) {
        rec_free(r);
        memo_forget(memo, key, REC_FORMAT_VERSION, ie.msg[0] ? ie.msg : "entry count");
    }
    return ok;
}

/* A hit: the stored records into sink (moved whole into an empty rec_buf sink). */
static bool replay(struct memo *memo, const struct source *src, const struct member *m,
                   const char *key, const char *alg, layer_sink sink, void *ctx,
                   struct layer_meta *meta, int *rc, struct err *e)
{
    struct memo_row row;
    if (!memo_lookup(memo, key, REC_FORMAT_VERSION, src->opts.max_layer_bytes, &row))
        return false;
    bool hit = blob_is_row(memo, src, m, key, alg, &row);
    if (!hit)
        memo_reject(memo);
    struct rec_buf r = {0};
    hit = hit && import_row(memo, key, &row, &r);
    memo_row_free(&row);
    if (!hit)
        return false;
    *meta = (struct layer_meta){.compression = row.fig.compression, .tar_bytes = row.fig.tar_bytes};
    struct rec_buf *into = sink == rec_sink ? ctx : NULL;
    if (into && !into->head) {
        *into = r; /* a helper's records: take them as they are */
        *rc = IMGSTAT_OK;
        return true;
    }
    *rc = rec_replay(&r, sink, ctx, e);
    rec_free(&r);
    return true;
}

/* M2: store the records of a layer whose bytes were hashed on their way (meta) when their
 * digest is the key, with their keyed checksum (M3); where: NULL for a stream's member. */
static void store(struct memo *memo, const char *key, const struct rec_buf *rec,
                  const struct layer_meta *meta, const struct member *m,
                  const struct memo_loc *where)
{
    if (strcmp(meta->in_digest, key) != 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "layer %.140s: the blob's digest is %.140s: not stored", key,
                 meta->in_digest[0] ? meta->in_digest : "unknown (not read to its end)");
        memo_note(memo, msg);
        return;
    }
    unsigned char *bytes = NULL;
    size_t len = 0;
    struct err xe = {0};
    if (rec_export(rec, &bytes, &len, &xe) != IMGSTAT_OK)
        return; /* out of memory: the layer is just not stored */
    struct memo_blob *b = memo_blob_new();
    struct memo_figures f = {meta->compression, m->size, meta->tar_bytes, meta->stream_bytes,
                             rec->count};
    if (b && memo_blob_add(b, bytes, len) == 0)
        memo_put(memo, key, REC_FORMAT_VERSION, &f, where, meta->has_xxh ? meta->in_xxh : NULL, b);
    memo_blob_free(b);
    free(bytes);
}

/* A miss: decode with the blob hashed and the entries recorded, then store what checks out. */
static int decode_store(struct memo *memo, const struct source *src, const struct member *m,
                        const char *key, const char *alg, layer_sink sink, void *ctx,
                        struct layer_meta *meta, struct err *e)
{
    int fd;
    struct memo_loc where; /* taken before reading: a later write changes the file's ctime */
    bool placed = blob_place(src, m, &fd, &where);
    if (placed)
        close(fd);
    bool direct = sink == rec_sink; /* a helper already records into ctx */
    struct tee t = {sink, ctx, {0}, false};
    int rc = src_walk_member(src, m, alg, direct ? sink : tee_sink, direct ? ctx : &t, meta, e);
    if (rc == IMGSTAT_OK && placed && !t.dropped)
        store(memo, key, direct ? ctx : &t.rec, meta, m, &where);
    rec_free(&t.rec);
    return rc;
}

int memoize_walk(struct memo *memo, const struct source *src, const struct member *m,
                 const char *key, layer_sink sink, void *ctx, struct layer_meta *meta, bool *cached,
                 struct err *e)
{
    char alg[16];
    bool seeks = true;
    struct err ignored; /* a member that cannot be read fails in the walk below, as it would */
    /* a stream's members were looked up and stored as they passed (M5): replayed here */
    *cached = src->kind == SRC_STREAM && m && m->cached;
    if (src->kind == SRC_STREAM || m->data || !memo_on(memo) || !key_alg(key, alg) ||
        src_member_seeks(src, m, &seeks, &ignored) != IMGSTAT_OK || seeks)
        return src_walk_member(src, m, NULL, sink, ctx, meta, e);
    int rc;
    if (replay(memo, src, m, key, alg, sink, ctx, meta, &rc, e)) {
        *cached = true;
        return rc;
    }
    return decode_store(memo, src, m, key, alg, sink, ctx, meta, e);
}

/* ---- streams (M5) ---------------------------------------------------------------------- */

bool memoize_stream_key(const struct source *s, const struct member *m, char *key, char *alg)
{
    if (s->opts.verify || !memo_on(s->opts.memo))
        return false;
    if (!digest_from_name(m->name, key)) {
        /* the dir transport names a blob by its digest's encoded part alone */
        const char *base = strrchr(m->name, '/') ? strrchr(m->name, '/') + 1 : m->name;
        size_t n = strlen(base);
        if ((n != 64 && n != 128) || !digest_is_hex(base, n))
            return false;
        snprintf(key, DIGEST_MAX, "%s:%s", n == 64 ? "sha256" : "sha512", base);
    }
    return key_alg(key, alg);
}

/* Every byte of up (to its end), through the memo's keyed XXH3-128 into xxh. */
static int read_through(const struct memo *memo, const struct byte_src *up, unsigned char *xxh,
                        struct err *e)
{
    XXH3_state_t *x = xxh_new(memo);
    if (!x)
        return err_nomem(e);
    ssize_t n;
    const unsigned char *buf;
    while ((n = up->read(up->ctx, &buf, e)) > 0)
        XXH3_128bits_update(x, buf, (size_t)n);
    if (n == 0)
        XXH128_canonicalFromHash((XXH128_canonical_t *)xxh, XXH3_128bits_digest(x));
    XXH3_freeState(x);
    return n < 0 ? (int)n : IMGSTAT_OK;
}

/* M5: the bytes read are not the stored layer's: the member was read past, its entries lost. */
static void forged(struct source *s, struct member *m, const char *key)
{
    char why[400];
    snprintf(why, sizeof why,
             "not the bytes of layer %.140s that the layer memo remembers under this name (a "
             "damaged or forged blob); this one pass went past them unread: rerun with "
             "--no-cache to read them",
             key);
    m->why = arena_strdup(&s->arena, why);
    m->why = m->why ? m->why : "a damaged or forged blob: rerun with --no-cache";
    m->why_code = IMGSTAT_EINPUT;
}

int memoize_stream_lookup(struct source *s, struct member *m, const char *key,
                          const struct byte_src *up, bool *done, struct err *e)
{
    struct memo *memo = s->opts.memo;
    struct memo_row row;
    *done = false;
    if (!memo_lookup(memo, key, REC_FORMAT_VERSION, s->opts.max_layer_bytes, &row))
        return IMGSTAT_OK;
    /* only a checksum can tell these bytes from others in one pass; the records are taken
     * before any byte is read, so a damaged row is a plain miss */
    bool usable = row.has_xxh && row.fig.blob_bytes == m->size;
    if (!usable || !import_row(memo, key, &row, &m->rec)) {
        if (!usable)
            memo_reject(memo);
        memo_row_free(&row);
        rec_init(&m->rec, s->dirs);
        return IMGSTAT_OK;
    }
    unsigned char xxh[16];
    int rc = read_through(memo, up, xxh, e);
    *done = true;
    if (rc == IMGSTAT_OK && memcmp(xxh, row.xxh, sizeof xxh) == 0) {
        memo_confirm(memo, &row, NULL, NULL);
        m->recorded = m->cached = true;
        m->compression = row.fig.compression;
        m->tar_bytes = row.fig.tar_bytes;
    } else {
        rec_free(&m->rec);
        if (rc == IMGSTAT_OK) {
            memo_reject(memo);
            forged(s, m, key);
        }
    }
    memo_row_free(&row);
    return rc;
}

void memoize_stream_store(const struct source *s, const struct member *m, const char *key,
                          const struct layer_meta *meta)
{
    if (memo_on(s->opts.memo))
        store(s->opts.memo, key, &m->rec, meta, m, NULL);
}
