/*
 * catq: the catalog's public API from the command line, for the catalog tests and the
 * bench (`imgstat serve` answers HSS from the same calls).  Output is JSON, one object a
 * line; `files` prints exactly what `imgstat files` prints for the same page.
 *
 *   catq DB list [--name N] [--version V] [--status S] [--offset N] [--limit N]
 *   catq DB find [--id ID] [--ns NS] [--name NAME] [--tag TAG]
 *   catq DB files (--id ID | --key K) [--file-name T] [--offset N] [--limit N] [--repeat N]
 *   catq DB inputs | counts | status PATH STATUS [DESC] | remove PATH
 *
 * --repeat N runs the files query N times and prints its p50 and p90 in ms on stderr.
 * Exit status: 0, 1 on an API failure (its message on stderr), 2 on a usage error, 3 when
 * find finds nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imgstat.h"

struct args {
    const char *name, *version, *status, *id, *ns, *tag, *file_name;
    uint64_t offset, limit, repeat;
    int64_t key;
    bool limit_set;
};

/* A string as JSON, as imgstat's CLI writes it (bytes that are not UTF-8 as \u00XX). */
static void jstr(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    putchar('"');
    for (size_t i = 0; i < len;) {
        size_t n = p[i] < 0x80 ? 1 : (p[i] & 0xe0) == 0xc0 ? 2 : (p[i] & 0xf0) == 0xe0 ? 3 : 4;
        bool ok = n <= len - i && (n != 2 || p[i] >= 0xc2) && (n == 1 || p[i] < 0xf8);
        for (size_t k = 1; ok && k < n; k++)
            ok = (p[i + k] & 0xc0) == 0x80;
        if (n == 1 && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
            putchar(p[i]);
        else if (n == 1 && (p[i] == '"' || p[i] == '\\'))
            printf("\\%c", p[i]);
        else if (n > 1 && ok)
            fwrite(p + i, 1, n, stdout);
        else {
            printf("\\u%04x", p[i]);
            n = 1;
        }
        i += n;
    }
    putchar('"');
}

static void jfield(const char *lead, const char *key, const char *v)
{
    printf("%s\"%s\": ", lead, key);
    if (v)
        jstr(v, strlen(v));
    else
        fputs("null", stdout);
}

static int print_image(void *ctx, const struct imgstat_catalog_image *im)
{
    (void)ctx;
    printf("{\"key\": %" PRId64, im->key);
    jfield(", ", "input", im->input);
    printf(", \"index\": %" PRIu64, im->index);
    jfield(", ", "image_id", im->image_id);
    jfield(", ", "manifest_digest", im->manifest_digest);
    jfield(", ", "format", im->format);
    jfield(", ", "platform", im->platform);
    printf(", \"refs\": %s", im->refs_json ? im->refs_json : "null");
    jfield(", ", "ref", im->ref);
    jfield(", ", "host", im->host);
    jfield(", ", "namespace", im->ns);
    jfield(", ", "name", im->name);
    jfield(", ", "tag", im->tag);
    jfield(", ", "scan_status", imgstat_scan_status_name(im->status));
    jfield(", ", "scan_failed_desc", im->failed_desc);
    printf(", \"total_files_num\": %" PRIu64 ", \"total_files_size\": %" PRIu64
           ", \"image_size\": %" PRIu64 ", \"detail\": %s, \"mtime_ms\": %" PRId64
           ", \"scanned_ms\": %" PRId64 "}\n",
           im->files, im->bytes, im->image_size, im->detail_json ? im->detail_json : "null",
           im->mtime_ms, im->scanned_ms);
    return 0;
}

static int print_input(void *ctx, const struct imgstat_catalog_input *in)
{
    (void)ctx;
    jfield("{", "path", in->path);
    printf(", \"dev\": %" PRIu64 ", \"ino\": %" PRIu64 ", \"size\": %" PRIu64
           ", \"mtime_ns\": %" PRId64,
           in->dev, in->ino, in->size, in->mtime_ns);
    jfield(", ", "scan_status", imgstat_scan_status_name(in->status));
    jfield(", ", "scan_failed_desc", in->failed_desc);
    printf(", \"scanned_ms\": %" PRId64 "}\n", in->scanned_ms);
    return 0;
}

struct page {
    uint64_t printed;
    bool quiet;
};

static int print_file(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct page *pg = ctx;
    if (pg->quiet)
        return 0;
    const char *base = path + len;
    while (base > path && base[-1] != '/')
        base--;
    fputs(pg->printed++ ? ", {\"file_name\": " : "{\"file_name\": ", stdout);
    jstr(base, (size_t)(path + len - base));
    fputs(", \"file_path\": ", stdout);
    jstr(path, (size_t)len);
    printf(", \"size\": %" PRIu64 "}", size);
    return 0;
}

static int got_key(void *ctx, const struct imgstat_catalog_image *im)
{
    *(int64_t *)ctx = im->key;
    return 0;
}

static double now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int files(imgstat_catalog *c, const struct args *a)
{
    int64_t key = a->key;
    int found = 1;
    struct imgstat_catalog_select s = {a->id, NULL, NULL, NULL};
    if (a->id && imgstat_catalog_find(c, &s, got_key, &key, &found) != IMGSTAT_OK)
        return 1;
    if (!found)
        return 3;
    uint64_t limit = a->limit_set ? a->limit : 10, total = 0;
    double *t = calloc(a->repeat ? 2 * a->repeat : 1, sizeof *t), *cpu = t + a->repeat;
    for (uint64_t i = 0; i < a->repeat; i++) { /* timing runs: the page goes nowhere */
        struct page quiet = {0, true};
        double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
        if (imgstat_catalog_files(c, key, a->file_name, a->offset, limit, &total, print_file,
                                  &quiet) != IMGSTAT_OK)
            break;
        t[i] = now_ms(CLOCK_MONOTONIC) - t0;
        cpu[i] = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
    }
    if (a->repeat) {
        qsort(t, a->repeat, sizeof *t, cmp_double);
        qsort(cpu, a->repeat, sizeof *cpu, cmp_double);
        fprintf(stderr,
                "files: %" PRIu64 " runs, p50 %.2f ms, p90 %.2f ms (cpu p50 %.2f ms); "
                "total_num %" PRIu64 "\n",
                a->repeat, t[a->repeat / 2], t[a->repeat * 9 / 10], cpu[a->repeat / 2], total);
    }
    free(t);
    /* the API's shape: total_num first, so the page is printed in a second query */
    struct page pg = {0, true};
    int rc = imgstat_catalog_files(c, key, a->file_name, a->offset, limit, &total, print_file, &pg);
    if (rc == IMGSTAT_OK) {
        printf("{\"total_num\": %" PRIu64 ", \"data_list\": [", total);
        pg = (struct page){0, false};
        rc = imgstat_catalog_files(c, key, a->file_name, a->offset, limit, &total, print_file, &pg);
        puts("]}");
    }
    return rc == IMGSTAT_OK ? 0 : 1;
}

static int find(imgstat_catalog *c, const struct args *a)
{
    int found = 0;
    struct imgstat_catalog_select s = {a->id, a->ns, a->name, a->tag};
    if (imgstat_catalog_find(c, &s, print_image, NULL, &found) != IMGSTAT_OK)
        return 1;
    return found ? 0 : 3;
}

static int list(imgstat_catalog *c, const struct args *a)
{
    uint64_t total = 0;
    struct imgstat_catalog_query q = {a->name, a->version, 0, a->offset, a->limit};
    if (a->status && (q.status = imgstat_scan_status_parse(a->status) + 1) == 0)
        return 2;
    if (imgstat_catalog_list(c, &q, print_image, NULL, &total) != IMGSTAT_OK)
        return 1;
    printf("{\"total_num\": %" PRIu64 "}\n", total);
    return 0;
}

static int counts(imgstat_catalog *c)
{
    struct imgstat_catalog_counts n;
    if (imgstat_catalog_counts(c, &n) != IMGSTAT_OK)
        return 1;
    printf("{");
    for (int i = 0; i < IMGSTAT_SCAN_STATUSES; i++)
        printf("\"%s\": %" PRIu64 ", ", imgstat_scan_status_name(i), n.entries[i]);
    printf("\"inputs\": %" PRIu64 ", \"memo_layers\": %" PRIu64 ", \"memo_bytes\": %" PRIu64
           ", \"memo_hits\": %" PRIu64 ", \"memo_misses\": %" PRIu64 "}\n",
           n.inputs, n.memo_layers, n.memo_bytes, n.memo_hits, n.memo_misses);
    return 0;
}

/* --name V style options after the command word; false on an unknown one. */
static bool parse(int argc, char **argv, struct args *a)
{
    for (int i = 0; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v || strncmp(o, "--", 2) != 0)
            return false;
        if (!strcmp(o, "--name"))
            a->name = v;
        else if (!strcmp(o, "--version"))
            a->version = v;
        else if (!strcmp(o, "--status"))
            a->status = v;
        else if (!strcmp(o, "--id"))
            a->id = v;
        else if (!strcmp(o, "--ns"))
            a->ns = v;
        else if (!strcmp(o, "--tag"))
            a->tag = v;
        else if (!strcmp(o, "--file-name"))
            a->file_name = v;
        else if (!strcmp(o, "--key"))
            a->key = strtoll(v, NULL, 10);
        else if (!strcmp(o, "--offset"))
            a->offset = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--repeat"))
            a->repeat = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--limit"))
            a->limit = strtoull(v, NULL, 10), a->limit_set = true;
        else
            return false;
    }
    return true;
}

