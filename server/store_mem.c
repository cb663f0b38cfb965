/*
 * store_mem: the catalog kept in memory, scanned with the public API.  It stands in for
 * the SQLite catalog (catalog/, issue 10) behind store.h until that lands; it keeps each
 * image's file list (paths in one pool, in the order imgstat_files gives: byte-wise by
 * path), so it costs memory in proportion to the files cataloged and forgets everything
 * on exit.
 */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imgstat.h"
#include "ref.h"

struct mfile {
    uint64_t off, len, size;
};

struct mimage {
    struct store_image pub;
    struct input_id id;
    char **refs;
    char *paths; /* every file path, concatenated */
    size_t paths_len, paths_cap;
    struct mfile *fv;
    size_t nf, fcap;
};

struct store {
    pthread_rwlock_t lock;
    struct mimage **v;
    size_t n, cap;
    uint64_t next_key;
    uint64_t scans_done, scans_failed;
};

static const char *const status_names[ST_COUNT] = {"waiting_for_scan", "scanning", "success",
                                                   "failed"};

const char *scan_status_name(enum scan_status s)
{
    return s < ST_COUNT ? status_names[s] : "unknown";
}

enum scan_status scan_status_parse(const char *word)
{
    for (int s = 0; s < ST_COUNT; s++)
        if (strcmp(word, status_names[s]) == 0)
            return (enum scan_status)s;
    return ST_COUNT;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mimage_free(struct mimage *m)
{
    if (!m)
        return;
    free((char *)m->pub.input);
    free((char *)m->pub.image_id);
    free((char *)m->pub.digest);
    free((char *)m->pub.failed_desc);
    for (size_t i = 0; i < m->pub.nrefs; i++)
        free(m->refs[i]);
    free(m->refs);
    free(m->paths);
    free(m->fv);
    free(m);
}

int store_open(struct store **out, const char *path, char *why, size_t cap)
{
    *out = NULL;
    if (path) {
        snprintf(why, cap, "this build keeps its catalog in memory: --db is not available");
        return IMGSTAT_EUSAGE;
    }
    struct store *st = calloc(1, sizeof *st);
    if (!st || pthread_rwlock_init(&st->lock, NULL) != 0) {
        free(st);
        snprintf(why, cap, "out of memory");
        return IMGSTAT_ENOMEM;
    }
    st->next_key = 1;
    *out = st;
    return 0;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        mimage_free(st->v[i]);
    free(st->v);
    pthread_rwlock_destroy(&st->lock);
    free(st);
}

static bool same_id(const struct input_id *a, const struct input_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

bool store_input_current(struct store *st, const char *path, const struct input_id *id)
{
    bool found = false, current = true;
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->n; i++) {
        const struct mimage *m = st->v[i];
        if (strcmp(m->pub.input, path) != 0)
            continue;
        found = true;
        current &=
            same_id(&m->id, id) && (m->pub.status == ST_SUCCESS || m->pub.status == ST_FAILED);
    }
    pthread_rwlock_unlock(&st->lock);
    return found && current;
}

/* Drop every entry of path; the write lock is held. */
static void drop_input(struct store *st, const char *path)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->v[i]->pub.input, path) == 0)
            mimage_free(st->v[i]);
        else
            st->v[k++] = st->v[i];
    }
    st->n = k;
}

/* Append entries, in place of path's old ones; the write lock is held.  Takes them. */
static int put_input(struct store *st, const char *path, struct mimage **add, size_t n)
{
    drop_input(st, path);
    if (st->n + n > st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        while (cap < st->n + n)
            cap *= 2;
        struct mimage **v = realloc(st->v, cap * sizeof *v);
        if (!v)
            return IMGSTAT_ENOMEM;
        st->v = v;
        st->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        add[i]->pub.key = st->next_key++;
        st->v[st->n++] = add[i];
    }
    return 0;
}

