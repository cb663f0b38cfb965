/*
 * recsize: what a layer's entry records cost (layers/record.h), for the figures in the
 * README and bench/README.md.
 *
 *   recsize LAYER...     (layer blobs in stack order: tar, gzip or zstd)
 *
 * For each layer: its entries, its tar header bytes (the tar stream to its end marker less
 * each regular file's data blocks), the bytes rec_export() writes for it and what zstd -3
 * makes of them, and the memory its records hold.  The last line records every layer into
 * one shared directory table, as a stream does, and gives the memory per entry.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "err.h"
#include "record.h"
#include "source.h"

struct count {
    struct rec_buf *rec;
    uint64_t data; /* regular files' data blocks */
};

static int count_sink(void *ctx, const struct layer_entry *ent, struct err *e)
{
    struct count *c = ctx;
    if (ent->type == ENT_REG)
        c->data += (ent->size + 511) / 512 * 512;
    return rec_sink(c->rec, ent, e);
}

static const void *map_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(path);
        exit(1);
    }
    *len = (size_t)st.st_size;
    void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : "";
    close(fd);
    if (p == MAP_FAILED) {
        perror(path);
        exit(1);
    }
    return p;
}

/* Record one layer into r; returns its tar header bytes. */
static uint64_t record(const char *path, struct rec_buf *r)
{
    size_t len;
    const void *blob = map_file(path, &len);
    struct count c = {r, 0};
    struct layer_meta meta;
    struct err e = {0};
    if (src_walk_memory(NULL, blob, len, NULL, count_sink, &c, &meta, &e) != IMGSTAT_OK) {
        fprintf(stderr, "recsize: %s: %s\n", path, e.msg);
        exit(1);
    }
    if (len)
        munmap((void *)blob, len);
    return meta.tar_bytes - c.data;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: recsize LAYER...\n", stderr);
        return 2;
    }
    printf("| layer | entries | tar headers | export | export / headers | export B/entry | "
           "zstd -3 | zstd B/entry | memory B/entry |\n|---|---:|---:|---:|---:|---:|---:|---:|"
           "---:|\n");
    uint64_t all = 0;
    for (int i = 1; i < argc; i++) {
        struct rec_buf r = {0};
        uint64_t headers = record(argv[i], &r);
        unsigned char *x;
        size_t xlen;
        struct err e = {0};
        if (rec_export(&r, &x, &xlen, &e) != IMGSTAT_OK)
            return fprintf(stderr, "recsize: %s\n", e.msg), 1;
        size_t cap = ZSTD_compressBound(xlen);
        void *z = malloc(cap);
        size_t zlen = z ? ZSTD_compress(z, cap, x, xlen, 3) : 0;
        double n = r.count ? (double)r.count : 1;
        printf("| %s | %llu | %llu | %zu | %.1f%% | %.1f | %zu | %.1f | %.1f |\n", argv[i],
               (unsigned long long)r.count, (unsigned long long)headers, xlen,
               100.0 * (double)xlen / (double)(headers ? headers : 1), (double)xlen / n, zlen,
               (double)zlen / n, (double)(r.bytes + rec_dirs_bytes(r.dirs)) / n);
        all += r.count;
        free(x);
        free(z);
        rec_free(&r);
    }
    /* every layer in one shared table, as a stream holds them */
    struct rec_dirs *d = rec_dirs_new();
    struct rec_buf *v = calloc((size_t)argc, sizeof *v);
    size_t held = 0;
    for (int i = 1; i < argc; i++) {
        rec_init(&v[i], d);
        record(argv[i], &v[i]);
        held += v[i].bytes;
    }
    held += rec_dirs_bytes(d);
    printf("\nall layers in one table (a stream): %llu entries, %zu bytes, %.1f B/entry\n",
           (unsigned long long)all, held, (double)held / (double)(all ? all : 1));
    for (int i = 1; i < argc; i++)
        rec_free(&v[i]);
    free(v);
    rec_dirs_free(d);
    return 0;
}
