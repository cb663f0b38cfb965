/*
 * Inputs are claimed in order by a few threads; each writes its lines into a
 * buffer of its own, and the buffers are printed in input order at the end, so
 * the output does not depend on which scan finished first.
 */
#define _GNU_SOURCE
#include "batch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"

struct job {
    const char *input;
    char *out; /* the lines for this input */
    size_t len;
    int status;
};

struct batch {
    const struct cli *c;
    struct imgstat_options lib;
    struct job *jobs;
    int n, next;
    pthread_mutex_t mu;
};

static int worse(int a, int b)
{
    if (a == EXIT_ERROR || b == EXIT_ERROR)
        return EXIT_ERROR;
    return a == EXIT_GATE || b == EXIT_GATE ? EXIT_GATE : EXIT_OK;
}

/* An image that could not be scanned: its line, and the reason on stderr. */
static int scan_failed(const struct batch *b, imgstat *h, struct job *j, FILE *f, const char *why)
{
    const struct imgstat_image_info *im = imgstat_image(h);
    const char *name = im && im->nrefs ? im->refs[0] : im ? im->id : NULL;
    report_error(f, b->c, j->input, name, why);
    fprintf(stderr, "imgstat: %s: %s\n", j->input, why);
    return EXIT_ERROR;
}

/* Scan the chosen image of h and write its line. */
static int scan_one(const struct batch *b, imgstat *h, struct job *j, FILE *f)
{
    struct imgstat_totals t;
    char why[256];
    if (imgstat_scan(h, &t) != IMGSTAT_OK)
        return scan_failed(b, h, j, f, imgstat_errmsg(h));
    cache_warn(imgstat_cache_warning(h));
    if (figures_check(b->c, h, &t, why, sizeof why)) /* never a wrapped figure (C4) */
        return scan_failed(b, h, j, f, why);
    scan_warning(j->input, h, &t); /* as for one image, naming the input */
    if (report_stats(f, b->c, h, &t, j->input) != IMGSTAT_OK)
        return EXIT_ERROR;
    return gates(b->c, j->input, &t);
}

static void run_input(const struct batch *b, struct job *j)
{
    FILE *f = open_memstream(&j->out, &j->len);
    if (!f) {
        j->status = EXIT_ERROR;
        return;
    }
    imgstat *h;
    if (imgstat_open(&h, j->input, &b->lib) != IMGSTAT_OK) {
        report_error(f, b->c, j->input, NULL, imgstat_errmsg(h));
        fprintf(stderr, "imgstat: %s: %s\n", j->input, imgstat_errmsg(h));
        j->status = EXIT_ERROR;
    } else if (b->c->all) {
        for (uint64_t i = 0; i < imgstat_count(h); i++) {
            imgstat_choose(h, i);
            j->status = worse(j->status, scan_one(b, h, j, f));
        }
    } else {
        j->status = scan_one(b, h, j, f);
    }
    imgstat_close(h);
    fclose(f);
}

static void *worker(void *arg)
{
    struct batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        int i = b->next++;
        pthread_mutex_unlock(&b->mu);
        if (i >= b->n)
            return NULL;
        run_input(b, &b->jobs[i]);
    }
}

int batch_run(const struct cli *c)
{
    struct batch b = {.c = c, .lib = c->lib, .n = c->ninputs};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = c->ninputs < cpus ? c->ninputs : (int)(cpus > 0 ? cpus : 1);
    if (c->all)
        b.lib.flags |= IMGSTAT_NO_SELECT;
    if (nthreads > 1 && !c->jobs_set)
        b.lib.jobs = 1; /* the inputs already keep every core busy */
    if (!(b.jobs = calloc((size_t)c->ninputs, sizeof *b.jobs)))
        return EXIT_ERROR;
    for (int i = 0; i < c->ninputs; i++)
        b.jobs[i].input = c->inputs[i];
    pthread_mutex_init(&b.mu, NULL);
    pthread_t tid[64];
    int started = 0;
    for (; started < nthreads - 1 && started < 64; started++)
        if (pthread_create(&tid[started], NULL, worker, &b) != 0)
            break;
    worker(&b);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    int status = EXIT_OK;
    for (int i = 0; i < c->ninputs; i++) {
        if (b.jobs[i].out)
            fwrite(b.jobs[i].out, 1, b.jobs[i].len, stdout);
        free(b.jobs[i].out);
        status = worse(status, b.jobs[i].status);
    }
    pthread_mutex_destroy(&b.mu);
    free(b.jobs);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "imgstat: cannot write the report\n");
        return EXIT_ERROR;
    }
    return status;
}
