/*
 * The layer memo (memo.h): lookups, stores with LRU eviction, and the session's counters.
 */
#include "memo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "imgstat.h"

/* Fast and still ~4x on records (names share long prefixes). */
#define MEMO_ZSTD_LEVEL 3

struct memo {
    struct cat_db *db;
    bool own_db, off, read_only;
    uint64_t max_bytes;
    uint64_t hits, misses;
    struct used *used; /* rows read this session: their LRU time, where they were seen */
    size_t nused, capused;
    char warning[ERR_MSG_MAX];
    unsigned char secret[CAT_SECRET_BYTES]; /* the file's XXH3 secret (M3) */
};

struct used {
    int64_t id;
    bool moved, has_xxh; /* a new place (where) or a new checksum to remember */
    struct memo_loc where;
    unsigned char xxh[16];
};

struct memo_blob {
    ZSTD_CCtx *cctx;
    unsigned char *buf;
    size_t len, cap;
    uint64_t raw;
    bool failed;
};

/* The first failure turns the memo off (or read-only when only writing failed). */
static void memo_fail(struct memo *m, const struct err *e, bool writes_only)
{
    if (!m->warning[0])
        snprintf(m->warning, sizeof m->warning, "layer memo not used: %s", e->msg);
    if (writes_only)
        m->read_only = true;
    else
        m->off = true;
}

static const char SQL_SECRET[] = "SELECT secret FROM memo_secret WHERE id = 1";

/* The file's XXH3 secret into m (M3); a file without one is damaged. */
static int load_secret(struct memo *m, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(m->db, SQL_SECRET, &st, e);
    if (rc != IMGSTAT_OK)
        return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW && sqlite3_column_bytes(st, 0) == CAT_SECRET_BYTES)
        memcpy(m->secret, sqlite3_column_blob(st, 0), CAT_SECRET_BYTES);
    else
        rc = s == SQLITE_ROW || s == SQLITE_DONE
                 ? err_set(e, IMGSTAT_EINPUT, "%s: the memo's secret is missing or malformed",
                           m->db->path)
                 : cat_fail(m->db, s, "read the memo's secret", e);
    sqlite3_reset(st);
    return rc;
}

static struct memo *memo_new(struct cat_db *db, uint64_t max_bytes)
{
    struct memo *m = calloc(1, sizeof *m);
    if (m) {
        m->db = db;
        m->max_bytes = max_bytes;
    }
    return m;
}

/* Ready to use once its file is open: its secret read, or off. */
static void memo_ready(struct memo *m)
{
    struct err e = {0};
    cat_lock(m->db);
    if (load_secret(m, &e) != IMGSTAT_OK)
        memo_fail(m, &e, false);
    m->read_only |= m->db->readonly; /* a file that cannot be written: lookups only */
    cat_unlock(m->db);
}

struct memo *memo_attach(struct cat_db *db, uint64_t max_bytes)
{
    struct memo *m = memo_new(db, max_bytes);
    if (m)
        memo_ready(m);
    return m;
}

struct memo *memo_open(const char *dir, uint64_t max_bytes)
{
    struct memo *m = memo_new(NULL, max_bytes);
    if (!m)
        return NULL;
    struct err e = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, MEMO_FILE);
    if (cat_make_dirs(dir, &e) == IMGSTAT_OK &&
        cat_open(&m->db, path, MEMO_BUSY_MS, &e) == IMGSTAT_OK) {
        m->own_db = true;
        memo_ready(m);
    } else {
        memo_fail(m, &e, false);
    }
    return m;
}

const void *memo_secret(const struct memo *m, size_t *len)
{
    *len = CAT_SECRET_BYTES;
    return memo_on(m) ? m->secret : NULL;
}

const char *memo_warning(const struct memo *m)
{
    return m && m->warning[0] ? m->warning : NULL;
}

void memo_note(struct memo *m, const char *msg)
{
    if (!memo_on(m))
        return;
    cat_lock(m->db);
    if (!m->warning[0])
        snprintf(m->warning, sizeof m->warning, "layer memo: %s", msg);
    cat_unlock(m->db);
}

bool memo_on(const struct memo *m)
{
    return m && !m->off;
}

/* ---- lookups ---- */

