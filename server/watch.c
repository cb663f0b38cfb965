#define _GNU_SOURCE /* pipe2 */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* What the watcher knows of one path it has seen. */
struct seen {
    char *path;
    struct input_id id;
    int64_t since_ms; /* when id last changed */
    bool candidate;   /* a layout, or a file whose first bytes look like an image */
    bool sniffed;     /* candidate is known for this id */
    bool handed;      /* given to the scheduler (or found current in the catalog) */
    bool present;     /* seen in this walk */
};

struct watch {
    struct srv *srv;
    struct scanq *q;
    char **roots;
    size_t nroots;
    int ifd;     /* inotify, or -1: polling */
    int wake[2]; /* a pipe: stop and rescan requests */
    pthread_t thread;
    pthread_mutex_t mu;
    bool stop, rescan, ready, first;
    struct seen *v;
    size_t n, cap;
    size_t *index; /* open addressing over v, by path hash; icap slots, SIZE_MAX free */
    size_t icap;
    bool pending; /* something waits to become stable */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the table of paths seen ---- */

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int reindex(struct watch *w, size_t icap)
{
    size_t *ix = malloc(icap * sizeof *ix);
    if (!ix)
        return -1;
    memset(ix, 0xff, icap * sizeof *ix);
    for (size_t i = 0; i < w->n; i++) {
        size_t h = hash(w->v[i].path) & (icap - 1);
        while (ix[h] != SIZE_MAX)
            h = (h + 1) & (icap - 1);
        ix[h] = i;
    }
    free(w->index);
    w->index = ix;
    w->icap = icap;
    return 0;
}

static struct seen *lookup(struct watch *w, const char *path)
{
    if (!w->icap)
        return NULL;
    for (size_t h = hash(path) & (w->icap - 1); w->index[h] != SIZE_MAX;
         h = (h + 1) & (w->icap - 1))
        if (strcmp(w->v[w->index[h]].path, path) == 0)
            return &w->v[w->index[h]];
    return NULL;
}

static struct seen *add(struct watch *w, const char *path)
{
    if (w->n >= WATCH_MAX_INPUTS)
        return NULL;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct seen *v = realloc(w->v, cap * sizeof *v);
        if (!v)
            return NULL;
        w->v = v;
        w->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    w->v[w->n++] = (struct seen){.path = copy};
    if (w->n * 2 > w->icap) {
        if (reindex(w, w->icap ? w->icap * 2 : 128) != 0) {
            free(w->v[--w->n].path);
            return NULL;
        }
    } else {
        size_t h = hash(copy) & (w->icap - 1);
        while (w->index[h] != SIZE_MAX)
            h = (h + 1) & (w->icap - 1);
        w->index[h] = w->n - 1;
    }
    return &w->v[w->n - 1];
}

/* Forget the paths not present in this walk (removing them from the catalog); with all,
 * every path. */
static void sweep(struct watch *w, bool all)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        struct seen *e = &w->v[i];
        if (e->present && !all) {
            w->v[k++] = *e;
            continue;
        }
        if (e->candidate && !all) {
            char why[256];
            scanq_cancel(w->q, e->path);
            if (store_input_remove(w->srv->store, e->path, why, sizeof why) != 0)
                log_line("catalog: %s: %s", e->path, why);
            else
                log_line("watch: %s: gone, removed from the catalog", e->path);
        }
        free(e->path);
    }
    w->n = k;
    reindex(w, w->icap ? w->icap : 128);
}

/* ---- what a path is ---- */

