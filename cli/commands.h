/*
 * commands: `imgstat cache info|clear` (cache.c) and `imgstat add` (add.c), the commands
 * that work on the catalog file rather than report on one image.
 */
#ifndef IMGSTAT_COMMANDS_H
#define IMGSTAT_COMMANDS_H

#include "options.h"

/* imgstat cache info|clear: an exit status. */
int cache_run(const struct cli *c);

/* imgstat add: every image of each IMAGE into the catalog; an exit status. */
int add_run(const struct cli *c);

/* Print the layer memo's warning on stderr, once per process whatever the threads. */
void cache_warn(const char *warning);

#endif
