/*
 * batch: several images (several IMAGE arguments, or --all), one JSON line each.
 */
#ifndef IMGSTAT_BATCH_H
#define IMGSTAT_BATCH_H

#include "options.h"

/* Scan every input (in parallel, output in input order); returns the exit status:
 * EXIT_ERROR if any image failed, else EXIT_GATE if any gate failed, else EXIT_OK. */
int batch_run(const struct cli *c);

#endif
