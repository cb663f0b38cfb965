#include "options.h"

#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The most decoder threads -j accepts: more than this only costs memory. */
#define CLI_MAX_JOBS 256

enum opt_id { OPT_IMAGE = 1000, OPT_PLATFORM, OPT_JOBS, OPT_LENIENT, OPT_HELP, OPT_VERSION };

struct opt {
    const char *name;
    int short_name; /* 0: none */
    const char *arg;  /* NULL: a flag */
    int id;
    const char *help;
};

static const struct opt opts[] = {
    {"image", 0, "REF", OPT_IMAGE,
     "choose the image: NAME:TAG, ref name, image ID (>= 12 hex), manifest digest"},
    {"platform", 0, "OS/ARCH[/VAR]", OPT_PLATFORM,
     "choose from a multi-platform index (default: the host's)"},
    {"jobs", 'j', "N", OPT_JOBS, "layers decoded at once (default: online CPUs)"},
    {"lenient", 0, NULL, OPT_LENIENT,
     "warn and skip broken entries (hard link to nothing, file as parent, bare .wh.)"},
    {"help", 'h', NULL, OPT_HELP, "show this help and exit"},
    {"version", 'V', NULL, OPT_VERSION, "show versions of imgstat and its libraries"},
};
#define NOPTS (sizeof opts / sizeof *opts)

void cli_help(FILE *f)
{
    fputs("Usage: imgstat [OPTIONS] IMAGE\n"
          "File statistics of a saved container image, read offline.\n"
          "IMAGE: a docker-save or oci-archive tarball (plain, gzip or zstd), an OCI\n"
          "image-layout directory, or - for a tarball on standard input.\n\n"
          "Options:\n",
          f);
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%c%s--%s%s%s", opts[i].short_name ? "-" : "",
                 opts[i].short_name ? opts[i].short_name : ' ', opts[i].short_name ? ", " : " ",
                 opts[i].name, opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        fprintf(f, "  %-28s %s\n", opts[i].short_name ? left : left + 2, opts[i].help);
    }
    fputs("\nOutput: {\"total_files_num\": N, \"total_files_size\": N} on stdout: regular files\n"
          "of the final filesystem (each hard-link name counted) and their bytes (once per inode).\n\n"
          "Exit status:\n"
          "  0  success\n"
          "  1  the image could not be read, chosen or scanned (one line on stderr says why)\n"
          "  2  usage error\n\n"
          "Examples:\n"
          "  docker save app:1 | imgstat -\n"
          "  imgstat --image app:1 images.tar\n"
          "  imgstat --platform linux/arm64 ./oci-layout\n",
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
    opterr = 0;
    int ch;
    unsigned long n;
    while ((ch = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        switch (ch) {
        case OPT_IMAGE: c->lib.image = optarg; break;
        case OPT_PLATFORM: c->lib.platform = optarg; break;
        case 'j':
        case OPT_JOBS:
            if (parse_uint(optarg, 1, CLI_MAX_JOBS, &n) != 0)
                return usage("-j/--jobs '%s': expected a whole number from 1 to %d", optarg, CLI_MAX_JOBS);
            c->lib.jobs = (unsigned)n;
            break;
        case OPT_LENIENT: c->lib.flags |= IMGSTAT_LENIENT; break;
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
    if (optind >= argc)
        return usage("no IMAGE given");
    if (argc - optind > 1)
        return usage("one IMAGE at a time; got '%s' and '%s'", argv[optind], argv[optind + 1]);
    c->input = argv[optind];
    if (!*c->input)
        return usage("IMAGE is an empty string");
    return EXIT_OK;
}
