/*
 * serve: start everything, wait for signals, stop everything.
 *
 * Order: check the configuration (nothing starts on a usage error), read the secrets, open
 * the catalog, start the scan workers, the folder watcher and the HTTP daemon, then print
 * "listening on http://ADDR:PORT".  Signals are taken by this thread only (sigwait):
 * SIGHUP reopens the catalog and walks the folders again; SIGTERM and SIGINT stop accepting,
 * let requests in progress finish, and exit 0.
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "handler.h"
#include "imgstat.h"
#include "http.h"
#include "log.h"
#include "pages.h"
#include "scanq.h"
#include "store.h"
#include "watch.h"

/* How long SIGTERM waits for requests in progress, then for scans in progress. */
#define SERVE_DRAIN_MS 10000
#define SERVE_SCAN_WAIT_MS 3000
/* Scans at once unless -j says. */
#define SERVE_DEFAULT_JOBS 2

__attribute__((format(printf, 2, 3))) static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("imgstat: serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

static int check_config(const struct serve_config *cfg, struct auth **auth)
{
    char why[512];
    bool loopback;
    if (http_parse_listen(cfg->listen, &loopback, why, sizeof why) != 0)
        return fail(2, "%s", why);
    for (size_t i = 0; i < cfg->nimages; i++) {
        struct stat st;
        int e = stat(cfg->images[i], &st) != 0 ? errno : 0;
        if (e == ENOENT) /* a folder not made yet (the package's default): watched until it is */
            log_line("watch: --images %s: no such folder yet; it is scanned once it appears",
                     cfg->images[i]);
        else if (e || !S_ISDIR(st.st_mode))
            return fail(1, "--images %s: %s", cfg->images[i], e ? strerror(e) : "not a directory");
    }
    if (!loopback && !cfg->credentials && !cfg->token_file)
        return fail(2,
                    "--listen %s is not a loopback address: without --credentials or "
                    "--token-file anyone could ask",
                    cfg->listen);
    if (auth_load(auth, cfg->credentials, cfg->token_file, why, sizeof why) != 0)
        return fail(1, "%s", why);
    return 0;
}

/* Room for 1,000 idle connections and more: the soft limit on descriptors up to the hard. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void reopen(struct srv *s, const char *db, struct watch *w)
{
    char why[512];
    log_line("SIGHUP: reopening the catalog and walking the folders again");
    pthread_rwlock_wrlock(&s->store_lock);
    store_close(s->store);
    s->store = NULL;
    if (s->pages) /* the new catalog's generations start again */
        pages_clear(s->pages);
    if (store_open(&s->store, db, why, sizeof why) != 0)
        log_line("catalog: cannot reopen: %s (answering 503 until the next SIGHUP)", why);
    pthread_rwlock_unlock(&s->store_lock);
    watch_rescan(w);
}

static void wait_signals(struct srv *s, const char *db, struct watch *w, const sigset_t *set)
{
    for (;;) {
        int sig;
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reopen(s, db, w);
            continue;
        }
        log_line("%s: finishing requests in progress, then exiting",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
    }
}

static int run(struct srv *s, const struct serve_config *cfg, const sigset_t *set)
{
    char why[512], bound[128];
    if (store_open(&s->store, cfg->db, why, sizeof why) != 0)
        return fail(1, "catalog: %s", why);
    if (store_readonly(s->store))
        log_line("catalog: %s cannot be written: answering what it holds; what changes in the "
                 "folders is not recorded (each failure is logged)",
                 cfg->db);
    struct scanq *q = scanq_start(s, cfg->jobs ? cfg->jobs : SERVE_DEFAULT_JOBS);
    if (!q)
        return fail(1, "cannot start the scan workers");
    struct watch *w = watch_start(s, q, cfg->images, cfg->nimages, why, sizeof why);
    struct http *h = NULL;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (!w || http_start(&h, s, cfg->listen, cpus > 1 ? (unsigned)cpus : 1, bound, sizeof bound,
                         why, sizeof why) != 0) {
        watch_stop(w);
        scanq_stop(q, SERVE_SCAN_WAIT_MS);
        return fail(1, "%s", why);
    }
    log_line("listening on http://%s (%s)", bound,
             s->auth ? "authentication required" : "no authentication: loopback only");
    wait_signals(s, cfg->db, w, set);
    http_stop(h, SERVE_DRAIN_MS);
    watch_stop(w);
    if (!scanq_stop(q, SERVE_SCAN_WAIT_MS)) {
        /* a scan cannot be interrupted: it is redone at the next start */
        log_line("scans still running: exiting without them (they run again at the next start)");
        _exit(0);
    }
    log_line("stopped");
    return 0;
}

int serve_run(const struct serve_config *in)
{
    struct serve_config cfg = *in;
    static char dbpath[4096];
    if (!cfg.listen)
        cfg.listen = "127.0.0.1:8080";
    /* the catalog's default is the layer memo's file: imgstat.db in the cache directory */
    struct imgstat_options none = {0};
    if (!cfg.db && imgstat_cache_file(&none, dbpath, sizeof dbpath) != IMGSTAT_OK)
        return fail(2, "no cache directory ($IMGSTAT_CACHE_DIR, $XDG_CACHE_HOME, $HOME): "
                       "give --db FILE");
    if (!cfg.db)
        cfg.db = dbpath;
    struct srv *s = calloc(1, sizeof *s);
    if (!s)
        return fail(1, "out of memory");
    int rc = check_config(&cfg, &s->auth);
    if (rc != 0) {
        free(s);
        return rc;
    }
    for (size_t i = 0; i < cfg.nprojects && i < SRV_MAX_PROJECTS; i++)
        s->projects[s->nprojects++] = cfg.projects[i];
    if (gethostname(s->host_name, sizeof s->host_name - 1) != 0)
        snprintf(s->host_name, sizeof s->host_name, "localhost");
    pthread_rwlock_init(&s->store_lock, NULL);
    s->pages = pages_new(); /* NULL: pages are built at each request, none kept */
    raise_nofile();
    /* every thread started from here on inherits the mask: signals come to sigwait only */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = run(s, &cfg, &set);
    store_close(s->store);
    auth_free(s->auth);
    pages_free(s->pages);
    pthread_rwlock_destroy(&s->store_lock);
    free(s);
    return rc;
}
