/*
 * progress: one line on stderr while a long scan runs, on a terminal only.
 */
#ifndef IMGSTAT_PROGRESS_H
#define IMGSTAT_PROGRESS_H

#include <stdbool.h>

#include "imgstat.h"

struct progress {
    double start, last; /* monotonic seconds */
    bool shown;
};

/* Begin timing; the first line appears only after PROGRESS_DELAY seconds. */
void progress_start(struct progress *p);
/* An imgstat_progress_fn: redraws at most PROGRESS_HZ times a second. */
void progress_update(void *ctx, const struct imgstat_progress *ip);
/* Erase the line, if one was drawn. */
void progress_end(struct progress *p);

#endif
