/*
 * options: the command line of every imgstat command, parsed from one table that also
 * prints --help and feeds the shell completions and the manual's checks.
 *
 * An option row names the commands that accept it, where its value goes in struct cli,
 * how the value is parsed, and the group --help lists it in.  Parsing is strict (whole
 * numbers only, sizes with units, formats from a list) and every usage error names the
 * option as the table spells it.
 */
#ifndef IMGSTAT_OPTIONS_H
#define IMGSTAT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "imgstat.h"

/* Exit statuses; --help and the manual list them. */
enum exit_code {
    EXIT_OK = 0,
    EXIT_ERROR = 1, /* the image could not be read, chosen or scanned */
    EXIT_USAGE = 2, /* bad command line */
    EXIT_GATE = 3,  /* a --max-* or --min-* limit was exceeded (the report is still printed) */
};

/* du PATH: no member name is longer (PATH_MAX_BYTES, Linux PATH_MAX). */
#define CLI_MAX_PATH 4096

/* The commands: `imgstat [COMMAND] ...`; CMD_STATS when none is named. */
enum cli_cmd { CMD_STATS, CMD_FILES, CMD_DU, CMD_REPORT, CMD_CACHE, CMD_ADD, CMD_SERVE, CMD_COUNT };
#define ON(cmd) (1u << (cmd))

struct cli_command {
    const char *name;     /* as typed; "" for the default command */
    const char *usage;    /* what follows "imgstat NAME" in the usage line */
    const char *what;     /* one sentence for --help and the manual */
    const char *examples; /* lines for --help's Examples (the manual has more) */
};
extern const struct cli_command cli_commands[CMD_COUNT];

enum out_format { FMT_JSON, FMT_TEXT, FMT_CSV, FMT_JSONL };

/* How an option's value is parsed. */
enum opt_kind {
    K_FLAG,  /* no value: sets a bool */
    K_BIT,   /* no value: ORs `lo` into lib.flags */
    K_STR,   /* any non-empty text */
    K_UINT,  /* a whole number in [lo, hi] */
    K_SIZE,  /* a size: digits with K/M/G (powers of 1000) or KiB/MiB/GiB */
    K_RATIO, /* a number from 0 to 1 */
    K_ENUM,  /* one word of a list */
    K_ACT,   /* no value: --help, --version */
    K_LIST,  /* non-empty text, repeatable: appended to a struct cli_list */
};

/* Values of a repeatable option, in order. */
#define CLI_MAX_LIST 64
struct cli_list {
    const char *v[CLI_MAX_LIST];
    size_t n;
};

struct cli_option {
    const char *name; /* long name, without "--" */
    char short_name;  /* 0: none */
    const char *arg;  /* the value's placeholder in help, NULL for none */
    enum opt_kind kind;
    size_t field;      /* offsetof(struct cli, ...) of the value */
    uint64_t lo, hi;   /* K_UINT bounds, K_BIT flag */
    unsigned cmds;     /* ON(CMD_...) of the commands that take it */
    const char *group; /* the --help line it is listed on */
    const char *help;  /* one line, for the manual and completions */
};
/* Rows of the option table at most (struct cli keeps a flag per row). */
#define CLI_MAX_OPTIONS 128
extern const struct cli_option cli_options[];
extern const size_t cli_noptions;

struct cli {
    enum cli_cmd cmd;
    struct imgstat_options lib;
    const char *input; /* the first IMAGE */
    char **inputs;     /* every IMAGE */
    int ninputs;
    bool given[CLI_MAX_OPTIONS]; /* [i]: cli_options[i] was given */
    /* values, filled by the table */
    bool all, detail, help, version, progress_on, progress_off, lenient, verify;
    const char *image, *image_id, *platform, *file_name, *format_name, *output;
    const char *db;     /* add, serve: the catalog file */
    const char *action; /* cache: "info" or "clear" */
    const char *org, *name, *tag;
    uint64_t jobs, max_layer_bytes, max_entries, max_kept_bytes, top, limit, offset;
    bool du_all;            /* du --all: files too */
    uint64_t depth, du_top; /* du --depth, --top */
    const char *path;       /* du PATH, or NULL */
    uint64_t max_files, max_size, max_wasted, cache_max;
    double min_efficiency;
    /* imgstat serve */
    struct cli_list images, projects;
    const char *listen, *credentials, *token_file, *config; /* and db, as add */
    uint64_t serve_jobs;
    /* derived after parsing */
    int progress; /* 1 --progress, 0 --no-progress, -1 on a terminal */
    bool jobs_set, max_files_set, max_size_set, max_wasted_set, min_eff_set;
    enum out_format format;
    char ref[1024]; /* --namespace/--image-name/--tag-name composed */
};

/* Was the option with this long name given?  (Names a row of the table.) */
bool cli_given(const struct cli *c, const char *name);

/* The words K_ENUM option o takes in command cmd, joined by sep, into buf[cap] (--help, the
 * usage messages and the shell completions list the same words). */
void cli_enum_words(const struct cli_option *o, enum cli_cmd cmd, const char *sep, char *buf,
                    size_t cap);

/* Parse argv; on a usage error print one line and a hint to stderr and return EXIT_USAGE. */
int cli_parse(int argc, char **argv, struct cli *out);
/* --help of command cmd, at most 24 lines. */
void cli_help(FILE *f, enum cli_cmd cmd);

#endif
