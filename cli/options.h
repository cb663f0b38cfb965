/*
 * options: the command line, parsed from one table that also prints --help.
 */
#ifndef IMGSTAT_OPTIONS_H
#define IMGSTAT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "imgstat.h"

/* Exit statuses; --help and the README list them. */
enum exit_code {
    EXIT_OK = 0,
    EXIT_ERROR = 1, /* the image could not be read, chosen or scanned */
    EXIT_USAGE = 2, /* bad command line */
    EXIT_GATE = 3,  /* a --max-* or --min-* limit was exceeded (the report is still printed) */
};

enum out_format { FMT_JSON, FMT_TEXT, FMT_CSV, FMT_JSONL };

struct cli {
    struct imgstat_options lib;
    const char *input; /* the first IMAGE */
    char **inputs;     /* every IMAGE */
    int ninputs;
    bool all; /* --all: every image of each input */
    bool jobs_set;
    int progress;   /* 1 --progress, 0 --no-progress, -1 on a terminal */
    bool files_cmd; /* `imgstat files IMAGE` */
    bool help, version, detail;
    enum out_format format;
    uint64_t top;           /* --top N largest files in --detail */
    const char *file_name;  /* files: substring filter of the base name */
    uint64_t limit, offset; /* files: paging (limit 0: all) */
    bool limit_set;
    char ref[1024]; /* --namespace/--image-name/--tag-name composed */
    bool max_files_set, max_size_set, max_wasted_set, min_eff_set;
    uint64_t max_files, max_size, max_wasted;
    double min_efficiency;
};

/* Parse argv; on a usage error print one line and a hint to stderr and return EXIT_USAGE. */
int cli_parse(int argc, char **argv, struct cli *out);
void cli_help(FILE *f);

#endif
