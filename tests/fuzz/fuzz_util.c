/*
 * Helpers shared by the fuzz targets (see fuzz_common.h).
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "err.h"

#define FZ_SLOTS 4
/* Result codes are small negative numbers (enum imgstat_code); anything else is garbage. */
#define FZ_MIN_CODE (-32)
/* Pipe capacity asked for the stdin variant; inputs larger than what we get are skipped. */
#define FZ_PIPE_SIZE (1024 * 1024)

/* Under UBSan a report must stop the run (a crash for libFuzzer, a failed replay) rather
 * than scroll by; UBSAN_OPTIONS still overrides this. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n==fuzz== %s:%d: check failed: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static void die_sys(const char *what)
{
    fprintf(stderr, "fuzz harness: %s: %s\n", what, strerror(errno));
    abort();
}

static int slot_fd(int slot)
{
    static int fds[FZ_SLOTS] = {-1, -1, -1, -1};
    if (slot < 0 || slot >= FZ_SLOTS)
        abort();
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("imgstat-fuzz", MFD_CLOEXEC);
        if (fds[slot] < 0)
            die_sys("memfd_create");
    }
    return fds[slot];
}

static const char *slot_path(int fd)
{
    static char path[FZ_SLOTS][64];
    static int next;
    char *p = path[next++ % FZ_SLOTS];
    snprintf(p, sizeof path[0], "/proc/self/fd/%d", fd);
    return p;
}

const char *fz_memfd_path(int slot, const void *data, size_t len)
{
    int fd = slot_fd(slot);
    if (ftruncate(fd, 0) != 0)
        die_sys("ftruncate");
    const char *p = data;
    for (size_t off = 0; off < len;) {
        ssize_t n = pwrite(fd, p + off, len - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die_sys("pwrite memfd");
        off += (size_t)n;
    }
    return slot_path(fd);
}

static void write_tar(int fd, const struct fz_member *m, size_t n, int gzip)
{
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        die_sys("reset memfd");
    struct archive *a = archive_write_new();
    struct archive_entry *ae = archive_entry_new();
    if (!a || !ae)
        abort();
    /* pax: names of any length, like the docker and OCI writers */
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        (gzip ? archive_write_add_filter_gzip(a) : archive_write_add_filter_none(a)) !=
            ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK)
        fz_fail(__FILE__, __LINE__, "archive_write_open_fd", "%s", archive_error_string(a));
    for (size_t i = 0; i < n; i++) {
        archive_entry_clear(ae);
        archive_entry_set_pathname(ae, m[i].name);
        archive_entry_set_mtime(ae, 0, 0);
        if (m[i].symlink) {
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_perm(ae, 0777);
            archive_entry_set_symlink(ae, m[i].symlink);
            archive_entry_set_size(ae, 0);
        } else {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, 0644);
            archive_entry_set_size(ae, (la_int64_t)m[i].len);
        }
        if (archive_write_header(a, ae) != ARCHIVE_OK)
            fz_fail(__FILE__, __LINE__, "archive_write_header", "%s", archive_error_string(a));
        if (!m[i].symlink && m[i].len &&
            archive_write_data(a, m[i].data, m[i].len) != (la_ssize_t)m[i].len)
            fz_fail(__FILE__, __LINE__, "archive_write_data", "%s", archive_error_string(a));
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        fz_fail(__FILE__, __LINE__, "archive_write_close", "%s", archive_error_string(a));
    archive_write_free(a);
    archive_entry_free(ae);
}

const char *fz_tar_path(int slot, const struct fz_member *m, size_t n)
{
    int fd = slot_fd(slot);
    write_tar(fd, m, n, 0);
    return slot_path(fd);
}

unsigned char *fz_tar_bytes(const struct fz_member *m, size_t n, int gzip, size_t *len)
{
    int fd = memfd_create("imgstat-fuzz-tmp", MFD_CLOEXEC);
    if (fd < 0)
        die_sys("memfd_create");
    write_tar(fd, m, n, gzip);
    off_t size = lseek(fd, 0, SEEK_END);
    unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
    if (size < 0 || !buf || pread(fd, buf, (size_t)size, 0) != (ssize_t)size)
        die_sys("read back a tarball");
    close(fd);
    *len = (size_t)size;
    return buf;
}

static void check_msg(const char *msg, const char *what)
{
    FZ_CHECK(msg != NULL, "%s: NULL message", what);
    size_t len = strlen(msg);
    FZ_CHECK(len > 0, "%s: empty message", what);
    FZ_CHECK(len < ERR_MSG_MAX, "%s: message of %zu bytes", what, len);
    /* imgstat.h: "the last error in one line"; IMGSTAT_FUZZ_MULTILINE=1 stops checking,
     * to keep fuzzing for crashes past a known multi-line message */
    static int lax = -1;
    if (lax < 0)
        lax = getenv("IMGSTAT_FUZZ_MULTILINE") != NULL;
    if (!lax)
        FZ_CHECK(!strpbrk(msg, "\n\r"), "%s: message has a line break: \"%s\"", what, msg);
}

void fz_check_err(int rc, const struct err *e, const char *what)
{
    FZ_CHECK(rc <= IMGSTAT_OK && rc >= FZ_MIN_CODE, "%s: result %d out of range", what, rc);
    if (rc == IMGSTAT_OK)
        return;
    FZ_CHECK(e->code == rc, "%s: returned %d, error says %d", what, rc, e->code);
    check_msg(e->msg, what);
}

