#define _GNU_SOURCE /* asprintf */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The most decoder threads -j accepts: more than this only costs memory. */
#define CLI_MAX_JOBS 256
/* serve -j: scans at once (each holds an image's tree in memory). */
#define CLI_MAX_SCANS 64
/* --top: the largest files kept in memory for --detail. */
#define CLI_MAX_TOP 100000
/* du --depth: no directory is deeper than the tree's TREE_MAX_DEPTH (4096). */
#define CLI_MAX_DEPTH 4096

const struct cli_command cli_commands[CMD_COUNT] = {
    [CMD_STATS] = {"", "[OPTIONS] IMAGE...",
                   "Print the file statistics of saved container images, read offline, in the\n"
                   "JSON of HSS's files-statistics API.",
                   "  docker save app:1 | imgstat -\n"
                   "  imgstat --detail --format text --image app:1 images.tar\n"},
    [CMD_FILES] = {"files", "[OPTIONS] IMAGE",
                   "List the regular files of an image's final filesystem, in the JSON of\n"
                   "HSS's image file list API.",
                   "  imgstat files --file-name .so --limit 0 --format csv ./oci-layout\n"},
    [CMD_DU] = {"du", "[OPTIONS] IMAGE [PATH]",
                "Print the sizes of the directories of an image's final filesystem, largest\n"
                "first, as du does on the unpacked image (each inode counted once).",
                "  imgstat du --depth 2 --top 10 app.tar /usr\n"},
    [CMD_REPORT] = {"report", "[OPTIONS] IMAGE",
                    "Write one self-contained HTML page showing where an image's bytes are: its\n"
                    "layers, a treemap of its files, the largest and the wasted files.",
                    "  imgstat report -o app.html app.tar\n"},
    [CMD_SERVE] = {"serve", "[OPTIONS]",
                   "Answer HSS's image APIs over HTTP (files-statistics, files,\n"
                   "local-repositories) from a catalog of the saved images in --images folders.",
                   "  imgstat serve --images /srv/images --listen 127.0.0.1:0\n"
                   "  imgstat serve --config /etc/imgstat/imgstat.conf\n"},
    [CMD_CACHE] = {"cache", "info|clear [OPTIONS]",
                   "Show what the layer memo holds (JSON), or empty it.  The memo remembers\n"
                   "each layer's entries by blob digest, so a layer is never inflated twice.",
                   "  imgstat cache info\n"
                   "  imgstat cache clear --cache-dir /var/cache/imgstat\n"},
    [CMD_ADD] = {"add", "[--db FILE] [OPTIONS] IMAGE...",
                 "Scan every image of each IMAGE into a catalog, the file `imgstat serve`\n"
                 "answers from (default: the memo's file); one JSON line per IMAGE.",
                 "  imgstat add --db build/images.db out/*.tar\n"},
};

#define F(member) offsetof(struct cli, member)
#define SCAN (ON(CMD_STATS) | ON(CMD_FILES) | ON(CMD_DU) | ON(CMD_REPORT))
#define READ (SCAN | ON(CMD_ADD))                          /* the commands that scan layers */
#define LISTS (ON(CMD_STATS) | ON(CMD_FILES) | ON(CMD_DU)) /* the commands with --format */
#define ALL ((1u << CMD_COUNT) - 1)

