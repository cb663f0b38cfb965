/*
 * store_catalog: store.h on the catalog of include/imgstat.h (SQLite, catalog/): results
 * persist, so a restart answers at once and scans only what changed; the layer memo lives
 * in the same file, so a layer shared by several images is inflated once.
 *
 * Handles: a catalog handle serialises its calls, so the server keeps a small pool of them
 * (STORE_POOL): each request and each scan takes one for its duration, and requests on
 * several threads run their queries in parallel (SQLite WAL: readers never wait for the
 * writer).
 */
#include "store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgstat.h"
#include "ref.h"

/* Idle catalog handles kept open for reuse (more are opened when needed, then closed). */
#define STORE_POOL 16
/* store_find answers remembered: files-statistics is asked far more often than the catalog
 * changes, and a remembered answer costs no query.  Every change this process makes to the
 * catalog forgets them all (a generation count); another process writing the same file
 * (imgstat add) is seen after SIGHUP. */
#define STORE_FIND_CACHE 1024

struct found_memo {
    uint64_t gen; /* 0: empty */
    char sel[160];
    enum store_found rc;
    struct store_image v;
    char image_id[80], desc[320];
};

struct store {
    char *path;
    pthread_mutex_t mu;
    imgstat_catalog *idle[STORE_POOL];
    size_t nidle;
    uint64_t scans_done, scans_failed; /* since start */
    uint64_t gen;                      /* bumped by every change: found[] is stale */
    struct found_memo found[STORE_FIND_CACHE];
};

static void changed(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    st->gen++;
    pthread_mutex_unlock(&st->mu);
}

const char *scan_status_name(enum scan_status s)
{
    const char *n = imgstat_scan_status_name((int)s);
    return n ? n : "unknown";
}

enum scan_status scan_status_parse(const char *word)
{
    int s = imgstat_scan_status_parse(word);
    return s < 0 ? ST_COUNT : (enum scan_status)s;
}

static imgstat_catalog *take(struct store *st, char *why, size_t cap)
{
    imgstat_catalog *c = NULL;
    pthread_mutex_lock(&st->mu);
    if (st->nidle)
        c = st->idle[--st->nidle];
    pthread_mutex_unlock(&st->mu);
    if (c)
        return c;
    if (imgstat_catalog_open(&c, st->path) != IMGSTAT_OK) {
        snprintf(why, cap, "%s: %s", st->path, imgstat_catalog_errmsg(c));
        imgstat_catalog_close(c);
        return NULL;
    }
    return c;
}

static void give(struct store *st, imgstat_catalog *c)
{
    pthread_mutex_lock(&st->mu);
    if (st->nidle < STORE_POOL) {
        st->idle[st->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&st->mu);
    imgstat_catalog_close(c);
}

int store_open(struct store **out, const char *path, char *why, size_t cap)
{
    *out = NULL;
    struct store *st = calloc(1, sizeof *st);
    if (!st || !path || !(st->path = strdup(path))) {
        free(st);
        snprintf(why, cap, path ? "out of memory" : "no catalog file");
        return path ? IMGSTAT_ENOMEM : IMGSTAT_EUSAGE;
    }
    pthread_mutex_init(&st->mu, NULL);
    st->gen = 1;
    imgstat_catalog *c = take(st, why, cap); /* opened (and created) now, or not at all */
    if (!c) {
        store_close(st);
        return IMGSTAT_ESYS;
    }
    give(st, c);
    *out = st;
    return 0;
}

bool store_readonly(struct store *st)
{
    char why[256];
    imgstat_catalog *c = take(st, why, sizeof why);
    bool ro = c && imgstat_catalog_readonly(c);
    if (c)
        give(st, c);
    return ro;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->nidle; i++)
        imgstat_catalog_close(st->idle[i]);
    pthread_mutex_destroy(&st->mu);
    free(st->path);
    free(st);
}

/* ---- inputs ---- */

struct input_probe {
    const char *path;
    struct imgstat_catalog_input found;
    bool hit;
};

static int probe_input(void *ctx, const struct imgstat_catalog_input *in)
{
    struct input_probe *p = ctx;
    if (strcmp(in->path, p->path) != 0)
        return 0;
    p->found = *in;
    p->found.path = p->found.failed_desc = NULL; /* valid during the call only */
    p->hit = true;
    return 1;
}

