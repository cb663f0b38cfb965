/*
 * du: `imgstat du`, the sizes of an image's directories (docs/rules.md C7).
 */
#ifndef IMGSTAT_DU_H
#define IMGSTAT_DU_H

#include <stdio.h>

#include "imgstat.h"
#include "options.h"

/* Print the directories (with --all, the files too) at most --depth levels below c->path
 * (default "/") of the scanned image h, largest first, in c->format.  IMGSTAT_OK; or
 * IMGSTAT_EINPUT with a one-line reason in msg when PATH is no directory or file of the
 * image; or another negative code from the walk. */
int du_run(FILE *f, const struct cli *c, imgstat *h, char *msg, size_t cap);

#endif