const struct cli_option cli_options[] = {
    {"image", 0, "REF", K_STR, F(image), 0, 0, SCAN, "Choose",
     "the image: NAME:TAG, ref name, image ID (>= 12 hex digits) or manifest digest"},
    {"image-id", 0, "ID", K_STR, F(image_id), 0, 0, SCAN, "Choose",
     "choose by image ID, as the API's path parameter"},
    {"platform", 0, "OS/ARCH[/VARIANT]", K_STR, F(platform), 0, 0, SCAN, "Choose",
     "choose from a multi-platform index (default: the host's)"},
    {"namespace", 0, "ORG", K_STR, F(org), 0, 0, SCAN, "Choose",
     "with --image-name and --tag-name: choose as --image ORG/NAME:TAG"},
    {"image-name", 0, "NAME", K_STR, F(name), 0, 0, SCAN, "Choose", "the API's image_name"},
    {"tag-name", 0, "TAG", K_STR, F(tag), 0, 0, SCAN, "Choose", "the API's tag_name"},
    {"all", 0, NULL, K_FLAG, F(all), 0, 0, ON(CMD_STATS), "Choose",
     "every image of each IMAGE, one JSON line each"},
    {"detail", 0, NULL, K_FLAG, F(detail), 0, 0, ON(CMD_STATS), "Report",
     "add identity, node counts, layers, wasted bytes and the largest files"},
    {"top", 0, "N", K_UINT, F(top), 0, CLI_MAX_TOP, ON(CMD_STATS), "Report",
     "with --detail: the N largest files (default 10)"},
    {"depth", 0, "N", K_UINT, F(depth), 0, CLI_MAX_DEPTH, ON(CMD_DU), "Report",
     "directories at most N levels below PATH (default 1)"},
    {"top", 0, "N", K_UINT, F(du_top), 1, UINT64_MAX, ON(CMD_DU), "Report",
     "only the N largest (default: all)"},
    {"all", 0, NULL, K_FLAG, F(du_all), 0, 0, ON(CMD_DU), "Report",
     "files too, not only directories (as du -a)"},
    {"output", 'o', "FILE", K_STR, F(output), 0, 0, ON(CMD_REPORT), "Report",
     "write the page to FILE (default: standard output)"},
    {"format", 0, "FORMAT", K_ENUM, F(format_name), 0, 0, LISTS, "Report",
     "json or text; files and du also csv, files jsonl"},
    {"file-name", 0, "TEXT", K_STR, F(file_name), 0, 0, ON(CMD_FILES), "Report",
     "only files whose name contains TEXT"},
    {"limit", 0, "N", K_UINT, F(limit), 0, UINT64_MAX, ON(CMD_FILES), "Report",
     "N entries (default 10, csv and jsonl all; 0: all)"},
    {"offset", 0, "N", K_UINT, F(offset), 0, UINT64_MAX, ON(CMD_FILES), "Report",
     "skip the first N entries"},
    {"max-files", 0, "N", K_UINT, F(max_files), 0, UINT64_MAX, ON(CMD_STATS), "Gates",
     "exit 3 when the image has more than N files"},
    {"max-size", 0, "SIZE", K_SIZE, F(max_size), 0, 0, ON(CMD_STATS), "Gates",
     "exit 3 when its files hold more than SIZE bytes"},
    {"max-wasted", 0, "SIZE", K_SIZE, F(max_wasted), 0, 0, ON(CMD_STATS), "Gates",
     "exit 3 when more than SIZE bytes are wasted"},
    {"min-efficiency", 0, "R", K_RATIO, F(min_efficiency), 0, 0, ON(CMD_STATS), "Gates",
     "exit 3 when the efficiency is below R (0 to 1)"},
    {"db", 0, "FILE", K_STR, F(db), 0, 0, ON(CMD_ADD) | ON(CMD_SERVE), "Catalog",
     "the catalog file (default: imgstat.db in the cache directory)"},
    {"jobs", 'j', "N", K_UINT, F(jobs), 1, CLI_MAX_JOBS, READ, "Reading",
     "layers decoded at once (default: online CPUs)"},
    {"verify", 0, NULL, K_BIT, F(lib.flags), IMGSTAT_VERIFY, 0, READ, "Reading",
     "check every blob against its digest and every layer against its diff_id"},
    {"lenient", 0, NULL, K_BIT, F(lib.flags), IMGSTAT_LENIENT, 0, READ, "Reading",
     "warn and skip entries that cannot be applied"},
    {"progress", 0, NULL, K_FLAG, F(progress_on), 0, 0, SCAN, "Reading",
     "a progress line on stderr (default: on a terminal)"},
    {"no-progress", 0, NULL, K_FLAG, F(progress_off), 0, 0, SCAN, "Reading", "no progress line"},
    {"max-layer-bytes", 0, "SIZE", K_SIZE, F(max_layer_bytes), 0, 0, READ, "Limits",
     "stop a layer that expands beyond SIZE (default 1TiB, 0: none)"},
    {"max-entries", 0, "N", K_UINT, F(max_entries), 0, UINT64_MAX, READ, "Limits",
     "stop beyond N tar entries (default 20M, 0: none)"},
    {"max-kept-bytes", 0, "SIZE", K_SIZE, F(max_kept_bytes), 0, 0, READ, "Limits",
     "keep at most SIZE of JSON documents from a stream (default 256MiB, 0: none)"},
    {"images", 0, "DIR", K_LIST, F(images), 0, 0, ON(CMD_SERVE), "Catalog",
     "a folder of saved images, watched and scanned (repeatable)"},
    {"jobs", 'j', "N", K_UINT, F(serve_jobs), 1, CLI_MAX_SCANS, ON(CMD_SERVE), "Catalog",
     "inputs scanned at once (default 2)"},
    {"listen", 0, "ADDR:PORT", K_STR, F(listen), 0, 0, ON(CMD_SERVE), "Serving",
     "where to listen (default 127.0.0.1:8080; port 0: a free one)"},
    {"project-id", 0, "ID", K_LIST, F(projects), 0, 0, ON(CMD_SERVE), "Serving",
     "answer only this project_id (repeatable)"},
    {"config", 0, "FILE", K_STR, F(config), 0, 0, ON(CMD_SERVE), "Serving",
     "options from FILE, one 'name value' a line (the command line wins)"},
    {"credentials", 0, "FILE", K_STR, F(credentials), 0, 0, ON(CMD_SERVE), "Auth",
     "'AK SK' lines: accept the SDKs' SDK-HMAC-SHA256 signatures"},
    {"token-file", 0, "FILE", K_STR, F(token_file), 0, 0, ON(CMD_SERVE), "Auth",
     "tokens, one a line, accepted in X-Auth-Token"},
    {"cache-dir", 0, "DIR", K_STR, F(lib.cache_dir), 0, 0, READ | ON(CMD_CACHE), "Cache",
     "the layer memo's folder (default: $IMGSTAT_CACHE_DIR, else ~/.cache/imgstat)"},
    {"no-cache", 0, NULL, K_BIT, F(lib.flags), IMGSTAT_NO_CACHE, 0, READ, "Cache",
     "do not use the layer memo (also IMGSTAT_NO_CACHE=1)"},
    {"cache-max", 0, "SIZE", K_SIZE, F(cache_max), 0, 0, READ, "Cache",
     "keep at most SIZE bytes of layer records (default 2GiB)"},
    {"help", 'h', NULL, K_ACT, F(help), 0, 0, ALL, "Other", "this help"},
    {"version", 'V', NULL, K_ACT, F(version), 0, 0, ON(CMD_STATS), "Other",
     "versions of imgstat and its libraries"},
};
const size_t cli_noptions = sizeof cli_options / sizeof *cli_options;
_Static_assert(sizeof cli_options / sizeof *cli_options <= CLI_MAX_OPTIONS, "CLI_MAX_OPTIONS");

