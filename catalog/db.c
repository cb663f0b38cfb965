/*
 * The catalog file (db.h): opening it, its schema and its migrations, and the helpers
 * every query uses.
 */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "imgstat.h"

#define TEXT_OF_(x) #x
#define TEXT_OF(x) TEXT_OF_(x) /* a number's digits, for the schema's SQL */

/*
 * The schema, one forward step per version: migrations[v] takes a file from version v to
 * v + 1.  A step is never edited once released; a change is a new step.
 */
static const char *const migrations[CAT_SCHEMA_VERSION] = {
    /* 0 -> 1: the layer memo (issue 10).  A layer's entry records (rec_export bytes,
     * zstd-compressed), keyed by the blob's digest and the record format, with the figures
     * that do not depend on the layers below.  memo_stats keeps the totals current through
     * triggers, so whatever deletes rows keeps them right. */
    "CREATE TABLE memo_layers ("
    " id INTEGER PRIMARY KEY,"
    " digest TEXT NOT NULL,"
    " rec_version INTEGER NOT NULL,"
    " compression TEXT NOT NULL,"
    " blob_bytes INTEGER NOT NULL,"
    " tar_bytes INTEGER NOT NULL,"
    " stream_bytes INTEGER NOT NULL,"
    " entries INTEGER NOT NULL,"
    " raw_bytes INTEGER NOT NULL,"
    " records BLOB NOT NULL,"
    /* where the blob was last seen with these bytes (a file's identity and offset), and a
     * fast checksum of them once known: what lets a hit trust a blob without hashing it */
    " seen_dev INTEGER NOT NULL DEFAULT 0, seen_ino INTEGER NOT NULL DEFAULT 0,"
    " seen_size INTEGER NOT NULL DEFAULT 0, seen_mtime_ns INTEGER NOT NULL DEFAULT 0,"
    " seen_ctime_ns INTEGER NOT NULL DEFAULT 0, seen_offset INTEGER NOT NULL DEFAULT 0,"
    " xxh128 BLOB,"
    " created_ms INTEGER NOT NULL,"
    " last_used_ms INTEGER NOT NULL,"
    " UNIQUE (digest, rec_version));"
    "CREATE INDEX memo_layers_lru ON memo_layers (last_used_ms);"
    "CREATE TABLE memo_stats ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " layers INTEGER NOT NULL, bytes INTEGER NOT NULL,"
    " hits INTEGER NOT NULL, misses INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "INSERT INTO memo_stats VALUES (1, 0, 0, 0, 0, CAST((julianday('now') - 2440587.5) * 86400000 "
    "AS INTEGER));"
    "CREATE TRIGGER memo_layers_add AFTER INSERT ON memo_layers BEGIN"
    " UPDATE memo_stats SET layers = layers + 1, bytes = bytes + length(NEW.records); END;"
    "CREATE TRIGGER memo_layers_del AFTER DELETE ON memo_layers BEGIN"
    " UPDATE memo_stats SET layers = layers - 1, bytes = bytes - length(OLD.records); END;",

    /* 1 -> 2: the catalog of images (issue 11).  An input is a file or layout directory;
     * its images are replaced together in one transaction when it is scanned again. */
    "CREATE TABLE inputs ("
    " id INTEGER PRIMARY KEY,"
    " path TEXT NOT NULL UNIQUE,"
    " dev INTEGER NOT NULL DEFAULT 0, ino INTEGER NOT NULL DEFAULT 0,"
    " size INTEGER NOT NULL DEFAULT 0, mtime_ns INTEGER NOT NULL DEFAULT 0,"
    " status TEXT NOT NULL CHECK (status IN"
    "  ('waiting_for_scan', 'scanning', 'success', 'failed')),"
    " failed_desc TEXT NOT NULL DEFAULT '',"
    " added_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " scanned_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE images ("
    " id INTEGER PRIMARY KEY,"
    " input_id INTEGER NOT NULL REFERENCES inputs (id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL,"
    " image_id TEXT, id_hex TEXT, manifest_digest TEXT,"
    " format TEXT, platform TEXT,"
    " refs TEXT NOT NULL DEFAULT '[]',"
    " status TEXT NOT NULL CHECK (status IN ('success', 'failed')),"
    " failed_desc TEXT NOT NULL DEFAULT '',"
    " files INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    " image_size INTEGER NOT NULL DEFAULT 0,"
    " detail TEXT,"
    " scanned_ms INTEGER NOT NULL,"
    " UNIQUE (input_id, seq));"
    "CREATE INDEX images_id_hex ON images (id_hex);"
    "CREATE TABLE image_refs ("
    " image INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
    " ref TEXT NOT NULL, host TEXT NOT NULL, namespace TEXT NOT NULL,"
    " name TEXT NOT NULL, tag TEXT NOT NULL);"
    "CREATE INDEX image_refs_name ON image_refs (name, tag);"
    "CREATE INDEX image_refs_image ON image_refs (image);"
    "CREATE TABLE image_files ("
    " image INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, nfiles INTEGER NOT NULL, data BLOB NOT NULL,"
    " UNIQUE (image, seq));",

    /* 2 -> 3: the memo's checksums keyed (M3).  An unkeyed XXH3-128 is no defence against a
     * blob crafted to collide with a remembered layer's; keyed with a secret of this file
     * (random, never leaving it) it is.  The unkeyed checksums stored so far are forgotten:
     * kept, none would ever match a keyed one, and a layer met elsewhere has its digest
     * computed again, which gives it a keyed checksum.  The secret: migration_then. */
    "CREATE TABLE memo_secret ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " secret BLOB NOT NULL CHECK (length(secret) = " TEXT_OF(
        CAT_SECRET_BYTES) "));"
                          "UPDATE memo_layers SET xxh128 = NULL;",
};

static int new_memo_secret(struct cat_db *d, struct err *e);

/* What a step does that SQL cannot (randomness from the kernel), after its SQL and in the
 * same transaction. */
static int (*const migration_then[CAT_SCHEMA_VERSION])(struct cat_db *d, struct err *e) = {
    [2] = new_memo_secret,
};

/* The memo's secret (M3): CAT_SECRET_BYTES from the kernel's generator, in the file. */
static int new_memo_secret(struct cat_db *d, struct err *e)
{
    unsigned char secret[CAT_SECRET_BYTES];
    for (size_t have = 0; have < sizeof secret;) {
        ssize_t n = getrandom(secret + have, sizeof secret - have, 0);
        if (n < 0 && errno != EINTR)
            return err_sys(e, errno, "%s: getrandom", d->path);
        have += n > 0 ? (size_t)n : 0;
    }
    static const char sql[] = "INSERT INTO memo_secret (id, secret) VALUES (1, ?1)";
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, secret, sizeof secret, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? IMGSTAT_OK : cat_fail(d, rc, "store the memo's secret", e);
}

int64_t cat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int code_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM: return IMGSTAT_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
    case SQLITE_SCHEMA: return IMGSTAT_EINPUT;
    default: return IMGSTAT_ESYS;
    }
}

int cat_fail(struct cat_db *d, int rc, const char *what, struct err *e)
{
    const char *why = d && d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        why = "locked by another process (busy timeout)";
    bool damaged = (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
    return err_set(e, code_of(rc), "%s: %s: %s%s", d && d->path ? d->path : "catalog", what, why,
                   damaged ? " (damaged: `imgstat cache clear` replaces a memo)" : "");
}

void cat_lock(struct cat_db *d)
{
    pthread_mutex_lock(&d->mu);
}

void cat_unlock(struct cat_db *d)
{
    pthread_mutex_unlock(&d->mu);
}

int cat_stmt(struct cat_db *d, const char *sql, sqlite3_stmt **st, struct err *e)
{
    for (int i = 0; i < d->nstmts; i++) {
        if (d->stmts[i].sql == sql) {
            *st = d->stmts[i].st;
            sqlite3_reset(*st);
            sqlite3_clear_bindings(*st);
            return IMGSTAT_OK;
        }
    }
    if (d->nstmts == CAT_MAX_STMTS)
        return err_set(e, IMGSTAT_ENOMEM, "catalog: more than %d statements (CAT_MAX_STMTS)",
                       CAT_MAX_STMTS);
    int rc = sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK)
        return cat_fail(d, rc, "prepare", e);
    d->stmts[d->nstmts].sql = sql;
    d->stmts[d->nstmts++].st = *st;
    return IMGSTAT_OK;
}

int cat_exec(struct cat_db *d, const char *sql, struct err *e)
{
    int rc = sqlite3_exec(d->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? IMGSTAT_OK : cat_fail(d, rc, "write", e);
}

int cat_step_done(struct cat_db *d, sqlite3_stmt *st, const char *what, struct err *e)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? IMGSTAT_OK : cat_fail(d, rc, what, e);
}

int cat_begin(struct cat_db *d, struct err *e)
{
    int rc = sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    return rc == SQLITE_OK ? IMGSTAT_OK : cat_fail(d, rc, "begin a write", e);
}

int cat_commit(struct cat_db *d, struct err *e)
{
    int rc = sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return IMGSTAT_OK;
    int code = cat_fail(d, rc, "commit", e);
    cat_rollback(d);
    return code;
}

void cat_rollback(struct cat_db *d)
{
    if (!sqlite3_get_autocommit(d->db))
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

/* One integer from a query without parameters (a PRAGMA, a count). */
static int query_int(struct cat_db *d, const char *sql, int64_t *out, struct err *e)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? IMGSTAT_OK : cat_fail(d, rc, "read the schema", e);
}

/* Is this file imgstat's, and at which version?  0 for a new, empty database.  *refused:
 * it was read, and it is a newer imgstat's or another program's (may be NULL). */
static int schema_version(struct cat_db *d, int64_t *version, bool *refused, struct err *e)
{
    int64_t app = 0, tables = 0;
    int rc;
    if ((rc = query_int(d, "PRAGMA application_id", &app, e)) != IMGSTAT_OK ||
        (rc = query_int(d, "PRAGMA user_version", version, e)) != IMGSTAT_OK ||
        (rc = query_int(d, "SELECT count(*) FROM sqlite_master", &tables, e)) != IMGSTAT_OK)
        return rc;
    bool foreign = app != CAT_APP_ID && tables > 0;
    if (app == CAT_APP_ID && *version > CAT_SCHEMA_VERSION) {
        if (refused)
            *refused = true;
        return err_set(e, IMGSTAT_EINPUT,
                       "%s: written by a newer imgstat (catalog schema %lld; this one reads up "
                       "to %d): not used",
                       d->path, (long long)*version, CAT_SCHEMA_VERSION);
    }
    if (refused)
        *refused = foreign;
    if (foreign)
        return err_set(e, IMGSTAT_EINPUT,
                       "%s: not an imgstat catalog (a database of another program)", d->path);
    if (app != CAT_APP_ID)
        *version = 0;
    return IMGSTAT_OK;
}

/* Bring the schema to CAT_SCHEMA_VERSION, re-reading the version inside the write lock so
 * that two processes opening a new file at once create it once. */
static int migrate(struct cat_db *d, struct err *e)
{
    int64_t v;
    int rc = schema_version(d, &v, NULL, e);
    if (rc != IMGSTAT_OK || v == CAT_SCHEMA_VERSION)
        return rc;
    if ((rc = cat_begin(d, e)) != IMGSTAT_OK)
        return rc;
    rc = schema_version(d, &v, NULL, e);
    for (; rc == IMGSTAT_OK && v < CAT_SCHEMA_VERSION; v++) {
        char bump[96];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %lld; PRAGMA application_id = %d;",
                 (long long)v + 1, CAT_APP_ID);
        if ((rc = cat_exec(d, migrations[v], e)) == IMGSTAT_OK && migration_then[v])
            rc = migration_then[v](d, e);
        if (rc == IMGSTAT_OK)
            rc = cat_exec(d, bump, e);
    }
    if (rc != IMGSTAT_OK) {
        cat_rollback(d);
        err_prefix(e, "schema migration");
        return rc;
    }
    return cat_commit(d, e);
}