static struct input_id id_of(const struct stat *st)
{
    return (struct input_id){(uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
                             (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec};
}

/* Do the first bytes say tar (ustar magic), gzip or zstd? */
static bool sniff(const char *path)
{
    unsigned char b[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n >= 4 && b[0] == 0x1f && b[1] == 0x8b)
        return true;
    if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
        return true;
    if (n >= 6 && memcmp(b,
                         "\xfd"
                         "7zXZ\0",
                         6) == 0) /* xz */
        return true;
    if (n >= 4 && memcmp(b, "BZh", 3) == 0 && b[3] >= '1' && b[3] <= '9') /* bzip2 */
        return true;
    return n == 512 && memcmp(b + 257, "ustar", 5) == 0;
}

/* A layout's identity as the catalog records it: the directory's device and inode,
 * index.json's size, and the later of the two mtimes (a layout is rewritten through its
 * index: blobs are named by their digests). */
/* Is the directory path an image of its own: an OCI layout (oci-layout), or the containers
 * "dir" transport (skopeo copy ... dir:, podman save --format docker-dir: a version file and
 * manifest.json)?  *top: the file whose rewrite marks a new image. */
static bool image_dir(const char *path, const char **top)
{
    char f[4200];
    snprintf(f, sizeof f, "%s/oci-layout", path);
    if (access(f, F_OK) == 0) {
        *top = "index.json";
        return true;
    }
    snprintf(f, sizeof f, "%s/version", path);
    if (access(f, F_OK) != 0)
        return false;
    snprintf(f, sizeof f, "%s/manifest.json", path);
    *top = "manifest.json";
    return access(f, F_OK) == 0;
}

static void layout_id(const char *path, const char *top, const struct stat *dir,
                      struct input_id *id)
{
    char index[4200];
    struct stat ix;
    *id = id_of(dir);
    snprintf(index, sizeof index, "%s/%s", path, top);
    if (stat(index, &ix) == 0) {
        int64_t m = (int64_t)ix.st_mtim.tv_sec * 1000000000 + ix.st_mtim.tv_nsec;
        id->size = (uint64_t)ix.st_size;
        id->mtime_ns = m > id->mtime_ns ? m : id->mtime_ns;
    }
}

/* One input seen in a walk: track its identity, hand it over once stable. */
static void visit(struct watch *w, const char *path, const struct input_id *id, bool layout,
                  int64_t now)
{
    struct seen *e = lookup(w, path);
    if (!e && !(e = add(w, path)))
        return;
    e->present = true;
    if (!e->sniffed || memcmp(&e->id, id, sizeof *id) != 0) {
        e->id = *id;
        e->since_ms = now;
        e->handed = false;
        e->candidate = layout || sniff(path);
        e->sniffed = true;
    }
    if (!e->candidate || e->handed)
        return;
    if (now - e->since_ms < WATCH_STABLE_MS &&
        !(w->first && store_input_current(w->srv->store, path, id))) {
        w->pending = true;
        return;
    }
    e->handed = true;
    if (!store_input_current(w->srv->store, path, id))
        scanq_submit(w->q, path, id);
}

static void walk_dir(struct watch *w, const char *path, int depth, int64_t now)
{
    DIR *d = opendir(path);
    if (!d) {
        /* a root not there yet has no inotify watch: look again at the polling rate */
        if (depth == 0 && errno == ENOENT)
            w->pending = true;
        return;
    }
    if (w->ifd >= 0)
        inotify_add_watch(w->ifd, path,
                          IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE |
                              IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_ONLYDIR);
    for (struct dirent *de; (de = readdir(d));) {
        char sub[4096];
        struct stat st;
        if (de->d_name[0] == '.' ||
            (size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= sizeof sub ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            struct input_id id = id_of(&st);
            visit(w, sub, &id, false, now);
        } else if (S_ISDIR(st.st_mode) && faccessat(dirfd(d), de->d_name, F_OK, 0) == 0) {
            const char *top;
            if (image_dir(sub, &top)) {
                struct input_id id;
                layout_id(sub, top, &st, &id);
                if (w->ifd >= 0)
                    inotify_add_watch(w->ifd, sub,
                                      IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_CLOSE_WRITE |
                                          IN_MODIFY | IN_ONLYDIR);
                visit(w, sub, &id, true, now);
            } else if (depth < WATCH_MAX_DEPTH) {
                walk_dir(w, sub, depth + 1, now);
            }
        }
    }
    closedir(d);
}

/* A root that is itself an image directory is one input; any other is a folder to walk. */
static void walk_root(struct watch *w, const char *root, int64_t now)
{
    const char *top;
    struct stat st;
    if (!image_dir(root, &top) || stat(root, &st) != 0) {
        walk_dir(w, root, 0, now);
        return;
    }
    struct input_id id;
    layout_id(root, top, &st, &id);
    if (w->ifd >= 0)
        inotify_add_watch(w->ifd, root,
                          IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY |
                              IN_ONLYDIR);
    visit(w, root, &id, true, now);
}

/* An input the catalog holds that no walk found: the file went while we were not looking. */
static int drop_unseen(void *ctx, const char *path)
{
    struct watch *w = ctx;
    const struct seen *e = lookup(w, path);
    char why[256];
    if (!e || !e->candidate) {
        if (store_input_remove(w->srv->store, path, why, sizeof why) != 0)
            log_line("catalog: %s: %s", path, why);
        else
            log_line("watch: %s: gone, removed from the catalog", path);
    }
    return 0;
}

static void walk(struct watch *w)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < w->n; i++)
        w->v[i].present = false;
    w->pending = false;
    pthread_rwlock_rdlock(&w->srv->store_lock);
    if (w->srv->store) {
        for (size_t i = 0; i < w->nroots; i++)
            walk_root(w, w->roots[i], now);
        sweep(w, false);
        if (w->first)
            store_inputs(w->srv->store, drop_unseen, w);
    }
    pthread_rwlock_unlock(&w->srv->store_lock);
    w->first = false;
}

/* ---- the thread ---- */

static void drain(int fd)
{
    char buf[4096];
    while (fd >= 0 && read(fd, buf, sizeof buf) > 0)
        ;
}

static void *watch_main(void *arg)
{
    struct watch *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        bool stop = w->stop, rescan = w->rescan;
        w->rescan = false;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
        if (rescan) {
            sweep(w, true);
            w->first = true;
        }
        walk(w);
        pthread_mutex_lock(&w->mu);
        w->ready = true;
        pthread_mutex_unlock(&w->mu);
        struct pollfd p[2] = {{w->wake[0], POLLIN, 0}, {w->ifd, POLLIN, 0}};
        int timeout = w->pending || w->ifd < 0 ? WATCH_POLL_MS : WATCH_FULL_MS;
        int rc = poll(p, w->ifd >= 0 ? 2 : 1, timeout);
        drain(w->wake[0]);
        if (rc > 0 && w->ifd >= 0 && (p[1].revents & POLLIN)) {
            drain(w->ifd);
            /* let a burst of events (a file being written) settle before walking */
            struct pollfd again = {w->wake[0], POLLIN, 0};
            poll(&again, 1, 50);
        }
    }
    return NULL;
}

