/*
 * db: the one SQLite file that holds the layer memo (memo.c) and the catalog of scanned
 * images (images.c, files.c).  The catalog knows nothing of image formats: it stores bytes
 * and plain figures that the layers above hand it.
 *
 * Concurrency.  The connection is opened in SQLite's multi-thread mode (SQLITE_OPEN_NOMUTEX)
 * and every use of a cat_db is serialised by its own mutex (cat_lock), so one cat_db may be
 * shared by threads; for queries in parallel, open one cat_db per thread.  Processes and
 * connections share the file through WAL (readers never wait for the writer; writers wait
 * up to the busy timeout for each other) and every write is one short transaction.
 *
 * Schema.  PRAGMA application_id marks the file as imgstat's and PRAGMA user_version holds
 * its schema version.  cat_open() migrates an older file forward, each step in the same
 * transaction as the version bump (so a crash leaves the old version or the new one), and
 * refuses a file from a newer imgstat or one that is not imgstat's, never misreading it.
 */
#ifndef IMGSTAT_CAT_DB_H
#define IMGSTAT_CAT_DB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "err.h"

/* PRAGMA application_id of every imgstat catalog: "imgs". */
#define CAT_APP_ID 0x696d6773
/* The schema this imgstat writes: 1 the layer memo (issue 10), 2 adds the image catalog,
 * 3 keys the memo's checksums with a secret of the file (memo_secret). */
#define CAT_SCHEMA_VERSION 3
/* The memo's XXH3 secret: XXH3's own default size (XXH_SECRET_DEFAULT_SIZE, above its
 * minimum of 136), drawn from getrandom when the file gets schema 3. */
#define CAT_SECRET_BYTES 192
/* Statements kept prepared per connection: more than every query of the catalog. */
#define CAT_MAX_STMTS 48

struct cat_db {
    sqlite3 *db;
    pthread_mutex_t mu;
    char *path;
    struct {
        const char *sql; /* the static string it was prepared from: the cache key */
        sqlite3_stmt *st;
    } stmts[CAT_MAX_STMTS];
    int nstmts;
    bool readonly; /* opened to read only: the file cannot be written (cat_open) */
};

/*
 * Open (creating when absent) the catalog file at path and bring its schema to
 * CAT_SCHEMA_VERSION.  A file that exists but cannot be written (a read-only file system) is
 * opened to read only (d->readonly) when it is of this schema: writes then fail.  busy_ms: how long
 * a statement waits for another writer before it fails as "locked".  On failure *out is NULL and e
 * says why in one line, naming path.
 */
int cat_open(struct cat_db **out, const char *path, int busy_ms, struct err *e);
void cat_close(struct cat_db *d); /* accepts NULL */

void cat_lock(struct cat_db *d);
void cat_unlock(struct cat_db *d);

/* The statement for sql (a string literal: its address is the cache key), reset and with
 * its bindings cleared, prepared once per connection.  Caller holds the lock. */
int cat_stmt(struct cat_db *d, const char *sql, sqlite3_stmt **st, struct err *e);

/* Run SQL without parameters (several statements allowed).  Caller holds the lock. */
int cat_exec(struct cat_db *d, const char *sql, struct err *e);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout), COMMIT, and
 * ROLLBACK (which never fails the caller). */
int cat_begin(struct cat_db *d, struct err *e);
int cat_commit(struct cat_db *d, struct err *e);
void cat_rollback(struct cat_db *d);

/* e from SQLite's result rc: "PATH: what: SQLite's message".  Returns the code. */
int cat_fail(struct cat_db *d, int rc, const char *what, struct err *e);

/* Step a statement that returns no rows (or whose rows do not matter). */
int cat_step_done(struct cat_db *d, sqlite3_stmt *st, const char *what, struct err *e);

/* What is at a catalog path, for `imgstat cache clear`. */
enum cat_health {
    CAT_ABSENT,  /* nothing */
    CAT_HEALTHY, /* a catalog this imgstat can use */
    CAT_DAMAGED, /* not a database, or failing SQLite's quick_check: may be replaced */
    CAT_REFUSED, /* a newer imgstat's catalog or another program's database: leave it */
};
/* Look at path without changing it; e says what is wrong unless CAT_HEALTHY or CAT_ABSENT. */
enum cat_health cat_probe(const char *path, struct err *e);

/* mkdir -p dir, private (0700: a catalog holds the names of the files in the images). */
int cat_make_dirs(const char *dir, struct err *e);
/* The same for the folder that will hold the file at path. */
int cat_make_parent(const char *path, struct err *e);

/* Milliseconds since the epoch (the catalog's times). */
int64_t cat_now_ms(void);

#endif