static const char *compression_name(const unsigned char *s)
{
    static const char *const names[] = {"gzip", "zstd", "xz", "bzip2", "none"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (s && strcmp((const char *)s, names[i]) == 0)
            return names[i];
    return NULL;
}

static const char SQL_GET[] =
    "SELECT id, compression, blob_bytes, tar_bytes, stream_bytes, entries, raw_bytes, records,"
    " seen_dev, seen_ino, seen_size, seen_mtime_ns, seen_ctime_ns, seen_offset, xxh128"
    " FROM memo_layers WHERE digest = ?1 AND rec_version = ?2";

/* The current row of SQL_GET into *row, its records copied out. */
static int row_of(struct memo *m, sqlite3_stmt *st, const char *key, struct memo_row *row,
                  struct err *e)
{
    *row = (struct memo_row){
        .id = sqlite3_column_int64(st, 0),
        .fig = {compression_name(sqlite3_column_text(st, 1)), (uint64_t)sqlite3_column_int64(st, 2),
                (uint64_t)sqlite3_column_int64(st, 3), (uint64_t)sqlite3_column_int64(st, 4),
                (uint64_t)sqlite3_column_int64(st, 5)},
        .seen = {(uint64_t)sqlite3_column_int64(st, 8), (uint64_t)sqlite3_column_int64(st, 9),
                 (uint64_t)sqlite3_column_int64(st, 10), (uint64_t)sqlite3_column_int64(st, 13),
                 sqlite3_column_int64(st, 11), sqlite3_column_int64(st, 12)},
        .raw = (uint64_t)sqlite3_column_int64(st, 6),
        .zlen = (size_t)sqlite3_column_bytes(st, 7)};
    const void *blob = sqlite3_column_blob(st, 7);
    if (sqlite3_column_bytes(st, 14) == 16) {
        row->has_xxh = true;
        memcpy(row->xxh, sqlite3_column_blob(st, 14), 16);
    }
    if (!row->fig.compression || row->raw > MEMO_MAX_RAW || !blob)
        return err_set(e, IMGSTAT_EINPUT, "%s: memo row for %s is malformed", m->db->path, key);
    if (!(row->z = malloc(row->zlen ? row->zlen : 1)))
        return err_nomem(e);
    memcpy(row->z, blob, row->zlen);
    return IMGSTAT_OK;
}

/* The row under key, or none (*found false). */
static int get_row(struct memo *m, const char *key, unsigned version, struct memo_row *row,
                   bool *found, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(m->db, SQL_GET, &st, e);
    *found = false;
    if (rc != IMGSTAT_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, version);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = (*found = true) ? row_of(m, st, key, row, e) : rc;
    else
        rc = rc == SQLITE_DONE ? IMGSTAT_OK : cat_fail(m->db, rc, "read the memo", e);
    sqlite3_reset(st);
    return rc;
}

bool memo_lookup(struct memo *m, const char *key, unsigned version, uint64_t max_stream,
                 struct memo_row *row)
{
    if (!memo_on(m))
        return false;
    struct err e = {0};
    bool found;
    memset(row, 0, sizeof *row);
    cat_lock(m->db);
    int rc = get_row(m, key, version, row, &found, &e);
    if (rc != IMGSTAT_OK)
        memo_fail(m, &e, false);
    else if (!found)
        m->misses++;
    cat_unlock(m->db);
    if (rc == IMGSTAT_OK && found && (!max_stream || row->fig.stream_bytes <= max_stream))
        return true;
    memo_row_free(row);
    return false;
}

void memo_row_free(struct memo_row *row)
{
    free(row->z);
    row->z = NULL;
}

bool memo_records(struct memo *m, const char *key, unsigned version, const struct memo_row *row,
                  void **buf, size_t *len)
{
    *buf = malloc(row->raw ? row->raw : 1);
    size_t n = *buf ? ZSTD_decompress(*buf, row->raw, row->z, row->zlen) : 0;
    if (*buf && !ZSTD_isError(n) && n == row->raw) {
        *len = (size_t)row->raw;
        return true;
    }
    free(*buf);
    *buf = NULL;
    memo_forget(m, key, version, !*buf && !n ? "out of memory" : "bad zstd frame");
    return false;
}

void memo_confirm(struct memo *m, const struct memo_row *row, const struct memo_loc *where,
                  const unsigned char *xxh)
{
    cat_lock(m->db);
    m->hits++;
    if (m->nused == m->capused) {
        size_t cap = m->capused ? 2 * m->capused : 16;
        struct used *v = realloc(m->used, cap * sizeof *v);
        m->used = v ? v : m->used;
        m->capused = v ? cap : m->capused;
    }
    if (m->nused < m->capused) { /* else only its LRU time is lost */
        struct used *u = &m->used[m->nused++];
        *u = (struct used){row->id, where != NULL, xxh != NULL, where ? *where : row->seen, {0}};
        if (xxh)
            memcpy(u->xxh, xxh, 16);
    }
    cat_unlock(m->db);
}

void memo_reject(struct memo *m)
{
    cat_lock(m->db);
    m->misses++;
    cat_unlock(m->db);
}

static const char SQL_FORGET[] = "DELETE FROM memo_layers WHERE digest = ?1 AND rec_version = ?2";

void memo_forget(struct memo *m, const char *key, unsigned version, const char *why)
{
    struct err e = {0};
    err_set(&e, IMGSTAT_EINPUT, "%s: the records of %s are damaged (%s)", m->db->path, key, why);
    cat_lock(m->db);
    memo_fail(m, &e, true);
    sqlite3_stmt *st;
    if (cat_stmt(m->db, SQL_FORGET, &st, &e) == IMGSTAT_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, version);
        cat_step_done(m->db, st, "drop a damaged row", &e);
    }
    cat_unlock(m->db);
}

