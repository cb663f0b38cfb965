/*
 * The catalog's public API (include/imgstat.h, "The catalog"): recording an input scans it
 * with the library's own handle and hands the catalog plain figures (catalog/images.h);
 * every other call takes the file's lock around one catalog query.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_impl.h"
#include "err.h"
#include "files.h"
#include "images.h"
#include "imgstat.h"
#include "memo.h"

/* The largest files kept in an image's detail JSON, as `imgstat --detail` prints them. */
#define CATALOG_TOP 10
/* How long a catalog write waits for another writer (a scan being recorded). */
#define CATALOG_BUSY_MS 10000

struct imgstat_catalog {
    struct cat_db *db;
};

/* The calling thread's last failure: a handle may be shared by threads. */
static _Thread_local struct err last;

static int fail_nomem(void)
{
    return err_nomem(&last);
}

struct cat_db *api_catalog_db(imgstat_catalog *c)
{
    return c->db;
}

const char *imgstat_catalog_errmsg(const imgstat_catalog *c)
{
    (void)c;
    return last.msg;
}

int imgstat_catalog_open(imgstat_catalog **out, const char *path)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return fail_nomem();
    int rc = cat_make_parent(path, &last);
    if (rc == IMGSTAT_OK)
        rc = cat_open(&(*out)->db, path, CATALOG_BUSY_MS, &last);
    if (rc != IMGSTAT_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int imgstat_catalog_readonly(const imgstat_catalog *c)
{
    return c && c->db && c->db->readonly;
}

void imgstat_catalog_close(imgstat_catalog *c)
{
    if (!c)
        return;
    cat_close(c->db);
    free(c);
}

/* ---- recording an input ---- */

/* A directory's identity: its own, with index.json's size and the later mtime (a layout is
 * rewritten through its index). */
static void identify(const char *path, struct cat_identity *id)
{
    struct stat st, ix;
    char index[4200];
    memset(id, 0, sizeof *id);
    if (stat(path, &st) != 0)
        return;
    *id = (struct cat_identity){(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                                (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
    snprintf(index, sizeof index, "%s/index.json", path);
    if (S_ISDIR(st.st_mode) && stat(index, &ix) == 0) {
        int64_t m = (int64_t)ix.st_mtim.tv_sec * 1000000000 + ix.st_mtim.tv_nsec;
        id->size = (uint64_t)ix.st_size;
        id->mtime_ns = m > id->mtime_ns ? m : id->mtime_ns;
    }
}

/* What scanning one input found: its images, owned here (strings of the handle's images
 * stay valid until it is closed). */
struct scan {
    imgstat *h;
    struct cat_image *v;
    size_t n;
    char *failed; /* the input could not be opened */
    int code;     /* the first failure, or IMGSTAT_OK */
    char msg[ERR_MSG_MAX];
};

static void scan_note(struct scan *s, int code, const char *msg)
{
    if (s->code == IMGSTAT_OK) {
        s->code = code;
        snprintf(s->msg, sizeof s->msg, "%s", msg);
    }
}

/* A file walk that builds the list and keeps the largest files. */
struct walk {
    struct cat_files *list;
    struct {
        uint64_t size;
        char *path;
    } top[CATALOG_TOP];
    size_t ntop;
};

static int walk_file(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct walk *w = ctx;
    if (cat_files_add(w->list, path, len, size) != IMGSTAT_OK)
        return IMGSTAT_ENOMEM;
    size_t i = w->ntop < CATALOG_TOP ? w->ntop++ : CATALOG_TOP;
    if (i == CATALOG_TOP && size <= w->top[CATALOG_TOP - 1].size)
        return 0;
    if (i == CATALOG_TOP)
        free(w->top[--i].path);
    for (; i > 0 && w->top[i - 1].size < size; i--) /* equal sizes keep path order */
        w->top[i] = w->top[i - 1];
    if (!(w->top[i].path = strndup(path, (size_t)len)))
        return IMGSTAT_ENOMEM;
    w->top[i].size = size;
    return 0;
}

/* A string as JSON (names are raw bytes: what is not UTF-8 becomes \u00XX). */
static void json_str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    putc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
        bool utf8 = *p >= 0xc2 && *p < 0xf5;
        for (size_t i = 1; i < n && utf8; i++)
            utf8 = (p[i] & 0xc0) == 0x80;
        if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            putc(*p, f);
        else if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p >= 0x80 && utf8) {
            fwrite(p, 1, n, f);
            p += n - 1;
        } else
            fprintf(f, "\\u%04x", *p);
    }
    putc('"', f);
}

static void json_layer(FILE *f, const struct imgstat_layer_info *l)
{
    fputs("{\"digest\": ", f);
    json_str(f, l->digest);
    fputs(", \"diff_id\": ", f);
    json_str(f, l->diff_id);
    fputs(", \"media_type\": ", f);
    json_str(f, l->media_type);
    fputs(", \"compression\": ", f);
    json_str(f, l->compression);
    fprintf(f,
            ", \"compressed_bytes\": %" PRIu64 ", \"uncompressed_bytes\": %" PRIu64
            ", \"entries\": %" PRIu64 ", \"files_added\": %" PRIu64 ", \"bytes_added\": %" PRIu64
            ", \"files_replaced\": %" PRIu64 ", \"bytes_replaced\": %" PRIu64
            ", \"paths_removed\": %" PRIu64 ", \"bytes_removed\": %" PRIu64 "}",
            l->compressed_bytes, l->uncompressed_bytes, l->entries, l->files_added, l->bytes_added,
            l->files_replaced, l->bytes_replaced, l->paths_removed, l->bytes_removed);
}

/* `imgstat --detail`'s figures as one JSON object; *image_size gets the blobs' bytes. */
static char *detail_json(imgstat *h, const struct imgstat_totals *t, const struct walk *w,
                         uint64_t *image_size)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    uint64_t wasted = t->layer_bytes > t->bytes ? t->layer_bytes - t->bytes : 0;
    fprintf(f,
            "{\"dirs\": %" PRIu64 ", \"symlinks\": %" PRIu64 ", \"hardlinks\": %" PRIu64
            ", \"devices\": %" PRIu64 ", \"fifos\": %" PRIu64
            ", \"total_files_size_per_path\": %" PRIu64 ", \"layer_files_size\": %" PRIu64
            ", \"wasted_bytes\": %" PRIu64 ", \"efficiency\": %.6f, \"layers\": [",
            t->dirs, t->symlinks, t->hardlinks, t->devices, t->fifos, t->bytes_per_path,
            t->layer_bytes, wasted,
            t->layer_bytes ? (double)t->bytes / (double)t->layer_bytes : 1.0);
    *image_size = 0;
    for (uint64_t i = 0; i < imgstat_image(h)->nlayers; i++) {
        const struct imgstat_layer_info *l = imgstat_layer(h, i);
        fputs(i ? ", " : "", f);
        json_layer(f, l);
        *image_size += l->compressed_bytes;
    }
    fputs("], \"largest_files\": [", f);
    for (size_t i = 0; i < w->ntop; i++) {
        fputs(i ? ", {\"file_path\": " : "{\"file_path\": ", f);
        json_str(f, w->top[i].path);
        fprintf(f, ", \"size\": %" PRIu64 "}", w->top[i].size);
    }
    fputs("]}", f);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static char *platform_of(const struct imgstat_image_info *im)
{
    char buf[256];
    if (!im->os || !im->arch)
        return NULL;
    snprintf(buf, sizeof buf, "%s/%s%s%s", im->os, im->arch, im->variant ? "/" : "",
             im->variant ? im->variant : "");
    return strdup(buf);
}

/* Scan the chosen image of s->h into *im (a failure is recorded in it, not returned). */
static void scan_image(struct scan *s, struct cat_image *im)
{
    const struct imgstat_image_info *info = imgstat_image(s->h);
    struct imgstat_totals t;
    struct walk w = {0};
    *im = (struct cat_image){.image_id = info->id,
                             .manifest_digest = info->manifest_digest,
                             .format = info->format,
                             .platform = platform_of(info),
                             .refs = info->refs,
                             .nrefs = (size_t)info->nrefs};
    int rc = imgstat_scan(s->h, &t);
    if (rc == IMGSTAT_OK && !(w.list = cat_files_new()))
        rc = IMGSTAT_ENOMEM;
    if (rc == IMGSTAT_OK && (rc = imgstat_files(s->h, walk_file, &w)) == IMGSTAT_OK &&
        !(im->detail_json = detail_json(s->h, &t, &w, &im->image_size)))
        rc = IMGSTAT_ENOMEM;
    for (size_t i = 0; i < w.ntop; i++)
        free(w.top[i].path);
    if (rc != IMGSTAT_OK) {
        const char *msg = rc == IMGSTAT_ENOMEM ? "out of memory" : imgstat_errmsg(s->h);
        scan_note(s, rc, msg);
        im->failed_desc = strdup(msg);
        cat_files_free(w.list);
        return;
    }
    im->files = t.files;
    im->bytes = t.bytes;
    im->list = w.list;
}

static void scan_input(const char *path, const struct imgstat_options *opt, struct scan *s)
{
    struct imgstat_options o = {0};
    if (opt)
        o = *opt;
    o.flags |= IMGSTAT_NO_SELECT;
    o.image = o.platform = NULL;
    int rc = imgstat_open(&s->h, path, &o);
    uint64_t n = rc == IMGSTAT_OK ? imgstat_count(s->h) : 0;
    if (rc != IMGSTAT_OK || n == 0) {
        const char *msg = rc == IMGSTAT_ENOMEM || !s->h ? "out of memory"
                          : rc != IMGSTAT_OK            ? imgstat_errmsg(s->h)
                                                        : "no image in this input can be scanned";
        scan_note(s, rc != IMGSTAT_OK ? rc : IMGSTAT_ESELECT, msg);
        s->failed = strdup(msg);
        return;
    }
    if (!(s->v = calloc((size_t)n, sizeof *s->v))) {
        scan_note(s, IMGSTAT_ENOMEM, "out of memory");
        s->failed = strdup("out of memory");
        return;
    }
    size_t failed = 0;
    for (s->n = 0; s->n < n; s->n++) {
        imgstat_choose(s->h, s->n);
        scan_image(s, &s->v[s->n]);
        failed += s->v[s->n].failed_desc != NULL;
    }
    if (failed == s->n) /* nothing could be scanned: the input failed, with the first reason */
        s->failed = strdup(s->v[0].failed_desc ? s->v[0].failed_desc : "out of memory");
}

static void scan_free(struct scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((char *)s->v[i].platform);
        free((char *)s->v[i].failed_desc);
        free((char *)s->v[i].detail_json);
        cat_files_free(s->v[i].list);
    }
    free(s->v);
    free(s->failed);
    imgstat_close(s->h);
}

