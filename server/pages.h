/*
 * pages: the report pages built last (/ui/images/{image_id}), so that looking at a page
 * again, or several people looking at it at once, costs no scan; and a bound on the pages
 * built at once, since a build holds the image's tree in memory.
 *
 * A page is kept under a key that names the image and its input as it is now (ui.c: the
 * image ID, the image's position in its input, the input's device, inode, size and mtime,
 * its path) and the store's generation it was built at: a change to the catalog forgets
 * every page (the next pages_get brings a newer generation).  At most PAGES_KEPT pages and
 * PAGES_BYTES bytes are kept, the least recently used dropped first.
 *
 * pages_get returns the page kept for a key; or, while another thread builds that page,
 * waits for it; or, once fewer than PAGES_BUILDS builds run, lets the caller build it, and
 * the caller must then call pages_put (with the page, or NULL when it could not build it).
 * Thread-safe.
 */
#ifndef SERVER_PAGES_H
#define SERVER_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "jbuf.h"

/* Pages kept at most: an index and a few images looked at in turn. */
#define PAGES_KEPT 8
/* Bytes of pages kept at most: a page is under 5 MB (report_impl.h's budgets), and an idle
 * server's memory is meant to stay small (issue 11: 64 MiB with 100 images). */
#define PAGES_BYTES (24u << 20)
/* Pages built at once: each build holds an image's tree (up to a few hundred MB for a
 * million files); more requests wait for a turn. */
#define PAGES_BUILDS 2

struct pages;

/* A new, empty cache; NULL when out of memory. */
struct pages *pages_new(void);
/* Free p (NULL accepted); no build may be running. */
void pages_free(struct pages *p);
/* Forget every page kept (SIGHUP opens another catalog, whose generations start again). */
void pages_clear(struct pages *p);

enum pages_got {
    PAGES_HIT,   /* the page was appended to *out (out->oom if it could not be) */
    PAGES_BUILD, /* build it, then pages_put */
};
/* The page kept for key at generation gen, or the caller's turn to build it. */
enum pages_got pages_get(struct pages *p, const char *key, uint64_t gen, struct jbuf *out);
/* End the turn pages_get gave for key: page[len] is kept if it fits (page NULL: nothing). */
void pages_put(struct pages *p, const char *key, uint64_t gen, const char *page, size_t len);

#endif