struct watch *watch_start(struct srv *s, struct scanq *q, const char *const *roots, size_t nroots,
                          char *why, size_t cap)
{
    struct watch *w = calloc(1, sizeof *w);
    if (!w || !(w->roots = calloc(nroots ? nroots : 1, sizeof *w->roots))) {
        free(w);
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    w->srv = s;
    w->q = q;
    w->first = true;
    for (size_t i = 0; i < nroots; i++)
        if ((w->roots[w->nroots] = strdup(roots[i])))
            w->nroots++;
    const char *poll_env = getenv("IMGSTAT_SERVE_POLL");
    w->ifd = poll_env && strcmp(poll_env, "1") == 0 ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->ifd < 0)
        log_line("watch: polling the folders every %d ms%s", WATCH_POLL_MS,
                 poll_env ? " (IMGSTAT_SERVE_POLL=1)" : " (inotify unavailable)");
    pthread_mutex_init(&w->mu, NULL);
    if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) != 0 ||
        pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        snprintf(why, cap, "cannot start the folder watcher: %s", strerror(errno));
        w->thread = 0;
        watch_stop(w);
        return NULL;
    }
    return w;
}

static void poke(struct watch *w)
{
    ssize_t n = write(w->wake[1], "x", 1);
    (void)n; /* a full pipe already wakes the thread */
}

void watch_rescan(struct watch *w)
{
    pthread_mutex_lock(&w->mu);
    w->rescan = true;
    pthread_mutex_unlock(&w->mu);
    poke(w);
}

bool watch_ready(struct watch *w)
{
    pthread_mutex_lock(&w->mu);
    bool r = w->ready;
    pthread_mutex_unlock(&w->mu);
    return r;
}

void watch_stop(struct watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_mutex_unlock(&w->mu);
    if (w->thread) {
        poke(w);
        pthread_join(w->thread, NULL);
    }
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].path);
    for (size_t i = 0; i < w->nroots; i++)
        free(w->roots[i]);
    free(w->roots);
    free(w->v);
    free(w->index);
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->wake[0] > 0) {
        close(w->wake[0]);
        close(w->wake[1]);
    }
    pthread_mutex_destroy(&w->mu);
    free(w);
}