/* The recorded input path into *p (p->hit false when absent); -1 if the catalog failed. */
static int find_input(struct store *st, const char *path, struct input_probe *p)
{
    char why[256];
    *p = (struct input_probe){path, {0}, false};
    imgstat_catalog *c = take(st, why, sizeof why);
    if (!c)
        return -1;
    int rc = imgstat_catalog_inputs(c, probe_input, p);
    give(st, c);
    return rc < 0 ? -1 : 0;
}

bool store_input_current(struct store *st, const char *path, const struct input_id *id)
{
    struct input_probe p;
    if (find_input(st, path, &p) != 0 || !p.hit)
        return false;
    const struct imgstat_catalog_input *in = &p.found;
    return in->dev == id->dev && in->ino == id->ino && in->size == id->size &&
           in->mtime_ns == id->mtime_ns &&
           (in->status == IMGSTAT_SCAN_SUCCESS || in->status == IMGSTAT_SCAN_FAILED);
}

int store_input_mark(struct store *st, const char *path, const struct input_id *id,
                     enum scan_status s, char *why, size_t cap)
{
    (void)id;
    imgstat_catalog *c = take(st, why, cap);
    if (!c)
        return IMGSTAT_ESYS;
    int rc = imgstat_catalog_set_status(c, path, (int)s, NULL);
    changed(st);
    if (rc != IMGSTAT_OK)
        snprintf(why, cap, "%s", imgstat_catalog_errmsg(c));
    give(st, c);
    return rc;
}

int store_input_scan(struct store *st, const char *path, const struct input_id *id, unsigned jobs,
                     char *why, size_t cap)
{
    (void)id; /* the catalog takes the identity itself, as it scans */
    imgstat_catalog *c = take(st, why, cap);
    if (!c)
        return IMGSTAT_ESYS;
    struct imgstat_options opt = {.jobs = jobs, .catalog = c};
    int rc = imgstat_catalog_add(c, path, &opt);
    changed(st);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", rc != IMGSTAT_OK ? imgstat_catalog_errmsg(c) : "");
    give(st, c);
    /* a failed scan is recorded as such; a failed recording leaves the input "scanning" */
    struct input_probe p;
    bool recorded =
        find_input(st, path, &p) == 0 && p.hit &&
        (p.found.status == IMGSTAT_SCAN_SUCCESS || p.found.status == IMGSTAT_SCAN_FAILED);
    pthread_mutex_lock(&st->mu);
    st->scans_done += recorded;
    st->scans_failed += recorded && (rc != IMGSTAT_OK || p.found.status == IMGSTAT_SCAN_FAILED);
    pthread_mutex_unlock(&st->mu);
    if (recorded)
        return 0;
    snprintf(why, cap, "%s", *msg ? msg : "the result could not be recorded");
    return rc != IMGSTAT_OK ? rc : IMGSTAT_ESYS;
}

int store_input_remove(struct store *st, const char *path, char *why, size_t cap)
{
    imgstat_catalog *c = take(st, why, cap);
    if (!c)
        return IMGSTAT_ESYS;
    int rc = imgstat_catalog_remove(c, path, NULL);
    changed(st);
    if (rc != IMGSTAT_OK)
        snprintf(why, cap, "%s", imgstat_catalog_errmsg(c));
    give(st, c);
    return rc;
}

struct names {
    char **v;
    size_t n, cap;
    bool oom;
};

static int keep_name(void *ctx, const struct imgstat_catalog_input *in)
{
    struct names *ns = ctx;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 64;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v)
            return ns->oom = true, 1;
        ns->v = v;
        ns->cap = cap;
    }
    if (!(ns->v[ns->n] = strdup(in->path)))
        return ns->oom = true, 1;
    ns->n++;
    return 0;
}