static int run(imgstat_catalog *c, const char *cmd, int argc, char **argv)
{
    struct args a = {0};
    int found = 0;
    if (!strcmp(cmd, "status") && (argc == 2 || argc == 3)) {
        int st = imgstat_scan_status_parse(argv[1]);
        return imgstat_catalog_set_status(c, argv[0], st, argc == 3 ? argv[2] : NULL) ? 1 : 0;
    }
    if (!strcmp(cmd, "remove") && argc == 1)
        return imgstat_catalog_remove(c, argv[0], &found) ? 1 : found ? 0 : 3;
    if (!strcmp(cmd, "inputs") && argc == 0)
        return imgstat_catalog_inputs(c, print_input, NULL) ? 1 : 0;
    if (!strcmp(cmd, "counts") && argc == 0)
        return counts(c);
    if (!parse(argc, argv, &a))
        return 2;
    if (!strcmp(cmd, "list"))
        return list(c, &a);
    if (!strcmp(cmd, "find"))
        return find(c, &a);
    if (!strcmp(cmd, "files"))
        return files(c, &a);
    return 2;
}

int main(int argc, char **argv)
{
    imgstat_catalog *c;
    if (argc < 3) {
        fputs("usage: catq DB list|find|files|inputs|counts|status|remove ...\n", stderr);
        return 2;
    }
    if (imgstat_catalog_open(&c, argv[1]) != IMGSTAT_OK) {
        fprintf(stderr, "catq: %s\n", imgstat_catalog_errmsg(NULL));
        return 1;
    }
    int rc = run(c, argv[2], argc - 3, argv + 3);
    if (rc == 1)
        fprintf(stderr, "catq: %s\n", imgstat_catalog_errmsg(c));
    if (rc == 2)
        fputs("catq: usage error\n", stderr);
    imgstat_catalog_close(c);
    if (fflush(stdout) != 0)
        return 1;
    return rc;
}
