/*
 * Helpers shared by the fuzz targets (see fuzz_common.h).
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

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

/* ---- SHA-256 (FIPS 180-4), small and slow: only for the few blobs a target writes ---- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void fz_sha256_hex(const void *data, size_t len, char out[65])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *p = data;
    size_t n = len;
    for (; n >= 64; n -= 64, p += 64)
        sha256_block(h, p);
    unsigned char tail[128] = {0};
    memcpy(tail, p, n);
    tail[n] = 0x80;
    size_t tlen = n + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
    sha256_block(h, tail);
    if (tlen == 128)
        sha256_block(h, tail + 64);
    for (int i = 0; i < 8; i++)
        snprintf(out + 8 * i, 9, "%08x", h[i]);
}