int imgstat_catalog_add(imgstat_catalog *c, const char *path, const struct imgstat_options *opt)
{
    struct cat_identity id;
    struct scan s = {0};
    identify(path, &id);
    cat_lock(c->db);
    int rc = cat_input_mark(c->db, path, IMGSTAT_SCANNING, NULL, &last);
    cat_unlock(c->db);
    if (rc != IMGSTAT_OK)
        return rc;
    scan_input(path, opt, &s);
    cat_lock(c->db);
    rc = cat_input_record(c->db, path, &id, s.failed, s.v, s.n, &last);
    cat_unlock(c->db);
    if (rc == IMGSTAT_OK && s.code != IMGSTAT_OK)
        rc = err_set(&last, s.code, "%s", s.msg);
    scan_free(&s);
    return rc;
}

/* ---- the other calls: one locked catalog query each ---- */

int imgstat_catalog_set_status(imgstat_catalog *c, const char *path, int status, const char *desc)
{
    cat_lock(c->db);
    int rc = cat_input_mark(c->db, path, status, desc, &last);
    cat_unlock(c->db);
    return rc;
}

int imgstat_catalog_remove(imgstat_catalog *c, const char *path, int *found)
{
    bool was = false;
    cat_lock(c->db);
    int rc = cat_input_remove(c->db, path, &was, &last);
    cat_unlock(c->db);
    if (found)
        *found = was;
    return rc;
}

