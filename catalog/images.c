/*
 * The catalog's inputs and images (images.h).
 */
#include "images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[IMGSTAT_SCAN_STATUSES] = {"waiting_for_scan", "scanning",
                                                                "success", "failed"};

const char *imgstat_scan_status_name(int status)
{
    return status >= 0 && status < IMGSTAT_SCAN_STATUSES ? status_names[status] : NULL;
}

int imgstat_scan_status_parse(const char *name)
{
    for (int i = 0; name && i < IMGSTAT_SCAN_STATUSES; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

/* ---- references ---- */

static bool copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* distribution/reference's rules: the first component is a registry host when it has a '.'
 * or a ':' or is "localhost"; Docker Hub names without a namespace are in "library". */
bool cat_ref_parse(const char *ref, struct cat_ref *r)
{
    size_t len = strcspn(ref, "@"); /* a digest after the name does not change it */
    const char *slash = memchr(ref, '/', len);
    const char *name = ref;
    bool host = slash && (memchr(ref, '.', (size_t)(slash - ref)) ||
                          memchr(ref, ':', (size_t)(slash - ref)) ||
                          ((size_t)(slash - ref) == 9 && memcmp(ref, "localhost", 9) == 0));
    if (host) {
        if (!copy(r->host, sizeof r->host, ref, (size_t)(slash - ref)))
            return false;
        name = slash + 1;
    } else {
        strcpy(r->host, "docker.io");
    }
    if (strcmp(r->host, "index.docker.io") == 0)
        strcpy(r->host, "docker.io");
    size_t nlen = len - (size_t)(name - ref);
    const char *last = name;
    for (const char *p = name; p < name + nlen; p++)
        if (*p == '/')
            last = p + 1;
    const char *colon = memchr(last, ':', nlen - (size_t)(last - name));
    size_t end = colon ? (size_t)(colon - name) : nlen;
    if (end == 0 || last == name + end)
        return false;
    if (!copy(r->tag, sizeof r->tag, colon ? colon + 1 : "latest",
              colon ? nlen - end - 1 : strlen("latest")) ||
        !copy(r->name, sizeof r->name, last, end - (size_t)(last - name)))
        return false;
    if (last > name)
        return copy(r->ns, sizeof r->ns, name, (size_t)(last - name - 1));
    strcpy(r->ns, strcmp(r->host, "docker.io") == 0 ? "library" : "");
    return true;
}

/* ---- inputs ---- */

static const char SQL_MARK[] =
    "INSERT INTO inputs (path, status, failed_desc, added_ms, updated_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (path) DO UPDATE SET"
    " status = excluded.status, failed_desc = excluded.failed_desc,"
    " updated_ms = excluded.updated_ms";

int cat_input_mark(struct cat_db *d, const char *path, int status, const char *desc, struct err *e)
{
    sqlite3_stmt *st;
    if (!imgstat_scan_status_name(status))
        return err_set(e, IMGSTAT_EUSAGE, "catalog: no scan status %d", status);
    int rc = cat_stmt(d, SQL_MARK, &st, e);
    if (rc != IMGSTAT_OK)
        return rc;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status_names[status], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, desc ? desc : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, cat_now_ms());
    return cat_step_done(d, st, "mark an input", e);
}

static const char SQL_RECORD[] =
    "INSERT INTO inputs (path, dev, ino, size, mtime_ns, status, failed_desc, added_ms,"
    " updated_ms, scanned_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8)"
    " ON CONFLICT (path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino,"
    " size = excluded.size, mtime_ns = excluded.mtime_ns, status = excluded.status,"
    " failed_desc = excluded.failed_desc, updated_ms = excluded.updated_ms,"
    " scanned_ms = excluded.scanned_ms RETURNING id";
static const char SQL_DROP_IMAGES[] = "DELETE FROM images WHERE input_id = ?1";
static const char SQL_IMAGE[] =
    "INSERT INTO images (input_id, seq, image_id, id_hex, manifest_digest, format, platform,"
    " refs, status, failed_desc, files, bytes, image_size, detail, scanned_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, json(?8), ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    " RETURNING id";
static const char SQL_REF[] = "INSERT INTO image_refs (image, ref, host, namespace, name, tag)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/* Step a statement that returns one id (RETURNING). */
static int step_id(struct cat_db *d, sqlite3_stmt *st, int64_t *id, const char *what, struct err *e)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? IMGSTAT_OK : cat_fail(d, rc, what, e);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int put_input(struct cat_db *d, const char *path, const struct cat_identity *id,
                     const char *failed_desc, int64_t now, int64_t *key, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(d, SQL_RECORD, &st, e);
    if (rc != IMGSTAT_OK)
        return rc;
    bind_text(st, 1, path);
    sqlite3_bind_int64(st, 2, (int64_t)id->dev);
    sqlite3_bind_int64(st, 3, (int64_t)id->ino);
    sqlite3_bind_int64(st, 4, (int64_t)id->size);
    sqlite3_bind_int64(st, 5, id->mtime_ns);
    bind_text(st, 6, status_names[failed_desc ? IMGSTAT_SCAN_FAILED : IMGSTAT_SCAN_SUCCESS]);
    bind_text(st, 7, failed_desc ? failed_desc : "");
    sqlite3_bind_int64(st, 8, now);
    if ((rc = step_id(d, st, key, "record an input", e)) != IMGSTAT_OK ||
        (rc = cat_stmt(d, SQL_DROP_IMAGES, &st, e)) != IMGSTAT_OK)
        return rc;
    sqlite3_bind_int64(st, 1, *key);
    return cat_step_done(d, st, "replace an input's images", e);
}

/* The refs as a JSON array (json() in SQL checks and normalises it). */
static char *refs_json(const struct cat_image *im)
{
    size_t cap = 3;
    for (size_t i = 0; i < im->nrefs; i++)
        cap += 6 * strlen(im->refs[i]) + 3;
    char *j = malloc(cap), *p = j;
    if (!j)
        return NULL;
    *p++ = '[';
    for (size_t i = 0; i < im->nrefs; i++) {
        p += sprintf(p, "%s\"", i ? "," : "");
        for (const unsigned char *s = (const unsigned char *)im->refs[i]; *s; s++)
            p += *s < 0x20 || *s == '"' || *s == '\\' ? sprintf(p, "\\u%04x", *s)
                                                      : sprintf(p, "%c", *s);
        *p++ = '"';
    }
    strcpy(p, "]");
    return j;
}

static int put_refs(struct cat_db *d, int64_t image, const struct cat_image *im, struct err *e)
{
    for (size_t i = 0; i < im->nrefs; i++) {
        struct cat_ref r;
        sqlite3_stmt *st;
        if (!cat_ref_parse(im->refs[i], &r))
            continue; /* kept in refs_json, not selectable by name */
        int rc = cat_stmt(d, SQL_REF, &st, e);
        if (rc != IMGSTAT_OK)
            return rc;
        sqlite3_bind_int64(st, 1, image);
        bind_text(st, 2, im->refs[i]);
        bind_text(st, 3, r.host);
        bind_text(st, 4, r.ns);
        bind_text(st, 5, r.name);
        bind_text(st, 6, r.tag);
        if ((rc = cat_step_done(d, st, "record a ref", e)) != IMGSTAT_OK)
            return rc;
    }
    return IMGSTAT_OK;
}

static int put_image(struct cat_db *d, int64_t input, size_t seq, const struct cat_image *im,
                     int64_t now, struct err *e)
{
    sqlite3_stmt *st;
    char *refs = refs_json(im);
    int rc = refs ? cat_stmt(d, SQL_IMAGE, &st, e) : err_nomem(e);
    if (rc != IMGSTAT_OK) {
        free(refs);
        return rc;
    }
    const char *colon = im->image_id ? strchr(im->image_id, ':') : NULL;
    sqlite3_bind_int64(st, 1, input);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    bind_text(st, 3, im->image_id);
    bind_text(st, 4, colon ? colon + 1 : im->image_id);
    bind_text(st, 5, im->manifest_digest);
    bind_text(st, 6, im->format);
    bind_text(st, 7, im->platform);
    bind_text(st, 8, refs);
    bind_text(st, 9, status_names[im->failed_desc ? IMGSTAT_SCAN_FAILED : IMGSTAT_SCAN_SUCCESS]);
    bind_text(st, 10, im->failed_desc ? im->failed_desc : "");
    sqlite3_bind_int64(st, 11, (int64_t)im->files);
    sqlite3_bind_int64(st, 12, (int64_t)im->bytes);
    sqlite3_bind_int64(st, 13, (int64_t)im->image_size);
    bind_text(st, 14, im->detail_json);
    sqlite3_bind_int64(st, 15, now);
    int64_t key = 0;
    rc = step_id(d, st, &key, "record an image", e);
    free(refs);
    if (rc == IMGSTAT_OK)
        rc = put_refs(d, key, im, e);
    if (rc == IMGSTAT_OK && im->list)
        rc = cat_files_store(d, key, im->list, e);
    return rc;
}

int cat_input_record(struct cat_db *d, const char *path, const struct cat_identity *id,
                     const char *failed_desc, const struct cat_image *v, size_t n, struct err *e)
{
    int64_t key = 0, now = cat_now_ms();
    int rc = cat_begin(d, e);
    if (rc != IMGSTAT_OK)
        return rc;
    rc = put_input(d, path, id, failed_desc, now, &key, e);
    for (size_t i = 0; i < n && rc == IMGSTAT_OK; i++)
        rc = put_image(d, key, i, &v[i], now, e);
    if (rc == IMGSTAT_OK)
        return cat_commit(d, e);
    cat_rollback(d);
    return rc;
}

static const char SQL_REMOVE[] = "DELETE FROM inputs WHERE path = ?1";

int cat_input_remove(struct cat_db *d, const char *path, bool *found, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(d, SQL_REMOVE, &st, e);
    if (rc != IMGSTAT_OK)
        return rc;
    bind_text(st, 1, path);
    rc = cat_step_done(d, st, "remove an input", e);
    *found = rc == IMGSTAT_OK && sqlite3_changes(d->db) > 0;
    return rc;
}

static const char SQL_INPUTS[] =
    "SELECT path, dev, ino, size, mtime_ns, status, failed_desc, added_ms, updated_ms,"
    " scanned_ms FROM inputs ORDER BY path";

int cat_inputs(struct cat_db *d, imgstat_input_fn fn, void *ctx, struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(d, SQL_INPUTS, &st, e), s, stop = 0;
    if (rc != IMGSTAT_OK)
        return rc;
    while (!stop && (s = sqlite3_step(st)) == SQLITE_ROW) {
        struct imgstat_catalog_input in = {
            (const char *)sqlite3_column_text(st, 0),
            (uint64_t)sqlite3_column_int64(st, 1),
            (uint64_t)sqlite3_column_int64(st, 2),
            (uint64_t)sqlite3_column_int64(st, 3),
            sqlite3_column_int64(st, 4),
            imgstat_scan_status_parse((const char *)sqlite3_column_text(st, 5)),
            (const char *)sqlite3_column_text(st, 6),
            sqlite3_column_int64(st, 7),
            sqlite3_column_int64(st, 8),
            sqlite3_column_int64(st, 9)};
        stop = fn(ctx, &in);
    }
    sqlite3_reset(st);
    if (stop)
        return stop;
    return s == SQLITE_DONE ? IMGSTAT_OK : cat_fail(d, s, "list inputs", e);
}

/* ---- entries ---- */

/* An entry's columns, from images m joined with inputs n (and r, the image's first ref). */
#define ENTRY_STATUS                                                                               \
    "CASE WHEN n.status IN ('waiting_for_scan', 'scanning') THEN n.status ELSE m.status END"
#define ENTRY_COLUMNS                                                                              \
    "m.id AS key, n.path AS input, m.seq AS seq, m.image_id, m.manifest_digest, m.format,"         \
    " m.platform, m.refs, " ENTRY_STATUS " AS status, m.failed_desc, m.files, m.bytes,"            \
    " m.image_size, m.detail, n.mtime_ns, n.added_ms, n.updated_ms, m.scanned_ms"
#define FIRST_REF "(SELECT min(rowid) FROM image_refs WHERE image = m.id)"
/* Every entry: the images, and the inputs that have none. */
#define ENTRIES                                                                                    \
    "SELECT " ENTRY_COLUMNS ", r.ref, r.host, r.namespace, r.name, r.tag"                          \
    " FROM images m JOIN inputs n ON n.id = m.input_id"                                            \
    " LEFT JOIN image_refs r ON r.rowid = " FIRST_REF                                              \
    " UNION ALL SELECT 0, n.path, 0, NULL, NULL, NULL, NULL, '[]', n.status, n.failed_desc,"       \
    " 0, 0, 0, NULL, n.mtime_ns, n.added_ms, n.updated_ms, n.scanned_ms,"                          \
    " NULL, NULL, NULL, NULL, NULL FROM inputs n"                                                  \
    " WHERE NOT EXISTS (SELECT 1 FROM images m WHERE m.input_id = n.id)"
#define LIST_WHERE                                                                                 \
    " WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM image_refs x WHERE x.image = e.key AND"           \
    " (instr(x.ref, ?1) > 0 OR instr(x.namespace || '/' || x.name, ?1) > 0)))"                     \
    " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM image_refs x WHERE x.image = e.key AND"             \
    " x.tag = ?2)) AND (?3 IS NULL OR e.status = ?3)"

static const char SQL_LIST[] =
    "SELECT * FROM (" ENTRIES ") e" LIST_WHERE " ORDER BY e.input, e.seq LIMIT ?4 OFFSET ?5";
static const char SQL_LIST_COUNT[] = "SELECT count(*) FROM (" ENTRIES ") e" LIST_WHERE;

static const char *text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* The entry in the current row of a statement selecting ENTRY_COLUMNS and the ref's parts. */
static void entry_of(sqlite3_stmt *st, struct imgstat_catalog_image *im)
{
    *im = (struct imgstat_catalog_image){.key = sqlite3_column_int64(st, 0),
                                         .input = text(st, 1),
                                         .index = (uint64_t)sqlite3_column_int64(st, 2),
                                         .image_id = text(st, 3),
                                         .manifest_digest = text(st, 4),
                                         .format = text(st, 5),
                                         .platform = text(st, 6),
                                         .refs_json = text(st, 7),
                                         .status = imgstat_scan_status_parse(text(st, 8)),
                                         .failed_desc = text(st, 9),
                                         .files = (uint64_t)sqlite3_column_int64(st, 10),
                                         .bytes = (uint64_t)sqlite3_column_int64(st, 11),
                                         .image_size = (uint64_t)sqlite3_column_int64(st, 12),
                                         .detail_json = text(st, 13),
                                         .mtime_ms = sqlite3_column_int64(st, 14) / 1000000,
                                         .added_ms = sqlite3_column_int64(st, 15),
                                         .updated_ms = sqlite3_column_int64(st, 16),
                                         .scanned_ms = sqlite3_column_int64(st, 17),
                                         .ref = text(st, 18),
                                         .host = text(st, 19),
                                         .ns = text(st, 20),
                                         .name = text(st, 21),
                                         .tag = text(st, 22)};
}

static void bind_query(sqlite3_stmt *st, const struct imgstat_catalog_query *q)
{
    bind_text(st, 1, q->image_name);
    bind_text(st, 2, q->image_version);
    if (q->status > 0)
        bind_text(st, 3, imgstat_scan_status_name(q->status - 1));
}

static int list_count(struct cat_db *d, const struct imgstat_catalog_query *q, uint64_t *total,
                      struct err *e)
{
    sqlite3_stmt *st;
    int rc = cat_stmt(d, SQL_LIST_COUNT, &st, e);
    if (rc != IMGSTAT_OK)
        return rc;
    bind_query(st, q);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *total = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? IMGSTAT_OK : cat_fail(d, rc, "count images", e);
}

/* Every row of a statement selecting entries to fn. */
static int each_entry(struct cat_db *d, sqlite3_stmt *st, imgstat_image_fn fn, void *ctx,
                      uint64_t *rows, struct err *e)
{
    int s, stop = 0;
    *rows = 0;
    while (!stop && (s = sqlite3_step(st)) == SQLITE_ROW) {
        struct imgstat_catalog_image im;
        entry_of(st, &im);
        (*rows)++;
        stop = fn ? fn(ctx, &im) : 0;
    }
    sqlite3_reset(st);
    if (stop)
        return stop;
    return s == SQLITE_DONE ? IMGSTAT_OK : cat_fail(d, s, "list images", e);
}

int cat_list(struct cat_db *d, const struct imgstat_catalog_query *q, imgstat_image_fn fn,
             void *ctx, uint64_t *total, struct err *e)
{
    static const struct imgstat_catalog_query all = {0};
    q = q ? q : &all;
    if (q->status < 0 || q->status > IMGSTAT_SCAN_STATUSES)
        return err_set(e, IMGSTAT_EUSAGE, "catalog: no scan status %d", q->status - 1);
    sqlite3_stmt *st;
    uint64_t rows;
    int rc = list_count(d, q, total, e);
    if (rc != IMGSTAT_OK || (rc = cat_stmt(d, SQL_LIST, &st, e)) != IMGSTAT_OK)
        return rc;
    bind_query(st, q);
    sqlite3_bind_int64(st, 4, q->limit && q->limit <= INT64_MAX ? (int64_t)q->limit : -1);
    sqlite3_bind_int64(st, 5, q->offset <= INT64_MAX ? (int64_t)q->offset : INT64_MAX);
    return each_entry(d, st, fn, ctx, &rows, e);
}

/* ---- finding one image ---- */

/* Images whose ID starts with ?1 (id_hex in [?1, ?2)), or that carry the ref ?3/?4:?5 with
 * ?3 the namespace (or HOST/NAMESPACE; NULL: any), best first: scanned, then newest. */
#define FIND_ORDER " ORDER BY m.status = 'success' DESC, m.scanned_ms DESC, m.id DESC"
static const char SQL_FIND_ID[] =
    "SELECT " ENTRY_COLUMNS ", r.ref, r.host, r.namespace, r.name, r.tag"
    " FROM images m JOIN inputs n ON n.id = m.input_id LEFT JOIN image_refs r"
    " ON r.rowid = " FIRST_REF " WHERE m.id_hex >= ?1 AND m.id_hex < ?2" FIND_ORDER;
static const char SQL_FIND_REF[] =
    "SELECT " ENTRY_COLUMNS ", r.ref, r.host, r.namespace, r.name, r.tag"
    " FROM images m JOIN inputs n ON n.id = m.input_id LEFT JOIN image_refs r"
    " ON r.rowid = " FIRST_REF " WHERE m.id IN (SELECT x.image FROM image_refs x"
    " WHERE x.name = ?4 AND x.tag = ?5 AND (?3 IS NULL OR x.namespace = ?3"
    " OR x.host || '/' || x.namespace = ?3 OR (x.namespace = '' AND x.host = ?3)))"
    " AND (?1 IS NULL OR (m.id_hex >= ?1 AND m.id_hex < ?2))" FIND_ORDER;

/* "sha256:HEX", HEX or a prefix of >= 12 hex digits into the range [lo, hi) of IDs. */
static int id_range(const char *id, char *lo, char *hi, struct err *e)
{
    const char *hex = strncmp(id, "sha256:", 7) == 0 ? id + 7 : id;
    size_t n = strlen(hex);
    bool ok = n >= 12 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f');
    if (!ok)
        return err_set(e, IMGSTAT_EUSAGE,
                       "image_id: expected sha256:HEX, HEX or at least 12 lowercase hex digits");
    memcpy(lo, hex, n + 1);
    memcpy(hi, hex, n);
    strcpy(hi + n, "g"); /* 'g' sorts after every hex digit: [lo, hi) holds lo's extensions */
    return IMGSTAT_OK;
}

/* The first row (the best) to fn; ESELECT when rows hold several distinct image IDs. */
static int find_first(struct cat_db *d, sqlite3_stmt *st, const char *what, imgstat_image_fn fn,
                      void *ctx, int *found, struct err *e)
{
    int s = sqlite3_step(st), rc = IMGSTAT_OK;
    *found = s == SQLITE_ROW;
    if (s != SQLITE_ROW) {
        sqlite3_reset(st);
        return s == SQLITE_DONE ? IMGSTAT_OK : cat_fail(d, s, "find an image", e);
    }
    const char *first = text(st, 3);
    char id[80];
    snprintf(id, sizeof id, "%s", first ? first : "");
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (!text(st, 3) || strcmp(text(st, 3), id) != 0)
            rc = err_set(e, IMGSTAT_ESELECT, "%s names several images (%s and %s)", what, id,
                         text(st, 3) ? text(st, 3) : "one without an ID");
    sqlite3_reset(st);
    if (rc == IMGSTAT_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        struct imgstat_catalog_image im;
        entry_of(st, &im);
        rc = fn(ctx, &im);
    }
    sqlite3_reset(st);
    return rc;
}

int cat_find(struct cat_db *d, const struct imgstat_catalog_select *s, imgstat_image_fn fn,
             void *ctx, int *found, struct err *e)
{
    char lo[72], hi[72];
    sqlite3_stmt *st;
    *found = 0;
    if (!s->name && !s->image_id)
        return err_set(e, IMGSTAT_EUSAGE, "catalog: select an image by image_id or name");
    int rc = s->image_id ? id_range(s->image_id, lo, hi, e) : IMGSTAT_OK;
    if (rc != IMGSTAT_OK || (rc = cat_stmt(d, s->name ? SQL_FIND_REF : SQL_FIND_ID, &st, e)))
        return rc;
    if (s->image_id) {
        sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
    }
    if (s->name) {
        bind_text(st, 3, s->ns && *s->ns ? s->ns : NULL);
        bind_text(st, 4, s->name);
        bind_text(st, 5, s->tag ? s->tag : "latest");
    }
    return find_first(d, st, s->image_id ? s->image_id : s->name, fn, ctx, found, e);
}

static const char SQL_COUNTS[] = "SELECT e.status, count(*) FROM (" ENTRIES ") e GROUP BY e.status";
static const char SQL_MEMO[] =
    "SELECT layers, bytes, hits, misses, (SELECT count(*) FROM inputs) FROM memo_stats";

int cat_counts(struct cat_db *d, struct imgstat_catalog_counts *out, struct err *e)
{
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = cat_stmt(d, SQL_COUNTS, &st, e), s;
    if (rc != IMGSTAT_OK)
        return rc;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int k = imgstat_scan_status_parse(text(st, 0));
        if (k >= 0)
            out->entries[k] = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE || (rc = cat_stmt(d, SQL_MEMO, &st, e)) != IMGSTAT_OK)
        return rc ? rc : cat_fail(d, s, "count images", e);
    if ((s = sqlite3_step(st)) == SQLITE_ROW) {
        out->memo_layers = (uint64_t)sqlite3_column_int64(st, 0);
        out->memo_bytes = (uint64_t)sqlite3_column_int64(st, 1);
        out->memo_hits = (uint64_t)sqlite3_column_int64(st, 2);
        out->memo_misses = (uint64_t)sqlite3_column_int64(st, 3);
        out->inputs = (uint64_t)sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    return s == SQLITE_ROW ? IMGSTAT_OK : cat_fail(d, s, "count the memo", e);
}