/* --format's words and the commands that take each. */
static const struct {
    const char *name;
    enum out_format fmt;
    unsigned cmds;
} formats[] = {
    {"json", FMT_JSON, LISTS},
    {"text", FMT_TEXT, LISTS},
    {"csv", FMT_CSV, ON(CMD_FILES) | ON(CMD_DU)},
    {"jsonl", FMT_JSONL, ON(CMD_FILES)},
};

/* ---- help ------------------------------------------------------------------------------ */

/* The words --format takes in command cmd, joined by sep. */
static void format_list(enum cli_cmd cmd, const char *sep, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof formats / sizeof *formats && n < cap; i++)
        if (formats[i].cmds & ON(cmd))
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? sep : "", formats[i].name);
}

/* --format is the only K_ENUM option: a new one returns its own list here. */
void cli_enum_words(const struct cli_option *o, enum cli_cmd cmd, const char *sep, char *buf,
                    size_t cap)
{
    (void)o;
    format_list(cmd, sep, buf, cap);
}

/* "--name ARG" or "-j, --jobs N" as --help lists an option (an enum shows its words). */
static void opt_label(const struct cli_option *o, enum cli_cmd cmd, char *buf, size_t cap)
{
    char sh[8] = "", words[64];
    if (o->short_name)
        snprintf(sh, sizeof sh, "-%c, ", o->short_name);
    const char *arg = o->arg;
    if (o->kind == K_ENUM) {
        cli_enum_words(o, cmd, "|", words, sizeof words);
        arg = words;
    }
    snprintf(buf, cap, "%s--%s%s%s", sh, o->name, arg ? " " : "", arg ? arg : "");
}