/* ---- stores ---- */

struct memo_blob *memo_blob_new(void)
{
    struct memo_blob *b = calloc(1, sizeof *b);
    if (!b || !(b->cctx = ZSTD_createCCtx())) {
        free(b);
        return NULL;
    }
    ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_compressionLevel, MEMO_ZSTD_LEVEL);
    ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_checksumFlag, 1); /* a damaged row is detected */
    return b;
}

void memo_blob_free(struct memo_blob *b)
{
    if (!b)
        return;
    ZSTD_freeCCtx(b->cctx);
    free(b->buf);
    free(b);
}

/* Compress in until it is consumed (or, with ZSTD_e_end, until the frame is closed). */
static int blob_push(struct memo_blob *b, const void *buf, size_t len, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = {buf, len, 0};
    for (;;) {
        if (b->cap - b->len < ZSTD_CStreamOutSize()) {
            size_t cap = b->cap ? 2 * b->cap : 2 * ZSTD_CStreamOutSize();
            unsigned char *p = realloc(b->buf, cap);
            if (!p)
                return b->failed = true, -1;
            b->buf = p;
            b->cap = cap;
        }
        ZSTD_outBuffer out = {b->buf + b->len, b->cap - b->len, 0};
        size_t left = ZSTD_compressStream2(b->cctx, &out, &in, mode);
        b->len += out.pos;
        if (ZSTD_isError(left))
            return b->failed = true, -1;
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
            return 0;
    }
}

int memo_blob_add(void *blob, const void *buf, size_t len)
{
    struct memo_blob *b = blob;
    b->raw += len;
    if (b->failed || b->raw > MEMO_MAX_RAW)
        return b->failed = true, -1;
    return blob_push(b, buf, len, ZSTD_e_continue);
}

/* A layer stored again (by another process meanwhile, or after its checksum was forgotten)
 * keeps its row; the checksum of the bytes just verified replaces what it had. */
static const char SQL_PUT[] =
    "INSERT INTO memo_layers (digest, rec_version, compression, blob_bytes, tar_bytes,"
    " stream_bytes, entries, raw_bytes, records, created_ms, last_used_ms, seen_dev, seen_ino,"
    " seen_size, seen_mtime_ns, seen_ctime_ns, seen_offset, xxh128)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    " ON CONFLICT (digest, rec_version) DO UPDATE SET"
    " xxh128 = coalesce(excluded.xxh128, xxh128)";
static const char SQL_TOTAL[] = "SELECT bytes FROM memo_stats";
static const char SQL_LRU[] = "SELECT id, length(records) FROM memo_layers ORDER BY last_used_ms";
static const char SQL_EVICT[] = "DELETE FROM memo_layers WHERE id = ?1";

static int memo_total(struct memo *m, int64_t *total, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(m->db, SQL_TOTAL, &st, e);
    if (rc != IMGSTAT_OK)
        return rc;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? IMGSTAT_OK : cat_fail(m->db, rc, "read the memo size", e);
}