void fz_check_totals(const struct imgstat_totals *t)
{
    FZ_CHECK(t->hardlinks <= t->files, "%llu hard links, %llu files",
             (unsigned long long)t->hardlinks, (unsigned long long)t->files);
    FZ_CHECK(t->bytes <= t->bytes_per_path, "bytes %llu > bytes_per_path %llu",
             (unsigned long long)t->bytes, (unsigned long long)t->bytes_per_path);
}

static int sum_wasted(void *ctx, const struct imgstat_waste *w)
{
    *(uint64_t *)ctx += w->wasted_bytes;
    FZ_CHECK(w->path_len > 0 && w->path[0] == '/' && w->nlayers > 0, "a wasted path \"%.*s\"",
             (int)w->path_len, w->path);
    return 0;
}

static int root_node(void *ctx, const struct imgstat_node *n)
{
    if (n->depth == 0)
        *(struct imgstat_node *)ctx = *n;
    return 0;
}

/* C6, C7: a scanned image's walk and wasted paths add up to its totals. */
static void check_views(imgstat *h, const struct imgstat_totals *t, unsigned flags)
{
    struct imgstat_node root = {0};
    FZ_CHECK(imgstat_walk(h, root_node, &root) == 0, "imgstat_walk failed");
    FZ_CHECK(root.bytes == t->bytes && root.files == t->files,
             "the walk's root holds %llu B in %llu files, the totals %llu B in %llu",
             (unsigned long long)root.bytes, (unsigned long long)root.files,
             (unsigned long long)t->bytes, (unsigned long long)t->files);
    uint64_t wasted = 0;
    int rc = imgstat_wasted_files(h, sum_wasted, &wasted);
    FZ_CHECK((flags & IMGSTAT_WASTE) ? rc == 0 : rc == IMGSTAT_EUSAGE, "imgstat_wasted_files: %d",
             rc);
    if ((flags & IMGSTAT_WASTE) && t->layer_bytes <= IMGSTAT_MAX_FIGURE)
        FZ_CHECK(wasted == t->layer_bytes - t->bytes, "wasted paths add up to %llu, not %llu",
                 (unsigned long long)wasted, (unsigned long long)(t->layer_bytes - t->bytes));
    for (uint64_t i = 0; imgstat_history(h, i); i++)
        FZ_CHECK(imgstat_history(h, i)->layer <= imgstat_image(h)->nlayers, "history step %llu",
                 (unsigned long long)i);
}

int fz_scan(const char *path, unsigned flags, unsigned jobs)
{
    struct imgstat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.flags = flags;
    opt.jobs = jobs;
    return fz_scan_opt(path, &opt);
}

int fz_scan_opt(const char *path, const struct imgstat_options *given)
{
    /* no layer memo: a file that outlives one input would make runs depend on the ones
     * before (the memo's reading of its own records is fuzzed by fuzz_layer) */
    struct imgstat_options o = *given;
    const struct imgstat_options *opt = &o;
    o.flags |= IMGSTAT_NO_CACHE;
    unsigned flags = opt->flags;
    imgstat *h = NULL;
    int rc = imgstat_open(&h, path, opt);
    FZ_CHECK(rc <= IMGSTAT_OK && rc >= FZ_MIN_CODE, "imgstat_open: result %d", rc);
    FZ_CHECK(h != NULL || rc == IMGSTAT_ENOMEM, "imgstat_open: no handle, result %d", rc);
    FZ_CHECK(rc != IMGSTAT_EUSAGE, "imgstat_open: usage error without options: %s",
             imgstat_errmsg(h));
    if (rc == IMGSTAT_OK) {
        struct imgstat_totals t;
        memset(&t, 0xa5, sizeof t);
        rc = imgstat_scan(h, &t);
        FZ_CHECK(rc <= IMGSTAT_OK && rc >= FZ_MIN_CODE, "imgstat_scan: result %d", rc);
        if (rc == IMGSTAT_OK) {
            fz_check_totals(&t);
            check_views(h, &t, flags);
            const char *w = imgstat_warning(h);
            if (w)
                check_msg(w, "imgstat_warning");
            FZ_CHECK(!(flags & IMGSTAT_LENIENT) || !w || t.warnings > 0,
                     "a warning but a warning count of 0");
        } else {
            check_msg(imgstat_errmsg(h), "imgstat_scan");
        }
    } else {
        check_msg(imgstat_errmsg(h), "imgstat_open");
    }
    imgstat_close(h);
    return rc;
}

int fz_scan_stdin(const void *data, size_t len, unsigned flags, unsigned jobs)
{
    static int saved = -2;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die_sys("pipe2");
    int cap = fcntl(p[1], F_SETPIPE_SZ, FZ_PIPE_SIZE);
    if (cap < 0)
        cap = fcntl(p[1], F_GETPIPE_SZ);
    if (cap < 0 || len > (size_t)cap) {
        close(p[0]);
        close(p[1]);
        return 1;
    }
    const char *b = data;
    for (size_t off = 0; off < len;) {
        ssize_t n = write(p[1], b + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die_sys("write pipe");
        off += (size_t)n;
    }
    close(p[1]);
    if (saved == -2) {
        saved = fcntl(0, F_DUPFD_CLOEXEC, 10); /* -1 when stdin was closed */
        signal(SIGPIPE, SIG_IGN);
    }
    if (dup2(p[0], 0) < 0)
        die_sys("dup2");
    close(p[0]);
    int rc = fz_scan("-", flags, jobs);
    if (saved >= 0)
        dup2(saved, 0);
    else
        close(0);
    return rc;
}

/* ---- SHA-256, with libcrypto as the library itself ---- */

void fz_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != sizeof md)
        abort();
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}
