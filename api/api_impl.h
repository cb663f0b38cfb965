/*
 * api_impl: what the public handle (imgstat.c) and the catalog's API (catalog.c) share.
 * Not part of any interface.
 */
#ifndef IMGSTAT_API_IMPL_H
#define IMGSTAT_API_IMPL_H

#include <stddef.h>

#include "db.h"
#include "imgstat.h"

/* The layer memo's folder into buf[cap]: given, else $IMGSTAT_CACHE_DIR, else
 * $XDG_CACHE_HOME/imgstat, else $HOME/.cache/imgstat (each only when set and absolute).
 * False when none can be named. */
bool api_cache_dir(const char *given, char *buf, size_t cap);

/* Is the memo turned off by IMGSTAT_NO_CACHE in the environment (set, not "" nor "0")? */
bool api_env_no_cache(void);

/* The catalog file behind a catalog handle (its memo tables included). */
struct cat_db *api_catalog_db(imgstat_catalog *c);

#endif
