/*
 * imgstat: parse the command line, open the image, scan it, print the report.
 */
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>

#include "imgstat.h"
#include "options.h"
#include "output.h"

/* CI gates (issue #4): the report is printed either way; a breach exits 3. */
static int gates(const struct cli *c, const char *input, const struct imgstat_totals *t)
{
    int rc = EXIT_OK;
    if (c->max_files_set && t->files > c->max_files) {
        fprintf(stderr, "imgstat: %s: %" PRIu64 " files, more than --max-files %" PRIu64 "\n",
                input, t->files, c->max_files);
        rc = EXIT_GATE;
    }
    if (c->max_size_set && t->bytes > c->max_size) {
        fprintf(stderr, "imgstat: %s: %" PRIu64 " bytes, more than --max-size %" PRIu64 "\n",
                input, t->bytes, c->max_size);
        rc = EXIT_GATE;
    }
    if (c->max_wasted_set && wasted_bytes(t) > c->max_wasted) {
        fprintf(stderr, "imgstat: %s: %" PRIu64 " wasted bytes, more than --max-wasted %" PRIu64 "\n",
                input, wasted_bytes(t), c->max_wasted);
        rc = EXIT_GATE;
    }
    if (c->min_eff_set && efficiency(t) < c->min_efficiency) {
        fprintf(stderr, "imgstat: %s: efficiency %.4f, below --min-efficiency %.4f\n", input,
                efficiency(t), c->min_efficiency);
        rc = EXIT_GATE;
    }
    return rc;
}

int main(int argc, char **argv)
{
    /* Names are bytes: in a UTF-8 locale libarchive passes PAX (UTF-8) names through as
     * they are, instead of converting them character by character to ASCII (a third of
     * the time of a headers-only scan) and warning about every non-ASCII name. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "C.utf8");
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
    int lrc = imgstat_open(&h, c.input, &c.lib);
    if (lrc == IMGSTAT_EUSAGE) {
        rc = cli_usage_error(imgstat_errmsg(h));
        imgstat_close(h);
        return rc;
    }
    if (lrc != IMGSTAT_OK || imgstat_scan(h, &t) != IMGSTAT_OK) {
        fprintf(stderr, "imgstat: %s: %s\n", c.input, imgstat_errmsg(h));
        imgstat_close(h);
        return EXIT_ERROR;
    }
    if (imgstat_warning(h))
        fprintf(stderr, "imgstat: %s: warning: %s (%" PRIu64 " in all)\n", c.input,
                imgstat_warning(h), t.warnings);
    lrc = c.files_cmd ? report_files(&c, h) : report_stats(&c, h, &t);
    imgstat_close(h);
    if (lrc != IMGSTAT_OK || fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "imgstat: %s: cannot write the report\n", c.input);
        return EXIT_ERROR;
    }
    return c.files_cmd ? EXIT_OK : gates(&c, c.input, &t);
}
