/*
 * imgstat: parse the command line, then run the command: open the image, scan it, write
 * the report (or serve, record, show the memo: their own files).
 */
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

/* Open and scan c's one input, with the progress line when asked: the handle, or NULL
 * with the reason on stderr. */
static imgstat *open_and_scan(struct cli *c, struct imgstat_totals *t)
{
    struct progress prog;
    if (c->progress == 1 || (c->progress < 0 && isatty(STDERR_FILENO))) {
        progress_start(&prog);
        c->lib.progress = progress_update;
        c->lib.progress_ctx = &prog;
    }
    imgstat *h;
    int rc = imgstat_open(&h, c->input, &c->lib);
    if (rc == IMGSTAT_OK)
        rc = imgstat_scan(h, t);
    if (c->lib.progress)
        progress_end(&prog);
    c->lib.progress = NULL;
    if (rc != IMGSTAT_OK) {
        fprintf(stderr, "imgstat: %s: %s\n", c->input, imgstat_errmsg(h));
        imgstat_close(h);
        return NULL;
    }
    return h;
}

/* What a scan of one image says besides its report: the memo's and the scan's warnings on
 * stderr; EXIT_ERROR (with the reason) for a figure that does not fit (C4). */
static int check_scan(const struct cli *c, imgstat *h, const struct imgstat_totals *t)
{
    cache_warn(imgstat_cache_warning(h));
    char why[256];
    if ((c->cmd == CMD_STATS || c->cmd == CMD_REPORT) && figures_check(c, h, t, why, sizeof why)) {
        fprintf(stderr, "imgstat: %s: %s\n", c->input, why); /* never a wrapped figure */
        return EXIT_ERROR;
    }
    scan_warning(c->input, h, t);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /* Names are bytes: in a UTF-8 locale libarchive passes PAX (UTF-8) names of the outer
     * archive through as they are, instead of converting them character by character. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "C.utf8");
    struct cli c;
    int rc = cli_parse(argc, argv, &c);
    if (rc != EXIT_OK)
        return rc;
    if (c.help)
        cli_help(stdout, c.cmd);
    else if (c.version)
        puts(imgstat_version());
    if (c.help || c.version)
        return EXIT_OK;
    switch (c.cmd) {
    case CMD_SERVE: return serve(&c);
    case CMD_CACHE: return cache_run(&c);
    case CMD_ADD: return add_run(&c);
    default: break;
    }
    if (c.ninputs > 1 || c.all)
        return batch_run(&c);
    struct imgstat_totals t;
    imgstat *h = open_and_scan(&c, &t);
    if (!h)
        return EXIT_ERROR;
    rc = check_scan(&c, h, &t);
    if (rc == EXIT_OK)
        rc = write_output(&c, h, &t);
    imgstat_close(h);
    return rc;
}