/* One group's options on as many lines as they need, 79 columns wide. */
static void help_group(FILE *f, enum cli_cmd cmd, const char *group)
{
    int col = fprintf(f, "  %-10s", group);
    bool first = true;
    for (size_t i = 0; i < cli_noptions; i++) {
        const struct cli_option *o = &cli_options[i];
        if (!(o->cmds & ON(cmd)) || strcmp(o->group, group) != 0)
            continue;
        char label[96];
        opt_label(o, cmd, label, sizeof label);
        int need = (int)strlen(label) + (first ? 1 : 2);
        if (!first && col + need > 79) {
            fputs(",\n", f);
            col = fprintf(f, "%12s", "");
            need--;
            first = true;
        }
        col += fprintf(f, "%s%s", first ? " " : ", ", label);
        first = false;
    }
    fputc('\n', f);
}

void cli_help(FILE *f, enum cli_cmd cmd)
{
    const struct cli_command *c = &cli_commands[cmd];
    fprintf(f, "Usage: imgstat %s%s%s\n%s\n", c->name, *c->name ? " " : "", c->usage, c->what);
    if (cmd == CMD_SERVE)
        fputs("Folders are watched: images added, replaced or removed are noticed within 2 s.\n",
              f);
    else if (cmd == CMD_ADD)
        fputs("IMAGE: a docker-save or oci-archive tarball (plain, gzip, zstd, xz or bzip2),\n"
              "an OCI layout or a containers dir: directory (skopeo, podman).\n",
              f);
    else if (strstr(c->usage, "IMAGE"))
        fputs("IMAGE: a docker-save or oci-archive tarball (plain, gzip, zstd, xz or bzip2),\n"
              "an OCI layout, a containers dir: directory (skopeo, podman), or - for stdin.\n",
              f);
    fputc('\n', f);
    const char *seen[16];
    size_t nseen = 0;
    for (size_t i = 0; i < cli_noptions; i++) {
        const struct cli_option *o = &cli_options[i];
        bool known = false;
        for (size_t k = 0; k < nseen; k++)
            known |= strcmp(seen[k], o->group) == 0;
        if (!(o->cmds & ON(cmd)) || known || nseen == 16)
            continue;
        seen[nseen++] = o->group;
        help_group(f, cmd, o->group);
    }
    if (cmd == CMD_STATS) {
        fputs("  Commands   ", f);
        for (int k = 1; k < CMD_COUNT; k++)
            fprintf(f, "%s%s", k > 1 ? ", " : "", cli_commands[k].name);
        fputs(" (imgstat COMMAND --help)\n", f);
    }
    fprintf(f, "\nExamples:\n%s", c->examples);
    if (cmd == CMD_SERVE)
        fputs("\nExit status: 0 stopped by SIGTERM or SIGINT, 1 cannot start, 2 usage error.\n"
              "SIGHUP reopens the catalog.  Endpoints, errors and auth: imgstat-serve(1).\n",
              f);
    else if (cmd == CMD_STATS)
        fputs("\nSIZE takes K/M/G or KiB/MiB/GiB.  Exit status: 0 success, 1 image not read or\n"
              "scanned, 2 usage error, 3 a gate failed.  Every option is in imgstat(1).\n",
              f);
    else
        fprintf(f,
                "\nSIZE takes K/M/G or KiB/MiB/GiB.  Exit status: 0 success, 1 image not read or\n"
                "scanned, 2 usage error.  Every option is in imgstat-%s(1).\n",
                c->name);
}

/* ---- parsing --------------------------------------------------------------------------- */

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("imgstat: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'imgstat --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* SIZE: digits with an optional K, M, G (powers of 1000) or KiB, MiB, GiB (of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"K", 1000},
        {"KB", 1000},
        {"M", 1000000},
        {"MB", 1000000},
        {"G", 1000000000},
        {"GB", 1000000000},
        {"KiB", 1024},
        {"MiB", 1048576},
        {"GiB", 1073741824},
        {"T", 1000000000000},
        {"TiB", 1099511627776},
    };
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 19)
        return -1;
    uint64_t v = strtoull(s, NULL, 10);
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcmp(s + digits, units[i].suffix) == 0) {
            if (v > UINT64_MAX / units[i].mult)
                return -1;
            *out = v * units[i].mult;
            return 0;
        }
    }
    return -1;
}

