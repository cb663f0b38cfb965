/*
 * largest: what a saved container image holds, through libimgstat: its totals and its
 * largest files.  An example of the library's API (include/imgstat.h), built against the
 * installed library with pkg-config:
 *
 *     cc largest.c $(pkg-config --cflags --libs imgstat) -o largest
 *     ./largest IMAGE [N]
 *
 * IMAGE is what imgstat takes: a docker-save or oci-archive tarball, an OCI layout
 * directory, or - for such a tarball on standard input.  Prints "FILES files, BYTES bytes"
 * (imgstat's two numbers), then the N (default 5) largest files as "SIZE  PATH", largest
 * first, files of equal size in path order.
 */
#include <imgstat.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct file {
    uint64_t size;
    char *path;
};

/* The largest files seen so far, largest first, at most cap of them. */
struct largest {
    struct file *v;
    size_t n, cap;
};

/* imgstat_files() calls this for every regular file, in path order: a file goes after the
 * kept ones of its size, so equal sizes stay in path order.  path is ours only during the
 * call, hence the copy. */
static int keep(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct largest *l = ctx;
    size_t i = l->n;
    while (i > 0 && l->v[i - 1].size < size)
        i--;
    if (i == l->cap)
        return 0; /* no larger than any file kept */
    char *copy = malloc(len + 1);
    if (!copy)
        return IMGSTAT_ENOMEM; /* a non-zero return stops the walk and is returned */
    memcpy(copy, path, len);
    copy[len] = '\0';
    if (l->n == l->cap)
        free(l->v[--l->n].path); /* the smallest makes room */
    memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof *l->v);
    l->v[i] = (struct file){size, copy};
    l->n++;
    return 0;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    unsigned long n = argc == 3 ? strtoul(argv[2], &end, 10) : 5;
    if (argc < 2 || argc > 3 || (end && (*end || end == argv[2])) || n == 0 || n > 1000) {
        fputs("usage: largest IMAGE [N]   (N from 1 to 1000, default 5)\n", stderr);
        return 2;
    }
    struct largest top = {calloc(n, sizeof(struct file)), 0, n};
    if (!top.v)
        return 1;

    /* 1. options: zeroed, every field has its default */
    struct imgstat_options opt;
    memset(&opt, 0, sizeof opt);
    /* 2. open and choose the image, 3. merge its layers, then walk the final view */
    imgstat *h;
    struct imgstat_totals t;
    int rc = imgstat_open(&h, argv[1], &opt);
    if (rc == IMGSTAT_OK)
        rc = imgstat_scan(h, &t);
    if (rc == IMGSTAT_OK)
        rc = imgstat_files(h, keep, &top);
    if (rc == IMGSTAT_OK) {
        printf("%" PRIu64 " files, %" PRIu64 " bytes\n", t.files, t.bytes);
        for (size_t i = 0; i < top.n; i++)
            printf("%12" PRIu64 "  %s\n", top.v[i].size, top.v[i].path);
    } else {
        /* 4. on failure, the handle says what is wrong in one line */
        fprintf(stderr, "largest: %s: %s\n", argv[1], imgstat_errmsg(h));
    }
    /* 5. close frees everything the handle returned */
    imgstat_close(h);
    for (size_t i = 0; i < top.n; i++)
        free(top.v[i].path);
    free(top.v);
    return rc == IMGSTAT_OK ? 0 : 1;
}
