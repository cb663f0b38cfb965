#include "options.h"

#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The most decoder threads -j accepts: more than this only costs memory. */
#define CLI_MAX_JOBS 256

enum opt_id {
    OPT_IMAGE = 1000,
    OPT_PLATFORM,
    OPT_JOBS,
    OPT_LENIENT,
    OPT_DETAIL,
    OPT_TOP,
    OPT_FORMAT,
    OPT_FILE_NAME,
    OPT_LIMIT,
    OPT_OFFSET,
    OPT_NAMESPACE,
    OPT_IMAGE_NAME,
    OPT_TAG_NAME,
    OPT_IMAGE_ID,
    OPT_ALL,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_MAX_ENTRIES,
    OPT_VERIFY,
    OPT_MAX_LAYER_BYTES,
    OPT_MAX_FILES,
    OPT_MAX_SIZE,
    OPT_MAX_WASTED,
    OPT_MIN_EFF,
    OPT_HELP,
    OPT_VERSION
};

struct opt {
    const char *name;
    int short_name;  /* 0: none */
    const char *arg; /* NULL: a flag */
    int id;
    const char *help;
};

static const struct opt opts[] = {
    {"image", 0, "REF", OPT_IMAGE, "NAME:TAG, ref name, image ID (>= 12 hex) or manifest digest"},
    {"platform", 0, "OS/ARCH[/VAR]", OPT_PLATFORM,
     "from a multi-platform index (default: the host's)"},
    {"jobs", 'j', "N", OPT_JOBS, "layers decoded at once (default: online CPUs)"},
    {"lenient", 0, NULL, OPT_LENIENT, "warn and skip entries that cannot be applied"},
    {"verify", 0, NULL, OPT_VERIFY, "check every blob's digest and every diff_id"},
    {"max-layer-bytes", 0, "SIZE", OPT_MAX_LAYER_BYTES,
     "stop a layer beyond SIZE (default 1TiB, 0: none)"},
    {"max-entries", 0, "N", OPT_MAX_ENTRIES, "stop beyond N tar entries (default 20M, 0: none)"},
    {"detail", 0, NULL, OPT_DETAIL, "identity, counts, layers, wasted bytes"},
    {"top", 0, "N", OPT_TOP, "with --detail: N largest files (default 10)"},
    {"format", 0, "FMT", OPT_FORMAT, "json, text; files: also csv, jsonl"},
    {"file-name", 0, "TEXT", OPT_FILE_NAME, "files: names containing TEXT"},
    {"limit", 0, "N", OPT_LIMIT, "files: N entries (10; csv/jsonl: 0 = all)"},
    {"offset", 0, "N", OPT_OFFSET, "files: skip N entries"},
    {"namespace", 0, "ORG", OPT_NAMESPACE,
     "--image-name NAME --tag-name TAG: as\n"
     "                               --image ORG/NAME:TAG"},
    {"image-name", 0, "NAME", OPT_IMAGE_NAME, NULL},
    {"tag-name", 0, "TAG", OPT_TAG_NAME, NULL},
    {"image-id", 0, "ID", OPT_IMAGE_ID, "as the API's path parameter"},
    {"all", 0, NULL, OPT_ALL, "every image of each IMAGE, as JSON Lines"},
    {"max-files", 0, "N", OPT_MAX_FILES, "exit 3 above N files"},
    {"max-size", 0, "SIZE", OPT_MAX_SIZE, "exit 3 above SIZE bytes (K, M, G, KiB, MiB, GiB)"},
    {"max-wasted", 0, "SIZE", OPT_MAX_WASTED, "exit 3 above SIZE wasted bytes"},
    {"min-efficiency", 0, "R", OPT_MIN_EFF, "exit 3 below efficiency R (0 to 1)"},
    {"progress", 0, NULL, OPT_PROGRESS, "a progress line on stderr (default: on a terminal)"},
    {"no-progress", 0, NULL, OPT_NO_PROGRESS, NULL},
    {"help", 'h', NULL, OPT_HELP, "this help"},
    {"version", 'V', NULL, OPT_VERSION, "versions of imgstat and its libraries"},
};
#define NOPTS (sizeof opts / sizeof *opts)

