/*
 * watch: the --images folders, walked recursively for saved images: files whose first
 * bytes are a tar header, gzip, zstd, xz or bzip2 (tarballs, compressed tarballs), and image
 * directories, not descended into: OCI layouts (holding `oci-layout`) and the containers
 * "dir" transport (a `version` file and `manifest.json`).  Hidden names (".x") and symbolic
 * links are skipped.
 *
 * inotify says when something changed; where it cannot be had (or IMGSTAT_SERVE_POLL=1)
 * the folders are walked every WATCH_POLL_MS instead.  A file is handed to the scheduler
 * once it has been seen with the same identity (device, inode, size, mtime) for
 * WATCH_STABLE_MS, so a half-written file is not scanned while it grows; an input that is
 * already recorded with its identity is not scanned again.  An input gone from the folders
 * is removed from the catalog.
 */
#ifndef SERVER_WATCH_H
#define SERVER_WATCH_H

#include <stdbool.h>

#include "handler.h"
#include "scanq.h"

/* Walk at least this often while something is pending, and always without inotify. */
#define WATCH_POLL_MS 500
/* Unchanged this long before a scan: a writer that pauses longer is scanned twice. */
#define WATCH_STABLE_MS 1000
/* A full walk at least this often even with inotify (events can overflow). */
#define WATCH_FULL_MS 30000
/* Directory depth walked below each --images folder. */
#define WATCH_MAX_DEPTH 32
/* Inputs tracked at most (each costs a stat per walk). */
#define WATCH_MAX_INPUTS 100000

struct watch;

/* Start watching roots in a thread of its own; NULL on failure (why says). */
struct watch *watch_start(struct srv *s, struct scanq *q, const char *const *roots, size_t nroots,
                          char *why, size_t cap);
/* Forget what was seen and walk everything again (SIGHUP). */
void watch_rescan(struct watch *w);
/* Stop the thread and free it. */
void watch_stop(struct watch *w);
/* Has the first walk been done? */
bool watch_ready(struct watch *w);

#endif