int store_inputs(struct store *st, int (*fn)(void *ctx, const char *path), void *ctx)
{
    char why[256];
    struct names ns = {0};
    imgstat_catalog *c = take(st, why, sizeof why);
    if (!c)
        return IMGSTAT_ESYS;
    int rc = imgstat_catalog_inputs(c, keep_name, &ns); /* fn may call the store: names first */
    give(st, c);
    for (size_t i = 0; i < ns.n; i++) {
        if (rc == 0 && !ns.oom)
            rc = fn(ctx, ns.v[i]);
        free(ns.v[i]);
    }
    free(ns.v);
    return ns.oom ? IMGSTAT_ENOMEM : rc;
}

/* ---- queries ---- */

/* The catalog's entry as the endpoints read it. */
static struct store_image view(const struct imgstat_catalog_image *im)
{
    return (struct store_image){
        .key = (uint64_t)im->key,
        .input = im->input,
        .image_id = im->image_id,
        .status = (enum scan_status)im->status,
        .failed_desc = im->failed_desc && *im->failed_desc ? im->failed_desc : NULL,
        .digest = im->manifest_digest,
        .files = im->files,
        .bytes = im->bytes,
        .input_bytes = im->image_size,
        .updated_ms = im->mtime_ms,
        .scanned_ms = im->scanned_ms,
        .index = im->index,
        .ref = im->ref,
        .format = im->format,
        .platform = im->platform,
        .detail_json = im->detail_json,
    };
}

struct find_ctx {
    void (*fn)(void *ctx, const struct store_image *im);
    void *ctx;
};

static int pick_key(void *ctx, const struct imgstat_catalog_image *im);

/* Does refs_json (a JSON array of refs) hold a ref that is, or ends in "/", want? */
static bool refs_hold(const char *refs_json, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = refs_json; p && (p = strstr(p, want)); p++)
        if (p > refs_json && (p[-1] == '"' || p[-1] == '/') && p[n] == '"')
            return true;
    return false;
}

static int found_one(void *ctx, const struct imgstat_catalog_image *im)
{
    struct find_ctx *f = ctx;
    struct store_image v = view(im);
    f->fn(f->ctx, &v);
    return 0;
}

struct key_pick {
    int64_t key;
    struct find_ctx *f;
    int hit;
};

static int pick_key(void *ctx, const struct imgstat_catalog_image *im)
{
    struct key_pick *kp = ctx;
    if (im->key != kp->key)
        return 0;
    kp->hit = 1;
    return found_one(kp->f, im);
}

/* The fallback's candidates: entries of that ID whose refs hold the name as written; a
 * scanned one wins (as the catalog's own find prefers). */
struct written_ctx {
    const char *id_hex, *as_written;
    int64_t key;
    int status;
};

static int written_one(void *ctx, const struct imgstat_catalog_image *im)
{
    struct written_ctx *w = ctx;
    const char *id = im->image_id ? im->image_id : "";
    id += strncmp(id, "sha256:", 7) == 0 ? 7 : 0;
    if (strncmp(id, w->id_hex, strlen(w->id_hex)) != 0 || !refs_hold(im->refs_json, w->as_written))
        return 0;
    if (!w->key || (w->status != IMGSTAT_SCAN_SUCCESS && im->status == IMGSTAT_SCAN_SUCCESS)) {
        w->key = im->key;
        w->status = im->status;
    }
    return 0;
}

/* The catalog reads a first component such as "localhost" as a registry host; the API's
 * NAMESPACE/IMAGE_NAME may name the ref as written ("localhost/tiny:latest"): find the image
 * of that ID whose refs hold exactly that. */
static int find_as_written(imgstat_catalog *c, const struct store_select *sel, struct find_ctx *f,
                           int *found)
{
    char written[1024], repo[1024];
    snprintf(written, sizeof written, "%s/%s:%s", sel->ns, sel->name,
             sel->tag ? sel->tag : "latest");
    snprintf(repo, sizeof repo, "%s/%s", sel->ns, sel->name);
    struct written_ctx w = {sel->id_hex, written, 0, 0};
    struct imgstat_catalog_query q = {repo, sel->tag ? sel->tag : "latest", 0, 0, 0};
    uint64_t total;
    int rc = imgstat_catalog_list(c, &q, written_one, &w, &total);
    if (rc != IMGSTAT_OK || !w.key)
        return rc;
    /* the entry again, to hand it over as find would */
    struct imgstat_catalog_query all = {NULL, NULL, 0, 0, 0};
    struct key_pick kp = {w.key, f, 0};
    rc = imgstat_catalog_list(c, &all, pick_key, &kp, &total);
    *found = kp.hit;
    return rc;
}