/* The least recently used rows whose removal brings total within max_bytes. */
static int lru_victims(struct memo *m, int64_t total, int64_t **ids, size_t *n, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = cat_stmt(m->db, SQL_LRU, &st, e);
    size_t cap = 0;
    while (rc == IMGSTAT_OK && total > (int64_t)m->max_bytes) {
        int s = sqlite3_step(st);
        if (s != SQLITE_ROW) {
            rc = s == SQLITE_DONE ? IMGSTAT_OK : cat_fail(m->db, s, "evict", e);
            break;
        }
        if (*n == cap) {
            int64_t *v = realloc(*ids, (cap = cap ? 2 * cap : 64) * sizeof *v);
            if (!v) {
                rc = err_nomem(e);
                break;
            }
            *ids = v;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
        total -= sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st); /* a no-op for NULL */
    return rc;
}

/* Delete least recently used rows until the records fit in max_bytes; *evicted when any. */
static int evict(struct memo *m, bool *evicted, struct err *e)
{
    int64_t total = 0, *ids = NULL;
    size_t n = 0;
    int rc = memo_total(m, &total, e);
    if (rc != IMGSTAT_OK || total <= (int64_t)m->max_bytes)
        return rc;
    rc = lru_victims(m, total, &ids, &n, e);
    for (size_t i = 0; i < n && rc == IMGSTAT_OK; i++) {
        sqlite3_stmt *del;
        if ((rc = cat_stmt(m->db, SQL_EVICT, &del, e)) == IMGSTAT_OK) {
            sqlite3_bind_int64(del, 1, ids[i]);
            rc = cat_step_done(m->db, del, "evict", e);
        }
    }
    *evicted = n > 0;
    free(ids);
    return rc;
}

/* Bind a place as parameters first..first+5 (dev, ino, size, mtime, ctime, offset). */
static void bind_loc(sqlite3_stmt *st, int first, const struct memo_loc *l)
{
    sqlite3_bind_int64(st, first, (int64_t)l->dev);
    sqlite3_bind_int64(st, first + 1, (int64_t)l->ino);
    sqlite3_bind_int64(st, first + 2, (int64_t)l->size);
    sqlite3_bind_int64(st, first + 3, l->mtime_ns);
    sqlite3_bind_int64(st, first + 4, l->ctime_ns);
    sqlite3_bind_int64(st, first + 5, (int64_t)l->offset);
}

static int put_row(struct memo *m, const char *key, unsigned version, const struct memo_figures *f,
                   const struct memo_loc *where, const unsigned char *xxh,
                   const struct memo_blob *b, bool *evicted, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_begin(m->db, e);
    if (rc == IMGSTAT_OK && (rc = cat_stmt(m->db, SQL_PUT, &st, e)) == IMGSTAT_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, version);
        sqlite3_bind_text(st, 3, f->compression, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (int64_t)f->blob_bytes);
        sqlite3_bind_int64(st, 5, (int64_t)f->tar_bytes);
        sqlite3_bind_int64(st, 6, (int64_t)f->stream_bytes);
        sqlite3_bind_int64(st, 7, (int64_t)f->entries);
        sqlite3_bind_int64(st, 8, (int64_t)b->raw);
        sqlite3_bind_blob(st, 9, b->buf, (int)b->len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 10, cat_now_ms());
        static const struct memo_loc nowhere; /* a stream's blob is in no file */
        bind_loc(st, 11, where ? where : &nowhere);
        if (xxh)
            sqlite3_bind_blob(st, 17, xxh, 16, SQLITE_STATIC);
        rc = cat_step_done(m->db, st, "store a layer", e);
    }
    if (rc == IMGSTAT_OK)
        rc = evict(m, evicted, e);
    if (rc == IMGSTAT_OK)
        return cat_commit(m->db, e);
    cat_rollback(m->db);
    return rc;
}

