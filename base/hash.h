/*
 * hash: the hash of the in-memory name tables (the merged tree, the wasted-path trie, the
 * records' directories, the AUFS link index).
 *
 * Their keys are names from the image, which its author chooses: with a hash anyone can
 * compute, a layer of names picked to fall into one bucket turns every lookup into a walk of
 * one long chain (quadratic time; a few MB of names would take minutes).  So the hash is
 * keyed with a secret drawn once per process (getrandom), as SipHash-keyed tables are: the
 * names that collide differ from run to run and cannot be prepared.  Nothing is stored with
 * these hashes, and no output depends on their order.
 */
#ifndef IMGSTAT_BASE_HASH_H
#define IMGSTAT_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The process's secret (never 0); thread-safe. */
uint64_t hash_secret(void);

/* The hash of name[len] in the table under parent. */
uint32_t hash_name(uint32_t parent, const char *name, size_t len);

/* The hash of a whole key p[len]. */
uint64_t hash_key(const char *p, size_t len);

#endif