/* Refuse a file that is not ours (or is a newer imgstat's) before anything writes to it:
 * even switching to WAL would change its header. */
static int check_first(struct cat_db *d, int busy_ms, struct err *e)
{
    int64_t v;
    sqlite3_busy_timeout(d->db, busy_ms);
    return schema_version(d, &v, NULL, e);
}

/* Connection settings: WAL (persistent in the file), fsync only at checkpoints (a crash
 * loses at most the last transactions, never consistency), foreign keys for the cascades. */
static int configure(struct cat_db *d, struct err *e)
{
    int64_t pages = 0;
    int code = query_int(d, "PRAGMA page_count", &pages, e);
    /* must precede the first table: lets eviction give pages back (incremental_vacuum) */
    if (code == IMGSTAT_OK && pages == 0)
        code = cat_exec(d, "PRAGMA auto_vacuum = INCREMENTAL", e);
    if (code != IMGSTAT_OK)
        return code;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(d->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0 ? SQLITE_OK
                                                                          : SQLITE_CANTOPEN;
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return cat_fail(d, rc, "switch to WAL", e);
    return cat_exec(d, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", e);
}

/* path as an SQLite URI filename with query q: '%', '?' and '#' escaped (sqlite3_free). */
static char *uri_of(const char *path, const char *q)
{
    size_t n = strlen(path), at = 0;
    char *u = sqlite3_malloc64(3 * n + strlen(q) + 8);
    if (!u)
        return NULL;
    at += (size_t)sprintf(u, "file:");
    for (const char *c = path; *c; c++)
        at += (size_t)(*c == '%' || *c == '?' || *c == '#' ? sprintf(u + at, "%%%02X", *c)
                                                           : sprintf(u + at, "%c", *c));
    sprintf(u + at, "?%s", q);
    return u;
}

/* Drop the connection of d (its statements too), keeping d. */
static void disconnect(struct cat_db *d)
{
    for (int i = 0; i < d->nstmts; i++)
        sqlite3_finalize(d->stmts[i].st);
    d->nstmts = 0;
    sqlite3_close_v2(d->db);
    d->db = NULL;
}

/* The file exists but cannot be written (a read-only file system, or a file not ours to
 * write): open it to read only, so that what it holds is still answered.  SQLite cannot read
 * a WAL file without its -shm file, which a read-only file system cannot get: there the file
 * is opened immutable, which it is while the file system stays read-only.  Nothing is
 * migrated: only a file of this imgstat's schema is read. */
static int open_readonly(struct cat_db *d, int busy_ms, struct err *e)
{
    struct statvfs sv;
    bool ro_fs = statvfs(d->path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
    char *uri = uri_of(d->path, ro_fs ? "immutable=1" : "mode=ro");
    if (!uri)
        return err_nomem(e);
    int rc = sqlite3_open_v2(uri, &d->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    sqlite3_free(uri);
    if (rc != SQLITE_OK)
        return cat_fail(d, rc, "open to read only", e);
    int64_t v = 0;
    sqlite3_busy_timeout(d->db, busy_ms);
    int code = schema_version(d, &v, NULL, e);
    if (code == IMGSTAT_OK && v != CAT_SCHEMA_VERSION)
        code = err_set(e, IMGSTAT_EINPUT,
                       "%s: cannot be written, and its schema (%lld) is older than this "
                       "imgstat's (%d)",
                       d->path, (long long)v, CAT_SCHEMA_VERSION);
    if (code == IMGSTAT_OK)
        code = cat_exec(d, "PRAGMA query_only = ON; PRAGMA foreign_keys = ON;", e);
    d->readonly = code == IMGSTAT_OK;
    return code;
}

int cat_open(struct cat_db **out, const char *path, int busy_ms, struct err *e)
{
    *out = NULL;
    struct cat_db *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        return err_nomem(e);
    }
    pthread_mutex_init(&d->mu, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int code, rc = sqlite3_open_v2(path, &d->db, flags, NULL);
    if (rc != SQLITE_OK) {
        int err = sqlite3_system_errno(d->db);
        code = err_set(e, IMGSTAT_ESYS, "%s: cannot open: %s%s%s", path, sqlite3_errstr(rc),
                       err ? ": " : "", err ? strerror(err) : "");
    } else if ((code = check_first(d, busy_ms, e)) == IMGSTAT_OK &&
               (code = configure(d, e)) == IMGSTAT_OK) {
        code = migrate(d, e);
    }
    if (code != IMGSTAT_OK && access(path, F_OK) == 0 && access(path, W_OK) != 0) {
        disconnect(d); /* e.g. EROFS: read what the file holds */
        code = open_readonly(d, busy_ms, e);
    }
    if (code != IMGSTAT_OK) {
        cat_close(d);
        return code;
    }
    *out = d;
    return IMGSTAT_OK;
}

void cat_close(struct cat_db *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nstmts; i++)
        sqlite3_finalize(d->stmts[i].st);
    sqlite3_close_v2(d->db);
    pthread_mutex_destroy(&d->mu);
    free(d->path);
    free(d);
}

enum cat_health cat_probe(const char *path, struct err *e)
{
    struct cat_db d = {.path = (char *)path};
    if (access(path, F_OK) != 0)
        return CAT_ABSENT;
    int rc = sqlite3_open_v2(path, &d.db, SQLITE_OPEN_READONLY, NULL);
    int64_t v;
    bool refused = false;
    enum cat_health h = CAT_DAMAGED;
    if (rc != SQLITE_OK) {
        cat_fail(&d, rc, "open", e);
    } else if (schema_version(&d, &v, &refused, e) != IMGSTAT_OK) {
        h = refused ? CAT_REFUSED : CAT_DAMAGED;
    } else {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(d.db, "PRAGMA quick_check(1)", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW &&
            strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0)
            h = CAT_HEALTHY;
        else
            err_set(e, IMGSTAT_EINPUT, "%s: damaged (%s)", path,
                    rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
                                     : sqlite3_errmsg(d.db));
        sqlite3_finalize(st);
    }
    sqlite3_close_v2(d.db);
    return h;
}

int cat_make_dirs(const char *dir, struct err *e)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return err_set(e, IMGSTAT_ESYS, "%.200s...: name too long", dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return err_sys(e, errno, "cannot create %s", p);
        if (!(*s = c))
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(e, IMGSTAT_ESYS, "%s: not a directory", dir);
    return IMGSTAT_OK;
}

int cat_make_parent(const char *path, struct err *e)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return IMGSTAT_OK;
    if ((size_t)(slash - path) >= sizeof dir)
        return err_set(e, IMGSTAT_ESYS, "%.200s...: name too long", path);
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    return cat_make_dirs(dir, e);
}