static struct mimage *mimage_new(const char *path, const struct input_id *id, enum scan_status s)
{
    struct mimage *m = calloc(1, sizeof *m);
    if (!m || !(m->pub.input = strdup(path))) {
        free(m);
        return NULL;
    }
    m->id = *id;
    m->pub.status = s;
    m->pub.input_bytes = id->size;
    m->pub.updated_ms = id->mtime_ns / 1000000;
    return m;
}

int store_input_mark(struct store *st, const char *path, const struct input_id *id,
                     enum scan_status s, char *why, size_t cap)
{
    struct mimage *m = mimage_new(path, id, s);
    if (!m) {
        snprintf(why, cap, "out of memory");
        return IMGSTAT_ENOMEM;
    }
    pthread_rwlock_wrlock(&st->lock);
    int rc = put_input(st, path, &m, 1);
    pthread_rwlock_unlock(&st->lock);
    if (rc != 0) {
        mimage_free(m);
        snprintf(why, cap, "out of memory");
    }
    return rc;
}

int store_input_remove(struct store *st, const char *path, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    pthread_rwlock_wrlock(&st->lock);
    drop_input(st, path);
    pthread_rwlock_unlock(&st->lock);
    return 0;
}

int store_inputs(struct store *st, int (*fn)(void *ctx, const char *path), void *ctx)
{
    /* copy the names first: fn may call back into the store */
    pthread_rwlock_rdlock(&st->lock);
    size_t n = st->n;
    char **names = calloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; names && i < n; i++)
        names[i] = strdup(st->v[i]->pub.input);
    pthread_rwlock_unlock(&st->lock);
    if (!names)
        return IMGSTAT_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = !names[i];
        for (size_t k = 0; k < i && !dup; k++)
            dup = names[k] && strcmp(names[k], names[i]) == 0;
        if (!dup && rc == 0)
            rc = fn(ctx, names[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- scanning ---- */

static int keep_file(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct mimage *m = ctx;
    if (m->paths_len + len > m->paths_cap) {
        size_t cap = m->paths_cap ? m->paths_cap * 2 : 4096;
        while (cap < m->paths_len + len)
            cap *= 2;
        char *p = realloc(m->paths, cap);
        if (!p)
            return IMGSTAT_ENOMEM;
        m->paths = p;
        m->paths_cap = cap;
    }
    if (m->nf == m->fcap) {
        size_t cap = m->fcap ? m->fcap * 2 : 256;
        struct mfile *v = realloc(m->fv, cap * sizeof *v);
        if (!v)
            return IMGSTAT_ENOMEM;
        m->fv = v;
        m->fcap = cap;
    }
    memcpy(m->paths + m->paths_len, path, len);
    m->fv[m->nf++] = (struct mfile){m->paths_len, len, size};
    m->paths_len += len;
    return 0;
}

static int copy_identity(struct mimage *m, const struct imgstat_image_info *im)
{
    if (im->id && !(m->pub.image_id = strdup(im->id)))
        return IMGSTAT_ENOMEM;
    if (im->manifest_digest && !(m->pub.digest = strdup(im->manifest_digest)))
        return IMGSTAT_ENOMEM;
    if (im->nrefs && !(m->refs = calloc(im->nrefs, sizeof *m->refs)))
        return IMGSTAT_ENOMEM;
    for (uint64_t i = 0; i < im->nrefs; i++) {
        if (!(m->refs[i] = strdup(im->refs[i])))
            return IMGSTAT_ENOMEM;
        m->pub.nrefs++;
    }
    m->pub.refs = (const char *const *)m->refs;
    return 0;
}

static void set_failed(struct mimage *m, const char *msg)
{
    m->pub.status = ST_FAILED;
    free((char *)m->pub.failed_desc);
    m->pub.failed_desc = strdup(*msg ? msg : "scan failed");
}

/* Image i of the open handle h into a new entry (status success or failed). */
static struct mimage *scan_one(imgstat *h, uint64_t i, const char *path, const struct input_id *id)
{
    struct mimage *m = mimage_new(path, id, ST_SUCCESS);
    if (!m)
        return NULL;
    struct imgstat_totals t;
    int rc = imgstat_choose(h, i);
    if (rc == IMGSTAT_OK && copy_identity(m, imgstat_image(h)) != 0)
        rc = IMGSTAT_ENOMEM;
    if (rc == IMGSTAT_OK)
        rc = imgstat_scan(h, &t);
    if (rc == IMGSTAT_OK)
        rc = imgstat_files(h, keep_file, m);
    if (rc != IMGSTAT_OK) {
        set_failed(m, rc == IMGSTAT_ENOMEM && !*imgstat_errmsg(h) ? "out of memory"
                                                                  : imgstat_errmsg(h));
        m->nf = 0;
    } else {
        m->pub.files = t.files;
        m->pub.bytes = t.bytes;
    }
    m->pub.scanned_ms = now_ms();
    return m;
}

/* Replace the entry with m's key by m (the write lock is held); frees the old one. */
static void replace_entry(struct store *st, struct mimage *m)
{
    for (size_t i = 0; i < st->n; i++) {
        if (st->v[i]->pub.key == m->pub.key) {
            mimage_free(st->v[i]);
            st->v[i] = m;
            return;
        }
    }
    mimage_free(m); /* the input was removed meanwhile */
}

/* The images of an open handle as entries in status scanning, so that they are known (and
 * answered 409) while their layers are read. */
static struct mimage **announce(imgstat *h, uint64_t n, const char *path, const struct input_id *id)
{
    struct mimage **v = calloc(n, sizeof *v);
    for (uint64_t i = 0; v && i < n; i++) {
        v[i] = mimage_new(path, id, ST_SCANNING);
        if (!v[i] || imgstat_choose(h, i) != IMGSTAT_OK ||
            copy_identity(v[i], imgstat_image(h)) != 0) {
            for (uint64_t k = 0; k <= i; k++)
                mimage_free(v[k]);
            free(v);
            return NULL;
        }
    }
    return v;
}

/* Put the entries in place of path's; *first: the key of the first (the others follow). */
static int record(struct store *st, const char *path, struct mimage **add, size_t n,
                  uint64_t *first)
{
    pthread_rwlock_wrlock(&st->lock);
    *first = st->next_key;
    int rc = put_input(st, path, add, n);
    pthread_rwlock_unlock(&st->lock);
    if (rc != 0)
        for (size_t i = 0; i < n; i++)
            mimage_free(add[i]);
    return rc;
}

/* The input cannot be opened, or holds no image: one failed entry. */
static int record_failed(struct store *st, const char *path, const struct input_id *id,
                         const char *msg)
{
    struct mimage *m = mimage_new(path, id, ST_FAILED);
    if (!m)
        return IMGSTAT_ENOMEM;
    set_failed(m, msg);
    m->pub.scanned_ms = now_ms();
    pthread_rwlock_wrlock(&st->lock);
    st->scans_done++;
    st->scans_failed++;
    pthread_rwlock_unlock(&st->lock);
    uint64_t key;
    return record(st, path, &m, 1, &key);
}

int store_input_scan(struct store *st, const char *path, const struct input_id *id, unsigned jobs,
                     char *why, size_t cap)
{
    struct imgstat_options opt = {.jobs = jobs, .flags = IMGSTAT_NO_SELECT};
    imgstat *h = NULL;
    int rc = imgstat_open(&h, path, &opt);
    uint64_t n = rc == IMGSTAT_OK ? imgstat_count(h) : 0;
    if (rc != IMGSTAT_OK || n == 0) {
        rc = record_failed(st, path, id, rc != IMGSTAT_OK ? imgstat_errmsg(h) : "no image to scan");
        imgstat_close(h);
        if (rc != 0)
            snprintf(why, cap, "out of memory");
        return rc;
    }
    struct mimage **v = announce(h, n, path, id);
    uint64_t keys0 = 0;
    if (!v || record(st, path, v, n, &keys0) != 0) {
        free(v);
        imgstat_close(h);
        snprintf(why, cap, "out of memory");
        return IMGSTAT_ENOMEM;
    }
    bool failed = false;
    for (uint64_t i = 0; i < n; i++) {
        struct mimage *m = scan_one(h, i, path, id);
        if (!m)
            continue; /* out of memory: the entry stays "scanning" until the next rescan */
        m->pub.key = keys0 + i;
        failed |= m->pub.status == ST_FAILED;
        pthread_rwlock_wrlock(&st->lock);
        replace_entry(st, m);
        pthread_rwlock_unlock(&st->lock);
    }
    imgstat_close(h);
    free(v);
    pthread_rwlock_wrlock(&st->lock);
    st->scans_done++;
    st->scans_failed += failed;
    pthread_rwlock_unlock(&st->lock);
    return 0;
}

/* ---- queries ---- */

enum store_found store_find(struct store *st, const struct store_select *sel,
                            void (*fn)(void *ctx, const struct store_image *im), void *ctx)
{
    const struct mimage *hit = NULL;
    bool many = false;
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->n && !many; i++) {
        const struct mimage *m = st->v[i];
        if (!ref_select_matches(sel, &m->pub))
            continue;
        if (hit && strcmp(hit->pub.image_id, m->pub.image_id) != 0)
            many = true;
        else if (!hit || (hit->pub.status != ST_SUCCESS && m->pub.status == ST_SUCCESS))
            hit = m; /* the same image in several inputs: any scanned copy answers */
    }
    if (hit && !many)
        fn(ctx, &hit->pub);
    pthread_rwlock_unlock(&st->lock);
    return many ? FOUND_MANY : hit ? FOUND_ONE : FOUND_NONE;
}

static bool name_has(const char *name, size_t len, const char *part, size_t plen)
{
    if (plen == 0)
        return true;
    for (size_t i = 0; i + plen <= len; i++)
        if (memcmp(name + i, part, plen) == 0)
            return true;
    return false;
}

int store_files(struct store *st, uint64_t key, const char *name_part, uint64_t offset,
                uint64_t limit, uint64_t *total, store_file_fn fn, void *ctx)
{
    size_t plen = name_part ? strlen(name_part) : 0;
    uint64_t matched = 0;
    int rc = 0;
    pthread_rwlock_rdlock(&st->lock);
    const struct mimage *m = NULL;
    for (size_t i = 0; i < st->n && !m; i++)
        if (st->v[i]->pub.key == key)
            m = st->v[i];
    for (size_t i = 0; m && i < m->nf; i++) {
        const char *p = m->paths + m->fv[i].off;
        size_t len = m->fv[i].len, base = len;
        while (base > 0 && p[base - 1] != '/')
            base--;
        if (!name_has(p + base, len - base, name_part, plen))
            continue;
        if (matched >= offset && matched - offset < limit && rc == 0)
            rc = fn(ctx, p, len, m->fv[i].size);
        matched++;
    }
    pthread_rwlock_unlock(&st->lock);
    *total = matched;
    return rc;
}

int store_list(struct store *st, const struct store_filter *f, uint64_t offset, uint64_t limit,
               uint64_t *total, store_row_fn fn, void *ctx)
{
    uint64_t matched = 0;
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->n; i++) {
        const struct mimage *m = st->v[i];
        if (f->status >= 0 && m->pub.status != (enum scan_status)f->status)
            continue;
        for (size_t r = 0; r < (m->pub.nrefs ? m->pub.nrefs : 1); r++) {
            char repo[1024], tag[256];
            if (m->pub.nrefs)
                ref_split(m->refs[r], repo, sizeof repo, tag, sizeof tag);
            else
                repo[0] = tag[0] = '\0';
            if (!ref_row_matches(f, repo, tag))
                continue;
            if (matched >= offset && matched - offset < limit)
                fn(ctx, &m->pub, repo, tag);
            matched++;
        }
    }
    pthread_rwlock_unlock(&st->lock);
    *total = matched;
    return 0;
}

void store_counts(struct store *st, struct store_counts *out)
{
    memset(out, 0, sizeof *out);
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->n; i++)
        out->by_status[st->v[i]->pub.status]++;
    out->scans_done = st->scans_done;
    out->scans_failed = st->scans_failed;
    pthread_rwlock_unlock(&st->lock);
}
