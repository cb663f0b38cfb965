/*
 * server: `imgstat serve`, the HSS image APIs answered from a catalog of saved images
 * (issue 11).  The CLI parses the command line into a struct serve_config and calls
 * serve_run(), which returns when SIGTERM or SIGINT has stopped the server.
 */
#ifndef IMGSTAT_SERVER_H
#define IMGSTAT_SERVER_H

#include <stddef.h>

/* --images and --project-id values at most. */
#define SERVE_MAX_LIST 64

struct serve_config {
    const char *listen; /* "ADDR:PORT"; NULL: 127.0.0.1:8080 */
    const char *images[SERVE_MAX_LIST];
    size_t nimages;
    const char *db; /* NULL: the default place */
    unsigned jobs;  /* inputs scanned at once; 0: 2 */
    const char *credentials, *token_file;
    const char *projects[SERVE_MAX_LIST];
    size_t nprojects;
};

/* Run the server; returns the exit status: 0 after SIGTERM/SIGINT, 1 when it cannot start
 * (a file or the catalog cannot be read, the address cannot be bound), 2 for a usage error
 * (a non-loopback --listen without authentication).  Messages go to stderr. */
int serve_run(const struct serve_config *cfg);

#endif