void cli_help(FILE *f)
{
    fputs("Usage: imgstat [OPTIONS] IMAGE [IMAGE...]\n"
          "       imgstat files [OPTIONS] IMAGE\n"
          "File statistics of a saved container image, read offline.\n"
          "IMAGE: a docker-save/oci-archive tarball (plain, gzip, zstd, xz, bzip2), an OCI\n"
          "layout, or - for a tarball on standard input\n"
          "Options:\n",
          f);
    for (size_t i = 0; i < NOPTS; i++) {
        if (!opts[i].help)
            continue; /* described with the option before it */
        char left[64];
        bool paired = i + 1 < NOPTS && !opts[i + 1].help;
        snprintf(left, sizeof left, "%s%c%s--%s%s%s", opts[i].short_name ? "-" : "",
                 opts[i].short_name ? opts[i].short_name : ' ', opts[i].short_name ? ", " : " ",
                 opts[i].name, opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        if (paired && strncmp(opts[i + 1].name, "no-", 3) == 0)
            snprintf(left, sizeof left, "  --%s, --%s", opts[i].name, opts[i + 1].name);
        fprintf(f, "  %-28s %s\n", opts[i].short_name ? left : left + 2, opts[i].help);
    }
    fputs("Exit status (imgstat(1) says more):\n"
          "  0  success\n"
          "  1  the image could not be read, chosen or scanned (stderr says why)\n"
          "  2  usage error\n"
          "  3  a gate (--max-files, --max-size, --max-wasted, --min-efficiency) failed\n\n"
          "Examples:\n"
          "  docker save app:1 | imgstat -\n"
          "  imgstat --detail --format text --image app:1 images.tar\n"
          "  imgstat files --file-name .so --limit 0 --format csv ./oci-layout\n",
          f);
}

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
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse(int argc, char **argv, struct cli *c)
{
    struct option lopts[NOPTS + 1];
    char shorts[2 * NOPTS + 2] = ":";
    size_t ns = 1;
    memset(lopts, 0, sizeof lopts);
    for (size_t i = 0; i < NOPTS; i++) {
        lopts[i] = (struct option){opts[i].name, opts[i].arg ? required_argument : no_argument,
                                   NULL, opts[i].id};
        if (opts[i].short_name) {
            shorts[ns++] = (char)opts[i].short_name;
            if (opts[i].arg)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    memset(c, 0, sizeof *c);
    c->progress = -1;
    c->top = 10;
    c->limit = 10;
    const char *org = NULL, *name = NULL, *tag = NULL;
    if (argc > 1 && strcmp(argv[1], "files") == 0) {
        c->files_cmd = true;
        argv++;
        argc--;
    }
    opterr = 0;
    int ch;
    unsigned long n;
    uint64_t u;
    char *end;
    while ((ch = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        switch (ch) {
        case OPT_IMAGE: c->lib.image = optarg; break;
        case OPT_PLATFORM: c->lib.platform = optarg; break;
        case 'j':
        case OPT_JOBS:
            if (parse_uint(optarg, 1, CLI_MAX_JOBS, &n) != 0)
                return usage("-j/--jobs '%s': expected a whole number from 1 to %d", optarg,
                             CLI_MAX_JOBS);
            c->lib.jobs = (unsigned)n;
            c->jobs_set = true;
            break;
        case OPT_LENIENT: c->lib.flags |= IMGSTAT_LENIENT; break;
        case OPT_DETAIL: c->detail = true; break;
        case OPT_VERIFY: c->lib.flags |= IMGSTAT_VERIFY; break;
        case OPT_MAX_ENTRIES:
            if (parse_uint(optarg, 0, ULONG_MAX, &n) != 0)
                return usage("--max-entries '%s': expected a whole number", optarg);
            c->lib.max_entries = n ? n : UINT64_MAX;
            break;
        case OPT_MAX_LAYER_BYTES:
            if (parse_size(optarg, &u) != 0)
                return usage("--max-layer-bytes '%s': expected a size such as 500M or 2GiB",
                             optarg);
            c->lib.max_layer_bytes = u ? u : UINT64_MAX;
            break;
        case OPT_TOP:
            if (parse_uint(optarg, 0, 100000, &n) != 0)
                return usage("--top '%s': expected a whole number from 0 to 100000", optarg);
            c->top = n;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                c->format = FMT_JSON;
            else if (strcmp(optarg, "text") == 0)
                c->format = FMT_TEXT;
            else if (strcmp(optarg, "csv") == 0)
                c->format = FMT_CSV;
            else if (strcmp(optarg, "jsonl") == 0)
                c->format = FMT_JSONL;
            else
                return usage("--format '%s': expected json, text, csv or jsonl", optarg);
            break;
        case OPT_FILE_NAME: c->file_name = optarg; break;
        case OPT_LIMIT:
        case OPT_OFFSET:
            if (parse_uint(optarg, 0, ULONG_MAX, &n) != 0)
                return usage("--%s '%s': expected a whole number",
                             ch == OPT_LIMIT ? "limit" : "offset", optarg);
            *(ch == OPT_LIMIT ? &c->limit : &c->offset) = n;
            c->limit_set |= ch == OPT_LIMIT;
            break;
        case OPT_NAMESPACE: org = optarg; break;
        case OPT_IMAGE_NAME: name = optarg; break;
        case OPT_TAG_NAME: tag = optarg; break;
        case OPT_IMAGE_ID: c->lib.image = optarg; break;
        case OPT_ALL: c->all = true; break;
        case OPT_PROGRESS: c->progress = 1; break;
        case OPT_NO_PROGRESS: c->progress = 0; break;
        case OPT_MAX_FILES:
            if (parse_uint(optarg, 0, ULONG_MAX, &n) != 0)
                return usage("--max-files '%s': expected a whole number", optarg);
            c->max_files = n;
            c->max_files_set = true;
            break;
        case OPT_MAX_SIZE:
        case OPT_MAX_WASTED:
            if (parse_size(optarg, &u) != 0)
                return usage("--%s '%s': expected a size such as 500M or 2GiB",
                             ch == OPT_MAX_SIZE ? "max-size" : "max-wasted", optarg);
            if (ch == OPT_MAX_SIZE)
                c->max_size = u, c->max_size_set = true;
            else
                c->max_wasted = u, c->max_wasted_set = true;
            break;
        case OPT_MIN_EFF:
            c->min_efficiency = strtod(optarg, &end);
            if (!*optarg || *end || !(c->min_efficiency >= 0 && c->min_efficiency <= 1))
                return usage("--min-efficiency '%s': expected a ratio from 0 to 1", optarg);
            c->min_eff_set = true;
            break;
        case 'h':
        case OPT_HELP: c->help = true; break;
        case 'V':
        case OPT_VERSION: c->version = true; break;
        case ':': return usage("option '%s' needs a value", argv[optind - 1]);
        default: return usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (c->help || c->version)
        return EXIT_OK;
    if (name || tag || org) {
        if (!name)
            return usage("--namespace and --tag-name need --image-name");
        if (c->lib.image)
            return usage("--image-name cannot be combined with --image or --image-id");
        snprintf(c->ref, sizeof c->ref, "%s%s%s%s%s", org ? org : "", org ? "/" : "", name,
                 tag ? ":" : "", tag ? tag : "");
        c->lib.image = c->ref;
    }
    if (!c->files_cmd && (c->format == FMT_CSV || c->format == FMT_JSONL))
        return usage("--format csv and jsonl are for 'imgstat files'");
    if (c->files_cmd &&
        (c->max_files_set || c->max_size_set || c->max_wasted_set || c->min_eff_set || c->detail))
        return usage("--detail, --max-* and --min-efficiency are for the statistics report");
    /* the API pages 10 at a time; the streaming formats list everything unless told */
    if (c->files_cmd && !c->limit_set && (c->format == FMT_CSV || c->format == FMT_JSONL))
        c->limit = 0;
    char why[256];
    if (imgstat_check_options(&c->lib, why, sizeof why) != IMGSTAT_OK)
        return usage("%s", why);
    if (optind >= argc)
        return usage("no IMAGE given");
    c->inputs = argv + optind;
    c->ninputs = argc - optind;
    c->input = argv[optind];
    for (int i = 0; i < c->ninputs; i++)
        if (!*c->inputs[i])
            return usage("IMAGE is an empty string");
    if (c->files_cmd && (c->ninputs > 1 || c->all))
        return usage("'imgstat files' lists one image; got %d IMAGEs%s", c->ninputs,
                     c->all ? " and --all" : "");
    if (c->all && c->lib.image)
        return usage("--all cannot be combined with --image or --image-id");
    int stdin_count = 0;
    for (int i = 0; i < c->ninputs; i++)
        stdin_count += strcmp(c->inputs[i], "-") == 0;
    if (stdin_count > 1)
        return usage("standard input ('-') can be read only once");
    return EXIT_OK;
}
