/*
 * imgstat: parse the command line, open the image, scan it, print the report.
 */
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include <errno.h>
#include <string.h>

#include "imgstat.h"
#include "batch.h"
#include "commands.h"
#include "du.h"
#include "options.h"
#include "output.h"
#include "progress.h"
#include "report.h"
#include "server.h"

/* imgstat serve: the table's values into the server's configuration. */
static int serve(const struct cli *c)
{
    struct serve_config sc = {c->listen,      {0},           0,   c->db, (unsigned)c->serve_jobs,
                              c->credentials, c->token_file, {0}, 0};
    for (size_t i = 0; i < c->images.n && i < SERVE_MAX_LIST; i++)
        sc.images[sc.nimages++] = c->images.v[i];
    for (size_t i = 0; i < c->projects.n && i < SERVE_MAX_LIST; i++)
        sc.projects[sc.nprojects++] = c->projects.v[i];
    return serve_run(&sc);
}

/* `imgstat report`: the page, to -o FILE or standard output.  EXIT_OK, or EXIT_ERROR with
 * the reason on stderr. */
static int write_page(const struct cli *c, imgstat *h, const struct imgstat_totals *t)
{
    FILE *f = c->output ? fopen(c->output, "w") : stdout;
    const char *name = c->output ? c->output : "standard output";
    struct report_opts o = {strcmp(c->input, "-") ? c->input : NULL, 0};
    int rc = f ? report_write(f, h, t, &o) : IMGSTAT_ESYS;
    int saved = errno;
    if (f && c->output && fclose(f) != 0 && rc == IMGSTAT_OK) {
        rc = IMGSTAT_ESYS;
        saved = errno;
    }
    if (rc == IMGSTAT_OK)
        return EXIT_OK;
    if (rc == IMGSTAT_ESYS)
        fprintf(stderr, "imgstat: %s: cannot write the page: %s\n", name, strerror(saved));
    else
        fprintf(stderr, "imgstat: %s: cannot write the page: out of memory\n", c->input);
    return EXIT_ERROR;
}

/* The command's output for a scanned image: the exit status. */
static int write_output(const struct cli *c, imgstat *h, const struct imgstat_totals *t)
{
    char why[4200] = "";
    int rc;
    switch (c->cmd) {
    case CMD_REPORT: return write_page(c, h, t);
    case CMD_FILES: rc = report_files(c, h); break;
    case CMD_DU: rc = du_run(stdout, c, h, why, sizeof why); break;
    default: rc = report_stats(stdout, c, h, t, NULL); break;
    }
    if (rc != IMGSTAT_OK && why[0]) {
        fprintf(stderr, "imgstat: %s: %s\n", c->input, why);
        return EXIT_ERROR;
    }
    if (rc != IMGSTAT_OK || fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "imgstat: %s: cannot write the report\n", c->input);
        return EXIT_ERROR;
    }
    return c->cmd == CMD_STATS ? gates(c, c->input, t) : EXIT_OK;
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
        cli_help(stdout, c.cmd);
        return EXIT_OK;
    }
    if (c.version) {
        puts(imgstat_version());
        return EXIT_OK;
    }
    if (c.cmd == CMD_SERVE)
        return serve(&c);
    if (c.cmd == CMD_CACHE)
        return cache_run(&c);
    if (c.cmd == CMD_ADD)
        return add_run(&c);
    if (c.ninputs > 1 || c.all)
        return batch_run(&c);
    struct progress prog;
    if (c.progress == 1 || (c.progress < 0 && isatty(STDERR_FILENO))) {
        progress_start(&prog);
        c.lib.progress = progress_update;
        c.lib.progress_ctx = &prog;
    }
    imgstat *h;
    struct imgstat_totals t;
    int lrc = imgstat_open(&h, c.input, &c.lib);
    if (lrc == IMGSTAT_OK)
        lrc = imgstat_scan(h, &t);
    if (c.lib.progress)
        progress_end(&prog);
    if (lrc != IMGSTAT_OK) {
        fprintf(stderr, "imgstat: %s: %s\n", c.input, imgstat_errmsg(h));
        imgstat_close(h);
        return EXIT_ERROR;
    }
    cache_warn(imgstat_cache_warning(h));
    char why[256];
    if ((c.cmd == CMD_STATS || c.cmd == CMD_REPORT) && figures_check(&c, h, &t, why, sizeof why)) {
        fprintf(stderr, "imgstat: %s: %s\n", c.input, why); /* never a wrapped figure (C4) */
        imgstat_close(h);
        return EXIT_ERROR;
    }
    if (imgstat_warning(h))
        fprintf(stderr, "imgstat: %s: warning: %s (%" PRIu64 " in all)\n", c.input,
                imgstat_warning(h), t.warnings);
    rc = write_output(&c, h, &t);
    imgstat_close(h);
    return rc;
}