/* The answer remembered for sel, into *out (true), or false. */
static bool memo_get(struct store *st, const char *key, size_t slot, struct found_memo *out)
{
    pthread_mutex_lock(&st->mu);
    const struct found_memo *m = &st->found[slot];
    bool hit = m->gen == st->gen && strcmp(m->sel, key) == 0;
    if (hit)
        *out = *m;
    pthread_mutex_unlock(&st->mu);
    return hit;
}

static void memo_put(struct store *st, size_t slot, uint64_t gen, const struct found_memo *m)
{
    pthread_mutex_lock(&st->mu);
    if (gen == st->gen) { /* nothing changed while it was looked up */
        st->found[slot] = *m;
        st->found[slot].gen = gen;
    }
    pthread_mutex_unlock(&st->mu);
}

struct memo_ctx {
    struct found_memo *m;
};

static void memo_keep(void *ctx, const struct store_image *im)
{
    struct found_memo *m = ((struct memo_ctx *)ctx)->m;
    m->v = (struct store_image){
        .key = im->key, .status = im->status, .files = im->files, .bytes = im->bytes};
    snprintf(m->image_id, sizeof m->image_id, "%s", im->image_id ? im->image_id : "");
    snprintf(m->desc, sizeof m->desc, "%s", im->failed_desc ? im->failed_desc : "");
}

static enum store_found find_uncached(struct store *st, const struct store_select *sel,
                                      void (*fn)(void *ctx, const struct store_image *im),
                                      void *ctx);

enum store_found store_find(struct store *st, const struct store_select *sel,
                            void (*fn)(void *ctx, const struct store_image *im), void *ctx)
{
    char key[160];
    int n = snprintf(key, sizeof key, "%s|%s|%s|%s", sel->id_hex, sel->ns ? sel->ns : "",
                     sel->name ? sel->name : "\x01", sel->tag ? sel->tag : "");
    if (n < 0 || (size_t)n >= sizeof key)
        return find_uncached(st, sel, fn, ctx);
    size_t h = 1469598103934665603ull;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    size_t slot = h % STORE_FIND_CACHE;
    struct found_memo m;
    if (!memo_get(st, key, slot, &m)) {
        pthread_mutex_lock(&st->mu);
        uint64_t gen = st->gen;
        pthread_mutex_unlock(&st->mu);
        memset(&m, 0, sizeof m);
        snprintf(m.sel, sizeof m.sel, "%s", key);
        struct memo_ctx mc = {&m};
        m.rc = find_uncached(st, sel, memo_keep, &mc);
        if (m.rc == FOUND_ERROR)
            return FOUND_ERROR;
        memo_put(st, slot, gen, &m);
    }
    if (m.rc == FOUND_ONE) {
        m.v.image_id = m.image_id;
        m.v.failed_desc = *m.desc ? m.desc : NULL;
        fn(ctx, &m.v);
    }
    return m.rc;
}

static enum store_found find_uncached(struct store *st, const struct store_select *sel,
                                      void (*fn)(void *ctx, const struct store_image *im),
                                      void *ctx)
{
    char why[256];
    imgstat_catalog *c = take(st, why, sizeof why);
    if (!c)
        return FOUND_ERROR;
    struct imgstat_catalog_select s = {sel->id_hex, sel->ns, sel->name, sel->tag};
    struct find_ctx f = {fn, ctx};
    int found = 0;
    int rc = imgstat_catalog_find(c, &s, found_one, &f, &found);
    if (rc == IMGSTAT_OK && !found && sel->name && sel->ns)
        rc = find_as_written(c, sel, &f, &found);
    give(st, c);
    return rc == IMGSTAT_ESELECT ? FOUND_MANY
           : rc != IMGSTAT_OK    ? FOUND_ERROR
           : found               ? FOUND_ONE
                                 : FOUND_NONE;
}

