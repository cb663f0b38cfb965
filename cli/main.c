/*
 * imgstat: parse the command line, open the image, scan it, print the report.
 */
#include <inttypes.h>
#include <stdio.h>

#include "imgstat.h"
#include "options.h"

/* The HSS files-statistics response shape; integers printed exactly (not via doubles). */
static int report(const struct imgstat_totals *t)
{
    printf("{\"total_files_num\": %" PRIu64 ", \"total_files_size\": %" PRIu64 "}\n", t->files,
           t->bytes);
    return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_ERROR;
}

int main(int argc, char **argv)
{
    struct cli c;
    int rc = cli_parse(argc, argv, &c);
    if (rc != EXIT_OK)
        return rc;
    if (c.help) {
        cli_help(stdout);
        return EXIT_OK;
    }
    if (c.version) {
        puts(imgstat_version());
        return EXIT_OK;
    }
    imgstat *h;
    struct imgstat_totals t;
    if (imgstat_open(&h, c.input, &c.lib) != IMGSTAT_OK || imgstat_scan(h, &t) != IMGSTAT_OK) {
        fprintf(stderr, "imgstat: %s: %s\n", c.input, imgstat_errmsg(h));
        imgstat_close(h);
        return EXIT_ERROR;
    }
    if (imgstat_warning(h))
        fprintf(stderr, "imgstat: %s: warning: %s (%" PRIu64 " in all)\n", c.input,
                imgstat_warning(h), t.warnings);
    imgstat_close(h);
    rc = report(&t);
    if (rc != EXIT_OK)
        fprintf(stderr, "imgstat: cannot write the report\n");
    return rc;
}