/* Strict: digits only, no sign, no trailing text, within [lo, hi]. */
static int parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Store optarg (or the flag) for row o; a usage error names the option as the table does. */
static int set_value(struct cli *c, const struct cli_option *o, const char *arg)
{
    char *at = (char *)c + o->field;
    char label[64], *end;
    if (o->short_name) /* "-j/--jobs", without the placeholder */
        snprintf(label, sizeof label, "-%c/--%s", o->short_name, o->name);
    else
        snprintf(label, sizeof label, "--%s", o->name);
    switch (o->kind) {
    case K_FLAG:
    case K_ACT: *(bool *)at = true; return EXIT_OK;
    case K_BIT: *(unsigned *)at |= (unsigned)o->lo; return EXIT_OK;
    case K_STR:
    case K_ENUM:
        if (!*arg)
            return usage("%s: the value is empty", label);
        *(const char **)at = arg;
        return EXIT_OK;
    case K_UINT:
        if (parse_uint(arg, o->lo, o->hi, (uint64_t *)at) != 0)
            return o->hi == UINT64_MAX
                       ? usage("%s '%s': expected a whole number", label, arg)
                       : usage("%s '%s': expected a whole number from %llu to %llu", label, arg,
                               (unsigned long long)o->lo, (unsigned long long)o->hi);
        return EXIT_OK;
    case K_LIST: {
        struct cli_list *l = (struct cli_list *)at;
        if (!*arg)
            return usage("%s: the value is empty", label);
        if (l->n == CLI_MAX_LIST)
            return usage("%s: given more than %d times", label, CLI_MAX_LIST);
        l->v[l->n++] = arg;
        return EXIT_OK;
    }
    case K_SIZE:
        if (parse_size(arg, (uint64_t *)at) != 0)
            return usage("%s '%s': expected a size such as 500M or 2GiB", label, arg);
        return EXIT_OK;
    case K_RATIO:
        *(double *)at = strtod(arg, &end);
        if (!*arg || *end || !(*(double *)at >= 0 && *(double *)at <= 1))
            return usage("%s '%s': expected a ratio from 0 to 1", label, arg);
        return EXIT_OK;
    }
    return EXIT_OK;
}

bool cli_given(const struct cli *c, const char *name)
{
    for (size_t i = 0; i < cli_noptions; i++)
        if (strcmp(cli_options[i].name, name) == 0)
            return c->given[i];
    return false;
}

/* --format: a word the command takes; the message lists those words. */
static int set_format(struct cli *c)
{
    c->format = FMT_JSON;
    if (!c->format_name)
        return EXIT_OK;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        if ((formats[i].cmds & ON(c->cmd)) && strcmp(c->format_name, formats[i].name) == 0) {
            c->format = formats[i].fmt;
            return EXIT_OK;
        }
    }
    char list[128];
    format_list(c->cmd, ", ", list, sizeof list);
    return usage("--format '%s': expected one of %s", c->format_name, list);
}

/* getopt_long's tables from cli_options, for the options of one command. */
static void getopt_tables(enum cli_cmd cmd, struct option *lopts, char *shorts)
{
    size_t nl = 0, ns = 0;
    shorts[ns++] = ':';
    for (size_t i = 0; i < cli_noptions; i++) {
        const struct cli_option *o = &cli_options[i];
        if (!(o->cmds & ON(cmd)))
            continue;
        lopts[nl++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
                                      (int)(1000 + i)};
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (o->arg)
                shorts[ns++] = ':';
        }
    }
    memset(&lopts[nl], 0, sizeof *lopts);
    shorts[ns] = '\0';
}

static const struct cli_option *by_short(int ch, enum cli_cmd cmd, size_t *idx)
{
    for (size_t i = 0; i < cli_noptions; i++)
        if (cli_options[i].short_name == ch && (cli_options[i].cmds & ON(cmd)))
            return &cli_options[*idx = i];
    return NULL;
}

/* The options themselves, into c; leaves optind at the first operand. */
static int parse_options(int argc, char **argv, struct cli *c)
{
    struct option lopts[CLI_MAX_OPTIONS + 1];
    char shorts[2 * CLI_MAX_OPTIONS + 2];
    getopt_tables(c->cmd, lopts, shorts);
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        if (ch == ':')
            return usage("option '%s' needs a value", argv[optind - 1]);
        size_t i = 0;
        const struct cli_option *o =
            ch >= 1000 ? &cli_options[i = (size_t)ch - 1000] : by_short(ch, c->cmd, &i);
        if (!o)
            return usage("unknown option '%s'%s%s", argv[optind - 1],
                         c->cmd == CMD_STATS ? "" : " for imgstat ",
                         c->cmd == CMD_STATS ? "" : cli_commands[c->cmd].name);
        c->given[i] = true;
        int rc = set_value(c, o, optarg);
        if (rc != EXIT_OK)
            return rc;
    }
    return EXIT_OK;
}