enum store_found store_find_entry(struct store *st, const struct store_select *sel,
                                  void (*fn)(void *ctx, const struct store_image *im), void *ctx)
{
    return find_uncached(st, sel, fn, ctx);
}

uint64_t store_generation(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    uint64_t gen = st->gen;
    pthread_mutex_unlock(&st->mu);
    return gen;
}

int store_scan_image(struct store *st, const char *input, uint64_t index, unsigned flags,
                     store_scan_fn fn, void *ctx, char *why, size_t cap)
{
    imgstat_catalog *c = take(st, why, cap);
    if (!c)
        return IMGSTAT_ESYS;
    /* as the background scans (store_input_scan), with the catalog as the layer memo */
    struct imgstat_options opt = {.flags = flags | IMGSTAT_NO_SELECT, .catalog = c};
    imgstat *h = NULL;
    struct imgstat_totals t;
    int rc = imgstat_open(&h, input, &opt);
    if (rc == IMGSTAT_OK && index >= imgstat_count(h))
        rc = IMGSTAT_ESELECT;
    if (rc == IMGSTAT_OK && (rc = imgstat_choose(h, index)) == IMGSTAT_OK)
        rc = imgstat_scan(h, &t);
    if (rc == IMGSTAT_OK)
        rc = fn(ctx, h, &t);
    else if (rc == IMGSTAT_ESELECT && h && !*imgstat_errmsg(h))
        snprintf(why, cap, "it holds no image %llu now", (unsigned long long)index + 1);
    else
        snprintf(why, cap, "%s", h ? imgstat_errmsg(h) : "out of memory");
    imgstat_close(h);
    give(st, c);
    return rc;
}

struct files_ctx {
    store_file_fn fn;
    void *ctx;
};

static int one_file(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct files_ctx *f = ctx;
    return f->fn(f->ctx, path, (size_t)len, size);
}

int store_files(struct store *st, uint64_t key, const char *name_part, uint64_t offset,
                uint64_t limit, uint64_t *total, store_file_fn fn, void *ctx)
{
    char why[256];
    imgstat_catalog *c = take(st, why, sizeof why);
    if (!c)
        return IMGSTAT_ESYS;
    struct files_ctx f = {fn, ctx};
    int rc = imgstat_catalog_files(c, (int64_t)key, name_part, offset, limit, total, one_file, &f);
    give(st, c);
    return rc;
}

struct list_ctx {
    store_row_fn fn;
    void *ctx;
};

static int one_row(void *ctx, const struct imgstat_catalog_image *im)
{
    struct list_ctx *l = ctx;
    char repo[1024] = "", tag[256] = "";
    if (im->ref)
        ref_split(im->ref, repo, sizeof repo, tag, sizeof tag);
    struct store_image v = view(im);
    l->fn(l->ctx, &v, repo, tag);
    return 0;
}

int store_list(struct store *st, const struct store_filter *f, uint64_t offset, uint64_t limit,
               uint64_t *total, store_row_fn fn, void *ctx)
{
    char why[256];
    imgstat_catalog *c = take(st, why, sizeof why);
    if (!c)
        return IMGSTAT_ESYS;
    struct imgstat_catalog_query q = {f->image_name, f->image_version,
                                      f->status >= 0 ? f->status + 1 : 0, offset, limit};
    struct list_ctx l = {fn, ctx};
    int rc = imgstat_catalog_list(c, &q, one_row, &l, total);
    give(st, c);
    return rc;
}

void store_counts(struct store *st, struct store_counts *out)
{
    char why[256];
    struct imgstat_catalog_counts cc = {0};
    memset(out, 0, sizeof *out);
    imgstat_catalog *c = take(st, why, sizeof why);
    if (c && imgstat_catalog_counts(c, &cc) == IMGSTAT_OK) {
        for (int s = 0; s < ST_COUNT; s++)
            out->by_status[s] = cc.entries[s];
        out->memo_hits = cc.memo_hits;
        out->memo_misses = cc.memo_misses;
    }
    if (c)
        give(st, c);
    pthread_mutex_lock(&st->mu);
    out->scans_done = st->scans_done;
    out->scans_failed = st->scans_failed;
    pthread_mutex_unlock(&st->mu);
}