void memo_put(struct memo *m, const char *key, unsigned version, const struct memo_figures *fig,
              const struct memo_loc *where, const unsigned char *xxh, struct memo_blob *b)
{
    if (!memo_on(m) || m->read_only || !b || b->failed || blob_push(b, NULL, 0, ZSTD_e_end) != 0)
        return;
    if (b->len > m->max_bytes || b->len > INT32_MAX)
        return; /* larger than the whole memo may be: never kept */
    struct err e = {0};
    bool evicted = false;
    cat_lock(m->db);
    int rc = put_row(m, key, version, fig, where, xxh, b, &evicted, &e);
    if (rc != IMGSTAT_OK)
        memo_fail(m, &e, rc != IMGSTAT_EINPUT);
    else if (evicted) /* give the freed pages back to the file system */
        sqlite3_exec(m->db->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
    cat_unlock(m->db);
}

static const char SQL_COUNT[] = "UPDATE memo_stats SET hits = hits + ?1, misses = misses + ?2";
static const char SQL_TOUCH[] = "UPDATE memo_layers SET last_used_ms = ?2 WHERE id = ?1";
static const char SQL_MOVED[] =
    "UPDATE memo_layers SET last_used_ms = ?2, seen_dev = ?3, seen_ino = ?4, seen_size = ?5,"
    " seen_mtime_ns = ?6, seen_ctime_ns = ?7, seen_offset = ?8,"
    " xxh128 = coalesce(?9, xxh128) WHERE id = ?1";

/* One used row: its LRU time and, when it moved, where it was seen. */
static int touch(struct memo *m, const struct used *u, int64_t now, struct err *e)
{
    sqlite3_stmt *st;
    bool moved = u->moved || u->has_xxh;
    int rc = cat_stmt(m->db, moved ? SQL_MOVED : SQL_TOUCH, &st, e);
    if (rc != IMGSTAT_OK)
        return rc;
    sqlite3_bind_int64(st, 1, u->id);
    sqlite3_bind_int64(st, 2, now);
    if (moved)
        bind_loc(st, 3, &u->where);
    if (u->has_xxh)
        sqlite3_bind_blob(st, 9, u->xxh, 16, SQLITE_STATIC);
    return cat_step_done(m->db, st, "mark layers used", e);
}

static int flush_rows(struct memo *m, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_begin(m->db, e);
    if (rc == IMGSTAT_OK && (rc = cat_stmt(m->db, SQL_COUNT, &st, e)) == IMGSTAT_OK) {
        sqlite3_bind_int64(st, 1, (int64_t)m->hits);
        sqlite3_bind_int64(st, 2, (int64_t)m->misses);
        rc = cat_step_done(m->db, st, "count hits", e);
    }
    int64_t now = cat_now_ms();
    for (size_t i = 0; i < m->nused && rc == IMGSTAT_OK; i++)
        rc = touch(m, &m->used[i], now, e);
    if (rc == IMGSTAT_OK)
        return cat_commit(m->db, e);
    cat_rollback(m->db);
    return rc;
}

void memo_flush(struct memo *m)
{
    if (!memo_on(m) || m->read_only || (!m->hits && !m->misses && !m->nused))
        return;
    struct err e = {0};
    cat_lock(m->db);
    if (flush_rows(m, &e) != IMGSTAT_OK)
        memo_fail(m, &e, true);
    m->hits = m->misses = 0;
    m->nused = 0;
    cat_unlock(m->db);
}

void memo_close(struct memo *m)
{
    if (!m)
        return;
    memo_flush(m);
    if (m->own_db)
        cat_close(m->db);
    free(m->used);
    free(m);
}

/* ---- administration ---- */

int memo_info(struct cat_db *db, struct memo_info *out, struct err *e)
{
    sqlite3_stmt *st;
    static const char sql[] = "SELECT layers, bytes, hits, misses, created_ms FROM memo_stats";
    cat_lock(db);
    int rc = cat_stmt(db, sql, &st, e);
    if (rc != IMGSTAT_OK) {
        cat_unlock(db);
        return rc;
    }
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = (struct memo_info){
            (uint64_t)sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
            (uint64_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3),
            sqlite3_column_int64(st, 4)};
        rc = IMGSTAT_OK;
    } else {
        rc = cat_fail(db, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "read the memo", e);
    }
    sqlite3_reset(st);
    cat_unlock(db);
    return rc;
}

int memo_clear(struct cat_db *db, struct err *e)
{
    cat_lock(db);
    int rc = cat_begin(db, e);
    if (rc == IMGSTAT_OK && (rc = cat_exec(db, "DELETE FROM memo_layers", e)) == IMGSTAT_OK)
        rc = cat_commit(db, e);
    else
        cat_rollback(db);
    /* give the pages back and fold the WAL into the file */
    if (rc == IMGSTAT_OK)
        rc = cat_exec(db, "PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);", e);
    cat_unlock(db);
    return rc;
}