/* A limit given as 0 means none (UINT64_MAX to the library); not given, 0 is its default. */
static uint64_t no_limit_if_zero(const struct cli *c, const char *name, uint64_t v)
{
    return cli_given(c, name) && v == 0 ? UINT64_MAX : v;
}

/* Combinations the table cannot express, and the library's own view of the options. */
static int check_combinations(struct cli *c)
{
    if (c->name || c->tag || c->org) {
        if (!c->name)
            return usage("--namespace and --tag-name need --image-name");
        if (c->image || c->image_id)
            return usage("--image-name cannot be combined with --image or --image-id");
        snprintf(c->ref, sizeof c->ref, "%s%s%s%s%s", c->org ? c->org : "", c->org ? "/" : "",
                 c->name, c->tag ? ":" : "", c->tag ? c->tag : "");
        c->image = c->ref;
    }
    if (c->image && c->image_id)
        return usage("--image and --image-id name the image twice: give one");
    c->lib.image = c->image ? c->image : c->image_id;
    if (c->cmd == CMD_REPORT) /* the page shows all that --detail prints */
        c->detail = true;
    if (c->detail) /* wasted_files: where the wasted bytes were written (C6) */
        c->lib.flags |= IMGSTAT_WASTE;
    c->lib.platform = c->platform;
    c->lib.jobs = (unsigned)c->jobs;
    c->lib.max_entries = no_limit_if_zero(c, "max-entries", c->max_entries);
    c->lib.max_layer_bytes = no_limit_if_zero(c, "max-layer-bytes", c->max_layer_bytes);
    c->lib.max_kept_bytes = no_limit_if_zero(c, "max-kept-bytes", c->max_kept_bytes);
    c->progress = c->progress_on ? 1 : c->progress_off ? 0 : -1;
    c->jobs_set = cli_given(c, "jobs");
    c->max_files_set = cli_given(c, "max-files");
    c->max_size_set = cli_given(c, "max-size");
    c->max_wasted_set = cli_given(c, "max-wasted");
    c->min_eff_set = cli_given(c, "min-efficiency");
    if (c->all && c->lib.image)
        return usage("--all cannot be combined with --image or --image-id");
    if (cli_given(c, "cache-max") && !c->cache_max)
        return usage("--cache-max 0: expected a size (--no-cache turns the memo off)");
    c->lib.cache_max = c->cache_max;
    char why[256];
    if (imgstat_check_options(&c->lib, why, sizeof why) != IMGSTAT_OK)
        return usage("%s", why);
    return EXIT_OK;
}

/* `imgstat cache info|clear`: one word, no IMAGE. */
static int take_action(int argc, char **argv, struct cli *c)
{
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "info") != 0 && strcmp(argv[optind], "clear") != 0))
        return usage("imgstat cache: expected 'info' or 'clear'");
    c->action = argv[optind];
    return EXIT_OK;
}

static int take_inputs(int argc, char **argv, struct cli *c)
{
    if (c->cmd == CMD_SERVE)
        return optind < argc
                   ? usage("imgstat serve takes no IMAGE ('%s'): use --images DIR", argv[optind])
                   : EXIT_OK;
    if (c->cmd == CMD_CACHE)
        return take_action(argc, argv, c);
    if (optind >= argc)
        return usage("no IMAGE given");
    c->inputs = argv + optind;
    c->ninputs = argc - optind;
    c->input = argv[optind];
    int stdin_count = 0;
    for (int i = 0; i < c->ninputs; i++) {
        if (!*c->inputs[i])
            return usage("IMAGE is an empty string");
        stdin_count += strcmp(c->inputs[i], "-") == 0;
    }
    if (stdin_count > 1)
        return usage("standard input ('-') can be read only once");
    if (c->cmd == CMD_FILES && (c->ninputs > 1 || c->all))
        return usage("'imgstat files' lists one image; got %d IMAGEs", c->ninputs);
    if (c->cmd == CMD_REPORT && c->ninputs > 1)
        return usage("'imgstat report' shows one image; got %d IMAGEs", c->ninputs);
    if (c->cmd == CMD_DU && c->ninputs > 2)
        return usage("'imgstat du' takes one IMAGE and at most one PATH; got %d operands",
                     c->ninputs);
    if (c->cmd == CMD_DU && c->ninputs == 2) {
        c->path = c->inputs[1];
        c->ninputs = 1;
        if (strlen(c->path) > CLI_MAX_PATH)
            return usage("PATH is longer than %d bytes (PATH_MAX)", CLI_MAX_PATH);
    }
    if (c->cmd == CMD_ADD && stdin_count)
        return usage("'imgstat add' records files and directories, not standard input");
    return EXIT_OK;
}

