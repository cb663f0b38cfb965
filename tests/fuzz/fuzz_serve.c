/*
 * fuzz_serve: the server's request handler (routing, parameters, decoding, authentication,
 * the endpoints) without HTTP.  The input is a request written as text:
 *
 *   METHOD SP TARGET LF (NAME ":" SP? VALUE LF)*
 *
 * (bytes as they are, NUL included), handed to srv_handle() on a catalog holding one small
 * image (an OCI layout written at start-up) with authentication on: an AK/SK pair and a
 * token (seeds hold validly signed requests, so the fuzzer starts past the signature check).
 * Oracles: the status is one srv_handle documents; every reply is a JSON object (or the
 * metrics text); an error reply is {"error_code": ..., "error_msg": ...} with a one-line
 * message; 200 is never given to an API call that did not authenticate.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "auth.h"
#include "handler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "check failed: %s: ", #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The fixed clock of every request: 2026-12-02T16:08:45Z (seeds are signed for it). */
#define FUZZ_NOW 1796227725
#define FUZZ_MAX_HEADERS 64

static struct srv S;
/* The catalog file, in a folder removed at exit by the process that made it.  A forked
 * replay child opens the file again: an SQLite handle must not cross fork(). */
static char Dir[] = "/tmp/fuzz-serve-XXXXXX", Db[64];
static pid_t Owner;

static void cleanup(void)
{
    if (getpid() != Owner)
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", Dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_serve: could not remove %s\n", Dir);
}

/* This process's own catalog handles (see Dir). */
static void own_store(void)
{
    static pid_t opened;
    char why[256];
    if (opened == getpid())
        return;
    if (opened || getpid() != Owner) /* the parent's handles are left alone, not closed */
        S.store = NULL;
    if (!S.store && store_open(&S.store, Db, why, sizeof why) != 0)
        abort();
    opened = getpid();
}

/* ---- a one-image OCI layout, written once ---- */

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        abort();
}

