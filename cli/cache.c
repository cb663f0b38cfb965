/*
 * imgstat cache info|clear, and the memo's one warning line.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "output.h"

void cache_warn(const char *warning)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static bool said;
    if (!warning)
        return;
    pthread_mutex_lock(&mu);
    if (!said)
        fprintf(stderr, "imgstat: warning: %s\n", warning);
    said = true;
    pthread_mutex_unlock(&mu);
}

static void info_line(const char *path, const struct imgstat_cache_info *in)
{
    fputs("{\"path\": ", stdout);
    json_string(stdout, path, strlen(path));
    printf(", \"layers\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"hits\": %" PRIu64
           ", \"misses\": %" PRIu64 ", \"file_bytes\": %" PRIu64 "}\n",
           in->layers, in->bytes, in->hits, in->misses, in->file_bytes);
}

/* cache info: the file's figures; a memo that does not exist yet is empty (not created). */
static int info(const char *path)
{
    struct imgstat_cache_info in = {0};
    struct stat st;
    imgstat_catalog *cat = NULL;
    if (stat(path, &st) == 0 &&
        (imgstat_catalog_open(&cat, path) != IMGSTAT_OK || imgstat_cache_info(cat, &in) != 0)) {
        fprintf(stderr, "imgstat: %s\n", imgstat_catalog_errmsg(cat));
        imgstat_catalog_close(cat);
        return EXIT_ERROR;
    }
    imgstat_catalog_close(cat);
    info_line(path, &in);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
}

static int clear(const char *path)
{
    char msg[1024] = "";
    if (imgstat_cache_clear(path, msg, sizeof msg) != IMGSTAT_OK) {
        fprintf(stderr, "imgstat: %s\n", msg);
        return EXIT_ERROR;
    }
    if (strstr(msg, "replaced")) /* a damaged file was rebuilt: worth a line */
        fprintf(stderr, "imgstat: %s: %s\n", path, msg);
    return EXIT_OK;
}

int cache_run(const struct cli *c)
{
    char path[4200];
    if (imgstat_cache_file(&c->lib, path, sizeof path) != IMGSTAT_OK) {
        fprintf(stderr, "imgstat: %s\n", imgstat_catalog_errmsg(NULL));
        return EXIT_ERROR;
    }
    return strcmp(c->action, "info") == 0 ? info(path) : clear(path);
}