int imgstat_catalog_inputs(imgstat_catalog *c, imgstat_input_fn fn, void *ctx)
{
    cat_lock(c->db);
    int rc = cat_inputs(c->db, fn, ctx, &last);
    cat_unlock(c->db);
    return rc;
}

int imgstat_catalog_list(imgstat_catalog *c, const struct imgstat_catalog_query *q,
                         imgstat_image_fn fn, void *ctx, uint64_t *total)
{
    uint64_t n = 0;
    cat_lock(c->db);
    int rc = cat_list(c->db, q, fn, ctx, total ? total : &n, &last);
    cat_unlock(c->db);
    return rc;
}

int imgstat_catalog_find(imgstat_catalog *c, const struct imgstat_catalog_select *s,
                         imgstat_image_fn fn, void *ctx, int *found)
{
    cat_lock(c->db);
    int rc = cat_find(c->db, s, fn, ctx, found, &last);
    cat_unlock(c->db);
    return rc;
}

int imgstat_catalog_files(imgstat_catalog *c, int64_t key, const char *file_name, uint64_t offset,
                          uint64_t limit, uint64_t *total, imgstat_file_fn fn, void *ctx)
{
    cat_lock(c->db);
    int rc = cat_files_page(c->db, key, file_name, offset, limit, total, fn, ctx, &last);
    cat_unlock(c->db);
    return rc;
}