static void hexdigest(const void *p, size_t n, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(p, n, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void put_blob(const char *dir, const void *p, size_t n, char hex[65])
{
    char name[128];
    hexdigest(p, n, hex);
    snprintf(name, sizeof name, "blobs/sha256/%s", hex);
    write_file(dir, name, p, n);
}

/* A ustar layer holding the given regular files (name, size of zeros). */
static size_t ustar(unsigned char *out, const char *const *names, const size_t *sizes, int n)
{
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        unsigned char *h = out + at;
        memset(h, 0, 512);
        snprintf((char *)h, 100, "%s", names[i]);
        snprintf((char *)h + 100, 8, "0000644");
        snprintf((char *)h + 124, 12, "%011zo", sizes[i]);
        snprintf((char *)h + 136, 12, "%011o", 0);
        h[156] = '0';
        memcpy(h + 257,
               "ustar\0"
               "00",
               8);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (int k = 0; k < 512; k++)
            sum += h[k];
        snprintf((char *)h + 148, 8, "%06o", sum);
        at += 512;
        memset(out + at, 0, (sizes[i] + 511) / 512 * 512);
        at += (sizes[i] + 511) / 512 * 512;
    }
    memset(out + at, 0, 1024);
    return at + 1024;
}

static void make_layout(const char *dir)
{
    static unsigned char layer[16384];
    static const char *const names[] = {"etc/os-release", "bin/sh", "usr/lib/libc.so.6",
                                        "usr/lib/a%b_c.so"};
    static const size_t sizes[] = {120, 900, 2000, 3};
    char path[4096], lhex[65], chex[65], mhex[65], json[2048];
    snprintf(path, sizeof path, "%s/blobs", dir);
    if (mkdir(path, 0700) != 0)
        abort();
    snprintf(path, sizeof path, "%s/blobs/sha256", dir);
    if (mkdir(path, 0700) != 0)
        abort();
    size_t ln = ustar(layer, names, sizes, 4);
    put_blob(dir, layer, ln, lhex);
    int n = snprintf(json, sizeof json,
                     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                     "\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
                     lhex);
    put_blob(dir, json, (size_t)n, chex);
    if (getenv("FUZZ_SERVE_PRINT_ID")) /* for make_serve_seeds.py */
        printf("sha256:%s\n", chex);
    n = snprintf(json, sizeof json,
                 "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image."
                 "config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%d},\"layers\":[{"
                 "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":"
                 "\"sha256:%s\",\"size\":%zu}]}",
                 chex, n, lhex, ln);
    put_blob(dir, json, (size_t)n, mhex);
    n = snprintf(json, sizeof json,
                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci."
                 "image.manifest.v1+json\",\"digest\":\"sha256:%s\",\"size\":%d,"
                 "\"annotations\":{\"org.opencontainers.image.ref.name\":"
                 "\"docker.io/library/app:1\"}}]}",
                 mhex, n);
    write_file(dir, "index.json", json, (size_t)n);
    write_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char why[256], layout[64];
    if (!mkdtemp(Dir))
        abort();
    snprintf(layout, sizeof layout, "%s/layout", Dir);
    snprintf(Db, sizeof Db, "%s/catalog.db", Dir);
    if (mkdir(layout, 0700) != 0)
        abort();
    make_layout(layout);
    pthread_rwlock_init(&S.store_lock, NULL);
    if (store_open(&S.store, Db, why, sizeof why) != 0)
        abort();
    struct input_id id = {1, 1, 1, 1};
    if (store_input_scan(S.store, layout, &id, 1, why, sizeof why) != 0)
        abort();
    Owner = getpid();
    atexit(cleanup);
    S.auth = auth_new();
    auth_add_key(S.auth, "AKFUZZ", "skfuzz");
    auth_add_token(S.auth, "tokfuzz");
    S.projects[S.nprojects++] = "p";
    snprintf(S.host_name, sizeof S.host_name, "fuzz");
    return 0;
}

/* Split the input into a request; pieces are copied into buf (NUL-terminated). */
static int parse(const uint8_t *data, size_t size, char *buf, struct srv_request *rq,
                 struct srv_header *h)
{
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *nl = memchr(buf, '\n', size);
    char *line_end = nl ? nl : buf + size;
    char *sp = memchr(buf, ' ', (size_t)(line_end - buf));
    if (!sp)
        return -1;
    *sp = '\0';
    *line_end = '\0';
    *rq = (struct srv_request){buf, sp + 1, (size_t)(line_end - sp - 1), h, 0, 0, FUZZ_NOW};
    for (char *p = nl ? nl + 1 : buf + size; p < buf + size && rq->nheaders < FUZZ_MAX_HEADERS;) {
        char *e = memchr(p, '\n', (size_t)(buf + size - p));
        if (e)
            *e = '\0';
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            char *v = colon + 1 + (colon[1] == ' ');
            if (strcasecmp(p, "X-Fuzz-Body") == 0)
                rq->body_bytes = strlen(v);
            else
                h[rq->nheaders++] = (struct srv_header){p, v};
        }
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* Does rq carry a valid signature or token? */
static bool authed(const struct srv_request *rq)
{
    char why[256];
    struct target t;
    bool ok = target_parse(rq->uri, rq->uri_len, &t, why, sizeof why) == 0 &&
              auth_check(S.auth, rq, &t, why, sizeof why);
    target_free(&t);
    return ok;
}

static void check_reply(const struct srv_request *rq, const struct srv_reply *rp)
{
    static const unsigned known[] = {200, 301, 400, 401, 403, 404, 405, 409, 414, 431, 500, 503};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        ok |= rp->status == known[i];
    FZ_CHECK(ok, "status %u", rp->status);
    FZ_CHECK(rp->body.p && rp->body.len > 0 && !rp->body.oom, "an empty body");
    FZ_CHECK(strlen(rp->body.p) == rp->body.len, "a NUL in the body");
    if (rp->endpoint == EP_METRICS && rp->status == 200)
        return;
    if (rp->status == 301) { /* only /ui, to ui/ */
        FZ_CHECK(rp->endpoint == EP_UI_INDEX && rp->location && !strcmp(rp->location, "ui/"),
                 "a redirect from %.*s", (int)rq->uri_len, rq->uri);
        return;
    }
    bool page = rp->endpoint == EP_UI_INDEX || rp->endpoint == EP_UI_IMAGE;
    if (page && rp->status == 200) { /* a page: HTML under its policy, for the authenticated */
        FZ_CHECK(!strncmp(rp->body.p, "<!DOCTYPE html>", 15) && rp->policy &&
                     !strncmp(rp->content_type, "text/html", 9),
                 "a page that is no page");
        FZ_CHECK(authed(rq), "a page without authentication: %s", rq->uri);
        return;
    }
    FZ_CHECK(rp->body.p[0] == '{' && rp->body.p[rp->body.len - 1] == '}', "%s", rp->body.p);
    if (rp->status != 200) {
        FZ_CHECK(strncmp(rp->body.p, "{\"error_code\": \"", 16) == 0, "%s", rp->body.p);
        FZ_CHECK(!memchr(rp->body.p, '\n', rp->body.len), "a newline in %s", rp->body.p);
    }
    FZ_CHECK(rp->status != 500, "an internal error: %s", rp->body.p);
    if (rp->status == 200 &&
        (rp->endpoint == EP_STATS || rp->endpoint == EP_FILES || rp->endpoint == EP_LOCAL)) {
        FZ_CHECK(authed(rq), "200 without authentication: %s", rq->uri);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    own_store();
    char *buf = malloc(size + 1);
    struct srv_header h[FUZZ_MAX_HEADERS];
    struct srv_request rq;
    if (buf && parse(data, size, buf, &rq, h) == 0) {
        struct srv_reply rp = {0};
        srv_handle(&S, &rq, &rp);
        if (getenv("FUZZ_SERVE_VERBOSE")) /* what each seed gets, when writing seeds */
            printf("%u %.120s\n", rp.status, rp.body.p);
        check_reply(&rq, &rp);
        jb_free(&rp.body);
    }
    free(buf);
    return 0;
}
