/*
 * arena: bump allocation in large chunks, freed in one call.
 *
 * Used for everything whose lifetime is the scan (image plans, names, JSON
 * strings).  Pointers stay valid until arena_free(); there is no per-object free.
 */
#ifndef IMGSTAT_ARENA_H
#define IMGSTAT_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t used;  /* bytes used in head */
    size_t total; /* bytes allocated from the system, for accounting */
};

/* Returns NULL when out of memory.  Memory is aligned for any scalar type. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s); /* NULL for NULL */
void *arena_memdup(struct arena *a, const void *p, size_t n);
void arena_free(struct arena *a);

#endif