int imgstat_catalog_counts(imgstat_catalog *c, struct imgstat_catalog_counts *out)
{
    cat_lock(c->db);
    int rc = cat_counts(c->db, out, &last);
    cat_unlock(c->db);
    return rc;
}

/* ---- the layer memo's file ---- */

int imgstat_cache_file(const struct imgstat_options *opt, char *buf, uint64_t cap)
{
    char dir[4096];
    if (!api_cache_dir(opt ? opt->cache_dir : NULL, dir, sizeof dir))
        return err_set(&last, IMGSTAT_EUSAGE,
                       "no cache directory: set IMGSTAT_CACHE_DIR or HOME, or give --cache-dir");
    int n = snprintf(buf, (size_t)cap, "%s/%s", dir, MEMO_FILE);
    if (n < 0 || (uint64_t)n >= cap)
        return err_set(&last, IMGSTAT_EUSAGE, "%s: name too long", dir);
    return IMGSTAT_OK;
}

static uint64_t file_size(const char *path, const char *suffix)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s%s", path, suffix);
    return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int imgstat_cache_info(imgstat_catalog *c, struct imgstat_cache_info *out)
{
    struct memo_info m;
    int rc = memo_info(c->db, &m, &last);
    if (rc != IMGSTAT_OK)
        return rc;
    *out = (struct imgstat_cache_info){m.layers,
                                       m.bytes,
                                       m.hits,
                                       m.misses,
                                       file_size(c->db->path, "") + file_size(c->db->path, "-wal"),
                                       m.created_ms};
    return IMGSTAT_OK;
}

/* Remove a damaged catalog and what SQLite keeps beside it. */
static int remove_damaged(const char *path, struct err *e)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[4200];
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            return err_sys(e, errno, "cannot remove %s", p);
    }
    return IMGSTAT_OK;
}

int imgstat_cache_clear(const char *path, char *msg, uint64_t cap)
{
    struct err e = {0};
    struct cat_db *db = NULL;
    enum cat_health h = cat_probe(path, &e);
    if (h == CAT_ABSENT) {
        if (msg && cap)
            snprintf(msg, (size_t)cap, "no memo at %s: nothing to clear", path);
        return IMGSTAT_OK;
    }
    int rc = h == CAT_REFUSED ? e.code : IMGSTAT_OK;
    if (h == CAT_DAMAGED)
        rc = remove_damaged(path, &e);
    if (rc == IMGSTAT_OK && (rc = cat_open(&db, path, CATALOG_BUSY_MS, &e)) == IMGSTAT_OK)
        rc = memo_clear(db, &e);
    cat_close(db);
    if (msg && cap)
        snprintf(msg, (size_t)cap, "%s",
                 rc == IMGSTAT_OK && h == CAT_DAMAGED ? "the damaged file was replaced by a new one"
                                                      : e.msg);
    return rc;
}