/* ---- serve --config FILE ---------------------------------------------------------------- */

/* Lines of a --config file at most, and the longest line. */
#define CLI_CONFIG_MAX_LINES 256
#define CLI_CONFIG_MAX_LINE 4096

/* The arguments a --config file stands for: each line `name value` (or `name` for a flag)
 * becomes `--name value`; blank lines and # comments are skipped.  They live until exit. */
static char *config_args[2 * CLI_CONFIG_MAX_LINES];

static int read_config(const char *path, int *n)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return usage("--config %s: %s", path, strerror(errno));
    char line[CLI_CONFIG_MAX_LINE];
    int lineno = 0, rc = EXIT_OK;
    while (rc == EXIT_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "\r\n")] = '\0';
        if (!*p || *p == '#')
            continue;
        size_t nl = strcspn(p, " \t");
        char *value = p + nl + strspn(p + nl, " \t");
        for (size_t e = strlen(value); e > 0 && (value[e - 1] == ' ' || value[e - 1] == '\t');)
            value[--e] = '\0';
        p[nl] = '\0';
        if (*n + 2 > 2 * CLI_CONFIG_MAX_LINES || strcmp(p, "config") == 0) {
            rc = usage("--config %s line %d: %s", path, lineno,
                       strcmp(p, "config") == 0 ? "config cannot be nested" : "too many lines");
            break;
        }
        if (asprintf(&config_args[(*n)++], "--%s", p) < 0 ||
            (*value && !(config_args[(*n)++] = strdup(value))))
            rc = usage("out of memory");
    }
    fclose(f);
    return rc;
}

/* serve: argv with the --config file's options first (so the command line wins). */
static int expand_config(int *argc, char ***argv)
{
    const char *path = NULL;
    for (int i = 1; i < *argc; i++) {
        if (strcmp((*argv)[i], "--config") == 0 && i + 1 < *argc)
            path = (*argv)[i + 1];
        else if (strncmp((*argv)[i], "--config=", 9) == 0)
            path = (*argv)[i] + 9;
    }
    int n = 0;
    if (!path)
        return EXIT_OK;
    int rc = read_config(path, &n);
    if (rc != EXIT_OK)
        return rc;
    static char **v;
    v = calloc((size_t)(*argc + n + 1), sizeof *v);
    if (!v)
        return usage("out of memory");
    v[0] = (*argv)[0];
    memcpy(v + 1, config_args, (size_t)n * sizeof *v);
    memcpy(v + 1 + n, *argv + 1, (size_t)(*argc - 1) * sizeof *v);
    *argc += n;
    *argv = v;
    return EXIT_OK;
}

int cli_parse(int argc, char **argv, struct cli *c)
{
    memset(c, 0, sizeof *c);
    c->top = 10;
    c->limit = 10;
    c->depth = 1;
    for (int k = 1; k < CMD_COUNT && argc > 1; k++) {
        if (strcmp(argv[1], cli_commands[k].name) == 0) {
            c->cmd = (enum cli_cmd)k;
            argv++;
            argc--;
            break;
        }
    }
    int rc = c->cmd == CMD_SERVE ? expand_config(&argc, &argv) : EXIT_OK;
    if (rc == EXIT_OK)
        rc = parse_options(argc, argv, c);
    if (rc != EXIT_OK || c->help || c->version)
        return rc;
    if ((rc = set_format(c)) != EXIT_OK || (rc = check_combinations(c)) != EXIT_OK)
        return rc;
    /* the API pages 10 at a time; the streaming formats list everything unless told */
    if (c->cmd == CMD_FILES && !cli_given(c, "limit") &&
        (c->format == FMT_CSV || c->format == FMT_JSONL))
        c->limit = 0;
    return take_inputs(argc, argv, c);
}
