/*
 * imgstat add: fill a catalog without a server.  Each IMAGE is recorded under its real
 * path (what `imgstat serve` finds in a folder), one JSON line each, in argument order.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"

static void add_line(const char *input, const char *path, int rc, const char *msg)
{
    fputs("{\"input\": ", stdout);
    json_string(stdout, input, strlen(input));
    fputs(", \"path\": ", stdout);
    json_string(stdout, path, strlen(path));
    printf(", \"scan_status\": \"%s\"", rc == IMGSTAT_OK ? "success" : "failed");
    if (rc != IMGSTAT_OK) {
        fputs(", \"error\": ", stdout);
        json_string(stdout, msg, strlen(msg));
    }
    fputs("}\n", stdout);
}

/* The catalog file: --db, else the one in the cache directory. */
static const char *db_path(const struct cli *c, char *buf, size_t cap)
{
    if (c->db)
        return c->db;
    return imgstat_cache_file(&c->lib, buf, cap) == IMGSTAT_OK ? buf : NULL;
}

int add_run(const struct cli *c)
{
    char buf[4200];
    const char *db = db_path(c, buf, sizeof buf);
    imgstat_catalog *cat = NULL;
    if (!db || imgstat_catalog_open(&cat, db) != IMGSTAT_OK) {
        fprintf(stderr, "imgstat: %s\n", imgstat_catalog_errmsg(cat));
        return EXIT_ERROR;
    }
    int status = EXIT_OK;
    for (int i = 0; i < c->ninputs; i++) {
        char *real = realpath(c->inputs[i], NULL);
        const char *path = real ? real : c->inputs[i];
        int rc = imgstat_catalog_add(cat, path, &c->lib);
        const char *msg = imgstat_catalog_errmsg(cat);
        if (rc != IMGSTAT_OK) {
            fprintf(stderr, "imgstat: %s: %s\n", c->inputs[i], msg);
            status = EXIT_ERROR;
        }
        add_line(c->inputs[i], path, rc, msg);
        free(real);
    }
    imgstat_catalog_close(cat);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "imgstat: cannot write the report\n");
        return EXIT_ERROR;
    }
    return status;
}
