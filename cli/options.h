/*
 * options: the command line, parsed from one table that also prints --help.
 */
#ifndef IMGSTAT_OPTIONS_H
#define IMGSTAT_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "imgstat.h"

/* Exit statuses; --help and the man page list them. */
enum exit_code {
    EXIT_OK = 0,
    EXIT_ERROR = 1, /* the image could not be read, chosen or scanned */
    EXIT_USAGE = 2, /* bad command line */
};

struct cli {
    struct imgstat_options lib;
    const char *input;
    bool help, version;
};

/* Parse argv; on a usage error print one line and a hint to stderr and return EXIT_USAGE. */
int cli_parse(int argc, char **argv, struct cli *out);
void cli_help(FILE *f);

#endif
